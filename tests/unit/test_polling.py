"""PollSchedule: an early look, polling through the finish window (quick at its end), backing
off when late.

Pure schedule tests walk ``next_delay`` with a virtual clock; the client tests run the real
client against the simulator's hub on a manual clock (its sleep moves the clock), so the
poll times are exact and nothing sleeps for real.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mountsea_widgets._polling import PollSchedule
from mountsea_widgets.client import Client
from mountsea_widgets.simulator import Hub, ManualClock
from mountsea_widgets.simulator import transport as hub_transport
from mountsea_widgets.simulator.latency import JITTER

BASE = "http://hub.test"


def poll_times(schedule: PollSchedule, until: float, answer_s: float = 0.0) -> list[float]:
    """When polls are sent, up to ``until``, if each answer takes ``answer_s`` to come back."""
    now, times = 0.0, []
    while now < until:
        now += schedule.next_delay(now)
        times.append(now)
        now += answer_s
    return times


def first_poll_after(schedule: PollSchedule, finish: float) -> tuple[float, int]:
    """(time of the first poll at or after ``finish``, number of polls until then)."""
    times = poll_times(schedule, finish)
    return times[-1], len(times)


def finishes(expected: float, count: int = 101) -> list[float]:
    """Finish times spread evenly over the simulator's jitter window around ``expected``."""
    low, high = expected * (1 - JITTER), expected * (1 + JITTER)
    return [low + (high - low) * i / (count - 1) for i in range(count)]


# --- the schedule alone ---------------------------------------------------------------------


@pytest.mark.parametrize("expected", [6.0, 20.0, 35.0])
def test_first_look_is_an_early_start_guard_not_an_immediate_poll(expected: float) -> None:
    schedule = PollSchedule(expected_s=expected)
    times = poll_times(schedule, expected)
    assert times[0] >= 1.0
    assert times[0] <= schedule.first_fraction * expected + 1e-9
    before_window = [t for t in times if t < schedule.window[0] - 1e-9]
    assert 1 <= len(before_window) <= 3  # sparse early: a look or two, never a steady stream


def test_window_follows_expected_duration_and_spread() -> None:
    assert PollSchedule(expected_s=20.0).window == pytest.approx((14.0, 26.0))
    assert PollSchedule(expected_s=20.0, spread=0.25).window == pytest.approx((15.0, 25.0))
    assert PollSchedule(expected_s=20.0, spread=5).window == pytest.approx((0.0, 40.0))
    # A learned window wins over the spread; a nonsensical one falls back to it.
    learned = PollSchedule(expected_s=20.0, window_s=(16.5, 23.0))
    assert learned.window == pytest.approx((16.5, 23.0))
    backwards = PollSchedule(expected_s=20.0, window_s=(18.0, 12.0))
    assert backwards.window == pytest.approx((18.0, 18.0))
    assert PollSchedule(expected_s=20.0, window_s=(0.0, math.inf)).window == pytest.approx(
        (14.0, 26.0)
    )


@pytest.mark.parametrize("expected", [6.0, 10.0, 35.0])
def test_polls_fill_the_finish_window_and_are_quick_in_its_closing_stretch(
    expected: float,
) -> None:
    schedule = PollSchedule(expected_s=expected)
    opens, closes = schedule.window
    times = poll_times(schedule, closes)
    inside = [t for t in times if opens <= t <= closes]
    assert len(inside) > 3 * (len(times) - len(inside))
    gaps = [b - a for a, b in itertools.pairwise(inside)]
    assert all(later <= earlier + 1e-9 for earlier, later in itertools.pairwise(gaps))
    assert max(gaps) <= schedule.window_gap_s + 1e-9
    closing = [t for t in inside if t >= closes - schedule.closing_s]
    closing_gaps = [b - a for a, b in itertools.pairwise(closing)]
    assert len(closing_gaps) >= schedule.closing_s / schedule.quick_gap_s - 2
    assert closing_gaps == pytest.approx([schedule.quick_gap_s] * len(closing_gaps))
    earlier = [t for t in inside if t < closes - schedule.closing_s]
    wide = [b - a for a, b in itertools.pairwise(earlier)]
    if wide:  # a long window: equal wide gaps up to the closing stretch, no short leftover
        assert wide == pytest.approx([wide[0]] * len(wide))
        assert schedule.window_gap_s / 2 < wide[0] <= schedule.window_gap_s + 1e-9


