"""Client and AsyncClient against a scripted hub on httpx.MockTransport (no network, no real time).

Every test runs for both clients: the async one through ``asyncio.run``. Time is a fake clock
advanced by the injected sleep, which also records every wait.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
import threading
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

import mountsea_widgets.client as client_module
import mountsea_widgets.client._base as client_base  # where downloads read their limit
from mountsea_widgets import errors
from mountsea_widgets._retry import RetryPolicy, parse_retry_after
from mountsea_widgets.client import DEFAULT_BASE_URL, AsyncClient, Client
from mountsea_widgets.result import Result
from mountsea_widgets.task import TaskStatus
from tests.helpers.images import png_header, solid_png

KEY = "sk-canary-SECRET-1234"
BASE = "https://hub.test"
CDN = "https://cdn.test"
KINDS = ["sync", "async"]

Answer = Callable[[httpx.Request], httpx.Response]


PNG = solid_png("red", (8, 6))


def reply(status: int = 200, body: Any = None, **kwargs: Any) -> Answer:
    def answer(request: httpx.Request) -> httpx.Response:
        if body is not None:
            return httpx.Response(status, json=body, **kwargs)
        return httpx.Response(status, **kwargs)

    return answer


def raises(exc_type: type[httpx.RequestError], message: str = "boom") -> Answer:
    def answer(request: httpx.Request) -> httpx.Response:
        raise exc_type(message, request=request)

    return answer


def completed(*urls: str, **extra: Any) -> dict[str, Any]:
    images = [{"url": url, "content_type": "image/png"} for url in urls]
    return {
        "task_id": "hub-1",
        "status": "completed",
        "ready": True,
        "elapsed_ms": 4200,
        "data": {"images": images, "description": ""},
        **extra,
    }


class Hub:
    """A scripted hub: per route a list of answers, used in order; the last one repeats."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.events: list[str] = []
        self.submit: list[Answer] = [reply(200, {"task_id": "hub-1", "status": "pending"})]
        self.poll: list[Answer] = [reply(200, completed(f"{CDN}/files/hub-1/1.png"))]
        self.files: dict[str, list[Answer]] = {}
        self.file_default: list[Answer] = [reply(200, content=PNG)]

    def route(self, request: httpx.Request) -> tuple[str, list[Answer]]:
        path = request.url.path
        if request.method == "POST" and path == "/hub/v1/image":
            return "submit", self.submit
        if request.method == "GET" and path.startswith("/hub/v1/tasks/"):
            return "poll", self.poll
        return "file", self.files.get(str(request.url), self.file_default)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        name, answers = self.route(request)
        self.events.append(name)
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return answer(request)

    def count(self, name: str) -> int:
        return self.events.count(name)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Harness:
    """One client of either kind, plus its recorded sleeps; ``call`` hides sync vs async."""

    def __init__(self, kind: str, hub: Hub, **kwargs: Any) -> None:
        self.kind = kind
        self.hub = hub
        self.clock = FakeClock()
        self.sleeps: list[float] = []
        kwargs.setdefault("api_key", KEY)
        kwargs.setdefault("base_url", BASE)
        cls = Client if kind == "sync" else AsyncClient
        self.client: Any = cls(
            transport=httpx.MockTransport(hub), sleep=self.sleep, clock=self.clock, **kwargs
        )

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock.now += seconds

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        value = getattr(self.client, method)(*args, **kwargs)
        if inspect.iscoroutine(value):
            return asyncio.run(value)
        return value


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def scripted_hub() -> Hub:
    return Hub()


@pytest.fixture
def harness(kind: str, scripted_hub: Hub) -> Harness:
    return Harness(kind, scripted_hub)


def assert_no_key(exc: BaseException) -> None:
    assert KEY not in "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    assert KEY not in str(exc)
    assert KEY not in repr(exc)
    for value in vars(exc).values():
        assert KEY not in repr(value)


# --- configuration, repr, auth ------------------------------------------------------------------


def test_repr_masks_the_key(kind: str, scripted_hub: Hub) -> None:
    client = Harness(kind, scripted_hub).client
    text = repr(client)
    assert KEY not in text
    assert "1234" in text and "hub.test" in text


def test_bearer_key_and_envelope_are_sent(harness: Harness, scripted_hub: Hub) -> None:
    task_id = harness.call(
        "submit", "nano-banana", {"prompt": "a red cube", "safety_tolerance": 4, "seed": None}
    )
    assert task_id == "hub-1"
    (request,) = scripted_hub.requests
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["content-type"] == "application/json"
    # validated and cleaned: the int becomes the documented string, the unset seed is omitted
    assert json.loads(request.content) == {
        "model": "nano-banana",
        "input": {"prompt": "a red cube", "safety_tolerance": "4"},
    }


def test_no_key_sends_no_authorization_header(kind: str, scripted_hub: Hub) -> None:
    harness = Harness(kind, scripted_hub, api_key=None)
    assert not harness.client.has_api_key
    harness.call("submit", "nano-banana", {"prompt": "x"})
    assert "authorization" not in scripted_hub.requests[0].headers


