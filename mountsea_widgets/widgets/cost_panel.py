"""What runs cost, as the Studio shows it: the estimate beside Generate, the session's total
spent (completed runs only) and the account's credits.

Every figure is text: the estimate's basis goes in a tooltip (escaped), a credits failure is
shown quietly in grey, never as an error that stops anything.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

if TYPE_CHECKING:
    from .._cost import Estimate
    from ..run import Run

_MUTED = "color:#555;margin:0 8px"


def estimate_of(model: str, input: Mapping[str, Any]) -> Estimate | None:
    """The estimate for ``model`` with ``input`` (None when it cannot be worked out)."""
    from .._cost import estimate_input

    try:
        return estimate_input(model, input)
    except Exception:  # a price problem must never stop the form or a run
        return None


def estimate_span(estimate: Estimate | None, prefix: str = "estimated") -> str:
    """``estimate`` as a small span whose tooltip gives its basis ('' when there is none)."""
    if estimate is None:
        return ""
    basis = html.escape(f"Estimate: {estimate.basis}", quote=True)
    text = html.escape(f"{prefix} {estimate.label}")
    return f'<span class="mountsea-cost" title="{basis}" style="{_MUTED}">{text}</span>'


class CostPanel(widgets.HBox):
    """The session's spent total and the account's credits; ``estimate_html`` (shown beside
    Generate) holds the form's estimate."""

    def __init__(self) -> None:
        self.estimate_html = widgets.HTML()
        self.estimate_html.add_class("mountsea-estimate")
        self.spent_html = widgets.HTML()
        self.spent_html.add_class("mountsea-spent")
        self.credits_html = widgets.HTML()
        self.credits_html.add_class("mountsea-credits")
        super().__init__([self.spent_html, self.credits_html])
        self.add_class("mountsea-cost-panel")
        self._lock = threading.Lock()
        self._counted: dict[str, float] = {}
        self._unknown: set[str] = set()
        self.show_spent()

    @property
    def spent(self) -> float:
        """Estimated dollars of the runs completed in this session."""
        with self._lock:
            return sum(self._counted.values())

    def show_estimate(self, estimate: Estimate | None) -> None:
        """Show the form's estimate beside Generate (nothing when there is none)."""
        self.estimate_html.value = estimate_span(estimate)

    def count(self, run: Run) -> None:
        """Add ``run`` to the spent total once, if it completed (the hub bills nothing else)."""
        if run.status != "completed":
            return
        estimate = estimate_of(run.model, run.input)
        with self._lock:
            if run.run_id in self._counted or run.run_id in self._unknown:
                return
            if estimate is None or estimate.amount is None:
                self._unknown.add(run.run_id)
            else:
                self._counted[run.run_id] = estimate.amount
        self.show_spent()

    def show_spent(self) -> None:
        """Show the spent total of this session's completed runs."""
        from .._cost import money

        with self._lock:
            amount, runs, unknown = (
                sum(self._counted.values()),
                len(self._counted),
                len(self._unknown),
            )
        text = (
            f"spent this session ≈ {money(amount)} ({runs} completed run{'' if runs == 1 else 's'}"
        )
        text += f", {unknown} without a known price)" if unknown else ")"
        tip = "Estimated from upstream list prices; the hub bills only completed runs"
        self.spent_html.value = (
            f'<span title="{html.escape(tip, quote=True)}" style="{_MUTED}">'
            f"{html.escape(text)}</span>"
        )

    def show_credits(self, text: str, *, quiet: bool = False) -> None:
        """Show the account's credits, or (``quiet``) why they are not known, in grey."""
        style = "color:#888;font-style:italic;margin:0 8px" if quiet else _MUTED
        self.credits_html.value = f'<span style="{style}">{html.escape(text)}</span>'