@pytest.mark.parametrize("wide_gaps", [5, 20, 47])
def test_a_stretch_of_exactly_k_wide_gaps_gets_k_equal_gaps(wide_gaps: int) -> None:
    # Rounding must not turn "k - 1 more gaps" into k shorter ones (an extra poll each time).
    gap = PollSchedule(expected_s=20.0).window_gap_s
    opens = 10.0
    schedule = PollSchedule(expected_s=20.0, window_s=(opens, opens + gap * wide_gaps + 2.0))
    closing_from = schedule.window[1] - schedule.closing_s
    wide = [t for t in schedule.planned(closing_from) if t <= closing_from + 1e-9]
    wide = [t for t in wide if t >= opens]
    assert [b - a for a, b in itertools.pairwise([opens, *wide])] == pytest.approx(
        [gap] * wide_gaps
    )


@pytest.mark.parametrize("expected", [6.0, 10.0, 20.0, 35.0])
def test_a_finish_anywhere_in_the_jitter_window_is_seen_soon(expected: float) -> None:
    schedule = PollSchedule(expected_s=expected)
    closes = schedule.window[1]
    waits = {t: first_poll_after(schedule, t)[0] - t for t in finishes(expected)}
    assert max(waits.values()) <= schedule.window_gap_s + 1e-9  # a 0.5 s poller: up to 0.5 s
    closing = [w for t, w in waits.items() if t > closes - schedule.closing_s]
    assert closing and max(closing) <= schedule.quick_gap_s + 1e-9
    assert sorted(waits.values())[len(waits) // 2] <= 0.2  # the median finish within 0.2 s


@pytest.mark.parametrize(("expected", "share"), [(6.0, 0.8), (10.0, 0.6), (20.0, 0.5), (35.0, 0.5)])
def test_tasks_take_fewer_polls_than_a_fixed_half_second_poller(
    expected: float, share: float
) -> None:
    # Fixed 0.5 s polling costs two polls per second of the task; the schedule spends its
    # polls in the finish window, so the longer the task, the more it saves.
    schedule = PollSchedule(expected_s=expected)
    ours = sum(first_poll_after(schedule, t)[1] for t in finishes(expected))
    fixed = sum(math.ceil(t / 0.5) for t in finishes(expected))
    assert ours < share * fixed


@pytest.mark.parametrize("expected", [6.0, 10.0])
def test_short_tasks_are_seen_sooner_than_by_a_half_second_poller(expected: float) -> None:
    # A short task's window is mostly closing stretch: finishes are seen far sooner.
    schedule = PollSchedule(expected_s=expected)
    ours = [first_poll_after(schedule, t) for t in finishes(expected)]
    fixed = [(math.ceil(t / 0.5) * 0.5, math.ceil(t / 0.5)) for t in finishes(expected)]
    our_wait = sum(at - t for (at, _), t in zip(ours, finishes(expected), strict=True))
    fixed_wait = sum(at - t for (at, _), t in zip(fixed, finishes(expected), strict=True))
    assert our_wait < (0.45 if expected <= 6.0 else 0.7) * fixed_wait


def test_a_learned_window_is_cheaper_than_the_catalogs_guess() -> None:
    # The history measured where tasks of the model finish: polls start later and stop sooner,
    # and every finish in it is still seen as soon as with the wider guess.
    guess = PollSchedule(expected_s=20.0)
    learned = PollSchedule(expected_s=20.0, window_s=(15.0, 25.0))
    for_guess = [first_poll_after(guess, t) for t in finishes(20.0)]
    for_learned = [first_poll_after(learned, t) for t in finishes(20.0)]
    assert sum(n for _, n in for_learned) < 0.95 * sum(n for _, n in for_guess)
    waits = [at - t for (at, _), t in zip(for_learned, finishes(20.0), strict=True)]
    assert max(waits) <= learned.window_gap_s + 1e-9


def test_backs_off_geometrically_when_late() -> None:
    schedule = PollSchedule(expected_s=10.0)
    closes = schedule.window[1]
    late = [schedule.step(closes + lateness) for lateness in (2.0, 4.0, 8.0, 16.0)]
    assert late == sorted(late) and late[-1] > late[0]
    times = [t for t in poll_times(schedule, 80.0) if t > closes + 1.0]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    growing = [g for g in gaps if g < schedule.max_delay_s - 1e-9]
    assert len(growing) >= 3
    for earlier, later in itertools.pairwise(growing):
        assert later == pytest.approx(earlier * schedule.backoff, rel=1e-6)


def test_backoff_is_capped() -> None:
    schedule = PollSchedule(expected_s=10.0, max_delay_s=10.0)
    late = schedule.planned(10_000.0)[-5:]
    assert [b - a for a, b in itertools.pairwise(late)] == pytest.approx([10.0] * 4)
    assert 0 < schedule.next_delay(10_000.0) <= 10.0


def test_long_early_gaps_are_split_evenly_under_the_cap() -> None:
    schedule = PollSchedule(expected_s=100.0, max_delay_s=10.0)
    opens = schedule.window[0]
    first_inside = opens + schedule.step(opens)  # one in-window gap after the window opens
    early = [t for t in poll_times(schedule, 75.0) if t <= first_inside + 1e-9]
    gaps = [b - a for a, b in itertools.pairwise([0.0, *early])]
    assert max(gaps) <= 10.0 + 1e-9
    assert early[-1] == pytest.approx(first_inside)
    assert min(gaps) > 5.0  # no short leftover step before the window opens


def test_a_poll_at_a_late_planned_time_plans_the_next_one_a_full_gap_later() -> None:
    # Polling on a clock far from zero: the elapsed time carries rounding errors, and a poll
    # made at a planned time must not be planned again a hair later (a busy loop).
    schedule = PollSchedule(expected_s=6.0)
    start = now = 1000.0
    delays = []
    while now - start < 60.0:
        delays.append(schedule.next_delay(now - start))
        now += delays[-1]
    assert len(delays) < 60 and min(delays) >= schedule.floor_s - 1e-9


def test_retry_after_wins_only_when_longer() -> None:
    schedule = PollSchedule(expected_s=6.0)
    assert schedule.next_delay(5.0, retry_after=30.0) == 30.0
    assert schedule.next_delay(0.0, retry_after=0.01) == pytest.approx(6.0 * 0.35)
    assert schedule.next_delay(100.0, retry_after=60.0) == 60.0  # over the backoff cap too


@pytest.mark.parametrize("expected", [0.0, 0.5, 6.0, 35.0])
@pytest.mark.parametrize("answer_s", [0.0, 0.05, 0.3])
def test_polls_are_never_closer_than_the_floor(expected: float, answer_s: float) -> None:
    schedule = PollSchedule(expected_s=expected, floor_s=0.2)
    times = poll_times(schedule, expected * 2 + 5, answer_s)
    gaps = [b - a for a, b in itertools.pairwise([0.0, *times])]
    assert min(gaps) >= 0.2 - 1e-9


@pytest.mark.parametrize("expected", [6.0, 35.0])
def test_slow_answers_do_not_push_later_polls_back(expected: float) -> None:
    # The wait after an answer is the time left until the next planned poll, so polls are
    # sent at the planned times whether answers take 0 or 50 ms (less than any gap).
    schedule = PollSchedule(expected_s=expected)
    until = schedule.window[1]
    planned = poll_times(schedule, until)
    slow = poll_times(schedule, until, answer_s=0.05)
    assert len(planned) - 1 <= len(slow) <= len(planned)
    assert slow == pytest.approx(planned[: len(slow)])
    assert planned == pytest.approx(schedule.planned(until)[: len(planned)])
    # An answer slower than the gap skips the polls it overran; it does not catch them up.
    very_slow = poll_times(schedule, until, answer_s=0.5)
    assert len(very_slow) < len(planned)
    assert all(any(t == pytest.approx(p) for p in planned) for t in very_slow)


@given(
    expected=st.floats(0, 600) | st.just(math.nan),
    elapsed=st.floats(-10, 10_000) | st.just(math.nan),
    retry_after=st.none() | st.floats(0, 120),
)
def test_delay_is_always_sane(expected: float, elapsed: float, retry_after: float | None) -> None:
    schedule = PollSchedule(expected_s=expected)
    delay = schedule.next_delay(elapsed, retry_after)
    assert delay > 0
    assert delay <= max(schedule.max_delay_s, retry_after or 0.0) + 1e-6
    if retry_after is not None:
        assert delay >= retry_after


# --- the client following the schedule, on a manual clock --------------------------------------


class Clocked:
    """The simulator's hub and a client sharing one manual clock; records every poll time."""

    def __init__(
        self,
        *,
        poll_headers: dict[str, str] | None = None,
        answer_s: float = 0.0,
        **hub_options: Any,
    ) -> None:
        self.clock = ManualClock()
        self.hub = Hub(clock=self.clock, prerender=False, **hub_options)
        self.polls: list[float] = []
        inner = hub_transport(self.hub, sleep=self.clock.sleep)

        def handler(request: httpx.Request) -> httpx.Response:
            if request.url.path.startswith("/hub/v1/tasks/"):
                self.polls.append(self.clock())
            response = inner.handle_request(request)
            if request.url.path.startswith("/hub/v1/tasks/"):
                response.headers.update(poll_headers or {})
                self.clock.advance(answer_s)  # the answer takes this long to come back
            return response

        self.client = Client(
            base_url=BASE,
            transport=httpx.MockTransport(handler),
            sleep=self.clock.sleep,
            clock=self.clock,
        )

    def generate(self, model: str = "nano-banana") -> tuple[float, float]:
        """Run one task; returns (its start, its finish) on the hub's clock."""
        result = self.client.generate(model, "a lighthouse")
        task = self.hub.task(result.task_id)
        return task.created, task.finishes


@pytest.mark.parametrize("model", ["nano-banana", "gpt-image-2"])
def test_client_polls_near_the_expected_finish(model: str) -> None:
    side = Clocked(speed=1.0, seed=4)
    started, finished = side.generate(model)
    schedule = side.client.poll_schedule(model)
    opens, closes = schedule.window
    offsets = [t - started for t in side.polls]
    assert 1.0 <= offsets[0] <= schedule.first_fraction * schedule.expected_s + 0.01
    in_window = [t for t in offsets if opens - 0.01 <= t <= closes]
    assert len(in_window) >= 0.75 * len(offsets)
    assert side.polls[-1] >= finished  # the last poll saw it finished ...
    assert side.polls[-1] - finished <= schedule.window_gap_s + 0.01  # ... soon after it finished
    if model == "gpt-image-2":  # a long task: far fewer polls than a 0.5 s poller
        assert len(side.polls) < 0.75 * math.ceil((finished - started) / 0.5)


def test_client_backs_off_when_the_task_runs_late() -> None:
    side = Clocked(speed=1.0)
    # The client expects 2 s; the simulated task takes ~6 s (±25 %): it runs late.
    side.client.durations["nano-banana"] = 2.0
    started, finished = side.generate()
    closes = side.client.poll_schedule("nano-banana").window[1]
    late = [t - started for t in side.polls if t - started > closes + 0.5]
    gaps = [b - a for a, b in itertools.pairwise(late)]
    assert len(gaps) >= 3
    assert all(later > earlier for earlier, later in itertools.pairwise(gaps))
    assert side.polls[-1] >= finished


def test_client_obeys_retry_after_between_polls() -> None:
    side = Clocked(speed=1.0, poll_headers={"Retry-After": "4"})
    _, finished = side.generate()
    gaps = [b - a for a, b in itertools.pairwise(side.polls)]
    assert gaps and min(gaps) >= 4.0 - 1e-9  # every wait honoured the hub's request
    assert side.polls[-1] >= finished


def test_client_keeps_to_the_planned_times_when_answers_are_slow() -> None:
    quick, slow = Clocked(speed=1.0, seed=2), Clocked(speed=1.0, seed=2, answer_s=0.05)
    started, _ = quick.generate("nano-banana-pro")
    slow_started, _ = slow.generate("nano-banana-pro")
    on_time = [t - started for t in quick.polls]
    late_answers = [t - slow_started for t in slow.polls]
    assert len(on_time) > 10
    assert late_answers[: len(on_time) - 1] == pytest.approx(on_time[: len(on_time) - 1], abs=1e-6)


# --- durations learned from the history --------------------------------------------------------


def _history_with(tmp_path: Any, model: str, durations: list[float]) -> Any:
    from mountsea_widgets.history import History

    history = History(tmp_path / "history")
    for number, seconds in enumerate(durations):
        run_id = f"{model}-{number}"
        history.start(run_id, model, {"prompt": "a lighthouse"})
        history.submitted(run_id, f"hub-{run_id}")
        history.finished(run_id, "completed", elapsed_s=seconds)
    return history


def test_clients_poll_around_the_durations_the_history_measured(tmp_path: Any) -> None:
    from mountsea_widgets._connection import make_async_client, make_client

    history = _history_with(tmp_path, "gpt-image-2", [20.0, 22.0, 24.0])
    with make_client(base_url=BASE, history=history) as client:
        assert client.expected_seconds("gpt-image-2") == 22.0  # measured, not the catalog's 35
        assert client.expected_seconds("nano-banana") == 6.0  # nothing measured: the estimate
        assert client.poll_schedule("gpt-image-2").window == pytest.approx((15.4, 28.6))
    aclient = make_async_client(base_url=BASE, history=history)
    assert aclient.expected_seconds("gpt-image-2") == 22.0


def test_a_measurement_far_off_the_estimate_is_not_trusted(tmp_path: Any) -> None:
    from mountsea_widgets._durations import learned_durations

    # e.g. a history filled by a simulator running 50x faster than the real hub
    fast = _history_with(tmp_path, "gpt-image-2", [0.7, 0.7, 0.7])
    assert learned_durations(fast) == {}
    assert learned_durations(fast, speed=50.0) == {"gpt-image-2": 0.7}
    assert learned_durations(None) == {}


def test_an_unreadable_history_leaves_the_estimates(tmp_path: Any) -> None:
    from mountsea_widgets._durations import learned_durations, learned_windows

    class Broken:
        def recent_durations(self, model: str) -> list[float]:
            raise OSError("disk gone")

    assert learned_durations(Broken()) == {}  # type: ignore[arg-type]
    assert learned_windows(Broken()) == {}  # type: ignore[arg-type]


def test_the_finish_window_is_learned_once_the_history_holds_enough_runs(tmp_path: Any) -> None:
    from mountsea_widgets._connection import make_client
    from mountsea_widgets._durations import MIN_WINDOW_RUNS, learned_windows

    few = _history_with(tmp_path / "few", "gpt-image-2", [30.0] * (MIN_WINDOW_RUNS - 1))
    assert learned_windows(few) == {}
    durations = [28.0 + 0.5 * i for i in range(16)]  # 28.0 .. 35.5 s, spacing 0.5 s
    history = _history_with(tmp_path / "many", "gpt-image-2", durations)
    # The range seen, widened by one average spacing ((35.5 - 28) / 16) on either side.
    margin = 7.5 / 16
    assert learned_windows(history) == {"gpt-image-2": pytest.approx((28 - margin, 35.5 + margin))}
    with make_client(base_url=BASE, history=history) as client:
        schedule = client.poll_schedule("gpt-image-2")
        assert schedule.window == pytest.approx((28 - margin, 35.5 + margin))
        assert client.poll_schedule("nano-banana").window == pytest.approx((4.2, 7.8))


def test_an_odd_run_does_not_stretch_the_learned_window(tmp_path: Any) -> None:
    from mountsea_widgets._durations import learned_windows

    durations = [20.0 + 0.1 * i for i in range(49)] + [95.0]  # one run stuck for over a minute
    history = _history_with(tmp_path, "nano-banana-pro", durations)
    earliest, latest = learned_windows(history)["nano-banana-pro"]
    assert 19.9 < earliest < 20.1 and 24.8 < latest < 25.0


def test_the_hubs_own_processing_time_is_what_polling_learns(tmp_path: Any) -> None:
    from mountsea_widgets.history import History

    history = History(tmp_path / "history")
    for number in range(3):
        run_id = f"run-{number}"
        history.start(run_id, "nano-banana", {"prompt": "a lighthouse"})
        history.submitted(run_id, f"hub-{number}")
        # The person waited 7 s (submission, polling, download); the hub worked 6 s.
        history.finished(run_id, "completed", elapsed_s=7.0, task_s=6.0)
    assert History(tmp_path / "history").recent_durations("nano-banana") == [6.0, 6.0, 6.0]
    assert history.typical_seconds("nano-banana") == 6.0
