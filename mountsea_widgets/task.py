"""One poll of a hub task: its status, readiness, error and result image references.

The hub documents the task fields but not the layout of ``data`` (the model output), so
:meth:`TaskStatus.parse` reads it defensively: every documented or likely shape is tried, and
unknown extra fields never break parsing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from .errors import InvalidResponseError

#: Every status the hub documents, in lifecycle order.
STATUSES = ("pending", "processing", "completed", "failed", "timeout", "cancelled")
#: Statuses after which the task never changes again.
TERMINAL = frozenset({"completed", "failed", "timeout", "cancelled"})
#: Terminal statuses that carry no images.
FAILED = frozenset({"failed", "timeout", "cancelled"})

# Other spellings of the documented statuses (sibling Mountsea APIs, gateways, other task
# queues), compared case-insensitively with "-" and " " read as "_". Accepted so a gateway
# change does not leave a finished task polling until the deadline.
_SYNONYMS = {
    **dict.fromkeys(("queued", "created", "assigned", "submitted", "waiting"), "pending"),
    **dict.fromkeys(("running", "in_progress", "started", "generating"), "processing"),
    **dict.fromkeys(
        ("complete", "succeeded", "success", "successful", "done", "finished"), "completed"
    ),
    **dict.fromkeys(("failure", "fail", "error", "errored"), "failed"),
    **dict.fromkeys(("timed_out", "expired"), "timeout"),
    **dict.fromkeys(("canceled", "aborted"), "cancelled"),
}
#: How a ``ready`` flag may be spelled; anything else (a number > 1, a list) is not read.
_FLAGS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
#: Nested JSON strings unpacked in ``data`` ('"{\"images\": ...}"' and its double encoding).
_MAX_JSON_STRING_DEPTH = 2
#: A media type that may go into a ``data:`` URI header (nothing that could end the header).
_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*$")
#: Fields that may carry an image's bytes in base64 instead of a URL.
_BASE64_FIELDS = ("b64", "b64_json", "base64", "content")


@dataclass(frozen=True)
class ImageRef:
    """Where one result image lives: an http(s) URL or a ``data:`` URI, plus what the hub says."""

    url: str
    content_type: str | None = None
    width: int | None = None
    height: int | None = None
    file_name: str | None = None


@dataclass(frozen=True)
class TaskStatus:
    """The state of a hub task after one poll of ``GET /hub/v1/tasks/{id}``."""

    id: str
    status: str
    ready: bool
    data: Any = None
    error_code: Any = None
    error_message: str | None = None
    elapsed_ms: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    images: tuple[ImageRef, ...] = ()

    @property
    def failed(self) -> bool:
        """True when the task ended without images (failed, timeout or cancelled)."""
        return self.status in FAILED

    @classmethod
    def parse(cls, body: Any, task_id: str, *, base_url: str | None = None) -> TaskStatus:
        """Read a task body; tolerant of unknown and missing fields.

        The status is read case-insensitively, other spellings mapped to the documented ones
        ("done", "success" → completed; "failure", "error" → failed). ``ready`` is true when
        the status is terminal, or when the body's ``ready`` flag (``true``, ``"true"``, ``1``)
        says so and the body shows how the task ended: images (completed) or an error
        (failed). A ready flag beside a running status with neither is a contradiction: the
        task is taken as still running, so it is polled again rather than ended as failed.
        A task wrapped as ``{"code": 0, "data": {...task...}}`` is read from inside.
        ``base_url`` resolves relative image URLs (``/img/x.png``, ``//host/x.png``). Raises
        :class:`InvalidResponseError` only when the body is not a JSON object at all.
        """
        if not isinstance(body, Mapping):
            raise InvalidResponseError(
                f"Task {task_id}: the hub answered with {type(body).__name__} instead of a "
                "JSON object",
                body=body,
            )
        raw = dict(body)
        task = _unwrapped(raw)
        status = _status(task.get("status"))
        data = unpack_json_text(task.get("data"))
        images = images_from_data(data, base_url=base_url)
        error_code = _first(task, "error_code", "errorCode")
        error_message = _error_message(task)
        ready = status in TERMINAL
        if not ready and _flag(task.get("ready")):
            if images:
                status, ready = "completed", True
            elif error_code is not None or error_message is not None:
                status, ready = "failed", True
        ident = _first_text(task, "task_id", "taskId", "id") or task_id
        return cls(
            id=ident,
            status=status,
            ready=ready,
            data=data,
            error_code=error_code,
            error_message=error_message,
            elapsed_ms=_int(_first(task, "elapsed_ms", "elapsedMs")),
            raw=raw,
            images=images,
        )


def _unwrapped(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    """The task itself: ``raw``, or the task inside a ``{"code": 0, "data": {...}}`` wrapper.

    A body with neither ``status`` nor ``ready`` whose ``data`` has one of them is a gateway's
    wrapper around the task (the same wrapper its submit answers use).
    """
    if "status" in raw or "ready" in raw:
        return raw
    inner = unpack_json_text(raw.get("data"))
    if isinstance(inner, Mapping) and ("status" in inner or "ready" in inner):
        return inner
    return raw


def unpack_json_text(value: Any) -> Any:
    """``value``, or the JSON object or list it holds when it is a string of JSON.

    Some gateways send ``data`` as the JSON text of the object (at most twice encoded). Only
    text that holds an object or a list is unpacked: a URL, or text that does not parse, stays
    as it is.
    """
    unpacked = value
    for _ in range(_MAX_JSON_STRING_DEPTH):
        if not isinstance(unpacked, str) or unpacked[:64].lstrip()[:1] not in ("{", "[", '"'):
            break
        try:
            unpacked = json.loads(unpacked)
        except (ValueError, RecursionError):  # RecursionError: hostile nesting ("[[[[...")
            break
    return value if isinstance(unpacked, str) else unpacked


def images_from_data(data: Any, *, base_url: str | None = None) -> tuple[ImageRef, ...]:
    """Every image reference in a task's ``data``, trying the known shapes in order.

    ``images[].url`` (fal style), ``image.url``, ``output.images[]`` (ms/v1 style, ``url`` or
    ``b64`` + ``mime`` → a data URI), ``urls`` and ``url``; an entry with only base64 bytes
    (``content``, ``b64``, ``b64_json``, ``base64``) becomes a data URI. The first shape that
    yields images wins. With ``base_url``, root-relative (``/img/x.png``) and protocol-relative
    (``//host/x.png``) URLs are resolved against it. Nothing here is trusted yet: schemes,
    hosts, sizes and bytes are checked when downloading and decoding.
    """
    if isinstance(data, list):
        return _refs(data, base_url)
    if isinstance(data, str):
        return _refs([data], base_url)
    if not isinstance(data, Mapping):
        return ()
    candidates: list[Any] = [data.get("images"), data.get("image")]
    output = data.get("output")
    if isinstance(output, Mapping):
        candidates += [output.get("images"), output.get("image")]
    elif isinstance(output, list):
        candidates.append(output)
    candidates += [data.get("urls"), data.get("url")]
    for candidate in candidates:
        refs = _refs(candidate if isinstance(candidate, list) else [candidate], base_url)
        if refs:
            return refs
    return ()


def _refs(items: list[Any], base_url: str | None) -> tuple[ImageRef, ...]:
    refs = (_ref(item, base_url) for item in items)
    return tuple(ref for ref in refs if ref is not None)


def _ref(item: Any, base_url: str | None = None) -> ImageRef | None:
    if isinstance(item, str):
        return ImageRef(url=_resolved(item, base_url)) if item.strip() else None
    if not isinstance(item, Mapping):
        return None
    content_type = _media_type(item.get("content_type")) or _media_type(item.get("mime"))
    url = _text(item.get("url"))
    if url:
        url = _resolved(url, base_url)
    else:
        b64 = next((text for key in _BASE64_FIELDS if (text := _text(item.get(key)))), None)
        if not b64:
            return None
        # Already a data URI in the field, or bare base64: either way decoded (size-capped)
        # and checked to be an image before it is kept.
        is_uri = b64[:5].lower() == "data:"
        url = b64 if is_uri else f"data:{content_type or 'image/png'};base64,{b64}"
    return ImageRef(
        url=url,
        content_type=content_type,
        width=_int(item.get("width")),
        height=_int(item.get("height")),
        file_name=_text(item.get("file_name")),
    )


def _resolved(url: str, base_url: str | None) -> str:
    """``url`` made absolute against the hub when it is root- or protocol-relative."""
    if base_url is None or not url.startswith("/"):
        return url
    if url.startswith("//"):
        host = urlsplit(url).netloc
        if not host or any(char.isspace() for char in host):
            return url  # "///x", "// /x": no host to take; left for the URL check to refuse
    return urljoin(base_url.rstrip("/") + "/", url)


def _media_type(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    text = text.split(";", 1)[0].strip().lower()
    return text if _MEDIA_TYPE.match(text) else None


def _status(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        return "pending"
    status = value.strip().lower()
    return _SYNONYMS.get(re.sub(r"[\s-]+", "_", status), status)


def _flag(value: Any) -> bool:
    """Whether a ``ready`` flag says yes: ``true``, or its spelling as a string or 1."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value == 1
    if isinstance(value, str):
        return _FLAGS.get(value.strip().lower(), False)
    return False


def _error_message(raw: Mapping[str, Any]) -> str | None:
    message = _first(raw, "error_message", "errorMessage")
    if message is None:
        error = raw.get("error")
        message = error.get("message") if isinstance(error, Mapping) else error
    return str(message) if message not in (None, "") else None


def _first(raw: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if raw.get(key) is not None:
            return raw[key]
    return None


def _first_text(raw: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = raw.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return str(value)
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value == value and abs(value) < 1e18:
        return int(value)
    return None
