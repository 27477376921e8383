"""The simulator's drawing time per model and tier, beside the task's simulated duration.

At ``--speed 100`` a task should complete when its simulated duration says, not when its
picture is ready: the hub starts drawing when the task is created, so drawing plus encoding must
fit in the shortest duration the latency model can draw (typical seconds / speed, minus the
jitter). Each line prints the drawing time, the encoding time and that duration.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from mountsea_widgets._durations import estimate
from mountsea_widgets.catalog import catalog
from mountsea_widgets.simulator.latency import JITTER
from mountsea_widgets.simulator.render import encode, paint, plan_images

from .report import Figure, at_most, info

SECTION = "pictures"
SPEED = 100.0
REPEATS = 3
PROMPT = "a red lighthouse and a house at dusk, watercolour"

#: (model, extra input) per measured case; the first picture of each task is timed.
CASES: list[tuple[str, dict[str, Any]]] = [
    ("nano-banana", {}),
    ("nano-banana-2", {"resolution": "0.5K"}),
    ("nano-banana-2", {"resolution": "1K"}),
    ("nano-banana-2", {"resolution": "2K"}),
    ("nano-banana-2", {"resolution": "4K"}),
    ("nano-banana-pro", {"resolution": "1K"}),
    ("nano-banana-pro", {"resolution": "2K"}),
    ("nano-banana-pro", {"resolution": "4K"}),
    ("gpt-image-2", {"quality": "high"}),
]

#: Long edges up to which drawing must fit the shortest simulated duration; larger tiers are
#: printed for reference (encoding a 2K or 4K PNG alone takes longer than a 0.1 s task lasts, so
#: at speed 100 those tiers complete when their picture is ready).
TARGET_LONG_EDGE = 1024


def time_picture(model: str, extra: dict[str, Any]) -> tuple[float, float, tuple[int, int]]:
    """(median drawing seconds, median encoding seconds, size) of one picture."""
    seed = {"seed": 7} if catalog.spec(model).has("seed") else {}
    request = catalog.spec(model).validate({"prompt": PROMPT, **seed, **extra})
    plan = plan_images(model, request)[0]
    draws, encodes = [], []
    for _ in range(REPEATS):
        start = time.perf_counter()
        picture = paint(model, request, 0, plan.width, plan.height, nonce="0:0")
        drawn = time.perf_counter()
        encode(picture, plan.output_format)
        draws.append(drawn - start)
        encodes.append(time.perf_counter() - drawn)
    return statistics.median(draws), statistics.median(encodes), (plan.width, plan.height)


def run(print_line: Callable[[str], None]) -> list[Figure]:
    """Time every case; the target is drawing + encoding <= the shortest simulated duration."""
    figures = []
    for model, extra in CASES:
        tier = extra.get("resolution") or extra.get("quality") or "default"
        shortest = estimate(model, SPEED) * (1 - JITTER)
        draw, encoded, (width, height) = time_picture(model, extra)
        total_ms = (draw + encoded) * 1000
        print_line(
            f"  {model:16} {tier:8} {width}x{height}: draw {draw * 1000:4.0f} ms + encode "
            f"{encoded * 1000:4.0f} ms = {total_ms:4.0f} ms; simulated duration at speed "
            f"{SPEED:g}: {shortest * 1000:.0f} ms or more"
        )
        label = f"{model} {tier} draw + encode"
        if max(width, height) <= TARGET_LONG_EDGE:
            figures.append(at_most(SECTION, label, total_ms, "ms", round(shortest * 1000)))
        else:
            figures.append(
                info(SECTION, label, total_ms, "ms", f"simulated duration {shortest * 1000:.0f} ms")
            )
    return figures
