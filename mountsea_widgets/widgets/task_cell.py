"""The ``%%mountsea`` output: one run shown like a Studio card, live, with larger images.

One anywidget view: its ``record`` trait is the run's card (``run_card.Card.record``), kept
current as the run changes (from the runner thread, at most a few times a second while it
goes); the images go as JPEGs (bounded size) in a ``images`` message when the run ends and
whenever the page asks (``{"type": "images"}``). The page's buttons send ``{"type":
"action", "action": "cancel" | "resume" | "save" | "code" | ...}``. What the notebook keeps
(the fallback output) shows the prompt, the status and small thumbnails, escaped.
"""

from __future__ import annotations

import base64
import html
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import traitlets

from ..run import FINAL_STATUSES, Run
from ._page import page_module, page_style
from ._view import View
from .run_card import Card, RunAction

log = logging.getLogger("mountsea_widgets.task_cell")

#: Longest side of the task cell's images (bounded: the page fits them, the bytes stay small).
IMAGE_SIDE = 512
#: Seconds between two live updates while the run goes (a status change goes at once).
LIVE_INTERVAL_S = 0.25
FALLBACK_THUMB_SIDE = 160


class TaskCell(View):
    """The view of one :class:`Run` (the ``%%mountsea`` output; see the module docstring).

    ``on_reuse`` / ``on_resume`` / ``on_use_input`` (``(run, reference)``) add those actions;
    without them the cell offers Cancel, Save and Code (and Resume for a run it was told how
    to resume).
    """

    _esm = page_module("card.js", "task.js")
    _css = page_style("studio.css")

    view_kind = traitlets.Unicode("task cell").tag(sync=True)
    #: The run's card (see :meth:`Card.record`).
    record = traitlets.Dict().tag(sync=True)
    #: The save folder field (the page sets it as the person types).
    save_folder = traitlets.Unicode("mountsea-output").tag(sync=True)

    def __init__(
        self,
        run: Run,
        *,
        on_reuse: RunAction | None = None,
        on_resume: RunAction | None = None,
        on_use_input: Callable[[Run, str], Any] | None = None,
        save_folder: str | Path = "mountsea-output",
    ) -> None:
        super().__init__()
        self.run = run
        self.save_folder = str(save_folder)
        self.card = Card(
            run,
            on_reuse=on_reuse,
            on_resume=on_resume,
            on_use_input=on_use_input,
            save_folder=self._save_path,
        )
        self._lock = threading.Lock()
        self._last: tuple[float, str] = (0.0, "")
        self._sent_images = False
        self.on_page("action", self._action_message)
        self.on_page("images", lambda _c, _b: self._send_images_soon())
        self.render()
        self._unsubscribe = run.observe(self._changed)

    # --- state --------------------------------------------------------------------------------

    def render(self) -> None:
        """Put the run's current state in ``record`` (any thread)."""
        self.record = self.card.record()

    def _changed(self, run: Run) -> None:
        now = time.monotonic()
        final = run.status in FINAL_STATUSES
        with self._lock:
            quiet = self._last[1] == run.status and now - self._last[0] < LIVE_INTERVAL_S
            if quiet and not final:
                return
            self._last = (now, run.status)
            first_end = final and not self._sent_images
            if first_end:
                self._sent_images = True
        self.render()
        if first_end:
            self._send_images_soon()
            self.refresh_fallback()

    def images(self) -> list[bytes | None]:
        """The run's images as JPEGs of at most :data:`IMAGE_SIDE` px (None where one cannot
        be shown); slow for big images: the cell calls it in a worker thread."""
        return self.card.thumbnails(IMAGE_SIDE)

    def _send_images_soon(self) -> None:
        if not self.run.done or not self.card.image_count:
            return
        threading.Thread(target=self.send_images, daemon=True, name="task-cell-images").start()

    def send_images(self) -> None:
        """Send the page the run's images (``{"type": "images", "thumbs": [...]}``)."""
        buffers: list[bytes] = []
        places: list[int | None] = []
        for image in self.images():
            if image is None:
                places.append(None)
            else:
                places.append(len(buffers))
                buffers.append(image)
        self.send({"type": "images", "run_id": self.run.run_id, "thumbs": places}, buffers)

    # --- actions --------------------------------------------------------------------------------

    def _action_message(self, content: dict[str, Any], _buffers: list[bytes]) -> None:
        action = content.get("action")
        index = content.get("index")
        index = index if isinstance(index, int) and not isinstance(index, bool) else 0
        actions: dict[str, Callable[[], Any]] = {
            "cancel": self.cancel,
            "resume": self.resume,
            "reuse": self.card.reuse,
            "use-input": lambda: self.card.use_as_input(index),
            "save": self.save,
            "code": self.toggle_code,
        }
        chosen = actions.get(action) if isinstance(action, str) else None
        if chosen is None or action not in self.card.actions():
            self.page_failed("That button does nothing for this run now.")
            return
        chosen()
        self.render()

    def page_failed(self, text: str) -> None:
        """A page message that failed: shown as the card's note."""
        self.card.note = text
        self.render()

    def cancel(self) -> bool:
        """Stop waiting for the run (the hub may still finish and bill it)."""
        cancelled = self.card.cancel()
        self.render()
        return cancelled

    def resume(self) -> None:
        """Poll the run's task again (when the cell was told how)."""
        self.card.resume()
        self.render()

    def save(self, folder: str | Path | None = None) -> list[Path]:
        """Write the images to ``folder`` (default: the save field); the paths show on the cell."""
        paths = self.card.save(folder)
        self.render()
        return paths

    def code_text(self) -> str:
        """The ``mw.generate(...)`` call that reproduces the run."""
        return self.card.code_text()

    def toggle_code(self) -> bool:
        """Show or hide the code on the cell; returns whether it is shown."""
        shown = self.card.toggle_code()
        self.render()
        return shown

    def _save_path(self) -> Path:
        folder = Path(self.save_folder.strip() or "mountsea-output").expanduser()
        return folder if folder.is_absolute() else Path.cwd() / folder

    # --- what a notebook keeps ----------------------------------------------------------------

    def describe(self) -> str:
        """One line that stays true: a mountsea run of this model."""
        return f"mountsea-widgets run · {self.run.model}"

    def fallback_html(self) -> str:
        """The run as escaped HTML: model, status, prompt, its images as small JPEGs."""
        images = []
        if self.run.done:
            for small in self.card.thumbnails(FALLBACK_THUMB_SIDE)[:4]:
                if small:
                    uri = "data:image/jpeg;base64," + base64.b64encode(small).decode("ascii")
                    images.append(f'<img src="{uri}" alt="" style="margin:2px">')
        record = self.card.record()
        error = f"<div>{html.escape(record['error'])}</div>" if record["error"] else ""
        return (
            f"<div><b>{html.escape(self.run.model)}</b> · {html.escape(self.run.status)}</div>"
            f'<div style="white-space:pre-wrap">{html.escape(record["prompt"])}</div>'
            f"{error}<div>{''.join(images)}</div>"
        )

    def close(self) -> None:
        """Stop following the run and close the view."""
        unsubscribe = getattr(self, "_unsubscribe", None)
        if unsubscribe is not None:
            unsubscribe()
        super().close()

    def __repr__(self) -> str:
        return f"<TaskCell {self.run!r}>"
