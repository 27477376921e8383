"""Clocks for the simulator: the real monotonic clock, or a manual one tests move by hand."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

#: A clock is any function returning seconds as a float (only differences matter).
Clock = Callable[[], float]

#: The clock used when none is injected.
monotonic: Clock = time.monotonic


class ManualClock:
    """A clock that only moves when told to: ``clock.advance(5)`` is five seconds later.

    Lets unit tests walk a task through pending → processing → completed without sleeping.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds`` and return the new time."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        with self._lock:
            self._now += seconds
            return self._now

    def sleep(self, seconds: float) -> None:
        """A ``time.sleep`` stand-in that advances this clock instead of waiting."""
        self.advance(max(0.0, seconds))
