"""One poll of a hub task: its status, readiness, error and result image references.

The hub documents the task fields but not the layout of ``data`` (the model output), so
:meth:`TaskStatus.parse` reads it defensively: every documented or likely shape is tried, and
unknown extra fields never break parsing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidResponseError

#: Every status the hub documents, in lifecycle order.
STATUSES = ("pending", "processing", "completed", "failed", "timeout", "cancelled")
#: Statuses after which the task never changes again.
TERMINAL = frozenset({"completed", "failed", "timeout", "cancelled"})
#: Terminal statuses that carry no images.
FAILED = frozenset({"failed", "timeout", "cancelled"})

# Spellings used by sibling Mountsea APIs (ms/v1, gemini): accepted so a gateway change does
# not leave a finished task polling forever.
_SYNONYMS = {
    "queued": "pending",
    "created": "pending",
    "assigned": "pending",
    "running": "processing",
    "in_progress": "processing",
    "succeeded": "completed",
    "success": "completed",
    "canceled": "cancelled",
    "error": "failed",
}


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
    def parse(cls, body: Any, task_id: str) -> TaskStatus:
        """Read a task body; tolerant of unknown and missing fields.

        ``ready`` is the body's ``ready`` flag, or true when the status is terminal. Raises
        :class:`InvalidResponseError` only when the body is not a JSON object at all.
        """
        if not isinstance(body, Mapping):
            raise InvalidResponseError(
                f"Task {task_id}: the hub answered with {type(body).__name__} instead of a "
                "JSON object",
                body=body,
            )
        raw = dict(body)
        status = _status(raw.get("status"))
        ready = raw.get("ready") is True or status in TERMINAL
        data = raw.get("data")
        ident = _first_text(raw, "task_id", "taskId", "id") or task_id
        return cls(
            id=ident,
            status=status,
            ready=ready,
            data=data,
            error_code=_first(raw, "error_code", "errorCode"),
            error_message=_error_message(raw),
            elapsed_ms=_int(_first(raw, "elapsed_ms", "elapsedMs")),
            raw=raw,
            images=images_from_data(data),
        )


def images_from_data(data: Any) -> tuple[ImageRef, ...]:
    """Every image reference in a task's ``data``, trying the known shapes in order.

    ``images[].url`` (fal style), ``image.url``, ``output.images[]`` (ms/v1 style, ``url`` or
    ``b64`` + ``mime`` → a data URI), ``urls`` and ``url``. The first shape that yields images
    wins; nothing here is trusted yet (schemes are checked when downloading).
    """
    if isinstance(data, list):
        return _refs(data)
    if isinstance(data, str):
        return _refs([data])
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
        refs = _refs(candidate if isinstance(candidate, list) else [candidate])
        if refs:
            return refs
    return ()


def _refs(items: list[Any]) -> tuple[ImageRef, ...]:
    refs = (_ref(item) for item in items)
    return tuple(ref for ref in refs if ref is not None)


def _ref(item: Any) -> ImageRef | None:
    if isinstance(item, str):
        return ImageRef(url=item) if item.strip() else None
    if not isinstance(item, Mapping):
        return None
    content_type = _text(item.get("content_type")) or _text(item.get("mime"))
    url = _text(item.get("url"))
    if not url:
        b64 = _text(item.get("b64")) or _text(item.get("b64_json")) or _text(item.get("base64"))
        if not b64:
            return None
        url = f"data:{content_type or 'image/png'};base64,{b64}"
    return ImageRef(
        url=url,
        content_type=content_type,
        width=_int(item.get("width")),
        height=_int(item.get("height")),
        file_name=_text(item.get("file_name")),
    )


def _status(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        return "pending"
    status = value.strip().lower()
    return _SYNONYMS.get(status, status)


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
