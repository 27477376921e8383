"""Fixtures for tests against real HTTP servers on loopback.

``loopback_hub`` is a simulator server shared by a module's tests, running at the module's
``SPEED`` (tasks that many times faster than the real hub; 60 when the module sets none). A
module that needs a fresh server per test, or other settings, defines its own
``loopback_hub``. ``make_studio`` builds Studios talking to it (see
:func:`tests.helpers.studios.studio_maker`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mountsea_widgets import simulator
from mountsea_widgets.history import History
from mountsea_widgets.simulator import SimulatorServer
from mountsea_widgets.widgets.studio import Studio
from tests.helpers import simulated_client
from tests.helpers.studios import studio_maker

from .independent_hub import IndependentHub

HUB_KEY = "sk-independent-hub-0042"


@pytest.fixture(params=["task_id", "taskId"])
def independent_hub(request: pytest.FixtureRequest) -> Iterator[IndependentHub]:
    """The documentation-only hub, once with each documented submit answer shape."""
    with IndependentHub(HUB_KEY, submit_shape=str(request.param)) as hub:
        yield hub


@pytest.fixture(scope="module")
def loopback_hub(request: pytest.FixtureRequest) -> Iterator[SimulatorServer]:
    """The simulator on loopback, one server for the module, at the module's ``SPEED``."""
    speed = getattr(request.module, "SPEED", simulated_client.SPEED)
    with simulator.serve(speed=speed) as server:
        yield server


@pytest.fixture
def history(tmp_path: Path) -> History:
    """A history of the test's own."""
    return History(tmp_path / "history")


@pytest.fixture
def make_studio(loopback_hub: SimulatorServer, history: History) -> Iterator[Callable[..., Studio]]:
    """``make_studio(model="nano-banana", url=None, **options)``: Studios with a fast client
    on ``loopback_hub`` (or ``url``) and the test's history; all closed after the test."""
    with studio_maker(loopback_hub.url, history) as make:
        yield make
