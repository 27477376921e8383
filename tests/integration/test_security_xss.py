"""Prompts and server text are shown as text, never as markup, in every widget we render.

An XSS canary prompt (an ``<img onerror>`` and a ``<script>``) goes through a Studio (its
card, Code view), a Studio reopened on the same history (the history's rows), the
``%%mountsea`` magic (the comparison grid, one view, has its own test:
test_grid_security.py), and
``Result._repr_html_``; a hub that puts HTML into ``error_message`` and into a 500 body feeds
the error displays. The views hand their page plain text (records the page puts in with
``textContent``: tests/browser/test_xss_browser.py proves that in a browser): here the text
must arrive unchanged. Every HTML string made here (widgets' HTML values and the views'
saved fallback outputs) is parsed: no ``<script>`` element and no ``on*`` attribute may
appear, and the canary must be there as escaped text.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import IPython.display
import pytest
from IPython.core.interactiveshell import InteractiveShell

from mountsea_widgets import magics, simulator
from mountsea_widgets._polling import PollSchedule
from mountsea_widgets.client import AsyncClient
from mountsea_widgets.history import History
from mountsea_widgets.result import Result
from mountsea_widgets.widgets.studio import Studio
from mountsea_widgets.widgets.task_cell import TaskCell
from tests.helpers.studios import ask_rows, record_of
from tests.helpers.views import send
from tests.helpers.waiting import short_sleep

CANARY = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
PROMPT = f"a lighthouse {CANARY}"
SERVER_HTML = '<img src=y onerror="window.__xss=3"><script>window.__xss=4</script>'


class Markup(HTMLParser):
    """Collects what a browser would build from an HTML string: tags and their attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def dangers(markup: str) -> list[str]:
    """Script elements and event-handler attributes in ``markup`` (empty when inert)."""
    parser = Markup()
    parser.feed(markup)
    parser.close()
    found = []
    for tag, attrs in parser.tags:
        if tag in ("script", "iframe", "object", "embed"):
            found.append(f"<{tag}>")
        found += [f"<{tag} {name}=...>" for name, _ in attrs if name.lower().startswith("on")]
        found += [
            f"<{tag} {name}={value}>"
            for name, value in attrs
            if (value or "").strip().lower().startswith("javascript:")
        ]
    return found


def test_the_checker_sees_the_canary_when_it_is_not_escaped() -> None:
    assert dangers(CANARY) == ["<img onerror=...>", "<script>"]
    assert dangers(html.escape(CANARY)) == []
    assert dangers('<a href="javascript:alert(1)">x</a>') == ["<a href=javascript:alert(1)>"]


def _widgets() -> dict[str, Any]:
    from ipywidgets.widgets.widget import _instances

    return dict(_instances)


def _html_strings(widgets: list[Any]) -> list[tuple[str, str]]:
    """Every string a widget hands the page as HTML: HTML values and HTML descriptions."""
    found = []
    for widget in widgets:
        state = widget.get_state()
        name = type(widget).__name__
        if state.get("_model_name") in ("HTMLModel", "HTMLMathModel"):
            found.append((f"{name}.value", str(state.get("value", ""))))
        if state.get("description_allow_html"):
            found.append((f"{name}.description", str(state.get("description", ""))))
    return found


class Fast(AsyncClient):
    def poll_schedule(self, model: str | None) -> PollSchedule:
        return PollSchedule(expected_s=self.expected_seconds(model) / 200, floor_s=0.01)


def html_hub(request: httpx.Request) -> httpx.Response:
    """A hub whose task fails with HTML in its error, and whose 500s carry HTML too."""
    if request.method == "POST":
        prompt = json.loads(request.content)["input"]["prompt"]
        if "500" in prompt:
            return httpx.Response(500, json={"message": f"upstream said {SERVER_HTML}"})
        return httpx.Response(200, json={"task_id": "hub-html-1"})
    return httpx.Response(
        200,
        json={
            "task_id": "hub-html-1",
            "status": "failed",
            "ready": True,
            "error_code": "<b>E_HTML</b>",
            "error_message": SERVER_HTML,
        },
    )


@pytest.fixture
def loopback_hub() -> Iterator[simulator.SimulatorServer]:
    with simulator.serve(speed=200) as server:
        yield server


