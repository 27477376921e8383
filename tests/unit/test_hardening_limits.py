"""Memory bounds on what a hub sends: the size of a JSON answer (decoded, so a gzip answer
cannot inflate past it) and the pixels decoded for one task (read from each image's header
before any decoding).

The client runs over ``httpx.MockTransport`` with a fake clock (no socket, no real time). No
test allocates much memory: the caps are the real ones where a few MB reach them, the pixel
budget is lowered through its constant or met by crafted headers (a PNG header declaring
7000 x 7000 is 69 bytes).
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import struct
import zlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from PIL import Image

import mountsea_widgets.client._base as base_module
from mountsea_widgets import errors
from mountsea_widgets.client import (
    MAX_INLINE_JSON_BYTES,
    MAX_JSON_BYTES,
    MAX_TASK_PIXELS,
    Client,
)

KEY = "sk-limits-canary-2468"
BASE = "https://hub.test"
CDN = "https://cdn.test"


def make_png(side: int = 16, color: str = "teal") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (side, side), color).save(buffer, format="PNG")
    return buffer.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG of a few bytes that declares ``width`` x ``height`` RGBA pixels (no real data)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def client_for(handler: Callable[[httpx.Request], httpx.Response]) -> Client:
    clock = Clock()
    return Client(
        api_key=KEY,
        base_url=BASE,
        transport=httpx.MockTransport(handler),
        sleep=clock.sleep,
        clock=clock,
        max_retries=1,
    )


def gzip_json(body: dict[str, Any]) -> httpx.Response:
    return httpx.Response(
        200,
        content=gzip.compress(json.dumps(body).encode()),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )


# --- the JSON answer cap ----------------------------------------------------------------------


def test_a_status_answer_is_capped_at_a_few_megabytes_whatever_the_old_cap_allowed() -> None:
    assert MAX_JSON_BYTES <= 8 * 1024 * 1024  # "a few MB": a status is a few KB
    assert MAX_INLINE_JSON_BYTES > MAX_JSON_BYTES


def test_a_gzip_poll_answer_that_inflates_past_the_cap_is_refused_naming_the_limit() -> None:
    # ~5 MB of JSON that gzip shrinks to a few KB: the shape of a 255 KB -> 250 MB bomb.
    bomb = {"task_id": "t-1", "status": "processing", "pad": "A" * (MAX_JSON_BYTES + 1_000_000)}
    wire = gzip.compress(json.dumps(bomb).encode())
    assert len(wire) < 50_000
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return gzip_json(bomb)

    with client_for(handler) as client, pytest.raises(errors.ResponseTooLargeError) as info:
        client.get_task("t-1")
    assert info.value.limit == MAX_JSON_BYTES
    message = str(info.value)
    assert "larger than 4 MiB" in message
    assert "more than a task status can need" in message
    assert "sync_mode=True" in message  # says how to allow an inline answer
    assert seen == ["/hub/v1/tasks/t-1"]  # a size, not a glitch: not polled again


def test_a_submit_answer_past_the_cap_is_refused_and_says_the_task_may_exist() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return gzip_json({"task_id": "t-2", "pad": "B" * (MAX_JSON_BYTES + 10)})

    with client_for(handler) as client, pytest.raises(errors.ResponseTooLargeError) as info:
        client.submit("nano-banana", {"prompt": "a cube"})
    assert "4 MiB" in str(info.value)
    assert "may or may not have been created" in str(info.value)


def _inline_answer(pad: int) -> dict[str, Any]:
    uri = "data:image/png;base64," + base64.b64encode(make_png()).decode()
    return {
        "task_id": "t-3",
        "status": "completed",
        "ready": True,
        "data": {"images": [{"url": uri}], "log": base64.b64encode(b"\x07" * pad).decode()},
    }


def test_a_sync_mode_task_may_answer_past_the_status_cap_with_its_images_inline() -> None:
    answer = _inline_answer(MAX_JSON_BYTES)  # over 4 MiB once in base64, like inline images

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answer)

    with client_for(handler) as client:
        result = client.wait("t-3", input={"sync_mode": True})
        assert len(result.image_bytes) == 1
        # The same answer for a task not known to be inline is more than a status needs.
        with pytest.raises(errors.ResponseTooLargeError, match="sync_mode"):
            client.wait("t-3")


# --- the pixel budget of one task -------------------------------------------------------------


def _task_with_images(files: list[bytes]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/hub/v1/tasks/"):
            images = [{"url": f"{CDN}/{n}.png"} for n in range(len(files))]
            return httpx.Response(
                200, json={"task_id": "t-4", "status": "completed", "data": {"images": images}}
            )
        index = int(request.url.path.strip("/").split(".")[0])
        return httpx.Response(200, content=files[index], headers={"Content-Type": "image/png"})

    return handler


def test_images_past_the_task_pixel_budget_are_refused_before_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Sixteen images each declaring 7000 x 7000 (49 million pixels, under the per-image cap):
    # 3 GB of RGBA once decoded. Decoding is watched: only images within the budget get there.
    decoded: list[int] = []
    real_verify = base_module._verify_image

    def watched(data: bytes) -> str:
        decoded.append(len(data))
        return "image/png"  # the crafted files hold no real pixel data

    monkeypatch.setattr(base_module, "_verify_image", watched)
    files = [png_header(7000, 7000) for _ in range(16)]
    with client_for(_task_with_images(files)) as client, pytest.raises(errors.ImageError) as info:
        client.wait("t-4")
    allowed = MAX_TASK_PIXELS // (7000 * 7000)
    assert len(decoded) == allowed == 2
    message = str(info.value)
    assert f"more than {MAX_TASK_PIXELS:,} pixels in all" in message
    assert "image 3" in message and "refused before decoding" in message
    kept = info.value.downloaded  # type: ignore[attr-defined]
    assert [item is not None for item in kept] == [True] * allowed + [False] * (16 - allowed)
    assert real_verify is not watched


def test_a_lowered_budget_keeps_the_images_within_it_and_refuses_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(base_module, "MAX_TASK_PIXELS", 2 * 16 * 16)
    files = [make_png(16, color) for color in ("red", "green", "blue")]
    with client_for(_task_with_images(files)) as client, pytest.raises(errors.ImageError) as info:
        client.wait("t-4")
    assert "Task t-4 image 3" in str(info.value)
    assert "more than 512 pixels in all" in str(info.value)
    kept = info.value.downloaded  # type: ignore[attr-defined]
    assert [item[0] if item else None for item in kept] == [files[0], files[1], None]
    assert info.value.task_id == "t-4"  # type: ignore[attr-defined]


def test_images_within_the_budget_all_arrive() -> None:
    files = [make_png(16, color) for color in ("red", "green", "blue", "white")]
    with client_for(_task_with_images(files)) as client:
        result = client.wait("t-4")
    assert result.image_bytes == files
    assert result.content_types == ["image/png"] * 4
