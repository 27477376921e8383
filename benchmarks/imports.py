"""What ``import mountsea_widgets`` costs next to ``import ipywidgets`` (fresh interpreters)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable

from .report import Figure, at_most, info

SECTION = "import"
#: Fresh interpreters per module; the median is reported (the first runs warm the disk cache).
REPEATS = 7

_CODE = (
    "import time\n"
    "start = time.perf_counter()\n"
    "import {module}\n"
    "print(time.perf_counter() - start)\n"
)


def import_seconds(module: str, repeats: int = REPEATS) -> float:
    """Median wall time of importing ``module`` in a fresh interpreter."""
    times = []
    with tempfile.TemporaryDirectory() as folder:  # not the source tree: the installed package
        for _ in range(repeats):
            done = subprocess.run(
                [sys.executable, "-c", _CODE.format(module=module)],
                capture_output=True,
                text=True,
                cwd=folder,
                check=True,
            )
            times.append(float(done.stdout.strip()))
    return statistics.median(times[1:] if len(times) > 2 else times)


def heavy_modules_loaded() -> list[str]:
    """Heavy dependencies present in ``sys.modules`` right after ``import mountsea_widgets``."""
    heavy = ("httpx", "PIL", "ipywidgets", "traitlets", "IPython", "anyio")
    code = (
        "import sys\nimport mountsea_widgets\n"
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [name for name in done.stdout.strip().split(",") if name]


def run(print_line: Callable[[str], None]) -> list[Figure]:
    """Measure both imports; the target is at most 1.5x ipywidgets."""
    ours = import_seconds("mountsea_widgets")
    theirs = import_seconds("ipywidgets")
    loaded = heavy_modules_loaded()
    print_line(
        f"  import mountsea_widgets {ours * 1000:.0f} ms · import ipywidgets "
        f"{theirs * 1000:.0f} ms · heavy modules loaded: {', '.join(loaded) or 'none'}"
    )
    return [
        at_most(SECTION, "import mountsea_widgets / ipywidgets", ours / theirs, "x", 1.5),
        info(SECTION, "import mountsea_widgets", ours * 1000, "ms"),
    ]
