"""Fixtures for tests against real HTTP servers on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .independent_hub import IndependentHub

HUB_KEY = "sk-independent-hub-0042"


@pytest.fixture(params=["task_id", "taskId"])
def independent_hub(request: pytest.FixtureRequest) -> Iterator[IndependentHub]:
    """The documentation-only hub, once with each documented submit answer shape."""
    with IndependentHub(HUB_KEY, submit_shape=str(request.param)) as hub:
        yield hub
