"""execute() and start() against real loopback endpoints: a closed port and a simulator server."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from mountsea_widgets import simulator
from mountsea_widgets._runner import Runner
from mountsea_widgets.client import AsyncClient
from mountsea_widgets.history import History
from mountsea_widgets.run import Run, execute, start
from tests.helpers.waiting import eventually


def test_an_unreachable_hub_is_an_error_not_a_lost_traceback() -> None:
    client = AsyncClient(base_url="http://127.0.0.1:9", max_retries=0, timeout=2)
    run = Run("nano-banana", {"prompt": "a red cube"}, clock=lambda: 5000.0)

    asyncio.run(execute(run, client, None, tick_s=0.001))

    assert run.status == "error"
    assert run.error is not None and "APIConnectionError" in run.error


def test_cancel_stops_polling_and_says_the_provider_may_still_bill(
    tmp_path: Path, runner: Runner
) -> None:
    with simulator.serve(speed=0.001) as hub:  # a task that would take hours
        client = AsyncClient(base_url=hub.url)
        history = History(tmp_path / "history")
        run = Run("nano-banana", {"prompt": "slow"})
        submitted = threading.Event()
        run.observe(lambda r: submitted.set() if r.task_id else None)
        future = start(run, client, history, runner=runner, tick_s=0.01)
        assert submitted.wait(timeout=20)

        assert run.cancel()
        assert run.wait(timeout=20)

    assert future.cancelled()
    assert run.status == "cancelled"
    assert run.error is not None and "may still finish (and bill)" in run.error
    assert run.task_id in run.error
    # The run shows "cancelled" at once; the task journals it as it stops, a moment later.
    eventually(lambda: history.get(run.run_id).status == "cancelled", what="journalled cancel")
    assert history.get(run.run_id).task_id == run.task_id
    assert not run.cancel()  # already final


def test_execute_refuses_a_blocking_client_and_generate_uses_its_twin(tmp_path: Path) -> None:
    import mountsea_widgets as mw
    from mountsea_widgets.client import Client

    with simulator.serve(speed=100) as hub:
        blocking = Client(base_url=hub.url)
        run = Run("nano-banana", {"prompt": "a red cube"}, clock=lambda: 5000.0)
        # execute() awaits every call: a blocking client there would lose the task it created.
        with pytest.raises(TypeError, match=r"client must be an mw\.AsyncClient"):
            asyncio.run(execute(run, blocking, None))  # type: ignore[arg-type]
        assert hub.stats.submitted == 0
        # The entry points launch through its async twin (same key, hub and options).
        result = mw.generate("nano-banana", "a red cube", client=blocking, history=False)
        assert result.status == "completed" and hub.stats.submitted == 1
        blocking.close()
