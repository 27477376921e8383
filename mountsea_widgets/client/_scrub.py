"""Keeping the API key out of what the client says: messages, errors, URLs shown."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from ..errors import (
    APIError,
    scrub,
)

#: An exception type, kept through rewording.
_E = TypeVar("_E", bound=BaseException)


def _mask(key: str | None) -> str | None:
    if key is None:
        return None
    if len(key) >= 16:
        return f"{key[:3]}…{key[-4:]}"
    return "***"


def _short(url: str, limit: int = 80) -> str:
    return url if len(url) <= limit else url[: limit - 1] + "…"


def _reword(error: _E, message: str) -> _E:
    """Replace an exception's message (keeping its type and attributes)."""
    error.args = (message,)
    if isinstance(error, APIError):
        error.message = message
    return error


def _scrub_strings(value: Any, secret: str | None) -> Any:
    """``value`` (freshly parsed JSON, changed in place) with ``secret`` replaced in every
    string, keys included. Iterative: an answer nested as deep as the parser allows must not
    overflow the stack here."""
    if not secret:
        return value
    if isinstance(value, str):
        return scrub(value, secret)
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            pairs = list(item.items())
            item.clear()
            for key, child in pairs:
                name = scrub(key, secret) if isinstance(key, str) else key
                item[name] = scrub(child, secret) if isinstance(child, str) else child
                if isinstance(child, dict | list):
                    stack.append(child)
        elif isinstance(item, list):
            for index, child in enumerate(item):
                if isinstance(child, str):
                    item[index] = scrub(child, secret)
                elif isinstance(child, dict | list):
                    stack.append(child)
    return value


def _with_task(error: _E, task_id: str) -> _E:
    """Make an error raised while following a task name it, so the caller can resume."""
    if getattr(error, "task_id", None) == task_id:
        return error
    error.task_id = task_id  # type: ignore[attr-defined]
    text = str(error)
    if task_id not in text:
        text = f"{text} [task {task_id} is not lost: resume it with client.wait({task_id!r})]"
    return _reword(error, text)


def _describe_data(data: Any) -> str:
    if isinstance(data, Mapping):
        description = data.get("description")
        keys = ", ".join(sorted(str(k) for k in data)[:10])
        said = f"; the model said {str(description)[:200]!r}" if description else ""
        return f"fields: {keys or 'none'}{said}"
    return f"data is {type(data).__name__}"
