"""Hub answers a real server could send that the parsers must read: other spellings of a task's
ending, ambiguous or wrapped submit answers, and ``data`` shapes beyond the documented ones.

Parser tests call :class:`TaskStatus` and :mod:`mountsea_widgets.submission` directly; flow
tests drive a :class:`Client` over ``httpx.MockTransport`` with a fake clock advanced by the
injected sleep (no network, no real time).
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import httpx
import pytest
from PIL import Image

import mountsea_widgets._images as images_module
from mountsea_widgets import errors
from mountsea_widgets._submission import submitted_task_id, submitted_task_ids
from mountsea_widgets.client import Client
from mountsea_widgets.task import TaskStatus, images_from_data, unpack_json_text

KEY = "sk-answers-canary-5678"
BASE = "https://hub.test"
CDN = "https://cdn.test"


def make_png(color: str = "teal") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = make_png()
PNG_B64 = base64.b64encode(PNG).decode()
IMAGES = {"images": [{"url": f"{CDN}/1.png"}]}


# --- a scripted hub -------------------------------------------------------------------------------


class Hub:
    """Answers submits with ``submit``, polls with ``polls`` in order (the last repeats)."""

    def __init__(self, polls: list[dict[str, Any]], submit: dict[str, Any] | None = None) -> None:
        self.submit = submit or {"task_id": "hub-1", "status": "pending"}
        self.polls = list(polls)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if request.method == "POST":
            return httpx.Response(200, json=self.submit)
        if path.startswith("/hub/v1/tasks/"):
            body = self.polls.pop(0) if len(self.polls) > 1 else self.polls[0]
            return httpx.Response(200, json=body)
        return httpx.Response(200, content=PNG, headers={"Content-Type": "image/png"})

    def seen(self, kind: str) -> list[httpx.Request]:
        if kind == "poll":
            return [r for r in self.requests if r.url.path.startswith("/hub/v1/tasks/")]
        if kind == "submit":
            return [r for r in self.requests if r.method == "POST"]
        return [
            r for r in self.requests if r.method == "GET" and "/hub/v1/tasks/" not in r.url.path
        ]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def client_for(hub: Hub, clock: Clock | None = None) -> Client:
    clock = clock or Clock()
    return Client(
        api_key=KEY,
        base_url=BASE,
        transport=httpx.MockTransport(hub),
        sleep=clock.sleep,
        clock=clock,
    )


# --- endings a real server could send -------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "status"),
    [
        ("done", "completed"),
        ("DONE", "completed"),
        ("finished", "completed"),
        ("Finished", "completed"),
        ("success", "completed"),
        ("SUCCESS", "completed"),
        ("successful", "completed"),
        ("complete", "completed"),
        ("FAILURE", "failed"),
        ("failure", "failed"),
        ("fail", "failed"),
        ("Errored", "failed"),
        ("timed out", "timeout"),
        ("timed-out", "timeout"),
        ("expired", "timeout"),
        ("aborted", "cancelled"),
    ],
)
def test_other_spellings_of_an_ending_are_final_without_a_ready_flag(
    given: str, status: str
) -> None:
    parsed = TaskStatus.parse({"status": given}, "t")
    assert (parsed.status, parsed.ready) == (status, True)
    assert parsed.failed is (status != "completed")


@pytest.mark.parametrize(
    ("given", "status"),
    [("In Progress", "processing"), ("in-progress", "processing"), ("Submitted", "pending")],
)
def test_other_spellings_of_a_running_task_keep_it_polled(given: str, status: str) -> None:
    parsed = TaskStatus.parse({"status": given}, "t")
    assert (parsed.status, parsed.ready) == (status, False)


@pytest.mark.parametrize("flag", [True, "true", "TRUE", " True ", "1", 1, "yes"])
def test_a_ready_flag_spelled_as_text_ends_a_task_that_shows_its_outcome(flag: Any) -> None:
    done = TaskStatus.parse({"ready": flag, "data": IMAGES}, "t")
    assert (done.status, done.ready, [ref.url for ref in done.images]) == (
        "completed",
        True,
        [f"{CDN}/1.png"],
    )
    failed = TaskStatus.parse({"status": "weird", "ready": flag, "error_message": "no"}, "t")
    assert (failed.status, failed.ready, failed.failed) == ("failed", True, True)


@pytest.mark.parametrize("flag", [False, "false", "0", "no", 0, 2, "maybe", [], {}, None])
def test_a_ready_flag_that_says_no_or_nothing_is_not_an_ending(flag: Any) -> None:
    parsed = TaskStatus.parse({"status": "processing", "ready": flag, "data": IMAGES}, "t")
    assert (parsed.status, parsed.ready) == ("processing", False)


@pytest.mark.parametrize("flag", [True, "true"])
@pytest.mark.parametrize("status", ["processing", "pending", None, "brand-new"])
def test_ready_beside_a_running_status_without_images_is_still_running(
    flag: Any, status: str | None
) -> None:
    parsed = TaskStatus.parse({"status": status, "ready": flag, "data": {}}, "t")
    assert parsed.ready is False and not parsed.failed


def test_a_terminal_status_wins_over_a_ready_flag_that_says_no() -> None:
    parsed = TaskStatus.parse({"status": "done", "ready": False, "data": IMAGES}, "t")
    assert (parsed.status, parsed.ready) == ("completed", True)


def test_done_without_ready_completes_on_the_first_poll() -> None:
    hub = Hub([{"status": "done", "data": IMAGES}])
    with client_for(hub) as client:
        result = client.wait("hub-1", timeout=60)
    assert result.status == "completed" and result.image_bytes == [PNG]
    assert len(hub.seen("poll")) == 1


def test_failure_in_capitals_fails_on_the_first_poll_not_at_the_deadline() -> None:
    hub = Hub([{"status": "FAILURE", "error_message": "the model refused"}])
    with client_for(hub) as client, pytest.raises(errors.TaskFailedError) as info:
        client.wait("hub-1", timeout=60)
    assert info.value.status == "failed" and "the model refused" in str(info.value)
    assert len(hub.seen("poll")) == 1


def test_ready_string_with_images_completes() -> None:
    hub = Hub([{"status": "processing", "ready": "true", "data": IMAGES}])
    with client_for(hub) as client:
        result = client.wait("hub-1", timeout=60)
    assert result.status == "completed" and result.image_bytes == [PNG]


def test_ready_while_processing_without_images_is_polled_again_not_failed() -> None:
    running = {"status": "processing", "ready": True}
    hub = Hub([running, running, {"status": "completed", "ready": True, "data": IMAGES}])
    with client_for(hub) as client:
        result = client.wait("hub-1", timeout=600)
    assert result.status == "completed" and len(hub.seen("poll")) == 3


def test_ready_while_processing_forever_ends_at_our_deadline_and_stays_resumable() -> None:
    """Our deadline (TaskTimeoutError: the task may still finish), never a final failure."""
    hub = Hub([{"status": "processing", "ready": True}])
    with client_for(hub) as client, pytest.raises(errors.TaskTimeoutError) as info:
        client.wait("hub-1", timeout=30)
    assert info.value.task_id == "hub-1"
    assert len(hub.seen("poll")) > 1


# --- ambiguous and wrapped submit answers ---------------------------------------------------------


def test_two_different_ids_are_refused_with_both_on_the_error() -> None:
    body = {"task_id": "hub-snake", "taskId": "hub-camel"}
    with pytest.raises(errors.AmbiguousTaskIdError) as info:
        submitted_task_id(body, status_code=200)
    error = info.value
    assert error.task_ids == ("hub-snake", "hub-camel") and error.task_id == "hub-snake"
    assert isinstance(error, errors.InvalidResponseError) and error.status_code == 200
    text = str(error)
    assert "client.wait('hub-snake')" in text and "client.wait('hub-camel')" in text
    assert "may be billed" in text


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"code": 0, "data": {"task_id": "hub-wrapped"}}, "hub-wrapped"),
        ({"code": 0, "data": {"taskId": "hub-wrapped"}}, "hub-wrapped"),
        ({"code": 0, "data": json.dumps({"task_id": "hub-text"})}, "hub-text"),
        # a gateway's error code does not lose an id the answer still holds
        ({"code": 7, "msg": "queued late", "data": {"task_id": "hub-7"}}, "hub-7"),
        ({"task_id": "hub-same", "data": {"task_id": "hub-same"}}, "hub-same"),
        ({"task_id": "hub-same", "taskId": " hub-same "}, "hub-same"),
        ({"task_id": "..", "taskId": "hub-real"}, "hub-real"),
        ({"code": 0, "data": {"task_id": 42}}, "42"),
        ({"code": 0, "data": None}, None),
        ({"code": 0, "data": "not json"}, None),
        ({"code": 0, "data": {"task_id": ".."}}, None),
    ],
)
def test_the_id_is_read_from_every_place_it_may_be(body: dict[str, Any], expected: Any) -> None:
    assert submitted_task_id(body) == expected


def test_ids_that_disagree_between_the_top_level_and_data_are_all_kept() -> None:
    body = {"task_id": "a", "data": {"task_id": "b", "taskId": "c"}}
    assert submitted_task_ids(body) == ["a", "b", "c"]
    with pytest.raises(errors.AmbiguousTaskIdError) as info:
        submitted_task_id(body)
    assert info.value.task_ids == ("a", "b", "c")


def test_a_wrapped_submit_answer_is_reported_then_followed() -> None:
    events: list[str] = []
    hub = Hub(
        [{"task_id": "hub-wrapped", "status": "completed", "data": IMAGES}],
        submit={"code": 0, "msg": "ok", "data": {"task_id": "hub-wrapped"}},
    )
    with client_for(hub) as client:
        result = client.generate(
            "nano-banana",
            "a red cube",
            on_submitted=lambda task_id: events.append(f"submitted {task_id}"),
            on_status=lambda status: events.append(f"poll {status.status}"),
        )
    assert result.task_id == "hub-wrapped"
    assert events == ["submitted hub-wrapped", "poll completed"]
    assert [r.url.path for r in hub.seen("poll")] == ["/hub/v1/tasks/hub-wrapped"]


@pytest.mark.parametrize(
    "wrap",
    [lambda task: {"code": 0, "data": task}, lambda task: {"code": 0, "data": json.dumps(task)}],
)
def test_a_wrapped_poll_answer_is_read_from_inside(wrap: Any) -> None:
    inner = {"task_id": "hub-w", "status": "FAILURE", "error_message": "no credits"}
    parsed = TaskStatus.parse(wrap(inner), "hub-w")
    assert (parsed.status, parsed.ready, parsed.error_message) == ("failed", True, "no credits")
    done = TaskStatus.parse(wrap({"ready": "true", "data": IMAGES}), "hub-w")
    assert (done.status, done.ready, len(done.images)) == ("completed", True, 1)
    # Not a wrapper: the body's own status is read, whatever its data holds.
    own = TaskStatus.parse({"status": "processing", "data": {"status": "completed"}}, "t")
    assert (own.status, own.ready) == ("processing", False)


def test_an_ambiguous_submit_answer_polls_neither_and_names_both() -> None:
    submitted: list[str] = []
    hub = Hub([{"status": "completed", "data": IMAGES}], submit={"task_id": "a1", "taskId": "b2"})
    with client_for(hub) as client, pytest.raises(errors.AmbiguousTaskIdError) as info:
        client.generate("nano-banana", "a red cube", on_submitted=submitted.append)
    assert info.value.task_ids == ("a1", "b2")
    assert submitted == [] and hub.seen("poll") == []
    assert len(hub.seen("submit")) == 1  # never submitted again
    assert KEY not in str(info.value)


# --- data shapes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        json.dumps(IMAGES),
        json.dumps(json.dumps(IMAGES)),  # encoded twice
        "  " + json.dumps([f"{CDN}/1.png"]),
    ],
)
def test_data_as_json_text_is_read_as_the_object_it_holds(data: str) -> None:
    parsed = TaskStatus.parse({"status": "completed", "data": data}, "t")
    assert [ref.url for ref in parsed.images] == [f"{CDN}/1.png"]
    assert not isinstance(parsed.data, str)


@pytest.mark.parametrize("text", ["{not json", "[" * 100_000, f"{CDN}/1.png", ""])
def test_text_that_is_not_json_stays_text(text: str) -> None:
    assert unpack_json_text(text) == text


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("/img/x.png", BASE, f"{BASE}/img/x.png"),
        ("/img/x.png", BASE + "/", f"{BASE}/img/x.png"),
        ("/img/x.png", "http://127.0.0.1:8123/prefix", "http://127.0.0.1:8123/img/x.png"),
        ("//cdn.test/x.png", BASE, "https://cdn.test/x.png"),
        ("//cdn.test/x.png", "http://127.0.0.1:8123", "http://cdn.test/x.png"),
        ("/../../x.png", BASE, f"{BASE}/x.png"),
        # not resolved: no host to take, or not root-relative; the download check refuses them
        ("///etc/passwd", BASE, "///etc/passwd"),
        ("// /x.png", BASE, "// /x.png"),
        ("img/x.png", BASE, "img/x.png"),
        ("/img/x.png", None, "/img/x.png"),
        (f"{CDN}/1.png", BASE, f"{CDN}/1.png"),
    ],
)
def test_relative_urls_are_resolved_against_the_hub(
    url: str, base: str | None, expected: str
) -> None:
    (ref,) = images_from_data({"images": [{"url": url}]}, base_url=base)
    assert ref.url == expected
    (bare,) = images_from_data({"urls": [url]}, base_url=base)
    assert bare.url == expected


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"content": PNG_B64, "content_type": "image/png"}, f"data:image/png;base64,{PNG_B64}"),
        ({"content": PNG_B64}, f"data:image/png;base64,{PNG_B64}"),
        ({"content": PNG_B64, "mime": "IMAGE/JPEG"}, f"data:image/jpeg;base64,{PNG_B64}"),
        # a media type that could end the data: URI header is not copied into it
        (
            {"content": PNG_B64, "content_type": "image/png,AAAA;x"},
            f"data:image/png;base64,{PNG_B64}",
        ),
        ({"content": f"data:image/png;base64,{PNG_B64}"}, f"data:image/png;base64,{PNG_B64}"),
    ],
)
def test_an_image_given_only_as_base64_content_becomes_a_data_uri(
    entry: dict[str, Any], expected: str
) -> None:
    (ref,) = images_from_data({"images": [entry]})
    assert ref.url == expected


def test_relative_and_protocol_relative_urls_are_fetched_and_the_key_stays_at_the_hub() -> None:
    data = {"images": [{"url": "/img/1.png"}, {"url": "//cdn.test/2.png"}]}
    hub = Hub([{"status": "completed", "data": data}])
    with client_for(hub) as client:
        result = client.wait("hub-1")
    assert result.urls == [f"{BASE}/img/1.png", f"{CDN}/2.png"]
    assert result.image_bytes == [PNG, PNG]
    files = {str(r.url): r.headers.get("authorization") for r in hub.seen("file")}
    assert files == {f"{BASE}/img/1.png": f"Bearer {KEY}", f"{CDN}/2.png": None}


@pytest.mark.parametrize("url", ["///etc/passwd", "// /x.png", "img/x.png"])
def test_what_cannot_be_resolved_is_still_refused(url: str) -> None:
    hub = Hub([{"status": "completed", "data": {"images": [{"url": url}]}}])
    with client_for(hub) as client, pytest.raises(errors.ImageError, match="only http"):
        client.wait("hub-1")
    assert hub.seen("file") == []


def test_data_as_json_text_is_downloaded() -> None:
    hub = Hub([{"status": "completed", "ready": True, "data": json.dumps(IMAGES)}])
    with client_for(hub) as client:
        assert client.wait("hub-1").image_bytes == [PNG]


def test_base64_content_is_decoded_and_checked_to_be_an_image() -> None:
    hub = Hub([{"status": "completed", "data": {"images": [{"content": PNG_B64}]}}])
    with client_for(hub) as client:
        result = client.wait("hub-1")
    assert result.image_bytes == [PNG] and result.content_types == ["image/png"]
    assert hub.seen("file") == []


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (base64.b64encode(b"<html><script>x</script></html>").decode(), "not an image"),
        ("this is not base64!!", "invalid base64"),
    ],
)
def test_base64_content_that_is_not_an_image_is_refused(content: str, words: str) -> None:
    hub = Hub([{"status": "completed", "data": {"images": [{"content": content}]}}])
    with client_for(hub) as client, pytest.raises(errors.ImageError, match=words) as info:
        client.wait("hub-1")
    assert getattr(info.value, "task_id", None) == "hub-1"


def test_base64_content_over_the_size_limit_is_refused_before_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(images_module, "MAX_DATA_URI_CHARS", 1000)
    big = base64.b64encode(b"\0" * 4000).decode()
    hub = Hub([{"status": "completed", "data": {"images": [{"content": big}]}}])
    with client_for(hub) as client, pytest.raises(errors.ImageError, match="over 1,000"):
        client.wait("hub-1")
