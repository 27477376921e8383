"""PollSchedule: sparse early, dense near the expected finish, backing off when late."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mountsea_widgets.polling import PollSchedule


def poll_times(schedule: PollSchedule, until: float) -> list[float]:
    """When polls happen if every wait is taken exactly as scheduled."""
    now, times = 0.0, []
    while now < until:
        now += schedule.next_delay(now)
        times.append(now)
    return times


@pytest.mark.parametrize("expected", [6.0, 20.0, 35.0])
def test_first_poll_is_not_immediate(expected: float) -> None:
    schedule = PollSchedule(expected_s=expected)
    first = schedule.next_delay(0.0)
    assert first == pytest.approx(min(expected * 0.35, schedule.max_delay_s))
    assert first >= 2.0


def test_polls_get_denser_near_the_expected_finish() -> None:
    schedule = PollSchedule(expected_s=35.0)
    gaps_before = [schedule.next_delay(t) for t in (13.0, 20.0, 28.0, 33.0)]
    assert gaps_before == sorted(gaps_before, reverse=True)
    assert gaps_before[0] > 3 * gaps_before[-1]
    # around the finish the gap is the dense step: 5 % of the expected time
    assert schedule.next_delay(34.5) == pytest.approx(35.0 * 0.05)
    times = poll_times(schedule, 35.0)
    near = [t for t in times if 0.8 * 35 <= t <= 35]
    early = [t for t in times if t < 0.5 * 35]
    assert len(near) > len(early)


def test_backs_off_when_late() -> None:
    schedule = PollSchedule(expected_s=10.0)
    late = [schedule.next_delay(t) for t in (12.0, 16.0, 24.0, 40.0)]
    assert late == sorted(late)
    assert late[-1] > late[0]
    # geometric: each wait is (backoff - 1) x lateness, so successive polls grow x1.5
    times = [t for t in poll_times(schedule, 60.0) if t > 14.0]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    growing = [g for g in gaps if g < schedule.max_delay_s - 1e-9]
    assert all(b >= a for a, b in itertools.pairwise(growing))


def test_backoff_is_capped() -> None:
    schedule = PollSchedule(expected_s=10.0, max_delay_s=10.0)
    assert schedule.next_delay(10_000.0) == 10.0


def test_retry_after_wins_when_larger() -> None:
    schedule = PollSchedule(expected_s=6.0)
    assert schedule.next_delay(5.0, retry_after=30.0) == 30.0
    assert schedule.next_delay(0.0, retry_after=0.01) == pytest.approx(6.0 * 0.35)


def test_never_below_floor() -> None:
    schedule = PollSchedule(expected_s=0.5, floor_s=0.2)
    assert schedule.next_delay(0.49) == 0.2
    assert PollSchedule(expected_s=0.0).next_delay(0.0) == 0.2
    assert PollSchedule(expected_s=6.0, floor_s=1.0).next_delay(5.9) == 1.0


@given(
    expected=st.floats(0, 600),
    elapsed=st.floats(-10, 10_000),
    retry_after=st.none() | st.floats(0, 120),
)
def test_delay_is_always_sane(expected: float, elapsed: float, retry_after: float | None) -> None:
    schedule = PollSchedule(expected_s=expected)
    delay = schedule.next_delay(elapsed, retry_after)
    assert delay >= schedule.floor_s
    assert delay <= max(schedule.max_delay_s, retry_after or 0.0)
    if retry_after is not None:
        assert delay >= retry_after
