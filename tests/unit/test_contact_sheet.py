"""Contact sheets: predictable dimensions, drawn labels, scaled images, PNG or JPEG."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageFont

from mountsea_widgets import simulator
from mountsea_widgets._contact_sheet import (
    CELL_BACKGROUND,
    SheetCell,
    SheetLayout,
    render_contact_sheet,
    save_contact_sheet,
    wrap_text,
)
from mountsea_widgets.client import AsyncClient
from mountsea_widgets.comparison import compare

RED = (220, 20, 20)


def _ink(sheet: Image.Image, box: tuple[int, int, int, int]) -> int:
    """How many pixels in ``box`` are dark (text), i.e. clearly not a background colour."""
    region = sheet.crop(box).convert("L")
    histogram = region.histogram()
    return sum(histogram[:120])


def _sheet(cell_size: int = 96) -> tuple[Image.Image, SheetLayout]:
    cells = [
        [SheetCell(Image.new("RGB", (400, 200), RED), "completed · 1.0 s"), SheetCell()],
        [
            SheetCell(None, "n/a", "n/a\n(no quality)", "muted"),
            SheetCell(None, "rejected", "aspect_ratio: '8:1' is not allowed", "error"),
        ],
        [SheetCell(Image.new("RGBA", (50, 100), (0, 0, 255, 255))), SheetCell()],
    ]
    return render_contact_sheet(
        "a lighthouse at dusk",
        ["nano-banana", "nano-banana-2", "gpt-image-2"],
        ["seed 1", "seed 2"],
        cells,
        cell_size=cell_size,
    )


@pytest.mark.parametrize("cell_size", [64, 96, 256])
def test_dimensions_follow_rows_columns_and_cell_size(cell_size: int) -> None:
    sheet, layout = _sheet(cell_size)
    padding, caption = layout.padding, layout.caption_height
    expected_width = layout.row_label_width + 2 * (cell_size + 2 * padding)
    expected_height = (
        layout.title_height + layout.column_label_height + 3 * (cell_size + 2 * padding + caption)
    )
    assert sheet.size == (expected_width, expected_height) == (layout.width, layout.height)
    assert layout.cell_box(2, 1)[2:] == (layout.width, layout.height)


def test_title_and_every_label_are_drawn() -> None:
    sheet, layout = _sheet()
    assert _ink(sheet, layout.title_box) > 50
    for column in range(2):
        assert _ink(sheet, layout.column_label_box(column)) > 30
    for row in range(3):
        assert _ink(sheet, layout.row_label_box(row)) > 30


def test_labels_differ_when_the_text_differs() -> None:
    first, layout = _sheet()
    other, _ = render_contact_sheet(
        "another prompt entirely",
        ["x", "y", "z"],
        ["a", "b"],
        [[SheetCell(), SheetCell()] for _ in range(3)],
        cell_size=96,
    )
    assert ImageChops.difference(
        first.crop(layout.title_box), other.crop(layout.title_box)
    ).getbbox()


def test_images_are_scaled_into_the_square_keeping_their_aspect() -> None:
    sheet, layout = _sheet(96)
    left, top, right, bottom = layout.image_box(0, 0)
    # A 2:1 image fills the width and half the height, centred: red in the middle, not on top.
    assert sheet.getpixel(((left + right) // 2, (top + bottom) // 2)) == RED
    assert sheet.getpixel((left + 1, top + 48)) == RED
    assert sheet.getpixel(((left + right) // 2, top + 5)) == CELL_BACKGROUND
    # A 1:2 RGBA image is flattened to RGB and fills the height.
    left, top, right, bottom = layout.image_box(2, 0)
    assert sheet.getpixel(((left + right) // 2, top + 1)) == (0, 0, 255)
    assert sheet.getpixel((left + 2, (top + bottom) // 2)) == CELL_BACKGROUND


def test_cells_without_images_show_their_message_or_nothing() -> None:
    sheet, layout = _sheet(128)
    assert _ink(sheet, layout.image_box(1, 0)) > 20  # "n/a"
    assert _ink(sheet, layout.image_box(1, 1)) > 20  # the error
    assert _ink(sheet, layout.image_box(0, 1)) == 0  # an empty cell stays blank
    assert _ink(sheet, layout.caption_box(0, 0)) > 10  # "completed · 1.0 s"
    error = sheet.crop(layout.image_box(1, 1)).getcolors(100_000) or []
    assert any(r > 120 and g < 80 and b < 80 for _, (r, g, b) in error)  # drawn in red


def test_mismatched_cells_and_tiny_cells_are_refused() -> None:
    with pytest.raises(ValueError, match="rows of"):
        render_contact_sheet("t", ["a"], ["x", "y"], [[SheetCell()]])
    with pytest.raises(ValueError, match="cell_size"):
        render_contact_sheet("t", ["a"], ["x"], [[SheetCell()]], cell_size=8)


@pytest.mark.parametrize(
    ("name", "image_format"), [("s.png", "PNG"), ("s.JPG", "JPEG"), ("s.jpeg", "JPEG")]
)
def test_format_follows_the_extension(tmp_path: Path, name: str, image_format: str) -> None:
    sheet, layout = _sheet()
    path = save_contact_sheet(sheet, tmp_path / "sub" / name)
    with Image.open(path) as saved:
        assert saved.format == image_format
        assert saved.size == (layout.width, layout.height)


def test_unknown_extension_writes_nothing(tmp_path: Path) -> None:
    sheet, _ = _sheet()
    with pytest.raises(ValueError, match=r"\.png"):
        save_contact_sheet(sheet, tmp_path / "sheet.gif")
    assert list(tmp_path.iterdir()) == []


def test_wrap_text_fits_the_width_and_marks_what_was_cut() -> None:
    font = ImageFont.load_default(size=14)
    lines = wrap_text("a " * 200 + "unbreakablewordthatisverylongindeed", font, 120, 3)
    assert len(lines) == 3
    assert all(font.getlength(line) <= 120 for line in lines)
    assert lines[-1].endswith("…")
    long_word = wrap_text("x" * 100, font, 60, 10)
    assert len(long_word) > 1 and all(font.getlength(line) <= 60 for line in long_word)
    assert wrap_text("two\nlines", font, 200, 5) == ["two", "lines"]


def counted(font: ImageFont.FreeTypeFont, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every string ``font.getlength`` is asked to measure from now on, in order."""
    measured: list[str] = []
    real_getlength = font.getlength

    def counting_getlength(text: str, *args: Any, **kwargs: Any) -> float:
        measured.append(text)
        return real_getlength(text, *args, **kwargs)

    monkeypatch.setattr(font, "getlength", counting_getlength)
    return measured


