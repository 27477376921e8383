"""A client's own cap on requests per second, shared by every request it makes.

Submits, polls and downloads alike take the next free slot: requests go out at least
``1 / rate`` seconds apart, however many runs share the client. A provider's 429s are still
honoured on top of it (see ``_base``); this cap keeps a large batch from causing them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


def check_rate(rate: object) -> None:
    """Refuse a cap that is not a number above 0, naming the parameter."""
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not rate > 0:
        raise ValueError(
            f"max_requests_per_second must be a number above 0 (or None: no cap), got {rate!r}"
        )


class RequestPace:
    """At most ``rate`` requests a second on ``clock``: :meth:`reserve` gives each its slot."""

    def __init__(self, rate: float, clock: Callable[[], float]) -> None:
        check_rate(rate)
        self.rate = float(rate)
        self._clock = clock
        self._next: float | None = None
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take the next slot; returns the seconds to wait before sending (0.0: at once)."""
        with self._lock:
            now = self._clock()
            start = now if self._next is None or self._next <= now else self._next
            self._next = start + 1.0 / self.rate
            return start - now
