"""A provider's limits, emulated: a submit rate, a poll rate and a maximum of tasks in flight.

Beyond a limit the simulator answers 429 with a ``Retry-After`` saying when a request would be
accepted, as a rate-limited provider does; nothing is created by a refused submit. Rates are
token buckets on the hub's clock (so a manual clock moves them too), each holding one second's
worth of requests (at least one).

String form (``--limits`` on the command line): ``"submit_rate=20,poll_rate=100,max_tasks=50"``.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from .clock import Clock

#: The names the string form takes.
LIMIT_NAMES = ("submit_rate", "poll_rate", "max_tasks")


class TokenBucket:
    """``rate`` requests per second, in bursts of at most ``capacity``, on ``clock``."""

    def __init__(self, rate: float, clock: Clock, capacity: float | None = None) -> None:
        self.rate = float(rate)
        self.capacity = float(capacity if capacity is not None else max(1.0, self.rate))
        self._clock = clock
        self._tokens = self.capacity
        self._stamp = clock()
        self._lock = threading.Lock()

    def take(self) -> float:
        """Take one token: 0.0 when one was there, else the seconds until one will be."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0.0
            return (1.0 - self._tokens) / self.rate


@dataclass(frozen=True)
class Limits:
    """What a provider allows: submits and polls per second, and tasks in flight (None: no
    limit)."""

    submit_rate: float | None = None
    poll_rate: float | None = None
    max_tasks: int | None = None

    def __post_init__(self) -> None:
        for name in ("submit_rate", "poll_rate"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not value > 0):
                raise ValueError(f"{name} must be a positive number of requests per second")
        if self.max_tasks is not None and (
            isinstance(self.max_tasks, bool)
            or not isinstance(self.max_tasks, int)
            or self.max_tasks < 1
        ):
            raise ValueError(f"max_tasks must be an integer >= 1, got {self.max_tasks!r}")

    @classmethod
    def parse(cls, text: str) -> Limits:
        """Limits from their string form, e.g. ``"submit_rate=20,poll_rate=100"``."""
        values: dict[str, float | int] = {}
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            name, sep, value = part.partition("=")
            name = name.strip()
            if not sep or name not in LIMIT_NAMES:
                raise ValueError(
                    f"unknown limit {part!r}; write name=value with names {', '.join(LIMIT_NAMES)}"
                )
            try:
                values[name] = int(value) if name == "max_tasks" else float(value)
            except ValueError:
                raise ValueError(f"limit {name} needs a number, got {value!r}") from None
        return cls(**values)  # type: ignore[arg-type]

    @classmethod
    def coerce(cls, limits: Limits | str | None) -> Limits:
        """A :class:`Limits` from itself, its string form, or None (no limits)."""
        if limits is None:
            return cls()
        if isinstance(limits, str):
            return cls.parse(limits)
        if isinstance(limits, Limits):
            return limits
        raise TypeError(f"limits must be a Limits or its string form, got {type(limits).__name__}")

    def describe(self) -> str:
        """The string form ('' when nothing is limited)."""
        parts = [f"{name}={getattr(self, name):g}" for name in LIMIT_NAMES if getattr(self, name)]
        return ",".join(parts)


def retry_after_text(seconds: float) -> str:
    """A ``Retry-After`` value for a wait of ``seconds`` (rounded up to milliseconds)."""
    return f"{math.ceil(max(seconds, 0.001) * 1000) / 1000:g}"