def test_key_and_base_url_from_environment(
    kind: str, scripted_hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOUNTSEA_API_KEY", "env-key-abcdefghijkl")
    monkeypatch.setenv("MOUNTSEA_BASE_URL", "http://env-hub.test:9000/")
    harness = Harness(kind, scripted_hub, api_key=None, base_url=None)
    assert harness.client.base_url == "http://env-hub.test:9000"
    harness.call("submit", "nano-banana", {"prompt": "x"})
    request = scripted_hub.requests[0]
    assert str(request.url) == "http://env-hub.test:9000/hub/v1/image"
    assert request.headers["authorization"] == "Bearer env-key-abcdefghijkl"


def test_default_base_url_with_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOUNTSEA_BASE_URL", raising=False)
    client = Client(api_key="sk-test-default-url-0001")
    try:
        assert client.base_url == DEFAULT_BASE_URL == "https://api.mountsea.ai"
        assert not client.offline
    finally:
        client.close()


@pytest.mark.parametrize("bad", ["ftp://hub.test", "hub.test", "file:///etc"])
def test_base_url_must_be_http(bad: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        Client(base_url=bad)


# --- submit ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            200,
            {
                "task_id": "hub-3f0c-aaaa",
                "status": "pending",
                "capability": "image",
                "model": "nano-banana",
                "vendor": "Google",
                "mode": "text-to-image",
                "created_at": "2026-05-18T09:00:00.000Z",
            },
            "hub-3f0c-aaaa",
        ),
        (201, {"taskId": "0b7e-1111"}, "0b7e-1111"),
        (200, {"taskId": "camel"}, "camel"),
        (201, {"task_id": "same", "taskId": "same"}, "same"),
    ],
)
def test_submit_accepts_both_shapes(
    harness: Harness, scripted_hub: Hub, status: int, body: dict[str, Any], expected: str
) -> None:
    scripted_hub.submit = [reply(status, body)]
    assert harness.call("submit", "nano-banana", {"prompt": "x"}) == expected


def test_invalid_input_is_never_sent(harness: Harness, scripted_hub: Hub) -> None:
    with pytest.raises(errors.ValidationError) as info:
        harness.call("submit", "nano-banana", {"prompt": "x", "aspect_ratio": "7:3"})
    assert info.value.params == ["aspect_ratio"]
    assert scripted_hub.requests == []


def test_unknown_model_names_model(harness: Harness, scripted_hub: Hub) -> None:
    with pytest.raises(errors.ValidationError) as info:
        harness.call("submit", "nano-bananna", {"prompt": "x"})
    assert info.value.params == ["model"]
    assert "nano-banana" in str(info.value)
    assert scripted_hub.requests == []


@pytest.mark.parametrize(
    "body", [b"<html>gateway</html>", b"", b"[1, 2]", b'{"task_id": '], ids=str
)
def test_submit_malformed_answer_is_a_clear_error_and_not_resent(
    harness: Harness, scripted_hub: Hub, body: bytes
) -> None:
    scripted_hub.submit = [reply(200, content=body)]
    with pytest.raises(errors.InvalidResponseError, match="not with a JSON object") as info:
        harness.call("submit", "nano-banana", {"prompt": "x"})
    assert "may or may not have been created" in str(info.value)
    assert scripted_hub.count("submit") == 1


def test_submit_without_task_id_is_a_clear_error(harness: Harness, scripted_hub: Hub) -> None:
    scripted_hub.submit = [reply(200, {"status": "pending"})]
    with pytest.raises(errors.InvalidResponseError, match="no task id"):
        harness.call("submit", "nano-banana", {"prompt": "x"})
    assert scripted_hub.count("submit") == 1


@pytest.mark.parametrize("status", [500, 502, 504])
def test_submit_server_error_is_not_retried(
    harness: Harness, scripted_hub: Hub, status: int
) -> None:
    scripted_hub.submit = [reply(status, {"message": "upstream broke"})]
    with pytest.raises(errors.ServerError) as info:
        harness.call("submit", "nano-banana", {"prompt": "x"})
    assert scripted_hub.count("submit") == 1
    assert info.value.status_code == status
    assert "may or may not have been created" in str(info.value)
    assert "upstream broke" in str(info.value)
    assert harness.sleeps == []


@pytest.mark.parametrize(
    ("exc_type", "error_type"),
    [
        (httpx.ReadTimeout, errors.APITimeoutError),
        (httpx.WriteTimeout, errors.APITimeoutError),
        (httpx.RemoteProtocolError, errors.APIConnectionError),
        (httpx.ReadError, errors.APIConnectionError),
    ],
)
def test_submit_after_the_body_went_out_is_not_retried(
    harness: Harness,
    scripted_hub: Hub,
    exc_type: type[httpx.RequestError],
    error_type: type[Exception],
) -> None:
    scripted_hub.submit = [raises(exc_type), reply(200, {"task_id": "second"})]
    with pytest.raises(error_type) as info:
        harness.call("submit", "nano-banana", {"prompt": "x"})
    assert scripted_hub.count("submit") == 1
    assert "may or may not have been created" in str(info.value)


