"""Headless batches against the simulator on loopback: resuming (also after a real SIGKILL of
the process running the batch) with zero duplicate submits, changed specs, caps, datasets."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import mountsea_widgets as mw
from mountsea_widgets import _recovery as recovery
from mountsea_widgets import simulator
from mountsea_widgets.batches import (
    BATCH_FIELDS,
    METADATA_FIELDS,
    Batch,
    BatchRunningElsewhere,
    BatchSpecChanged,
    batch_file,
)
from mountsea_widgets.batches import _batch as batch_module
from mountsea_widgets.comparison import RECORD_FIELDS
from mountsea_widgets.history import History
from mountsea_widgets.simulator import SimulatorServer
from mountsea_widgets.simulator.hub import ROUTE_SUBMIT, ROUTE_TASK
from tests.helpers.simulated_client import FastClient

ROOT = Path(__file__).resolve().parents[2]
PROMPTS = ["a red cube", "a blue sphere", "a green cone"]


class GatedClock:
    """The simulator's clock: frozen (no task ever finishes) until :meth:`open`, then running."""

    def __init__(self) -> None:
        self._opened: float | None = None
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            if self._opened is None:
                return 1000.0
            return 1000.0 + (time.monotonic() - self._opened)

    def open(self) -> None:
        with self._lock:
            self._opened = time.monotonic()


@pytest.fixture
def loopback_hub() -> Iterator[SimulatorServer]:
    """A fresh fast simulator per test, so its counters are this test's alone."""
    with simulator.serve(speed=200) as server:
        yield server


def _client(hub: SimulatorServer) -> FastClient:
    return FastClient(base_url=hub.url)


def _prompts_sent(hub: SimulatorServer) -> Counter[str]:
    return Counter(str(hub.hub.task(task_id).input["prompt"]) for task_id in hub.hub.task_ids)


def _journal(folder: Path) -> list[dict[str, Any]]:
    path = folder / "journal.jsonl"
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue  # a line being written right now
    return records


# --- running and running again ------------------------------------------------------------------


def test_a_batch_returns_at_once_and_running_it_again_sends_nothing(
    loopback_hub: SimulatorServer, tmp_path: Path
) -> None:
    folder = tmp_path / "history"
    spec: dict[str, Any] = {"prompts": PROMPTS, "models": ["nano-banana", "gpt-image-2"]}
    job = mw.batch(**spec, client=_client(loopback_hub), history=folder)
    assert isinstance(job, Batch)
    assert job.wait(120) is job
    assert job.counts() == {"completed": 6}
    assert job.progress == (6, 6)
    assert loopback_hub.stats.requests[ROUTE_SUBMIT] == 6
    assert batch_file(History(folder), job.batch_id).is_file()
    first = {r["run_id"]: r["task_id"] for r in job.records()}
    assert all(run_id.startswith(f"{job.batch_id}-") for run_id in first)

    polls = loopback_hub.stats.requests[ROUTE_TASK]
    again = mw.batch(**spec, client=_client(loopback_hub), history=folder).wait(120)
    assert again.batch_id == job.batch_id  # derived from the same spec
    assert (len(again.new), len(again.resumed)) == (0, 0)
    assert again.counts() == {"completed": 6}
    assert {r["run_id"]: r["task_id"] for r in again.records()} == first
    assert loopback_hub.stats.requests[ROUTE_SUBMIT] == 6
    assert loopback_hub.stats.requests[ROUTE_TASK] == polls  # finished cells are not polled
    assert all(Path(r["file"]).is_file() for r in again.records())


def test_a_changed_spec_is_refused_naming_what_changed_unless_extended(
    loopback_hub: SimulatorServer, tmp_path: Path
) -> None:
    folder = tmp_path / "history"
    mw.batch(
        prompts=PROMPTS[:2],
        models=["nano-banana"],
        client=_client(loopback_hub),
        history=folder,
        batch_id="colours",
    ).wait(120)
    assert loopback_hub.stats.requests[ROUTE_SUBMIT] == 2

    with pytest.raises(BatchSpecChanged) as error:
        mw.batch(
            prompts=PROMPTS,
            models=["nano-banana", "gpt-image-2"],
            client=_client(loopback_hub),
            history=folder,
            batch_id="colours",
        )
    message = str(error.value)
    assert "batch 'colours' was started with another spec" in message
    assert "prompts: 'a green cone' added" in message
    assert "models: 'gpt-image-2' added" in message
    assert "extend=True" in message and "Nothing was sent" in message
    assert loopback_hub.stats.requests[ROUTE_SUBMIT] == 2

    grown = mw.batch(
        prompts=PROMPTS,
        models=["nano-banana", "gpt-image-2"],
        client=_client(loopback_hub),
        history=folder,
        batch_id="colours",
        extend=True,
    ).wait(120)
    assert len(grown.new) == 4  # 3 prompts × 2 models, of which 2 were done
    assert grown.counts() == {"completed": 6}
    assert loopback_hub.stats.requests[ROUTE_SUBMIT] == 6
    assert sorted(_prompts_sent(loopback_hub).values()) == [2, 2, 2]  # once per model


