"""Talking to a view the way its page does, without a browser."""

from __future__ import annotations

from typing import Any


def send(view: Any, kind: str, buffers: list[bytes] | None = None, **content: Any) -> None:
    """Deliver the page message ``{"type": kind, **content}`` (with ``buffers``) to ``view``."""
    view.receive({"type": kind, **content}, buffers or [])


class PageRecorder:
    """Keeps every custom message a view sends to its page: ``(content, buffers)`` pairs."""

    def __init__(self, view: Any) -> None:
        self.messages: list[tuple[dict[str, Any], list[bytes]]] = []
        original = view.send

        def record(content: dict[str, Any], buffers: list[Any] | None = None) -> None:
            self.messages.append((content, [bytes(buffer) for buffer in buffers or ()]))
            original(content, buffers)

        view.send = record

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        """The contents of the messages of type ``kind``, oldest first."""
        return [content for content, _ in self.messages if content.get("type") == kind]


def comm_message(view: Any, kind: str, **content: Any) -> dict[str, Any]:
    """The ``comm_msg`` content a page sends for ``{"type": kind, ...}`` (for a real kernel)."""
    return {
        "comm_id": view.model_id,
        "data": {"method": "custom", "content": {"type": kind, **content}},
    }