@pytest.mark.parametrize(
    "first",
    [
        reply(503, {"message": "busy"}),
        reply(429, {"message": "slow down"}),
        raises(httpx.ConnectError),
        raises(httpx.ConnectTimeout),
    ],
    ids=["503", "429", "ConnectError", "ConnectTimeout"],
)
def test_submit_is_retried_when_it_provably_was_not_processed(
    harness: Harness, scripted_hub: Hub, first: Answer
) -> None:
    scripted_hub.submit = [first, reply(201, {"taskId": "after-retry"})]
    assert harness.call("submit", "nano-banana", {"prompt": "x"}) == "after-retry"
    assert scripted_hub.count("submit") == 2
    assert len(harness.sleeps) == 1


def test_submit_connect_errors_give_up_after_max_retries(kind: str, scripted_hub: Hub) -> None:
    harness = Harness(kind, scripted_hub, max_retries=2)
    scripted_hub.submit = [raises(httpx.ConnectError, "connection refused")]
    with pytest.raises(errors.APIConnectionError) as info:
        harness.call("submit", "nano-banana", {"prompt": "x"})
    assert not isinstance(info.value, errors.APITimeoutError)
    assert scripted_hub.count("submit") == 3
    # never sent, so the message must not claim the task may exist
    assert "may or may not" not in str(info.value)
    # exponential backoff with jitter: each wait within [half, all] of base * 2**n
    assert 0.25 <= harness.sleeps[0] <= 0.5
    assert 0.5 <= harness.sleeps[1] <= 1.0


# --- status errors ----------------------------------------------------------------------------

STATUS_CLASSES = [
    (400, errors.BadRequestError),
    (401, errors.AuthenticationError),
    (402, errors.PaymentRequiredError),
    (403, errors.AuthenticationError),
    (404, errors.NotFoundError),
    (422, errors.BadRequestError),
    (429, errors.RateLimitError),
    (500, errors.ServerError),
    (502, errors.ServerError),
    (503, errors.ServerError),
]


@pytest.mark.parametrize(("status", "error_type"), STATUS_CLASSES)
@pytest.mark.parametrize("operation", ["submit", "get_task"])
def test_error_status_maps_to_its_class(
    kind: str, scripted_hub: Hub, status: int, error_type: type[errors.APIError], operation: str
) -> None:
    harness = Harness(kind, scripted_hub, max_retries=0)
    # a hostile or careless server echoing the key back must not leak it into our errors
    body = {"statusCode": status, "message": f"nope (key {KEY})", "error": "X"}
    answer = reply(status, body, headers={"Retry-After": "3"})
    scripted_hub.submit = [answer]
    scripted_hub.poll = [answer]
    args: tuple[Any, ...] = (
        ("nano-banana", {"prompt": "x"}) if operation == "submit" else ("hub-1",)
    )
    with pytest.raises(errors.APIError) as info:
        harness.call(operation, *args)
    error = info.value
    assert type(error) is error_type
    assert error.status_code == status
    assert "nope" in str(error)
    assert_no_key(error)
    if status == 429:
        assert isinstance(error, errors.RateLimitError)
        assert error.retry_after == 3.0


def test_401_without_key_says_how_to_set_one(kind: str, scripted_hub: Hub) -> None:
    harness = Harness(kind, scripted_hub, api_key=None)
    scripted_hub.submit = [reply(401, {"message": "Invalid API key"})]
    with pytest.raises(errors.AuthenticationError, match="MOUNTSEA_API_KEY"):
        harness.call("submit", "nano-banana", {"prompt": "x"})


def test_429_retry_after_seconds_is_waited_exactly(harness: Harness, scripted_hub: Hub) -> None:
    scripted_hub.poll = [
        reply(429, {"message": "slow"}, headers={"Retry-After": "7"}),
        reply(200, {"status": "processing", "ready": False}),
    ]
    status = harness.call("get_task", "hub-1")
    assert status.status == "processing"
    assert harness.sleeps == [7.0]
    assert scripted_hub.count("poll") == 2


def test_429_on_submit_waits_retry_after(harness: Harness, scripted_hub: Hub) -> None:
    scripted_hub.submit = [
        reply(429, {"message": "slow"}, headers={"Retry-After": "2.5"}),
        reply(200, {"task_id": "ok"}),
    ]
    assert harness.call("submit", "nano-banana", {"prompt": "x"}) == "ok"
    assert harness.sleeps == [2.5]


def test_retry_after_too_long_raises_at_once(harness: Harness, scripted_hub: Hub) -> None:
    scripted_hub.poll = [
        reply(429, {"message": "come back tomorrow"}, headers={"Retry-After": "86400"})
    ]
    with pytest.raises(errors.RateLimitError) as info:
        harness.call("get_task", "hub-1")
    assert info.value.retry_after == 86400
    assert harness.sleeps == []


def test_parse_retry_after_forms() -> None:
    now = datetime(2026, 5, 18, 9, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("12", now=now) == 12.0
    assert parse_retry_after(" 0.5 ", now=now) == 0.5
    assert (
        parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30
    )
    assert (
        parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now=now) == 0
    )
    for bad in (None, "", "soon", "-4", "nan", "inf"):
        assert parse_retry_after(bad, now=now) is None


