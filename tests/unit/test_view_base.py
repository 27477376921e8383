"""The base of the views: page messages, the hello answer, the fallback output."""

from __future__ import annotations

from typing import Any

import pytest

from mountsea_widgets.widgets import _page, _view


class Probe(_view.View):
    _esm = _page.page_module()
    _css = _page.page_style()

    def __init__(self) -> None:
        super().__init__()
        self.view_kind = "probe"
        self.sent: list[dict[str, Any]] = []
        self.results = "<script>alert(1)</script> & more"

    def send(self, content: dict[str, Any], buffers: Any = None) -> None:  # type: ignore[override]
        self.sent.append(content)

    def fallback_html(self) -> str:
        import html

        return f"<p>{html.escape(self.results)}</p>"


def test_the_page_module_is_the_common_code_then_the_views_own() -> None:
    module = _page.page_module()
    assert "function connect(model, el" in module
    assert "innerHTML" not in module
    assert ".mw-offline" in _page.page_style()


def test_hello_is_answered_and_unknown_messages_are_ignored() -> None:
    probe = Probe()
    probe.receive({"type": "hello"})
    probe.receive({"type": "no such thing"})
    probe.receive("not even a dict")  # type: ignore[arg-type]
    assert probe.sent == [{"type": "hello"}]


def test_a_failing_handler_is_reported_on_the_view_in_plain_words() -> None:
    probe = Probe()

    def broken(_content: dict[str, Any], _buffers: list[bytes]) -> None:
        raise KeyError("inner detail")

    probe.on_page("break", broken)
    probe.receive({"type": "break"})
    assert probe.sent[-1]["type"] == "problem"
    assert "KeyError" not in probe.sent[-1]["text"]
    assert "break" in probe.sent[-1]["text"]


def test_buffers_reach_the_handler_as_bytes() -> None:
    probe = Probe()
    got: list[list[bytes]] = []
    probe.on_page("file", lambda _content, buffers: got.append(buffers))
    probe.receive({"type": "file"}, [memoryview(b"abc")])
    assert got == [[b"abc"]]


def test_the_fallback_is_escaped_and_names_its_key() -> None:
    probe = Probe()
    bundle = probe.fallback_bundle()
    assert "<script>" not in bundle["text/html"]
    assert "&lt;script&gt;" in bundle["text/html"]
    assert f"mountsea-fallback-{probe.fallback_key}" in bundle["text/html"]
    assert "Not connected to a kernel" in bundle["text/html"]
    assert bundle["text/plain"] == "mountsea-widgets probe"


def test_display_shows_the_widget_then_a_fallback_kept_current(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import IPython.display

    shown: list[tuple[dict[str, Any], str | None]] = []
    updated: list[tuple[dict[str, Any], str]] = []
    monkeypatch.setattr(
        IPython.display,
        "display",
        lambda data, raw=False, metadata=None, display_id=None: shown.append((data, display_id)),
    )
    monkeypatch.setattr(
        IPython.display,
        "update_display",
        lambda data, raw=False, display_id=None: updated.append((data, display_id)),
    )
    probe = Probe()
    probe._ipython_display_()
    assert len(shown) == 2
    widget_view, fallback = shown
    assert widget_view[0]["application/vnd.jupyter.widget-view+json"]["model_id"] == probe.model_id
    assert widget_view[0]["text/plain"] == "mountsea-widgets probe"  # no counts to go stale
    assert fallback[1] is not None and "done so far" not in fallback[0]["text/html"]

    probe.results = "done so far"
    probe.refresh_fallback()
    timer = probe._fallback_timer
    probe.refresh_fallback()  # a burst: one rewrite
    assert timer is not None and probe._fallback_timer is timer
    timer.cancel()
    probe.flush_fallback()
    assert [display_id for _, display_id in updated] == [fallback[1]]
    assert "done so far" in updated[0][0]["text/html"]
    probe.close()


def test_nothing_is_rewritten_before_the_view_was_displayed() -> None:
    probe = Probe()
    probe.refresh_fallback()
    assert probe._fallback_timer is None
