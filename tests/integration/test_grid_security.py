"""Prompts and hub text stay text in the comparison grid's view: in its state, its messages
and its saved fallback HTML (the page writes the state with textContent only)."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator

import httpx
import pytest

import mountsea_widgets as mw
from mountsea_widgets import simulator
from mountsea_widgets.client import AsyncClient
from tests.helpers.views import PageRecorder, send
from tests.helpers.waiting import short_sleep
from tests.integration.test_security_xss import CANARY, PROMPT, SERVER_HTML, dangers, html_hub


@pytest.fixture
def loopback_hub() -> Iterator[simulator.SimulatorServer]:
    with simulator.serve(speed=200) as server:
        yield server


def test_the_canary_is_text_in_the_grid_state_and_escaped_in_its_fallback(
    loopback_hub: simulator.SimulatorServer,
) -> None:
    # A comparison grid: title, column labels, a refused value (nothing is sent for it).
    comparison = mw.compare(
        PROMPT,
        models=["nano-banana"],
        seeds=[1],
        vary={"aspect_ratio": ["1:1", CANARY]},
        client=AsyncClient(base_url=loopback_hub.url, sleep=short_sleep),
        history=False,
    )
    grid = comparison.widget
    page = PageRecorder(grid)
    comparison.wait(30)
    grid.flush()
    assert [cell.status for cell in comparison.cells] == ["completed", "rejected"]
    assert grid.title == PROMPT and grid.columns[1] == f"aspect_ratio = {CANARY}"
    assert "is not allowed" in grid.cells[1]["message"]
    fallback = grid.fallback_bundle()["text/html"]
    assert dangers(fallback) == []
    escaped = html.escape(CANARY)
    assert escaped in fallback and f"aspect_ratio = {escaped}" in fallback
    # The messages to the page carry the same text as data (JSON), never markup to insert.
    send(grid, "thumbs")
    assert any(c["type"] == "thumbs" for c, _ in page.messages)

    failing = mw.compare(
        PROMPT,
        models=["nano-banana"],
        client=AsyncClient(base_url="http://html.test", transport=httpx.MockTransport(html_hub)),
        history=False,
    )
    failing_grid = failing.widget
    failing.wait(30)
    failing_grid.flush()
    assert SERVER_HTML in failing_grid.cells[0]["message"]
    failing_fallback = failing_grid.fallback_html()
    assert dangers(failing_fallback) == [] and html.escape(SERVER_HTML) in failing_fallback
    state = json.dumps(failing_grid.get_state(), default=str)
    assert "window.__xss" in state  # text in the state; the browser test proves it stays text