def test_a_cell_whose_submit_was_cut_short_is_interrupted_never_sent_again(
    loopback_hub: SimulatorServer, tmp_path: Path
) -> None:
    folder = tmp_path / "history"
    spec: dict[str, Any] = {"prompts": PROMPTS, "models": ["nano-banana"], "batch_id": "cut"}
    planned = mw.batch(**spec, client=_client(loopback_hub), history=folder, max_runs=0)
    assert planned.wait(60).counts() == {"cancelled": 3}
    assert all("max_runs=0 was reached" in (r["error"] or "") for r in planned.records())
    assert loopback_hub.stats.requests[ROUTE_SUBMIT] == 0
    # A process that died while submitting leaves a start record and no task id.
    cut = planned.records()[1]
    History(folder).start(cut["run_id"], "nano-banana", cut["params"])

    job = mw.batch(**spec, client=_client(loopback_hub), history=folder).wait(120)
    statuses = {r["prompt"]: r["status"] for r in job.records()}
    assert statuses == {
        "a red cube": "completed",
        "a blue sphere": "interrupted",
        "a green cone": "completed",
    }
    assert "a blue sphere" not in _prompts_sent(loopback_hub)
    assert loopback_hub.stats.requests[ROUTE_SUBMIT] == 2


def test_max_runs_sends_at_most_that_many_and_the_next_run_goes_on(
    loopback_hub: SimulatorServer, tmp_path: Path
) -> None:
    folder = tmp_path / "history"
    spec: dict[str, Any] = {"prompt": "a {animal}", "vary": {"animal": ["fox", "owl", "cat"]}}
    first = mw.batch(
        **spec, models=["nano-banana"], client=_client(loopback_hub), history=folder, max_runs=2
    ).wait(120)
    assert first.counts() == {"completed": 2, "cancelled": 1}
    assert "1 cancelled (1 not sent: max_runs=2; run it again to go on)" in first.summary()
    assert loopback_hub.stats.requests[ROUTE_SUBMIT] == 2
    rest = mw.batch(**spec, models=["nano-banana"], client=_client(loopback_hub), history=folder)
    assert rest.wait(120).counts() == {"completed": 3}
    assert loopback_hub.stats.requests[ROUTE_SUBMIT] == 3
    assert sorted(_prompts_sent(loopback_hub)) == ["a cat", "a fox", "a owl"]


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"history": False}, "a batch lives in the history"),
        ({"batch_id": "../escape"}, "batch_id must be 1 to 40 letters"),
        ({"max_runs": -1}, "max_runs must be an integer >= 0"),
        ({"concurrency": 0}, "concurrency must be an integer >= 1"),
    ],
)
def test_bad_batch_arguments_are_refused_before_anything_is_sent(
    loopback_hub: SimulatorServer, tmp_path: Path, kwargs: dict[str, Any], words: str
) -> None:
    options: dict[str, Any] = {"history": tmp_path / "history", **kwargs}
    with pytest.raises(ValueError) as error:
        mw.batch("a cat", models=["nano-banana"], client=_client(loopback_hub), **options)
    assert words in str(error.value)
    assert loopback_hub.stats.requests[ROUTE_SUBMIT] == 0


def test_the_summary_is_one_small_widget_and_only_the_latest_runs_keep_thumbnails(
    loopback_hub: SimulatorServer, tmp_path: Path
) -> None:
    from mountsea_widgets.widgets.batch_summary import BatchSummary

    job = mw.batch(
        prompts=[f"<b>bold</b> cube {i}" for i in range(6)],
        models=["nano-banana"],
        client=_client(loopback_hub),
        history=tmp_path / "history",
        batch_id="shown",
    )
    summary = job.widget  # built while the batch runs: it follows it
    assert isinstance(summary, BatchSummary)
    job.wait(120)
    assert summary.progress == {"done": 6, "total": 6}
    assert "6 of 6 done" in summary.text
    assert "batch shown" in summary.title
    shown = summary.latest_images()
    assert summary.images == 4
    assert len(shown) == 4 and all(image[:2] == b"\xff\xd8" for image in shown)
    assert not summary.running
    # Thumbnails are kept for the latest four runs only (thousands would fill the memory).
    assert sum(1 for cell in job.cells if cell.run and cell.run.thumbnails) == 4

    bundle = job._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "application/vnd.jupyter.widget-view+json" in data
    assert data["text/plain"] == "<Batch batch shown · 6 of 6 done>"
    static = job.summary_html()
    assert '<progress value="6" max="6">' in static and "<b>bold" not in static


