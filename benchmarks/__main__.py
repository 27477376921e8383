"""``python -m benchmarks [--only polling,memory,...]``: run the benchmarks, print the table.

Exit status 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence

from . import batches, imports, memory, pictures, polling, responsiveness, thumbnails, views
from .report import Figure, notes, table

#: Every benchmark, in the order they run (quick ones first).
BENCHMARKS: dict[str, Callable[[Callable[[str], None]], list[Figure]]] = {
    "import": imports.run,
    "thumbnails": thumbnails.run,
    "pictures": pictures.run,
    "memory": memory.run,
    "responsiveness": responsiveness.run,
    "polling": polling.run,
    "batches": batches.run,
    "views": views.run,
}


def _say(text: str) -> None:
    print(text, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen benchmarks and print every figure beside its target."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--only",
        default="",
        help=f"comma-separated subset of: {', '.join(BENCHMARKS)} (default: all)",
    )
    parser.add_argument(
        "--batch-runs",
        type=int,
        default=None,
        help="runs in the batches benchmark (default: the target's 10,000; fewer to check quickly)",
    )
    args = parser.parse_args(argv)
    if args.batch_runs is not None:
        if args.batch_runs < 2:
            parser.error(f"--batch-runs must be at least 2, got {args.batch_runs}")
        os.environ["MOUNTSEA_BENCH_BATCH_RUNS"] = str(args.batch_runs)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()] or list(BENCHMARKS)
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; one of {', '.join(BENCHMARKS)}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    _say(
        f"mountsea-widgets benchmarks · Python {platform.python_version()} · "
        f"{os.cpu_count()} CPUs · load average {load:.2f} at start"
    )
    figures: list[Figure] = []
    started = time.monotonic()
    for name in chosen:
        began = time.monotonic()
        _say(f"\n== {name}")
        figures += BENCHMARKS[name](_say)
        _say(f"   ({time.monotonic() - began:.0f} s)")
    _say(f"\nResults ({time.monotonic() - started:.0f} s in all)\n")
    _say(table(figures))
    explained = notes(figures)
    if explained:
        _say("\n" + explained)
    return 0 if all(f.passed is not False for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
