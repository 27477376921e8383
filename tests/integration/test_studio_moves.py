"""The Studio tells the page how its list moved (so the page keeps the rows it holds), and
rewrites the saved ``recent`` window once for a burst of card changes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mountsea_widgets.widgets import studio as studio_module
from tests.helpers.views import PageRecorder, send
from tests.integration.test_recovery import write_history


def test_adding_and_removing_a_run_say_where_the_list_moved(
    make_studio: Any, tmp_path: Path
) -> None:
    studio = make_studio(history=write_history(tmp_path / "h", 30))
    assert studio.wait_loaded(60)
    assert studio.recent_version == studio.list_version  # the page may trust the window
    page = PageRecorder(studio)
    version = studio.list_version
    studio.form.controls["prompt"].set("one more")
    run = studio.generate()
    (added,) = page.of_type("moved")
    assert added["from"] == version and added["version"] == version + 1 == studio.list_version
    assert (added["at"], added["by"]) == (0, 1)
    assert added["record"]["id"] == run.run_id and added["record"]["prompt"] == "one more"
    assert studio.recent[0]["id"] == run.run_id and studio.recent_version == studio.list_version
    assert studio.wait_idle(30)

    older = studio.runs[3]
    send(studio, "action", action="remove", run_id=older.run_id)
    removed = page.of_type("moved")[-1]
    assert (removed["at"], removed["by"]) == (3, -1) and "record" not in removed
    assert removed["from"] == version + 1 and studio.list_version == version + 2
    assert older.run_id not in [record["id"] for record in studio.recent]
    assert page.of_type("rows") == []  # nothing was asked again


def test_a_burst_of_card_changes_rewrites_the_window_once(
    make_studio: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # However slow the machine, the burst below falls in one wait (wait_idle ends it).
    monkeypatch.setattr(studio_module, "RECENT_DELAY_S", 600.0)
    studio = make_studio()
    runs = []
    for prompt in ("first", "second", "third"):
        studio.form.controls["prompt"].set(prompt)
        runs.append(studio.generate())
    assert studio.wait_idle(30)
    windows: list[list[dict[str, Any]]] = []
    studio.observe(lambda change: windows.append(change["new"]), names="recent")
    for run in runs:
        send(studio, "action", action="select", run_id=run.run_id, on=True)
    assert studio.wait_idle(30)  # what a notebook saved now keeps is current
    assert len(windows) == 1 and all(record["selected"] for record in windows[0])
    # The window's records are lean: no empty fields, no estimate basis; numbers stay.
    record = windows[0][0]
    assert "cost_basis" not in record and "error" not in record and record["images"] == 1
    assert len(json.dumps(record)) < 500
