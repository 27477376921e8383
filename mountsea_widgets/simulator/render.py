"""Pillow renderer of the simulator's demo images: deterministic, readable, fast at 4K.

An image is a pure function of ``(model, input, index)``: the palette and composition come from
a hash of the model, the input (prompt, seed, every other parameter) and the image index, so the
same request gives the same bytes and another seed gives another picture. gpt-image-2 has no
``seed`` parameter, so its images depend on the model and input only.

Speed: the background is painted on a small canvas and scaled up (a 4096 px image is never
painted pixel by pixel), the text is drawn at full size so it stays sharp, and PNGs are written
with a fast compression level (the default level takes seconds at 4K).
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import json
import re
import textwrap
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw, ImageFilter, ImageFont

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

#: Long edge of the canvas the background is painted on before scaling up.
_CANVAS_LONG_EDGE = 256

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
) -> bytes:
    """Encode image ``index`` of a request as bytes in its ``output_format``.

    ``plan`` overrides the size and format (the hub passes the one it announced); ``source`` is
    the edit's input image, shown as an inset so an edit looks like one.
    """
    plan = plan or plan_images(model, input)[0]
    picture = paint(model, input, index, plan.width, plan.height, source)
    return encode(picture, plan.output_format)


def paint(
    model: str,
    input: Mapping[str, Any],
    index: int,
    width: int,
    height: int,
    source: Image.Image | None = None,
) -> Image.Image:
    """Paint the RGB picture: gradient, shapes, the prompt as a caption and a model badge."""
    digest = hashlib.sha256(_identity(model, input, index).encode("utf-8")).digest()
    stream = _ByteStream(digest)
    colors = _palette(stream)
    picture = _background(stream, colors, width, height)
    draw = ImageDraw.Draw(picture)
    if source is not None:
        _inset(picture, draw, source)
    _caption(picture, draw, str(input.get("prompt", "")), colors)
    seed = input.get("seed")
    badge = f"{model} · simulated" + (f" · seed {seed}" if seed is not None else "")
    if int(input.get("num_images", 1)) > 1:
        badge += f" · #{index + 1}"
    _badge(picture, draw, badge)
    return picture


def encode(picture: Image.Image, output_format: str) -> bytes:
    """Bytes of ``picture`` as png / jpeg / webp, with settings chosen for speed."""
    buffer = io.BytesIO()
    if output_format == "jpeg":
        picture.save(buffer, "JPEG", quality=88)
    elif output_format == "webp":
        picture.save(buffer, "WEBP", quality=82, method=0)
    else:
        picture.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


class RenderCache:
    """Rendered bytes by ``(model, input, index)``, bounded by total size; thread-safe."""

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
    ) -> bytes:
        """The image bytes, rendering them once even if several threads ask at the same time.

        ``source`` loads the edit's input image, only if a render is needed.
        """
        key = _identity(model, input, index)
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
            data = render(model, input, index, plan=plan, source=source() if source else None)
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


# --- painting helpers ---------------------------------------------------------------------------


def _identity(model: str, input: Mapping[str, Any], index: int) -> str:
    # sync_mode changes how the image is delivered, not what it shows.
    shown = {k: v for k, v in input.items() if k != "sync_mode"}
    return json.dumps([model, shown, index], sort_keys=True, default=str)


class _ByteStream:
    """Deterministic numbers drawn from a digest (re-hashed when exhausted)."""

    def __init__(self, digest: bytes) -> None:
        self._digest = digest
        self._pos = 0

    def unit(self) -> float:
        if self._pos + 2 > len(self._digest):
            self._digest = hashlib.sha256(self._digest).digest()
            self._pos = 0
        value = int.from_bytes(self._digest[self._pos : self._pos + 2], "big")
        self._pos += 2
        return value / 65535.0


def _color(hue: float, saturation: float, value: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(hue % 1.0, saturation, value)
    return round(r * 255), round(g * 255), round(b * 255)


def _palette(stream: _ByteStream) -> list[tuple[int, int, int]]:
    base = stream.unit()
    spread = 0.08 + 0.25 * stream.unit()
    return [
        _color(base, 0.55 + 0.3 * stream.unit(), 0.35 + 0.2 * stream.unit()),
        _color(base + spread, 0.5 + 0.3 * stream.unit(), 0.75 + 0.2 * stream.unit()),
        _color(base + 0.5, 0.45 + 0.4 * stream.unit(), 0.8 + 0.2 * stream.unit()),
        _color(base - spread, 0.35 + 0.4 * stream.unit(), 0.6 + 0.3 * stream.unit()),
        _color(base + 0.5 + spread, 0.6 + 0.3 * stream.unit(), 0.9),
    ]


def _background(
    stream: _ByteStream, colors: list[tuple[int, int, int]], width: int, height: int
) -> Image.Image:
    scale = _CANVAS_LONG_EDGE / max(width, height)
    cw, ch = max(8, round(width * scale)), max(8, round(height * scale))
    mask = Image.linear_gradient("L").rotate(360 * stream.unit(), resample=Image.Resampling.BICUBIC)
    mask = mask.crop((48, 48, 208, 208)).resize((cw, ch), Image.Resampling.BILINEAR)
    canvas = Image.composite(
        Image.new("RGB", (cw, ch), colors[0]), Image.new("RGB", (cw, ch), colors[1]), mask
    )
    layer = Image.new("RGBA", (cw, ch), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    unit = max(cw, ch)
    for _ in range(5 + int(stream.unit() * 5)):
        color = colors[2 + int(stream.unit() * 2.99)]
        alpha = 60 + int(stream.unit() * 120)
        x, y = stream.unit() * cw, stream.unit() * ch
        radius = unit * (0.06 + 0.22 * stream.unit())
        box = (x - radius, y - radius, x + radius, y + radius)
        kind = stream.unit()
        if kind < 0.5:
            draw.ellipse(box, fill=(*color, alpha))
        elif kind < 0.8:
            draw.rounded_rectangle(box, radius=radius * 0.3, fill=(*color, alpha))
        else:
            points = [(x, y - radius), (x + radius, y + radius), (x - radius, y + radius)]
            draw.polygon(points, fill=(*color, alpha))
    canvas = Image.alpha_composite(canvas.convert("RGBA"), layer).convert("RGB")
    canvas = canvas.filter(ImageFilter.BoxBlur(1))
    return canvas.resize((width, height), Image.Resampling.BILINEAR)


def _caption(
    picture: Image.Image,
    draw: ImageDraw.ImageDraw,
    prompt: str,
    colors: list[tuple[int, int, int]],
) -> None:
    width, height = picture.size
    size = max(9, min(round(min(width, height) / 11), round(width / 18)))
    font = ImageFont.load_default(size=size)
    margin = max(4, size // 2)
    avg = max(1.0, font.getlength("abcdefghijklmnopqrstuvwxyz") / 26)
    chars = max(8, int((width - 4 * margin) / avg))
    lines = textwrap.wrap(" ".join(prompt.split()) or "(no prompt)", width=chars)
    line_height = round(size * 1.25)
    max_lines = max(1, (height - 2 * margin) // line_height - 1)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(1, chars - 1)] + "…"
    block = line_height * len(lines) + 2 * margin
    top = max(0, height - block - margin)
    region = (margin, top, width - margin, min(height, top + block))
    panel = picture.crop(region)
    shade = Image.new("RGB", panel.size, (12, 12, 20))
    picture.paste(Image.blend(panel, shade, 0.55), region[:2])
    for number, line in enumerate(lines):
        y = top + margin + number * line_height
        draw.text((2 * margin, y), line, font=font, fill=(250, 250, 250))
    accent = colors[4]
    draw.rectangle((margin, top, margin + max(2, size // 6), region[3]), fill=accent)


def _inset(picture: Image.Image, draw: ImageDraw.ImageDraw, source: Image.Image) -> None:
    """The edit's source image as a framed thumbnail in the top-right corner."""
    width, height = picture.size
    box = max(16, min(width, height) // 3)
    thumb = source.convert("RGB")
    thumb.thumbnail((box, box), Image.Resampling.BILINEAR)
    pad = max(2, box // 20)
    left, top = width - thumb.width - 2 * pad, 2 * pad
    frame = (left - pad, top - pad, left + thumb.width + pad - 1, top + thumb.height + pad - 1)
    draw.rectangle(frame, fill=(255, 255, 255))
    picture.paste(thumb, (left, top))


def _badge(picture: Image.Image, draw: ImageDraw.ImageDraw, text: str) -> None:
    width, height = picture.size
    size = max(8, min(round(min(width, height) / 26), round(width / 40)))
    font = ImageFont.load_default(size=size)
    pad = max(2, size // 3)
    length = round(font.getlength(text))
    box = (pad, pad, min(width - 1, pad * 3 + length), min(height - 1, pad * 3 + size))
    draw.rounded_rectangle(box, radius=pad, fill=(255, 255, 255), outline=(20, 20, 30))
    draw.text((pad * 2, pad * 2), text, font=font, fill=(20, 20, 30))
