"""The live summary of a batch: one small widget for the whole batch, never one per run.

A progress bar, one line of counts (and the time left), and the latest few images. It knows
nothing about runs: :class:`~mountsea_widgets.batches.Batch` tells it what to show. Every piece
of text is HTML-escaped here; updates may come from any thread (trait assignments).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

import ipywidgets as widgets

#: How many of the latest images the summary shows.
LATEST_IMAGES = 4
#: Width of one of those thumbnails, in CSS pixels.
THUMBNAIL_CSS_PX = 96


class BatchSummary(widgets.VBox):
    """Title, progress bar, counts line and the latest images of one batch."""

    def __init__(
        self,
        title: str,
        *,
        on_cancel: Callable[[], object] | None = None,
        on_confirm: Callable[[], object] | None = None,
    ) -> None:
        self.title_html = widgets.HTML(f"<b>{html.escape(title)}</b>")
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="")
        self.counts_html = widgets.HTML()
        self.images = [
            widgets.Image(
                format="jpeg", layout=widgets.Layout(width=f"{THUMBNAIL_CSS_PX}px", display="none")
            )
            for _ in range(LATEST_IMAGES)
        ]
        self.cancel_button = widgets.Button(description="Cancel", button_style="warning")
        self._on_cancel = on_cancel
        self.cancel_button.on_click(lambda _button: self._cancel())
        self.confirm_html = widgets.HTML()
        self.confirm_button = widgets.Button(
            description="Run the batch",
            button_style="primary",
            tooltip="Send the batch's runs (nothing is sent before this)",
        )
        self._on_confirm = on_confirm
        self.confirm_button.on_click(lambda _button: self._confirm())
        self.confirm_box = widgets.HBox(
            [self.confirm_html, self.confirm_button], layout=widgets.Layout(display="none")
        )
        header = widgets.HBox([self.title_html, self.progress, self.cancel_button])
        super().__init__([header, self.confirm_box, self.counts_html, widgets.HBox(self.images)])
        self.add_class("mountsea-batch-summary")

    def _cancel(self) -> None:
        if self._on_cancel is not None:
            self._on_cancel()

    def _confirm(self) -> None:
        self.confirm_button.disabled = True  # one click sends the batch once
        if self._on_confirm is not None:
            self._on_confirm()

    def ask_confirmation(self, question: str | None) -> None:
        """Show ``question`` with the Run button (None hides them: nothing to confirm)."""
        if question is None:
            self.confirm_box.layout.display = "none"
            self.confirm_html.value = ""
            return
        self.confirm_html.value = f"<b>{html.escape(question)}</b>"
        self.confirm_button.disabled = False
        self.confirm_box.layout.display = ""

    def set_progress(self, done: int, total: int) -> None:
        """Show ``done`` of ``total`` cells done."""
        self.progress.max = max(total, 1)
        self.progress.value = min(done, max(total, 1))

    def set_text(self, text: str) -> None:
        """The counts line (escaped: it can hold hub text)."""
        self.counts_html.value = f'<span style="font-size:0.9em">{html.escape(text)}</span>'

    def set_images(self, images: Sequence[bytes]) -> None:
        """Show the latest images (JPEG thumbnails), newest first."""
        for slot, widget in enumerate(self.images):
            if slot < len(images):
                widget.value = images[slot]
                widget.layout.display = ""
            else:
                widget.layout.display = "none"

    def set_running(self, running: bool) -> None:
        """Offer Cancel only while the batch runs."""
        self.cancel_button.disabled = not running
        self.cancel_button.layout.display = "" if running else "none"