def test_retry_after_http_date_is_honoured(harness: Harness, scripted_hub: Hub) -> None:
    when = datetime.now(timezone.utc) + timedelta(seconds=20)
    scripted_hub.poll = [
        reply(503, headers={"Retry-After": format_datetime(when, usegmt=True)}),
        reply(200, {"status": "pending"}),
    ]
    harness.call("get_task", "hub-1")
    (waited,) = harness.sleeps
    assert 15 <= waited <= 20


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(max_retries=10, base_s=0.5, cap_s=8.0)
    for attempt in range(10):
        step = min(8.0, 0.5 * 2**attempt)
        for _ in range(20):
            assert step / 2 <= policy.backoff(attempt) <= step


# --- get_task -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "ready"),
    [
        ("pending", False),
        ("processing", False),
        ("completed", True),
        ("failed", True),
        ("timeout", True),
        ("cancelled", True),
    ],
)
def test_get_task_each_status(
    harness: Harness, scripted_hub: Hub, status: str, ready: bool
) -> None:
    body: dict[str, Any] = {"task_id": "hub-1", "status": status, "ready": ready}
    if status == "failed":
        body.update(error_code=500, error_message="model crashed")
    scripted_hub.poll = [reply(200, body)]
    task = harness.call("get_task", "hub-1")
    assert isinstance(task, TaskStatus)
    assert (task.id, task.status, task.ready) == ("hub-1", status, ready)
    if status == "failed":
        assert (task.error_code, task.error_message) == (500, "model crashed")


def test_get_task_ignores_unknown_fields_and_tolerates_missing_ones(
    harness: Harness, scripted_hub: Hub
) -> None:
    scripted_hub.poll = [
        reply(
            200, {"status": "processing", "progress": 0.4, "trace": {"x": [1]}, "simulated": True}
        ),
        reply(200, {}),
    ]
    first = harness.call("get_task", "hub-9")
    assert (first.id, first.status, first.ready, first.raw["progress"]) == (
        "hub-9",
        "processing",
        False,
        0.4,
    )
    second = harness.call("get_task", "hub-9")
    assert (second.status, second.ready, second.images) == ("pending", False, ())


def test_get_task_quotes_the_id(harness: Harness, scripted_hub: Hub) -> None:
    scripted_hub.poll = [reply(200, {"status": "pending"})]
    harness.call("get_task", "../admin x?y")
    assert scripted_hub.requests[0].url.raw_path == b"/hub/v1/tasks/..%2Fadmin%20x%3Fy"


@pytest.mark.parametrize(
    "first",
    [
        reply(500),
        reply(502),
        reply(503),
        reply(504),
        reply(200, content=b"<html>proxy page</html>"),
        raises(httpx.ReadTimeout),
        raises(httpx.RemoteProtocolError),
        raises(httpx.ConnectError),
    ],
    ids=["500", "502", "503", "504", "malformed", "ReadTimeout", "dropped", "ConnectError"],
)
def test_get_task_retries_transient_errors(
    harness: Harness, scripted_hub: Hub, first: Answer
) -> None:
    scripted_hub.poll = [first, first, reply(200, {"status": "processing"})]
    assert harness.call("get_task", "hub-1").status == "processing"
    assert scripted_hub.count("poll") == 3
    assert len(harness.sleeps) == 2


def test_get_task_gives_up_after_max_retries(kind: str, scripted_hub: Hub) -> None:
    harness = Harness(kind, scripted_hub, max_retries=2)
    scripted_hub.poll = [reply(503)]
    with pytest.raises(errors.ServerError):
        harness.call("get_task", "hub-1")
    assert scripted_hub.count("poll") == 3


@pytest.mark.parametrize("value", ["", None, 42])
def test_get_task_rejects_a_bad_id(harness: Harness, value: Any) -> None:
    with pytest.raises(ValueError, match="task_id"):
        harness.call("get_task", value)


# --- wait / generate -----------------------------------------------------------------------------


def test_generate_returns_result_with_downloaded_images(
    harness: Harness, scripted_hub: Hub
) -> None:
    scripted_hub.poll = [
        reply(200, {"status": "pending", "ready": False}),
        reply(200, {"status": "processing", "ready": False}),
        reply(
            200,
            completed(f"{CDN}/files/hub-1/1.png", f"{CDN}/files/hub-1/2.png", simulated=True),
        ),
    ]
    scripted_hub.files[f"{CDN}/files/hub-1/2.png"] = [reply(200, content=solid_png("blue", (4, 4)))]
    result = harness.call("generate", "nano-banana", "a red cube", seed=1, safety_tolerance=4)
    assert isinstance(result, Result)
    assert result.task_id == "hub-1"
    assert result.model == "nano-banana"
    assert result.input == {"prompt": "a red cube", "seed": 1, "safety_tolerance": "4"}
    assert result.status == "completed"
    assert result.urls == [f"{CDN}/files/hub-1/1.png", f"{CDN}/files/hub-1/2.png"]
    assert result.image_bytes[0] == PNG
    assert result.content_types == ["image/png", "image/png"]
    assert [image.size for image in result.images] == [(8, 6), (4, 4)]
    assert result.images[1].getpixel((0, 0)) == (0, 0, 255)
    assert result.elapsed_s == pytest.approx(4.2)
    assert result.simulated is True
    assert scripted_hub.count("poll") == 3


