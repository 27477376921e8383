"""How long a simulated task takes, and which status it shows at a given moment.

Durations start from the expected seconds per model at ``speed``
(:func:`~mountsea_widgets._durations.estimate`: the same numbers the client polls around) and get
a deterministic ±25% jitter drawn from a key (the hub seed and the task's number, so runs are
reproducible). A task shows ``pending`` for its first 15%, then ``processing`` until it ends.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .._durations import estimate

#: Share of a task's duration spent ``pending`` before it turns ``processing``.
PENDING_FRACTION = 0.15
#: Relative jitter around the typical duration (0.25 = ±25%).
JITTER = 0.25


def unit_from(key: str) -> float:
    """A number in [0, 1) that depends only on ``key``."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True)
class Latency:
    """The latency model; ``speed=10`` makes every task ten times faster."""

    speed: float = 1.0

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise ValueError(f"speed must be > 0, got {self.speed!r}")

    def duration(self, model: str, key: str) -> float:
        """Seconds from submission to the end of a task of ``model`` (jitter seeded by ``key``)."""
        jitter = 1.0 + JITTER * (2.0 * unit_from(key) - 1.0)
        return estimate(model, self.speed) * jitter

    @staticmethod
    def phase(now: float, start: float, duration: float) -> str:
        """``pending``, ``processing`` or ``done`` at clock time ``now`` for a task begun at
        ``start`` lasting ``duration`` (``done`` exactly from ``start + duration`` on)."""
        if now >= start + duration:
            return "done"
        if now - start < PENDING_FRACTION * duration:
            return "pending"
        return "processing"
