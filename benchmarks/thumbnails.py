"""A 4096 x 4096 PNG result to a gallery thumbnail: time and size.

Two pictures: the simulator's own 4K render (what a result looks like here) and a 4K PNG of
random noise (the worst case: nothing compresses, ~50 MB to inflate).
"""

from __future__ import annotations

import io
import os
import statistics
import time
from collections.abc import Callable

from PIL import Image

from mountsea_widgets._images import MAX_THUMBNAIL_BYTES, thumbnail
from mountsea_widgets.catalog import catalog
from mountsea_widgets.simulator.render import RenderCache, plan_images

from .report import Figure, at_most, info

SECTION = "thumbnails"
REPEATS = 5


def simulated_4k_png() -> bytes:
    """The simulator's 4096 x 4096 PNG for a nano-banana-pro 4K request."""
    model = "nano-banana-pro"
    request = catalog.spec(model).validate(
        {"prompt": "a lighthouse at dusk", "resolution": "4K", "aspect_ratio": "1:1"}
    )
    plan = plan_images(model, request, None)[0]
    assert (plan.width, plan.height, plan.output_format) == (4096, 4096, "png")
    return RenderCache().get(model, request, 0, plan=plan, source=None)


def noise_4k_png() -> bytes:
    """A 4096 x 4096 PNG of random pixels (fast to write: no compression)."""
    buffer = io.BytesIO()
    noise = Image.frombytes("RGB", (4096, 4096), os.urandom(4096 * 4096 * 3))
    noise.save(buffer, format="PNG", compress_level=0)
    return buffer.getvalue()


def time_thumbnail(data: bytes, repeats: int = REPEATS) -> tuple[float, int]:
    """(median seconds, thumbnail bytes) of ``thumbnail(data)``."""
    times = []
    small = b""
    for _ in range(repeats):
        start = time.perf_counter()
        small = thumbnail(data)
        times.append(time.perf_counter() - start)
    return statistics.median(times), len(small)


def run(print_line: Callable[[str], None]) -> list[Figure]:
    """Time both; the target is the simulated result's thumbnail in <= 250 ms."""
    figures = []
    for label, data, target in (
        ("4096 PNG result -> thumbnail", simulated_4k_png(), True),
        ("4096 noise PNG -> thumbnail", noise_4k_png(), False),
    ):
        seconds, size = time_thumbnail(data)
        print_line(
            f"  {label}: {seconds * 1000:.0f} ms (median of {REPEATS}); "
            f"{len(data) / 1e6:.1f} MB in, {size / 1024:.0f} KiB JPEG out"
        )
        if target:
            figures.append(at_most(SECTION, label, seconds * 1000, "ms", 250))
        else:
            figures.append(info(SECTION, label, seconds * 1000, "ms"))
        figures.append(
            at_most(
                SECTION,
                f"{label.split(' ->')[0]} thumbnail size",
                size / 1024,
                "KiB",
                MAX_THUMBNAIL_BYTES / 1024,
            )
        )
    return figures
