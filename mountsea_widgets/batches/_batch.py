"""A headless batch: a comparison's cells run from the history, resumable, with no grid."""

from __future__ import annotations

import asyncio
import html
import threading
import time
import weakref
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._image_input import prepare_input
from .._launch import Launcher, check_client, check_pace
from ..comparison import DEFAULT_CONCURRENCY, DONE_STATUSES, Cell, Comparison, Plan, plan
from ..run import Run, take_outcome
from ._pacing import PacedClient, SubmitPacer, current_ticket
from ._spec import BatchSpec, BatchSpecChanged, check_batch_id, read_spec, run_id_for, write_spec

if TYPE_CHECKING:
    from .._runner import Runner
    from ..client import AsyncClient, Client
    from ..history import History, HistoryChoice
    from ..widgets.batch_summary import BatchSummary

#: Shown on cells a ``max_runs`` cap kept from being sent (running the batch again sends them).
NOT_SENT_MESSAGE = "not sent: max_runs={cap} was reached; run the batch again to go on"
#: How many of the latest completed runs keep their thumbnails (for the summary's images).
LATEST_KEPT = 4
#: How often (seconds) a batch reads the journal for a run another process carries out.
FOLLOW_SECONDS = 1.0
#: Batches running in this process, by (history folder, batch id).
_running: weakref.WeakValueDictionary[tuple[str, str], Batch] = weakref.WeakValueDictionary()
_running_lock = threading.Lock()


class BatchRunningElsewhere(RuntimeError):
    """The batch is being run by another process on the same history: running it here too
    could send a cell twice, so nothing was sent."""


