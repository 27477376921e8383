"""The API key in log records, and compressed answers, against a real server on loopback.

* A hub that echoes the key in its answer headers (plain and percent-encoded) and redirects an
  image to a ``Location`` carrying it: at DEBUG, no record of ``httpx``, ``httpcore`` or
  ``mountsea_widgets`` holds the key while the client lives.
* A gzip answer that inflates a thousandfold is refused once past the JSON cap, even for a
  task asked with ``sync_mode`` (whose answer may be big, but not compressible like that).
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from PIL import Image

from mountsea_widgets import errors
from mountsea_widgets.client import MAX_JSON_BYTES, AsyncClient, Client

pytestmark = pytest.mark.timeout(120)

KEY = "sk-log+canary/echo=1357"
FORMS = (KEY, quote(KEY, safe=""), quote(KEY), quote_plus(KEY))


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(buffer, format="PNG")
    return buffer.getvalue()


PNG = _png()


class EchoingHub:
    """Submit, poll and image routes; every answer echoes the key in its headers, the image
    goes through a redirect whose Location carries the key, and ``/hub/v1/tasks/bomb``
    answers a gzip compression bomb."""

    def __init__(self) -> None:
        hub = self
        self.paths: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                # The echo of a key in headers: httpcore logs every header at DEBUG.
                self.send_header("X-Echo-Key", KEY)
                self.send_header("X-Echo-Quoted", quote(KEY, safe=""))
                self.send_header("Set-Cookie", f"session={quote_plus(KEY)}")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def _json(self, body: dict[str, Any]) -> None:
                self._send(200, json.dumps(body).encode(), {"Content-Type": "application/json"})

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._json({"task_id": "echo-1", "status": "pending"})

            def do_GET(self) -> None:
                hub.paths.append(self.path)
                if self.path == "/hub/v1/tasks/bomb":
                    pad = "A" * (4 * MAX_JSON_BYTES)
                    body = {"task_id": "bomb", "status": "processing", "pad": pad}
                    packed = gzip.compress(json.dumps(body).encode(), compresslevel=1)
                    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
                    self._send(200, packed, headers)
                elif self.path.startswith("/hub/v1/tasks/"):
                    url = f"{hub.url}/redirect/1.png"
                    self._json(
                        {
                            "task_id": "echo-1",
                            "status": "completed",
                            "ready": True,
                            "data": {"images": [{"url": url}]},
                        }
                    )
                elif self.path.startswith("/redirect/"):
                    # httpx logs the next request's URL at INFO: it carries the key.
                    location = f"/files/1.png?token={quote(KEY, safe='')}&k={KEY}"
                    self._send(302, b"", {"Location": location})
                else:
                    self._send(200, PNG, {"Content-Type": "image/png"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> EchoingHub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def echoing_hub() -> Iterator[EchoingHub]:
    with EchoingHub() as hub:
        yield hub


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    for name in ("httpx", "httpcore", "mountsea_widgets"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def _leaks(records: list[logging.LogRecord]) -> list[str]:
    texts = []
    for record in records:
        text = record.getMessage() + (record.exc_text or "")
        if any(form in text for form in FORMS):
            texts.append(f"{record.name}: {text[:300]}")
    return texts


def test_no_debug_record_holds_the_key_echoed_in_headers_or_a_redirect(
    echoing_hub: EchoingHub, debug_logs: pytest.LogCaptureFixture
) -> None:
    with Client(api_key=KEY, base_url=echoing_hub.url, sleep=lambda _s: None) as client:
        result = client.generate("nano-banana", "a cube", seed=1)
    assert result.image_bytes == [PNG]
    assert "/files/1.png?token=" in "".join(echoing_hub.paths)  # the redirect was followed
    records = debug_logs.records
    names = {record.name for record in records}
    # The records that would carry the key are there (so the test can fail) ...
    assert "httpx" in names and any(name.startswith("httpcore.") for name in names)
    requests = [r.getMessage() for r in records if r.getMessage().startswith("HTTP Request:")]
    assert any("/files/1.png?token=***&k=***" in text for text in requests), requests
    headers = [r.getMessage() for r in records if "X-Echo-Key" in r.getMessage()]
    assert headers and all("***" in text for text in headers)
    # ... and none holds the key, plain or percent-encoded.
    assert _leaks(records) == []


def test_the_async_client_scrubs_its_records_too(
    echoing_hub: EchoingHub, debug_logs: pytest.LogCaptureFixture
) -> None:
    import asyncio

    async def main() -> None:
        async with AsyncClient(api_key=KEY, base_url=echoing_hub.url) as client:
            await client.generate("nano-banana", "a cube", seed=1)

    asyncio.run(main())
    assert any(r.getMessage().startswith("HTTP Request:") for r in debug_logs.records)
    assert _leaks(debug_logs.records) == []


def test_scrubbing_lasts_while_a_client_holding_the_key_lives(
    echoing_hub: EchoingHub, debug_logs: pytest.LogCaptureFixture
) -> None:
    first = Client(api_key=KEY, base_url=echoing_hub.url, sleep=lambda _s: None)
    second = Client(api_key=KEY, base_url=echoing_hub.url, sleep=lambda _s: None)
    first.close()
    second.generate("nano-banana", "a cube", seed=1)  # one client with the key still lives
    assert _leaks(debug_logs.records) == []
    second.close()
    # Once none does, records are no longer rewritten (the key is no longer in this process's
    # clients): the scrubbing is taken out rather than left to cost every record.
    logging.getLogger("httpcore.http11").debug("after close %s", KEY)
    assert debug_logs.records[-1].getMessage() == f"after close {KEY}"


def test_a_compression_bomb_is_refused_even_for_a_sync_mode_task(
    echoing_hub: EchoingHub,
) -> None:
    client = Client(api_key=KEY, base_url=echoing_hub.url, sleep=lambda _s: None)
    with client, pytest.raises(errors.ResponseTooLargeError) as info:
        client.wait("bomb", input={"sync_mode": True}, timeout=600)
    message = str(info.value)
    assert "compression bomb" in message and "4 MiB" in message
    assert info.value.task_id == "bomb"  # type: ignore[attr-defined]
    assert KEY not in message
