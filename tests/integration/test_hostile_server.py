"""A hostile (or broken) hub on loopback, met through the product's own paths.

The server below speaks the hub's contract but answers with everything a server should never be
trusted with: a decompression bomb (a 30000x30000 PNG that is tiny on the wire), bytes that are
not an image, an oversized body (declared, and streamed without end), ``file:`` and
``javascript:`` image URLs, a redirect to ``file:``, a redirect loop, file names and task ids
with ``../``, and HTML in ``error_message``. Each run goes through the Studio (so the history
journals it) and, when it completes, through Save, ``save_run`` and ``Result.save``.

Every case must end with a clear, typed error in its cell, the process keeps working, and no
file appears anywhere but in the history folder and the folders we asked to save into.
"""

from __future__ import annotations

import base64
import json
import os
import struct
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

import pytest

import mountsea_widgets.client as client_module
import mountsea_widgets.client._base as client_base  # where downloads read their limit
from mountsea_widgets import errors
from mountsea_widgets._polling import PollSchedule
from mountsea_widgets._runner import Runner
from mountsea_widgets.client import AsyncClient
from mountsea_widgets.history import History
from mountsea_widgets.run import Run, save_run
from mountsea_widgets.widgets.studio import Studio
from tests.helpers.images import png_chunk, solid_png
from tests.helpers.studios import ask_rows

pytestmark = pytest.mark.timeout(120)

HTML_ERROR = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
#: Lowered in these tests so the endless body is cut after a few megabytes, not 64.
IMAGE_LIMIT = 2_000_000


def png_bomb(width: int = 30000, height: int = 30000) -> bytes:
    """A well-formed PNG declaring ``width`` x ``height`` RGB pixels, under 100 bytes long.

    Its IDAT holds the first rows only: enough for a header reader, and a decoder that trusted
    the header would allocate 2.7 GB before noticing anything.
    """
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\0" * (width * 3 + 1) * 2, 9)
    chunks = png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", rows) + png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


BOMB = png_bomb()
#: Under Pillow's own bomb limit, over ours (50 million pixels).
LARGE = png_bomb(8000, 8000)
GOOD = solid_png("teal", (16, 16))


class _Server(ThreadingHTTPServer):
    # Every run connects at once: the default backlog of 5 overflows, and Linux then drops a
    # connection the client believes is open, so a POST fails as if the hub had hung up.
    request_queue_size = 128


