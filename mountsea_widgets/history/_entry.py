"""One run as the history holds it: what a view or a script reads."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._layout import STATUS_REFUSED
from ._thumbnails import _thumbnail_of

if TYPE_CHECKING:
    pass

log = logging.getLogger("mountsea_widgets.history")

# --- entries -------------------------------------------------------------------------------------


@dataclass(repr=False)
class HistoryEntry:
    """One run as the history knows it (a merged view of its journal records).

    ``status`` is ``created`` (not submitted yet, or a submit on its way), ``refused`` (the
    hub refused its submit before accepting anything: safe to send again), ``submitted``
    (task id known, not finished) or whatever the run ended with (``completed``, ``failed``,
    ``cancelled``...). ``files`` are absolute paths of the saved images, in arrival order.
    ``created``, ``finished`` and ``submitted_at`` are Unix times.
    """

    run_id: str
    model: str
    input: dict[str, Any]
    task_id: str | None
    status: str
    created: float
    finished: float | None
    elapsed_s: float | None
    error: str | None
    files: list[Path]
    submitted_at: float | None = None
    #: The run's estimated cost as journalled (``amount``, ``unit``, ``basis``...), None for
    #: runs journalled before costs were recorded.
    cost: dict[str, Any] | None = None
    #: Parameters sent although the catalog refused their values (``strict=False``); the hub
    #: decided. Empty for every run sent checked (and for runs of older releases).
    unchecked: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        # Short on purpose: inputs can hold megabytes of data: URIs.
        prompt = self.prompt if len(self.prompt) <= 60 else self.prompt[:57] + "..."
        return (
            f"HistoryEntry(run_id={self.run_id!r}, model={self.model!r}, status={self.status!r}, "
            f"task_id={self.task_id!r}, prompt={prompt!r}, files={len(self.files)})"
        )

    @property
    def prompt(self) -> str:
        """The prompt of the run ('' when it had none)."""
        prompt = self.input.get("prompt")
        return prompt if isinstance(prompt, str) else ""

    @property
    def is_pending(self) -> bool:
        """True when the task was submitted and has not finished: polling should resume."""
        return self.task_id is not None and self.finished is None

    @property
    def is_refused(self) -> bool:
        """True when the hub refused the run's last submit attempt (429, 503) and no other
        went out before its session ended: nothing was accepted, so it may be sent again."""
        return self.task_id is None and self.finished is None and self.status == STATUS_REFUSED

    def thumbnail(self, max_side: int = 384) -> bytes | None:
        """A JPEG thumbnail of the first image, or ``None`` when there is none or it is unreadable.

        Lazy: the image is decoded only now, once; the thumbnail is cached beside it in
        ``.thumbs/`` so later calls (and later sessions) just read the small file.
        """
        if max_side < 1:
            raise ValueError(f"max_side must be a positive number of pixels, got {max_side!r}")
        if not self.files:
            return None
        return _thumbnail_of(self.files[0], int(max_side))
