"""Pacing a batch's submits to the hub's limits.

A batch sends far more than a person does, so it meets the provider's limits. Its submits go
through a :class:`SubmitPacer`:

- **a learned rate (AIMD on submits per second)**: unpaced until the hub first refuses a
  submit; then submits go out evenly spaced at :data:`DECREASE` of the rate the hub was
  accepting (measured over the last :data:`RATE_WINDOW_S`), and the rate grows back by
  :data:`INCREASE_PER_S` submits/s every second while the hub accepts them. A provider's limit
  is a rate (a token bucket): spacing submits just under it keeps the batch at the limit,
  where halving the number of submits in flight (each of which also waits for the journal)
  left it well under;
- **adaptive concurrency**: at most ``limit`` submits at once, halved (down to 1) once per
  refusal episode, grown back by ``1/limit`` per accepted submit (up to the batch's
  ``concurrency``): a hub that limits tasks in flight is met too;
- **Retry-After honoured batch-wide**: after a refusal no submit of the batch goes out before
  the wait the hub asked for (a backoff when it named none), so waiting submits do not all come
  back at the same instant;
- **a refused submit is sent again**, by the pacer (the client raises the refusal at once
  instead of waiting it out itself, so every resend takes its turn): a 429 or a 503 proves that
  no task was created, so sending it again cannot pay twice. Anything else (a 500, a dropped
  connection) may have created the task and is reported, never resent.

A submit's turn is taken before its run is journalled as started (see :meth:`take`), so a
process killed while waiting for it leaves nothing "interrupted"; a run killed while waiting
out a refusal is journalled as refused, and sent again on resume.

Polls are paced by the client already (a 429 on a poll slows it down; see ``client``).
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import _submit_watch as submit_watch
from .._retry import SUBMIT_RETRY_STATUSES, RetryPolicy
from ..errors import APIError

#: How many times one submit is sent again after refusals before its run reports the error.
PACED_ATTEMPTS = 30
#: After a refusal, submits go out at this share of the rate the hub was accepting.
DECREASE = 0.95
#: While the hub accepts, the rate grows by this many submits per second, every second.
INCREASE_PER_S = 2.0
#: Seconds over which the rate the hub accepts is measured.
RATE_WINDOW_S = 1.0
#: The slowest a batch goes (submits per second), however often it is refused.
MIN_RATE = 0.2


@dataclass
class Ticket:
    """The right to send one submit now (taken before the run is journalled as started)."""

    held: bool = True
    #: When the submit was let go out (the pacer's clock).
    slot: float = 0.0


#: The ticket of the run being carried out in this task (set by the batch around ``execute``).
current_ticket: contextvars.ContextVar[Ticket | None] = contextvars.ContextVar(
    "mountsea_submit_ticket", default=None
)


def refused_before_creating(error: BaseException) -> bool:
    """True when ``error`` is an answer that proves the hub created no task (429, 503)."""
    return isinstance(error, APIError) and error.status_code in SUBMIT_RETRY_STATUSES


class SubmitPacer:
    """A learned rate, adaptive concurrency and a shared Retry-After for one batch's submits
    (see the module docstring)."""

    def __init__(
        self,
        ceiling: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        policy: RetryPolicy | None = None,
        attempts: int = PACED_ATTEMPTS,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.ceiling = max(1, int(ceiling))
        #: Submits allowed at once now (a float: it grows by fractions).
        self.limit = float(self.ceiling)
        #: The lowest the limit went (how hard the hub pushed back).
        self.lowest = self.limit
        #: Submits per second let out now (None: not paced, the hub never refused one).
        self.rate: float | None = None
        #: Submits the hub refused (and that were sent again).
        self.refusals = 0
        self.active = 0
        self.attempts = attempts
        self._not_before = 0.0
        self._next_slot = 0.0
        #: When the rate was last lowered: a refusal of a submit let out before then is of
        #: the same episode, and lowers nothing again.
        self._lowered_at = float("-inf")
        self._accepted: deque[float] = deque()
        self._clock = clock
        self._sleep = sleep
        self._policy = policy or RetryPolicy(cap_s=30.0)
        self._condition: asyncio.Condition | None = None

    def _cond(self) -> asyncio.Condition:
        if self._condition is None:  # made on the loop that uses it (the runner's)
            self._condition = asyncio.Condition()
        return self._condition

    def accepted_rate(self) -> float:
        """Submits per second the hub accepted over the last :data:`RATE_WINDOW_S`."""
        self._forget_old(self._clock())
        return len(self._accepted) / RATE_WINDOW_S

    async def take(self) -> Ticket:
        """Wait until a submit may go out (a free slot, its turn at the rate, the hub's
        Retry-After passed)."""
        condition = self._cond()
        async with condition:
            while self.active >= max(1, int(self.limit)):
                await condition.wait()
            self.active += 1
        try:
            slot = self._reserve()
            while True:
                delay = slot - self._clock()
                if delay > 0:
                    await self._sleep(delay)
                if self._not_before <= slot:
                    return Ticket(slot=slot)
                slot = self._reserve()  # a refusal came meanwhile: wait for what it asked
        except BaseException:
            async with condition:  # cancelled while waiting: the slot is free again
                self.active -= 1
                condition.notify_all()
            raise

    def _reserve(self) -> float:
        """The time the next submit goes out (evenly spaced at the rate, after Retry-After)."""
        slot = max(self._clock(), self._next_slot, self._not_before)
        self._next_slot = slot + (1.0 / self.rate if self.rate else 0.0)
        return slot

    async def give_back(self, ticket: Ticket, *, accepted: bool | None, wait: float = 0.0) -> None:
        """End ``ticket``'s submit: accepted, refused (``wait``: what the hub asked), or None
        (it failed otherwise, or never went out). Idempotent."""
        if ticket.held:
            ticket.held = False
            await self._leave(ticket, accepted=accepted, wait=wait)

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
                with submit_watch.refusals_raised():  # resent here, in its turn
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

    def _forget_old(self, now: float) -> None:
        while self._accepted and self._accepted[0] <= now - RATE_WINDOW_S:
            self._accepted.popleft()

    async def _leave(self, ticket: Ticket, *, accepted: bool | None, wait: float = 0.0) -> None:
        condition = self._cond()
        async with condition:
            self.active -= 1
            now = self._clock()
            if accepted is True:
                self._accepted.append(now)
                self._forget_old(now)
                self.limit = min(float(self.ceiling), self.limit + 1.0 / self.limit)
                if self.rate is not None:
                    self.rate += INCREASE_PER_S / self.rate  # +INCREASE_PER_S each second
            elif accepted is False:
                self.refusals += 1
                self._not_before = max(self._not_before, now + max(0.0, wait))
                # Once per episode: the first refusal of a submit let out after the last
                # lowering, and at most once a window (the refusals of one burst, and those
                # of the submits spaced at the old rate, say nothing new).
                if ticket.slot >= self._lowered_at and now - self._lowered_at >= RATE_WINDOW_S:
                    self._lower(now, wait)
            condition.notify_all()

    def _lower(self, now: float, wait: float) -> None:
        """Slow down after a refusal: the rate to just under what the hub accepted, the
        concurrency by half."""
        self._lowered_at = now
        self._forget_old(now)
        measured = len(self._accepted) / RATE_WINDOW_S
        if measured <= 0:  # refused before any was accepted: the hub's wait says its pace
            measured = 1.0 / max(wait, 1.0 / self.ceiling)
        base = measured if self.rate is None else min(measured, self.rate)
        if self.rate is not None:  # a slow second (the process was busy) halves it at most
            base = max(base, self.rate / 2)
        self.rate = max(MIN_RATE, DECREASE * base)
        # Evenly spaced from now on: the next slot at most one interval away.
        self._next_slot = min(self._next_slot, now + 1.0 / self.rate)
        self.limit = max(1.0, self.limit / 2)
        self.lowest = min(self.lowest, self.limit)


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