def test_the_canary_is_text_in_every_widget(
    loopback_hub: simulator.SimulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = set(_widgets())
    history = History(tmp_path / "history")

    # Studio: a completed run with the canary prompt, its Code view, and its Save note.
    studio = Studio(
        "nano-banana",
        client=Fast(base_url=loopback_hub.url, sleep=short_sleep),
        history=history,
        past_runs=0,
        save_folder=tmp_path / "saved",
    )
    studio.form.controls["prompt"].set(PROMPT)
    done = studio.generate()
    # Server HTML in a failed task's error and in a 500 body, through a Studio cell each.
    broken = Studio(
        "nano-banana",
        client=AsyncClient(base_url="http://html.test", transport=httpx.MockTransport(html_hub)),
        history=history,
        past_runs=0,
    )
    broken.form.controls["prompt"].set(PROMPT)
    failed = broken.generate()
    broken.form.controls["prompt"].set(f"500 {PROMPT}")
    errored = broken.generate()
    assert studio.wait_idle(30) and broken.wait_idle(30)
    assert done.status == "completed", done.error
    assert failed.status == "failed" and errored.status == "error"
    cell = studio.cards[0]
    send(studio, "action", action="code", run_id=done.run_id)
    cell.save()
    cell.save(tmp_path / "nowhere" / "\0bad")  # a failing save shows its reason

    # The same runs come back as history cells in a new Studio.
    reopened = Studio(
        "nano-banana", client=Fast(base_url=loopback_hub.url), history=history, past_runs=10
    )
    assert reopened._past_loading is not None
    reopened._past_loading.result(30)
    assert len(reopened.cards) == 3
    rows = [row.record for row in ask_rows(reopened, 0, 3)]

    # The comparison grid is one view with no HTML widgets: see test_grid_security.py.

    # The magic: its task cell (and the offline notice, shown as HTML).
    shown: list[Any] = []
    monkeypatch.setattr(IPython.display, "display", lambda *items, **_: shown.extend(items))
    monkeypatch.setattr(magics, "client_factory", lambda: Fast(base_url=loopback_hub.url))
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "mountsea_widgets")
    magic_result = shell.run_cell_magic("mountsea", "nano-banana", PROMPT)
    assert isinstance(magic_result, Result)
    magic_cells = [item for item in shown if isinstance(item, TaskCell)]
    assert len(magic_cells) == 1

    # Every HTML string of every widget made above, and every view's fallback, is inert...
    created = [widget for key, widget in _widgets().items() if key not in before]
    views = {"studio": studio, "broken": broken, "reopened": reopened, "magic": magic_cells[0]}
    fallbacks = [
        (f"{name}.fallback", view.fallback_bundle()["text/html"]) for name, view in views.items()
    ]
    strings = _html_strings(created) + fallbacks
    assert len(strings) >= len(views)  # one fallback per view at least, all parsed below
    assert [(name, found) for name, text in strings if (found := dangers(text))] == []
    # ...and the canary is really there, as text, where a person reads it.
    escaped = html.escape(CANARY)
    for name, text in fallbacks:
        assert escaped in text, name
    records = {
        "studio": record_of(studio, done),
        "broken failed": record_of(broken, failed),
        "broken 500": record_of(broken, errored),
        "reopened": rows[-1],
        "magic": magic_cells[0].record,
    }
    for name, record in records.items():
        assert CANARY in record["prompt"], name  # the page puts it in with textContent
    assert CANARY in records["studio"]["code"]
    assert SERVER_HTML in records["broken failed"]["error"]  # the failed task
    assert SERVER_HTML in records["broken 500"]["error"]  # the 500 body
    assert "Could not save" in records["studio"]["note"]
    state = json.dumps([view.get_state() for view in views.values()], default=str)
    assert "&lt;" not in state  # text is not escaped twice on its way

    # Result cards (what Jupyter shows for a Result) escape the prompt and the task id.
    card = magic_result._repr_html_()
    assert dangers(card) == [] and escaped in card
    hostile = Result(task_id=CANARY, model="nano-banana", input={"prompt": PROMPT})
    assert dangers(hostile._repr_html_()) == []

    for each in (studio, broken, reopened):
        each.close()
