"""Running a comparison: every runnable cell launched at most ``concurrency`` at a time, and
what a running (or finished) comparison reports: records, CSV, images, a contact sheet, a grid.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._launch import Launcher, check_client
from ..run import Run, describe_error
from ._csv import write_csv
from ._plan import (
    DEFAULT_CONCURRENCY,
    DONE_STATUSES,
    NOT_APPLICABLE,
    QUEUED,
    REJECTED,
    Cell,
    Plan,
    plan,
)
from ._views import cell_view, sheet_cell

if TYPE_CHECKING:
    from .._contact_sheet import SheetCell
    from .._cost import Estimate
    from .._runner import Runner
    from ..client import AsyncClient, Client
    from ..history import History, HistoryChoice
    from ..widgets.grid import CellView, ComparisonGrid

log = logging.getLogger("mountsea_widgets.comparison")


def _check_concurrency(concurrency: Any) -> None:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be an integer >= 1, got {concurrency!r}")


class Comparison:
    """A running (or finished) comparison grid. Display it to watch it fill in.

    Made by :func:`compare`. ``cells`` are in row-major order; :meth:`wait` blocks until every
    cell is done; :meth:`records` / :meth:`to_csv` / :meth:`save_sheet` report on it.
    """

    def __init__(
        self,
        layout: Plan,
        *,
        client: AsyncClient | Client | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        history: History | None = None,
        subtitle: str = "",
    ) -> None:
        _check_concurrency(concurrency)
        check_client(client)
        self.plan = layout
        self.concurrency = concurrency
        self.history = history
        self.subtitle = subtitle
        self._client = client
        self._lock = threading.RLock()
        self._widget: ComparisonGrid | None = None
        self._thumbnails: dict[int, bytes] = {}
        self._estimates: dict[int, str] = {}
        self._future: concurrent.futures.Future[None] | None = None
        #: True while the grid waits for the person to confirm its estimated cost.
        self.awaiting_confirmation = False
        # The inputs are fixed once planned: the estimate is worked out once, not per update.
        self._estimate = grid_estimate(layout)
        for index, cell in enumerate(self.plan.cells):
            if cell.run is not None:
                cell.run.observe(functools.partial(self._changed, index))

    # --- reading --------------------------------------------------------------------------------

    @property
    def prompt(self) -> str:
        """The grid's title: the prompt (or template) every cell uses, or "N prompts"."""
        return self.plan.prompt

    @property
    def prompts(self) -> list[str]:
        """The prompts compared (one, unless ``prompts=`` gave several)."""
        return list(self.plan.prompts)

    @property
    def cells(self) -> list[Cell]:
        """Every cell, row by row."""
        return list(self.plan.cells)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns) of the grid (of one page, when a third axis pages it)."""
        return self.plan.shape

    @property
    def pages(self) -> int:
        """How many pages the grid has: the values of the third varied axis (1 without one)."""
        return self.plan.pages

    @property
    def page_labels(self) -> list[str]:
        """The pages' labels (``"seed = 1"``, ...), empty without a third axis."""
        return list(self.plan.page_labels)

    @property
    def row_labels(self) -> list[str]:
        """Row labels, top to bottom."""
        return list(self.plan.row_labels)

    @property
    def column_labels(self) -> list[str]:
        """Column labels, left to right."""
        return list(self.plan.column_labels)

    def cell(self, row: int, column: int, page: int = 0) -> Cell:
        """The cell at ``(row, column)`` (of page ``page``)."""
        return self.plan.cell(row, column, page)

    @property
    def estimate(self) -> Estimate:
        """What the runnable cells are estimated to cost together (upstream list prices)."""
        return self._estimate

    @property
    def done(self) -> bool:
        """True once every cell is done."""
        return all(cell.done for cell in self.plan.cells)

    def counts(self) -> dict[str, int]:
        """How many cells are in each status."""
        counts: dict[str, int] = {}
        for cell in self.plan.cells:
            counts[cell.status] = counts.get(cell.status, 0) + 1
        return counts

    def summary(self) -> str:
        """One line such as "6 of 8 done · 2 running · 1 n/a"."""
        counts = self.counts()
        total = len(self.plan.cells)
        done = sum(n for status, n in counts.items() if status in DONE_STATUSES)
        parts = [f"{done} of {total} done"]
        running = sum(n for s, n in counts.items() if s not in DONE_STATUSES and s != QUEUED)
        if running:
            parts.append(f"{running} running")
        if counts.get(QUEUED):
            parts.append(f"{counts[QUEUED]} queued")
        for status in ("completed", NOT_APPLICABLE, REJECTED, "failed", "timeout", "error"):
            if counts.get(status) and status != "completed":
                parts.append(f"{counts[status]} {status}")
        if counts.get("cancelled"):
            parts.append(f"{counts['cancelled']} cancelled")
        return " · ".join(parts)

    def records(self) -> list[dict[str, Any]]:
        """One dict per cell (row by row), with the fields of :data:`RECORD_FIELDS`."""
        return [cell.record() for cell in self.plan.cells]

    def to_csv(self, path: str | Path) -> Path:
        """Write :meth:`records` as CSV (``params`` and non-text values as JSON); returns the path.

        Text that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
        ``@``, a tab or a carriage return: task ids and errors come from the hub) is written
        with a leading ``'``, and so is text already starting with one, so :func:`read_csv`
        reads it back to the same records.
        """
        return write_csv(self.records(), path)

    # --- running --------------------------------------------------------------------------------

    def start(self, *, runner: Runner | None = None) -> Comparison:
        """Schedule every runnable cell on the background runner (once); returns self.

        Without a client given at construction, one is made from the configuration (and
        closed when the comparison ends); a blocking ``mw.Client`` is used through its twin.
        """
        if self._future is not None:
            raise RuntimeError("this comparison was already started")
        launcher = self._launcher(runner)
        self._future = launcher.runner.submit(self._run_all(launcher), on_error=self._crashed)
        self._future.add_done_callback(lambda _: self._refresh_summary())
        return self

    def ask_confirmation(self) -> Comparison:
        """Wait for the person to confirm the estimated cost in the grid (nothing is sent
        until then); :meth:`confirm` does the same from code. Returns self."""
        if self._future is not None:
            raise RuntimeError("this comparison was already started")
        self.awaiting_confirmation = True
        self._refresh_summary()
        return self

    def confirm(self) -> Comparison:
        """Start a comparison that waits for its cost to be confirmed; returns self."""
        with self._lock:
            if not self.awaiting_confirmation:
                return self
            self.awaiting_confirmation = False
        self.start()
        self._refresh_summary()
        return self

    def _launcher(self, runner: Runner | None) -> Launcher:
        """The launcher the cells run through (one client and history for all of them)."""
        # None here is "no history" (compare() resolved the standard one already).
        history = self.history if self.history is not None else False
        return Launcher(self._client, history, runner=runner)

    async def _run_all(self, launcher: Launcher) -> None:
        slots = asyncio.Semaphore(self.concurrency)
        try:
            await asyncio.gather(
                *(self._run_cell(cell, launcher, slots) for cell in self.plan.cells if cell.run)
            )
        except asyncio.CancelledError:
            # A cell whose task was cancelled before its first step never ran its own handler
            # (a cancel that comes while the runner is busy): it must not stay "queued".
            for cell in self.plan.cells:
                if cell.run is not None and not cell.run.done:
                    cell.run.update(status="cancelled", error="cancelled before it was sent")
            raise
        finally:
            await launcher.aclose()

    async def _run_cell(self, cell: Cell, launcher: Launcher, slots: asyncio.Semaphore) -> None:
        run = cell.run
        assert run is not None
        try:
            async with slots:
                cell.started = True
                await launcher.execute(run)
        except asyncio.CancelledError:
            if not run.done:
                run.update(status="cancelled", error="cancelled before it was sent")
            raise

    def _crashed(self, error: BaseException) -> None:
        # Anything execute() did not record must still show up in the cells.
        for cell in self.plan.cells:
            if cell.run is not None and not cell.run.done:
                cell.run.update(status="error", error=describe_error(error))

    def wait(self, timeout: float | None = None) -> Comparison:
        """Block until every cell is done; returns the comparison (for chaining).

        Safe in a notebook cell and in a script: it waits on the runner's future, never on the
        kernel's loop. Raises TimeoutError after ``timeout`` seconds (the cells keep running;
        wait again or :meth:`cancel`).
        """
        if self._future is None:
            if self.done:
                return self
            if self.awaiting_confirmation:
                raise RuntimeError(
                    f"this comparison waits for its estimated cost ({self.estimate.label}) to be "
                    "confirmed: click its Run button, or call confirm()"
                )
            raise RuntimeError("this comparison was never started")
        from .._runner import get_runner

        if get_runner().on_runner_thread():
            raise RuntimeError("wait() would block the runner thread; await the cells instead")
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            self._future.result(timeout)
        except concurrent.futures.TimeoutError:
            raise self._not_finished(timeout) from None
        except concurrent.futures.CancelledError:
            pass
        # After a cancel the future ends at once, while the cells record it on the runner.
        for cell in self.plan.cells:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if cell.run is not None and not cell.run.wait(left):
                raise self._not_finished(timeout)
        return self

    def _not_finished(self, timeout: float | None) -> TimeoutError:
        return TimeoutError(
            f"comparison not finished after {timeout or 0:g} s ({self.summary()}); "
            "it keeps running — call wait() again or cancel()"
        )

    def cancel(self) -> bool:
        """Stop polling every unfinished cell (the hub may still finish and bill them)."""
        if self._future is None or self._future.done():
            return False
        return self._future.cancel()

    # --- images ---------------------------------------------------------------------------------

    def save_images(self, folder: str | Path) -> list[Path]:
        """Save every completed cell's images into ``folder``; ``records()`` then name the files."""
        paths: list[Path] = []
        for cell in self.plan.cells:
            if cell.run is not None and cell.run.result is not None:
                cell.saved_files = cell.run.result.save(folder)
                paths += cell.saved_files
        return paths

    def sheet_cells(self) -> list[list[SheetCell]]:
        """What each position of the contact sheet shows (image, caption, or message); the
        pages of a third axis follow each other downwards."""
        rows, columns = self.shape
        return [
            [sheet_cell(self.cell(row, column, page)) for column in range(columns)]
            for page in range(self.pages)
            for row in range(rows)
        ]

    def sheet_row_labels(self) -> list[str]:
        """The contact sheet's row labels: each page's label on top of its rows' labels."""
        if not self.plan.page_labels:
            return self.row_labels
        return [f"{page}\n{row}" for page in self.plan.page_labels for row in self.row_labels]

    def save_sheet(self, path: str | Path, *, cell_size: int = 256) -> Path:
        """Write a labelled contact sheet (PNG or JPEG, by extension); returns the path.

        The prompt is the title, models/seeds label the rows, the compared values the columns;
        cells without an image show "n/a", the error, or their status if still running.
        """
        from .._contact_sheet import render_contact_sheet, save_contact_sheet

        sheet, _ = render_contact_sheet(
            self.prompt,
            self.sheet_row_labels(),
            self.column_labels,
            self.sheet_cells(),
            cell_size=cell_size,
        )
        return save_contact_sheet(sheet, path)

    # --- display --------------------------------------------------------------------------------

    @property
    def widget(self) -> ComparisonGrid:
        """The grid view (built on first use, then kept up to date from the runner)."""
        with self._lock:
            if self._widget is None:
                from ..widgets.grid import ComparisonGrid

                self._widget = ComparisonGrid(
                    self.prompt,
                    self.row_labels,
                    self.column_labels,
                    subtitle=self.subtitle,
                    page_labels=self.plan.page_labels,
                    on_cancel=self.cancel,
                    on_confirm=self.confirm,
                    image_source=self._full_image,
                )
                for index in range(len(self.plan.cells)):
                    self._render(index)
                self._refresh_summary()
                self._widget.flush()
            return self._widget

    def _ipython_display_(self, **kwargs: Any) -> None:
        """Show the view and, beside it, its saved fallback (see the views' base)."""
        self.widget._ipython_display_(**kwargs)

    def _display_(self) -> Any:
        """What marimo shows for the comparison: its view (an anywidget model)."""
        return self.widget

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The view's bundle (for front-ends that ask for one rather than display it)."""
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        rows, columns = self.shape
        pages = f"×{self.pages}" if self.plan.page_labels else ""
        return f"<Comparison {rows}×{columns}{pages} {self.summary()}>"

    def _full_image(self, index: int) -> bytes | None:
        """The first image of cell ``index`` (read from its file), for the grid's full view."""
        cells = self.plan.cells
        if not 0 <= index < len(cells) or not cells[index].image_count:
            return None
        images = cells[index].image_bytes
        return images[0] if images else None

    def _changed(self, index: int, _run: Run | None = None) -> None:
        with self._lock:
            if self._widget is not None:
                self._render(index)
                self._refresh_summary()

    def _refresh_summary(self) -> None:
        with self._lock:
            if self._widget is not None:
                running = self._future is not None and not self._future.done() and not self.done
                estimate = self.estimate
                counts = self.counts()
                done = sum(n for status, n in counts.items() if status in DONE_STATUSES)
                with self._widget.hold_sync():
                    self._widget.set_summary(self.summary())
                    self._widget.set_progress(done, len(self.plan.cells))
                    self._widget.set_running(running)
                    self._widget.set_estimate(
                        f"Estimated cost: {estimate.label} for {estimate.images} images "
                        "(upstream list prices; the hub bills completed runs only)",
                        estimate.basis,
                    )
                    self._widget.ask_confirmation(
                        f"Run this grid? It is estimated at {estimate.label}."
                        if self.awaiting_confirmation
                        else None
                    )
                if self.done:
                    self._widget.flush()  # the saved state holds the final grid at once

    def _render(self, index: int) -> None:
        assert self._widget is not None
        self._widget.set_cell(index, self._cell_view(index))

    def _cell_view(self, index: int) -> CellView:
        return cell_view(self.plan.cells[index], index, self._thumbnails, self._estimates)