class Batch(Comparison):
    """A batch of runs carried out in the background, kept in the history, shown as a summary.

    Made by :func:`batch`. ``batch_id`` names it in the history; :meth:`wait` blocks until
    every cell is done; :attr:`progress`, :meth:`summary`, :meth:`records` report on it. Cells
    the history already holds are not sent again: finished ones are taken as they ended,
    submitted ones are polled (see :mod:`mountsea_widgets.batches`).
    """

    def __init__(
        self,
        layout: Plan,
        batch_id: str,
        history: History,
        *,
        client: AsyncClient | Client | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        max_runs: int | None = None,
        clock: Any = time.monotonic,
        follow_s: float | None = None,
        max_requests_per_second: float | None = None,
    ) -> None:
        self.batch_id = batch_id
        #: The cap on requests per second of the client the batch makes (None: none).
        self.max_requests_per_second = max_requests_per_second
        self.max_runs = max_runs
        self.follow_s = FOLLOW_SECONDS if follow_s is None else follow_s
        self._clock = clock
        self._started_at: float | None = None
        #: Cells this batch polls again (submitted before), and cells it sends for the first time.
        self.resumed: list[Cell] = []
        self.new: list[Cell] = []
        #: Cells a ``max_runs`` cap kept from being sent this time.
        self.not_sent: list[Cell] = []
        #: Cells whose run something else carries out (a Studio, History.resume(), another
        #: process): the batch follows the journal until they end, and never sends them.
        self.followed: list[Cell] = []
        # The lease first: adopting the history's runs must not race another process doing so.
        self._lease = _take_lease(history, batch_id)
        try:
            self._adopt(layout, history)
        except BaseException:
            self._release()
            raise
        #: The latest completed runs (newest last): the only ones whose thumbnails are kept,
        #: so thousands of finished runs do not hold thousands of thumbnails in memory.
        self._latest: deque[Run] = deque(maxlen=LATEST_KEPT)
        self._summary_widget: BatchSummary | None = None
        #: Paces the batch's submits to the hub's limits (see :mod:`._pacing`).
        self.pacer = SubmitPacer(concurrency)
        self._shown = ""
        try:
            super().__init__(layout, client=client, concurrency=concurrency, history=history)
        except BaseException:
            self._release()  # a refused client or concurrency: the batch never runs
            raise

    def _adopt(self, layout: Plan, history: History) -> None:
        """Give every runnable cell its batch run id, and take what the history knows of it."""
        from .._resumption import run_for_entry

        known = {entry.run_id: entry for entry in history.entries()}
        seen: Counter[str] = Counter()
        for cell in layout.cells:
            if cell.kind != "run" or cell.input is None:
                continue
            base = run_id_for(self.batch_id, cell.model, cell.input, 0)
            seen[base] += 1  # the same cell asked twice (a prompt listed twice) runs twice
            run_id = run_id_for(self.batch_id, cell.model, cell.input, seen[base] - 1)
            entry = known.get(run_id)
            if entry is None:
                cell.run = Run(cell.model, cell.input, run_id=run_id)
                self.new.append(cell)
                continue
            # A cell the hub refused before accepting anything (the process was killed while
            # it waited the refusal out) is sent again; one that may have reached it is not.
            run, fresh = run_for_entry(history, entry, resend_refused=True)
            cell.run, cell.started = run, True
            if fresh:
                self.resumed.append(cell)
            elif not run.done:
                self.followed.append(cell)
        if self.max_runs is not None:
            self.not_sent = self.new[self.max_runs :]
            for cell in self.not_sent:
                assert cell.run is not None
                cell.run.update(
                    status="cancelled", error=NOT_SENT_MESSAGE.format(cap=self.max_runs)
                )
                cell.started = True
            self.new = self.new[: self.max_runs]

    # --- running --------------------------------------------------------------------------------

    def start(self, *, runner: Runner | None = None) -> Batch:
        """Poll the resumed cells and send the new ones in the background; returns self.

        The batch's lease (taken when it was made) is held until every cell is done.
        """
        assert self.history is not None
        with _running_lock:
            _running[(str(self.history.folder), self.batch_id)] = self
        self._started_at = self._clock()
        try:
            super().start(runner=runner)
        except BaseException:
            self._release()
            raise
        assert self._future is not None
        # Also when the work is cancelled before it began (its own finally never runs).
        self._future.add_done_callback(lambda _: self._release())
        return self

    def _launcher(self, runner: Runner | None) -> Launcher:
        assert self.history is not None
        return _PacedLauncher(
            self._client,
            self.history,
            runner=runner,
            pacer=self.pacer,
            max_requests_per_second=self.max_requests_per_second,
        )

    async def _run_all(self, launcher: Launcher) -> None:
        slots = asyncio.Semaphore(self.concurrency)
        try:
            # Resumed cells first: their tasks are already running (and billed) on the hub.
            await asyncio.gather(
                *(self._run_cell(cell, launcher, slots) for cell in [*self.resumed, *self.new]),
                *(self._follow(cell, launcher) for cell in self.followed),
            )
        except asyncio.CancelledError:
            for cell in [*self.resumed, *self.new, *self.followed]:
                if cell.run is not None and not cell.run.done:
                    cell.run.update(status="cancelled", error="cancelled before it was sent")
            raise
        finally:
            self._release()
            await launcher.aclose()

    async def _run_cell(self, cell: Cell, launcher: Launcher, slots: asyncio.Semaphore) -> None:
        run = cell.run
        assert run is not None
        try:
            async with slots:
                cell.started = True
                if run.task_id is not None:  # resumed: polled, never submitted
                    await launcher.execute(run)
                else:
                    # The submit's ticket before the run is journalled as started: a process
                    # killed while waiting for the hub's limits leaves nothing "interrupted".
                    ticket = await self.pacer.take()
                    token = current_ticket.set(ticket)
                    try:
                        await launcher.execute(run)
                    finally:
                        current_ticket.reset(token)
                        await self.pacer.give_back(ticket, accepted=None)
        except asyncio.CancelledError:
            if not run.done:
                run.update(status="cancelled", error="cancelled before it was sent")
            raise
        if not run.done:  # its lease is held elsewhere
            await self._follow(cell, launcher)

    async def _follow(self, cell: Cell, launcher: Launcher) -> None:
        """Follow a run something else carries out, in the journal, until it ends there; if
        that stops first, poll its task here (it is never submitted again)."""
        from .. import _recovery as recovery
        from .._statuses import INTERRUPTED_MESSAGE

        run, history = cell.run, self.history
        assert run is not None and history is not None
        while not run.done:
            await asyncio.sleep(self.follow_s)
            # The lease before the entry: an entry read after the lease was seen free holds
            # whatever its last holder wrote.
            held = await asyncio.to_thread(recovery.held_elsewhere, history, run.run_id)
            entry = await asyncio.to_thread(_entry_of, history, run.run_id)
            if entry is None:
                continue
            if entry.finished is not None:
                take_outcome(run, entry)
                return
            if held:
                continue
            if entry.is_refused:  # refused by the hub, nothing accepted: sent here
                await launcher.execute(run)  # (its journal is read again under its lease)
                continue
            if entry.task_id is None:  # it stopped while submitting: the hub may have it
                run.update(status="interrupted", error=INTERRUPTED_MESSAGE)
                return
            if recovery.live_run(history, run.run_id) not in (None, run):
                continue  # a run of this process still goes on with it
            run.update(task_id=entry.task_id)
            await launcher.execute(run)  # poll it here (the lease decides who does)

    def _release(self) -> None:
        with _running_lock:
            lease, self._lease = getattr(self, "_lease", None), None
        if lease is not None:
            lease.release()

    # --- reporting ------------------------------------------------------------------------------

    @property
    def progress(self) -> tuple[int, int]:
        """(cells done, cells in all)."""
        done = sum(1 for cell in self.plan.cells if cell.status in DONE_STATUSES)
        return done, len(self.plan.cells)

    def eta_seconds(self) -> float | None:
        """Seconds until every cell is done, at the pace so far (None before any finished here)."""
        if self._started_at is None:
            return None
        ours = [*self.resumed, *self.new]
        finished = sum(1 for cell in ours if cell.run is not None and cell.run.done)
        left = sum(1 for cell in ours if cell.run is not None and not cell.run.done)
        if not finished or not left:
            return 0.0 if not left else None
        spent = max(0.0, self._clock() - self._started_at)
        return spent / finished * left

    def summary(self) -> str:
        """One line such as "batch b1a2… · 6 of 8 done · 2 running · about 40 s left"."""
        return f"batch {self.batch_id} · {self.status_line()}"

    def status_line(self) -> str:
        """:meth:`summary` without the batch id (the summary widget shows the id as a title)."""
        text = super().summary()
        if self.not_sent:
            text += (
                f" ({len(self.not_sent)} not sent: max_runs={self.max_runs}; run it again to go on)"
            )
        if self.pacer.refusals:
            text += f" · the hub refused {self.pacer.refusals} submits for its limits (sent again)"
        eta = self.eta_seconds()
        if eta and not self.done:
            text += f" · about {_duration(eta)} left"
        return text

    def records(self) -> list[dict[str, Any]]:
        """One dict per cell: the comparison's fields (see ``RECORD_FIELDS``) plus the batch
        id, the run id and every image file (``files``; ``file`` is the first)."""
        rows = []
        for cell in self.plan.cells:
            record = cell.record()
            record["batch_id"] = self.batch_id
            record["run_id"] = cell.run.run_id if cell.run is not None else None
            files = cell.run.files if cell.run is not None else []
            record["files"] = [str(path) for path in files]
            rows.append(record)
        return rows

    def to_pandas(self) -> Any:
        """:meth:`records` as a pandas DataFrame (pandas is needed only for this)."""
        from ._dataset import to_pandas

        return to_pandas(self.records())

    def to_csv(self, path: str | Path) -> Path:
        """Write :meth:`records` as CSV (text a spreadsheet would run is quoted); returns it."""
        from ._dataset import write_records_csv

        return write_records_csv(self.records(), path)

    def export(self, folder: str | Path) -> Path:
        """Write the batch as an image dataset (see :func:`~mountsea_widgets.batches.export`)."""
        from ._dataset import export

        return export(self, folder)

    # --- display --------------------------------------------------------------------------------

    @property
    def widget(self) -> BatchSummary:
        """The live summary widget (built on first use): progress, counts, latest images."""
        with self._lock:
            if self._summary_widget is None:
                from ..widgets.batch_summary import BatchSummary

                self._summary_widget = BatchSummary(
                    f"batch {self.batch_id} · {self.estimate.label} estimated",
                    on_cancel=self.cancel,
                    on_confirm=self.confirm,
                )
                self._shown = ""
                self._refresh_summary()
            return self._summary_widget

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The live summary widget (never a widget per run), with a one-line text form; an
        HTML summary where widgets cannot be shown."""
        try:
            bundle = self.widget._repr_mimebundle_(**kwargs)
        except ImportError:
            return {"text/plain": repr(self), "text/html": self.summary_html()}
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        if isinstance(data, dict):
            data["text/plain"] = repr(self)
            data.setdefault("text/html", self.summary_html())
        return bundle

    def summary_html(self) -> str:
        """The summary as static HTML: a progress bar and counts (all text escaped)."""
        done, total = self.progress
        folder = self.history.folder if self.history is not None else ""
        return (
            '<div class="mountsea-batch">'
            f"<b>batch {html.escape(self.batch_id)}</b> "
            f'<progress value="{done}" max="{total}"></progress> '
            f"{html.escape(self.summary())}<br><small>history "
            f"{html.escape(str(folder))}</small></div>"
        )

    def __repr__(self) -> str:
        return f"<Batch {self.summary()}>"

    def _changed(self, index: int, run: Run | None = None) -> None:
        if run is not None and run.done and run.status == "completed" and run not in self._latest:
            with self._lock:
                if len(self._latest) == self._latest.maxlen:
                    dropped = self._latest[0]
                    dropped.thumbnails = []  # a plain fact: no observer needs to hear of it
                self._latest.append(run)
        self._refresh_summary()

    def _refresh_summary(self) -> None:
        with self._lock:
            widget = self._summary_widget
            if widget is None:
                return
            text = self.status_line()
            shown = f"{self.awaiting_confirmation}|{text}"
            if shown == self._shown:
                return  # ticks of running cells change nothing shown here
            self._shown = shown
            images = [
                r.thumbnails[0] for r in reversed(self._latest) if r.thumbnails and r.thumbnails[0]
            ]
            running = self._future is not None and not self._future.done() and not self.done
            with widget.hold_sync():
                widget.set_progress(*self.progress)
                widget.set_text(text)
                widget.set_images(images)
                widget.set_running(running)
                widget.ask_confirmation(
                    f"Run this batch? It is estimated at {self.estimate.label}."
                    if self.awaiting_confirmation
                    else None
                )


class _PacedLauncher(Launcher):
    """A launcher whose client submits through the batch's pacer."""

    def __init__(self, *args: Any, pacer: SubmitPacer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pacer = pacer
        self._paced: PacedClient | None = None

    @property
    def client(self) -> Any:
        inner = super().client
        if self._paced is None or self._paced.inner is not inner:
            self._paced = PacedClient(inner, self._pacer)
        return self._paced


def _take_lease(history: History, batch_id: str) -> Any:
    """The batch's lease in ``history``, so that one process runs it at a time."""
    from .. import _recovery as recovery

    lease = recovery.acquire(history, f"batch:{batch_id}")
    if lease is None:
        raise BatchRunningElsewhere(
            f"batch {batch_id!r} is being run by another process on the history at "
            f"{history.folder}; running it here too could send cells twice, so nothing was "
            "sent. Let it finish (or stop it), then run the batch again to go on."
        )
    return lease


def _entry_of(history: History, run_id: str) -> Any:
    try:
        return history.get(run_id)
    except KeyError:
        return None


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _check_max_runs(max_runs: Any) -> None:
    if max_runs is None:
        return
    if isinstance(max_runs, bool) or not isinstance(max_runs, int) or max_runs < 0:
        raise ValueError(f"max_runs must be an integer >= 0 (or None for no cap), got {max_runs!r}")


def batch(
    prompt: str | None = None,
    *,
    prompts: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
    seeds: Sequence[int | None] | int | None = None,
    vary: Mapping[str, Sequence[Any]] | None = None,
    params: Mapping[str, Any] | None = None,
    client: AsyncClient | Client | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    history: HistoryChoice = None,
    batch_id: str | None = None,
    extend: bool = False,
    max_runs: int | None = None,
    confirm: bool | str = False,
    max_cost: float | None = None,
    max_requests_per_second: float | None = None,
) -> Batch:
    """Run every cell of a comparison in the background, kept in the history; returns at once.

    Takes what :func:`~mountsea_widgets.compare` takes (``prompts=`` from
    :func:`~mountsea_widgets.read_prompts`, templates, two varied axes), plus:

    - ``batch_id``: the batch's name in the history (default: a hash of the spec, so the same
      spec is the same batch). Running a batch again continues it: finished cells are
      skipped, submitted ones polled (never submitted again), the rest sent.
    - ``extend``: a batch given again by ``batch_id`` with another spec (other prompts, models,
      seeds, varied values or params) is refused, naming what changed, unless ``extend=True``:
      then the new cells are added and the cells already done are kept.
    - ``max_runs``: send at most this many new runs this time (the others say so; running the
      batch again sends them).

    - ``confirm`` / ``max_cost``: the budget guard of :func:`~mountsea_widgets.compare`. A
      batch whose runs are estimated above ``MOUNTSEA_CONFIRM_ABOVE`` dollars (default $1,
      upstream list prices; every runnable cell of the spec counts, finished ones included)
      needs ``confirm=True``, or ``max_cost=<dollars>`` that the estimate fits in; otherwise
      :class:`~mountsea_widgets.BudgetError` says the estimate and nothing is sent.
      ``confirm="ask"`` returns such a batch unstarted instead, asking in its summary widget
      (a **Run the batch** button), or ``batch.confirm()`` from code.

    - ``max_requests_per_second``: a cap of our own, shared by submits, polls and downloads
      of the client the batch makes (for a client given, set it on that client:
      ``mw.AsyncClient(..., max_requests_per_second=...)``).

    ``history`` must keep the batch (the standard one by default, or a folder): it cannot be
    ``False``. Nothing is sent when the spec or a prompt file's row is refused.
    """
    layout = plan(prompt, prompts=prompts, models=models, seeds=seeds, vary=vary, params=params)
    if concurrency is None or isinstance(concurrency, bool) or not isinstance(concurrency, int):
        raise ValueError(f"concurrency must be an integer >= 1, got {concurrency!r}")
    _check_max_runs(max_runs)
    check_client(client)
    if confirm not in (True, False, "ask"):
        raise ValueError(f'confirm must be True, False or "ask", got {confirm!r}')
    from .._cost import BudgetError, check_budget
    from ..comparison._comparison import grid_estimate

    ask = False
    if confirm == "ask" and max_cost is None:
        try:
            check_budget(grid_estimate(layout), what="this batch")
        except BudgetError:
            ask = True  # asked in the summary widget; nothing is sent before the click
    else:
        check_budget(
            grid_estimate(layout), confirm=confirm is True, max_cost=max_cost, what="this batch"
        )
    check_pace(client, max_requests_per_second)
    if history is False:
        raise ValueError(
            "a batch lives in the history (that is how it resumes): give history=<folder>, or "
            "leave history out for the standard one"
        )
    from ..history import open_history

    kept = open_history(history)
    if kept is None:
        raise ValueError(
            "the history cannot be opened, so the batch could not resume; give a folder"
        )
    given = list(layout.prompts) if prompts is None else list(prompts)
    spec = BatchSpec.of(
        given, layout.models, layout.seeds, vary, prepare_input("batch", dict(params or {}))
    )
    chosen = spec.digest() if batch_id is None else check_batch_id(batch_id)
    before = read_spec(kept, chosen)
    if before is not None and before != spec and not extend:
        raise BatchSpecChanged(chosen, spec.changes_from(before) or ["row parameters differ"])
    with _running_lock:
        running = _running.get((str(kept.folder), chosen))
    if running is not None and not running.done:
        if before == spec:
            return running  # the same batch, already going in this process: that very one
        raise BatchRunningElsewhere(
            f"batch {chosen!r} is still running in this Python session with another spec; "
            "wait for it (batch.wait()) or cancel it, then extend it"
        )
    if before != spec:
        write_spec(kept, chosen, spec)
    made = Batch(
        layout,
        chosen,
        kept,
        client=client,
        concurrency=concurrency,
        max_runs=max_runs,
        max_requests_per_second=max_requests_per_second,
    )
    if ask:
        made.ask_confirmation()
        return made
    return made.start()
