"""A history cell: one run, live while it goes (status, elapsed, progress, Cancel), then its
images and the buttons Reuse, Use as input, Save, Code and Remove.

The cell observes its :class:`~mountsea_widgets.run.Run`; updates arrive on the runner thread
and become trait assignments batched per widget with ``hold_sync()``. Everything from the user
or the server (prompt, parameters, error text, paths) is HTML-escaped before display.
"""

from __future__ import annotations

import html
import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from .._durations import about
from .._image_input import reference_for, shorten_data_uris
from ..catalog import catalog
from ..run import FINAL_STATUSES, Run, generation_code, image_loaders, save_run
from .control_base import action_button, close_tree
from .cost_panel import estimate_of, estimate_span
from .gallery import Gallery
from .image_list_control import name_attachment

log = logging.getLogger("mountsea_widgets.task_cell")

#: Font Awesome icon per status (as ipywidgets buttons use): emoji would show as empty boxes
#: in a browser without an emoji font, and the status word is written next to the icon anyway.
STATUS_ICONS = {
    "submitting": "arrow-up",
    "pending": "hourglass-half",
    "processing": "spinner",
    "completed": "check",
    "failed": "times",
    "timeout": "clock",
    "cancelled": "stop",
    "error": "exclamation-triangle",
    "interrupted": "unlink",
}
_BAR_STYLES = {
    "completed": "success",
    "failed": "danger",
    "error": "danger",
    "timeout": "warning",
    "cancelled": "warning",
    "interrupted": "warning",
}
#: Longest parameter value shown in a cell (data: URIs can be megabytes).
MAX_SHOWN_VALUE = 80


def _assign(widget: Any, **traits: Any) -> None:
    """Set several traits of one widget in a single message (only those that change)."""
    changed = {name: value for name, value in traits.items() if getattr(widget, name) != value}
    if not changed:
        return
    with widget.hold_sync():
        for name, value in changed.items():
            setattr(widget, name, value)


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else value
    if isinstance(value, list):
        text = ", ".join(_short(item) for item in value)
    return text if len(text) <= MAX_SHOWN_VALUE else text[: MAX_SHOWN_VALUE - 1] + "…"


def _icon_html(status: str) -> str:
    """The status icon as a Font Awesome ``<i>`` (nothing when the font is missing)."""
    name = STATUS_ICONS.get(status)
    if name is None:
        return ""
    spin = " fa-spin" if status == "processing" else ""
    return f'<i class="fa fa-{name}{spin}" aria-hidden="true"></i>'


