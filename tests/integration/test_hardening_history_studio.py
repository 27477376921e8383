"""Damaged or foreign history entries in a Studio on the loopback simulator.

* A pending run of a model this version does not know is shown (read-only, saying why), the
  runs beside it are resumed as usual, and nothing is sent for it.
* ``created: Infinity`` in the journal still gives a cell with a start time.
* A pending run whose journal has a file record without ``sha256`` resumes and completes.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from mountsea_widgets.history import History
from mountsea_widgets.simulator import SimulatorServer
from tests.helpers.simulated_client import FastClient
from tests.helpers.studios import record_of

pytestmark = pytest.mark.timeout(120)


def _cell_of(studio: Any, run_id: str) -> Any:
    return next(cell for cell in studio.cards if cell.run.run_id == run_id)


def _opened(make_studio: Any) -> Any:
    studio = make_studio()
    assert studio._past_loading is not None
    studio._past_loading.result(30)
    return studio


def test_a_pending_run_of_an_unknown_model_is_shown_read_only_beside_resumed_ones(
    make_studio: Any, loopback_hub: SimulatorServer, history: History
) -> None:
    client = FastClient(base_url=loopback_hub.url)
    task_id = asyncio.run(client.submit("nano-banana", {"prompt": "known"}))
    history.start("known1", "nano-banana", {"prompt": "known"}, 1.0)
    history.submitted("known1", task_id)
    history.start("future1", "nano-banana-9000", {"prompt": "from a newer version"}, 2.0)
    history.submitted("future1", "hub-task-from-the-future")
    submitted_before = loopback_hub.stats.submitted

    studio = _opened(make_studio)

    future = _cell_of(studio, "future1")
    assert future.run.status == "error"
    record = record_of(studio, "future1")
    assert "does not know the model 'nano-banana-9000'" in record["error"]
    assert "resume" not in record["actions"] and "reuse" not in record["actions"]
    known = _cell_of(studio, "known1")
    assert studio.resumed == [known.run]  # the known one is resumed, the unknown one is not
    assert studio.wait_idle(30)
    assert known.run.status == "completed", known.run.error
    assert loopback_hub.stats.submitted == submitted_before  # nothing submitted again
    assert history.get("future1").is_pending  # left for a version that knows the model


def test_an_infinite_start_time_in_the_journal_still_shows_the_cell(
    make_studio: Any, history: History
) -> None:
    with (history.folder / "journal.jsonl").open("a", encoding="utf-8") as journal:
        start = {"op": "start", "run_id": "inf1", "model": "nano-banana", "t": 1700000000.0}
        journal.write(json.dumps({**start, "input": {"prompt": "x"}, "created": 1e999}) + "\n")
        end = {"op": "finished", "run_id": "inf1", "status": "failed", "t": 1700000001.0}
        journal.write(json.dumps({**end, "error": "boom", "elapsed_s": float("inf")}) + "\n")
    assert "Infinity" in (history.folder / "journal.jsonl").read_text()

    studio = _opened(make_studio)

    cell = _cell_of(studio, "inf1")
    record = record_of(studio, "inf1")
    assert record["started"] and record["started"] != "at an unknown time"
    assert cell.run.status == "failed" and "boom" in record["error"]


def test_a_file_record_without_sha256_does_not_stop_a_resume(
    make_studio: Any, loopback_hub: SimulatorServer, history: History
) -> None:
    client = FastClient(base_url=loopback_hub.url)
    task_id = asyncio.run(client.submit("nano-banana", {"prompt": "resume me", "num_images": 2}))
    history.start("r1", "nano-banana", {"prompt": "resume me", "num_images": 2}, 1.0)
    history.submitted("r1", task_id)
    with (history.folder / "journal.jsonl").open("a", encoding="utf-8") as journal:
        record = {"op": "images", "run_id": "r1", "files": [{"name": "images/old_0.png"}]}
        journal.write(json.dumps(record) + "\n")

    studio = _opened(make_studio)
    assert studio.wait_idle(30)

    cell = _cell_of(studio, "r1")
    assert cell.run.status == "completed", cell.run.error
    assert history.get("r1").status == "completed"
    assert len([path for path in history.get("r1").files if path.exists()]) == 2
