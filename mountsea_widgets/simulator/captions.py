"""The caption band and the model badge the simulator writes on its pictures, and how it finds
and removes its own caption band from a picture it is asked to edit.

The band is a shaded panel at the bottom with the prompt in white and a solid accent bar down
its left edge; its geometry follows from the picture's size and the number of lines only. An
edit that starts from one of the simulator's own results sent back as image data still carries
that band; the new caption is drawn on a half-transparent panel, so the old words would show
through it. :func:`remove_caption` recognises the band by its accent bar (a solid run of exactly
the height of a band of whole lines, at the place the band's geometry puts it) and repaints it
with the scene's colours just above and below it.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from .words import RGB

#: Largest per-channel difference still read as the accent bar's one colour (JPEG wobbles).
_BAR_TOLERANCE = 32
#: How much of the panel's shade shows over the picture.
_SHADE_SHARE = 0.55
_SHADE: RGB = (12, 12, 20)


@dataclass(frozen=True)
class Layout:
    """Where a caption goes in a ``width`` x ``height`` picture (all in pixels)."""

    width: int
    height: int

    @property
    def size(self) -> int:
        """Font size."""
        return max(9, min(round(min(self.width, self.height) / 14), round(self.width / 20)))

    @property
    def margin(self) -> int:
        """Gap between the band and the picture's edges, and the band's inner padding."""
        return max(4, self.size // 2)

    @property
    def line_height(self) -> int:
        """Height of one line of caption text."""
        return round(self.size * 1.25)

    @property
    def bar_width(self) -> int:
        """Width of the accent bar, less one (its rectangle includes both edges)."""
        return max(2, self.size // 6)

    @property
    def bottom(self) -> int:
        """Last row of the band (it ends one margin above the picture's bottom edge)."""
        return self.height - self.margin

    def top(self, lines: int) -> int:
        """First row of a band of ``lines`` lines."""
        block = self.line_height * lines + 2 * self.margin
        return max(0, self.height - block - self.margin)


def write_caption(picture: Image.Image, prompt: str, accent: RGB) -> None:
    """Write ``prompt`` on a shaded band at the bottom of ``picture`` (in place)."""
    layout = Layout(*picture.size)
    width, height = picture.size
    size, margin = layout.size, layout.margin
    font = ImageFont.load_default(size=size)
    avg = max(1.0, font.getlength("abcdefghijklmnopqrstuvwxyz") / 26)
    chars = max(8, int((width - 4 * margin) / avg))
    lines = textwrap.wrap(" ".join(prompt.split()) or "(no prompt)", width=chars)
    max_lines = max(1, (height - 2 * margin) // layout.line_height - 1)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(1, chars - 1)] + "…"
    top = layout.top(len(lines))
    region = (margin, top, width - margin, min(height, layout.bottom))
    panel = picture.crop(region)
    shade = Image.new("RGB", panel.size, _SHADE)
    picture.paste(Image.blend(panel, shade, _SHADE_SHARE), region[:2])
    draw = ImageDraw.Draw(picture)
    for number, line in enumerate(lines):
        y = top + margin + number * layout.line_height
        draw.text((2 * margin, y), line, font=font, fill=(250, 250, 250))
    draw.rectangle((margin, top, margin + layout.bar_width, region[3]), fill=accent)


def write_badge(picture: Image.Image, text: str) -> None:
    """Write ``text`` on a small white label in the top-left corner of ``picture`` (in place)."""
    width, height = picture.size
    draw = ImageDraw.Draw(picture)
    size = max(8, min(round(min(width, height) / 26), round(width / 40)))
    font = ImageFont.load_default(size=size)
    pad = max(2, size // 3)
    length = round(font.getlength(text))
    box = (pad, pad, min(width - 1, pad * 3 + length), min(height - 1, pad * 3 + size))
    draw.rounded_rectangle(box, radius=pad, fill=(255, 255, 255), outline=(20, 20, 30))
    draw.text((pad * 2, pad * 2), text, font=font, fill=(20, 20, 30))


def find_caption(picture: Image.Image) -> tuple[int, int, int, int] | None:
    """The pixel box of a caption band the simulator wrote on ``picture``, or None.

    A band of ``n`` lines has its accent bar exactly where :class:`Layout` puts it: the bar's
    columns are one colour inside and change colour just above and just below it. The rows
    at its ends are not read (JPEG rings there).
    """
    layout = Layout(*picture.size)
    width, height = picture.size
    margin, bottom = layout.margin, layout.bottom
    if width <= 4 * margin or bottom + 2 >= height or bottom - margin < 3:
        return None
    rgb = picture if picture.mode == "RGB" else picture.convert("RGB")
    bar = layout.bar_width
    columns = sorted({margin + min(2, bar), margin + bar // 2, margin + max(0, bar - 2)})
    strips = [rgb.crop((x, 0, x + 1, height)).tobytes() for x in columns]
    colour = strips[0][3 * (bottom - margin) : 3 * (bottom - margin) + 3]

    def solid(row: int) -> bool:
        return all(_close(strip[3 * row : 3 * row + 3], colour) for strip in strips)

    if solid(bottom + 2) or not all(solid(row) for row in range(bottom - margin, bottom - 2)):
        return None
    most = max(1, (height - 2 * margin) // layout.line_height - 1)
    checked = bottom - margin
    for lines in range(1, most + 1):
        top = layout.top(lines)
        if top < 3 or not all(solid(row) for row in range(top + 3, checked)):
            return None
        checked = top + 3
        if not solid(top - 2):
            return margin, top, width - margin, bottom + 1
    return None


def remove_caption(picture: Image.Image) -> Image.Image:
    """``picture`` without a caption band the simulator wrote on it (the same object when it
    has none): the band is repainted blending the rows just above and just below it."""
    box = find_caption(picture)
    if box is None:
        return picture
    left, top, right, bottom = box
    rgb = picture.convert("RGB") if picture.mode != "RGB" else picture.copy()
    above = rgb.crop((left, max(0, top - 1), right, max(1, top)))
    below = rgb.crop((left, min(rgb.height - 1, bottom), right, min(rgb.height, bottom + 1)))
    edges = Image.new("RGB", (right - left, 2))
    edges.paste(above, (0, 0))
    edges.paste(below, (0, 1))
    rgb.paste(edges.resize((right - left, bottom - top), Image.Resampling.BILINEAR), (left, top))
    return rgb


def _close(a: bytes, b: bytes) -> bool:
    return max(abs(x - y) for x, y in zip(a, b, strict=True)) <= _BAR_TOLERANCE
