"""Contact sheets: one labelled image of a whole comparison grid, drawn with Pillow.

The sheet has a title (the prompt), a column label above every column, a row label left of
every row, and one cell per grid position. A cell shows its image scaled to fit a fixed square
(never cropped), or — when there is no image — its text ("n/a", an error) in the same square,
with a short caption underneath. Sizes depend only on the number of rows and columns and on
the cell size, so a sheet's dimensions are predictable (see :class:`SheetLayout`).

>>> from PIL import Image
>>> cells = [[SheetCell(Image.new("RGB", (64, 32), "red"), "seed 1"), SheetCell(None, "n/a")]]
>>> sheet, layout = render_contact_sheet("a red cube", ["nano-banana"], ["1", "2"], cells)
>>> sheet.size == (layout.width, layout.height)
True
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

#: Box = (left, top, right, bottom) in pixels, right/bottom exclusive.
Box = tuple[int, int, int, int]

#: Default side of the square each image is scaled into, in pixels.
DEFAULT_CELL_SIZE = 256
#: Space around each image inside its cell.
PADDING = 8
#: Height of the caption under each image (two lines of small text).
CAPTION_HEIGHT = 40
#: Width of the row-label column on the left.
ROW_LABEL_WIDTH = 200
#: Height of the title band (up to two lines of the prompt).
TITLE_HEIGHT = 64
#: Height of the column-label band (up to two lines).
COLUMN_LABEL_HEIGHT = 44

#: File extensions → Pillow format names accepted by :func:`save_contact_sheet`.
FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}

BACKGROUND = (255, 255, 255)
CELL_BACKGROUND = (242, 242, 242)
LABEL_BACKGROUND = (226, 232, 240)
INK = (20, 20, 20)
MUTED = (110, 110, 110)
ERROR_INK = (176, 0, 32)
TONES = {"normal": INK, "muted": MUTED, "error": ERROR_INK}

_NOT_A_SPACE = re.compile(r"[^ ]")


@dataclass(frozen=True)
class SheetCell:
    """What one grid position shows.

    ``image`` is drawn when given; otherwise ``message`` fills the square (``tone`` "muted" for
    "n/a"-style notes, "error" for failures). ``caption`` is the short line under the square.
    """

    image: Image.Image | None = None
    caption: str = ""
    message: str = ""
    tone: str = "normal"


@dataclass(frozen=True)
class SheetLayout:
    """Where everything on a sheet is, in pixels (returned with the image; used by tests).

    ``width = row_label_width + columns * cell_width`` and
    ``height = title_height + column_label_height + rows * cell_height``, where
    ``cell_width = cell_size + 2 * padding`` and
    ``cell_height = cell_size + 2 * padding + caption_height``.
    """

    rows: int
    columns: int
    cell_size: int
    padding: int = PADDING
    caption_height: int = CAPTION_HEIGHT
    row_label_width: int = ROW_LABEL_WIDTH
    title_height: int = TITLE_HEIGHT
    column_label_height: int = COLUMN_LABEL_HEIGHT

    @property
    def cell_width(self) -> int:
        """Width of one grid cell."""
        return self.cell_size + 2 * self.padding

    @property
    def cell_height(self) -> int:
        """Height of one grid cell, caption included."""
        return self.cell_size + 2 * self.padding + self.caption_height

    @property
    def width(self) -> int:
        """Width of the whole sheet."""
        return self.row_label_width + self.columns * self.cell_width

    @property
    def height(self) -> int:
        """Height of the whole sheet."""
        return self.title_height + self.column_label_height + self.rows * self.cell_height

    @property
    def title_box(self) -> Box:
        """The band holding the title."""
        return (0, 0, self.width, self.title_height)

    def column_label_box(self, column: int) -> Box:
        """The label box above ``column``."""
        left = self.row_label_width + column * self.cell_width
        top = self.title_height
        return (left, top, left + self.cell_width, top + self.column_label_height)

    def row_label_box(self, row: int) -> Box:
        """The label box left of ``row``."""
        top = self.title_height + self.column_label_height + row * self.cell_height
        return (0, top, self.row_label_width, top + self.cell_height)

    def cell_box(self, row: int, column: int) -> Box:
        """The whole cell at ``(row, column)``, caption included."""
        left = self.row_label_width + column * self.cell_width
        top = self.title_height + self.column_label_height + row * self.cell_height
        return (left, top, left + self.cell_width, top + self.cell_height)

    def image_box(self, row: int, column: int) -> Box:
        """The square an image (or a message) is drawn into."""
        left, top, _, _ = self.cell_box(row, column)
        left, top = left + self.padding, top + self.padding
        return (left, top, left + self.cell_size, top + self.cell_size)

    def caption_box(self, row: int, column: int) -> Box:
        """The caption band under the square."""
        left, _, right, bottom = self.cell_box(row, column)
        return (left + self.padding, bottom - self.caption_height, right - self.padding, bottom)


Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def _font(size: int) -> Font:
    # Pillow's bundled font: no system font files needed, same look on every machine.
    return ImageFont.load_default(size=size)


def wrap_text(text: str, font: Font, width: int, max_lines: int) -> list[str]:
    """Break ``text`` into at most ``max_lines`` lines no wider than ``width`` pixels.

    Explicit newlines are kept; words longer than a line are cut; text that does not fit ends
    with an ellipsis, so nothing overflows its box. The work is bounded by what the lines can
    show, not by the length of ``text`` (a hub error message may be arbitrarily long).
    """
    if max_lines < 1:
        raise ValueError(f"max_lines must be at least 1, got {max_lines}")
    shown = _decisive_start(text, width, max_lines)
    # One line more than shown is enough to know that the text goes on.
    lines = list(itertools.islice(_wrapped_lines(shown, font, width), max_lines + 1))
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = _with_ellipsis(lines[-1], font, width)
    return lines


def _decisive_start(text: str, width: int, max_lines: int) -> str:
    """The start of ``text`` that decides its first ``max_lines + 1`` wrapped lines.

    A line holds at most ``width + 1`` characters (see :func:`_fits`) and its break swallows at
    most two (CR LF); a further line's worth covers the look-ahead into the next word.
    Runs of spaces after a break take no room, so only other characters are counted. Whatever
    follows cannot change those lines, and cutting there still leaves more lines than shown.
    """
    budget = (max_lines + 2) * (max(width, 0) + 3)
    if len(text) <= budget:
        return text
    beyond = next(itertools.islice(_NOT_A_SPACE.finditer(text), budget, None), None)
    return text if beyond is None else text[: beyond.start()]


def _fits(text: str, font: Font, width: int) -> bool:
    """Whether ``text`` is at most ``width`` pixels wide.

    A visible character is at least a pixel wide in any practical font, so more than
    ``width + 1`` characters never fit and are not measured (measuring takes time in the
    length of the text).
    """
    return len(text) <= width + 1 and font.getlength(text) <= width


def _wrapped_lines(text: str, font: Font, width: int) -> Iterator[str]:
    """The lines of ``text`` wrapped to ``width``, produced lazily so callers can stop early."""
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split(" "):
            if not line and not word:
                continue  # spaces at the start of a line take no room
            candidate = f"{line} {word}" if line else word
            if _fits(candidate, font, width):
                line = candidate
                continue
            if line:
                yield line
            while len(word) > 1 and not _fits(word, font, width):
                cut = _longest_fitting_prefix(word, font, width)
                yield word[:cut]
                word = word[cut:]
            line = word
        yield line


def _longest_fitting_prefix(word: str, font: Font, width: int) -> int:
    """Length of the longest proper prefix of ``word`` within ``width`` (at least 1)."""
    longest = min(len(word) - 1, width + 1)
    return _largest_fitting(1, longest, lambda n: _fits(word[:n], font, width))


def _with_ellipsis(line: str, font: Font, width: int) -> str:
    """``line`` shortened as needed so that it still fits ``width`` with "…" appended."""
    keep = _largest_fitting(0, len(line), lambda n: _fits(line[:n] + "…", font, width))
    return line[:keep] + "…"


def _largest_fitting(low: int, high: int, fits: Callable[[int], bool]) -> int:
    """The largest ``n`` in ``low..high`` with ``fits(n)``, or ``low`` when none fits.

    By bisection: text width grows with the number of characters, so ``fits`` holds up to
    some ``n`` and fails after it, and a few measurements find that point.
    """
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _draw_text(
    draw: ImageDraw.ImageDraw,
    box: Box,
    text: str,
    font: Font,
    fill: tuple[int, int, int],
    *,
    center: bool = True,
    margin: int = 6,
) -> None:
    left, top, right, bottom = box
    line_height = int(getattr(font, "size", 12) * 1.25)
    max_lines = max(1, (bottom - top - 2 * margin) // line_height)
    lines = wrap_text(text, font, right - left - 2 * margin, max_lines)
    total = line_height * len(lines)
    y = top + max(margin, (bottom - top - total) // 2) if center else top + margin
    for line in lines:
        x = left + margin
        if center:
            x = left + max(margin, int((right - left - font.getlength(line)) / 2))
        draw.text((x, y), line, font=font, fill=fill)
        y += line_height


def _fit(image: Image.Image, size: int) -> Image.Image:
    """``image`` scaled (up or down, aspect kept) to fit a ``size`` square, as RGB."""
    if image.mode not in ("RGB", "L"):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, BACKGROUND)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    return ImageOps.contain(image.convert("RGB"), (size, size))


def render_contact_sheet(
    title: str,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    cells: Sequence[Sequence[SheetCell]],
    *,
    cell_size: int = DEFAULT_CELL_SIZE,
) -> tuple[Image.Image, SheetLayout]:
    """Draw the sheet; returns the RGB image and its :class:`SheetLayout`.

    ``cells[row][column]`` must match the label counts (ValueError otherwise).
    """
    if cell_size < 32:
        raise ValueError(f"cell_size must be at least 32 pixels, got {cell_size}")
    if len(cells) != len(row_labels) or any(len(row) != len(column_labels) for row in cells):
        raise ValueError(
            f"cells must be {len(row_labels)} rows of {len(column_labels)} columns to match "
            "the labels"
        )
    layout = SheetLayout(rows=len(row_labels), columns=len(column_labels), cell_size=cell_size)
    sheet = Image.new("RGB", (layout.width, layout.height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    title_font, label_font, small_font = _font(20), _font(15), _font(12)

    _draw_text(draw, layout.title_box, title, title_font, INK)
    for column, label in enumerate(column_labels):
        box = layout.column_label_box(column)
        draw.rectangle(_inner(box), fill=LABEL_BACKGROUND)
        _draw_text(draw, box, label, label_font, INK)
    for row, label in enumerate(row_labels):
        box = layout.row_label_box(row)
        draw.rectangle(_inner(box), fill=LABEL_BACKGROUND)
        _draw_text(draw, box, label, label_font, INK)

    for row, row_cells in enumerate(cells):
        for column, cell in enumerate(row_cells):
            square = layout.image_box(row, column)
            draw.rectangle(_inner(square, 0), fill=CELL_BACKGROUND)
            if cell.image is not None:
                fitted = _fit(cell.image, cell_size)
                left = square[0] + (cell_size - fitted.width) // 2
                top = square[1] + (cell_size - fitted.height) // 2
                sheet.paste(fitted, (left, top))
            elif cell.message:
                tone = TONES.get(cell.tone, INK)
                _draw_text(draw, square, cell.message, label_font, tone)
            if cell.caption:
                box = layout.caption_box(row, column)
                _draw_text(draw, box, cell.caption, small_font, MUTED, margin=2)
    return sheet, layout


def _inner(box: Box, inset: int = 2) -> Box:
    left, top, right, bottom = box
    return (left + inset, top + inset, right - 1 - inset, bottom - 1 - inset)


def save_contact_sheet(sheet: Image.Image, path: str | Path) -> Path:
    """Write ``sheet`` as PNG or JPEG, chosen by the file extension; returns the path.

    Raises ValueError for any other extension (nothing is written).
    """
    target = Path(path)
    image_format = FORMATS.get(target.suffix.lower())
    if image_format is None:
        raise ValueError(
            f"cannot save a contact sheet as {target.suffix or 'a file without extension'!r}; "
            f"use one of {', '.join(FORMATS)}"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    if image_format == "JPEG":
        sheet.convert("RGB").save(target, format="JPEG", quality=90)
    else:
        sheet.save(target, format="PNG")
    return target
