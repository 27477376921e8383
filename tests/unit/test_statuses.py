"""The one mapping from a journal entry's status to a run's, and the typed journal records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mountsea_widgets._run_journal import RunJournal
from mountsea_widgets._statuses import (
    FINAL_STATUSES,
    INTERRUPTED_MESSAGE,
    JOURNAL_CREATED,
    JOURNAL_SUBMITTED,
    run_status,
)
from mountsea_widgets.history import STATUS_CREATED, STATUS_SUBMITTED, History
from mountsea_widgets.run import Run, run_from_entry


@pytest.mark.parametrize(
    ("journal", "task_id", "finished", "elsewhere", "expected"),
    [
        (JOURNAL_CREATED, None, False, False, ("interrupted", INTERRUPTED_MESSAGE)),
        (JOURNAL_CREATED, None, False, True, ("submitting", None)),
        (JOURNAL_SUBMITTED, "task-1", False, False, ("pending", None)),
        ("completed", "task-1", True, False, ("completed", None)),
        ("cancelled", None, True, False, ("cancelled", None)),
        (
            "exploded",
            "task-1",
            True,
            False,
            ("error", "ended 'exploded' (not a status this version knows)"),
        ),
    ],
)
def test_each_journal_state_maps_to_one_run_status(
    journal: str, task_id: str | None, finished: bool, elsewhere: bool, expected: Any
) -> None:
    got = run_status(journal, task_id=task_id, finished=finished, submitting_elsewhere=elsewhere)
    assert got == expected


def test_every_final_status_read_back_is_kept() -> None:
    for status in FINAL_STATUSES:
        assert run_status(status, task_id="t", finished=True) == (status, None)


def test_the_history_speaks_the_same_journal_words() -> None:
    assert (STATUS_CREATED, STATUS_SUBMITTED) == (JOURNAL_CREATED, JOURNAL_SUBMITTED)


def test_a_history_entry_becomes_the_run_the_mapping_says(tmp_path: Path) -> None:
    history = History(tmp_path / "history")
    history.start("never-sent", "nano-banana", {"prompt": "a"})
    history.start("sent", "nano-banana", {"prompt": "b"})
    history.submitted("sent", "task-9", "nano-banana")
    history.start("failed", "nano-banana", {"prompt": "c"})
    history.finished("failed", "failed", None, 1.5)
    runs = {entry.run_id: run_from_entry(entry) for entry in history.entries()}

    assert runs["never-sent"].status == "interrupted"
    assert runs["never-sent"].error == INTERRUPTED_MESSAGE
    assert (runs["sent"].status, runs["sent"].task_id) == ("pending", "task-9")
    assert not runs["sent"].done
    assert runs["failed"].status == "failed" and runs["failed"].done
    assert runs["failed"].elapsed_s == 1.5
    [entry] = [e for e in history.entries() if e.run_id == "never-sent"]
    elsewhere = run_from_entry(entry, submitting_elsewhere=True)
    assert elsewhere.status == "submitting" and not elsewhere.done


class FullDisk(History):
    """A history whose every write fails, as on a full disk."""

    def start(self, *args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    def submitted(self, *args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    def images(self, *args: Any, **kwargs: Any) -> list[Path]:
        raise OSError(28, "No space left on device")

    def finished(self, *args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")


def test_a_journal_that_cannot_be_written_becomes_a_warning_on_the_run(tmp_path: Path) -> None:
    run = Run("nano-banana", {"prompt": "a"})
    journal = RunJournal(run, FullDisk(tmp_path / "history"))
    journal.started()
    journal.submitted("task-1")
    assert journal.images([(b"png", "image/png")]) == []
    journal.finished("completed", None, 1.0, 0.5)
    assert run.warnings == [
        "The history could not record that this run started (no space left on device); the "
        "run goes on, but a later session will not list it.",
        "The history could not record this run's task id (no space left on device); the run "
        "goes on, but a later session cannot resume its task.",
        "The history could not record this run's images (no space left on device); the run "
        "goes on, but they are kept in memory only: save them before closing.",
        "The history could not record how this run ended (no space left on device); the run "
        "goes on, but a later session may poll its task again (nothing is submitted twice).",
    ]
    assert not any("OSError" in warning or "28" in warning for warning in run.warnings)


def test_the_typed_records_are_the_journal_a_history_reads_back(tmp_path: Path) -> None:
    history = History(tmp_path / "history")
    run = Run("nano-banana", {"prompt": "a"})
    journal = RunJournal(run, history)
    journal.started()
    journal.submitted("task-1")
    journal.finished("completed", None, 2.0, 1.25)
    entry = History(history.folder).get(run.run_id)
    assert (entry.task_id, entry.status, entry.elapsed_s) == ("task-1", "completed", 2.0)
    assert RunJournal(run, None).images([(b"x", "image/png")]) == []  # no history: nothing
    assert run.warnings == []
