"""The API key never leaks: not into widget state, history files, logs, reprs or error messages.

A canary key configures everything the way a user does (``MOUNTSEA_API_KEY`` and
``MOUNTSEA_BASE_URL`` pointing at a simulator that requires that very key). Then a Studio run,
``mw.generate``, ``mw.compare`` and the ``%%mountsea`` magic all go through, while every log
record (httpx and httpcore included, at DEBUG) is kept. Afterwards the canary is searched for
in every live widget's state, every file of the history folder, every log record and every
repr. Error paths are checked too: a 401 for a wrong key, a server that echoes the key in its
5xx body and in a task's error message, and a connection that cannot be made.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import ipywidgets
import pytest
from IPython.core.interactiveshell import InteractiveShell

import mountsea_widgets as mw
from mountsea_widgets import _config as config
from mountsea_widgets import errors, simulator
from mountsea_widgets.client import AsyncClient, Client
from mountsea_widgets.history import History
from mountsea_widgets.run import Run, start
from mountsea_widgets.widgets.studio import Studio
from tests.helpers.images import solid_png

CANARY = "sk-canary-7f3a9e-DO-NOT-LEAK"
WRONG = "sk-wrong-canary-0b1c2d-DO-NOT-LEAK"
SECRETS = (CANARY, WRONG)


def _leaks(text: str | bytes) -> list[str]:
    """The secrets found in ``text`` (also their bytes and their JSON-escaped form)."""
    found = []
    for secret in SECRETS:
        needles = [secret.encode(), json.dumps(secret)[1:-1].encode()]
        haystack = text.encode("utf-8", "replace") if isinstance(text, str) else text
        if any(needle in haystack for needle in needles):
            found.append(secret)
    return found


def _full_text(error: BaseException) -> str:
    """Everything a traceback would print, causes and contexts included, plus the attributes."""
    parts = ["".join(traceback.format_exception(type(error), error, error.__traceback__))]
    parts.append(repr(error))
    parts += [repr(value) for value in vars(error).values()]
    return "\n".join(parts)


class EchoHub:
    """A careless hub that echoes the Authorization header back in everything it says."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def _answer(self, status: int, payload: Any) -> None:
                self._send(status, json.dumps(payload).encode())

            def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                auth = self.headers.get("Authorization", "")
                if self.server.mode == "500":  # type: ignore[attr-defined]
                    self._answer(500, {"message": f"internal error for {auth}", "echo": auth})
                else:
                    self._answer(200, {"task_id": "hub-echo-1"})

            def do_GET(self) -> None:
                auth = self.headers.get("Authorization", "")
                mode = self.server.mode  # type: ignore[attr-defined]
                if self.path.endswith(".png"):
                    self._send(200, _PNG, "image/png")
                    return
                if mode == "escaped-401":  # PHP-style JSON: "/" written as "\/"
                    text = json.dumps({"message": f"bad key {auth}"}).replace("/", "\\/")
                    self._send(401, text.encode())
                    return
                if mode == "done":
                    host = self.headers.get("Host", "")
                    self._answer(
                        200,
                        {
                            "status": "completed",
                            "ready": True,
                            "echo": {auth: [auth]},
                            "data": {
                                "images": [{"url": f"http://{host}/out.png"}],
                                "description": f"made for {auth}",
                            },
                        },
                    )
                    return
                self._answer(
                    200,
                    {
                        "status": "failed",
                        "ready": True,
                        "error_code": {"detail": auth},
                        "error_message": f"quota exceeded for key {auth}",
                    },
                )

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.mode = "500"  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def keyed_hub(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[simulator.SimulatorServer]:
    """A simulator that requires the canary key, configured through the environment."""
    with simulator.serve(speed=100, api_key=CANARY) as server:
        monkeypatch.setenv("MOUNTSEA_API_KEY", CANARY)
        monkeypatch.setenv("MOUNTSEA_BASE_URL", server.url)
        monkeypatch.setenv("MOUNTSEA_HISTORY_DIR", str(tmp_path / "history"))
        yield server


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "mountsea_widgets", "asyncio"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def _log_text(caplog: pytest.LogCaptureFixture) -> str:
    lines = []
    for record in caplog.records:
        lines.append(f"{record.name} {record.getMessage()} {record.args!r} {record.exc_text or ''}")
        if record.exc_info and record.exc_info[1] is not None:
            lines.append(_full_text(record.exc_info[1]))
    return "\n".join(lines)


def _widget_states() -> list[tuple[str, dict[str, Any]]]:
    from ipywidgets.widgets.widget import _instances

    return [(type(widget).__name__, widget.get_state()) for widget in list(_instances.values())]


def _state_leaks(states: list[tuple[str, dict[str, Any]]]) -> list[str]:
    found = []
    for name, state in states:
        for key, value in state.items():
            if isinstance(value, bytes | memoryview):
                blob: str | bytes = bytes(value)
            else:
                blob = json.dumps(value, default=repr)
            if _leaks(blob):
                found.append(f"{name}.{key}")
    return found


def test_the_key_appears_nowhere_after_studio_generate_compare_and_magic(
    keyed_hub: simulator.SimulatorServer,
    all_logs: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    history_folder = tmp_path / "history"
    studio = mw.studio("nano-banana")
    assert studio.offline is False and studio.client.has_api_key  # the env key is in use
    studio.form.controls["prompt"].set("a lighthouse, studio")
    run = studio.generate()
    comparison = mw.compare("a lighthouse, compared", models=["nano-banana"], seeds=[1, 2])
    grid = comparison.widget
    result = mw.generate("nano-banana", "a lighthouse, generated", seed=4)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "mountsea_widgets")
    magic_result = shell.run_cell_magic("mountsea", "nano-banana --seed 5", "a lighthouse, magic")
    assert studio.wait_idle(60)
    comparison.wait(60)

    # Everything really went through the keyed hub (a missing key would have been refused).
    assert run.status == "completed", run.error
    assert result.status == "completed" and magic_result is not None
    assert [cell.status for cell in comparison.cells] == ["completed", "completed"]
    assert keyed_hub.stats.unauthorized == 0 and keyed_hub.stats.submitted == 5

    # Widget state: every live widget, including the Studio, the magic's task cell, the grid.
    states = _widget_states()
    assert {"Studio", "TaskCell", "ComparisonGrid"} <= {name for name, _ in states}
    assert grid.model_id and studio.model_id
    assert _state_leaks(states) == []

    # History files: journal, images (with embedded metadata), thumbnails, blobs.
    files = [path for path in history_folder.rglob("*") if path.is_file()]
    assert any(path.suffix == ".png" for path in files) and (history_folder / "journal.jsonl")
    assert [str(path) for path in files if _leaks(path.read_bytes())] == []
    entries = History(history_folder).entries()
    assert len(entries) == 5

    # Logs: mountsea, httpx and httpcore at DEBUG (they were captured: the check is real).
    names = {record.name.split(".")[0] for record in all_logs.records}
    assert {"httpx", "httpcore", "mountsea_widgets"} <= names
    assert _leaks(_log_text(all_logs)) == []

    # Reprs and str of everything a user may print.
    shown = [
        studio.client,
        config.settings(),
        result,
        run,
        studio,
        comparison,
        entries[0],
        studio.cells[0],
        mw.Client(),
        mw.AsyncClient(),
    ]
    for item in shown:
        assert _leaks(repr(item)) == [], type(item).__name__
        assert _leaks(str(item)) == [], type(item).__name__
    assert _leaks(result._repr_html_()) == []
    studio.close()


def test_a_wrong_key_gives_a_401_that_names_neither_key(
    keyed_hub: simulator.SimulatorServer, all_logs: pytest.LogCaptureFixture
) -> None:
    with (
        Client(api_key=WRONG, base_url=keyed_hub.url) as client,
        pytest.raises(errors.AuthenticationError) as refused,
    ):
        client.generate("nano-banana", "no entry")
    assert refused.value.status_code == 401
    assert _leaks(_full_text(refused.value)) == []
    assert keyed_hub.stats.unauthorized == 1

    # The same through a Studio run: the cell shows the 401, without the key.
    studio = Studio(
        "nano-banana", client=AsyncClient(api_key=WRONG, base_url=keyed_hub.url), history=False
    )
    studio.form.controls["prompt"].set("no entry either")
    run = studio.generate()
    assert studio.wait_idle(30)
    assert run.status == "error" and "AuthenticationError" in (run.error or "")
    assert _leaks(run.error or "") == [] and _leaks(_full_text(run.exception)) == []  # type: ignore[arg-type]
    assert _state_leaks(_widget_states()) == []
    assert _leaks(_log_text(all_logs)) == []
    studio.close()


def test_a_server_echoing_the_key_never_gets_it_into_our_errors(
    all_logs: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    echo = EchoHub()
    try:
        with Client(api_key=CANARY, base_url=echo.url, sleep=lambda _s: None) as client:
            # A 5xx on submit whose body echoes the key (not retried: it may have been created).
            with pytest.raises(errors.ServerError) as failed:
                client.submit("nano-banana", {"prompt": "echo"})
            assert "internal error for Bearer ***" in str(failed.value)
            assert _leaks(_full_text(failed.value)) == []

            # A task id and a failed task whose error echoes the key.
            echo.server.mode = "fail"  # type: ignore[attr-defined]
            with pytest.raises(errors.TaskFailedError) as task_failed:
                client.generate("nano-banana", "echo")
            assert "quota exceeded for key Bearer ***" in str(task_failed.value)
            assert _leaks(_full_text(task_failed.value)) == []

        # Through the product: a Run with a History shows and journals scrubbed text only.
        history = History(tmp_path / "history")
        run = Run("nano-banana", {"prompt": "echo in a run"})
        client = AsyncClient(api_key=CANARY, base_url=echo.url, sleep=_no_sleep)
        start(run, client, history).result(30)
        assert run.status == "failed" and "***" in (run.error or "")
        assert _leaks(run.error or "") == [] and _leaks(repr(run.to_dict())) == []
        journal = (tmp_path / "history" / "journal.jsonl").read_bytes()
        assert _leaks(journal) == []
    finally:
        echo.close()
    assert _leaks(_log_text(all_logs)) == []


_PNG = solid_png("teal", (8, 8))


def test_a_task_answer_echoing_the_key_is_scrubbed_before_anyone_sees_it() -> None:
    echo = EchoHub()
    echo.server.mode = "done"  # type: ignore[attr-defined]
    seen: list[str] = []
    try:
        with Client(api_key=CANARY, base_url=echo.url, sleep=lambda _s: None) as client:
            status = client.get_task("hub-echo-1")
            result = client.generate(
                "nano-banana", "echo", on_status=lambda answer: seen.append(repr(answer))
            )
    finally:
        echo.close()
    assert "made for Bearer ***" in repr(status.data)
    assert seen and result.image_count == 1
    for text in (repr(status), repr(status.raw), *seen, repr(result.raw), repr(vars(result))):
        assert _leaks(text) == [], text[:200]


def test_a_key_hidden_by_json_escapes_is_still_scrubbed_from_error_bodies() -> None:
    slashed = "sk-canary/7f3a9e+DO/NOT/LEAK"
    echo = EchoHub()
    echo.server.mode = "escaped-401"  # type: ignore[attr-defined]
    try:
        client = Client(api_key=slashed, base_url=echo.url, sleep=lambda _s: None)
        with client, pytest.raises(errors.AuthenticationError) as refused:
            client.get_task("hub-echo-1")
    finally:
        echo.close()
    assert "bad key Bearer ***" in str(refused.value)
    assert slashed not in _full_text(refused.value)


@pytest.mark.parametrize("pasted", [CANARY + "\u200b", CANARY + "\x07", "sk-canäry-7f3a9e"])
def test_a_key_no_header_can_carry_is_refused_without_repeating_it(pasted: str) -> None:
    with pytest.raises(ValueError, match="api_key holds characters") as refused:
        Client(api_key=pasted, base_url="http://127.0.0.1:9")
    assert pasted not in _full_text(refused.value)
    assert "7f3a9e" not in _full_text(refused.value)


async def _no_sleep(_seconds: float) -> None:
    await asyncio.sleep(0)


def test_connection_errors_do_not_carry_the_key(all_logs: pytest.LogCaptureFixture) -> None:
    with simulator.serve() as gone:
        url = gone.url  # a port that answers nothing once closed
    with Client(api_key=CANARY, base_url=url, sleep=lambda _s: None) as client:
        with pytest.raises(errors.APIConnectionError) as refused:
            client.submit("nano-banana", {"prompt": "nobody home"})
        with pytest.raises(errors.APIConnectionError) as polled:
            client.get_task("hub-1")
    for error in (refused.value, polled.value):
        assert _leaks(_full_text(error)) == []
    assert _leaks(_log_text(all_logs)) == []


def test_widget_registry_is_what_is_walked() -> None:
    """The walk above sees real widget state: a widget holding the canary is caught."""
    probe = ipywidgets.HTML(value=f"<b>{CANARY}</b>")
    try:
        assert any(name == "HTML.value" for name in _state_leaks(_widget_states()))
    finally:
        probe.close()
