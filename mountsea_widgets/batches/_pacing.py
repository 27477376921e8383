"""Pacing a batch's submits to the hub's limits.

A batch sends far more than a person does, so it meets the provider's limits. Its submits go
through a :class:`SubmitPacer`:

- **adaptive concurrency (AIMD)**: at most ``limit`` submits at once; a refused submit halves
  the limit (down to 1), each accepted one grows it back by ``1/limit`` (up to the batch's
  ``concurrency``), so the batch settles just under what the hub accepts;
- **Retry-After honoured batch-wide**: after a refusal no submit of the batch goes out before
  the wait the hub asked for (a backoff when it named none), so waiting submits do not all come
  back at the same instant;
- **a refused submit is sent again**: a 429 or a 503 proves that no task was created (the
  client's own retry rules say so too), so sending it again cannot pay twice. Anything else
  (a 500, a dropped connection) may have created the task and is reported, never resent.

Polls are paced by the client already (a 429 on a poll slows it down; see ``client``).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .._retry import SUBMIT_RETRY_STATUSES, RetryPolicy
from ..errors import APIError

#: How many times one submit is sent again after refusals before its run reports the error.
PACED_ATTEMPTS = 30


@dataclass
class Ticket:
    """The right to send one submit now (taken before the run is journalled as started)."""

    held: bool = True


#: The ticket of the run being carried out in this task (set by the batch around ``execute``).
current_ticket: contextvars.ContextVar[Ticket | None] = contextvars.ContextVar(
    "mountsea_submit_ticket", default=None
)


def refused_before_creating(error: BaseException) -> bool:
    """True when ``error`` is an answer that proves the hub created no task (429, 503)."""
    return isinstance(error, APIError) and error.status_code in SUBMIT_RETRY_STATUSES


class SubmitPacer:
    """Adaptive concurrency and a shared Retry-After for one batch's submits (see module)."""

    def __init__(
        self,
        ceiling: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        policy: RetryPolicy | None = None,
        attempts: int = PACED_ATTEMPTS,
    ) -> None:
        self.ceiling = max(1, int(ceiling))
        #: Submits allowed at once now (a float: it grows by fractions).
        self.limit = float(self.ceiling)
        #: The lowest the limit went (how hard the hub pushed back).
        self.lowest = self.limit
        #: Submits the hub refused (and that were sent again).
        self.refusals = 0
        self.active = 0
        self.attempts = attempts
        self._not_before = 0.0
        self._clock = clock
        self._policy = policy or RetryPolicy(cap_s=30.0)
        self._condition: asyncio.Condition | None = None

    def _cond(self) -> asyncio.Condition:
        if self._condition is None:  # made on the loop that uses it (the runner's)
            self._condition = asyncio.Condition()
        return self._condition

    async def take(self) -> Ticket:
        """Wait until a submit may go out (a free slot, the hub's Retry-After passed)."""
        await self._enter()
        return Ticket()

    async def give_back(self, ticket: Ticket, *, accepted: bool | None, wait: float = 0.0) -> None:
        """End ``ticket``'s submit: accepted, refused (``wait``: what the hub asked), or None
        (it failed otherwise, or never went out). Idempotent."""
        if ticket.held:
            ticket.held = False
            await self._leave(accepted=accepted, wait=wait)

    async def submit(self, client: Any, model: str, input: Mapping[str, Any]) -> str:
        """``client.submit(model, input)``, paced; sent again while the hub refuses it.

        Uses the ticket the batch took for this run before journalling it (so a run is
        journalled as started only when its submit may go out), else takes one here.
        """
        ticket = current_ticket.get()
        if ticket is None or not ticket.held:
            ticket = await self.take()
        for attempt in range(self.attempts):
            if not ticket.held:
                ticket = await self.take()
            try:
                task_id: str = await client.submit(model, input)
            except BaseException as exc:
                refused = refused_before_creating(exc)
                wait = getattr(exc, "retry_after", None) if refused else None
                if refused and wait is None:
                    wait = self._policy.backoff(attempt)
                await self.give_back(ticket, accepted=False if refused else None, wait=wait or 0.0)
                if not refused or attempt == self.attempts - 1:
                    raise
                continue
            await self.give_back(ticket, accepted=True)
            return task_id
        raise AssertionError("unreachable: the last attempt raises")  # pragma: no cover

    async def _enter(self) -> None:
        condition = self._cond()
        async with condition:
            while True:
                delay = self._not_before - self._clock()
                if delay > 0:
                    with contextlib.suppress(asyncio.TimeoutError):  # the wait is over
                        await asyncio.wait_for(condition.wait(), delay)
                    continue
                if self.active < max(1, int(self.limit)):
                    self.active += 1
                    return
                await condition.wait()

    async def _leave(self, *, accepted: bool | None, wait: float = 0.0) -> None:
        condition = self._cond()
        async with condition:
            self.active -= 1
            if accepted is True:
                self.limit = min(float(self.ceiling), self.limit + 1.0 / self.limit)
            elif accepted is False:
                self.refusals += 1
                self.limit = max(1.0, self.limit / 2)
                self.lowest = min(self.lowest, self.limit)
                self._not_before = max(self._not_before, self._clock() + max(0.0, wait))
            condition.notify_all()


class PacedClient:
    """The client a batch sends with: submits go through the pacer, the rest is the client's."""

    def __init__(self, inner: Any, pacer: SubmitPacer) -> None:
        self.inner = inner
        self.pacer = pacer

    async def submit(self, model: str, input: Mapping[str, Any]) -> str:
        """Submit through the pacer (see :class:`SubmitPacer`)."""
        return await self.pacer.submit(self.inner, model, input)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
