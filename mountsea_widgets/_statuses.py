"""Run statuses, and the one mapping from what a history journal says to what a run shows.

A run moves ``submitting`` → ``pending`` → ``processing`` → one of ``completed``, ``failed``,
``timeout``, ``cancelled`` or ``error``. The journal records fewer steps: a run is ``created``
when it starts, ``refused`` while the hub refused its last submit attempt (429, 503: nothing
accepted, safe to send again), ``created`` again once another attempt goes out, ``submitted``
once its task id is known, and then whatever status it finished with. :func:`run_status` is
the only place that turns the journal's words into a run's.
"""

from __future__ import annotations

#: Every status a run can have, in lifecycle order.
RUN_STATUSES = (
    "submitting",
    "pending",
    "processing",
    "completed",
    "failed",
    "timeout",
    "cancelled",
    "error",
    "interrupted",
)
#: Statuses after which nothing changes any more.
FINAL_STATUSES = frozenset({"completed", "failed", "timeout", "cancelled", "error", "interrupted"})

#: The journal's status of a run that has started but has no task id yet.
JOURNAL_CREATED = "created"
#: The journal's status of a run whose task id is known and that has not finished.
JOURNAL_SUBMITTED = "submitted"

#: The journal's status of a run whose last submit attempt the hub refused (429, 503) before
#: accepting anything: nothing was created, so it is safe to send again.
JOURNAL_REFUSED = "refused"

#: What a run found in the history without a task id, and never finished, means.
INTERRUPTED_MESSAGE = (
    "Interrupted — never reached the hub: the session ended before a task id came back, and "
    "the run was not submitted again. (Had the request arrived after all, the provider may "
    "have run and billed it; its task id is unknown.)"
)
#: What a run the hub had refused (and that was not sent again before the session ended) means.
REFUSED_MESSAGE = (
    "Not sent: the hub refused it for its limits, and the session ended before it was sent "
    "again. Nothing was accepted or charged; run it again (History.resume() or running the "
    "batch again sends it)."
)


def run_status(
    journal_status: str,
    *,
    task_id: str | None,
    finished: bool,
    submitting_elsewhere: bool = False,
) -> tuple[str, str | None]:
    """The run status for a journal entry, and the reason to show when the journal gives none.

    ``finished``: the journal holds the run's outcome. ``submitting_elsewhere``: another live
    session holds the run while it has no task id (it is submitting it right now).
    """
    if finished:
        if journal_status in FINAL_STATUSES:
            return journal_status, None
        return "error", f"ended {journal_status!r} (not a status this version knows)"
    if task_id is not None:
        return "pending", None  # submitted, never finished: can be resumed
    if submitting_elsewhere:
        return "submitting", None
    if journal_status == JOURNAL_REFUSED:
        return "interrupted", REFUSED_MESSAGE  # refused, never accepted: safe to send again
    return "interrupted", INTERRUPTED_MESSAGE  # the session ended while submitting
