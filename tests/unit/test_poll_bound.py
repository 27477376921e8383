"""The poll-count lower bound printed by the benchmark: its dynamic programme finds the best
schedule (checked against every schedule on a small grid), and the bound lies below what a
real schedule achieves on the same law."""

from __future__ import annotations

import itertools
import math

import pytest

from benchmarks import poll_bound
from benchmarks.poll_bound import Plan, best_plan, poll_ratio_bound
from mountsea_widgets._polling import PollSchedule
from mountsea_widgets.simulator.latency import JITTER


def _plan_of(polls_at: list[int], n: int, quick: float, slow: float) -> Plan:
    """Cost and coverage of polls at grid points ``polls_at`` (the last one at ``n``)."""
    polls, p50, p95, previous = 1.0, 0.0, 0.0, 0
    for index, at in enumerate(polls_at):
        span = at - previous
        p50 += min(span, quick) / n
        p95 += min(span, slow) / n
        if index:
            polls += 1 - previous / n
        previous = at
    return Plan(polls, p50, p95)


@pytest.mark.parametrize(("lam50", "lam95"), [(0.0, 0.0), (2.0, 5.0), (6.0, 20.0), (30.0, 2.0)])
def test_the_programme_finds_the_best_schedule_on_a_small_grid(
    monkeypatch: pytest.MonkeyPatch, lam50: float, lam95: float
) -> None:
    # A 0.12 s window on a 0.01 s grid (12 steps): every schedule can be tried.
    monkeypatch.setattr(poll_bound, "STEP_S", 0.01)
    typical = 0.12 / (2 * JITTER)
    overhead = 0.02
    found = best_plan(typical, lam50, lam95, overhead)
    n = 12
    quick, slow = (0.15 - overhead) / 0.01, (0.40 - overhead) / 0.01
    best = math.inf
    for size in range(n):
        for inner in itertools.combinations(range(n), size):
            plan = _plan_of([*inner, n], n, quick, slow)
            best = min(best, plan.value(lam50, lam95))
    assert found.value(lam50, lam95) == pytest.approx(best, abs=1e-9)


def _achieved(schedule: PollSchedule, typical: float, overhead: float) -> tuple[float, ...]:
    """(mean polls, share within 0.15 s, within 0.4 s) of ``schedule`` on the simulator's law."""
    times = schedule.planned(typical * 2)
    count, polls, p50, p95 = 2000, 0, 0, 0
    for k in range(count):
        finish = typical * (1 - JITTER + 2 * JITTER * (k + 0.5) / count)
        index = next(i for i, t in enumerate(times) if t >= finish)
        latency = times[index] - finish + overhead
        polls += index + 1
        p50 += latency <= 0.15
        p95 += latency <= 0.40
    return polls / count, p50 / count, p95 / count


def test_the_bound_is_below_what_our_schedule_achieves_on_the_same_law() -> None:
    model, overhead = "nano-banana", 0.01
    typical = 6.0
    polls, within_p50, within_p95 = _achieved(PollSchedule(expected_s=typical), typical, overhead)
    assert within_p50 >= 0.5 and within_p95 >= 0.95  # it meets both targets on this law ...
    bound = poll_ratio_bound(overhead, [model])
    ratio = polls / poll_bound.fixed_polls(typical)
    assert 0.1 < bound.each_model <= ratio  # ... so no bound may claim it needs more polls
    assert bound.pooled == pytest.approx(bound.each_model, rel=1e-6)  # one model: the same
