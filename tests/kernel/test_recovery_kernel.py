"""Kill the kernel in the middle of ten runs; the next kernel's Studio finishes every one.

The simulator runs in the test process at real speed (nano-banana takes about 6 s), so it
outlives the kernels and the ten tasks are still in flight on the hub when the first kernel is
SIGKILLed. A second kernel on the same history folder opens a Studio and, without any click,
polls each journalled task id again: every run completes there, its images are on disk and in
the journal, and the hub saw exactly ten submits.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mountsea_widgets import simulator
from mountsea_widgets.history import History
from mountsea_widgets.metadata import read_metadata

KernelDriver = Any  # the driver comes from this folder's conftest.py (through fixtures)

pytestmark = [pytest.mark.kernel, pytest.mark.timeout(120)]

RUNS = 10

FIRST = """
import mountsea_widgets as mw
from mountsea_widgets.widgets.studio import Studio

studio = Studio("nano-banana", client=mw.AsyncClient(base_url={url!r}))
studio.form.controls["prompt"].set("in flight when the kernel dies")
runs = [studio.generate() for _ in range({runs})]
print(len(runs))
"""

SECOND = """
import json
import mountsea_widgets as mw
from mountsea_widgets.widgets.studio import Studio

studio = Studio("nano-banana", client=mw.AsyncClient(base_url={url!r}))
display(studio)
"""

REPORT = """
assert studio.wait_idle(60)
print(json.dumps({
    "resumed": len(studio.resumed),
    "runs": [
        {"run_id": r.run_id, "status": r.status, "task_id": r.task_id, "error": r.error,
         "files": [str(f) for f in r.files], "images": c.image_count}
        for r, c in zip(studio.runs, studio.cards)
    ],
}))
"""


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def _completed_cards(kernel: KernelDriver) -> list[Any]:
    """The completed runs in the newest window of the Studio the page shows."""
    return [
        record
        for model in kernel.models.values()
        for record in model.state.get("recent", [])
        if record["status"] == "completed"
    ]


def test_the_kill_and_restart_test_recovers_10_of_10_in_flight_runs(
    tmp_path: Path, kernels: Callable[..., KernelDriver]
) -> None:
    folder = tmp_path / "history"
    with simulator.serve(speed=1.0) as hub:
        first = kernels(tmp_path / "first", history=folder)
        assert first.execute(FIRST.format(url=hub.url, runs=RUNS)).stdout.strip() == str(RUNS)

        # Read from this process: the journal has every task id before any run can finish.
        history = History(folder)
        _wait(
            lambda: sum(1 for entry in history.entries() if entry.task_id) == RUNS,
            30,
            "ten task ids in the journal",
        )
        assert len(history.pending()) == RUNS
        assert hub.stats.submitted == RUNS
        assert hub.stats.in_flight == RUNS  # none finished yet: all ten die in flight
        first.kill()
        assert len(History(folder).pending()) == RUNS

        second = kernels(tmp_path / "second", history=folder)
        second.execute(SECOND.format(url=hub.url))
        # Nothing is clicked and no cell runs: the page sees ten cards complete on their own.
        second.wait_for(
            lambda: len(_completed_cards(second)) == RUNS, 45, "ten completed cards on the page"
        )
        report = json.loads(second.execute(REPORT).stdout)

        assert hub.stats.submitted == RUNS  # every run was polled again, none submitted twice
        assert hub.stats.in_flight == 0

    assert report["resumed"] == RUNS
    runs = report["runs"]
    assert len(runs) == RUNS
    assert [run["status"] for run in runs] == ["completed"] * RUNS, [r["error"] for r in runs]
    assert all(run["images"] == 1 and len(run["files"]) == 1 for run in runs)
    after = History(folder)
    assert after.pending() == []
    entries = {entry.run_id: entry for entry in after.entries()}
    assert set(entries) == {run["run_id"] for run in runs}
    for run in runs:
        entry = entries[run["run_id"]]
        assert (entry.status, entry.task_id) == ("completed", run["task_id"])
        (path,) = entry.files
        assert path.is_file() and str(path) == run["files"][0]
        meta = read_metadata(path)
        assert meta["task_id"] == run["task_id"]
        assert meta["input"]["prompt"] == "in flight when the kernel dies"
