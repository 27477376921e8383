"""The Studio's history area: task cells (newest first), one page at a time, and tools to
manage them.

::

    2,314 runs · 1.2 GB on disk · ~/.local/share/mountsea-widgets/history
    [select all] [select none] [export folder ...] [Export selected]
    ☐ | task cell
    ☐ | task cell
    [show older (2,302 more)]

The panel is a view: what the buttons do (export, building older pages) is given by the
Studio through :meth:`HistoryPanel.on_export` and :meth:`HistoryPanel.on_more`.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from .control_base import action_button, close_tree
from .task_cell import TaskCell

EMPTY_TEXT = '<div style="color:#888">No runs yet: write a prompt and click Generate.</div>'
#: Where Export selected writes when its folder field is empty (a time stamp is added).
DEFAULT_EXPORT_PREFIX = "mountsea-export"

Action = Callable[[], None]


def human_size(size: int) -> str:
    """``size`` bytes in words: ``0 B``, ``512 B``, ``1.5 kB``, ``12.3 MB``, ``1.02 GB``."""
    if size < 1000:
        return f"{size} B"
    value = float(size)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            return f"{value:.3g} {unit}" if value < 100 else f"{value:.0f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


class HistoryPanel(widgets.VBox):
    """A column of :class:`TaskCell` widgets, the newest on top; safe to change from any thread.

    Each cell has a "select" checkbox on its left (for Export selected). Older runs come a page
    at a time through the "show older" button at the bottom.
    """

    def __init__(self, **kwargs: Any) -> None:
        self.empty = widgets.HTML(EMPTY_TEXT)
        self.empty.add_class("mountsea-history-empty")
        self.size_label = widgets.HTML()
        self.size_label.add_class("mountsea-history-size")
        self.select_all_button = action_button(
            "select all", "mountsea-select-all", "Select every run shown (for export)", "check"
        )
        self.select_none_button = action_button(
            "select none", "mountsea-select-none", "Clear the selection", "square-o"
        )
        self.export_folder = widgets.Text(
            value="",
            placeholder=f"folder (default: {DEFAULT_EXPORT_PREFIX}-<date>-<time>)",
            tooltip="Where Export selected copies the images and writes index.csv / index.json",
            layout=widgets.Layout(width="300px"),
        )
        self.export_folder.add_class("mountsea-export-folder")
        self.export_button = action_button(
            "Export selected",
            "mountsea-export",
            "Copy the selected runs' images to the folder, with index.csv and index.json",
            "download",
        )
        self.message = widgets.HTML()
        self.message.add_class("mountsea-history-message")
        self.tools = widgets.VBox(
            [
                self.size_label,
                widgets.HBox(
                    [
                        self.select_all_button,
                        self.select_none_button,
                        self.export_folder,
                        self.export_button,
                    ]
                ),
                self.message,
            ]
        )
        self.tools.add_class("mountsea-history-tools")
        self.rows = widgets.VBox([self.empty])
        self.rows.add_class("mountsea-history-rows")
        self.more_button = action_button(
            "show older", "mountsea-show-older", "Show the next page of earlier runs", "history"
        )
        self.more_button.layout.display = "none"
        super().__init__([self.tools, self.rows, self.more_button], **kwargs)
        self.add_class("mountsea-history")
        self._cells: list[TaskCell] = []
        self._row_of: dict[int, tuple[widgets.HBox, widgets.Checkbox]] = {}
        self._lock = threading.RLock()
        self._on_more: Action | None = None
        self._on_export: Action | None = None
        self.select_all_button.on_click(lambda _b: self.select_all(True))
        self.select_none_button.on_click(lambda _b: self.select_all(False))
        self.more_button.on_click(lambda _b: self._on_more() if self._on_more else None)
        self.export_button.on_click(lambda _b: self._on_export() if self._on_export else None)

    # --- cells -----------------------------------------------------------------------------

    @property
    def cells(self) -> list[TaskCell]:
        """The cells shown, newest first."""
        with self._lock:
            return list(self._cells)

    def add(self, cell: TaskCell, *, newest: bool = True) -> None:
        """Show ``cell`` on top (or at the bottom for older runs loaded from the journal)."""
        with self._lock:
            if newest:
                self._cells.insert(0, cell)
            else:
                self._cells.append(cell)
            self._row(cell)
            self._show()

    def add_older(self, cells: list[TaskCell]) -> None:
        """Append a page of older cells (in the order given) in one update of the page."""
        with self._lock:
            for cell in cells:
                self._cells.append(cell)
                self._row(cell)
            self._show()

    def remove(self, cell: TaskCell) -> None:
        """Take ``cell`` out of the panel and close its widgets."""
        with self._lock:
            if cell in self._cells:
                self._cells.remove(cell)
            row = self._row_of.pop(id(cell), None)
            self._show()
        cell.close()
        if row is not None:
            row[1].close()
            row[0].close()

    def checkbox(self, cell: TaskCell) -> widgets.Checkbox:
        """The "select" checkbox of ``cell``."""
        with self._lock:
            return self._row_of[id(cell)][1]

    def selected(self) -> list[TaskCell]:
        """The cells whose checkbox is ticked, newest first."""
        with self._lock:
            return [cell for cell in self._cells if self._row_of[id(cell)][1].value]

    def select_all(self, value: bool = True) -> None:
        """Tick (or clear) every shown cell's checkbox."""
        with self._lock:
            boxes = [self._row_of[id(cell)][1] for cell in self._cells]
        for box in boxes:
            box.value = value

    def _row(self, cell: TaskCell) -> None:
        select = widgets.Checkbox(
            value=False,
            indent=False,
            description="",
            tooltip="Select this run (for Export selected)",
            layout=widgets.Layout(width="28px", flex="0 0 auto"),
        )
        select.add_class("mountsea-select")
        # The cell takes the rest of the row (its own layout says 100% of a column).
        cell.layout.width = "auto"
        cell.layout.flex = "1 1 auto"
        row = widgets.HBox([select, cell], layout=widgets.Layout(width="100%"))
        row.add_class("mountsea-history-row")
        self._row_of[id(cell)] = (row, select)

    def _show(self) -> None:
        rows = tuple(self._row_of[id(cell)][0] for cell in self._cells)
        self.rows.children = rows if rows else (self.empty,)

    # --- tools -----------------------------------------------------------------------------

    def on_more(self, action: Action) -> None:
        """Call ``action()`` when "show older" is clicked."""
        self._on_more = action

    def on_export(self, action: Action) -> None:
        """Call ``action()`` when "Export selected" is clicked."""
        self._on_export = action

    def set_more(self, count: int, busy: bool = False) -> None:
        """Offer "show older (``count`` more)", or hide the button when there is none."""
        with self.more_button.hold_sync():
            self.more_button.description = (
                f"loading older runs… ({count:,} more)" if busy else f"show older ({count:,} more)"
            )
            self.more_button.disabled = busy
        self.more_button.layout.display = "" if count > 0 else "none"

    def show_tools(self, visible: bool) -> None:
        """Show the size and export tools (hidden when the Studio keeps no history)."""
        self.tools.layout.display = "" if visible else "none"

    def show_size(self, runs: int, size: int, folder: str) -> None:
        """Say how many runs the history holds and its size on disk."""
        self.size_label.value = (
            f'<span style="color:#555">{runs:,} run{"" if runs == 1 else "s"} · '
            f"{html.escape(human_size(size))} on disk · "
            f"<code>{html.escape(folder)}</code></span>"
        )

    def show_message(self, text: str, *, error: bool = False) -> None:
        """A line under the tools (HTML-escaped); red when ``error``; '' clears it."""
        color = "#b00020" if error else "#1b5e20"
        self.message.value = (
            f'<div style="color:{color};white-space:pre-wrap">{html.escape(text)}</div>'
            if text
            else ""
        )

    def close(self) -> None:
        """Close the cells, their rows and the tools."""
        for cell in self.cells:
            self.remove(cell)
        for child in list(self.children):
            close_tree(child)
        super().close()