def test_the_same_batch_asked_for_again_while_it_runs_is_that_very_batch(
    loopback_hub: SimulatorServer, tmp_path: Path
) -> None:
    spec: dict[str, Any] = {
        "prompts": [f"p{i}" for i in range(6)],
        "models": ["nano-banana"],
        "history": tmp_path / "history",
        "batch_id": "twice",
    }
    first = mw.batch(**spec, client=_client(loopback_hub))
    second = mw.batch(**spec, client=_client(loopback_hub))
    assert second is first or first.done  # had it finished already, the second sends nothing
    second.wait(120)
    first.wait(120)
    assert first.counts() == {"completed": 6} and second.counts() == {"completed": 6}
    assert loopback_hub.stats.requests[ROUTE_SUBMIT] == 6
    assert max(_prompts_sent(loopback_hub).values()) == 1


def test_a_run_carried_out_elsewhere_is_followed_then_polled_never_sent_again(
    loopback_hub: SimulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch_module, "FOLLOW_SECONDS", 0.02)
    folder = tmp_path / "history"
    spec: dict[str, Any] = {"prompts": PROMPTS, "models": ["nano-banana"], "batch_id": "shared"}
    planned = mw.batch(**spec, client=_client(loopback_hub), history=folder, max_runs=0).wait(60)
    taken = planned.records()[0]
    # Another session submitted this cell and is polling it (it holds the run's lease).
    with mw.Client(base_url=loopback_hub.url) as blocking:
        task_id = blocking.submit("nano-banana", taken["params"])
    history = History(folder)
    history.start(taken["run_id"], "nano-banana", taken["params"])
    history.submitted(taken["run_id"], task_id, "nano-banana")
    lease = recovery.acquire(history, taken["run_id"])
    assert lease is not None
    try:
        job = mw.batch(**spec, client=_client(loopback_hub), history=folder)
        others = [c for c in job.cells if c.run is not None and c.run.run_id != taken["run_id"]]
        deadline = time.monotonic() + 120
        while not all(c.done for c in others) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert all(c.status == "completed" for c in others)
        assert job.cell(0, 0).status not in ("completed", "interrupted")  # still followed
    finally:
        lease.release()  # that session stops: the batch polls the task itself
    job.wait(120)
    assert job.counts() == {"completed": 3}
    assert job.records()[0]["task_id"] == task_id
    assert loopback_hub.stats.requests[ROUTE_SUBMIT] == 3  # the manual submit and two cells
    assert max(_prompts_sent(loopback_hub).values()) == 1


# --- the dataset --------------------------------------------------------------------------------