class TaskCell(widgets.VBox):
    """The view of one :class:`Run` in the Studio's history (newest cells on top)."""

    def __init__(
        self,
        run: Run,
        *,
        on_reuse: Callable[[Run], None] | None = None,
        on_remove: Callable[[TaskCell], None] | None = None,
        on_resume: Callable[[Run], None] | None = None,
        save_folder: Callable[[], Path] = lambda: Path.cwd() / "mountsea-output",
        on_use_input: Callable[[str], Any] | None = None,
        lazy_images: bool = False,
    ) -> None:
        self.run = run
        self._on_use_input = on_use_input
        self._on_reuse = on_reuse
        self._on_remove = on_remove
        self._on_resume = on_resume
        self._save_folder = save_folder
        self._lock = threading.RLock()
        self._shown_images = False
        #: An earlier run's images wait for show_images() (thumbnails made off this thread).
        self._lazy_images = lazy_images
        #: Files written by the last :meth:`save`.
        self.saved_paths: list[Path] = []

        self.header = widgets.HTML()
        self.header.add_class("mountsea-cell-header")
        self.prompt = widgets.HTML()
        self.prompt.add_class("mountsea-prompt")
        self.params = widgets.HTML()
        self.params.add_class("mountsea-params")
        self.progress = widgets.FloatProgress(
            value=0.0, min=0.0, max=max(run.expected_s, 0.1), layout=widgets.Layout(width="240px")
        )
        self.progress.add_class("mountsea-progress")
        self.status = widgets.HTML()
        self.status.add_class("mountsea-status")
        self.error = widgets.HTML(layout=widgets.Layout(display="none"))
        self.error.add_class("mountsea-error")
        self.gallery = Gallery()
        self.note = widgets.HTML(layout=widgets.Layout(display="none"))
        self.note.add_class("mountsea-cell-note")
        self.code = widgets.HTML(layout=widgets.Layout(display="none"))
        self.code.add_class("mountsea-code")

        self.cancel_button = action_button(
            "Cancel", "mountsea-cancel", "Stop waiting (the provider may still bill)", "stop"
        )
        self.resume_button = action_button(
            "Resume", "mountsea-resume", "Poll this task again (it is not submitted twice)", "play"
        )
        self.reuse_button = action_button(
            "Reuse", "mountsea-reuse", "Load this model and these parameters into the form", "undo"
        )
        self.save_button = action_button(
            "Save", "mountsea-save", "Write the images to a folder", "save"
        )
        self.use_input_button = action_button(
            "Use as input",
            "mountsea-use-input",
            "Edit this image: switch to the edit model and add the image to image_urls (the image"
            " shown full size, else the first one)",
            "share",
        )
        self.code_button = action_button(
            "Code", "mountsea-code-button", "Show the mw.generate(...) call for this run", "code"
        )
        self.remove_button = action_button(
            "Remove", "mountsea-remove", "Remove this run from the history", "trash"
        )
        self.cancel_button.on_click(lambda _b: self.cancel())
        self.resume_button.on_click(lambda _b: self.resume())
        self.reuse_button.on_click(lambda _b: self.reuse())
        self.save_button.on_click(lambda _b: self.save())
        self.use_input_button.on_click(lambda _b: self.use_as_input())
        self.code_button.on_click(lambda _b: self.toggle_code())
        self.remove_button.on_click(lambda _b: self.remove())
        self.buttons = widgets.HBox(
            [
                self.cancel_button,
                self.resume_button,
                self.reuse_button,
                self.use_input_button,
                self.save_button,
                self.code_button,
                self.remove_button,
            ]
        )
        self.buttons.add_class("mountsea-cell-buttons")

        super().__init__(
            [
                self.header,
                self.prompt,
                self.params,
                widgets.HBox([self.progress, self.status]),
                self.error,
                self.gallery,
                self.buttons,
                self.note,
                self.code,
            ],
            layout=widgets.Layout(
                border="1px solid #ddd", padding="6px", margin="4px 0", width="100%"
            ),
        )
        self.add_class("mountsea-history-cell")
        self._status_class = ""
        self._render_static()
        self.render()
        self._unsubscribe = run.observe(lambda _run: self.render())

    # --- rendering --------------------------------------------------------------------------

    def _render_static(self) -> None:
        run = self.run
        self.prompt.value = (
            '<div style="white-space:pre-wrap;font-weight:500">'
            f"{html.escape(run.prompt) or '<i>(no prompt)</i>'}</div>"
        )
        cost = estimate_span(estimate_of(run.model, run.input))
        changed = run.changed_params()
        if changed:
            items = " · ".join(
                f"<code>{html.escape(name)}={html.escape(_short(value))}</code>"
                for name, value in changed.items()
            )
            self.params.value = f'<div style="color:#555">{items}{cost}</div>'
        else:
            self.params.value = f'<div style="color:#888">default parameters{cost}</div>'

    def render(self) -> None:
        """Show the run's current state (called on every change, from any thread)."""
        with self._lock:
            try:
                self._render()
            except Exception:
                log.exception("cannot render run %s", self.run.run_id)

    def _render(self) -> None:
        run = self.run
        started = _clock_time(run.started)
        task = (
            f"<code>{html.escape(run.task_id)}</code>" if run.task_id else "<i>no task id yet</i>"
        )
        _assign(
            self.header,
            value=f"<b>{html.escape(run.model)}</b> · {task} · started {started}",
        )
        expected = max(run.expected_s, 0.1)
        late = not run.done and run.elapsed_s > expected
        timing = f"{run.elapsed_s:.1f} s"
        if not run.done:
            timing += f" / {about(expected)}" + (" (longer than usual)" if late else "")
        icon = _icon_html(run.status)
        _assign(
            self.status,
            value=(
                f'<span class="mountsea-status-text" data-status="{html.escape(run.status)}">'
                f"{icon} {html.escape(run.status)}</span> · {html.escape(timing)}"
            ),
        )
        self._set_status_class(f"mountsea-status-{run.status}")
        _assign(
            self.progress,
            max=expected,
            value=expected if run.status == "completed" else min(run.elapsed_s, expected),
            bar_style=_BAR_STYLES.get(run.status, "info" if late else ""),
        )
        if run.error:
            _assign(
                self.error,
                value=f'<div style="color:#b00020;white-space:pre-wrap">'
                f"{html.escape(run.error)}</div>",
            )
            self.error.layout.display = ""
        if run.warnings:
            self._show_note(" · ".join(run.warnings))
        running = not run.done and run.future is not None and not run.future.done()
        # Unfinished runs from the history, and runs that lost contact with the hub.
        resumable = (not run.done or run.resumable) and not running and run.task_id is not None
        self.cancel_button.layout.display = "" if running else "none"
        self.resume_button.layout.display = "" if resumable and self._on_resume else "none"
        # A model this version does not know cannot be loaded into the form.
        self.reuse_button.layout.display = "" if run.model in catalog else "none"
        has_images = bool(image_loaders(run))
        self.save_button.disabled = not has_images
        usable = run.status == "completed" and has_images and self._on_use_input is not None
        self.use_input_button.layout.display = "" if usable else "none"
        deferred = self._lazy_images and run.result is None
        if run.status in FINAL_STATUSES and has_images and not self._shown_images and not deferred:
            self._shown_images = True
            self.gallery.set_images(image_loaders(run), run.thumbnails)

    @property
    def waiting_for_images(self) -> bool:
        """True while an earlier run's images wait for :meth:`show_images` (``lazy_images``)."""
        return self._lazy_images and not self._shown_images and bool(image_loaders(self.run))

    def show_images(self, thumbnails: Sequence[bytes | None] = ()) -> None:
        """Show the run's images now, using ready-made ``thumbnails`` (JPEG) where given."""
        with self._lock:
            loaders = image_loaders(self.run)
            if self._shown_images or not loaders:
                return
            self._shown_images = True
            self.gallery.set_images(loaders, list(thumbnails))

    def _set_status_class(self, css: str) -> None:
        if css == self._status_class:
            return
        if self._status_class:
            self.status.remove_class(self._status_class)
            self.remove_class(self._status_class)
        self.status.add_class(css)
        self.add_class(css)
        self._status_class = css

    def _show_note(self, text: str, *, pre: bool = False) -> None:
        body = html.escape(text)
        style = "white-space:pre-wrap;color:#444" + (";font-family:monospace" if pre else "")
        _assign(self.note, value=f'<div style="{style}">{body}</div>')
        self.note.layout.display = ""

    # --- actions ---------------------------------------------------------------------------

    def cancel(self) -> bool:
        """Stop waiting for this run (the hub may still finish and bill it)."""
        cancelled = self.run.cancel()
        self.render()
        return cancelled

    def resume(self) -> None:
        """Poll this run's task again (unfinished in the history, or after lost contact)."""
        if self._on_resume is not None and (not self.run.done or self.run.resumable):
            self._on_resume(self.run)
            self.render()

    def reuse(self) -> None:
        """Load this run's model and parameters into the Studio form."""
        if self._on_reuse is not None:
            self._on_reuse(self.run)

    def use_as_input(self, index: int | None = None) -> str | None:
        """Hand image ``index`` to the Studio as an edit input; returns what will be sent.

        ``index`` defaults to the image shown full size, else the first. The image goes as its
        provider URL when that is http(s), else (``sync_mode`` results, runs read back from the
        history) as a data URI of the kept bytes.
        """
        if self._on_use_input is None:
            return None
        loaders = image_loaders(self.run)
        if index is None:
            index = self.gallery.opened if self.gallery.opened is not None else 0
        if not 0 <= index < len(loaders):
            return None
        urls = self.run.result.urls if self.run.result is not None else []
        url = urls[index] if index < len(urls) else None
        try:
            reference = reference_for(url, loaders[index])
        except Exception as exc:
            self._show_note(f"Image {index + 1} cannot be used as input: {exc}")
            return None
        name_attachment(reference, f"{self.run.model} image {index + 1}")  # its chip's name
        self._on_use_input(reference)
        return reference

    def save(self, folder: str | Path | None = None) -> list[Path]:
        """Write the images to ``folder`` (default: the Studio's save folder); shows the paths."""
        target = Path(folder) if folder is not None else self._save_folder()
        try:
            paths = save_run(self.run, target)
        except Exception as exc:
            self._show_note(f"Save failed: {type(exc).__name__}: {exc}")
            return []
        listing = "\n".join(str(path) for path in paths) or "(no images to save)"
        self._show_note(f"Saved {len(paths)} file(s):\n{listing}", pre=True)
        self.saved_paths = paths
        return paths

    def code_text(self) -> str:
        """The ``mw.generate(...)`` call that reproduces this run."""
        return generation_code(self.run.model, self.run.input, self.run.unchecked)

    def toggle_code(self) -> None:
        """Show or hide the code that reproduces this run."""
        if self.code.layout.display == "none":
            _assign(
                self.code,
                value=(
                    '<pre style="background:#f6f6f6;padding:6px;white-space:pre-wrap">'
                    # Attached images would put megabytes of base64 into the page.
                    f"{html.escape(shorten_data_uris(self.code_text()))}</pre>"
                ),
            )
            self.code.layout.display = ""
        else:
            self.code.layout.display = "none"

    def remove(self) -> None:
        """Cancel the run if it is going, and drop this cell from the history."""
        if not self.run.done:
            self.run.cancel()
        if self._on_remove is not None:
            self._on_remove(self)

    def close(self) -> None:
        """Stop observing the run and close every widget of the cell."""
        unsubscribe = getattr(self, "_unsubscribe", None)
        if unsubscribe is not None:
            unsubscribe()
        for child in list(self.children):
            close_tree(child)
        super().close()

    def __repr__(self) -> str:
        return f"<TaskCell {self.run!r}>"


def _clock_time(stamp: float) -> str:
    """``stamp`` (Unix time) as the local ``HH:MM:SS``, or "at an unknown time" when no clock
    can show it (a damaged history: a time in the year 300,000, or not a number at all)."""
    try:
        return time.strftime("%H:%M:%S", time.localtime(stamp))
    except (OverflowError, OSError, ValueError, TypeError):
        return "at an unknown time"
