"""Hub answers a real server could send, met end to end through a loopback HTTP server.

The server below keeps to the hub's routes but words its answers the way other gateways do:
endings spelled "done", "Finished" or "FAILURE" without a ``ready`` flag, ``ready`` as the
string "true", ``ready: true`` beside "processing" before the images exist, a submit answer
wrapped as ``{"code": 0, "data": {...}}`` (also with ``data`` as JSON text) and its task
answers wrapped the same way, one naming two different task ids, ``data`` as JSON text,
relative and protocol-relative image URLs, and images given only as base64 ``content``.
Each run goes through the runner and a History, so what the journal keeps is checked too.
Time is a manual clock advanced by the client's sleeps, so the deadline is reached by polls,
never by the machine's speed.
"""

from __future__ import annotations

import base64
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

import pytest
from PIL import Image

from mountsea_widgets import errors
from mountsea_widgets._runner import Runner
from mountsea_widgets.client import AsyncClient
from mountsea_widgets.history import History
from mountsea_widgets.run import Run, start

pytestmark = pytest.mark.timeout(120)

KEY = "sk-answers-hub-0099"
#: Our deadline for each run, in seconds of the manual clock.
DEADLINE_S = 300.0


def small_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (12, 12), "orange").save(buffer, format="PNG")
    return buffer.getvalue()


GOOD = small_png()
NOT_AN_IMAGE = b"<html><body>certainly not an image</body></html>"


