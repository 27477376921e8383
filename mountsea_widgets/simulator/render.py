"""Pillow renderer of the simulator's demo images: deterministic, readable, fast at 4K.

What a picture shows is a scene composed from the prompt and the seed only (``scene.py``): the
same prompt and seed give the same scene at every resolution tier, quality and aspect ratio
(a wider frame shows more of the same world), and another seed gives another scene. The model
decides how the scene is drawn (``looks.py``: each renderer has its own look), the tier or
``quality`` how much detail. Image ``index`` of a request is a variation of the same scene.
A request without a seed (gpt-image-2 has none) takes its scene from ``nonce``, which the hub
derives from its own seed and the task's number: unseeded runs differ from run to run, yet a
hub started with the same seed replays them. An edit changes its first input image as the
instruction says (``edits.py``).

Speed: everything is drawn opaque with precomputed colours, style filters work on a reduced
copy, the text is drawn at full size so it stays sharp, and PNGs are written by a fast writer of
its own (``png.py``: Pillow's per-row filters cost more than the drawing at 2K and 4K).
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from PIL import Image

from .captions import remove_caption, write_badge, write_caption
from .edits import edit_picture
from .looks import apply_style, detail_for, finish, look_for
from .painter import draw_scene
from .png import png_bytes
from .scene import compose, mix, vary
from .words import RGB, read_prompt, without_style

#: Long edge, in pixels, of each ``resolution`` tier (the nano-banana family).
RESOLUTION_LONG_EDGE: dict[str, int] = {"0.5K": 512, "1K": 1024, "2K": 2048, "4K": 4096}

#: Pixel sizes behind gpt-image-2's preset names. The hub does not document them; these are the
#: simulator's own choice (the sizes fal.ai uses for the same preset names elsewhere).
PRESET_SIZES: dict[str, tuple[int, int]] = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
    "auto": (1024, 1024),
}

#: Content type and file extension of each ``output_format``.
FORMATS: dict[str, tuple[str, str]] = {
    "png": ("image/png", "png"),
    "jpeg": ("image/jpeg", "jpg"),
    "webp": ("image/webp", "webp"),
}

_WIDE_WORDS = re.compile(r"\b(landscape|panorama|panoramic|wide|horizon|banner|cinematic)\b", re.I)
_TALL_WORDS = re.compile(r"\b(portrait|tall|poster|vertical|tower|phone wallpaper)\b", re.I)


@dataclass(frozen=True)
class ImagePlan:
    """What one output image will be: its size and format (known before it is rendered)."""

    width: int
    height: int
    output_format: str

    @property
    def content_type(self) -> str:
        """MIME type, e.g. ``image/png``."""
        return FORMATS[self.output_format][0]

    @property
    def extension(self) -> str:
        """File extension without the dot, e.g. ``png``."""
        return FORMATS[self.output_format][1]


def ratio_for_auto(prompt: str) -> tuple[int, int]:
    """The aspect ratio ``auto`` picks: 16:9 for wide subjects, 3:4 for tall ones, else 1:1."""
    if _WIDE_WORDS.search(prompt):
        return (16, 9)
    if _TALL_WORDS.search(prompt):
        return (3, 4)
    return (1, 1)


def image_size(
    model: str, input: Mapping[str, Any], source_size: tuple[int, int] | None = None
) -> tuple[int, int]:
    """Pixel ``(width, height)`` the simulator renders for a validated input of ``model``.

    ``source_size`` is the size of the first input image of an edit, when the simulator can
    tell it (a data: URI, or one of its own result URLs): ``auto`` then keeps its shape, as the
    upstream models do. Otherwise ``auto`` follows the prompt (see :func:`ratio_for_auto`).
    """
    if model.startswith("gpt-image-2"):
        size = input.get("image_size", "auto" if model.endswith("-edit") else "landscape_4_3")
        if isinstance(size, Mapping):
            return int(size["width"]), int(size["height"])
        if size == "auto" and source_size is not None:
            return _fit(source_size, PRESET_SIZES["auto"][0], multiple=16)
        return PRESET_SIZES.get(str(size), PRESET_SIZES["auto"])
    default_ratio = "1:1" if model in ("nano-banana", "nano-banana-pro") else "auto"
    ratio_text = str(input.get("aspect_ratio", default_ratio))
    long_edge = RESOLUTION_LONG_EDGE.get(str(input.get("resolution", "1K")), 1024)
    if ratio_text == "auto" and source_size is not None:
        return _fit(source_size, long_edge, multiple=1)
    if ratio_text == "auto":
        rw, rh = ratio_for_auto(str(input.get("prompt", "")))
    else:
        left, right = ratio_text.split(":")
        rw, rh = int(left), int(right)
    if rw >= rh:
        return long_edge, max(1, round(long_edge * rh / rw))
    return max(1, round(long_edge * rw / rh)), long_edge


def _fit(shape: tuple[int, int], long_edge: int, *, multiple: int) -> tuple[int, int]:
    """``shape`` scaled so its long edge is ``long_edge``, edges rounded to ``multiple``."""
    width, height = max(1, shape[0]), max(1, shape[1])
    scale = long_edge / max(width, height)
    # Upstream limits extreme shapes; the simulator keeps at most 8:1 like nano-banana-2.
    short = max(long_edge / 8, min(width, height) * scale)
    short_edge = max(multiple, round(short / multiple) * multiple)
    return (long_edge, short_edge) if width >= height else (short_edge, long_edge)


def plan_images(
    model: str, input: Mapping[str, Any], source_size: tuple[int, int] | None = None
) -> list[ImagePlan]:
    """One :class:`ImagePlan` per requested image (``num_images``, default 1)."""
    width, height = image_size(model, input, source_size)
    fmt = str(input.get("output_format", "png"))
    if fmt not in FORMATS:
        fmt = "png"
    count = int(input.get("num_images", 1))
    return [ImagePlan(width, height, fmt) for _ in range(max(1, count))]


def render(
    model: str,
    input: Mapping[str, Any],
    index: int = 0,
    *,
    plan: ImagePlan | None = None,
    source: Image.Image | None = None,
    nonce: str | None = None,
) -> bytes:
    """Encode image ``index`` of a request as bytes in its ``output_format``.

    ``plan`` overrides the size and format (the hub passes the one it announced); ``source`` is
    the edit's input image, which the edit changes; ``nonce`` stands in for a missing seed.
    """
    plan = plan or plan_images(model, input)[0]
    picture = paint(model, input, index, plan.width, plan.height, source, nonce=nonce)
    return encode(picture, plan.output_format)


def paint(
    model: str,
    input: Mapping[str, Any],
    index: int,
    width: int,
    height: int,
    source: Image.Image | None = None,
    *,
    nonce: str | None = None,
    labelled: bool = True,
) -> Image.Image:
    """Paint the RGB picture: the scene (or the edited source), then, if ``labelled``, the
    prompt as a caption and a model badge."""
    prompt = str(input.get("prompt", ""))
    reading = read_prompt(prompt)
    seed = input.get("seed")
    key = scene_key(prompt, seed, nonce)
    look = look_for(model)
    accent: RGB = reading.colours[0] if reading.colours else (240, 200, 80)
    if source is not None:
        # One of the simulator's own results sent back as data: its old caption would show
        # through the new one.
        source = remove_caption(source)
        picture = edit_picture(source, reading, look, width, height, key, variation=index)
    else:
        scene = vary(compose(reading, key), index, key)
        detail = detail_for(model, input, width, height)
        picture = draw_scene(scene, look, width, height, detail)
        picture = finish(apply_style(picture, scene.style), look, detail)
        accent = scene.tint or mix(scene.sky_horizon, (255, 255, 255), 0.3)
    if not labelled:
        return picture
    write_caption(picture, prompt, accent)
    badge = f"{model} · simulated" + (f" · seed {seed}" if seed is not None else "")
    if int(input.get("num_images", 1)) > 1:
        badge += f" · #{index + 1}"
    write_badge(picture, badge)
    return picture


def scene_key(prompt: str, seed: object, nonce: str | None) -> str:
    """What a scene is drawn from: the prompt's words (without its style: a style is a filter
    over the same scene) and the seed, or ``nonce`` when there is no seed."""
    words = " ".join(re.findall(r"[a-z0-9]+", without_style(prompt.lower())))
    if seed is not None:
        return f"{words}|seed {seed}"
    return f"{words}|run {nonce or 'default'}"


def encode(picture: Image.Image, output_format: str) -> bytes:
    """Bytes of ``picture`` as png / jpeg / webp, with settings chosen for speed."""
    buffer = io.BytesIO()
    if output_format == "jpeg":
        picture.save(buffer, "JPEG", quality=88)
    elif output_format == "webp":
        picture.save(buffer, "WEBP", quality=82, method=0)
    else:
        return png_bytes(picture)
    return buffer.getvalue()


class RenderCache:
    """Rendered bytes by ``(model, input, index, nonce)``, bounded by total size; thread-safe."""

    def __init__(self, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self._busy: dict[str, threading.Event] = {}

    def get(
        self,
        model: str,
        input: Mapping[str, Any],
        index: int,
        *,
        plan: ImagePlan | None = None,
        source: Callable[[], Image.Image | None] | None = None,
        nonce: str | None = None,
    ) -> bytes:
        """The image bytes, rendering them once even if several threads ask at the same time.

        ``source`` loads the edit's input image, only if a render is needed; ``nonce`` stands
        in for a missing seed (see :func:`paint`).
        """
        key = _identity(model, input, index) + f"|{nonce}"
        if plan is not None:
            key += f"|{plan.width}x{plan.height}.{plan.output_format}"
        while True:
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    return self._items[key]
                waiter = self._busy.get(key)
                if waiter is None:
                    self._busy[key] = threading.Event()
                    break
            waiter.wait()
        try:
            data = render(
                model, input, index, plan=plan, source=source() if source else None, nonce=nonce
            )
        finally:
            with self._lock:
                self._busy.pop(key).set()
        with self._lock:
            self._items[key] = data
            self._size += len(data)
            while self._size > self.max_bytes and len(self._items) > 1:
                _, old = self._items.popitem(last=False)
                self._size -= len(old)
        return data


# --- helpers ----------------------------------------------------------------------------------


def _identity(model: str, input: Mapping[str, Any], index: int) -> str:
    # sync_mode changes how the image is delivered, not what it shows.
    shown = {k: v for k, v in input.items() if k != "sync_mode"}
    return json.dumps([model, shown, index], sort_keys=True, default=str)
