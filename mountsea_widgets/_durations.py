"""How long a task of each model takes: the one home of every expected duration.

Three things decide it, in this order:

1. the catalog's estimate per model (:func:`estimate`, from the hub's documentation);
2. the target's speed: the embedded offline simulator runs its tasks ``speed`` times faster than
   the real hub, so its estimate is divided by it (the simulator draws its tasks' durations
   around the same number);
3. what a history measured: once it holds completed runs of a model whose median is within
   :data:`LEARNED_RANGE` of the estimate, that median replaces it (:func:`learned_durations`),
   and once it holds :data:`MIN_WINDOW_RUNS` of them, the window they finished in
   (:func:`learned_windows`) shapes the poll schedule.

:func:`expected_durations` gives all of it for one target. The client's poll schedule, a run's
progress bar (``Run.expected_s``) and the Studio's model list read the same numbers.
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING

from .catalog import TYPICAL_SECONDS

if TYPE_CHECKING:
    from .history import History

#: Expected seconds for a model the catalog has no estimate for.
FALLBACK_SECONDS = 10.0
#: A measured median further than this factor from the estimate is not trusted for polling
#: (a history shared between a fast simulator and the real hub, or a handful of odd runs).
LEARNED_RANGE = 4.0
#: Runs of a model the history must hold before its finish window is learned from them.
MIN_WINDOW_RUNS = 8
#: Share of the measured durations left out at either end of a learned window (odd runs).
WINDOW_TRIM = 0.02


def estimate(model: str | None, speed: float = 1.0) -> float:
    """The catalog's expected seconds for ``model`` on a target ``speed`` times the hub's."""
    return TYPICAL_SECONDS.get(model or "", FALLBACK_SECONDS) / speed


def estimates(speed: float = 1.0) -> dict[str, float]:
    """:func:`estimate` for every model the catalog knows (empty at the real hub's speed,
    where the catalog's own numbers apply)."""
    if speed == 1.0:
        return {}
    return {model: estimate(model, speed) for model in TYPICAL_SECONDS}


def expected_durations(history: History | None, speed: float = 1.0) -> dict[str, float]:
    """Expected seconds per model for a target at ``speed``: estimates, refined by ``history``."""
    return {**estimates(speed), **learned_durations(history, speed)}


def learned_durations(history: History | None, speed: float = 1.0) -> dict[str, float]:
    """Median measured seconds per model from ``history`` (models it has completed runs of).

    A value more than :data:`LEARNED_RANGE` times off the catalog's estimate at ``speed`` is
    left out; so is everything when the history cannot be read (polling then uses estimates).
    """
    return median_durations(trusted_durations(history, speed))


def median_durations(trusted: dict[str, list[float]]) -> dict[str, float]:
    """The median of each model's trusted durations."""
    return {model: statistics.median(durations) for model, durations in trusted.items()}


def learned_windows(history: History | None, speed: float = 1.0) -> dict[str, tuple[float, float]]:
    """Per model, (earliest, latest) seconds in which its tasks finish, from ``history``.

    Learned once the history holds :data:`MIN_WINDOW_RUNS` trusted durations of the model: the
    range of the recent ones (the odd :data:`WINDOW_TRIM` at either end left out), widened by
    one average spacing between them on each side, where the next run's duration most likely
    falls when it is outside what was seen.
    """
    return finish_windows(trusted_durations(history, speed))


def finish_windows(trusted: dict[str, list[float]]) -> dict[str, tuple[float, float]]:
    """:func:`learned_windows` from already trusted durations (the history is read once)."""
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
    for model in TYPICAL_SECONDS:
        try:
            durations = history.recent_durations(model)
        except Exception:  # an unreadable history must never stop a client being made
            return {}
        if not durations:
            continue
        measured = statistics.median(durations)
        expected = estimate(model, speed)
        if measured and expected / LEARNED_RANGE <= measured <= expected * LEARNED_RANGE:
            trusted[model] = [float(d) for d in durations]
    return trusted


def about(seconds: float) -> str:
    """``seconds`` as a person reads an expected duration: "~0.4 s", "~3 s", "~2 min"."""
    if seconds < 0.95:
        return f"~{max(seconds, 0.1):.1f} s"
    if seconds < 99.5:
        return f"~{seconds:.0f} s"
    return f"~{seconds / 60:.0f} min"
