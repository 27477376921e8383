"""The simulator as a real HTTP server on 127.0.0.1, in a background thread or in the foreground.

Any HTTP client can talk to it (curl, httpx, a browser). It speaks HTTP/1.1 with keep-alive,
handles each connection in its own daemon thread and keeps a deep accept queue, so hundreds of
concurrently polling tasks do not queue behind each other. The ``drop`` faults close the socket
without writing a response.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .faults import Faults
from .hub import Hub, Request, Stats


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 1024
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], hub: Hub, sleep: Callable[[float], object]
    ) -> None:
        self.hub = hub
        self.sleep = sleep
        self.base_url = ""
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Shut every open keep-alive connection so handler threads end promptly."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "MountseaSimulator/1"
    # TCP_NODELAY: headers and body go out in two writes; with Nagle's algorithm the body
    # waits for the client's delayed ACK, and every answer took ~40 ms longer than it should.
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections are closed after this many seconds
    server: _HTTPServer

    def do_GET(self) -> None:
        self._answer()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            base_url=self.server.base_url,
        )
        reply = self.server.hub.handle(request)
        if reply.delay:
            self.server.sleep(reply.delay)
        if reply.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a simulator serving tests should not flood stderr."""


class SimulatorServer:
    """A running simulator: ``.url`` to point a client at, ``.stats``, ``.hub``, ``.close()``."""

    def __init__(
        self,
        hub: Hub,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.hub = hub
        self._server = _HTTPServer((host, port), hub, sleep)
        bound_host, bound_port = self._server.server_address[:2]
        self.host = str(bound_host)
        self.port = int(bound_port)
        self.url = f"http://{self.host}:{self.port}"
        self._server.base_url = self.url
        self._thread: threading.Thread | None = None
        self._closed = False

    def __repr__(self) -> str:
        state = "closed" if self._closed else "running"
        return f"SimulatorServer({self.url}, {state}, {self.hub!r})"

    @property
    def stats(self) -> Stats:
        """The hub's counters (requests per route, rejections, submitted, in_flight...)."""
        return self.hub.stats

    def start(self) -> SimulatorServer:
        """Serve in a background daemon thread; returns ``self``."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"mountsea-simulator-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the command line uses this)."""
        try:
            self._server.serve_forever(poll_interval=0.25)
        finally:
            self._server.server_close()

    def close(self) -> None:
        """Stop serving, close open connections and the drawing workers. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
        self._server.close_connections()
        self.hub.close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def serve(
    port: int = 0,
    *,
    speed: float = 1.0,
    faults: Faults | str | None = None,
    api_key: str | None = None,
    submit_shape: str = "task_id",
    seed: int = 0,
    host: str = "127.0.0.1",
    **hub_options: Any,
) -> SimulatorServer:
    """Start a simulator on ``host:port`` (0 = a free port) in a background thread.

    Use it as a context manager::

        with serve(speed=50) as hub:
            client = mw.Client(base_url=hub.url)

    Extra ``hub_options`` (``clock``, ``prerender``, ``catalog``) go to :class:`Hub`.
    """
    hub = Hub(
        speed=speed,
        faults=faults,
        api_key=api_key,
        submit_shape=submit_shape,
        seed=seed,
        **hub_options,
    )
    return SimulatorServer(hub, host=host, port=port).start()
