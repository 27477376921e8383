"""The cost goes wherever a run is recorded: the journal (start and finished records, older
journals still readable), the saved images' metadata, the comparison CSV; and the simulated
credits account charges completed tasks only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mountsea_widgets import _prices as prices
from mountsea_widgets._run_journal import RunJournal
from mountsea_widgets.comparison import RECORD_FIELDS, plan, read_csv
from mountsea_widgets.comparison._csv import write_csv
from mountsea_widgets.history import History
from mountsea_widgets.metadata import read_metadata
from mountsea_widgets.run import Run
from mountsea_widgets.simulator import Hub, ManualClock, transport
from tests.helpers.images import solid_png


@pytest.fixture(autouse=True)
def builtin_prices() -> Iterator[None]:
    prices.reset_prices()
    yield
    prices.reset_prices()


def journal_records(history: History) -> list[dict[str, Any]]:
    path = history.folder / "journal.jsonl"
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def test_start_record_carries_the_estimate_and_finished_only_when_completed(
    tmp_path: Path,
) -> None:
    history = History(tmp_path / "history")
    done = Run("nano-banana-2", {"prompt": "a", "resolution": "2K", "num_images": 2})
    failed = Run("nano-banana", {"prompt": "b"})
    for run, status in ((done, "completed"), (failed, "failed")):
        RunJournal(run, history).started()
        RunJournal(run, history).finished(status, None, 1.0, 0.5)
    records = journal_records(history)
    starts = {r["run_id"]: r for r in records if r["op"] == "start"}
    ends = {r["run_id"]: r for r in records if r["op"] == "finished"}
    assert starts[done.run_id]["cost"]["amount"] == pytest.approx(0.24)
    assert starts[done.run_id]["cost"]["unit"] == "USD"
    assert "resolution 2K" in starts[done.run_id]["cost"]["basis"]
    assert starts[failed.run_id]["cost"]["amount"] == pytest.approx(0.039)
    assert ends[done.run_id]["cost"]["amount"] == pytest.approx(0.24)
    assert "cost" not in ends[failed.run_id]  # the hub bills completed tasks only
    entries = {entry.run_id: entry for entry in history.entries()}
    assert entries[done.run_id].cost is not None
    assert entries[done.run_id].cost["amount"] == pytest.approx(0.24)


def test_journal_written_before_costs_still_reads(tmp_path: Path) -> None:
    folder = tmp_path / "history"
    folder.mkdir()
    old = [
        {
            "op": "start",
            "run_id": "r1",
            "model": "nano-banana",
            "input": {"prompt": "x"},
            "blobs": [],
            "created": 1.0,
            "t": 1.0,
        },
        {"op": "submitted", "run_id": "r1", "task_id": "hub-1", "t": 2.0},
        {
            "op": "finished",
            "run_id": "r1",
            "status": "completed",
            "error": None,
            "elapsed_s": 3.0,
            "task_s": 2.0,
            "t": 4.0,
        },
    ]
    (folder / "journal.jsonl").write_text("".join(json.dumps(r) + "\n" for r in old), "utf-8")
    [entry] = History(folder).entries()
    assert entry.status == "completed" and entry.task_id == "hub-1"
    assert entry.cost is None


def test_saved_images_carry_the_runs_estimate(tmp_path: Path) -> None:
    history = History(tmp_path / "history")
    run = Run("gpt-image-2", {"prompt": "p", "quality": "low", "num_images": 2})
    RunJournal(run, history).started()
    [path] = RunJournal(run, history).images([(solid_png(), "image/png")])
    meta = read_metadata(path)
    assert meta["cost"]["amount"] == pytest.approx(0.02)
    assert meta["cost"]["estimate"] is True and meta["cost"]["images"] == 2


def test_comparison_csv_has_each_cells_estimate_and_reads_back(tmp_path: Path) -> None:
    layout = plan(
        "a cat",
        models=["nano-banana", "nano-banana-2"],
        vary={"resolution": ["2K", "4K"]},
    )
    records = [cell.record() for cell in layout.cells]
    by_cell = {(r["model"], r["value"]): r["estimated_cost"] for r in records}
    assert by_cell[("nano-banana-2", "2K")] == pytest.approx(0.12)
    assert by_cell[("nano-banana-2", "4K")] == pytest.approx(0.16)
    assert by_cell[("nano-banana", "2K")] is None  # n/a: nothing is sent, nothing is billed
    path = write_csv(records, tmp_path / "grid.csv")
    header = path.read_text("utf-8").splitlines()[0].split(",")
    assert "estimated_cost" in header
    again = read_csv(path)
    assert [r["estimated_cost"] for r in again] == [r["estimated_cost"] for r in records]


def test_comparison_csv_written_before_costs_still_reads(tmp_path: Path) -> None:
    older = [name for name in RECORD_FIELDS if name != "estimated_cost"]
    path = tmp_path / "old.csv"
    path.write_text(
        ",".join(older) + "\n" + "0,0,nano-banana,1,,,,completed,1.5,hub-1,,,\n", "utf-8"
    )
    [record] = read_csv(path)
    assert record["model"] == "nano-banana" and record["estimated_cost"] is None


# --- the simulated credits account -----------------------------------------------------------


@pytest.fixture
def keyed_hub() -> Iterator[tuple[Hub, ManualClock]]:
    clock = ManualClock()
    hub = Hub(
        clock=clock, prerender=False, api_key="sk-test", credits=50.0, faults="task_failed=0.5"
    )
    yield hub, clock
    hub.close()


def test_simulated_account_charges_completed_tasks_only(
    keyed_hub: tuple[Hub, ManualClock],
) -> None:
    hub, clock = keyed_hub
    auth = {"Authorization": "Bearer sk-test"}
    with httpx.Client(transport=transport(hub), base_url="http://hub.test") as http:

        def credits() -> float:
            reply = http.get("/api-user/credits", headers={"X-API-Key": "sk-test"})
            assert reply.status_code == 200, reply.text
            return float(reply.json()["credits"])

        ids = []
        for _ in range(8):
            body = {"model": "nano-banana-2", "input": {"prompt": "x", "num_images": 2}}
            reply = http.post("/hub/v1/image", json=body, headers=auth)
            ids.append(reply.json()["task_id"])
        assert credits() == 50.0  # nothing has ended yet
        clock.advance(max(hub.task(i).finishes for i in ids) - clock() + 1)
        endings = [hub.status_of(i) for i in ids]
        completed = endings.count("completed")
        assert 0 < completed < len(ids)  # some failed: they must cost nothing
        assert credits() == pytest.approx(50.0 - completed * 2 * 0.08)


def test_simulated_credits_need_the_key_in_its_own_header(
    keyed_hub: tuple[Hub, ManualClock],
) -> None:
    hub, _clock = keyed_hub
    with httpx.Client(transport=transport(hub), base_url="http://hub.test") as http:
        assert http.get("/api-user/credits").status_code == 401
        bearer = http.get("/api-user/credits", headers={"Authorization": "Bearer sk-test"})
        assert bearer.status_code == 401  # the hub's header is not the credits service's
        assert http.get("/api-user/credits", params={"key": "sk-test"}).status_code == 200
    assert hub.account.refused == 2
