"""The Studio's history: task cells, newest first."""

from __future__ import annotations

import threading
from typing import Any

import ipywidgets as widgets

from .task_cell import TaskCell

EMPTY_TEXT = '<div style="color:#888">No runs yet: write a prompt and click Generate.</div>'


class HistoryPanel(widgets.VBox):
    """A column of :class:`TaskCell` widgets, the newest on top; safe to change from any thread."""

    def __init__(self, **kwargs: Any) -> None:
        self.empty = widgets.HTML(EMPTY_TEXT)
        self.empty.add_class("mountsea-history-empty")
        super().__init__([self.empty], **kwargs)
        self.add_class("mountsea-history")
        self._cells: list[TaskCell] = []
        self._lock = threading.RLock()

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
            self._show()

    def remove(self, cell: TaskCell) -> None:
        """Take ``cell`` out of the panel and close its widgets."""
        with self._lock:
            if cell in self._cells:
                self._cells.remove(cell)
            self._show()
        cell.close()

    def _show(self) -> None:
        self.children = tuple(self._cells) if self._cells else (self.empty,)
