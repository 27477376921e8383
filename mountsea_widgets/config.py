"""Configuration: which hub to talk to, with which key, and the offline default.

Resolution order, for every entry point (``mw.generate``, the Studio, comparisons, the magic):

1. ``api_key`` / ``base_url`` given explicitly;
2. the environment: ``MOUNTSEA_API_KEY``, ``MOUNTSEA_BASE_URL``;
3. neither a key nor a base URL → the embedded offline simulator, started on first use.

A key with no base URL means the real hub at :data:`DEFAULT_BASE_URL`.

Poll timing: a client polls each task around the time its model usually takes. That starts as
the catalog's estimate (divided by the embedded simulator's speed offline) and, given a
``history``, becomes the median the history measured for each model (:func:`learned_durations`),
and the window in which its tasks finish, once the history holds enough runs of it
(:func:`learned_windows`).
"""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .catalog import TYPICAL_SECONDS

if TYPE_CHECKING:
    from .history import History

DEFAULT_BASE_URL = "https://api.mountsea.ai"
OFFLINE_NOTICE = "offline simulator — set MOUNTSEA_API_KEY for real images"


@dataclass(frozen=True)
class Settings:
    """Where requests go. ``offline`` is True when the embedded simulator serves them.

    ``speed`` is how much faster than the real hub the target runs (the embedded simulator's
    speed; 1 for a real hub), so polling can follow the simulated durations.
    """

    api_key: str | None
    base_url: str
    offline: bool
    speed: float = 1.0

    def durations(self) -> dict[str, float]:
        """Expected seconds per model at this target's speed (for the client's poll timing)."""
        if self.speed == 1.0:
            return {}
        return {model: seconds / self.speed for model, seconds in TYPICAL_SECONDS.items()}

    def expected_durations(self, history: History | None = None) -> dict[str, float]:
        """Expected seconds per model: :meth:`durations`, refined by ``history``'s measurements."""
        return {**self.durations(), **learned_durations(history, self.speed)}

    def __repr__(self) -> str:
        key = "set" if self.api_key else "none"
        return f"Settings(base_url={self.base_url!r}, api_key={key}, offline={self.offline})"

    @property
    def label(self) -> str:
        """A short human description of the target, safe to show (never the key)."""
        return OFFLINE_NOTICE if self.offline else f"Mountsea hub at {self.base_url}"


def configured(
    api_key: str | None = None, base_url: str | None = None
) -> tuple[str | None, str | None]:
    """The key and base URL given, else the environment's; None for each that is not set.

    The one place the package reads ``MOUNTSEA_API_KEY`` and ``MOUNTSEA_BASE_URL``. An empty
    string means "not given", as an empty variable or a blank form field does: ``api_key=""``
    falls back to the environment, and with nothing configured the offline simulator answers
    (never a keyless request to the paid hub).
    """
    key = api_key or os.environ.get("MOUNTSEA_API_KEY") or None
    url = base_url or os.environ.get("MOUNTSEA_BASE_URL") or None
    return key, url


def settings(api_key: str | None = None, base_url: str | None = None) -> Settings:
    """Resolve the key and base URL; start the embedded simulator when neither is configured."""
    key, url = configured(api_key, base_url)
    if key is None and url is None:
        from .simulator import embedded

        hub = embedded()
        return Settings(api_key=None, base_url=hub.url, offline=True, speed=hub.hub.speed)
    return Settings(api_key=key, base_url=(url or DEFAULT_BASE_URL).rstrip("/"), offline=False)


#: A measured median further than this factor from the estimate is not trusted for polling
#: (a history shared between a fast simulator and the real hub, or a handful of odd runs).
LEARNED_RANGE = 4.0


def learned_durations(history: History | None, speed: float = 1.0) -> dict[str, float]:
    """Median measured seconds per model from ``history`` (models it has completed runs of).

    A value more than :data:`LEARNED_RANGE` times off the catalog's estimate at ``speed`` is
    left out; so is everything when the history cannot be read (polling then uses estimates).
    """
    return median_durations(trusted_durations(history, speed))


def median_durations(trusted: dict[str, list[float]]) -> dict[str, float]:
    return {model: statistics.median(durations) for model, durations in trusted.items()}


#: Runs of a model the history must hold before its finish window is learned from them.
MIN_WINDOW_RUNS = 8
#: Share of the measured durations left out at either end of a learned window (odd runs).
WINDOW_TRIM = 0.02


def learned_windows(history: History | None, speed: float = 1.0) -> dict[str, tuple[float, float]]:
    """Per model, (earliest, latest) seconds in which its tasks finish, from ``history``.

    Learned once the history holds :data:`MIN_WINDOW_RUNS` trusted durations of the model: the
    range of the recent ones (the odd :data:`WINDOW_TRIM` at either end left out), widened by
    one average spacing between them on each side, where the next run's duration most likely
    falls when it is outside what was seen.
    """
    return finish_windows(trusted_durations(history, speed))


def finish_windows(trusted: dict[str, list[float]]) -> dict[str, tuple[float, float]]:
    windows: dict[str, tuple[float, float]] = {}
    for model, durations in trusted.items():
        if len(durations) < MIN_WINDOW_RUNS:
            continue
        ordered = sorted(durations)
        trim = int(WINDOW_TRIM * len(ordered))
        earliest, latest = ordered[trim], ordered[len(ordered) - 1 - trim]
        margin = (latest - earliest) / len(ordered)
        windows[model] = (max(0.0, earliest - margin), latest + margin)
    return windows


def trusted_durations(history: History | None, speed: float) -> dict[str, list[float]]:
    """The recent measured durations per model whose median is within :data:`LEARNED_RANGE`
    of the catalog's estimate at ``speed`` (none when the history cannot be read)."""
    if history is None:
        return {}
    trusted: dict[str, list[float]] = {}
    for model, typical in TYPICAL_SECONDS.items():
        try:
            durations = history.recent_durations(model)
        except Exception:  # an unreadable history must never stop a client being made
            return {}
        if not durations:
            continue
        measured = statistics.median(durations)
        estimate = typical / speed
        if measured and estimate / LEARNED_RANGE <= measured <= estimate * LEARNED_RANGE:
            trusted[model] = [float(d) for d in durations]
    return trusted
