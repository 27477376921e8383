"""Simulators in their own processes (so their work never competes with what is measured)."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from collections.abc import Iterator

_READY = "serving on "


@contextlib.contextmanager
def running_hub(*, speed: float = 1.0, seed: int = 0, limits: str = "") -> Iterator[str]:
    """Run ``python -m mountsea_widgets.simulator`` on a free port; yields its URL."""
    command = [
        sys.executable,
        "-m",
        "mountsea_widgets.simulator",
        "--port",
        "0",
        "--speed",
        f"{speed:g}",
        "--seed",
        str(seed),
        *(["--limits", limits] if limits else []),
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        if _READY not in first:
            raise RuntimeError(f"the simulator did not start: {first!r}")
        yield first.split(_READY, 1)[1].strip()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
