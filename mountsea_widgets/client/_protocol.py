"""The hub's protocol as the client speaks it: paths, limits, what an answer must hold."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from importlib import metadata
from typing import Any
from urllib.parse import urlsplit

import httpx

from .._images import content_type_of, decode_image
from .._submission import submitted_task_id
from ..errors import (
    TaskIdError,
)
from ..task import TaskStatus
from ._scrub import _short
from ._steps import _BodyTooLarge, _BodyTooSlow, _Send

log = logging.getLogger("mountsea_widgets.client")


#: Largest JSON answer read for a submit or a poll: a task status (ids, a status, a few URLs,
#: an error text) is a few KB. A gzip answer of 255 KB can inflate to 250 MB, so the cap is on
#: the decoded size, and reading stops as soon as it is passed.
MAX_JSON_BYTES = 4 * 1024 * 1024
#: Largest poll answer read for a task asked with ``sync_mode=True``: its images come inline,
#: as data URIs (up to 4 big images, in base64).
MAX_INLINE_JSON_BYTES = 256 * 1024 * 1024
#: Past MAX_JSON_BYTES, an answer whose decoded size is more than this many times what came
#: over the wire is refused even with the inline cap: base64 of PNG, JPEG or WebP hardly
#: compresses (about 4:3), while a compression bomb inflates a thousandfold.
MAX_JSON_INFLATION = 20
#: Most pixels (width x height, summed over its images) decoded for one task: four of the
#: largest images a model makes (4096 x 4096) with room to spare. Checked from each image's
#: header before any is decoded: 16 solid 7000 x 7000 PNGs are 208 KB each but 3 GB decoded.
MAX_TASK_PIXELS = 100_000_000
#: Redirect hops followed for one image URL (each hop's scheme is checked again).
MAX_REDIRECTS = 5
#: Most images downloaded for one task. Models make at most 4 (num_images); a server listing
#: more is broken or hostile, and must not make us fetch (and hold) an unbounded number.
MAX_IMAGES_PER_TASK = 16
#: Longest time one image download may take in total (64 MiB at a slow ~0.2 MB/s).
MAX_DOWNLOAD_SECONDS = 300.0
#: Extra tries for an image URL answering 404: result files can appear a moment after the task.
IMAGE_NOT_FOUND_RETRIES = 4
#: Extra polls for a task answering 404 before any poll found it: a task just created can take
#: a moment to be visible everywhere on the hub (eventual consistency).
TASK_NOT_FOUND_RETRIES = 4
#: Longest task id accepted. Hub ids are ~40 characters; one far longer cannot be put in a URL
#: (httpx refuses a path segment over 64 KB) and means a broken or hostile answer.
MAX_TASK_ID_LENGTH = 1024
#: Images of one task downloaded at once by the sync client.
DOWNLOAD_WORKERS = 4

_SUBMIT_PATH = "/hub/v1/image"
_TASK_PATH = "/hub/v1/tasks/"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAYBE_CREATED = (
    " The request had been sent, so the task may or may not have been created (and billed):"
    " check the hub before submitting again."
)


try:
    _VERSION = metadata.version("mountsea-widgets")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    _VERSION = "0"
USER_AGENT = f"mountsea-widgets/{_VERSION}"

StatusCallback = Callable[[TaskStatus], Any]
SubmittedCallback = Callable[[str], Any]


def _check_body(body: bytearray, action: _Send, elapsed_s: float, wire_bytes: int) -> None:
    """Stop reading an answer that grows past its size limit or takes past its time limit.

    ``wire_bytes`` is what came over the network so far (before any gzip/deflate decoding):
    past the JSON cap, an answer inflating far more than image data can is a compression bomb.
    """
    if len(body) > action.max_bytes:
        raise _BodyTooLarge(action.max_bytes)
    if (
        action.max_inflation is not None
        and wire_bytes > 0  # 0: a transport that does not count (an in-memory test double)
        and len(body) > MAX_JSON_BYTES
        and len(body) > action.max_inflation * wire_bytes
    ):
        raise _BodyTooLarge(MAX_JSON_BYTES, inflated=True)
    if action.max_seconds is not None and elapsed_s > action.max_seconds:
        raise _BodyTooSlow(action.max_seconds)


def _check_declared_length(response: httpx.Response, limit: int) -> None:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _BodyTooLarge(limit)


def _json_object(content: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(content)
    except (ValueError, RecursionError):  # RecursionError: hostile nesting ("[[[[...")
        return None
    return body if isinstance(body, dict) else None


#: Ids that would not name a task in a URL path ("/tasks/.." is "/hub/v1" once normalised).


_DOT_SEGMENTS = frozenset({".", ".."})


def _task_id(body: Mapping[str, Any], status_code: int | None = None) -> str | None:
    # Top level and inside a {"code": 0, "data": {...}} envelope; different ids are refused
    # with all of them on the error (see submission.py).
    return submitted_task_id(body, status_code=status_code)


def _check_task_id(task_id: Any) -> str:
    """``task_id`` when it can name a task in a URL; a TaskIdError (nothing sent) otherwise."""
    if not isinstance(task_id, str) or not task_id.strip():
        raise TaskIdError(
            f"task_id must be a non-empty string, got {_short(repr(task_id))}", task_id
        )
    if task_id.strip() in _DOT_SEGMENTS:
        raise TaskIdError(
            f"task_id {task_id!r} cannot name a task (it is a URL dot segment)", task_id
        )
    problem = _task_id_problem(task_id)
    if problem is not None:
        raise TaskIdError(
            f"task_id {problem}; it starts {_short(task_id)!r}. Nothing was sent: check where "
            "the id came from",
            task_id,
        )
    return task_id


def _task_id_problem(task_id: str) -> str | None:
    """What makes ``task_id`` unusable in a URL (too long, invisible characters), or None."""
    if len(task_id) > MAX_TASK_ID_LENGTH:
        return (
            f"is {len(task_id):,} characters long; a hub task id has at most {MAX_TASK_ID_LENGTH:,}"
        )
    if not task_id.isprintable():
        return "holds control or invisible characters (such as a line break)"
    return None


def _verify_image(data: bytes) -> str:
    image = decode_image(data)
    try:
        return content_type_of(image)
    finally:
        image.close()


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or (443 if scheme == "https" else 80)
