"""A view of work that may wait for a person's go-ahead: the grid and the batch summary.

Both show a question with a Run button when their estimate needs confirming
(``confirm="ask"``), a Cancel button while they run, and a problem line. The page sends
``{"type": "confirm"}`` and ``{"type": "cancel"}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import traitlets

from ._view import View


class AskingView(View):
    """A :class:`View` with the Run question, Cancel and a problem line."""

    #: The question shown with the Run button ("" when nothing waits for a go-ahead).
    confirm = traitlets.Unicode("").tag(sync=True)
    #: A problem handling a page message, in plain words ("" when none).
    problem = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        *,
        on_cancel: Callable[[], Any] | None = None,
        on_confirm: Callable[[], Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._on_cancel = on_cancel
        self._on_confirm = on_confirm
        self.on_page("confirm", lambda _c, _b: self._confirm())
        self.on_page("cancel", lambda _c, _b: self._cancel())

    def ask_confirmation(self, question: str | None) -> None:
        """Show ``question`` with the Run button (None hides them: nothing to confirm)."""
        self.confirm = question or ""

    def _confirm(self) -> None:
        if not self.confirm:
            return  # already confirmed: a second click sends nothing twice
        self.confirm = ""
        if self._on_confirm is not None:
            self._on_confirm()

    def _cancel(self) -> None:
        if self._on_cancel is not None:
            self._on_cancel()

    def page_failed(self, text: str) -> None:
        """Show a problem handling a page message on the view."""
        self.problem = text
        super().page_failed(text)
