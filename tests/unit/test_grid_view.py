"""The comparison grid as one view: its synced state, its messages, its pages and its fallback.

No browser: the page's messages are delivered with tests/helpers/views.py, what the view sends
is recorded, and runs go through the real client into the simulator's in-process transport.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from typing import Any

import ipywidgets
import pytest

from mountsea_widgets import simulator
from mountsea_widgets._images import decode_image
from mountsea_widgets.client import AsyncClient
from mountsea_widgets.comparison import Comparison, compare, plan
from mountsea_widgets.widgets.grid import ComparisonGrid
from tests.helpers.views import PageRecorder, send
from tests.helpers.waiting import short_sleep

CANARY = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
EIGHT_PROMPTS = [f"a cube, take {n}" for n in range(8)]


@pytest.fixture
def inprocess_hub() -> Iterator[simulator.Hub]:
    hub = simulator.Hub(speed=500, prerender=False)
    yield hub
    hub.close()


@pytest.fixture
def client(inprocess_hub: simulator.Hub) -> AsyncClient:
    return AsyncClient(
        base_url="http://hub.test", transport=simulator.transport(inprocess_hub), sleep=short_sleep
    )


def _models() -> int:
    return len(ipywidgets.widgets.widget._instances)


class SentBytes:
    """Counts every byte a widget hands its comm: state syncs and custom messages alike."""

    def __init__(self, widget: Any) -> None:
        self.total = 0
        original = widget._send

        def count(msg: dict[str, Any], buffers: list[Any] | None = None) -> None:
            self.total += len(json.dumps(msg, default=str))
            self.total += sum(len(bytes(buffer)) for buffer in buffers or ())
            original(msg, buffers)

        widget._send = count


def _grid_of_64() -> Comparison:
    layout = plan(prompts=EIGHT_PROMPTS, models=["nano-banana-2"], seeds=list(range(8)))
    assert len(layout.cells) == 64
    return Comparison(layout)


# --- widget models ------------------------------------------------------------------------------


def test_a_64_cell_grid_is_at_most_five_widget_models() -> None:
    before = _models()
    comparison = _grid_of_64()
    grid = comparison.widget
    made = _models() - before
    assert made <= 5, made
    assert isinstance(grid, ComparisonGrid) and len(grid.cells) == 64
    assert grid.shape == (8, 8)


def test_the_synced_state_is_json_and_bounded_with_no_image_bytes() -> None:
    grid = _grid_of_64().widget
    state = grid.get_state()
    text = json.dumps({k: v for k, v in state.items() if k not in ("_esm", "_css")})
    # 64 records, labels, summary: a few KB, never megabytes of pictures.
    assert len(text) < 40_000, len(text)
    assert "base64" not in text and "\\xff\\xd8" not in text
    assert {"index", "status", "seconds", "estimate", "thumb"} <= set(grid.cells[0])
    assert grid.cells[0]["estimate"].startswith("≈ $")


# --- a running grid -----------------------------------------------------------------------------


def test_finished_cells_send_one_small_thumbnail_each_and_the_state_follows(
    client: AsyncClient,
) -> None:
    comparison = compare(
        "a lighthouse",
        models=["nano-banana-2"],
        vary={"aspect_ratio": ["1:1", "16:9"]},
        seeds=[1, 2],
        client=client,
        history=False,
    )
    grid = comparison.widget
    page = PageRecorder(grid)
    comparison.wait(60)
    grid.flush()
    thumbs = [
        (content, buffers) for content, buffers in page.messages if content["type"] == "thumb"
    ]
    # Each cell's thumbnail is sent once, when it finished (or was already there at once).
    sent_for = sorted(content["index"] for content, _ in thumbs)
    already = [index for index in range(4) if index not in sent_for]
    assert sorted(sent_for + already) == [0, 1, 2, 3]
    for content, buffers in thumbs:
        (jpeg,) = buffers
        assert jpeg[:2] == b"\xff\xd8" and len(jpeg) <= 64 * 1024
        assert max(decode_image(jpeg).size) <= 160
        assert content["mime"] == "image/jpeg"
    assert [record["status"] for record in grid.cells] == ["completed"] * 4
    assert all(record["thumb"] and record["seconds"] is not None for record in grid.cells)
    assert [record["running"] for record in grid.cells] == [False] * 4
    assert grid.progress == {"done": 4, "total": 4}
    assert page.of_type("cell")  # the page heard of changes as they came


def test_the_page_asks_for_thumbnails_after_a_re_render(client: AsyncClient) -> None:
    comparison = compare(
        "a lighthouse", models=["nano-banana-2"], seeds=[1, 2], client=client, history=False
    ).wait(60)
    grid = comparison.widget
    page = PageRecorder(grid)
    send(grid, "thumbs")
    ((content, buffers),) = [m for m in page.messages if m[0]["type"] == "thumbs"]
    assert [item["index"] for item in content["thumbs"]] == [0, 1]
    assert [record["status"] for record in content["cells"]] == ["completed", "completed"]
    assert len(buffers) == 2 and all(b[:2] == b"\xff\xd8" for b in buffers)
    assert buffers[0] == grid.thumbnail(0)


def test_bytes_to_the_page_per_finished_cell_stay_under_64_kb(client: AsyncClient) -> None:
    layout = plan(prompts=EIGHT_PROMPTS[:4], models=["nano-banana-2"], seeds=list(range(4)))
    comparison = Comparison(layout, client=client, concurrency=8, history=False)
    grid = comparison.widget
    sent = SentBytes(grid)
    comparison.start()
    comparison.wait(120)
    grid.flush()
    finished = sum(1 for cell in comparison.cells if cell.status == "completed")
    assert finished == 16
    assert sent.total / finished <= 64 * 1024, sent.total / finished


def test_a_click_on_a_thumbnail_gets_the_image_bounded(client: AsyncClient) -> None:
    comparison = compare(
        "a lighthouse",
        models=["nano-banana-2"],
        params={"resolution": "2K"},
        client=client,
        history=False,
    ).wait(60)
    grid = comparison.widget
    page = PageRecorder(grid)
    send(grid, "full", index=0)
    ((content, buffers),) = [m for m in page.messages if m[0]["type"] == "full"]
    (image,) = buffers
    assert content["index"] == 0 and content["mime"] == "image/jpeg"
    assert max(decode_image(image).size) <= 1280
    assert (content["width"], content["height"]) == decode_image(image).size
    send(grid, "full", index=99)  # no such cell: nothing, and no problem either
    send(grid, "full", index="0")
    assert len(page.of_type("full")) == 1 and page.of_type("problem") == []


def test_a_cell_without_an_image_answers_a_click_in_words() -> None:
    comparison = Comparison(plan("a cat", models=["nano-banana"], vary={"aspect_ratio": ["8:1"]}))
    grid = comparison.widget
    page = PageRecorder(grid)
    send(grid, "full", index=0)
    (answer,) = page.of_type("full")
    assert answer["text"] == "This cell has no image to show yet."


# --- confirm="ask" ------------------------------------------------------------------------------


def test_the_run_button_message_starts_an_asked_grid_once(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOUNTSEA_CONFIRM_ABOVE", "0.01")
    comparison = compare(
        "a lighthouse", models=["nano-banana-2"], seeds=[1, 2], client=client, confirm="ask"
    )
    grid = comparison.widget
    assert comparison.awaiting_confirmation
    assert grid.confirm.startswith("Run this grid? It is estimated at ≈ $")
    assert "Estimated cost" in grid.estimate
    send(grid, "confirm")
    send(grid, "confirm")  # a second click sends nothing twice
    comparison.wait(60)
    assert [cell.status for cell in comparison.cells] == ["completed", "completed"]
    assert grid.confirm == "" and not comparison.awaiting_confirmation


def test_cancel_from_the_page_stops_a_running_grid() -> None:
    slow = simulator.Hub(speed=0.01, prerender=False)
    try:
        patient = AsyncClient(base_url="http://hub.test", transport=simulator.transport(slow))
        comparison = compare("a cat", models=["nano-banana"], client=patient, history=False)
        grid = comparison.widget
        send(grid, "cancel")
        comparison.wait(30)
        assert [cell.status for cell in comparison.cells] == ["cancelled"]
        assert grid.running is False
    finally:
        slow.close()


# --- pages (a third varied axis) ----------------------------------------------------------------


def test_a_third_axis_pages_the_grid_and_the_picker_only_changes_what_is_shown(
    client: AsyncClient,
) -> None:
    comparison = compare(
        "a lighthouse",
        models=["nano-banana-2"],
        vary={"aspect_ratio": ["1:1", "16:9"], "seed": [1, 2], "resolution": ["0.5K", "1K"]},
        client=client,
        history=False,
    )
    grid = comparison.widget
    assert grid.pages == ["resolution = 0.5K", "resolution = 1K"] and grid.page == 0
    assert grid.rows == ["nano-banana-2\nseed = 1", "nano-banana-2\nseed = 2"]
    page = PageRecorder(grid)
    comparison.wait(60)  # every page's cells run, not only the shown one
    assert [cell.status for cell in comparison.cells] == ["completed"] * 8
    grid.flush()
    assert [record["index"] for record in grid.cells] == [0, 1, 2, 3]
    assert {m[0]["index"] for m in page.messages if m[0]["type"] == "thumb"} <= {0, 1, 2, 3}
    send(grid, "page", page=1)
    assert grid.page == 1
    assert [record["index"] for record in grid.cells] == [4, 5, 6, 7]
    assert {record["page"] for record in grid.cells} == {1}
    answer, buffers = page.messages[-1]
    assert answer["type"] == "thumbs" and answer["page"] == 1
    assert [item["index"] for item in answer["thumbs"]] == [4, 5, 6, 7] and len(buffers) == 4
    send(grid, "page", page=7)
    assert grid.page == 1 and "no page 7" in grid.problem
    grid.show_page(0)  # from Python too
    assert grid.page == 0 and grid.problem == "" and grid.cells[0]["index"] == 0
    with pytest.raises(ValueError, match="page must be between 0 and 1"):
        grid.show_page(2)
    assert "2 pages" in grid.describe()


# --- text: escaped, bounded ---------------------------------------------------------------------


def test_a_hostile_prompt_stays_text_in_the_records_and_escaped_in_the_fallback(
    client: AsyncClient,
) -> None:
    comparison = compare(
        CANARY,
        models=["nano-banana-2"],
        vary={"aspect_ratio": ["1:1", CANARY]},
        client=client,
        history=False,
    ).wait(60)
    grid = comparison.widget
    assert grid.title == CANARY  # as written: the page sets it with textContent
    assert grid.columns[1] == f"aspect_ratio = {CANARY}"
    assert comparison.records()[0]["prompt"] == CANARY
    assert grid.cells[1]["status"] == "rejected" and "is not allowed" in grid.cells[1]["message"]
    fallback = grid.fallback_html()
    assert "<img src=x" not in fallback and "<script>" not in fallback
    assert html.escape(CANARY) in fallback
    assert "data:image/jpeg;base64," in fallback  # the finished cell's tiny thumbnail
    bundle = grid.fallback_bundle()
    assert "<script>" not in bundle["text/html"] and "<img src=x" not in bundle["text/html"]


def test_the_fallback_of_a_big_finished_grid_stays_small(client: AsyncClient) -> None:
    layout = plan(prompts=EIGHT_PROMPTS, models=["nano-banana-2"], seeds=list(range(8)))
    comparison = Comparison(layout, client=client, concurrency=16, history=False)
    grid = comparison.widget
    comparison.start().wait(120)
    fallback = grid.fallback_html()
    assert fallback.count("data:image/jpeg;base64,") >= 4  # some thumbnails...
    assert len(fallback) <= 30 * 1024, len(fallback)  # ...inside a budget
    assert fallback.count(">completed</b>") == 64  # and every cell's status


def test_marimo_and_ipython_are_shown_the_view(monkeypatch: pytest.MonkeyPatch) -> None:
    import IPython.display

    comparison = Comparison(plan("a cat", models=["nano-banana"], vary={"aspect_ratio": ["8:1"]}))
    assert comparison._display_() is comparison.widget  # marimo renders anywidget models
    shown: list[Any] = []
    monkeypatch.setattr(
        IPython.display, "display", lambda *items, **options: shown.append((items, options))
    )
    comparison._ipython_display_()
    (view, _), (fallback, options) = shown
    model_id = view[0]["application/vnd.jupyter.widget-view+json"]["model_id"]
    assert model_id == comparison.widget.model_id
    assert "mountsea-fallback" in fallback[0]["text/html"] and options["display_id"]