def test_generate_calls_on_submitted_before_polling_and_on_status_per_poll(
    harness: Harness, scripted_hub: Hub
) -> None:
    scripted_hub.poll = [
        reply(200, {"status": "pending"}),
        reply(200, {"status": "processing"}),
        reply(200, completed(f"{CDN}/a.png")),
    ]
    seen: list[str] = []

    def on_submitted(task_id: str) -> None:
        scripted_hub.events.append(f"submitted {task_id}")

    def on_status(status: TaskStatus) -> None:
        seen.append(status.status)

    harness.call("generate", "nano-banana", "x", on_submitted=on_submitted, on_status=on_status)
    assert scripted_hub.events[:3] == ["submit", "submitted hub-1", "poll"]
    assert seen == ["pending", "processing", "completed"]


def test_async_client_accepts_async_callbacks_and_async_sleep(scripted_hub: Hub) -> None:
    scripted_hub.poll = [
        reply(200, {"status": "processing"}),
        reply(200, completed(f"{CDN}/a.png")),
    ]
    statuses: list[str] = []
    submitted: list[str] = []
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def on_status(status: TaskStatus) -> None:
        statuses.append(status.status)

    async def on_submitted(task_id: str) -> None:
        submitted.append(task_id)

    async def main() -> Result:
        async with AsyncClient(
            api_key=KEY, base_url=BASE, transport=httpx.MockTransport(scripted_hub), sleep=sleep
        ) as client:
            return await client.generate(
                "nano-banana", "x", on_status=on_status, on_submitted=on_submitted
            )

    result = asyncio.run(main())
    assert result.image_bytes == [PNG]
    assert statuses == ["processing", "completed"]
    assert submitted == ["hub-1"]
    assert len(slept) == 2


def test_sync_client_refuses_async_callbacks(scripted_hub: Hub) -> None:
    async def on_status(status: TaskStatus) -> None:
        return None

    harness = Harness("sync", scripted_hub)
    with pytest.raises(TypeError, match="AsyncClient"):
        harness.call("wait", "hub-1", on_status=on_status)


def test_first_poll_of_a_slow_model_is_not_immediate(harness: Harness, scripted_hub: Hub) -> None:
    scripted_hub.poll = [
        reply(200, {"status": "processing"}),
        reply(200, completed(f"{CDN}/a.png")),
    ]
    harness.call("generate", "gpt-image-2", "a poster")
    assert harness.sleeps[0] >= 5.0


def test_wait_polls_at_once_to_resume_a_task(harness: Harness, scripted_hub: Hub) -> None:
    harness.call("wait", "hub-1", model="nano-banana", input={"prompt": "x"})
    assert scripted_hub.events[0] == "poll"
    assert harness.sleeps == []


def test_wait_labels_result_from_arguments_or_body(harness: Harness, scripted_hub: Hub) -> None:
    scripted_hub.poll = [reply(200, completed(f"{CDN}/a.png", model="nano-banana-2"))]
    result = harness.call("wait", "hub-1")
    assert (result.model, result.input) == ("nano-banana-2", {})
    labelled = harness.call("wait", "hub-1", model="nano-banana", input={"prompt": "p"})
    assert (labelled.model, labelled.input) == ("nano-banana", {"prompt": "p"})


@pytest.mark.parametrize("status", ["failed", "timeout", "cancelled"])
def test_wait_raises_task_failed(harness: Harness, scripted_hub: Hub, status: str) -> None:
    scripted_hub.poll = [
        reply(200, {"status": "processing"}),
        reply(
            200,
            {
                "task_id": "hub-1",
                "status": status,
                "ready": True,
                "error_code": "CONTENT_POLICY",
                "error_message": f"refused (echo {KEY})",
            },
        ),
    ]
    with pytest.raises(errors.TaskFailedError) as info:
        harness.call("wait", "hub-1")
    error = info.value
    assert (error.task_id, error.status, error.error_code) == ("hub-1", status, "CONTENT_POLICY")
    assert error.error_message is not None and "refused" in error.error_message
    assert_no_key(error)
    assert scripted_hub.count("file") == 0


def test_wait_deadline_raises_task_timeout(kind: str, scripted_hub: Hub) -> None:
    harness = Harness(kind, scripted_hub)
    scripted_hub.poll = [reply(200, {"status": "processing", "ready": False})]
    with pytest.raises(errors.TaskTimeoutError) as info:
        harness.call("wait", "hub-1", timeout=30, model="nano-banana")
    assert (info.value.task_id, info.value.timeout) == ("hub-1", 30)
    assert "hub-1" in str(info.value)
    # the deadline is honoured on the injected clock: the waits add up to the timeout exactly
    assert sum(harness.sleeps) == pytest.approx(30)
    assert scripted_hub.count("poll") >= 5