class HostileHub:
    """The hub contract with hostile answers; the first word of the prompt picks the case."""

    #: Task ids the server hands out for some cases (others get "hub-<case>").
    TASK_IDS: ClassVar[dict[str, str]] = {
        "dotdot": "../../x",
        "htmlid": '<img src=x onerror="window.__pwned=3">',
        "dotsegment": "..",
    }

    def __init__(self) -> None:
        self.tasks: dict[str, str] = {}
        self.polls: dict[str, int] = {}
        self.requests: list[str] = []
        self.stopped_streams = 0
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def _json(self, status: int, payload: Any, **headers: str) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length))
                case = payload["input"]["prompt"].split()[0]
                task_id = HostileHub.TASK_IDS.get(case, f"hub-{case}")
                hub.tasks[task_id] = case
                hub.requests.append(f"POST {case}")
                self._json(200, {"task_id": task_id, "status": "pending"})

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
                    if case in ("deepjson", "deep500"):
                        # Nesting deep enough to exhaust a recursive JSON parser.
                        body = b"[" * 200_000
                        self.send_response(200 if case == "deepjson" else 500)
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body)
                        return
                    if case == "retryafter" and hub.polls[task_id] <= 2:
                        # "Come back tomorrow", on a successful answer.
                        body = {"task_id": task_id, "status": "processing", "ready": False}
                        self._json(200, body, **{"Retry-After": "86400"})
                        return
                    self._json(200, hub.task_body(case, task_id))
                    return
                self._file(path.rsplit("/", 1)[-1])

            def _file(self, name: str) -> None:
                if name == "redirect-file":
                    self.send_response(302)
                    self.send_header("Location", "file:///etc/passwd")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if name == "loop":
                    self.send_response(307)
                    self.send_header("Location", "/img/loop")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if name == "declared-huge":
                    self.send_response(200)
                    self.send_header("Content-Type", "image/png")
                    self.send_header("Content-Length", str(10**11))
                    self.end_headers()
                    self.wfile.write(GOOD)
                    self.close_connection = True
                    return
                if name == "endless":
                    self.send_response(200)
                    self.send_header("Content-Type", "image/png")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    block = b"\0" * 65536
                    try:
                        for _ in range(10_000):  # 650 MB if nobody stops reading
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
                    except OSError:
                        hub.stopped_streams += 1  # the client hung up: it stopped reading
                    self.close_connection = True
                    return
                data = {"bomb.png": BOMB, "large.png": LARGE, "good.png": GOOD}.get(
                    name, b"<html><body>certainly not an image</body></html>"
                )
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def task_body(self, case: str, task_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {"task_id": task_id, "status": "completed", "ready": True}
        if case == "htmlerror":
            body.update(status="failed", error_code="<b>E</b>", error_message=HTML_ERROR)
            return body
        urls = {
            "bomb": f"{self.url}/img/bomb.png",
            "large": f"{self.url}/img/large.png",
            "bombdata": "data:image/png;base64," + base64.b64encode(BOMB).decode(),
            "notimage": f"{self.url}/img/page.png",
            "htmldata": "data:text/html;base64," + base64.b64encode(HTML_ERROR.encode()).decode(),
            "declared": f"{self.url}/img/declared-huge",
            "endless": f"{self.url}/img/endless",
            "fileurl": "file:///etc/passwd",
            "javascript": "javascript:alert(document.cookie)",
            "redirect": f"{self.url}/img/redirect-file",
            "loop": f"{self.url}/img/loop",
        }
        url = urls.get(case, f"{self.url}/img/good.png")
        body["data"] = {
            "images": [{"url": url, "file_name": "../../../escaped.png"}],
            "description": HTML_ERROR,
        }
        return body

    def __enter__(self) -> HostileHub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class Fast(AsyncClient):
    """Polls at once (the hostile hub answers completed on the first poll)."""

    def poll_schedule(self, model: str | None) -> PollSchedule:
        return PollSchedule(expected_s=0.01, floor_s=0.0)


def _tree(root: Path, skip: tuple[Path, ...]) -> set[str]:
    found = set()
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = [d for d in dirs if here / d not in skip]
        found.update(str(here / name) for name in files + dirs)
    return found


@pytest.fixture
def hostile() -> Iterator[HostileHub]:
    with HostileHub() as server:
        yield server


#: case -> (error class, words the message must contain)
REFUSED: dict[str, tuple[type[Exception], str]] = {
    "bomb": (errors.ImageError, "too many pixels"),
    "large": (errors.ImageError, "8000x8000 = 64,000,000 pixels"),
    "bombdata": (errors.ImageError, "too many pixels"),
    "notimage": (errors.ImageError, "not an image"),
    "htmldata": (errors.ImageError, "not an image"),
    "declared": (errors.ImageError, "larger than 2,000,000 bytes"),
    "endless": (errors.ImageError, "larger than 2,000,000 bytes"),
    "fileurl": (errors.ImageError, "only http(s) URLs"),
    "javascript": (errors.ImageError, "only http(s) URLs"),
    "redirect": (errors.ImageError, "refusing the URL 'file:///etc/passwd'"),
    "loop": (errors.ImageError, "more than 5 redirects"),
    "htmlerror": (errors.TaskFailedError, "ended failed"),
    # "/hub/v1/tasks/.." would poll "/hub/v1": such an id is refused, never followed.
    "dotsegment": (errors.InvalidResponseError, "no task id (task_id or taskId) that names"),
    "deepjson": (errors.InvalidResponseError, "not with a JSON object"),
    "deep500": (errors.ServerError, "HTTP 500: [[[["),
}


def test_every_hostile_answer_is_a_clear_error_and_nothing_escapes(
    hostile: HostileHub,
    runner: Runner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(client_base, "MAX_IMAGE_BYTES", IMAGE_LIMIT)
    work = tmp_path / "work" / "deep" / "er"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)  # a relative "../../x" would land in tmp_path/work
    history_folder = tmp_path / "history"
    saves = tmp_path / "saves"
    allowed = (history_folder, saves)
    before = _tree(tmp_path.parent, allowed)

    client = Fast(base_url=hostile.url, sleep=lambda _s: None)
    studio = Studio(
        "nano-banana",
        client=client,
        history=History(history_folder),
        runner=runner,
        past_runs=0,
        save_folder=saves / "studio",
    )
    runs: dict[str, Run] = {}
    for case in [*REFUSED, "dotdot", "htmlid"]:
        studio.form.controls["prompt"].set(f"{case} <i>please</i>")
        runs[case] = studio.generate()
    assert studio.wait_idle(60)

    cells = {cell.run.prompt.split()[0]: cell for cell in studio.cards}
    rows = {row.record["id"]: row for row in ask_rows(studio, 0, len(cells))}
    for case, (kind, words) in REFUSED.items():
        run = runs[case]
        assert isinstance(run.exception, kind), (case, run.error)
        assert run.status == ("failed" if case == "htmlerror" else "error"), case
        assert run.error is not None and words in run.error, (case, run.error)
        if case != "dotsegment":
            assert run.task_id == f"hub-{case}"
        row = rows[cells[case].run_id]
        assert kind.__name__ in row.record["error"]
        assert row.record["images"] == 0 and row.thumbs == []
    assert hostile.stopped_streams == 1  # the endless body was cut, not read to the end
    # The hub's own HTML error is kept as text, escaped where it is shown.
    assert HTML_ERROR in (runs["htmlerror"].error or "")
    assert HTML_ERROR in rows[cells["htmlerror"].run_id].record["error"]  # text, as it is

    # The ids with ../ and with HTML are followed (quoted in the URL) and the runs complete.
    for case in ("dotdot", "htmlid"):
        run, cell = runs[case], cells[case]
        assert run.status == "completed", run.error
        assert run.task_id == HostileHub.TASK_IDS[case]
        assert f"GET /hub/v1/tasks/{_quoted(run.task_id)}" in hostile.requests
        row = rows[cell.run_id]
        assert row.record["task"] == run.task_id  # text: the page never parses it
        assert len(row.thumbs) == 1 and row.thumbs[0]
        # Saving through every path stays inside the chosen folders.
        assert run.result is not None
        written = {
            saves / "studio": cell.save(),
            saves / "save_run": save_run(run, saves / "save_run"),
            saves / "result": run.result.save(saves / "result"),
            history_folder / "images": run.files,
        }
        for folder, paths in written.items():
            assert len(paths) == 1, (folder, paths)
            (path,) = paths
            assert path.resolve().parent == folder.resolve(), path
            assert "/" not in path.name and not path.name.startswith(".")
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # Nothing was written anywhere else, and the history journalled every task id.
    assert _tree(tmp_path.parent, allowed) == before
    journalled = {entry.task_id for entry in studio.history.entries()}  # type: ignore[union-attr]
    assert journalled == {run.task_id for run in runs.values()}
    refused_id = runs["dotsegment"]
    assert refused_id.task_id is None and '"task_id": ".."' in (refused_id.error or "")
    assert "GET /hub/v1" not in hostile.requests
    studio.close()
    runner.run(client.aclose())


def _quoted(task_id: str) -> str:
    from urllib.parse import quote

    return quote(task_id, safe="")


def test_the_process_keeps_working_after_the_storm_of_hostility(
    hostile: HostileHub, runner: Runner, tmp_path: Path
) -> None:
    """After a bomb, the same client and runner still complete a normal run."""
    client = Fast(base_url=hostile.url, sleep=lambda _s: None)
    history = History(tmp_path / "history")
    bomb = Run("nano-banana", {"prompt": "bomb"})
    from mountsea_widgets.run import start

    start(bomb, client, history, runner=runner).result(30)
    good = Run("nano-banana", {"prompt": "fine"})
    start(good, client, history, runner=runner).result(30)
    assert bomb.status == "error" and isinstance(bomb.exception, errors.ImageError)
    assert good.status == "completed" and good.result is not None
    assert good.result.images[0].size == (16, 16)
    assert list(runner.failures) == []
    runner.run(client.aclose())


def test_a_retry_after_of_a_day_does_not_freeze_the_wait(hostile: HostileHub) -> None:
    """Retry-After on a poll answer is advice, capped like the retry rules cap it (60 s)."""
    sleeps: list[float] = []
    with client_module.Client(base_url=hostile.url, sleep=sleeps.append) as client:
        result = client.generate("nano-banana", "retryafter please")
    assert result.status == "completed" and hostile.polls[result.task_id] == 3
    assert sleeps and max(sleeps) <= 60.0
