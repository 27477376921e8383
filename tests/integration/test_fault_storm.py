"""A fault storm: 200+ runs over real loopback HTTP while the simulator fails about a fifth of
everything (5xx, 429 with Retry-After, dropped connections, malformed JSON, failed and timed-out
tasks, every image URL answering 404 once).

The runs are driven the way the product drives them: a 200-cell comparison (bounded
concurrency, a History) and a Studio clicked thirty times. Whatever happens, each run must end
with its images or a typed error that its cell shows; every task the hub created must be in the
history; and nothing may go unreported (no "Task exception was never retrieved", no loop
exception handler call, no runner failure, no warning logged).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import mountsea_widgets as mw
from mountsea_widgets import errors, simulator
from mountsea_widgets._runner import Runner
from mountsea_widgets.client import AsyncClient
from mountsea_widgets.comparison import Comparison, plan
from mountsea_widgets.history import History
from mountsea_widgets.run import Run, run_from_entry, start
from mountsea_widgets.widgets.studio import Studio
from tests.helpers.studios import ask_rows, card_thumbs, record_of
from tests.helpers.views import send
from tests.helpers.waiting import short_sleep

pytestmark = pytest.mark.timeout(120)

SPEED = 200.0
RUNS = 200
STUDIO_RUNS = 30
MODEL = "nano-banana-2"
SMALL = {"resolution": "0.5K", "output_format": "jpeg"}
#: Roughly a fifth of all requests and tasks go wrong, each kind reproducibly (seeded).
FAULTS = simulator.Faults(
    submit_5xx=0.04,
    poll_5xx=0.04,
    rate_limit=0.04,
    retry_after=0.05,
    drop=0.03,
    malformed=0.04,
    task_failed=0.03,
    task_timeout=0.02,
    image_404_first=1,
    seed=11,
)
#: The statuses a run may end in, and the error class names its message may start with.
ENDINGS = {"completed", "failed", "timeout", "error"}
ERROR_NAMES = {
    name
    for name, value in vars(errors).items()
    if isinstance(value, type) and issubclass(value, errors.MountseaError)
}


class Unreported:
    """Everything that would otherwise be lost: loop exception-handler calls and log records."""

    def __init__(self, runner: Runner) -> None:
        self.contexts: list[dict[str, Any]] = []
        runner.loop.set_exception_handler(lambda _loop, context: self.contexts.append(context))


@pytest.fixture
def storm_hub() -> Iterator[simulator.SimulatorServer]:
    with simulator.serve(speed=SPEED, faults=FAULTS) as server:
        yield server


def _typed(error: str | None) -> bool:
    """True when a run's error text starts with one of our exception class names."""
    if not error:
        return False
    match = re.match(r"^(\w+): ", error)
    return match is not None and match.group(1) in ERROR_NAMES


def _check_accounting(hub: simulator.SimulatorServer, history: History, runs: int) -> None:
    entries = history.entries()
    assert len(entries) == runs
    recorded = {entry.task_id for entry in entries if entry.task_id is not None}
    created = set(hub.hub.task_ids)
    # Every task the hub created (and may bill) is in the history, and nothing else is.
    assert created - recorded == set()
    assert recorded - created == set()
    for entry in entries:
        if entry.task_id is None:
            continue
        ending = hub.hub.task(entry.task_id).ending
        if entry.status == "completed":
            assert ending == "completed" and entry.files and all(f.is_file() for f in entry.files)
        elif entry.status in ("failed", "timeout"):
            assert ending == entry.status  # the hub's verdict, not a guess
    assert hub.stats.rejections == 0