def test_wait_keeps_polling_through_transient_errors(harness: Harness, scripted_hub: Hub) -> None:
    scripted_hub.poll = [
        reply(200, {"status": "processing"}),
        reply(502),
        raises(httpx.ReadTimeout),
        reply(200, content=b"not json"),
        reply(200, completed(f"{CDN}/a.png")),
    ]
    result = harness.call("wait", "hub-1")
    assert result.image_bytes == [PNG]


@pytest.mark.parametrize(
    ("answer", "error_type"),
    [
        (reply(503), errors.ServerError),
        (raises(httpx.ReadTimeout), errors.APITimeoutError),
        (raises(httpx.RemoteProtocolError), errors.APIConnectionError),
        (reply(200, content=b"<html>"), errors.InvalidResponseError),
    ],
    ids=["503", "ReadTimeout", "dropped", "malformed"],
)
def test_wait_failure_after_retries_keeps_the_task_id(
    kind: str, scripted_hub: Hub, answer: Answer, error_type: type[Exception]
) -> None:
    harness = Harness(kind, scripted_hub, max_retries=1)
    scripted_hub.poll = [answer]
    seen: list[str] = []
    with pytest.raises(error_type) as info:
        harness.call("generate", "nano-banana", "x", on_submitted=seen.append, timeout=600)
    assert seen == ["hub-1"]
    assert getattr(info.value, "task_id", None) == "hub-1"
    assert "hub-1" in str(info.value)
    assert_no_key(info.value)


def test_completed_without_images_is_a_clear_error(harness: Harness, scripted_hub: Hub) -> None:
    scripted_hub.poll = [
        reply(
            200,
            {"status": "completed", "ready": True, "data": {"description": "no can do"}},
        )
    ]
    with pytest.raises(errors.InvalidResponseError, match="no image") as info:
        harness.call("wait", "hub-1")
    assert "no can do" in str(info.value)
    assert getattr(info.value, "task_id", None) == "hub-1"


# --- result shapes -----------------------------------------------------------------------------


def data_uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


@pytest.mark.parametrize(
    "data",
    [
        {"images": [{"url": data_uri(PNG), "content_type": "image/png"}]},
        {"image": {"url": data_uri(PNG)}},
        {"output": {"images": [{"b64": base64.b64encode(PNG).decode(), "mime": "image/png"}]}},
        {"urls": [data_uri(PNG)]},
        {"url": data_uri(PNG)},
    ],
    ids=["images", "image", "output-b64", "urls", "url"],
)
def test_data_uri_results_are_decoded_locally(
    harness: Harness, scripted_hub: Hub, data: dict[str, Any]
) -> None:
    scripted_hub.poll = [reply(200, {"status": "completed", "ready": True, "data": data})]
    result = harness.call("wait", "hub-1")
    assert result.image_bytes == [PNG]
    assert result.images[0].size == (8, 6)
    assert scripted_hub.count("file") == 0


def test_images_are_downloaded_concurrently_sync(scripted_hub: Hub) -> None:
    urls = [f"{CDN}/{n}.png" for n in range(3)]
    scripted_hub.poll = [reply(200, completed(*urls))]
    barrier = threading.Barrier(3, timeout=10)

    def file_answer(request: httpx.Request) -> httpx.Response:
        barrier.wait()  # breaks (and fails the test) unless all three are in flight together
        return httpx.Response(200, content=solid_png("red", (int(request.url.path[1]) + 1, 1)))

    scripted_hub.file_default = [file_answer]
    result = Harness("sync", scripted_hub).call("wait", "hub-1")
    assert [image.size for image in result.images] == [(1, 1), (2, 1), (3, 1)]


def test_images_are_downloaded_concurrently_async(scripted_hub: Hub) -> None:
    urls = [f"{CDN}/{n}.png" for n in range(3)]
    scripted_hub.poll = [reply(200, completed(*urls))]
    arrived: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        scripted_hub.requests.append(request)
        if request.url.path.startswith("/hub/"):
            return scripted_hub(request)
        arrived.append(request.url.path)
        for _ in range(1000):  # every download must be in flight before any is answered
            if len(arrived) == 3:
                break
            await asyncio.sleep(0)
        assert len(arrived) == 3
        return httpx.Response(200, content=solid_png("red", (int(request.url.path[1]) + 1, 1)))

    async def main() -> Result:
        async with AsyncClient(
            api_key=KEY, base_url=BASE, transport=httpx.MockTransport(handler), sleep=lambda s: None
        ) as client:
            return await client.wait("hub-1")

    result = asyncio.run(main())
    assert [image.size for image in result.images] == [(1, 1), (2, 1), (3, 1)]


def test_key_goes_to_the_hub_origin_only(harness: Harness, scripted_hub: Hub) -> None:
    scripted_hub.poll = [reply(200, completed(f"{BASE}/files/hub-1/1.png", f"{CDN}/2.png"))]
    harness.call("wait", "hub-1")
    files = [r for r in scripted_hub.requests if "/hub/v1/" not in r.url.path]
    by_host = {r.url.host: r.headers.get("authorization") for r in files}
    assert by_host == {"hub.test": f"Bearer {KEY}", "cdn.test": None}


