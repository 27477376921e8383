"""What one run writes to its history: one typed method per journal record.

A journal that cannot be written (a full disk, a read-only folder) never stops a run: the
problem is shown on the run as a warning, and the run goes on (its images stay in memory).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import MountseaError

if TYPE_CHECKING:
    from .history import History
    from .run import Run

log = logging.getLogger("mountsea_widgets.run")

_T = TypeVar("_T")

#: What each record holds, and what is missing from the history when it cannot be written.
_WHAT = {
    "start": "that this run started",
    "submitted": "this run's task id",
    "refused": "that the hub refused this run's submit",
    "sending": "that this run's submit is being sent again",
    "images": "this run's images",
    "finished": "how this run ended",
}
_CONSEQUENCE = {
    "start": "a later session will not list it",
    "submitted": "a later session cannot resume its task",
    "refused": "a later session will not send it again if this one stops",
    "sending": "it is not sent again (that could pay for it twice)",
    "images": "they are kept in memory only: save them before closing",
    "finished": "a later session may poll its task again (nothing is submitted twice)",
}


def _reason(error: Exception) -> str:
    """Why a write failed, in words (an OSError's own text, never its number or class)."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror[:1].lower() + error.strerror[1:]
    text = str(error).strip()
    return text[:200] if text else "an unexpected problem"


def run_cost(run: Run) -> dict[str, Any] | None:
    """``run``'s estimated cost as data, or None when it cannot be estimated."""
    from ._cost import estimate_input

    try:
        return estimate_input(run.model, run.input).to_dict()
    except Exception as exc:  # a broken price table must never stop a run
        log.info("run %s: no cost estimate: %s", run.run_id, exc)
        return None


class RunJournal:
    """The journal records of ``run`` in ``history`` (None: nothing is written)."""

    def __init__(self, run: Run, history: History | None) -> None:
        self.run = run
        self.history = history

    def started(self) -> None:
        """The run starts: its model and input, before anything is sent."""
        run, input = self.run, dict(self.run.input)
        cost = run_cost(run)
        if run.unchecked:  # only then: a history of an older release takes no such argument
            unchecked = list(run.unchecked)
            self._write(
                "start",
                lambda into: into.start(
                    run.run_id, run.model, input, run.started, cost, unchecked=unchecked
                ),
            )
            return
        self._write(
            "start", lambda into: into.start(run.run_id, run.model, input, run.started, cost)
        )

    def submitted(self, task_id: str) -> None:
        """The hub created ``task_id`` for the run (written before the first poll)."""
        run = self.run
        self._write("submitted", lambda history: history.submitted(run.run_id, task_id, run.model))

    def refused(self, status_code: int | None) -> bool:
        """The hub refused the run's submit before accepting anything (written before the
        wait); returns whether the record was written."""
        run_id = self.run.run_id
        return self._try("refused", lambda history: history.refused(run_id, status_code))[0]

    def sending(self) -> bool:
        """The refused submit goes out again (written before it does); returns whether the
        record was written."""
        run_id = self.run.run_id
        return self._try("sending", lambda history: history.sending(run_id))[0]

    def images(self, images: list[tuple[bytes, str]]) -> list[Path]:
        """Keep the run's ``(bytes, content type)`` images; returns the files written."""
        run_id = self.run.run_id
        return list(self._write("images", lambda history: history.images(run_id, images)) or [])

    def finished(
        self, status: str, error: str | None, elapsed_s: float, task_s: float | None = None
    ) -> None:
        """The run's outcome (``task_s``: the task's own time, for completed runs)."""
        run_id = self.run.run_id
        # The hub bills completed tasks only: only they carry what they are estimated to cost.
        cost = run_cost(self.run) if status == "completed" else None
        if task_s is None and cost is None:
            self._write(
                "finished", lambda history: history.finished(run_id, status, error, elapsed_s)
            )
        else:
            self._write(
                "finished",
                lambda history: history.finished(run_id, status, error, elapsed_s, task_s, cost),
            )

    def _write(self, record: str, write: Callable[[History], _T]) -> _T | None:
        return self._try(record, write)[1]

    def _try(self, record: str, write: Callable[[History], _T]) -> tuple[bool, _T | None]:
        """Write ``record``: (whether it is in the history now, what ``write`` returned)."""
        if self.history is None:
            return False, None
        try:
            return True, write(self.history)
        except Exception as exc:
            message = (
                f"The history could not record {_WHAT[record]} ({_reason(exc)}); the run goes "
                f"on, but {_CONSEQUENCE[record]}."
            )
            log.warning("run %s: %s", self.run.run_id, message)
            self.run.update(warnings=[*self.run.warnings, message])
            return False, None


class ResendNotRecorded(MountseaError):
    """A refused submit was not sent again: the history could not record that it goes out, so
    a later session would take it as never accepted and could pay for it twice."""


class SubmitRecords:
    """Journals one run's submit attempts (a :class:`~._submit_watch.SubmitWatcher`).

    The first refusal in a row writes ``refused`` (the run is safe to send again); the next
    attempt writes ``sending`` before it goes out (from then on it is not). When that record
    cannot be written the attempt is stopped: a journal still saying "refused" would let a
    later session send it a second time.
    """

    def __init__(self, journal: RunJournal) -> None:
        self.journal = journal
        #: Whether the history says "refused" now (its last record for the run).
        self.refused_now = False

    def refused(self, status_code: int | None) -> None:
        """The hub refused an attempt: say so (once per refusals in a row)."""
        if not self.refused_now:
            self.refused_now = self.journal.refused(status_code)

    def sending(self) -> None:
        """An attempt is about to go out: after a refusal, say so first (or stop it)."""
        if not self.refused_now:
            return
        if not self.journal.sending():
            raise ResendNotRecorded(
                "The hub had refused this run's submit for its limits, and it was not sent "
                "again: the history could not record that it was being sent, so a later "
                "session could have sent it twice. Nothing was accepted or charged; free the "
                "history's disk (or fix its folder) and run it again."
            )
        self.refused_now = False