def test_two_hundred_runs_in_a_comparison_survive_the_storm(
    storm_hub: simulator.SimulatorServer,
    runner: Runner,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    unreported = Unreported(runner)
    history = History(tmp_path / "history")
    layout = plan("a storm over the sea", models=[MODEL], seeds=list(range(RUNS)), params=SMALL)
    client = AsyncClient(base_url=storm_hub.url, sleep=short_sleep)
    comparison = Comparison(layout, client=client, concurrency=16, history=history)
    grid = comparison.widget  # built before the start: every update reaches the cells
    comparison.start(runner=runner)
    comparison.wait(90)
    runner.run(client.aclose())

    statuses = [cell.status for cell in comparison.cells]
    assert set(statuses) <= ENDINGS, set(statuses)
    # The storm really happened: every kind of fault fired, and some runs still completed.
    fired = storm_hub.stats.faults
    for kind in ("submit_5xx", "poll_5xx", "rate_limit", "drop", "malformed", "image_404_first"):
        assert fired[kind] > 0, kind
    assert fired["task_failed"] > 0 and fired["task_timeout"] > 0
    assert statuses.count("completed") > RUNS // 2
    assert {"failed", "timeout", "error"} <= set(statuses)

    grid.flush()
    for index, cell in enumerate(comparison.cells):
        shown = grid.record(grid.index(0, index))
        assert grid.cells[index] == shown  # the synced state holds what the page shows
        assert cell.status == shown["status"]
        if cell.status == "completed":
            assert cell.image_bytes and shown["thumb"] and grid.thumbnail(index)
            assert cell.error is None
        else:
            assert _typed(cell.error), cell.error
            assert not cell.image_bytes
            # The message in the cell is the error text (the page writes it as text).
            first_words = cell.error.split(":")[0]
            assert first_words in shown["message"]
    _check_accounting(storm_hub, history, RUNS)

    gc.collect()  # "Task exception was never retrieved" is reported when a task is collected
    runner.run(asyncio.sleep(0))
    assert unreported.contexts == []
    assert list(runner.failures) == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_a_studio_clicked_thirty_times_in_the_storm(
    storm_hub: simulator.SimulatorServer,
    runner: Runner,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    unreported = Unreported(runner)
    history = History(tmp_path / "history")
    client = AsyncClient(base_url=storm_hub.url, sleep=short_sleep)
    studio = Studio(MODEL, client=client, history=history, runner=runner, past_runs=0)
    studio.form.controls["prompt"].set("thirty lighthouses")
    for name, value in SMALL.items():
        assert studio.form.controls[name].set(value)
    runs = [studio.generate() for _ in range(STUDIO_RUNS)]
    assert studio.wait_idle(60)
    runner.run(client.aclose())

    assert len(studio.cards) == STUDIO_RUNS == studio.run_count
    rows = {row.record["id"]: row for row in ask_rows(studio, 0, STUDIO_RUNS)}
    for run, cell in zip(reversed(runs), studio.cards, strict=True):
        assert cell.run is run
        assert run.status in ENDINGS
        row = rows[run.run_id]
        assert row.record["status"] == run.status
        if run.status == "completed":
            images = len(run.result.image_bytes)  # type: ignore[union-attr]
            assert row.record["images"] == len(row.thumbs) == images > 0
            assert all(row.thumbs) and row.record["error"] == ""
        else:
            assert _typed(run.error), run.error
            assert run.error is not None and run.error.split(":")[0] in row.record["error"]
        if run.task_id is not None:
            assert row.record["task"] == run.task_id
    _check_accounting(storm_hub, history, STUDIO_RUNS)
    studio.close()

    gc.collect()
    runner.run(asyncio.sleep(0))
    assert unreported.contexts == []
    assert list(runner.failures) == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


# --- time: deadlines, the network going away --------------------------------------------------


class FakeTime:
    """The client's clock and sleep: sleeping moves the clock, nothing waits for real."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def test_default_deadline_is_ten_times_the_expected_time_and_at_least_ten_minutes() -> None:
    assert Run("nano-banana", {"prompt": "x"}).deadline_s == 600.0
    assert Run("gpt-image-2-edit", {"prompt": "x"}, expected_s=90.0).deadline_s == 900.0
    assert Run("nano-banana", {"prompt": "x"}, deadline_s=5).deadline_s == 5.0
    with pytest.raises(ValueError, match="deadline_s"):
        Run("nano-banana", {"prompt": "x"}, deadline_s=0)
    with pytest.raises(ValueError, match="deadline_s"):
        Studio("nano-banana", client=AsyncClient(base_url="http://hub.test"), deadline_s=-1)


def test_a_task_stuck_in_processing_ends_timeout_at_the_studio_deadline(
    runner: Runner, tmp_path: Path
) -> None:
    hub_clock = simulator.ManualClock()
    hub = simulator.Hub(clock=hub_clock, prerender=False)
    fake = FakeTime()

    async def sleep(seconds: float) -> None:
        if not fake.sleeps:
            hub_clock.advance(3.0)  # into "processing", and then the hub never moves again
        await fake.sleep(seconds)

    client = AsyncClient(
        base_url="http://hub.test",
        transport=simulator.transport(hub),
        sleep=sleep,
        clock=fake.clock,
    )
    history = History(tmp_path / "history")
    studio = Studio(
        "nano-banana-2", client=client, history=history, runner=runner, past_runs=0, deadline_s=45
    )
    studio.form.controls["prompt"].set("a ship that never arrives")
    seen: list[str] = []
    run = studio.generate()
    run.observe(lambda changed: seen.append(changed.status))
    assert studio.wait_idle(30)

    assert run.deadline_s == 45
    assert "processing" in seen
    assert run.status == "timeout"
    assert isinstance(run.exception, errors.TaskTimeoutError)
    assert run.task_id is not None and run.exception.task_id == run.task_id
    assert run.error is not None and run.error.startswith("TaskTimeoutError: ")
    assert "45 s" in run.error and run.task_id in run.error
    # The client stopped at the deadline: it never slept past it.
    assert 45.0 - 1e-6 <= fake.now - 1000.0 <= 45.0 + 1e-6
    record = record_of(studio, run)
    assert record["status"] == "timeout"
    assert "TaskTimeoutError" in record["error"]
    # The task may still finish (and bill): it stays pending in the history, and Resume polls
    # it again.
    entry = history.get(run.run_id)
    assert entry.is_pending and entry.task_id == run.task_id
    assert run.resumable and "resume" in record["actions"]
    assert hub.status_of(run.task_id) == "processing"  # the hub still thinks it is going
    studio.close()


def test_the_network_going_away_mid_poll_then_coming_back(
    runner: Runner, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mountsea_widgets.client")
    # The hub's clock stands still: its task cannot finish before the network goes away, however
    # slowly this machine runs the first poll.
    hub_clock = simulator.ManualClock()
    hub = simulator.Hub(clock=hub_clock)
    server = simulator.SimulatorServer(hub).start()
    port = server.port
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        if not sleeps:
            server.close()  # the network goes away between the submit and the first poll
        sleeps.append(seconds)
        await asyncio.sleep(min(seconds, 0.01))

    client = AsyncClient(base_url=server.url, sleep=sleep, max_retries=3)
    history = History(tmp_path / "history")
    studio = Studio("nano-banana", client=client, history=history, runner=runner, past_runs=0)
    studio.form.controls["prompt"].set("a message in a bottle")
    run = studio.generate()
    assert studio.wait_idle(30)

    # Retries first (one per allowed retry), then a clear, typed error naming the task.
    retries = [r for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == 3, [r.getMessage() for r in caplog.records]
    assert run.status == "error" and run.resumable
    assert isinstance(run.exception, errors.APIConnectionError)
    assert run.task_id is not None and run.task_id in hub.task_ids
    assert run.error is not None and run.error.startswith("APIConnectionError: ")
    assert f"Task {run.task_id} may still finish" in run.error and "Resume" in run.error
    # The history keeps the task pending: nothing is forgotten, it can be resumed.
    assert [entry.task_id for entry in history.pending()] == [run.task_id]
    record = record_of(studio, run)
    assert "resume" in record["actions"]
    assert "APIConnectionError" in record["error"]

    # The hub comes back on the same port, with its tasks (finished meanwhile); Resume polls
    # the same task again.
    hub_clock.advance(600.0)
    back = simulator.SimulatorServer(hub, port=port).start()
    try:
        submitted = hub.stats.submitted
        send(studio, "action", action="resume", run_id=run.run_id)
        run.wait(30)
        assert studio.wait_idle(30)
        assert run.status == "completed", run.error
        assert hub.stats.submitted == submitted  # resumed, never submitted twice
        assert run.result is not None and len(run.result.image_bytes) == 1
        assert len(card_thumbs(studio, run.run_id)) == 1
        assert "resume" not in record_of(studio, run)["actions"]
        entry = history.get(run.run_id)
        assert entry.status == "completed" and entry.files and history.pending() == []
    finally:
        studio.close()
        runner.run(client.aclose())
        back.close()


def test_a_lost_run_in_the_history_is_resumed_after_a_restart(
    runner: Runner, tmp_path: Path
) -> None:
    """The same pending entry, picked up from the journal the way a new session does."""
    # The hub's clock stands still: its task cannot finish before the network goes away, however
    # slowly this machine runs the first poll.
    hub_clock = simulator.ManualClock()
    hub = simulator.Hub(clock=hub_clock)
    server = simulator.SimulatorServer(hub).start()
    port = server.port
    closed: list[bool] = []

    async def sleep(seconds: float) -> None:
        if not closed:
            closed.append(True)
            server.close()
        await asyncio.sleep(min(seconds, 0.01))

    history = History(tmp_path / "history")
    first = AsyncClient(base_url=server.url, sleep=sleep)
    lost = Run("nano-banana", {"prompt": "kept across a restart"})
    start(lost, first, history, runner=runner).result(30)
    runner.run(first.aclose())
    assert lost.status == "error" and lost.resumable
    (pending,) = History(tmp_path / "history").pending()  # a fresh view of the same folder
    assert pending.task_id == lost.task_id

    hub_clock.advance(600.0)  # the task finished while the session was away
    back = simulator.SimulatorServer(hub, port=port).start()
    try:
        second = AsyncClient(base_url=back.url, sleep=short_sleep)
        again = run_from_entry(pending)
        assert again.status == "pending" and again.task_id == lost.task_id
        start(again, second, history, runner=runner).result(30)
        runner.run(second.aclose())
        assert again.status == "completed", again.error
        assert hub.stats.submitted == 1
        assert history.get(lost.run_id).status == "completed" and history.pending() == []
    finally:
        back.close()


def test_generate_records_its_run_and_raises_the_typed_error(tmp_path: Path) -> None:
    """mw.generate journals like a Studio run: the task id survives whatever happens."""
    history = History(tmp_path / "history")
    with simulator.serve(speed=SPEED, faults="task_failed=1.0") as failing:
        client = AsyncClient(base_url=failing.url, sleep=short_sleep)
        with pytest.raises(errors.TaskFailedError) as failed:
            mw.generate("nano-banana", "doomed", client=client, history=history)
    (entry,) = history.entries()
    assert entry.status == "failed" and entry.task_id == failed.value.task_id
    assert entry.task_id in failing.hub.task_ids

    with simulator.serve(speed=SPEED) as fine:
        client = AsyncClient(base_url=fine.url, sleep=short_sleep)
        result = mw.generate("nano-banana", "fine", client=client, history=history, seed=3)
    assert result.status == "completed" and result.input == {"prompt": "fine", "seed": 3}
    newest = history.entries()[0]
    assert newest.task_id == result.task_id and newest.status == "completed"
    assert [path.read_bytes()[:4] for path in newest.files] == [b"\x89PNG"]
