"""What the hub's answer to a submit says: the id of the task it created.

The hub documents two shapes (``task_id`` with 200, ``taskId`` with 201); gateways also wrap
the answer as ``{"code": 0, "data": {...}}``, sometimes with ``data`` as JSON text. Every place
an id may be is read, so a created (and billed) task is never lost; when the places disagree,
no id is guessed: :class:`AmbiguousTaskIdError` carries every id the answer holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import AmbiguousTaskIdError
from .task import unpack_json_text

#: Where a submit answer may hold its task id, in the order the ids are reported.
ID_FIELDS = ("task_id", "taskId")
#: Ids that would not name a task in a URL path ("/tasks/.." is "/hub/v1" once normalised).
DOT_SEGMENTS = frozenset({".", ".."})


def submitted_task_ids(body: Mapping[str, Any]) -> list[str]:
    """Every distinct task id in a submit answer: top level first, then inside ``data``."""
    places: list[Mapping[str, Any]] = [body]
    data = unpack_json_text(body.get("data"))
    if isinstance(data, Mapping):
        places.append(data)
    found: list[str] = []
    for place in places:
        for key in ID_FIELDS:
            text = _id_text(place.get(key))
            if text is not None and text not in found:
                found.append(text)
    return found


def submitted_task_id(body: Mapping[str, Any], *, status_code: int | None = None) -> str | None:
    """The one task id of a submit answer; None when it holds none that names a task.

    Raises :class:`AmbiguousTaskIdError` (carrying every id) when it holds different ones:
    following the wrong one would poll a task that does not exist while the real one is lost.
    """
    ids = [text for text in submitted_task_ids(body) if text not in DOT_SEGMENTS]
    if len(ids) > 1:
        raise AmbiguousTaskIdError(ids, status_code=status_code, body=dict(body))
    return ids[0] if ids else None


def _id_text(value: Any) -> str | None:
    if isinstance(value, str | int) and not isinstance(value, bool):
        text = str(value).strip()
        return text or None
    return None
