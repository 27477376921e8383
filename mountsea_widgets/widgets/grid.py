"""The comparison grid widget: labelled rows and columns of cells that fill in as runs finish.

The widget knows nothing about clients or runs: it shows what it is told through
:meth:`ComparisonGrid.set_cell` (a :class:`CellView`) and :meth:`ComparisonGrid.set_summary`.
Every piece of text is HTML-escaped here, so labels, prompts and server error messages can
never inject markup. Updates may come from any thread (they are trait assignments, batched
with ``hold_sync``).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets

#: Width of one grid column's thumbnail, in CSS pixels.
THUMBNAIL_CSS_PX = 192

#: Text colour per tone (muted: "n/a" and waiting; error: failures and rejections).
TONE_COLORS = {"normal": "inherit", "muted": "#6b7280", "error": "#b00020", "ok": "#047857"}


@dataclass(frozen=True)
class CellView:
    """What one cell shows right now.

    ``status`` is the short state word ("queued", "processing", "completed", "n/a", …);
    ``detail`` a second line (time, seed note); ``message`` a longer text such as an error;
    ``image`` JPEG/PNG bytes of a thumbnail once there is one.
    """

    status: str
    detail: str = ""
    message: str = ""
    tone: str = "normal"
    image: bytes | None = None
    image_format: str = "jpeg"


def _text_html(
    text: str, *, color: str = "inherit", bold: bool = False, small: bool = False
) -> str:
    weight = "font-weight:600;" if bold else ""
    size = "font-size:0.85em;" if small else ""
    body = html.escape(text).replace("\n", "<br>")
    style = f"color:{color};{weight}{size}white-space:normal;line-height:1.3"
    return f'<div style="{style}">{body}</div>'


class GridCell(widgets.VBox):
    """One cell: a status line, a detail line, a thumbnail (once done) and a message."""

    def __init__(self) -> None:
        self.status_html = widgets.HTML()
        self.detail_html = widgets.HTML()
        self.image = widgets.Image(
            format="jpeg",
            layout=widgets.Layout(
                width=f"{THUMBNAIL_CSS_PX}px", height="auto", display="none", object_fit="contain"
            ),
        )
        self.message_html = widgets.HTML(layout=widgets.Layout(max_width=f"{THUMBNAIL_CSS_PX}px"))
        super().__init__(
            [self.status_html, self.image, self.detail_html, self.message_html],
            layout=widgets.Layout(
                border="1px solid #d1d5db",
                padding="4px",
                min_width=f"{THUMBNAIL_CSS_PX + 10}px",
                align_items="flex-start",
            ),
        )
        self.view: CellView | None = None
        self.show(CellView(status="queued", tone="muted"))

    def show(self, view: CellView) -> None:
        """Display ``view`` (only the parts that changed are sent to the page)."""
        color = TONE_COLORS.get(view.tone, "inherit")
        with self.hold_sync():
            self.status_html.value = _text_html(view.status, color=color, bold=True)
            self.detail_html.value = _text_html(view.detail, color=TONE_COLORS["muted"], small=True)
            self.message_html.value = (
                _text_html(view.message, color=color, small=True) if view.message else ""
            )
            if view.image is not None and (self.view is None or self.view.image != view.image):
                self.image.format = view.image_format
                self.image.value = view.image
                self.image.layout.display = ""
            elif view.image is None:
                self.image.layout.display = "none"
        self.view = view


class ComparisonGrid(widgets.VBox):
    """A titled, labelled grid of :class:`GridCell` (rows × columns) with a summary line."""

    def __init__(
        self,
        title: str,
        row_labels: Sequence[str],
        column_labels: Sequence[str],
        *,
        subtitle: str = "",
        on_cancel: Callable[[], Any] | None = None,
        on_confirm: Callable[[], Any] | None = None,
    ) -> None:
        self.row_labels = list(row_labels)
        self.column_labels = list(column_labels)
        self.title_html = widgets.HTML(_text_html(title, bold=True))
        self.subtitle_html = widgets.HTML(
            _text_html(subtitle, color=TONE_COLORS["muted"], small=True) if subtitle else ""
        )
        self.summary_html = widgets.HTML()
        self.estimate_html = widgets.HTML()
        self.estimate_html.add_class("mountsea-comparison-estimate")
        self.confirm_html = widgets.HTML()
        self.confirm_button = widgets.Button(
            description="Run the grid",
            icon="play",
            button_style="warning",
            tooltip="Submit every cell (each completed run is billed)",
            layout=widgets.Layout(width="auto"),
        )
        self.confirm_button.add_class("mountsea-comparison-confirm")
        if on_confirm is not None:
            self.confirm_button.on_click(lambda _button: on_confirm())
        self.confirm_box = widgets.HBox(
            [self.confirm_html, self.confirm_button], layout=widgets.Layout(display="none")
        )
        self.cancel_button = widgets.Button(
            description="Cancel",
            icon="stop",
            tooltip="Stop waiting for unfinished cells (the provider may still finish and bill)",
            layout=widgets.Layout(width="auto", display="" if on_cancel else "none"),
        )
        self.cancel_button.add_class("mountsea-comparison-cancel")
        if on_cancel is not None:
            self.cancel_button.on_click(lambda _button: on_cancel())
        self.cells: list[list[GridCell]] = [
            [GridCell() for _ in self.column_labels] for _ in self.row_labels
        ]
        children: list[widgets.Widget] = [widgets.HTML("")]  # the empty top-left corner
        children += [
            widgets.HTML(_text_html(label, bold=True), layout=widgets.Layout(padding="2px 4px"))
            for label in self.column_labels
        ]
        for label, row in zip(self.row_labels, self.cells, strict=True):
            children.append(
                widgets.HTML(
                    _text_html(label, bold=True),
                    layout=widgets.Layout(padding="2px 4px", align_self="center"),
                )
            )
            children += row
        self.grid = widgets.GridBox(
            children,
            layout=widgets.Layout(
                grid_template_columns=(
                    f"minmax(110px, max-content) repeat({len(self.column_labels)}, max-content)"
                ),
                grid_gap="4px",
                overflow="auto",
            ),
        )
        super().__init__(
            [
                self.title_html,
                self.subtitle_html,
                widgets.HBox([self.summary_html, self.cancel_button]),
                self.estimate_html,
                self.confirm_box,
                self.grid,
            ],
            layout=widgets.Layout(overflow="auto"),
        )
        self.add_class("mountsea-comparison")

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return len(self.row_labels), len(self.column_labels)

    def cell(self, row: int, column: int) -> GridCell:
        """The cell widget at ``(row, column)``."""
        return self.cells[row][column]

    def set_cell(self, row: int, column: int, view: CellView) -> None:
        """Show ``view`` in the cell at ``(row, column)``."""
        self.cells[row][column].show(view)

    def set_running(self, running: bool) -> None:
        """Show the Cancel button only while cells are still running."""
        self.cancel_button.layout.display = "" if running else "none"

    def set_summary(self, text: str, *, tone: str = "muted") -> None:
        """Replace the one-line summary above the grid (e.g. "5 of 8 done")."""
        self.summary_html.value = _text_html(
            text, color=TONE_COLORS.get(tone, "inherit"), small=True
        )

    def set_estimate(self, text: str, basis: str = "") -> None:
        """Show the grid's estimated cost (``basis``: how it was worked out, as a tooltip)."""
        body = _text_html(text, color=TONE_COLORS["muted"], small=True)
        if basis:
            body = f'<span title="{html.escape(basis, quote=True)}">{body}</span>'
        self.estimate_html.value = body

    def ask_confirmation(self, question: str | None) -> None:
        """Show ``question`` with the Run button (None hides them: nothing to confirm)."""
        if question is None:
            self.confirm_box.layout.display = "none"
            self.confirm_html.value = ""
            return
        self.confirm_html.value = _text_html(question, bold=True)
        self.confirm_box.layout.display = ""
