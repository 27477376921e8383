"""Resuming runs: which run a history entry becomes, and carrying the pending ones on.

One policy for every place that opens a history (a Studio, a script's ``History.resume()``):

- a run alive in this process is that very run (it is shown, never started twice);
- a pending entry (a task id, no outcome) is adopted: rebuilt once per process, atomically, and
  the one that adopts it polls its task again (never submits it again);
- an entry the hub refused (429, 503) before accepting anything, whose session ended before
  sending it again, is sent again where the caller asks for it (``resend=True``: a batch run
  again, ``History.resume()``); a Studio shows it as not sent;
- an entry still being submitted by another live session says so and is left to it;
- anything else is rebuilt from the journal as it ended (a run whose request may have reached
  the hub without an answer is never sent again).

Each run is still carried out by one place only: :func:`~mountsea_widgets.run.execute` holds
its lease (see :mod:`mountsea_widgets.recovery`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import _recovery as recovery
from .catalog import catalog
from .run import Run, run_from_entry

if TYPE_CHECKING:
    from .history import History, HistoryEntry

#: Shown on a run that another live session is submitting right now.
SUBMITTING_ELSEWHERE = "Being submitted by another Python session (kernel) on this history."


def adopt(history: History, entry: HistoryEntry) -> tuple[Run, bool]:
    """The live run of ``entry`` and ``False``, or a new one rebuilt from it and ``True``.

    Atomic: when two Studios open at once in one kernel, exactly one gets ``True`` (and
    resumes the run); the other shows the same :class:`Run`.
    """
    candidate = run_from_entry(entry)
    live = recovery.register(history, candidate)
    return live, live is candidate


def resend(history: History, entry: HistoryEntry) -> tuple[Run, bool]:
    """A new run for a refused ``entry`` (same run id, model and input, no task id) and
    ``True``, or the live run of that id and ``False`` (atomic, as :func:`adopt`).

    The run's execution checks the journal again under its lease before anything is sent.
    """
    candidate = Run(
        entry.model, entry.input or {}, run_id=entry.run_id, unchecked=entry.unchecked or ()
    )
    live = recovery.register(history, candidate)
    return live, live is candidate


def run_for_entry(
    history: History, entry: HistoryEntry, *, resend_refused: bool = False
) -> tuple[Run, bool]:
    """The run to show for ``entry``, and whether the caller must start (resume) it.

    ``resend_refused``: a run the hub refused before accepting anything is made to be sent
    again (else it is shown as not sent).
    """
    live = recovery.live_run(history, entry.run_id)
    if live is not None:  # going (or kept) in this process: that very run
        return live, False
    if entry.is_pending and entry.model in catalog:
        return adopt(history, entry)
    refused = resend_refused and entry.is_refused and entry.model in catalog
    if refused and not recovery.held_elsewhere(history, entry.run_id):
        return resend(history, entry)
    # A pending run of a model this version does not know is shown read-only, never adopted:
    # its task stays pending in the journal (see run_from_entry).
    unfinished = entry.task_id is None and entry.finished is None
    if unfinished and recovery.held_elsewhere(history, entry.run_id):
        run = run_from_entry(entry, submitting_elsewhere=True)
        run.warnings = [SUBMITTING_ELSEWHERE]
        return run, False
    return run_from_entry(entry), False


def runs_to_resume(history: History) -> list[Run]:
    """The runs of ``history`` this process adopts now: the pending ones (it polls them) and
    the ones the hub refused before accepting anything (it sends them again)."""
    entries = [entry for entry in history.entries() if entry.is_pending or entry.is_refused]
    chosen = [run_for_entry(history, entry, resend_refused=True) for entry in entries]
    return [run for run, fresh in chosen if fresh]
