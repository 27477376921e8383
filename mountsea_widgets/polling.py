"""When to poll a running task next: a pure function of the elapsed time, easy to test and tune.

The hub gives no polling interval and no progress. Polling early is wasted requests, polling
late is wasted seconds for the person waiting, so the schedule follows the model's expected
duration ``E`` (the catalog's estimate, or the median the history measured) and how much real
durations spread around it (``spread``: ±30 % by default; the simulator draws ±25 %):

* **early-start guard**: one look at ``first_fraction`` x E (a task that fails at once, or a
  model much faster than its estimate, is noticed), then one at the start of the finish window;
* **dense in the finish window** ``[E x (1 - spread), E x (1 + spread)]``: each wait is
  ``closing_rate`` x the time left until the window's end (at most ``max_window_gap_s``), so
  polls start a few per second and tighten to ``floor_s`` towards the end. Why tighten towards
  the end and not poll evenly:
  a poll late in the window is only paid for by the tasks still running, so it costs little
  and catches more (the chance to finish in the next moment, given a task is still running,
  grows through the window);
* **backing off when late**: past the window each wait is ``(backoff - 1)`` x the lateness,
  so waits grow x ``backoff`` per poll, up to ``max_delay_s``;
* planned polls are at least ``floor_s`` apart; a server's ``Retry-After`` wins when it asks
  for longer;
* polls keep to their planned times: the wait after an answer is the time left until the next
  planned poll, so a slow network (or a busy machine) does not stretch every gap by the round
  trip.

Tuned on the simulator (``make benchmark``, which prints the figures of the day): a finished
image is available ~0.13 s after the task ends (median; ~0.3 s at the 95th percentile) for
about 0.6x the polls of a fixed 0.5 s poller, which needs ~0.25 s and ~0.5 s. Why not fewer
polls: when durations spread ±25 % and the hub reports no progress, seeing half the tasks
within 0.13 s takes a poll at least every ~0.26 s over half the window, whatever the schedule
(each poll catches only the finishes in the 0.13 s before it); that alone costs ~0.45x a 0.5 s
poller's requests. Short tasks are cheap to cover densely (a few more polls than a 0.5 s
poller), long ones save the most (about half).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class PollSchedule:
    """The poll timing for one task of a model that usually takes ``expected_s`` seconds.

    ``next_delay(elapsed_s)`` gives the wait before the next poll; it depends only on its
    arguments, so tests drive it with any clock.
    """

    expected_s: float
    floor_s: float = 0.1
    spread: float = 0.3
    first_fraction: float = 0.35
    closing_rate: float = 0.05
    max_window_gap_s: float = 0.35
    backoff: float = 1.5
    max_delay_s: float = 10.0

    @property
    def window(self) -> tuple[float, float]:
        """Earliest and latest plausible finish, in seconds after the task started."""
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
            gap = _even_steps(opens - at, cap)
        elif at < closes:
            gap = min(self.closing_rate * (closes - at), self.max_window_gap_s, cap)
        else:
            # Waiting (backoff - 1) x lateness makes each gap ``backoff`` times the previous.
            gap = min((at - closes) * (self.backoff - 1.0), cap)
        return max(gap, self.floor_s, _SMALLEST_STEP)

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
                # Late, at the longest gap: every further poll is ``cap`` apart.
                return at + (math.floor((elapsed - at) / cap) + 1) * cap
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


def _non_negative(value: float) -> float:
    """``value`` as a float >= 0 (NaN and negatives count as 0; infinity stays)."""
    number = float(value)
    return number if number > 0 else 0.0


def _even_steps(gap: float, cap: float) -> float:
    """The first of equal waits covering ``gap`` with none longer than ``cap``."""
    if gap <= cap or cap <= 0 or math.isinf(gap):
        return min(gap, cap)
    return gap / math.ceil(gap / cap)
