"""Comparisons end to end: the real client over loopback HTTP against the simulator server."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

import mountsea_widgets as mw
from mountsea_widgets import simulator
from mountsea_widgets._contact_sheet import SheetLayout
from mountsea_widgets.client import AsyncClient
from mountsea_widgets.comparison import NO_SEED_NOTE, read_csv
from tests.helpers.waiting import capped_sleep

FOUR = ["nano-banana", "nano-banana-2", "nano-banana-pro", "gpt-image-2"]

#: Backoffs and Retry-After waits, compressed to at most 20 ms.
_short_sleep = capped_sleep(0.02)


@pytest.fixture
def loopback_hub() -> Iterator[simulator.SimulatorServer]:
    with simulator.serve(speed=200) as server:
        yield server


def _client(hub: simulator.SimulatorServer) -> AsyncClient:
    return AsyncClient(base_url=hub.url, sleep=_short_sleep)


def test_four_models_by_two_seeds_fill_eight_cells_and_a_contact_sheet(
    loopback_hub: simulator.SimulatorServer, sandbox: Path
) -> None:
    comparison = mw.compare(
        "a lighthouse at dusk",
        models=FOUR,
        seeds=[1, 2],
        client=_client(loopback_hub),
        concurrency=2,
    )
    assert isinstance(comparison, mw.Comparison)
    comparison.wait(120)

    assert comparison.shape == (4, 2)
    assert comparison.row_labels == FOUR
    assert comparison.column_labels == ["seed 1", "seed 2"]
    records = comparison.records()
    assert [r["status"] for r in records] == ["completed"] * 8
    assert loopback_hub.stats.submitted == 8
    assert loopback_hub.stats.max_in_flight <= 2  # the concurrency cap, seen from the hub
    seeds_sent = [r["params"].get("seed") for r in records]
    assert seeds_sent == [1, 2, 1, 2, 1, 2, None, None]
    assert [r["note"] for r in records[6:]] == [NO_SEED_NOTE] * 2
    # Different seeds of a seeded model give different images; the history kept every file.
    banana = comparison.cells[:2]
    assert banana[0].image_bytes != banana[1].image_bytes
    assert all(r["file"] and Path(r["file"]).is_file() for r in records)

    sheet_path = comparison.save_sheet(sandbox / "lighthouse.jpg", cell_size=160)
    layout = SheetLayout(rows=4, columns=2, cell_size=160)
    with Image.open(sheet_path) as sheet:
        assert sheet.format == "JPEG"
        assert sheet.size == (layout.width, layout.height)

    csv_path = comparison.to_csv(sandbox / "lighthouse.csv")
    with csv_path.open(newline="", encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 8
    assert read_csv(csv_path) == records


def test_varied_parameter_with_n_a_and_rejected_cells_over_http(
    loopback_hub: simulator.SimulatorServer,
) -> None:
    comparison = mw.compare(
        "a lighthouse at dusk",
        models=["nano-banana", "nano-banana-2", "gpt-image-2"],
        seeds=[5, 6],
        vary={"aspect_ratio": ["1:1", "8:1"]},
        client=_client(loopback_hub),
        history=False,
    ).wait(120)
    by_position = {(c.model, c.seed, c.value): c.status for c in comparison.cells}
    assert by_position[("nano-banana", 5, "8:1")] == "rejected"
    assert by_position[("nano-banana-2", 6, "8:1")] == "completed"
    assert by_position[("gpt-image-2", 5, "1:1")] == "n/a"
    assert comparison.counts() == {"completed": 6, "rejected": 2, "n/a": 4}
    assert loopback_hub.stats.submitted == 6
    assert loopback_hub.stats.rejections == 0  # refused values never reached the hub
    wide = next(c for c in comparison.cells if c.model == "nano-banana-2" and c.value == "8:1")
    image = Image.open(io.BytesIO(wide.image_bytes[0]))
    assert image.width > 4 * image.height  # the simulator honoured 8:1


def test_default_client_uses_the_offline_simulator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOUNTSEA_SIMULATOR_SPEED", "200")
    comparison = mw.compare(
        "a lighthouse at dusk", models=["nano-banana"], seeds=[1, 2], history=False
    ).wait(120)
    assert [c.status for c in comparison.cells] == ["completed", "completed"]
    assert all(
        c.run is not None and c.run.result and c.run.result.simulated for c in comparison.cells
    )
    assert "offline simulator" in comparison.subtitle