def test_image_404_is_retried(harness: Harness, scripted_hub: Hub) -> None:
    url = f"{CDN}/late.png"
    scripted_hub.poll = [reply(200, completed(url))]
    scripted_hub.files[url] = [reply(404), reply(404), reply(200, content=PNG)]
    result = harness.call("wait", "hub-1")
    assert result.image_bytes == [PNG]
    assert scripted_hub.count("file") == 3
    assert len(harness.sleeps) == 2


def test_image_404_forever_is_an_image_error(harness: Harness, scripted_hub: Hub) -> None:
    url = f"{CDN}/gone.png"
    scripted_hub.poll = [reply(200, completed(url))]
    scripted_hub.files[url] = [reply(404)]
    with pytest.raises(errors.ImageError, match="HTTP 404") as info:
        harness.call("wait", "hub-1")
    assert getattr(info.value, "task_id", None) == "hub-1"
    assert scripted_hub.count("file") == 1 + client_module.IMAGE_NOT_FOUND_RETRIES


def test_redirect_to_http_is_followed(harness: Harness, scripted_hub: Hub) -> None:
    scripted_hub.poll = [reply(200, completed(f"{CDN}/r.png"))]
    scripted_hub.files[f"{CDN}/r.png"] = [reply(302, headers={"Location": "/real.png"})]
    scripted_hub.files[f"{CDN}/real.png"] = [reply(200, content=PNG)]
    assert harness.call("wait", "hub-1").image_bytes == [PNG]


# --- hostile server -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://cdn.test/a.png",
        "javascript:alert(1)",
        "gopher://cdn.test/",
        "///no-host/a.png",
        f"file:///{KEY}",
    ],
)
def test_non_http_image_urls_are_refused(harness: Harness, scripted_hub: Hub, url: str) -> None:
    scripted_hub.poll = [reply(200, completed(url))]
    with pytest.raises(errors.ImageError, match="only http"):
        harness.call("wait", "hub-1")
    assert scripted_hub.count("file") == 0


def test_redirect_to_file_scheme_is_refused(harness: Harness, scripted_hub: Hub) -> None:
    scripted_hub.poll = [reply(200, completed(f"{CDN}/r.png"))]
    scripted_hub.files[f"{CDN}/r.png"] = [reply(302, headers={"Location": "file:///etc/passwd"})]
    with pytest.raises(errors.ImageError, match="only http"):
        harness.call("wait", "hub-1")
    assert scripted_hub.count("file") == 1


def test_redirect_loop_is_cut(harness: Harness, scripted_hub: Hub) -> None:
    scripted_hub.poll = [reply(200, completed(f"{CDN}/loop.png"))]
    scripted_hub.files[f"{CDN}/loop.png"] = [reply(301, headers={"Location": f"{CDN}/loop.png"})]
    with pytest.raises(errors.ImageError, match="redirects"):
        harness.call("wait", "hub-1")
    assert scripted_hub.count("file") == 1 + client_module.MAX_REDIRECTS


def test_non_image_bytes_are_refused(harness: Harness, scripted_hub: Hub) -> None:
    scripted_hub.poll = [reply(200, completed(f"{CDN}/a.png"))]
    scripted_hub.file_default = [reply(200, content=b"<html>not an image</html>")]
    with pytest.raises(errors.ImageError, match="not an image"):
        harness.call("wait", "hub-1")


def test_declared_oversized_body_is_refused_unread(harness: Harness, scripted_hub: Hub) -> None:
    scripted_hub.poll = [reply(200, completed(f"{CDN}/a.png"))]
    scripted_hub.file_default = [reply(200, content=PNG, headers={"Content-Length": str(10**12)})]
    with pytest.raises(errors.ImageError, match="larger than"):
        harness.call("wait", "hub-1")


def test_streamed_oversized_body_is_cut(
    harness: Harness, scripted_hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_base, "MAX_IMAGE_BYTES", 10_000)
    sent: list[int] = []

    class Endless(httpx.SyncByteStream, httpx.AsyncByteStream):
        def __iter__(self) -> Any:
            for _ in range(1000):
                sent.append(1)
                yield b"\0" * 1000

        async def __aiter__(self) -> Any:
            for chunk in self:
                yield chunk

    scripted_hub.poll = [reply(200, completed(f"{CDN}/a.png"))]
    scripted_hub.file_default = [lambda request: httpx.Response(200, stream=Endless())]
    with pytest.raises(errors.ImageError, match="larger than 10,000"):
        harness.call("wait", "hub-1")
    assert len(sent) < 100  # reading stopped near the limit, not at the end of the stream


