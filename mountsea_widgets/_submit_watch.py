"""What the caller of a submit hears about each attempt: sent, or refused before anything was
accepted.

A submit may take several attempts: the hub refuses one for its limits (429) or while it is
unavailable (503), and the client (or a batch's pacer) sends it again after a wait. Whoever
keeps the run's journal must know which side of that line a run is on when the process dies:

- after a refusal, nothing was accepted: the run is safe to send again;
- once the next attempt's request goes out, the hub may accept it: from then on the run must
  never be sent again unless a task id comes back.

The client tells the :class:`SubmitWatcher` of the current context (set with
:func:`watching`) just before each attempt goes out (:meth:`SubmitWatcher.sending`, which may
raise to stop the attempt) and after each refusal (:meth:`SubmitWatcher.refused`). A caller
that paces resends itself (a batch) asks, with :func:`refusals_raised`, to hear each refusal as
an error at once instead of the client waiting it out.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Protocol

__all__ = [
    "SubmitWatcher",
    "raise_refusals",
    "refusals_raised",
    "refused",
    "sending",
    "watching",
]


class SubmitWatcher(Protocol):
    """Hears about each attempt of one submit (see the module docstring)."""

    def sending(self) -> None:
        """An attempt's request is about to go out (raise to keep it from going)."""

    def refused(self, status_code: int | None) -> None:
        """The hub refused an attempt before accepting anything (``status_code``: 429, 503;
        None: the request never left this machine)."""


_watcher: contextvars.ContextVar[SubmitWatcher | None] = contextvars.ContextVar(
    "mountsea_submit_watcher", default=None
)
_raise_refusals: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "mountsea_submit_refusals_raised", default=False
)


@contextlib.contextmanager
def watching(watcher: SubmitWatcher) -> Iterator[None]:
    """Make ``watcher`` hear about the submits made in this context (task, thread)."""
    token = _watcher.set(watcher)
    try:
        yield
    finally:
        _watcher.reset(token)


@contextlib.contextmanager
def refusals_raised() -> Iterator[None]:
    """Submits made in this context raise a refusal (429, 503) at once: the caller waits and
    sends again itself."""
    token = _raise_refusals.set(True)
    try:
        yield
    finally:
        _raise_refusals.reset(token)


def sending() -> None:
    """Tell the current watcher an attempt is about to go out (the client calls this)."""
    watcher = _watcher.get()
    if watcher is not None:
        watcher.sending()


def refused(status_code: int | None) -> None:
    """Tell the current watcher the hub refused an attempt (the client calls this)."""
    watcher = _watcher.get()
    if watcher is not None:
        watcher.refused(status_code)


def raise_refusals() -> bool:
    """Whether the caller of a submit in this context resends refused attempts itself."""
    return _raise_refusals.get()
