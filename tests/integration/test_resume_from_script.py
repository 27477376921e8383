"""Resuming pending runs from a script: ``History.resume()``, with any client a user has."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

import mountsea_widgets as mw
from mountsea_widgets import simulator
from mountsea_widgets.history import History
from mountsea_widgets.simulator import SimulatorServer
from mountsea_widgets.simulator.hub import ROUTE_SUBMIT, ROUTE_TASK


@pytest.fixture(scope="module")
def loopback_hub() -> Iterator[SimulatorServer]:
    with simulator.serve(speed=200) as server:
        yield server


def _crashed_run(history: History, hub: SimulatorServer, run_id: str, prompt: str) -> str:
    """A run as a killed kernel leaves it: journalled with its task id, never finished."""

    async def submit() -> str:
        async with mw.AsyncClient(base_url=hub.url) as client:
            return await client.submit("nano-banana", {"prompt": prompt})

    task_id = asyncio.run(submit())
    history.start(run_id, "nano-banana", {"prompt": prompt})
    history.submitted(run_id, task_id, "nano-banana")
    return task_id


def test_a_script_resumes_every_pending_run_once_with_a_blocking_client(
    tmp_path: Path, loopback_hub: SimulatorServer
) -> None:
    history = History(tmp_path / "history")
    tasks = {
        run_id: _crashed_run(history, loopback_hub, run_id, f"left behind {run_id}")
        for run_id in ("crashed-a", "crashed-b")
    }
    submits = loopback_hub.stats.requests[ROUTE_SUBMIT]

    with mw.Client(base_url=loopback_hub.url) as client:
        runs = History(history.folder).resume(client=client)

    assert sorted(run.run_id for run in runs) == sorted(tasks)
    assert {run.run_id: run.task_id for run in runs} == tasks
    assert [run.status for run in runs] == ["completed", "completed"]
    assert loopback_hub.stats.requests[ROUTE_SUBMIT] == submits  # polled, never sent again
    reread = History(history.folder)
    assert reread.pending() == []
    for run_id in tasks:
        entry = reread.get(run_id)
        assert entry.status == "completed"
        assert entry.files and all((history.folder / name).is_file() for name in entry.files)

    polls = loopback_hub.stats.requests[ROUTE_TASK]
    assert reread.resume() == []  # nothing left: nothing polled
    assert loopback_hub.stats.requests[ROUTE_TASK] == polls


def test_resume_refuses_what_is_not_a_client_before_polling(
    tmp_path: Path, loopback_hub: SimulatorServer
) -> None:
    history = History(tmp_path / "history")
    _crashed_run(history, loopback_hub, "kept", "kept for later")
    polls = loopback_hub.stats.requests[ROUTE_TASK]
    with pytest.raises(TypeError, match=r"client must be an mw\.AsyncClient"):
        history.resume(client="not a client")  # type: ignore[arg-type]
    assert loopback_hub.stats.requests[ROUTE_TASK] == polls
    assert [entry.run_id for entry in History(history.folder).pending()] == ["kept"]
