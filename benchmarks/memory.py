"""How much a kernel grows with 500 finished 2K results in the Studio.

A fresh interpreter builds a Studio (with a history, as in a notebook), warms up, then
generates ``RUNS`` nano-banana-2 images at resolution 2K through the Studio's own pipeline
(form → run → client → history → task cell with thumbnails), ``BATCH`` at a time, against a
simulator in another process. Its resident memory (RSS) is read before and after, each time
after a garbage collection. The same is done without a history, where the full-size bytes
stay in memory (nothing is on disk to read them back from), for comparison.

Note: the simulator's pictures compress very well (a 2K PNG is ~0.2 MB; a real 2K photo is
~4-6 MB), so the no-history figure understates what real images would cost.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .hubs import running_hub
from .report import Figure, at_most, info

SECTION = "memory"
MODEL = "nano-banana-2"
RUNS = 500
BATCH = 25
WARMUP = 10
#: Simulator speed: nano-banana-2's ~10 s become ~0.1 s.
SPEED = 100.0


def rss_bytes() -> int:
    """This process's resident set size (Linux ``/proc``; ``ru_maxrss`` elsewhere)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _child(url: str, runs: int, with_history: bool, folder: str) -> dict[str, Any]:
    """Runs in the measured interpreter: the Studio pipeline, RSS before and after."""
    from mountsea_widgets.catalog import TYPICAL_SECONDS
    from mountsea_widgets.client import AsyncClient
    from mountsea_widgets.history import History
    from mountsea_widgets.widgets.studio import Studio

    client = AsyncClient(base_url=url, durations={MODEL: TYPICAL_SECONDS[MODEL] / SPEED})
    history: History | bool = History(Path(folder) / "history") if with_history else False
    studio = Studio(MODEL, client=client, history=history, past_runs=0)
    studio.form.controls["prompt"].set("a lighthouse at dusk, watercolor")
    studio.form.controls["resolution"].set("2K")
    studio.form.controls["seed"].set(7)

    def generate(count: int) -> None:
        done = 0
        while done < count:
            for _ in range(min(BATCH, count - done)):
                studio.generate()
            if not studio.wait_idle(300):
                raise RuntimeError("runs did not finish in 300 s")
            done += min(BATCH, count - done)

    generate(WARMUP)
    gc.collect()
    before = rss_bytes()
    started = time.monotonic()
    generate(runs)
    seconds = time.monotonic() - started
    gc.collect()
    after = rss_bytes()
    finished = studio.runs
    results = [run.result for run in finished if run.status == "completed"]
    completed = [result for result in results if result is not None]
    in_memory = sum(
        len(data) for result in completed if not result.files for data in result.image_bytes
    )
    on_disk = sum(path.stat().st_size for run in finished for path in run.files)
    return {
        "before": before,
        "after": after,
        "runs": len(finished) - WARMUP,
        "completed": len(completed) - WARMUP,
        "seconds": seconds,
        "bytes_in_memory": in_memory,
        "bytes_on_disk": on_disk,
        "image_size": list(completed[0].images[0].size) if completed else None,
    }


def measure(url: str, runs: int, with_history: bool) -> dict[str, Any]:
    """Run :func:`_child` in a fresh interpreter; returns what it measured."""
    with tempfile.TemporaryDirectory(prefix="mountsea-bench-mem-") as folder:
        env = dict(os.environ, HOME=folder, MOUNTSEA_HISTORY_DIR=str(Path(folder) / "default"))
        env.pop("MOUNTSEA_API_KEY", None)
        command = [sys.executable, "-m", "benchmarks.memory", "--child", url, "--runs", str(runs)]
        if not with_history:
            command.append("--no-history")
        command += ["--folder", folder]
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=env,
            cwd=Path(__file__).resolve().parent.parent,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"memory benchmark child failed:\n{done.stderr[-2000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result


def run(print_line: Callable[[str], None], *, runs: int = RUNS) -> list[Figure]:
    """Measure with and without a history; the target is <= 300 MB growth with one."""
    with running_hub(speed=SPEED, seed=3) as url:
        kept = measure(url, runs, with_history=True)
        loose = measure(url, runs, with_history=False)
    figures = []
    for label, found in (("with history", kept), ("without history", loose)):
        growth = (found["after"] - found["before"]) / 1e6
        print_line(
            f"  {label}: {found['completed']}/{found['runs']} completed in "
            f"{found['seconds']:.0f} s, images {found['image_size']}; RSS "
            f"{found['before'] / 1e6:.0f} -> {found['after'] / 1e6:.0f} MB (+{growth:.0f} MB); "
            f"full-size bytes in memory {found['bytes_in_memory'] / 1e6:.0f} MB, "
            f"on disk {found['bytes_on_disk'] / 1e6:.0f} MB"
        )
        if found["completed"] != runs:
            raise RuntimeError(f"only {found['completed']} of {runs} runs completed ({label})")
        name = f"RSS growth, {runs} 2K results, {label}"
        if label == "with history":
            figures.append(at_most(SECTION, name, growth, "MB", 300))
            figures.append(
                at_most(
                    SECTION,
                    "full-size bytes kept in memory",
                    found["bytes_in_memory"] / 1e6,
                    "MB",
                    0,
                )
            )
        else:
            figures.append(info(SECTION, name, growth, "MB"))
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    """The child's command line (``python -m benchmarks.memory --child URL``)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory")
    parser.add_argument("--child", metavar="URL", required=True)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--no-history", action="store_true")
    parser.add_argument("--folder", required=True)
    args = parser.parse_args(argv)
    print(json.dumps(_child(args.child, args.runs, not args.no_history, args.folder)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
