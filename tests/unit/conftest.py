"""Fixtures for unit tests: one layer at a time, in-process, with no sockets and no real time.

The simulated hub here is the in-process core (reached through ``simulator.transport``), on a
manual clock: time moves only when a test advances it. Tests that need a real server on
loopback live in tests/integration.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mountsea_widgets.simulator import Hub, ManualClock


@pytest.fixture
def manual_clock() -> ManualClock:
    """A clock that moves only when the test advances it."""
    return ManualClock()


@pytest.fixture
def manual_clock_hub(manual_clock: ManualClock) -> Iterator[Hub]:
    """The in-process simulator core driven by ``manual_clock`` (no prerendered images)."""
    hub = Hub(clock=manual_clock, prerender=False)
    yield hub
    hub.close()
