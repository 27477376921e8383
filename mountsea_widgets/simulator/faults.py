"""Injected faults: what can go wrong on the simulated hub, how often, reproducibly.

Each fault has a rate (a probability per request or per task) and every decision is drawn from
``seed``: the n-th roll of a fault kind always gives the same answer for the same seed, so a
failing test run can be replayed exactly.

Which faults happen *before* a task is created (a client may retry them without double-submitting):

===================  ============================================================================
``submit_5xx``       submit answers ``status_5xx`` (default 500); no task was created
``poll_5xx``         a task poll answers ``status_5xx``
``rate_limit``       submit or poll answers 429 with ``Retry-After: <retry_after>``; nothing created
``drop``             submit or poll: the connection is closed without a response; nothing created
``slow``             submit or poll: the response is delayed by ``slow_s`` real seconds
``malformed``        a task poll answers 200 with a body that is not valid JSON
===================  ============================================================================

Faults that happen *after* a task exists:

=====================  ==========================================================================
``drop_after_submit``  opt-in: the task IS created, then the connection is closed without a
                       response (tests that a client never submits the same request twice)
``task_failed``        the task ends ``failed`` (``error_code`` ``SIMULATED_FAILURE``)
``task_timeout``       the task ends ``timeout`` (``error_code`` ``TIMEOUT``)
``task_cancelled``     the task ends ``cancelled``
``image_404_first``    each image URL answers 404 the first N times it is fetched (an integer)
``url_ttl``            image URLs answer 410 Gone ``url_ttl`` seconds after the task completed
=====================  ==========================================================================

``server_error=R`` in :meth:`Faults.parse` is shorthand for ``submit_5xx=R,poll_5xx=R``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections import Counter
from dataclasses import dataclass

#: Fault kinds that are probabilities in [0, 1].
RATES = (
    "submit_5xx",
    "poll_5xx",
    "rate_limit",
    "drop",
    "drop_after_submit",
    "malformed",
    "slow",
    "task_failed",
    "task_timeout",
    "task_cancelled",
)
#: Short names accepted by :meth:`Faults.parse`, each standing for several keys.
ALIASES: dict[str, tuple[str, ...]] = {"server_error": ("submit_5xx", "poll_5xx")}


@dataclass(frozen=True)
class Faults:
    """Fault rates and settings; the default injects nothing. See the module docs for each key."""

    submit_5xx: float = 0.0
    poll_5xx: float = 0.0
    status_5xx: int = 500
    rate_limit: float = 0.0
    retry_after: float = 1.0
    drop: float = 0.0
    drop_after_submit: float = 0.0
    malformed: float = 0.0
    slow: float = 0.0
    slow_s: float = 2.0
    task_failed: float = 0.0
    task_timeout: float = 0.0
    task_cancelled: float = 0.0
    image_404_first: int = 0
    url_ttl: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        for name in RATES:
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"fault {name} must be a rate between 0 and 1, got {rate!r}")
        ending = self.task_failed + self.task_timeout + self.task_cancelled
        if ending > 1.0 + 1e-9:
            raise ValueError(
                f"task_failed + task_timeout + task_cancelled must be at most 1 (got {ending:g})"
            )
        if not 500 <= self.status_5xx <= 599:
            raise ValueError(f"status_5xx must be a 5xx status, got {self.status_5xx!r}")
        if self.image_404_first < 0:
            raise ValueError("image_404_first must be >= 0")
        if self.retry_after < 0 or self.slow_s < 0:
            raise ValueError("retry_after and slow_s must be >= 0")
        if self.url_ttl is not None and self.url_ttl < 0:
            raise ValueError("url_ttl must be >= 0")

    @classmethod
    def parse(cls, text: str | None) -> Faults:
        """Build from ``"key=value,key=value"``, e.g. ``"submit_5xx=0.1,rate_limit=0.05,seed=7"``.

        Unknown keys raise ``ValueError`` naming the key and listing the known ones.
        """
        values: dict[str, object] = {}
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for item in (text or "").replace(";", ",").split(","):
            item = item.strip()
            if not item:
                continue
            key, sep, raw = item.partition("=")
            key, raw = key.strip(), raw.strip()
            if not sep:
                raise ValueError(f"fault {item!r} needs a value, like {key}=0.1")
            names = ALIASES.get(key, (key,))
            for name in names:
                if name not in fields:
                    known = ", ".join([*fields, *ALIASES])
                    raise ValueError(f"unknown fault {key!r}; known: {known}")
                values[name] = _convert(name, raw)
        return cls(**values)  # type: ignore[arg-type]

    @classmethod
    def coerce(cls, faults: Faults | str | None) -> Faults:
        """Accept a :class:`Faults`, a ``parse`` string or ``None`` (no faults)."""
        if isinstance(faults, Faults):
            return faults
        return cls.parse(faults)

    def describe(self) -> str:
        """The non-default settings as a ``parse``-able string (empty when nothing is injected)."""
        default = Faults()
        parts = [
            f"{f.name}={getattr(self, f.name)}"
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        ]
        return ",".join(parts)


def _convert(name: str, raw: str) -> object:
    try:
        if name in ("seed", "status_5xx", "image_404_first"):
            return int(raw)
        if name == "url_ttl" and raw.lower() in ("", "none", "off"):
            return None
        return float(raw)
    except ValueError:
        raise ValueError(f"fault {name} needs a number, got {raw!r}") from None


class Dice:
    """Reproducible yes/no decisions: the n-th roll of each kind depends only on the seed."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._rolls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def unit(self, kind: str) -> float:
        """The next number in [0, 1) of the sequence for ``kind``."""
        with self._lock:
            number = self._rolls[kind]
            self._rolls[kind] += 1
        digest = hashlib.sha256(f"{self.seed}:{kind}:{number}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def roll(self, kind: str, rate: float) -> bool:
        """True with probability ``rate`` (no roll is consumed when the rate is 0)."""
        if rate <= 0.0:
            return False
        return self.unit(kind) < rate
