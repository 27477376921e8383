"""The client's lifecycle and its waits, against real servers on loopback.

* An ``AsyncClient`` used from a second event loop (two ``asyncio.run`` in a row), and any
  client used after ``close()``, refuse before sending, with a typed error saying what to do;
  a send that breaks after the request may have reached the hub says the task may exist.
* A 404 on the first polls of a task (the hub has not caught up with its own new task) is
  polled again with backoff, then ends in a typed error naming the task.
* A 429 on a poll asking for an hour slows the wait (capped), it never ends it.
* A task id too long for a URL is refused as a typed error, at submit (the id is kept on the
  error) and before any poll.

Time never passes for real here: the clients sleep on a clock the test moves.
"""

from __future__ import annotations

import asyncio
import io
import json
import threading
from collections import deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from mountsea_widgets import errors, simulator
from mountsea_widgets.client import (
    MAX_TASK_ID_LENGTH,
    TASK_NOT_FOUND_RETRIES,
    AsyncClient,
    Client,
)
from mountsea_widgets.history import History
from mountsea_widgets.run import Run, execute

pytestmark = pytest.mark.timeout(120)


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(buffer, format="PNG")
    return buffer.getvalue()


PNG = _png()


class ScriptedHub:
    """The hub contract on loopback, with the poll answers a test scripts.

    Each poll of a task takes the next scripted ``(status, body, headers)`` answer; once the
    script is used up the task is completed with one image. ``task_id`` is what a submit
    answers.
    """

    def __init__(self, task_id: str = "hub-task-1") -> None:
        self.task_id = task_id
        self.script: deque[tuple[int, dict[str, Any], dict[str, str]]] = deque()
        self.requests: list[str] = []
        self.lock = threading.Lock()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def _send(self, status: int, body: bytes, kind: str, headers: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with hub.lock:
                    hub.requests.append("POST")
                body = {"task_id": hub.task_id, "status": "pending"}
                self._send(200, json.dumps(body).encode(), "application/json", {})

            def do_GET(self) -> None:
                if self.path.startswith("/files/"):
                    self._send(200, PNG, "image/png", {})
                    return
                with hub.lock:
                    hub.requests.append("GET")
                    scripted = hub.script.popleft() if hub.script else None
                if scripted is None:
                    url = f"http://127.0.0.1:{self.server.server_address[1]}/files/1.png"
                    scripted = (200, hub.completed(url), {})
                status, body, headers = scripted
                self._send(status, json.dumps(body).encode(), "application/json", headers)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def completed(self, url: str) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "status": "completed",
            "ready": True,
            "data": {"images": [{"url": url, "content_type": "image/png"}]},
        }

    def processing(self) -> tuple[int, dict[str, Any], dict[str, str]]:
        return 200, {"task_id": self.task_id, "status": "processing", "ready": False}, {}

    @property
    def polls(self) -> int:
        return self.requests.count("GET")

    def __enter__(self) -> ScriptedHub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


NOT_FOUND = (404, {"message": "task not found"}, {})


