"""A submit the hub refused (429, 503) is journalled as safe to send again until the next
attempt goes out; resuming sends such runs again, and never one whose request may have reached
the hub."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from mountsea_widgets import _submit_watch as submit_watch
from mountsea_widgets._resumption import run_for_entry, runs_to_resume
from mountsea_widgets._run_journal import ResendNotRecorded, RunJournal, SubmitRecords
from mountsea_widgets._statuses import INTERRUPTED_MESSAGE, REFUSED_MESSAGE, run_status
from mountsea_widgets.client import AsyncClient
from mountsea_widgets.errors import RateLimitError
from mountsea_widgets.history import STATUS_CREATED, STATUS_REFUSED, History
from mountsea_widgets.run import Run, execute

MODEL = "nano-banana"
INPUT = {"prompt": "a lighthouse"}


def _history(tmp_path: Path) -> History:
    return History(tmp_path / "history")


def _ops(history: History) -> list[str]:
    return [str(r.get("op")) for r in history._journal.read_all()]


# --- the journal's states --------------------------------------------------------------------


def test_a_refusal_makes_a_run_safe_to_resend_until_the_next_attempt_goes_out(
    tmp_path: Path,
) -> None:
    history = _history(tmp_path)
    history.start("r1", MODEL, INPUT)
    assert history.get("r1").status == STATUS_CREATED and not history.get("r1").is_refused
    history.refused("r1", 429)
    entry = history.get("r1")
    assert entry.status == STATUS_REFUSED and entry.is_refused and not entry.is_pending
    assert [e.run_id for e in history.refused_runs()] == ["r1"]
    history.sending("r1")  # the next attempt: it may reach the hub from now on
    assert history.get("r1").status == STATUS_CREATED and history.refused_runs() == []
    history.refused("r1", 503)
    assert history.get("r1").is_refused
    history.start("r1", MODEL, INPUT)  # sent again by a resumed session: not refused any more
    assert not history.get("r1").is_refused
    # Read back from the file by another process: the same states.
    again = History(history.folder)
    assert again.get("r1").status == STATUS_CREATED


def test_a_late_refusal_never_undoes_a_task_id_or_an_outcome(tmp_path: Path) -> None:
    history = _history(tmp_path)
    history.start("r1", MODEL, INPUT)
    history.submitted("r1", "task-1", MODEL)
    history.refused("r1", 429)
    assert history.get("r1").is_pending and not history.get("r1").is_refused
    history.start("r2", MODEL, INPUT)
    history.finished("r2", "error", "refused for good")
    history.refused("r2", 429)
    assert history.get("r2").status == "error" and history.refused_runs() == []


def test_a_refused_run_shows_it_was_not_sent_and_nothing_was_charged() -> None:
    assert run_status(STATUS_REFUSED, task_id=None, finished=False) == (
        "interrupted",
        REFUSED_MESSAGE,
    )
    assert run_status(STATUS_CREATED, task_id=None, finished=False) == (
        "interrupted",
        INTERRUPTED_MESSAGE,
    )
    assert "Nothing was accepted or charged" in REFUSED_MESSAGE


# --- the watcher that writes them -------------------------------------------------------------


def test_submit_records_write_one_refusal_per_row_and_sending_only_after_one(
    tmp_path: Path,
) -> None:
    history = _history(tmp_path)
    run = Run(MODEL, INPUT, run_id="r1")
    journal = RunJournal(run, history)
    journal.started()
    records = SubmitRecords(journal)
    records.sending()  # the first attempt: nothing to say (the start record said it)
    records.refused(429)
    records.refused(429)  # refused again before any other attempt: already said
    assert _ops(history) == ["start", "refused"]
    records.sending()
    records.sending()
    assert _ops(history) == ["start", "refused", "sending"]


def test_a_resend_that_cannot_be_journalled_is_not_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = _history(tmp_path)
    run = Run(MODEL, INPUT, run_id="r1")
    records = SubmitRecords(RunJournal(run, history))
    records.refused(429)

    def full_disk(run_id: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(history, "sending", full_disk)
    with pytest.raises(ResendNotRecorded, match="Nothing was accepted or charged"):
        records.sending()
    assert history.get("r1").is_refused  # still true: the attempt never went out
    assert any("no space left on device" in warning for warning in run.warnings)


# --- the client tells the watcher -----------------------------------------------------------


class Watcher:
    def __init__(self) -> None:
        self.events: list[str] = []

    def sending(self) -> None:
        self.events.append("sending")

    def refused(self, status_code: int | None) -> None:
        self.events.append(f"refused {status_code}")


def _scripted(answers: list[int]) -> tuple[AsyncClient, list[str]]:
    """A client on a scripted hub answering submits with ``answers`` (then accepting)."""
    seen: list[str] = []

    def hub(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        if answers:
            status = answers.pop(0)
            return httpx.Response(status, json={"error": "busy"}, headers={"Retry-After": "0"})
        return httpx.Response(200, json={"task_id": f"task-{len(seen)}"})

    client = AsyncClient(
        api_key="k",
        base_url="https://hub.test",
        transport=httpx.MockTransport(hub),
        sleep=lambda _seconds: None,
    )
    return client, seen


def test_the_client_says_each_refusal_before_waiting_and_each_attempt_before_sending() -> None:
    client, seen = _scripted([429, 503])
    watcher = Watcher()

    async def main() -> str:
        with submit_watch.watching(watcher):
            return await client.submit(MODEL, INPUT)

    assert asyncio.run(main()) == "task-3"
    assert watcher.events == [
        "sending",
        "refused 429",
        "sending",
        "refused 503",
        "sending",
    ]
    assert seen == ["POST"] * 3


def test_refusals_raised_leaves_the_wait_and_the_resend_to_the_caller() -> None:
    client, seen = _scripted([429])
    watcher = Watcher()

    async def main() -> None:
        with submit_watch.watching(watcher), submit_watch.refusals_raised():
            await client.submit(MODEL, INPUT)

    with pytest.raises(RateLimitError):
        asyncio.run(main())
    assert watcher.events == ["sending", "refused 429"] and seen == ["POST"]


def test_a_500_is_not_a_refusal() -> None:
    client, _seen = _scripted([500])
    watcher = Watcher()

    async def main() -> None:
        with submit_watch.watching(watcher):
            await client.submit(MODEL, INPUT)

    with pytest.raises(Exception, match="500"):
        asyncio.run(main())
    assert watcher.events == ["sending"]  # it may have created the task: never "refused"


# --- resuming --------------------------------------------------------------------------------


class CountingClient:
    """An async stand-in hub: counts submits, finishes every task as failed at once (no
    download needed)."""

    def __init__(self) -> None:
        self.submits: list[str] = []
        self.polled: list[str] = []

    async def submit(self, model: str, input: Any, **_: Any) -> str:
        self.submits.append(str(input["prompt"]))
        return f"task-{len(self.submits)}"

    async def wait(self, task_id: str, **_: Any) -> Any:
        from mountsea_widgets.errors import TaskFailedError

        self.polled.append(task_id)
        raise TaskFailedError(task_id, "failed", "simulated failure")

    def expected_seconds(self, model: str) -> float:
        return 1.0


def _journalled(history: History, run_id: str, *ops: str) -> None:
    history.start(run_id, MODEL, {"prompt": run_id})
    for op in ops:
        if op == "refused":
            history.refused(run_id, 429)
        elif op == "sending":
            history.sending(run_id)
        elif op == "submitted":
            history.submitted(run_id, f"old-{run_id}", MODEL)


def test_resuming_sends_refused_runs_again_and_never_one_that_may_have_reached_the_hub(
    tmp_path: Path,
) -> None:
    history = _history(tmp_path)
    _journalled(history, "refused", "refused")
    _journalled(history, "maybe-sent", "refused", "sending")  # killed with the body out
    _journalled(history, "never-answered")  # killed during its first attempt
    _journalled(history, "pending", "submitted")
    client = CountingClient()
    runs = runs_to_resume(history)
    assert sorted(run.run_id for run in runs) == ["pending", "refused"]

    async def main() -> None:
        await asyncio.gather(*(execute(run, client, history) for run in runs))  # type: ignore[arg-type]

    asyncio.run(main())
    assert client.submits == ["refused"]  # sent again, once
    assert client.polled == ["old-pending", "task-1"]  # the pending one polled, not sent
    assert history.get("refused").task_id == "task-1"
    assert history.get("maybe-sent").status == STATUS_CREATED
    assert history.get("never-answered").task_id is None


def test_a_studio_shows_a_refused_run_as_not_sent_and_does_not_send_it(tmp_path: Path) -> None:
    history = _history(tmp_path)
    _journalled(history, "refused", "refused")
    run, fresh = run_for_entry(history, history.get("refused"))
    assert not fresh and run.status == "interrupted" and run.error == REFUSED_MESSAGE


def test_a_run_whose_journal_changed_under_its_lease_is_not_sent(tmp_path: Path) -> None:
    """The journal is read again once the run's lease is held: a run adopted as refused that
    another session sent meanwhile (killed with the body out) ends interrupted, unsent."""
    history = _history(tmp_path)
    _journalled(history, "r1", "refused")
    run, fresh = run_for_entry(history, history.get("r1"), resend_refused=True)
    assert fresh and run.task_id is None
    history.sending("r1")  # another session went on with it, then died
    client = CountingClient()
    asyncio.run(execute(run, client, history))  # type: ignore[arg-type]
    assert client.submits == [] and run.status == "interrupted"
    assert run.error == INTERRUPTED_MESSAGE


def test_a_run_submitted_elsewhere_meanwhile_is_polled_not_sent(tmp_path: Path) -> None:
    history = _history(tmp_path)
    _journalled(history, "r1", "refused")
    run, _fresh = run_for_entry(history, history.get("r1"), resend_refused=True)
    history.sending("r1")
    history.submitted("r1", "task-elsewhere", MODEL)
    client = CountingClient()
    asyncio.run(execute(run, client, history))  # type: ignore[arg-type]
    assert client.submits == [] and client.polled == ["task-elsewhere"]