@pytest.mark.parametrize(
    "text",
    ["A" * 20_000, ("a hub error message that goes on and on, " * 500)[:20_000]],
    ids=["unbroken-word", "sentence"],
)
def test_wrap_text_of_a_huge_text_measures_only_what_it_can_show(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    font = ImageFont.load_default(size=14)
    measured = counted(font, monkeypatch)
    lines = wrap_text(text, font, 180, 4)
    assert len(lines) == 4
    assert lines[-1].endswith("…")
    assert "".join(lines).replace(" ", "")[:20] == text.replace(" ", "")[:20]
    # A few bisection steps per line, each on a short string: not one per character.
    assert len(measured) < 200
    assert max(len(each) for each in measured) < 200
    assert all(font.getlength(line) <= 180 for line in lines)


def test_wrap_text_skips_a_long_run_of_spaces_cheaply(monkeypatch: pytest.MonkeyPatch) -> None:
    font = ImageFont.load_default(size=14)
    measured = counted(font, monkeypatch)
    lines = wrap_text("word" + " " * 20_000 + "hidden", font, 120, 2)
    assert lines[0].startswith("word ") and lines[1] == "hidden"  # nothing is lost
    assert len(measured) < 200


def test_wrap_text_needs_room_for_a_line() -> None:
    with pytest.raises(ValueError, match="max_lines must be at least 1"):
        wrap_text("text", ImageFont.load_default(size=14), 120, 0)


def test_comparison_sheet_has_one_cell_per_grid_position(tmp_path: Path) -> None:
    async def quick(seconds: float) -> None:
        await asyncio.sleep(min(seconds, 0.01))

    hub = simulator.Hub(speed=500, prerender=False)
    try:
        client = AsyncClient(
            base_url="http://hub.test", transport=simulator.transport(hub), sleep=quick
        )
        comparison = compare(
            "a <b>lighthouse</b>",
            models=["nano-banana", "gpt-image-2"],
            vary={"quality": ["low", "high"]},
            client=client,
            history=False,
        ).wait(60)
    finally:
        hub.close()
    path = comparison.save_sheet(tmp_path / "sheet.png", cell_size=128)
    layout = SheetLayout(rows=2, columns=2, cell_size=128)
    with Image.open(path) as saved:
        sheet = saved.convert("RGB")
    assert sheet.size == (layout.width, layout.height)
    # nano-banana has no quality: text, no image; gpt-image-2 cells: images.
    na_colors = sheet.crop(layout.image_box(0, 0)).getcolors(100_000) or []
    assert all(max(color) - min(color) < 12 for _, color in na_colors)  # grey text on grey
    assert _ink(sheet, layout.image_box(0, 0)) > 0
    image_colors = sheet.crop(layout.image_box(1, 0)).getcolors(1_000_000) or []
    assert len(image_colors) > 50  # a rendered picture, not flat text on grey
    cells = comparison.sheet_cells()
    assert cells[0][0].image is None and cells[0][0].message.startswith("n/a")
    assert cells[1][1].image is not None and cells[1][1].caption.startswith("completed")