class ManualClock:
    """The client's clock: moves only when the client sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


class AnswersHub:
    """The hub's routes with other gateways' wording; the prompt's first word picks the case."""

    #: What POST /hub/v1/image answers for some cases (the rest get {"task_id": "hub-<case>"}).
    SUBMITS: ClassVar[dict[str, dict[str, Any]]] = {
        "ambiguous": {"task_id": "hub-ambiguous-a", "taskId": "hub-ambiguous-b"},
        "wrapped": {"code": 0, "msg": "ok", "data": {"task_id": "hub-wrapped"}},
        "wrappedtext": {"code": 0, "data": json.dumps({"taskId": "hub-wrappedtext"})},
    }

    def __init__(self) -> None:
        self.tasks: dict[str, str] = {}
        self.polls: dict[str, int] = {}
        self.requests: list[str] = []
        #: (Host header, path) -> Authorization header of each image request.
        self.image_auth: dict[tuple[str, str], str | None] = {}
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, payload: Any) -> None:
                self._send(status, json.dumps(payload).encode(), "application/json")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length))
                case = payload["input"]["prompt"].split()[0]
                hub.requests.append(f"POST {case}")
                answer = AnswersHub.SUBMITS.get(case, {"task_id": f"hub-{case}"})
                for task_id in _ids(answer):
                    hub.tasks[task_id] = case
                self._json(200, answer)

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                hub.requests.append(f"GET {path}")
                if path.startswith("/hub/v1/tasks/"):
                    task_id = unquote(path[len("/hub/v1/tasks/") :])
                    case = hub.tasks.get(task_id)
                    if case is None:
                        self._json(404, {"message": f"no task {task_id}"})
                        return
                    hub.polls[task_id] = hub.polls.get(task_id, 0) + 1
                    self._json(200, hub.task_body(case, task_id, hub.polls[task_id]))
                    return
                hub.image_auth[(self.headers.get("Host", ""), path)] = self.headers.get(
                    "Authorization"
                )
                if path == "/img/good.png":
                    self._send(200, GOOD, "image/png")
                else:
                    self._json(404, {"message": "no such file"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def task_body(self, case: str, task_id: str, poll: int) -> dict[str, Any]:
        good = {"images": [{"url": f"{self.url}/img/good.png", "content_type": "image/png"}]}
        if case == "done":
            return {"task_id": task_id, "status": "done", "data": good}
        if case == "finished":
            return {"task_id": task_id, "status": "Finished", "data": good}
        if case == "failure":
            return {"task_id": task_id, "status": "FAILURE", "error_message": "the model refused"}
        if case == "readytext":
            return {"task_id": task_id, "status": "processing", "ready": "true", "data": good}
        if case == "stuck" or (case == "readyearly" and poll <= 2):
            # "ready" before the images exist: the task is still running.
            return {"task_id": task_id, "status": "processing", "ready": True}
        if case == "datatext":
            return {"task_id": task_id, "status": "completed", "data": json.dumps(good)}
        images: list[dict[str, Any]] = good["images"]
        if case == "relative":
            images = [{"url": "/img/good.png"}]
        elif case == "protocolrelative":
            # Another origin (the same server under another name): the key must not go there.
            images = [{"url": f"//localhost:{self.port}/img/good.png"}]
        elif case == "content":
            images = [{"content": base64.b64encode(GOOD).decode(), "content_type": "image/png"}]
        elif case == "contentbad":
            images = [{"content": base64.b64encode(NOT_AN_IMAGE).decode()}]
        task = {
            "task_id": task_id,
            "status": "completed",
            "ready": True,
            "data": {"images": images},
        }
        # A gateway that wraps its submit answers wraps its task answers too.
        return {"code": 0, "msg": "ok", "data": task} if case == "wrapped" else task

    def __enter__(self) -> AnswersHub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _pixels(image: Path | bytes) -> tuple[tuple[int, int], Any]:
    with Image.open(image if isinstance(image, Path) else io.BytesIO(image)) as opened:
        return opened.size, opened.convert("RGB").getpixel((5, 5))


def _ids(answer: dict[str, Any]) -> list[str]:
    places = [answer]
    data = answer.get("data")
    data = json.loads(data) if isinstance(data, str) else data
    if isinstance(data, dict):
        places.append(data)
    return [str(p[k]) for p in places for k in ("task_id", "taskId") if k in p]


@pytest.fixture
def hub() -> Iterator[AnswersHub]:
    with AnswersHub() as server:
        yield server


@pytest.fixture
def runner() -> Iterator[Runner]:
    made = Runner(name="answers-runner")
    yield made
    made.shutdown()


COMPLETED = [
    "done",
    "finished",
    "readytext",
    "readyearly",
    "datatext",
    "relative",
    "protocolrelative",
    "content",
    "wrapped",
    "wrappedtext",
]


def _runs(hub: AnswersHub, runner: Runner, history: History, cases: list[str]) -> dict[str, Run]:
    clock = ManualClock()
    client = AsyncClient(api_key=KEY, base_url=hub.url, sleep=clock.sleep, clock=clock)
    runs = {
        case: Run("nano-banana", {"prompt": f"{case} please"}, deadline_s=DEADLINE_S)
        for case in cases
    }
    futures = [start(run, client, history, runner=runner) for run in runs.values()]
    for future in futures:
        future.result(60)
    runner.run(client.aclose())
    return runs


def test_every_ending_a_gateway_may_word_is_seen_at_once(
    hub: AnswersHub, runner: Runner, tmp_path: Path
) -> None:
    history = History(tmp_path / "history")
    runs = _runs(hub, runner, history, [*COMPLETED, "failure", "contentbad"])
    journal = {entry.run_id: entry for entry in history.entries()}

    for case in COMPLETED:
        run = runs[case]
        assert run.status == "completed", (case, run.error)
        assert run.result is not None and run.result.image_count == 1, case
        entry = journal[run.run_id]
        assert (entry.status, entry.task_id) == ("completed", run.task_id), case
        assert len(entry.files) == 1 and _pixels(entry.files[0]) == _pixels(GOOD), case
    assert runs["wrapped"].task_id == "hub-wrapped"
    assert runs["wrappedtext"].task_id == "hub-wrappedtext"

    # Seen on the first poll, not at our deadline; "ready" before the images: polled again.
    for case in ("done", "finished", "readytext", "datatext", "failure", "content"):
        assert hub.polls[f"hub-{case}"] == 1, case
    assert hub.polls["hub-readyearly"] == 3

    failed = runs["failure"]
    assert failed.status == "failed" and isinstance(failed.exception, errors.TaskFailedError)
    assert "the model refused" in (failed.error or "")
    assert journal[failed.run_id].status == "failed"

    bad = runs["contentbad"]
    assert isinstance(bad.exception, errors.ImageError) and "not an image" in (bad.error or "")
    assert not (tmp_path / "history" / "images").exists() or all(
        b"certainly not" not in path.read_bytes()
        for path in (tmp_path / "history" / "images").iterdir()
    )

    # Relative URLs went to the hub (with its key); the protocol-relative one to the other
    # origin, without the key.
    assert hub.image_auth[(f"127.0.0.1:{hub.port}", "/img/good.png")] == f"Bearer {KEY}"
    assert hub.image_auth[(f"localhost:{hub.port}", "/img/good.png")] is None
    assert runs["relative"].result is not None
    assert runs["relative"].result.urls == [f"{hub.url}/img/good.png"]
    assert runs["protocolrelative"].result is not None
    assert runs["protocolrelative"].result.urls == [f"http://localhost:{hub.port}/img/good.png"]


def test_an_answer_naming_two_task_ids_follows_neither_and_keeps_both(
    hub: AnswersHub, runner: Runner, tmp_path: Path
) -> None:
    history = History(tmp_path / "history")
    run = _runs(hub, runner, history, ["ambiguous"])["ambiguous"]
    assert isinstance(run.exception, errors.AmbiguousTaskIdError)
    assert run.exception.task_ids == ("hub-ambiguous-a", "hub-ambiguous-b")
    assert run.status == "error"
    # Neither id is polled (one of them names no task), and the task is not submitted again.
    assert [r for r in hub.requests if r.startswith("GET")] == []
    assert hub.requests.count("POST ambiguous") == 1
    # Both ids are in what the run shows and in what the history keeps.
    (entry,) = history.entries()
    for text in (run.error or "", entry.error or ""):
        assert "hub-ambiguous-a" in text and "hub-ambiguous-b" in text
    assert KEY not in (entry.error or "")


def test_ready_before_the_images_forever_ends_at_our_deadline_and_stays_resumable(
    hub: AnswersHub, runner: Runner, tmp_path: Path
) -> None:
    """A task that says ready but keeps running is never journalled as a final failure."""
    history = History(tmp_path / "history")
    run = _runs(hub, runner, history, ["stuck"])["stuck"]
    assert run.status == "timeout" and isinstance(run.exception, errors.TaskTimeoutError)
    assert run.resumable
    (entry,) = history.pending()
    assert entry.task_id == "hub-stuck" and entry.finished is None
    assert hub.polls["hub-stuck"] > 3
