"""Retry rules for hub requests: what may be retried, and how long to wait before trying again.

The rule that matters most: a submit (``POST /hub/v1/image``) creates a billable task, so it is
retried only when the hub provably did not process it — the connection was never made (the
request was never sent), or the hub said 429 (rate limited) or 503 (unavailable). A read
timeout, a dropped connection or a 500/502/504 after the body went out may have created the
task, so retrying could pay for it twice; those are reported instead.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import httpx

#: Statuses after which a submit provably did not create a task.
SUBMIT_RETRY_STATUSES = frozenset({429, 503})
#: Statuses worth retrying for requests that change nothing (polls, downloads).
IDEMPOTENT_RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})

# Transport errors raised before a single byte of the request left this machine.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def never_sent(exc: BaseException) -> bool:
    """True when ``exc`` proves the request never reached the server (safe to resend a POST)."""
    return isinstance(exc, _NEVER_SENT)


@dataclass
class RetryPolicy:
    """Exponential backoff with jitter, bounded by ``max_retries`` extra attempts."""

    max_retries: int = 3
    base_s: float = 0.5
    cap_s: float = 8.0
    #: Longest ``Retry-After`` we sit through; a longer request raises the 429 at once.
    max_retry_after_s: float = 60.0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def backoff(self, attempt: int) -> float:
        """The wait before retry number ``attempt + 1``: ``base * 2**attempt`` with jitter.

        Jitter spreads clients that failed together so they do not come back together; the
        wait stays within [half, all] of the exponential step so it still grows.
        """
        step = min(self.cap_s, self.base_s * (2 ** max(attempt, 0)))
        return step / 2 + self.rng.random() * step / 2

    def may_retry_status(self, status_code: int, *, idempotent: bool) -> bool:
        """Whether an HTTP error status is worth another attempt for this kind of request."""
        if idempotent:
            return status_code in IDEMPOTENT_RETRY_STATUSES or 500 <= status_code < 600
        return status_code in SUBMIT_RETRY_STATUSES

    def may_retry_transport(self, exc: BaseException, *, idempotent: bool) -> bool:
        """Whether a transport error is worth another attempt for this kind of request."""
        if not isinstance(exc, httpx.TransportError):
            return False
        return idempotent or never_sent(exc)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 and seconds == seconds and seconds != float("inf") else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = now or datetime.now(timezone.utc)
    return max(0.0, (when - current).total_seconds())
