"""The batch summary as one view: its state, its image messages, its Run button, its fallback."""

from __future__ import annotations

import json

import ipywidgets

from mountsea_widgets._images import decode_image
from mountsea_widgets.widgets.batch_summary import BatchSummary
from tests.helpers.images import solid_image
from tests.helpers.views import PageRecorder, send

HOSTILE = "<img src=x onerror=alert(1)> batch"


def _jpeg(colour: tuple[int, int, int]) -> bytes:
    return solid_image(colour, (384, 384), "JPEG")


def test_the_summary_is_one_model_with_small_json_state() -> None:
    before = len(ipywidgets.widgets.widget._instances)
    summary = BatchSummary("batch b1 · ≈ $0.16 estimated")
    assert len(ipywidgets.widgets.widget._instances) - before <= 2
    summary.set_progress(3, 8)
    summary.set_text("3 of 8 done · 2 running")
    summary.set_images([_jpeg((200, 10, 10))])
    state = summary.get_state()
    assert state["progress"] == {"done": 3, "total": 8} and state["images"] == 1
    text = json.dumps({k: v for k, v in state.items() if k not in ("_esm", "_css")})
    assert len(text) < 2_000 and "base64" not in text


def test_latest_images_travel_by_message_only_when_they_change() -> None:
    summary = BatchSummary("batch b1")
    page = PageRecorder(summary)
    red, blue = _jpeg((200, 10, 10)), _jpeg((10, 10, 200))
    summary.set_images([red])
    summary.set_images([red])  # the same images: nothing sent again
    summary.set_images([blue, red, red, red, red])  # newest first, four at most
    sent = [(c, b) for c, b in page.messages if c["type"] == "images"]
    assert [len(buffers) for _, buffers in sent] == [1, 4]
    for _, buffers in sent:
        assert all(b[:2] == b"\xff\xd8" and max(decode_image(b).size) <= 128 for b in buffers)
        assert sum(len(b) for b in buffers) <= 64 * 1024
    send(summary, "thumbs")  # a re-rendered page asks again
    content, buffers = page.messages[-1]
    assert content == {"type": "images", "mime": "image/jpeg"} and len(buffers) == 4


def test_the_run_button_confirms_once_and_cancel_reaches_the_batch() -> None:
    calls: list[str] = []
    summary = BatchSummary(
        "batch b1", on_confirm=lambda: calls.append("confirm"), on_cancel=lambda: calls.append("x")
    )
    summary.ask_confirmation("Run this batch? It is estimated at ≈ $2.40.")
    assert summary.confirm == "Run this batch? It is estimated at ≈ $2.40."
    send(summary, "confirm")
    send(summary, "confirm")
    assert calls == ["confirm"] and summary.confirm == ""
    summary.set_running(True)
    send(summary, "cancel")
    assert calls == ["confirm", "x"] and summary.running


def test_the_fallback_is_escaped_and_shows_progress_and_tiny_images() -> None:
    summary = BatchSummary(HOSTILE)
    summary.set_progress(2, 4)
    summary.set_text(f"2 of 4 done · the hub said {HOSTILE}")
    summary.set_images([_jpeg((10, 200, 10))])
    fallback = summary.fallback_html()
    assert "<img src=x" not in fallback
    assert fallback.count("data:image/jpeg;base64,") == 1 and len(fallback) < 8_000
    assert '<progress value="2" max="4">' in fallback
    assert "&lt;img src=x onerror=alert(1)&gt; batch" in fallback
    assert "2 of 4" not in summary.describe()  # no counts: the saved text is never stale
