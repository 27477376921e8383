"""A third varied axis (Z): the plan's cells are X × Y × Z, in pages; records and CSV carry Z."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mountsea_widgets import simulator
from mountsea_widgets.client import AsyncClient
from mountsea_widgets.comparison import RECORD_FIELDS, compare, plan, read_csv
from tests.helpers.waiting import short_sleep

THREE = {"aspect_ratio": ["1:1", "16:9", "3:2"], "seed": [1, 2], "resolution": ["0.5K", "1K"]}


@pytest.fixture
def inprocess_hub() -> Iterator[simulator.Hub]:
    hub = simulator.Hub(speed=500, prerender=False)
    yield hub
    hub.close()


def test_three_axes_give_columns_rows_and_pages() -> None:
    layout = plan("a fox", models=["nano-banana-2"], vary=THREE)
    assert layout.shape == (2, 3) and layout.pages == 2
    assert len(layout.cells) == 3 * 2 * 2
    assert layout.column_labels == [
        "aspect_ratio = 1:1",
        "aspect_ratio = 16:9",
        "aspect_ratio = 3:2",
    ]
    assert layout.row_labels == ["nano-banana-2\nseed = 1", "nano-banana-2\nseed = 2"]
    assert layout.page_labels == ["resolution = 0.5K", "resolution = 1K"]
    assert (layout.z_param, layout.z_values) == ("resolution", ["0.5K", "1K"])
    cell = layout.cell(1, 2, page=1)
    assert cell.input == {"prompt": "a fox", "aspect_ratio": "3:2", "seed": 2, "resolution": "1K"}
    assert (cell.row, cell.column, cell.page) == (1, 2, 1)
    assert [c.page for c in layout.cells] == [0] * 6 + [1] * 6
    assert layout.page_cells(1) == layout.cells[6:]
    combos = {(c.value, c.y_value, c.z_value) for c in layout.cells}
    assert len(combos) == 12  # every X × Y × Z once
    with pytest.raises(IndexError, match="page 2"):
        layout.cell(0, 0, page=2)


def test_a_placeholder_can_be_the_third_axis() -> None:
    layout = plan(
        "a {animal} at {time}",
        models=["nano-banana"],
        vary={"animal": ["fox", "owl"], "aspect_ratio": ["1:1"], "time": ["dawn", "dusk"]},
    )
    assert layout.page_labels == ["time = dawn", "time = dusk"]
    assert [c.input["prompt"] for c in layout.cells if c.input] == [
        "a fox at dawn",
        "a owl at dawn",
        "a fox at dusk",
        "a owl at dusk",
    ]


def test_a_fourth_varied_axis_is_refused_naming_vary_and_what_is_allowed() -> None:
    with pytest.raises(ValueError) as error:
        plan("a fox", models=["nano-banana-2"], vary={**THREE, "output_format": ["png"]})
    text = str(error.value)
    assert "vary takes one to three entries" in text
    assert "the pages Z" in text and "(got 4)" in text


def test_records_and_the_csv_carry_the_page_and_its_value(
    inprocess_hub: simulator.Hub, tmp_path: Path
) -> None:
    client = AsyncClient(
        base_url="http://hub.test", transport=simulator.transport(inprocess_hub), sleep=short_sleep
    )
    comparison = compare(
        "a fox",
        models=["nano-banana-2"],
        vary={"aspect_ratio": ["1:1"], "resolution": ["0.5K"], "seed": [3, 4]},
        client=client,
        history=False,
    ).wait(60)
    assert comparison.pages == 2 and comparison.page_labels == ["seed = 3", "seed = 4"]
    assert "z_param" in RECORD_FIELDS and "page" in RECORD_FIELDS
    records = comparison.records()
    assert [(r["z_param"], r["z_value"], r["page"]) for r in records] == [
        ("seed", 3, 0),
        ("seed", 4, 1),
    ]
    assert [r["seed"] for r in records] == [3, 4]  # the seed sent, also as the Z axis
    back = read_csv(comparison.to_csv(tmp_path / "grid.csv"))
    assert [(r["z_param"], r["z_value"], r["page"]) for r in back] == [
        ("seed", 3, 0),
        ("seed", 4, 1),
    ]
    assert repr(comparison).startswith("<Comparison 1×1×2 ")
    # The contact sheet shows every page, one under the other, each row saying its page.
    assert comparison.sheet_row_labels() == [
        "seed = 3\nnano-banana-2\nresolution = 0.5K",
        "seed = 4\nnano-banana-2\nresolution = 0.5K",
    ]
    assert len(comparison.sheet_cells()) == 2
    assert comparison.save_sheet(tmp_path / "sheet.png").is_file()


def test_a_batch_takes_a_third_axis_too(inprocess_hub: simulator.Hub, tmp_path: Path) -> None:
    import mountsea_widgets as mw

    client = AsyncClient(
        base_url="http://hub.test", transport=simulator.transport(inprocess_hub), sleep=short_sleep
    )
    job = mw.batch(
        "a {animal}",
        models=["nano-banana-2"],
        vary={"animal": ["fox"], "aspect_ratio": ["1:1"], "seed": [5, 6]},
        client=client,
        history=tmp_path / "history",
        batch_id="paged",
    ).wait(60)
    records = job.records()
    assert [(r["status"], r["z_value"], r["page"]) for r in records] == [
        ("completed", 5, 0),
        ("completed", 6, 1),
    ]
    header = (job.to_csv(tmp_path / "batch.csv")).read_text("utf-8").splitlines()[0]
    assert "z_param,z_value,page" in header