def test_export_writes_an_imagefolder_dataset_and_a_csv(
    loopback_hub: SimulatorServer, tmp_path: Path
) -> None:
    job = mw.batch(
        "a {animal}",
        models=["nano-banana", "gpt-image-2"],
        vary={"animal": ["fox", "owl"], "quality": ["low"]},
        seeds=[5],
        client=_client(loopback_hub),
        history=tmp_path / "history",
    ).wait(120)
    # nano-banana has no quality: its cells are n/a; gpt-image-2 has no seed.
    assert job.counts() == {"completed": 2, "n/a": 2}
    out = job.export(tmp_path / "dataset")
    lines = [json.loads(line) for line in (out / "metadata.jsonl").read_text().splitlines()]
    assert len(lines) == 2
    for line in lines:
        assert tuple(line) == METADATA_FIELDS
        assert "/" not in line["file_name"] and (out / line["file_name"]).is_file()
        assert line["model"] == "gpt-image-2" and line["status"] == "completed"
        assert line["prompt"] in ("a fox", "a owl")
        assert json.loads(line["input"]) == {"prompt": line["prompt"], "quality": "low"}
        assert line["task_id"] in loopback_hub.hub.task_ids
        assert isinstance(line["seconds"], float)
        assert (line["param"], line["y_param"], line["y_value"]) == ("animal", "quality", "low")
    with (out / "records.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == (*RECORD_FIELDS, *BATCH_FIELDS)
    assert [row["status"] for row in rows] == ["n/a", "n/a", "completed", "completed"]
    # Exporting again finds the copies: no second copy of any image.
    before = sorted(os.listdir(out))
    job.export(out)
    assert sorted(os.listdir(out)) == before
    with pytest.raises(ValueError, match="outside the history folder"):
        job.export(tmp_path / "history" / "inside")


def test_records_are_plain_dicts_and_to_pandas_needs_pandas_only_when_called(
    loopback_hub: SimulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = mw.batch(
        "a cat", models=["nano-banana"], client=_client(loopback_hub), history=tmp_path / "h"
    ).wait(120)
    (record,) = job.records()
    assert json.loads(json.dumps(record)) == record
    assert tuple(record) == (*RECORD_FIELDS, *BATCH_FIELDS)
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if pandas were not installed
    with pytest.raises(ImportError, match="pip install pandas"):
        job.to_pandas()


# --- a real SIGKILL -----------------------------------------------------------------------------

_BATCH_SCRIPT = """
import sys
import mountsea_widgets as mw
from tests.helpers.simulated_client import FastClient

url, folder, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
job = mw.batch(
    prompts=[f"prompt number {i}" for i in range(count)],
    models=["nano-banana"],
    client=FastClient(base_url=url),
    history=folder,
    batch_id="killed",
    concurrency=4,
)
job.wait()
"""


def _wait_for(condition: Any, what: str, process: subprocess.Popen[bytes]) -> None:
    """Wait for ``condition()`` (an event, however long the machine takes, up to a bound)."""
    deadline = time.monotonic() + 120
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the batch process ended before {what}: {process.stderr!r}")
        if time.monotonic() > deadline:
            raise AssertionError(f"never saw {what}")
        time.sleep(0.02)


def test_after_a_sigkill_running_the_batch_again_completes_it_with_zero_duplicate_submits(
    tmp_path: Path,
) -> None:
    count = 12
    clock = GatedClock()  # frozen: the killed process's four tasks are still running
    folder = tmp_path / "history"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HOME": str(tmp_path / "home"),
        "MOUNTSEA_HISTORY_DIR": str(tmp_path / "standard-history"),
    }
    env.pop("MOUNTSEA_API_KEY", None)
    with simulator.serve(speed=200, clock=clock) as hub:
        process = subprocess.Popen(
            [sys.executable, "-c", _BATCH_SCRIPT, hub.url, str(folder), str(count)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:

            def four_submitted() -> bool:
                return sum(r.get("op") == "submitted" for r in _journal(folder)) == 4

            _wait_for(four_submitted, "four task ids in the journal", process)
            # Four slots, four tasks that cannot finish: the process is polling, not submitting.
            _wait_for(lambda: hub.stats.requests[ROUTE_TASK] >= 4, "polls", process)
            # While it runs, no other process may run the batch (cells could be sent twice).
            with pytest.raises(BatchRunningElsewhere, match="being run by another process"):
                mw.batch(
                    prompts=[f"prompt number {i}" for i in range(count)],
                    models=["nano-banana"],
                    client=FastClient(base_url=hub.url),
                    history=folder,
                    batch_id="killed",
                    concurrency=4,
                )
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        assert process.returncode == -signal.SIGKILL
        assert hub.stats.submitted == 4
        left = History(folder).pending()
        assert len(left) == 4
        pending_tasks = {entry.run_id: entry.task_id for entry in left}

        clock.open()  # the hub goes on: those four tasks finish, new ones can
        job = mw.batch(
            prompts=[f"prompt number {i}" for i in range(count)],
            models=["nano-banana"],
            client=FastClient(base_url=hub.url),
            history=folder,
            batch_id="killed",
            concurrency=4,
        ).wait(120)

        assert (len(job.resumed), len(job.new)) == (4, count - 4)
        assert job.counts() == {"completed": count}
        assert {c.run.run_id: c.run.task_id for c in job.resumed if c.run} == pending_tasks
        assert hub.stats.submitted == count
        assert hub.stats.requests[ROUTE_SUBMIT] == count
        sent = Counter(str(hub.hub.task(t).input["prompt"]) for t in hub.hub.task_ids)
        assert max(sent.values()) == 1 and len(sent) == count  # zero duplicate submits
        reread = History(folder)
        assert reread.pending() == []
        assert {e.status for e in reread.entries()} == {"completed"}
        assert len(reread) == count
