"""When to poll a running task next: a pure function of the elapsed time, easy to test and tune.

The hub gives no polling interval and no progress. Polling early is wasted requests, polling
late is wasted seconds for the person waiting, so the schedule follows when tasks of the model
finish: the **finish window** ``[earliest, latest]``. Learned from the history (the spread of the
durations the hub reported for recent runs, :func:`~mountsea_widgets._durations.learned_windows`),
or, with nothing learned yet, ``E x (1 ± spread)`` around the expected duration ``E`` (the
catalog's estimate; ``spread`` ±30 % by default).

* **early-start guard**: one look at ``first_fraction`` x E (a task that fails at once, or a
  model much faster than its estimate, is noticed), then the first look inside the window;
* **in the finish window**, two kinds of gap, each the longest that still shows a finish soon:
  ``window_gap_s`` (every finish seen within ~0.4 s), and in the window's last ``closing_s``
  seconds ``quick_gap_s`` (every finish seen within ~0.15 s). Why quick only at the end: a
  poll is paid for by every task still running, and the chance that a running task finishes
  in the next moment grows through the window. Near its end few tasks are still running (a
  quick poll costs little) and each is about to finish (it catches much); early in the window
  most tasks are running and few finish in the next moment. With finishes spread evenly over
  the window, a task still running ``r`` seconds before its end finishes within the next
  second with chance ``1 / r``: ``closing_s`` (2 s) is where that chance makes a quick poll
  worth its cost;
* **backing off when late**: past the window each wait is ``(backoff - 1)`` x the lateness,
  so waits grow x ``backoff`` per poll, up to ``max_delay_s``;
* planned polls are at least ``floor_s`` apart; a server's ``Retry-After`` wins when it asks
  for longer;
* polls keep to their planned times: the wait after an answer is the time left until the next
  planned poll, so a slow network (or a busy machine) does not stretch every gap by the round
  trip.

The two gaps are the latency goals (0.15 s median, 0.4 s for 95 % of runs, from a task
finishing to its image being available) less the ~0.02-0.03 s an answer and a download take.
``make benchmark`` prints what they give on the simulator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class PollSchedule:
    """The poll timing for one task of a model that usually takes ``expected_s`` seconds.

    ``window_s`` is the learned finish window (earliest, latest) when the history measured one;
    otherwise the window is ``expected_s`` x (1 ± ``spread``). ``next_delay(elapsed_s)`` gives
    the wait before the next poll; it depends only on its arguments, so tests drive it with any
    clock.
    """

    expected_s: float
    floor_s: float = 0.1
    spread: float = 0.3
    window_s: tuple[float, float] | None = None
    first_fraction: float = 0.35
    window_gap_s: float = 0.36
    quick_gap_s: float = 0.12
    closing_s: float = 2.0
    backoff: float = 1.5
    max_delay_s: float = 10.0

    @property
    def window(self) -> tuple[float, float]:
        """Earliest and latest plausible finish, in seconds after the task started."""
        if self.window_s is not None:
            earliest, latest = (_non_negative(bound) for bound in self.window_s)
            if not math.isinf(latest):
                return earliest, max(earliest, latest)
        expected = _non_negative(self.expected_s)
        spread = min(_non_negative(self.spread), 1.0)
        return expected * (1.0 - spread), expected * (1.0 + spread)

    def step(self, at_s: float) -> float:
        """The planned gap after a poll made ``at_s`` seconds after the task started."""
        at = _non_negative(at_s)
        opens, closes = self.window
        first_at = min(_non_negative(self.expected_s) * self.first_fraction, opens)
        cap = _non_negative(self.max_delay_s)
        if at < first_at:
            gap = _even_steps(first_at - at, cap)
        elif at < opens:
            # The first look inside the window comes one in-window gap after it opens: no
            # task finishes before the window, so a poll at its very start would catch none.
            gap = _even_steps(opens + self._window_step(opens, closes) - at, cap)
        elif at < closes:
            gap = min(self._window_step(at, closes), cap)
        else:
            # Waiting (backoff - 1) x lateness makes each gap ``backoff`` times the previous.
            gap = min((at - closes) * (self.backoff - 1.0), cap)
        return max(gap, self.floor_s, _SMALLEST_STEP)

    def _window_step(self, at: float, closes: float) -> float:
        """The gap after a poll at ``at`` inside the window: wide, then quick near its end."""
        before_closing = closes - _non_negative(self.closing_s) - at
        if before_closing <= _SAME_INSTANT:
            return _non_negative(self.quick_gap_s)
        # Equal wide gaps that end where the closing stretch begins (no short leftover).
        return _even_steps(before_closing, _non_negative(self.window_gap_s))

    def planned(self, until_s: float) -> list[float]:
        """The planned poll times up to ``until_s`` (and the first one after it)."""
        times: list[float] = []
        at = 0.0
        while at <= until_s and len(times) < _MAX_PLANNED:
            at += self.step(at)
            times.append(at)
        return times

    def next_delay(self, elapsed_s: float, retry_after: float | None = None) -> float:
        """Seconds to wait before the next poll, ``elapsed_s`` seconds after the task started.

        Polls keep to the planned times (:meth:`planned`), so a slow answer does not push every
        later poll back: the wait is the time left until the next planned poll. A server's
        ``Retry-After`` wins when it asks for longer.
        """
        elapsed = _non_negative(elapsed_s)
        delay = self._next_planned(elapsed) - elapsed
        if retry_after is not None and _non_negative(retry_after) > delay:
            delay = _non_negative(retry_after)
        return delay

    def _next_planned(self, elapsed: float) -> float:
        closes = self.window[1]
        cap = _non_negative(self.max_delay_s)
        at = 0.0
        for _ in range(_MAX_PLANNED):
            gap = self.step(at)
            if at >= closes and gap >= cap > 0:
                # Late, at the longest gap: every further poll is ``cap`` apart. A poll made
                # at a planned time (up to rounding) plans the next one, not itself again.
                return at + (math.floor((elapsed - at + _SAME_INSTANT) / cap) + 1) * cap
            at += gap
            if at > elapsed + _SAME_INSTANT:
                return at
        return elapsed + self.step(elapsed)  # an absurd duration: plan from now on


#: Shortest gap between planned polls, whatever the settings (no busy loop).
_SMALLEST_STEP = 0.001
#: Most planned polls walked through to find the next one (hours of polling at the floor).
_MAX_PLANNED = 100_000
#: A poll answered within this much of a planned time counts as made at that time.
_SAME_INSTANT = 1e-6
#: How far above a whole number a count of waits may be and still round down to it.
_RATIO_TOLERANCE = 1e-9


def _non_negative(value: float) -> float:
    """``value`` as a float >= 0 (NaN and negatives count as 0; infinity stays)."""
    number = float(value)
    return number if number > 0 else 0.0


def _even_steps(gap: float, cap: float) -> float:
    """The first of equal waits covering ``gap`` with none longer than ``cap``."""
    if gap <= cap or cap <= 0 or math.isinf(gap):
        return min(gap, cap)
    # The tolerance keeps a rounding error from adding a step: walking on from the first of
    # k equal waits must find k - 1 more of the same length, not k shorter ones.
    return gap / math.ceil(gap / cap - _RATIO_TOLERANCE)
