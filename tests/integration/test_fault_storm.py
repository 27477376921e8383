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

from mountsea_widgets import errors, simulator
from mountsea_widgets.client import AsyncClient
from mountsea_widgets.comparison import Comparison, plan
from mountsea_widgets.history import History
from mountsea_widgets.runner import Runner
from mountsea_widgets.widgets.studio import Studio

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


async def _short_sleep(seconds: float) -> None:
    """Backoffs and Retry-After waits, compressed: the hub runs 200x faster anyway."""
    await asyncio.sleep(min(seconds, 0.01))


class Unreported:
    """Everything that would otherwise be lost: loop exception-handler calls and log records."""

    def __init__(self, runner: Runner) -> None:
        self.contexts: list[dict[str, Any]] = []
        runner.loop.set_exception_handler(lambda _loop, context: self.contexts.append(context))


@pytest.fixture
def storm_hub() -> Iterator[simulator.SimulatorServer]:
    with simulator.serve(speed=SPEED, faults=FAULTS) as server:
        yield server


@pytest.fixture
def runner() -> Iterator[Runner]:
    made = Runner(name="storm-runner")
    yield made
    made.shutdown()


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
    client = AsyncClient(base_url=storm_hub.url, sleep=_short_sleep)
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

    for index, cell in enumerate(comparison.cells):
        shown = grid.cell(0, index)
        assert cell.status in shown.status_html.value
        if cell.status == "completed":
            assert cell.image_bytes and shown.image.value and shown.image.layout.display == ""
            assert cell.error is None
        else:
            assert _typed(cell.error), cell.error
            assert not cell.image_bytes
            # The message in the cell is the (escaped) error text.
            first_words = cell.error.split(":")[0]
            assert first_words in shown.message_html.value
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
    client = AsyncClient(base_url=storm_hub.url, sleep=_short_sleep)
    studio = Studio(MODEL, client=client, history=history, runner=runner, past_runs=0)
    studio.form.controls["prompt"].set("thirty lighthouses")
    for name, value in SMALL.items():
        assert studio.form.controls[name].set(value)
    runs = [studio.generate() for _ in range(STUDIO_RUNS)]
    assert studio.wait_idle(60)
    runner.run(client.aclose())

    assert len(studio.cells) == STUDIO_RUNS
    for run, cell in zip(reversed(runs), studio.cells, strict=True):
        assert cell.run is run
        assert run.status in ENDINGS
        assert f"mountsea-status-{run.status}" in cell._dom_classes
        assert run.status in cell.status.value
        if run.status == "completed":
            assert cell.gallery.count == len(run.result.image_bytes) > 0  # type: ignore[union-attr]
            assert cell.error.layout.display == "none"
        else:
            assert _typed(run.error), run.error
            assert cell.error.layout.display == ""
            assert run.error is not None and run.error.split(":")[0] in cell.error.value
        if run.task_id is not None:
            assert run.task_id in cell.header.value
    _check_accounting(storm_hub, history, STUDIO_RUNS)
    studio.close()

    gc.collect()
    runner.run(asyncio.sleep(0))
    assert unreported.contexts == []
    assert list(runner.failures) == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
