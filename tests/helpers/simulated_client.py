"""An AsyncClient for tests that talk to a fast simulator (shared by the Studio test modules)."""

from __future__ import annotations

from mountsea_widgets._polling import PollSchedule
from mountsea_widgets.client import AsyncClient

#: The simulator speed these tests run at (tasks this many times faster than the real hub).
SPEED = 60.0


class FastClient(AsyncClient):
    """An AsyncClient polling on the simulator's accelerated time scale (``speed``)."""

    speed = SPEED

    def poll_schedule(self, model: str | None) -> PollSchedule:
        return PollSchedule(expected_s=self.expected_seconds(model) / self.speed, floor_s=0.02)
