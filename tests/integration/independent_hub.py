"""A minimal hub written only from the hub documentation, independent of mountsea_widgets.

It must never import mountsea_widgets: its purpose is to check that the client speaks the
*documented* protocol, not merely agrees with our own simulator.

Implemented from the notes on ``POST /hub/v1/image`` and ``GET /hub/v1/tasks/:task_id``:

* every call needs ``Authorization: Bearer <api-key>`` (401 otherwise);
* the submit body is ``{"model": ..., "input": {...}}``; the answer is the documented HTTP 200
  body ``{task_id: "hub-<uuid>", status: "pending", capability, model, vendor, mode,
  created_at}`` — or, in the ``taskId`` variant, HTTP 201 ``{"taskId": "<uuid>"}``;
* a task goes pending → processing → completed over a few polls; ``ready`` turns true when it
  finishes; ``data`` is fal-style ``{"images": [{url, content_type, file_name, width,
  height}], "description": ""}``; ``elapsed_ms`` is the processing time;
* the image URL serves a small PNG (no key needed, like a CDN URL).
"""

from __future__ import annotations

import io
import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from PIL import Image

VENDORS = {"nano-banana": "Google", "nano-banana-2": "Google", "nano-banana-pro": "Google"}
IMAGE_SIZE = (64, 48)


@dataclass
class HubTask:
    """One task as the independent hub keeps it."""

    id: str
    model: str
    input: dict[str, Any]
    polls: int = 0


@dataclass
class HubState:
    """What the hub has seen, for assertions."""

    api_key: str
    submit_shape: str = "task_id"
    polls_to_complete: int = 3
    tasks: dict[str, HubTask] = field(default_factory=dict)
    submits: list[dict[str, Any]] = field(default_factory=list)
    auth_headers: list[str | None] = field(default_factory=list)
    file_auth_headers: list[str | None] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def render_png(seed: int) -> bytes:
    """A small solid PNG whose colour depends on the seed (red for seed 1)."""
    colours = [(0, 0, 0), (220, 30, 30), (30, 160, 60), (40, 60, 200)]
    buffer = io.BytesIO()
    Image.new("RGB", IMAGE_SIZE, colours[seed % len(colours)]).save(buffer, format="PNG")
    return buffer.getvalue()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return

    # -- helpers ---------------------------------------------------------------------------------

    def _json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization")
        state = self.server.state
        with state.lock:
            state.auth_headers.append(header)
        if header != f"Bearer {state.api_key}":
            self._json(
                401, {"statusCode": 401, "message": "Invalid API key", "error": "Unauthorized"}
            )
            return False
        return True

    # -- routes ----------------------------------------------------------------------------------

    def do_POST(self) -> None:
        if self.path != "/hub/v1/image":
            self._json(404, {"statusCode": 404, "message": "Not Found"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if not self._authorised():
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self._json(
                400, {"statusCode": 400, "message": "body is not JSON", "error": "Bad Request"}
            )
            return
        model = body.get("model") if isinstance(body, dict) else None
        task_input = body.get("input") if isinstance(body, dict) else None
        if model not in VENDORS or not isinstance(task_input, dict) or not task_input.get("prompt"):
            self._json(
                400,
                {
                    "statusCode": 400,
                    "message": ["model or input.prompt invalid"],
                    "error": "Bad Request",
                },
            )
            return
        state = self.server.state
        ident = str(uuid.uuid4())
        task_id = f"hub-{ident}" if state.submit_shape == "task_id" else ident
        with state.lock:
            state.submits.append(body)
            state.tasks[task_id] = HubTask(task_id, model, task_input)
        if state.submit_shape == "task_id":
            self._json(
                200,
                {
                    "task_id": task_id,
                    "status": "pending",
                    "capability": "image",
                    "model": model,
                    "vendor": VENDORS[model],
                    "mode": "text-to-image",
                    "created_at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                },
            )
        else:
            self._json(201, {"taskId": task_id})

    def do_GET(self) -> None:
        if self.path.startswith("/files/"):
            self._file()
            return
        if not self.path.startswith("/hub/v1/tasks/"):
            self._json(404, {"statusCode": 404, "message": "Not Found"})
            return
        if not self._authorised():
            return
        task_id = self.path[len("/hub/v1/tasks/") :]
        state = self.server.state
        with state.lock:
            task = state.tasks.get(task_id)
            if task is not None:
                task.polls += 1
                polls = task.polls
        if task is None:
            self._json(404, {"statusCode": 404, "message": "Task not found"})
            return
        if polls >= state.polls_to_complete:
            host = self.headers.get("Host")
            width, height = IMAGE_SIZE
            self._json(
                200,
                {
                    "task_id": task_id,
                    "status": "completed",
                    "ready": True,
                    "elapsed_ms": 1234,
                    "data": {
                        "images": [
                            {
                                "url": f"http://{host}/files/{task_id}/output.png",
                                "content_type": "image/png",
                                "file_name": "output.png",
                                "width": width,
                                "height": height,
                            }
                        ],
                        "description": "",
                    },
                },
            )
        else:
            status = "pending" if polls == 1 else "processing"
            self._json(200, {"task_id": task_id, "status": status, "ready": False})

    def _file(self) -> None:
        parts = self.path.split("/")
        state = self.server.state
        with state.lock:
            state.file_auth_headers.append(self.headers.get("Authorization"))
            task = state.tasks.get(parts[2]) if len(parts) > 2 else None
        if task is None:
            self._json(404, {"statusCode": 404, "message": "Not Found"})
            return
        seed = task.input.get("seed")
        data = render_png(seed if isinstance(seed, int) else 0)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: HubState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


class IndependentHub:
    """Runs the hub on 127.0.0.1 on a free port in a background thread (a context manager)."""

    def __init__(self, api_key: str, *, submit_shape: str = "task_id", polls_to_complete: int = 3):
        self.state = HubState(api_key, submit_shape, polls_to_complete)
        self._server = _Server(self.state)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        text = host.decode() if isinstance(host, bytes) else host
        return f"http://{text}:{port}"

    def __enter__(self) -> IndependentHub:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