class FakeTime:
    """A clock that moves only when the client sleeps: waits take no real time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def hub() -> Iterator[ScriptedHub]:
    with ScriptedHub() as scripted:
        yield scripted


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


# --- 1. event loops and closed clients -------------------------------------------------------


def test_an_async_client_on_a_second_event_loop_refuses_before_sending() -> None:
    submitted: list[str] = []
    with simulator.serve(speed=200) as server:
        client = AsyncClient(base_url=server.url)
        first = asyncio.run(client.submit("nano-banana", {"prompt": "first loop"}))
        assert first

        async def second_loop() -> Any:
            return await client.generate(
                "nano-banana", "second loop", on_submitted=submitted.append
            )

        with pytest.raises(errors.EventLoopError) as info:
            asyncio.run(second_loop())
        # Refused before sending: the hub created the first task only, so none is lost.
        assert server.stats.submitted == 1
        assert submitted == []
        message = str(info.value)
        assert "one event loop" in message and "asyncio.run" in message
        assert "nothing was sent" in message
        assert isinstance(info.value, errors.MountseaError)

        # Closing it from the second loop works, and from then on it says it is closed.
        asyncio.run(client.close())
        assert client.closed
        with pytest.raises(errors.ClientClosedError):
            asyncio.run(client.submit("nano-banana", {"prompt": "after close"}))
        assert server.stats.submitted == 1


def test_a_wait_refused_on_a_second_loop_names_the_task(hub: ScriptedHub) -> None:
    client = AsyncClient(base_url=hub.url)
    task_id = asyncio.run(client.submit("nano-banana", {"prompt": "first loop"}))
    with pytest.raises(errors.EventLoopError) as info:
        asyncio.run(client.wait(task_id))
    assert info.value.task_id == task_id  # type: ignore[attr-defined]
    assert f"client.wait({task_id!r})" in str(info.value)
    assert hub.requests == ["POST"]


def test_an_async_client_on_another_live_loop_refuses_too() -> None:
    with simulator.serve(speed=200) as server:

        async def use(client: AsyncClient) -> str:
            return await client.submit("nano-banana", {"prompt": "a loop"})

        async def main() -> None:
            client = AsyncClient(base_url=server.url)
            await use(client)
            # The same client from a loop running in another thread, while this one lives.
            outcome: list[BaseException | str] = []

            def other_thread() -> None:
                try:
                    outcome.append(asyncio.run(use(client)))
                except BaseException as exc:
                    outcome.append(exc)

            worker = threading.Thread(target=other_thread)
            worker.start()
            await asyncio.to_thread(worker.join)
            (caught,) = outcome
            assert isinstance(caught, errors.EventLoopError)
            assert "is another one" in str(caught)
            await client.close()

        asyncio.run(main())
        assert server.stats.submitted == 1


def test_one_async_client_inside_one_loop_keeps_working(fake: FakeTime) -> None:
    with simulator.serve(speed=200) as server:

        async def main() -> tuple[str, str]:
            async with AsyncClient(base_url=server.url, sleep=fake.asleep) as client:
                one = await client.submit("nano-banana", {"prompt": "one"})
                two = await client.submit("nano-banana", {"prompt": "two"})
                return one, two

        one, two = asyncio.run(main())
        assert one != two
        assert server.stats.submitted == 2


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_closed_client_refuses_before_sending(kind: str, hub: ScriptedHub) -> None:
    if kind == "sync":
        client = Client(base_url=hub.url)
        client.close()
        with pytest.raises(errors.ClientClosedError) as info:
            client.generate("nano-banana", "after close")
        with pytest.raises(errors.ClientClosedError):
            client.get_task("hub-task-1")
    else:
        aclient = AsyncClient(base_url=hub.url)

        async def main() -> None:
            await aclient.close()
            await aclient.generate("nano-banana", "after close")

        with pytest.raises(errors.ClientClosedError) as info:
            asyncio.run(main())
    assert hub.requests == []
    assert "was closed" in str(info.value) and "make a new one" in str(info.value)
    assert isinstance(info.value, RuntimeError)  # what httpx raised before, for old handlers


def test_a_send_broken_by_a_dead_loop_says_the_task_may_exist() -> None:
    """A transport passed in is the caller's (no loop check): its connections on a closed
    loop break after the request went out; the error is typed and warns the task may exist."""
    with simulator.serve(speed=200) as server:
        client = AsyncClient(base_url=server.url, transport=httpx.AsyncHTTPTransport())
        asyncio.run(client.submit("nano-banana", {"prompt": "first loop"}))
        with pytest.raises(errors.APIConnectionError) as info:
            asyncio.run(client.submit("nano-banana", {"prompt": "second loop"}))
        message = str(info.value)
        assert "may or may not have been created" in message
        assert "RuntimeError" not in message


# --- 4. a 404 on the first polls ---------------------------------------------------------------


def test_a_404_on_the_first_polls_is_polled_again(hub: ScriptedHub, fake: FakeTime) -> None:
    hub.script.extend([NOT_FOUND, NOT_FOUND])
    submitted: list[str] = []
    with Client(base_url=hub.url, sleep=fake.sleep, clock=fake.clock) as client:
        result = client.generate("nano-banana", "eventually there", on_submitted=submitted.append)
    assert result.task_id == "hub-task-1"
    assert submitted == ["hub-task-1"]
    assert len(result.images) == 1
    assert hub.polls == 3  # two 404s, then the task


def test_a_resumed_task_answering_404_at_first_is_polled_again(
    hub: ScriptedHub, fake: FakeTime
) -> None:
    hub.script.extend([NOT_FOUND, NOT_FOUND, hub.processing()])

    async def main() -> Any:
        async with AsyncClient(base_url=hub.url, sleep=fake.asleep, clock=fake.clock) as client:
            return await client.wait("hub-task-1")

    result = asyncio.run(main())
    assert result.status == "completed"
    assert hub.polls == 4


def test_a_task_never_found_ends_in_a_typed_error_naming_it(
    hub: ScriptedHub, fake: FakeTime
) -> None:
    hub.script.extend([NOT_FOUND] * 50)
    with (
        Client(base_url=hub.url, sleep=fake.sleep, clock=fake.clock) as client,
        pytest.raises(errors.TaskNotFoundError) as info,
    ):
        client.wait("hub-task-1")
    assert hub.polls == 1 + TASK_NOT_FOUND_RETRIES
    assert info.value.task_id == "hub-task-1"
    assert info.value.status_code == 404
    assert isinstance(info.value, errors.NotFoundError)
    assert "not found" in str(info.value) and "client.wait('hub-task-1')" in str(info.value)
    # Backoff between the tries, growing; none of it real time.
    assert len(fake.sleeps) == TASK_NOT_FOUND_RETRIES
    assert fake.sleeps == sorted(fake.sleeps)


def test_a_404_after_the_task_was_seen_is_not_retried(hub: ScriptedHub, fake: FakeTime) -> None:
    hub.script.extend([hub.processing(), NOT_FOUND, hub.processing()])
    with (
        Client(base_url=hub.url, sleep=fake.sleep, clock=fake.clock) as client,
        pytest.raises(errors.NotFoundError) as info,
    ):
        client.wait("hub-task-1")
    assert not isinstance(info.value, errors.TaskNotFoundError)
    assert info.value.task_id == "hub-task-1"  # type: ignore[attr-defined]
    assert hub.polls == 2


def test_the_404_retries_keep_to_the_wait_deadline(hub: ScriptedHub, fake: FakeTime) -> None:
    hub.script.extend([NOT_FOUND] * 50)
    with (
        Client(base_url=hub.url, sleep=fake.sleep, clock=fake.clock) as client,
        pytest.raises(errors.TaskNotFoundError),
    ):
        client.wait("hub-task-1", timeout=0.3)
    assert sum(fake.sleeps) <= 0.3 + 1e-9


# --- 6. a 429 with a long Retry-After on a poll -------------------------------------------------

RATE_LIMITED = (429, {"message": "slow down"}, {"Retry-After": "3600"})


def test_a_429_asking_for_an_hour_slows_the_wait_but_never_ends_it(
    hub: ScriptedHub, fake: FakeTime
) -> None:
    hub.script.extend([RATE_LIMITED, hub.processing(), RATE_LIMITED, RATE_LIMITED])
    statuses: list[str] = []
    with Client(base_url=hub.url, sleep=fake.sleep, clock=fake.clock) as client:
        result = client.generate(
            "nano-banana", "patience", on_status=lambda s: statuses.append(s.status)
        )
        cap = client._retry.max_retry_after_s
    assert result.status == "completed"
    assert statuses == ["processing", "completed"]
    assert hub.polls == 5
    # Each hour asked for was waited as the retry policy's longest wait, never more.
    assert max(fake.sleeps) == cap
    assert fake.sleeps.count(cap) == 3


def test_429s_without_retry_after_keep_the_wait_going_with_growing_pauses(
    hub: ScriptedHub, fake: FakeTime
) -> None:
    hub.script.extend([(429, {"message": "slow down"}, {})] * 4)
    with Client(base_url=hub.url, sleep=fake.sleep, clock=fake.clock, max_retries=0) as client:
        result = client.wait("hub-task-1")
    assert result.status == "completed"
    assert hub.polls == 5
    # Each pause at least the growing backoff's floor (half its step: 0.25 s, 0.5 s, 1 s...),
    # so a hub limiting every poll is not polled at the schedule's fastest pace.
    assert len(fake.sleeps) == 4
    assert all(pause >= 0.25 * 2**i for i, pause in enumerate(fake.sleeps)), fake.sleeps


def test_an_endless_429_still_ends_at_the_wait_deadline(hub: ScriptedHub, fake: FakeTime) -> None:
    hub.script.extend([RATE_LIMITED] * 100)

    async def main() -> Any:
        async with AsyncClient(base_url=hub.url, sleep=fake.asleep, clock=fake.clock) as client:
            return await client.wait("hub-task-1", timeout=300)

    with pytest.raises(errors.TaskTimeoutError) as info:
        asyncio.run(main())
    assert info.value.task_id == "hub-task-1"
    assert 300 - 1e-9 <= fake.now <= 300 + 1e-9
    assert 1 < hub.polls < 100


def test_a_single_poll_still_reports_a_long_retry_after_at_once(
    hub: ScriptedHub, fake: FakeTime
) -> None:
    hub.script.append(RATE_LIMITED)
    with (
        Client(base_url=hub.url, sleep=fake.sleep, clock=fake.clock) as client,
        pytest.raises(errors.RateLimitError) as info,
    ):
        client.get_task("hub-task-1")
    assert info.value.retry_after == 3600
    assert fake.sleeps == []


# --- 9. absurd task ids ---------------------------------------------------------------------------

LONG_ID = "hub-" + "x" * 70_000


def test_a_submit_answering_an_absurdly_long_id_is_a_typed_error_keeping_the_id(
    fake: FakeTime,
) -> None:
    submitted: list[str] = []
    with (
        ScriptedHub(task_id=LONG_ID) as hub,
        Client(base_url=hub.url, sleep=fake.sleep, clock=fake.clock) as client,
        pytest.raises(errors.TaskIdError) as info,
    ):
        client.generate("nano-banana", "long id", on_submitted=submitted.append)
    assert info.value.task_id == LONG_ID  # kept whole: the run can be found on the hub
    message = str(info.value)
    assert "70,004 characters" in message and f"{MAX_TASK_ID_LENGTH:,}" in message
    assert "hub-xxxx" in message  # its start, to look it up
    assert len(message) < 1000
    assert hub.requests == ["POST"]  # no poll of an id that cannot be put in a URL
    assert submitted == []


@pytest.mark.parametrize(
    ("task_id", "said"),
    [(LONG_ID, "70,004 characters"), ("hub-1\nhub-2", "line break")],
)
@pytest.mark.parametrize("call", ["get_task", "wait"])
def test_an_unusable_task_id_is_refused_before_polling(
    hub: ScriptedHub, fake: FakeTime, task_id: str, said: str, call: str
) -> None:
    with (
        Client(base_url=hub.url, sleep=fake.sleep, clock=fake.clock) as client,
        pytest.raises(errors.TaskIdError) as info,
    ):
        getattr(client, call)(task_id)
    assert said in str(info.value) and "task_id" in str(info.value)
    assert len(str(info.value)) < 1000
    assert info.value.task_id == task_id
    assert isinstance(info.value, ValueError)
    assert hub.requests == []


def test_an_async_wait_on_an_absurd_id_is_refused_before_polling(
    hub: ScriptedHub, fake: FakeTime
) -> None:
    async def main() -> Any:
        async with AsyncClient(base_url=hub.url, sleep=fake.asleep, clock=fake.clock) as client:
            return await client.wait(LONG_ID)

    with pytest.raises(errors.TaskIdError):
        asyncio.run(main())
    assert hub.requests == []


def test_an_id_at_the_limit_is_still_polled(fake: FakeTime) -> None:
    task_id = "h" * MAX_TASK_ID_LENGTH
    with (
        ScriptedHub(task_id=task_id) as hub,
        Client(base_url=hub.url, sleep=fake.sleep, clock=fake.clock) as client,
    ):
        result = client.generate("nano-banana", "longest id")
    assert result.task_id == task_id
    assert hub.polls == 1


def test_resuming_a_journalled_absurd_id_is_a_typed_error_and_the_run_stays_findable(
    tmp_path: Path, hub: ScriptedHub, fake: FakeTime
) -> None:
    history = History(tmp_path / "history")
    history.start("left-behind", "nano-banana", {"prompt": "long id"})
    history.submitted("left-behind", LONG_ID, "nano-banana")

    with Client(base_url=hub.url, sleep=fake.sleep, clock=fake.clock) as client:
        (run,) = History(history.folder).resume(client=client)

    assert isinstance(run.exception, errors.TaskIdError)
    assert "70,004 characters" in (run.error or "")
    assert len(run.error or "") < 2000  # the start of the id, never all 70 KB of it
    assert hub.requests == []
    # No poll could ever carry it: the run ends (not pending, so no Resume refuses it again),
    # and the history keeps the whole id to look the task up by.
    entry = History(history.folder).get("left-behind")
    assert entry.status == "error" and not entry.is_pending and entry.task_id == LONG_ID
    with Client(base_url=hub.url, sleep=fake.sleep, clock=fake.clock) as client:
        assert History(history.folder).resume(client=client) == []
    assert hub.requests == []


def test_a_run_whose_submit_answers_an_absurd_id_ends_in_its_error_naming_the_id_start(
    tmp_path: Path, fake: FakeTime
) -> None:
    history = History(tmp_path / "history")
    run = Run("nano-banana", {"prompt": "long id"})
    with ScriptedHub(task_id=LONG_ID) as hub:

        async def main() -> None:
            async with AsyncClient(base_url=hub.url, sleep=fake.asleep, clock=fake.clock) as client:
                await execute(run, client, history, tick_s=0.001)

        asyncio.run(main())
    assert isinstance(run.exception, errors.TaskIdError)
    assert run.exception.task_id == LONG_ID
    assert run.status == "error"
    assert hub.requests == ["POST"]
    # The history says what happened, with the start of the id to look the task up by.
    entry = History(history.folder).get(run.run_id)
    assert "hub-xxxx" in (entry.error or "") and "70,004 characters" in (entry.error or "")