def compare(
    prompt: str | None = None,
    *,
    prompts: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
    seeds: Sequence[int | None] | int | None = None,
    vary: Mapping[str, Sequence[Any]] | None = None,
    client: AsyncClient | Client | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    params: Mapping[str, Any] | None = None,
    history: HistoryChoice = None,
    confirm: bool | str = False,
    max_cost: float | None = None,
    strict: bool = True,
) -> Comparison:
    """Run ``prompt`` on every model × seed × varied value, at most ``concurrency`` at a time.

    ``prompts`` (instead of ``prompt``) is a list of prompts, e.g. from
    :func:`read_prompts`: one row of the grid per prompt and model. ``models`` defaults to
    the four text-to-image models, ``seeds`` to one unseeded run, ``vary`` is
    ``{"param": [values]}`` for one to three parameters or placeholders of a prompt template
    (the first gives the columns, the second the rows, the third pages of the grid: one
    page per value, every page run, the grid shows one at a time), ``params`` fixes other
    parameters for every cell, ``history`` is where runs and images are journalled (the
    standard history by default; ``False`` for none). Returns at once with a
    :class:`Comparison`: display it to see the grid fill in, or call ``.wait()``. Without a
    client, the configured hub is used (the offline simulator when no ``MOUNTSEA_API_KEY`` is
    set); ``client`` may be an ``mw.AsyncClient`` or a blocking ``mw.Client``. See the module
    docs for the layout and for parameters a model does not have. ``strict=False`` sends a
    value a model's catalog refuses (e.g. ``vary={"aspect_ratio": ["21:9"]}``) instead of
    rejecting its cell, with an ``mw.UncheckedValueWarning`` naming it; the hub decides.


    **Budget guard.** A grid estimated above ``MOUNTSEA_CONFIRM_ABOVE`` dollars (default $1,
    upstream list prices) is refused before anything is sent unless ``confirm=True``, or
    ``max_cost=<dollars>`` allows it; ``confirm="ask"`` returns the grid unstarted, asking for
    confirmation in its widget (a Run button), or ``.confirm()`` from code.
    """
    layout = plan(
        prompt,
        prompts=prompts,
        models=models,
        seeds=seeds,
        vary=vary,
        params=params,
        strict=strict,
    )
    _check_concurrency(concurrency)
    check_client(client)
    if confirm not in (True, False, "ask"):
        raise ValueError(f'confirm must be True, False or "ask", got {confirm!r}')
    from .._cost import BudgetError, check_budget

    estimate = grid_estimate(layout)
    ask = False
    if confirm == "ask" and max_cost is None:
        try:
            check_budget(estimate)
        except BudgetError:
            ask = True
    else:
        check_budget(estimate, confirm=confirm is True, max_cost=max_cost)
    subtitle = ""
    if client is None:
        from .._config import settings

        subtitle = settings().label
    from ..history import open_history

    comparison = Comparison(
        layout,
        client=client,
        concurrency=concurrency,
        history=open_history(history),
        subtitle=subtitle,
    )
    _warn_unchecked(layout)
    if ask:
        return comparison.ask_confirmation()
    comparison.start()
    return comparison


def grid_estimate(layout: Plan) -> Estimate:
    """The estimated cost of ``layout``'s runnable cells together."""
    from .._cost import total

    return total((cell.estimate for cell in layout.cells if cell.estimate is not None), "runs")


def _warn_unchecked(layout: Plan) -> None:
    """One warning per value sent unchecked (the same value for several cells: once)."""
    from .._unchecked import warn

    said: set[str] = set()
    for cell in layout.cells:
        if cell.run is None:
            continue
        fresh = [message for message in cell.run.warnings if message not in said]
        said.update(fresh)
        if cell.run.unchecked and fresh:
            warn(cell.model, fresh)