def test_a_trickling_download_is_cut_at_its_total_time_budget(
    harness: Harness, scripted_hub: Hub
) -> None:
    from mountsea_widgets.client import MAX_DOWNLOAD_SECONDS

    sent: list[int] = []

    class Trickle(httpx.SyncByteStream, httpx.AsyncByteStream):
        """One byte per 'read', each arriving 10 s after the last: never a read timeout."""

        def __iter__(self) -> Any:
            for _ in range(10_000):
                sent.append(1)
                harness.clock.now += 10.0
                yield b"\0"

        async def __aiter__(self) -> Any:
            for chunk in self:
                yield chunk

    scripted_hub.poll = [reply(200, completed(f"{CDN}/a.png"))]
    scripted_hub.file_default = [lambda request: httpx.Response(200, stream=Trickle())]
    with pytest.raises(errors.ImageError, match=f"longer than {MAX_DOWNLOAD_SECONDS:g} s"):
        harness.call("wait", "hub-1")
    # Stopped once the budget was spent, not at the end of the stream.
    assert len(sent) <= MAX_DOWNLOAD_SECONDS / 10.0 + 1


@pytest.mark.parametrize("size", [(30000, 30000), (8000, 8000)])
def test_decompression_bomb_header_is_refused(
    harness: Harness, scripted_hub: Hub, size: tuple[int, int]
) -> None:
    scripted_hub.poll = [reply(200, completed(f"{CDN}/bomb.png"))]
    scripted_hub.file_default = [reply(200, content=png_header(*size))]
    with pytest.raises(errors.ImageError, match="pixels"):
        harness.call("wait", "hub-1")


def test_a_task_listing_too_many_images_downloads_none(harness: Harness, scripted_hub: Hub) -> None:
    from mountsea_widgets.client import MAX_IMAGES_PER_TASK

    urls = [f"{CDN}/{n}.png" for n in range(MAX_IMAGES_PER_TASK + 1)]
    scripted_hub.poll = [reply(200, completed(*urls))]
    with pytest.raises(errors.ImageError, match=f"lists {MAX_IMAGES_PER_TASK + 1} images") as info:
        harness.call("wait", "hub-1")
    assert getattr(info.value, "task_id", None) == "hub-1"
    assert scripted_hub.count("file") == 0


def test_malformed_data_uri_is_an_image_error(harness: Harness, scripted_hub: Hub) -> None:
    scripted_hub.poll = [reply(200, completed("data:image/png;base64,@@@not-base64@@@"))]
    with pytest.raises(errors.ImageError, match="base64"):
        harness.call("wait", "hub-1")


# --- the key never leaks ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scenario",
    ["connect", "timeout", "status", "malformed", "no-id", "failed", "image-url", "image-404"],
)
def test_key_absent_from_every_error(kind: str, scripted_hub: Hub, scenario: str) -> None:
    harness = Harness(kind, scripted_hub, max_retries=0)
    if scenario == "connect":
        scripted_hub.submit = [raises(httpx.ConnectError, f"refused for {KEY}")]
    elif scenario == "timeout":
        scripted_hub.submit = [raises(httpx.ReadTimeout, f"slow {KEY}")]
    elif scenario == "status":
        scripted_hub.submit = [reply(401, content=f"bad key {KEY}".encode())]
    elif scenario == "malformed":
        scripted_hub.submit = [reply(200, content=f"oops {KEY}".encode())]
    elif scenario == "no-id":
        scripted_hub.submit = [reply(200, {"echo": KEY})]
    elif scenario == "failed":
        scripted_hub.poll = [
            reply(200, {"status": "failed", "error_message": KEY, "error_code": KEY})
        ]
    elif scenario == "image-url":
        scripted_hub.poll = [reply(200, completed(f"file:///{KEY}"))]
    else:
        scripted_hub.poll = [reply(200, completed(f"{CDN}/{KEY}.png"))]
        scripted_hub.file_default = [reply(500, content=KEY.encode())]
    with pytest.raises(errors.MountseaError) as info:
        harness.call("generate", "nano-banana", "x")
    assert_no_key(info.value)
    assert KEY not in repr(harness.client)


def test_context_managers_close() -> None:
    with Client(base_url=BASE, transport=httpx.MockTransport(Hub())) as client:
        assert client.submit("nano-banana", {"prompt": "x"}) == "hub-1"
    assert client._http.is_closed

    async def main() -> AsyncClient:
        async with AsyncClient(base_url=BASE, transport=httpx.MockTransport(Hub())) as aclient:
            assert await aclient.submit("nano-banana", {"prompt": "x"}) == "hub-1"
        return aclient

    assert asyncio.run(main())._http.is_closed


# --- answers a server drags out, and text a server sends --------------------------------------


def test_server_text_loses_control_characters_and_is_capped() -> None:
    hostile = "\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b[2K\rall good\n" + "x" * 5_000_000
    failed = errors.TaskFailedError("hub-1", "\x1b[31mE1", hostile)
    text = str(failed)
    assert len(text) < errors.MAX_SERVER_TEXT + 300
    assert not any(ch in text for ch in "\x1b\x07\r")
    assert "all good\n" in text and text.endswith("…")
    assert failed.error_message == hostile  # the raw value is still there for code to read

    huge = errors.make_status_error(400, {"message": ["\x1b[2J" + "y" * 100_000] * 1000})
    assert len(str(huge)) <= errors.MAX_SERVER_TEXT + 20 and "\x1b" not in str(huge)
    tab_and_newline = errors.server_text("a\tb\nc")
    assert tab_and_newline == "a\tb\nc"
