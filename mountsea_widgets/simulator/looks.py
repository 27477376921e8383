"""How each simulated model draws, how much detail a tier buys, and the style filters.

A *look* is a renderer's signature (palette treatment, outlines, sky banding, finish), so a
grid of four models shows four recognisable renderers of the same scene. *Detail* (from the
resolution tier or ``quality``) changes edges and fine texture only. *Styles* named in the
prompt (pixel art, watercolour, oil painting, sketch) are filters over the drawn picture.

Every style filter runs on a reduced copy and is scaled back up, so it costs little at 4K.
"""

from __future__ import annotations

import colorsys
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps

from .words import RGB

#: Long edge of the reduced copy the style filters work on.
_STYLE_CANVAS = 400


@dataclass(frozen=True)
class Look:
    """A renderer's signature; see the module docs."""

    name: str
    saturation: float = 1.0
    contrast: float = 1.0
    warmth: int = 0
    sky_bands: int = 0
    outline: RGB | None = None
    shading: bool = True
    vignette: float = 0.0
    matte: RGB | None = None

    @functools.lru_cache(maxsize=8192)  # noqa: B019 - looks are a few module constants
    def colour(self, rgb: RGB) -> RGB:
        """``rgb`` as this renderer paints it (remembered: gradients ask for hundreds)."""
        h, s, v = colorsys.rgb_to_hsv(*(c / 255 for c in rgb))
        r, g, b = colorsys.hsv_to_rgb(h, min(1.0, s * self.saturation), v)
        out = []
        for channel, shift in ((r, self.warmth), (g, self.warmth // 3), (b, -self.warmth)):
            value = (channel - 0.5) * self.contrast + 0.5
            out.append(max(0, min(255, round(value * 255) + shift)))
        return out[0], out[1], out[2]


#: The look of each model family (edit models share their family's look).
LOOKS: dict[str, Look] = {
    # Flat poster: saturated, banded sky, no shading.
    "nano-banana": Look("flat poster", saturation=1.3, contrast=1.05, sky_bands=7, shading=False),
    # Soft and glossy: smooth gradients, shading, a gentle vignette on the backdrop.
    "nano-banana-2": Look("soft gloss", saturation=1.05, vignette=0.45),
    # Inked detail: dark outlines, strong contrast.
    "nano-banana-pro": Look("inked detail", saturation=1.1, contrast=1.15, outline=(22, 20, 30)),
    # Warm film print: muted, warm colours and a cream matte around the picture.
    "gpt-image-2": Look(
        "warm print", saturation=0.8, contrast=0.92, warmth=12, matte=(240, 232, 214)
    ),
}


def look_for(model: str) -> Look:
    """The look of ``model`` (an edit model draws like its family)."""
    family = model.removesuffix("-edit")
    return LOOKS.get(family, LOOKS["nano-banana"])


#: Detail bought by each ``quality`` of gpt-image-2 (``auto`` behaves as ``high``).
_QUALITY_DETAIL = {"low": 0.15, "medium": 0.5, "high": 0.9, "auto": 0.9}


def detail_for(model: str, input: Mapping[str, Any], width: int, height: int) -> float:
    """Detail in [0, 1]: from ``quality`` where the model has one, else from the pixel count."""
    quality = input.get("quality")
    if quality is not None or model.startswith("gpt-image"):
        return _QUALITY_DETAIL.get(str(quality or "high"), 0.9)
    # 512 px -> 0.25, 1024 -> 0.5, 2048 -> 0.75, 4096 -> 1.0
    steps = max(width, height).bit_length() - 10
    return min(1.0, max(0.1, 0.25 + 0.25 * steps))


def finish(picture: Image.Image, look: Look, detail: float) -> Image.Image:
    """Apply the detail level and the renderer's matte to a drawn picture."""
    width, height = picture.size
    short = min(width, height)
    if detail < 0.5:
        # Little detail: soft edges. (More detail needs
        # no filter: the texture marks and the crisp edges of a larger frame are the detail.)
        # A box blur: as soft as a Gaussian one here, in a third of the time.
        picture = picture.filter(ImageFilter.BoxBlur(short * (0.5 - detail) * 0.008))
    if look.matte is not None:
        border = max(2, round(short * 0.02))
        draw = ImageDraw.Draw(picture)
        for box in (
            (0, 0, width, border),
            (0, height - border, width, height),
            (0, 0, border, height),
            (width - border, 0, width, height),
        ):
            draw.rectangle(box, fill=look.matte)
    return picture


def apply_style(picture: Image.Image, style: str | None) -> Image.Image:
    """The picture as ``style`` (pixel art, watercolour, oil painting, sketch); None: as is."""
    if style is None:
        return picture
    width, height = picture.size
    if style == "pixel art":
        # The pixel grid is a fixed share of the frame, so every tier shows the same grid.
        cells = 72
        scale = cells / min(width, height)
        small = _reduced(picture, (max(1, round(width * scale)), max(1, round(height * scale))))
        small = small.quantize(colors=16, method=Image.Quantize.MEDIANCUT).convert("RGB")
        return small.resize((width, height), Image.Resampling.NEAREST)
    scale = min(1.0, _STYLE_CANVAS / max(width, height))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = _reduced(picture, size)
    if style == "watercolour":
        wash = _flatten(small.filter(ImageFilter.BoxBlur(2)), 20)
        edges = ImageOps.invert(wash.convert("L").filter(ImageFilter.FIND_EDGES)).convert("RGB")
        paper = Image.new("RGB", size, (250, 246, 236))
        small = ImageChops.multiply(Image.blend(wash, paper, 0.2), edges)
    elif style == "oil painting":
        strokes = _flatten(small, 28).filter(ImageFilter.SMOOTH_MORE)
        relief = strokes.convert("L").filter(ImageFilter.EMBOSS).convert("RGB")
        small = ImageChops.overlay(strokes, relief)
    elif style == "sketch":
        grey = small.convert("L")
        lines = ImageOps.invert(grey.filter(ImageFilter.FIND_EDGES))
        lines = ImageOps.autocontrast(lines).point(lambda v: 255 if v > 200 else v * 0.8)
        tone = grey.point(lambda v: 150 + v * 0.4)
        small = ImageChops.multiply(lines, tone).convert("RGB")
        small = ImageChops.multiply(small, Image.new("RGB", size, (250, 244, 228)))
    # Bilinear: the reduced copy is soft anyway, and bicubic costs twice as much at 4K.
    return small.resize((width, height), Image.Resampling.BILINEAR)


def _reduced(picture: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``picture`` shrunk to ``size``: first by a whole factor (``reduce`` is several times
    faster than a box resize of the full frame), then by a box resize of the small copy."""
    factor = max(1, min(picture.width // size[0], picture.height // size[1]))
    if factor > 1:
        picture = picture.reduce(factor)
    return picture.resize(size, Image.Resampling.BOX)


def _flatten(picture: Image.Image, colours: int) -> Image.Image:
    """``picture`` reduced to a few flat colours (paint patches)."""
    return picture.quantize(colors=colours, method=Image.Quantize.FASTOCTREE).convert("RGB")
