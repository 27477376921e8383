"""When to poll a running task next: a pure function of the elapsed time, easy to test and tune.

The hub gives no polling interval. Polling early is wasted requests, polling late is wasted
seconds for the person waiting, so the schedule follows the model's expected duration:

* sparse early: the first poll comes after ``first_fraction`` of the expected time;
* dense near the expected finish: each wait halves the time left, but never drops under
  ``dense_fraction`` of the expected time (so about every 5 % around the finish);
* backing off when late: the wait grows with the lateness (x ``backoff`` per poll) up to
  ``max_delay_s``;
* never below ``floor_s``; a server's ``Retry-After`` wins when it asks for longer.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PollSchedule:
    """The poll timing for one task of a model that usually takes ``expected_s`` seconds."""

    expected_s: float
    floor_s: float = 0.2
    first_fraction: float = 0.35
    dense_fraction: float = 0.05
    backoff: float = 1.5
    max_delay_s: float = 10.0

    def next_delay(self, elapsed_s: float, retry_after: float | None = None) -> float:
        """Seconds to wait before the next poll, ``elapsed_s`` seconds after the task started."""
        expected = max(float(self.expected_s), 0.0)
        elapsed = max(float(elapsed_s), 0.0)
        step = expected * self.dense_fraction
        first_at = expected * self.first_fraction
        if elapsed < first_at:
            delay = first_at - elapsed
        elif elapsed < expected:
            delay = max(step, (expected - elapsed) / 2)
        else:
            # Waiting (backoff - 1) x lateness makes each wait ``backoff`` times the previous.
            delay = max(step, (elapsed - expected) * (self.backoff - 1))
        delay = min(delay, self.max_delay_s)
        if retry_after is not None and retry_after > delay:
            delay = float(retry_after)
        return max(delay, self.floor_s)
