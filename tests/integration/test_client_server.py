"""Client against real servers on loopback: the embedded offline simulator, and a server that
drags its answer out a byte at a time."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from mountsea_widgets import errors
from mountsea_widgets.client import Client


def test_no_key_and_no_url_means_the_offline_simulator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOUNTSEA_API_KEY", raising=False)
    monkeypatch.delenv("MOUNTSEA_BASE_URL", raising=False)
    from mountsea_widgets.simulator import embedded

    with Client() as client:
        assert client.offline
        assert client.base_url == embedded().url
        result = client.generate("nano-banana", "a red cube", seed=1)
        assert result.simulated
        assert result.images[0].size == (1024, 1024)


class TrickleServer:
    """Answers every GET with a JSON body sent one byte every ``gap_s`` seconds, forever."""

    def __init__(self, gap_s: float = 0.1) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        stop = self.stop = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                self.wfile.write(b"{")
                while not stop.wait(gap_s):
                    try:
                        self.wfile.write(b" ")
                        self.wfile.flush()
                    except OSError:
                        return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


def test_a_poll_answer_trickled_a_byte_at_a_time_ends_as_a_timeout() -> None:
    trickle = TrickleServer(gap_s=0.1)  # every read succeeds: only a whole-answer limit helps
    outcome: list[BaseException] = []

    def poll() -> None:
        with Client(base_url=trickle.url, timeout=1.0, max_retries=1, sleep=lambda _s: None) as c:
            try:
                c.wait("hub-1", timeout=2.0)
            except BaseException as exc:  # handed to the test thread
                outcome.append(exc)

    worker = threading.Thread(target=poll, daemon=True)
    try:
        worker.start()
        worker.join(60)  # without the limit this wait never ends
        assert not worker.is_alive(), "the trickled answer held the wait past its deadline"
    finally:
        trickle.close()
    assert len(outcome) == 1 and isinstance(outcome[0], errors.APITimeoutError), outcome
    assert "longer than 1 s" in str(outcome[0]) and "hub-1" in str(outcome[0])
