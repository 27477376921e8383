"""The key and the credits service: it goes there only in ``X-API-Key``, and to the hub only in
``Authorization``; it never shows in widget state, logs or messages, also when the service
echoes it back, fails, or redirects elsewhere (a redirect is never followed with the key)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import mountsea_widgets as mw
from mountsea_widgets import simulator
from mountsea_widgets.simulator.hub import Reply, Request
from mountsea_widgets.widgets.studio import Studio

CANARY = "sk-canary-credits-5e1d-DO-NOT-LEAK"


class UsageService:
    """A stand-in credits service on loopback that records every request's headers.

    ``mode``: ``ok`` answers ``{"credits": 123}``; ``echo`` a 500 whose body holds the key it
    got; ``redirect`` a 302 to ``target``.
    """

    def __init__(self, mode: str = "ok", target: str = "") -> None:
        self.seen: list[tuple[str, dict[str, str]]] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                service.seen.append((self.path, headers))
                if mode == "redirect":
                    self.send_response(302)
                    self.send_header("Location", target + "/api-user/credits")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                key = headers.get("x-api-key", "")
                status, body = (200, {"credits": 123}) if mode == "ok" else (500, {"error": key})
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def keyed_hub(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[simulator.SimulatorServer, list[dict[str, str]]]]:
    """A simulator requiring the canary (configured through the environment), recording the
    headers of every request it gets."""
    with simulator.serve(speed=100, api_key=CANARY) as server:
        headers: list[dict[str, str]] = []
        handle = server.hub.handle

        def recording(request: Request) -> Reply:
            headers.append(dict(request.headers))
            return handle(request)

        monkeypatch.setattr(server.hub, "handle", recording)
        monkeypatch.setenv("MOUNTSEA_API_KEY", CANARY)
        monkeypatch.setenv("MOUNTSEA_BASE_URL", server.url)
        monkeypatch.setenv("MOUNTSEA_HISTORY_DIR", str(tmp_path / "history"))
        yield server, headers


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "mountsea_widgets"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def leaks_in_widgets() -> list[str]:
    from ipywidgets.widgets.widget import _instances

    found = []
    for widget in list(_instances.values()):
        for key, value in widget.get_state().items():
            blob = (
                bytes(value)
                if isinstance(value, bytes | memoryview)
                else json.dumps(value, default=repr).encode()
            )
            if CANARY.encode() in blob:
                found.append(f"{type(widget).__name__}.{key}")
    return found


def log_text(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(
        f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records
    )


def run_studio() -> Studio:
    studio = mw.studio("nano-banana", history=False)
    studio.form.controls["prompt"].set("a lighthouse")
    run = studio.generate()
    assert studio.wait_idle(60) and run.status == "completed"
    assert studio.credits_loading is not None
    studio.credits_loading.result(30)
    return studio


def test_key_goes_to_each_service_only_in_its_documented_header(
    keyed_hub: tuple[simulator.SimulatorServer, list[dict[str, str]]],
    all_logs: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, hub_headers = keyed_hub
    usage = UsageService("ok")
    monkeypatch.setenv("MOUNTSEA_USAGE_URL", usage.url)
    try:
        studio = run_studio()
    finally:
        usage.close()
    assert "123 credits" in studio.credits
    assert len(usage.seen) >= 2  # when the Studio opened, and after the run
    for path, headers in usage.seen:
        assert path == "/api-user/credits"
        assert headers.get("x-api-key") == CANARY
        assert "authorization" not in headers and CANARY not in path
    assert hub_headers and all(h.get("authorization") == f"Bearer {CANARY}" for h in hub_headers)
    assert not any("x-api-key" in h for h in hub_headers)
    assert server.hub.account.requests == 0  # the hub's own credits route was never asked
    assert leaks_in_widgets() == []
    assert CANARY not in log_text(all_logs)
    assert CANARY not in repr(studio)


def test_a_service_echoing_the_key_in_its_error_leaks_nothing(
    keyed_hub: tuple[simulator.SimulatorServer, list[dict[str, str]]],
    all_logs: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    usage = UsageService("echo")
    monkeypatch.setenv("MOUNTSEA_USAGE_URL", usage.url)
    try:
        studio = run_studio()
    finally:
        usage.close()
    assert usage.seen  # it was asked, and answered with the key in its body
    assert "answered with status 500" in studio.credits
    assert leaks_in_widgets() == []
    assert CANARY not in log_text(all_logs)


def test_a_redirect_never_carries_the_key_elsewhere(
    keyed_hub: tuple[simulator.SimulatorServer, list[dict[str, str]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    elsewhere = UsageService("ok")
    usage = UsageService("redirect", target=elsewhere.url)
    monkeypatch.setenv("MOUNTSEA_USAGE_URL", usage.url)
    try:
        studio = run_studio()
    finally:
        usage.close()
        elsewhere.close()
    assert usage.seen and elsewhere.seen == []
    assert "answered with status 302" in studio.credits
    assert leaks_in_widgets() == []
