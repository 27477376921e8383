"""The fewest polls ANY schedule could make on the simulator's tasks and still meet the latency
targets: a lower bound to read the measured poll ratio against.

The simulator draws each task's duration uniformly within ±``JITTER`` of its model's typical
time and reports no progress, so a poll learns only "finished or not". A schedule is a list of
poll times; a task finishing at ``T`` costs one poll per planned time up to its first one at or
after ``T``, and its result is available that poll's time plus ``overhead_s`` (answer and
download) after ``T``. The targets ask that half the tasks have it within ``P50_S`` and 95 %
within ``P95_S``.

Minimising the expected polls under those two constraints is bounded below by its Lagrangian
dual: for multipliers ``λ50, λ95 >= 0``, ``min over schedules of E[polls] - λ50 P(within
P50_S) - λ95 P(within P95_S)``, plus ``λ50 0.5 + λ95 0.95``, is at most the constrained
minimum for every choice of multipliers. The inner minimum is exact by dynamic programming
over poll times on a ``STEP_S`` grid (so the bound is for schedules on that grid; finer ones
gain at most about one step of latency). Each task's chance of being covered only depends on
the last two polls, which makes the programme small: ``O(n x P95_S / STEP_S)``.

Two bounds: **each model** meeting both targets on its own tasks, and the **pooled** one the
benchmark measures (targets over all tasks of the four models together, where short models
may finish early to let long ones be late).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from mountsea_widgets.catalog import TYPICAL_SECONDS
from mountsea_widgets.simulator.latency import JITTER

P50_S = 0.150
P95_S = 0.400
FIXED_INTERVAL_S = 0.5
STEP_S = 0.01


@dataclass(frozen=True)
class Plan:
    """What the best schedule for some multipliers costs and covers (one model)."""

    polls: float
    within_p50: float
    within_p95: float

    def value(self, lam50: float, lam95: float) -> float:
        """The Lagrangian's inner value for these multipliers."""
        return self.polls - lam50 * self.within_p50 - lam95 * self.within_p95


def best_plan(typical_s: float, lam50: float, lam95: float, overhead_s: float) -> Plan:
    """The schedule minimising ``E[polls] - λ50 P(≤ P50_S) - λ95 P(≤ P95_S)`` for a model whose
    tasks take ``typical_s`` x U(1 - JITTER, 1 + JITTER) seconds."""
    start, end = typical_s * (1 - JITTER), typical_s * (1 + JITTER)
    n = max(1, round((end - start) / STEP_S))
    # Latency budgets in grid steps: a poll at q covers finishes in (q - budget, q].
    quick = max(0.0, (P50_S - overhead_s) / STEP_S)
    slow = max(0.0, (P95_S - overhead_s) / STEP_S)
    reach = math.floor(slow) + 1

    def reward(span: int) -> float:
        """What a poll ``span`` steps after the previous one covers, weighed (mass is 1/n)."""
        return (lam50 * min(span, quick) + lam95 * min(span, slow)) / n

    far_reward = reward(reach)
    # value[i]: the least "polls - rewards" still to come after a poll at grid point i.
    value = [0.0] * (n + 1)
    choice = [n] * (n + 1)
    suffix_min = [0.0] * (n + 2)  # min of value[j] for j >= index, with its argument
    suffix_arg = [n] * (n + 2)
    suffix_min[n + 1] = math.inf
    suffix_min[n], suffix_arg[n] = 0.0, n
    for i in range(n - 1, -1, -1):
        survival = 1 - i / n  # tasks still running after a poll at i pay for the next one
        best, arg = math.inf, n
        for q in range(i + 1, min(n, i + reach - 1) + 1):
            candidate = survival - reward(q - i) + value[q]
            if candidate < best:
                best, arg = candidate, q
        far = i + reach
        if far <= n and survival - far_reward + suffix_min[far] < best:
            best, arg = survival - far_reward + suffix_min[far], suffix_arg[far]
        value[i], choice[i] = best, arg
        if best <= suffix_min[i + 1]:
            suffix_min[i], suffix_arg[i] = best, i
        else:
            suffix_min[i], suffix_arg[i] = suffix_min[i + 1], suffix_arg[i + 1]
    # The first poll is always made (cost 1) and covers finishes since the window opened.
    first = min(range(n + 1), key=lambda q: 1 - reward(q) + value[q])
    polls, within_p50, within_p95 = 1.0, 0.0, 0.0
    previous, at = 0, first
    while True:
        span = at - previous
        within_p50 += min(span, quick) / n
        within_p95 += min(span, slow) / n
        if at >= n:
            break
        polls += 1 - at / n
        previous, at = at, choice[at]
    return Plan(polls, min(within_p50, 1.0), min(within_p95, 1.0))


def fixed_polls(typical_s: float) -> float:
    """Expected polls of a fixed ``FIXED_INTERVAL_S`` poller on the model's tasks."""
    start, end = typical_s * (1 - JITTER), typical_s * (1 + JITTER)
    samples = 20_000
    return (
        sum(
            math.ceil((start + (end - start) * (k + 0.5) / samples) / FIXED_INTERVAL_S)
            for k in range(samples)
        )
        / samples
    )


def _dual(typicals: Sequence[float], overhead_s: float, lam50: float, lam95: float) -> float:
    plans = [best_plan(t, lam50, lam95, overhead_s) for t in typicals]
    return sum(p.value(lam50, lam95) for p in plans) + len(typicals) * (lam50 * 0.5 + lam95 * 0.95)


def _maximise(typicals: Sequence[float], overhead_s: float) -> float:
    """Best dual value over the multipliers: a coarse grid, then refined around its best."""
    best, at = -math.inf, (0.0, 0.0)
    for lam50 in range(0, 61, 6):
        for lam95 in range(0, 101, 10):
            found = _dual(typicals, overhead_s, lam50, lam95)
            if found > best:
                best, at = found, (float(lam50), float(lam95))
    step50, step95 = 3.0, 5.0
    for _ in range(4):
        centre = at
        for d50 in (-step50, 0.0, step50):
            for d95 in (-step95, 0.0, step95):
                lam = (max(0.0, centre[0] + d50), max(0.0, centre[1] + d95))
                if lam == centre:
                    continue
                found = _dual(typicals, overhead_s, *lam)
                if found > best:
                    best, at = found, lam
        step50, step95 = step50 / 2, step95 / 2
    return best


@dataclass(frozen=True)
class Bound:
    """Lower bounds on (adaptive polls / fixed 0.5 s poller's polls) on the simulator's law."""

    each_model: float
    pooled: float


def poll_ratio_bound(overhead_s: float, models: Sequence[str]) -> Bound:
    """The two lower bounds when answers and downloads take ``overhead_s`` after a poll."""
    typicals = [TYPICAL_SECONDS[m] for m in models]
    fixed = sum(fixed_polls(t) for t in typicals)
    each = sum(_maximise([t], overhead_s) for t in typicals)
    pooled = _maximise(typicals, overhead_s)
    return Bound(each_model=each / fixed, pooled=pooled / fixed)
