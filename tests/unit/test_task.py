"""TaskStatus.parse: every status, tolerant of unknown/missing fields, defensive image parsing."""

from __future__ import annotations

from typing import Any

import pytest

from mountsea_widgets.errors import InvalidResponseError
from mountsea_widgets.task import STATUSES, TERMINAL, ImageRef, TaskStatus, images_from_data


def test_statuses_and_terminal_set() -> None:
    assert STATUSES == ("pending", "processing", "completed", "failed", "timeout", "cancelled")
    assert {"completed", "failed", "timeout", "cancelled"} == TERMINAL


@pytest.mark.parametrize("status", STATUSES)
def test_ready_follows_terminal_status_when_flag_missing(status: str) -> None:
    parsed = TaskStatus.parse({"status": status}, "t")
    assert parsed.status == status
    assert parsed.ready is (status in TERMINAL)


def test_ready_flag_ends_a_running_status_only_with_an_outcome() -> None:
    images = {"images": [{"url": "https://a/1"}]}
    done = TaskStatus.parse({"status": "processing", "ready": True, "data": images}, "t")
    assert (done.ready, done.status) == (True, "completed")
    # ready beside "processing" with neither images nor an error: still running, polled again
    assert TaskStatus.parse({"status": "processing", "ready": True}, "t").ready is False


def test_documented_completed_body() -> None:
    body = {
        "task_id": "hub-3f0c",
        "status": "completed",
        "ready": True,
        "elapsed_ms": 18342,
        "data": {
            "images": [
                {
                    "url": "https://cdn.test/output.png",
                    "content_type": "image/png",
                    "file_name": "output.png",
                    "width": 1024,
                    "height": 1024,
                }
            ],
            "description": "",
        },
    }
    parsed = TaskStatus.parse(body, "ignored")
    assert parsed.id == "hub-3f0c"
    assert parsed.elapsed_ms == 18342
    assert parsed.raw == body
    assert parsed.images == (
        ImageRef(
            url="https://cdn.test/output.png",
            content_type="image/png",
            width=1024,
            height=1024,
            file_name="output.png",
        ),
    )


def test_failure_fields_and_sibling_spellings() -> None:
    snake = TaskStatus.parse({"status": "failed", "error_code": 500, "error_message": "boom"}, "t")
    assert (snake.error_code, snake.error_message, snake.failed) == (500, "boom", True)
    camel = TaskStatus.parse({"status": "FAILED", "errorCode": "X", "errorMessage": "m"}, "t")
    assert (camel.status, camel.error_code, camel.error_message) == ("failed", "X", "m")
    nested = TaskStatus.parse({"status": "failed", "error": {"message": "nested"}}, "t")
    assert nested.error_message == "nested"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("succeeded", "completed"),
        ("canceled", "cancelled"),
        ("queued", "pending"),
        ("running", "processing"),
        (None, "pending"),
        ("", "pending"),
        (3, "pending"),
        ("brand-new", "brand-new"),
    ],
)
def test_status_spellings(given: Any, expected: str) -> None:
    assert TaskStatus.parse({"status": given}, "t").status == expected


def test_unknown_status_is_not_ready_unless_flagged() -> None:
    assert TaskStatus.parse({"status": "brand-new"}, "t").ready is False


def test_missing_and_junk_fields_are_tolerated() -> None:
    parsed = TaskStatus.parse(
        {"elapsed_ms": "soon", "data": 17, "error_code": None, "extra": [1, 2]}, "given-id"
    )
    assert parsed.id == "given-id"
    assert (parsed.elapsed_ms, parsed.images, parsed.error_message) == (None, (), None)


@pytest.mark.parametrize("body", [None, [], "completed", 3])
def test_non_object_body_is_invalid(body: Any) -> None:
    with pytest.raises(InvalidResponseError, match="task-7"):
        TaskStatus.parse(body, "task-7")


PNG_URI = "data:image/png;base64,iVBORw0KGgo="


@pytest.mark.parametrize(
    ("data", "urls"),
    [
        (
            {"images": [{"url": "https://a/1"}, {"url": "https://a/2"}]},
            ["https://a/1", "https://a/2"],
        ),
        ({"images": ["https://a/1"]}, ["https://a/1"]),
        ({"image": {"url": "https://a/1"}}, ["https://a/1"]),
        ({"image": "https://a/1"}, ["https://a/1"]),
        ({"output": {"images": [{"url": "https://a/1"}]}}, ["https://a/1"]),
        (
            {"output": {"images": [{"b64": "QUJD", "mime": "image/webp"}]}},
            ["data:image/webp;base64,QUJD"],
        ),
        ({"output": {"images": [{"b64": "QUJD"}]}}, ["data:image/png;base64,QUJD"]),
        ({"urls": ["https://a/1", "https://a/2"]}, ["https://a/1", "https://a/2"]),
        ({"url": "https://a/1"}, ["https://a/1"]),
        ({"images": [{"url": PNG_URI}]}, [PNG_URI]),
        # images[] first: other shapes are ignored when it has something
        ({"images": [{"url": "https://a/1"}], "url": "https://a/9"}, ["https://a/1"]),
        # an empty or junk images list falls through to the next shape
        ({"images": [], "url": "https://a/9"}, ["https://a/9"]),
        ({"images": [None, 3, {"no": "url"}, ""], "urls": ["https://a/9"]}, ["https://a/9"]),
        (["https://a/1"], ["https://a/1"]),
        ("https://a/1", ["https://a/1"]),
        ({"description": "no images"}, []),
        (None, []),
    ],
)
def test_images_from_data_shapes(data: Any, urls: list[str]) -> None:
    assert [ref.url for ref in images_from_data(data)] == urls


def test_image_ref_ignores_junk_metadata() -> None:
    (ref,) = images_from_data(
        {"images": [{"url": "https://a", "width": "big", "height": True, "content_type": 5}]}
    )
    assert (ref.width, ref.height, ref.content_type) == (None, None, None)
