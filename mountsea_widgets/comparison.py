"""Side-by-side comparisons: models × seeds × one varied parameter, run concurrently.

>>> import mountsea_widgets as mw
>>> grid = mw.compare("a lighthouse at dusk", models=["nano-banana", "gpt-image-2"],
...                   seeds=[1, 2])                              # doctest: +SKIP
>>> grid.wait().save_sheet("lighthouse.png")                     # doctest: +SKIP

**Layout.** Rows are models and columns are what you compare:

- with ``vary={"param": [values]}``: one column per value; with several seeds each model gets
  one row per seed (row label ``model · seed N``);
- without ``vary``: one column per seed.

So the grid grows downwards (one row per model, or per model and seed) and stays as wide as
the list of values being compared — it fits a notebook and reads like an X/Y plot.

**Parameters a model does not have.** A varied parameter a model lacks (``quality`` for
nano-banana, ``resolution`` for nano-banana, ``seed`` for gpt-image-2 in ``vary``) makes that
model's cells "n/a": nothing is sent. A *value* the model refuses (``aspect_ratio="8:1"`` for
nano-banana) makes that cell "rejected" with the catalog's message: nothing is sent either.

**Seeds on models without a seed.** ``seeds=[1, 2]`` with gpt-image-2 (which takes no seed):
its cells still run, without a seed, and say "seed: n/a (model has no seed)" — every cell of
the grid gets an image, and the note makes clear the two images are not seed-controlled.
(``vary={"seed": [...]}`` is different: there the seed *is* the comparison, so such a model's
cells are "n/a".) Fixed ``params`` a model lacks are left out for that model, with a note.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import csv
import difflib
import functools
import json
import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .catalog import catalog
from .errors import ValidationError
from .image_input import prepare_input
from .launch import Launcher, check_client
from .run import FINAL_STATUSES, Run, describe_error

if TYPE_CHECKING:
    from .client import AsyncClient, Client
    from .contact_sheet import SheetCell
    from .history import History
    from .runner import Runner
    from .widgets.grid import CellView, ComparisonGrid

log = logging.getLogger("mountsea_widgets.comparison")

#: How many cells run at the same time unless told otherwise.
DEFAULT_CONCURRENCY = 4
#: Cell status when the model does not take the varied parameter (nothing sent).
NOT_APPLICABLE = "n/a"
#: Cell status when the catalog refuses the cell's input (nothing sent).
REJECTED = "rejected"
#: Cell status while a runnable cell waits for a free slot.
QUEUED = "queued"
#: Statuses after which a cell never changes.
DONE_STATUSES = FINAL_STATUSES | {NOT_APPLICABLE, REJECTED}
#: Fields of :meth:`Comparison.records` (and the CSV header), in order.
RECORD_FIELDS = (
    "row",
    "column",
    "model",
    "seed",
    "param",
    "value",
    "params",
    "status",
    "seconds",
    "task_id",
    "file",
    "error",
    "note",
)
#: Note shown on cells of a model that takes no seed when ``seeds=`` asked for one.
NO_SEED_NOTE = "seed: n/a (model has no seed)"


def format_value(value: Any) -> str:
    """A short label for a parameter value (``{"width": 1536, "height": 1024}`` → 1536×1024)."""
    if isinstance(value, Mapping) and set(value) == {"width", "height"}:
        return f"{value['width']}×{value['height']}"
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _seed_label(seed: int | None) -> str:
    return "no seed" if seed is None else f"seed {seed}"


# --- planning -----------------------------------------------------------------------------------


@dataclass
class Cell:
    """One position of the grid: what it asks for and (once running) its :class:`Run`.

    ``kind`` is ``"run"`` (a request is made), ``"n/a"`` (the model lacks the varied parameter)
    or ``"rejected"`` (the catalog refused the input; ``problem`` holds its message).
    ``input`` is what is sent (for a rejected cell: what was refused; None for "n/a").
    """

    row: int
    column: int
    model: str
    seed: int | None
    param: str | None
    value: Any
    kind: str
    input: dict[str, Any] | None
    problem: str | None = None
    notes: list[str] = field(default_factory=list)
    run: Run | None = None
    started: bool = False
    saved_files: list[Path] = field(default_factory=list)

    @property
    def status(self) -> str:
        """ "n/a", "rejected", "queued", or the run's status (submitting … completed, error)."""
        if self.kind != "run":
            return self.kind
        assert self.run is not None
        if not self.started and not self.run.done:
            return QUEUED
        return self.run.status

    @property
    def done(self) -> bool:
        """True once the cell will not change any more."""
        return self.status in DONE_STATUSES

    @property
    def error(self) -> str | None:
        """Why the cell has no image: the catalog's message, or the run's error."""
        if self.kind == REJECTED:
            return self.problem
        if self.run is not None:
            return self.run.error
        return None

    @property
    def seconds(self) -> float | None:
        """How long the run took (so far), or None when nothing was sent."""
        if self.run is None or not self.started:
            return None
        return round(self.run.elapsed_s, 3)

    @property
    def task_id(self) -> str | None:
        """The hub task id once known."""
        return self.run.task_id if self.run is not None else None

    @property
    def image_bytes(self) -> list[bytes]:
        """The downloaded images (empty until completed)."""
        if self.run is None or self.run.result is None:
            return []
        return list(self.run.result.image_bytes)

    @property
    def image_count(self) -> int:
        """How many images the cell has (reads none of them)."""
        if self.run is None or self.run.result is None:
            return 0
        return self.run.result.image_count

    @property
    def file(self) -> Path | None:
        """Where the first image was saved (by :meth:`Comparison.save_images` or the history)."""
        if self.saved_files:
            return self.saved_files[0]
        if self.run is not None and self.run.files:
            return Path(self.run.files[0])
        return None

    @property
    def note(self) -> str:
        """The cell's notes joined ("seed: n/a (model has no seed)", ignored fixed params)."""
        return "; ".join(self.notes)

    def _sent_seed(self) -> int | None:
        seed = self.input.get("seed") if self.input is not None else None
        return seed if isinstance(seed, int) and not isinstance(seed, bool) else None

    def record(self) -> dict[str, Any]:
        """This cell as one flat dict (see :data:`RECORD_FIELDS`)."""
        file = self.file
        return {
            "row": self.row,
            "column": self.column,
            "model": self.model,
            # The seed sent, also when it is the varied parameter (vary={"seed": [...]}).
            "seed": self.seed if self.seed is not None else self._sent_seed(),
            "param": self.param,
            "value": self.value,
            "params": dict(self.input) if self.input is not None else None,
            "status": self.status,
            "seconds": self.seconds,
            "task_id": self.task_id,
            "file": str(file) if file is not None else None,
            "error": self.error,
            "note": self.note,
        }


@dataclass
class Plan:
    """The grid before anything runs: labels, and every cell with its input (or why none)."""

    prompt: str
    models: list[str]
    seeds: list[int | None]
    param: str | None
    values: list[Any]
    row_labels: list[str]
    column_labels: list[str]
    cells: list[Cell]

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return len(self.row_labels), len(self.column_labels)

    def cell(self, row: int, column: int) -> Cell:
        """The cell at ``(row, column)``."""
        rows, columns = self.shape
        if not (0 <= row < rows and 0 <= column < columns):
            raise IndexError(f"no cell ({row}, {column}) in a {rows}×{columns} grid")
        return self.cells[row * columns + column]


def _as_list(name: str, values: Any) -> list[Any]:
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
        raise ValueError(f"{name} must be a list, got {values!r}")
    items = list(values)
    if not items:
        raise ValueError(f"{name} must not be empty")
    return items


def _varied(vary: Mapping[str, Any] | None) -> tuple[str | None, list[Any]]:
    if vary is None or (isinstance(vary, Mapping) and not vary):
        return None, [None]
    if not isinstance(vary, Mapping) or len(vary) != 1:
        count = len(vary) if isinstance(vary, Mapping) else "not a dict"
        raise ValueError(
            "vary takes exactly one parameter and its values, e.g. "
            f"vary={{'aspect_ratio': ['1:1', '16:9']}} (got {count})"
        )
    ((param, values),) = vary.items()
    if param == "prompt":
        raise ValueError("vary cannot change the prompt; run one comparison per prompt")
    return str(param), _as_list(f"vary[{param!r}]", values)


def _known_to_some(name: str, models: Sequence[str], what: str) -> None:
    """ValueError (with a suggestion) when no model of the comparison has parameter ``name``."""
    names = sorted({p for m in models for p in catalog.spec(m).names})
    if name in names:
        return
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"{what} {name!r} is not a parameter of any compared model ({', '.join(models)}){hint}"
    )


def plan(
    prompt: str,
    *,
    models: Sequence[str] | None = None,
    seeds: Sequence[int | None] | int | None = None,
    vary: Mapping[str, Sequence[Any]] | None = None,
    params: Mapping[str, Any] | None = None,
) -> Plan:
    """Lay out the grid and build (and validate) every cell's input; nothing is sent.

    Raises ValueError / :class:`~mountsea_widgets.errors.ValidationError` for a comparison that
    cannot be laid out (unknown model, two varied parameters, a parameter no model has…).
    Problems of single cells do not raise: they become "n/a" or "rejected" cells.
    """
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError("prompt must be a non-empty string")
    model_ids = list(catalog.text_to_image) if models is None else _as_list("models", models)
    for model in model_ids:
        catalog.spec(model)  # ValidationError with a did-you-mean for unknown ids
    seed_list: list[int | None]
    if seeds is None:
        seed_list = [None]
    elif isinstance(seeds, int) and not isinstance(seeds, bool):
        seed_list = [seeds]
    else:
        seed_list = _as_list("seeds", seeds)
    param, values = _varied(vary)
    # Images given as PIL images, Paths or bytes become data URIs once, for every cell.
    fixed = prepare_input("compare", dict(params or {}))
    if "prompt" in fixed:
        raise ValueError("give the prompt as the first argument, not in params")
    if param is not None:
        _known_to_some(param, model_ids, "vary parameter")
        if param in fixed:
            raise ValueError(f"{param!r} is both varied and fixed in params; choose one")
        if param == "seed" and seed_list != [None]:
            raise ValueError("give seeds either as seeds=[...] or as vary={'seed': [...]}")
    if "seed" in fixed:
        raise ValueError("give the seed as seeds=[...], not in params")
    for name in fixed:
        _known_to_some(name, model_ids, "params entry")

    seeds_in_rows = param is not None and len(seed_list) > 1
    rows: list[tuple[str, int | None]] = []  # (model, seed or None when seeds go in columns)
    columns: list[tuple[int | None, Any]] = []  # (seed, value)
    row_labels: list[str] = []
    column_labels: list[str] = []
    for model in model_ids:
        has_seed = catalog.spec(model).has("seed")
        for seed in seed_list if seeds_in_rows else [None]:
            rows.append((model, seed))
            if not seeds_in_rows:
                row_labels.append(model)
            else:
                suffix = "" if has_seed else " (model has no seed)"
                row_labels.append(f"{model}\n{_seed_label(seed)}{suffix}")
    if param is None:
        columns = [(seed, None) for seed in seed_list]
        column_labels = [_seed_label(seed) for seed in seed_list]
    else:
        single_seed = seed_list[0] if not seeds_in_rows else None
        columns = [(single_seed, value) for value in values]
        column_labels = [f"{param} = {format_value(value)}" for value in values]

    cells: list[Cell] = []
    for row, (model, row_seed) in enumerate(rows):
        for column, (column_seed, value) in enumerate(columns):
            seed = row_seed if seeds_in_rows else column_seed
            cells.append(_plan_cell(prompt, model, seed, param, value, fixed, row, column))
    return Plan(
        prompt=prompt,
        models=model_ids,
        seeds=seed_list,
        param=param,
        values=values if param is not None else [],
        row_labels=row_labels,
        column_labels=column_labels,
        cells=cells,
    )


def _plan_cell(
    prompt: str,
    model: str,
    seed: int | None,
    param: str | None,
    value: Any,
    fixed: Mapping[str, Any],
    row: int,
    column: int,
) -> Cell:
    spec = catalog.spec(model)
    position = (row, column, model, seed, param, value)
    if param is not None and not spec.has(param):
        return Cell(*position, kind=NOT_APPLICABLE, input=None, problem=f"{model} has no {param}")
    notes: list[str] = []
    wanted: dict[str, Any] = {"prompt": prompt}
    for name, fixed_value in fixed.items():
        if spec.has(name):
            wanted[name] = fixed_value
        else:
            notes.append(f"{name} left out ({model} has no {name})")
    if seed is not None:
        if spec.has("seed"):
            wanted["seed"] = seed
        else:
            notes.append(NO_SEED_NOTE)
    if param is not None:
        wanted[param] = value
    try:
        clean = spec.validate(wanted)
    except ValidationError as exc:
        return Cell(*position, kind=REJECTED, input=wanted, problem=str(exc), notes=notes)
    return Cell(*position, kind="run", input=clean, notes=notes, run=Run(model, clean))


# --- running ------------------------------------------------------------------------------------


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
        self._future: concurrent.futures.Future[None] | None = None
        for index, cell in enumerate(self.plan.cells):
            if cell.run is not None:
                cell.run.observe(functools.partial(self._changed, index))

    # --- reading --------------------------------------------------------------------------------

    @property
    def prompt(self) -> str:
        """The prompt every cell uses."""
        return self.plan.prompt

    @property
    def cells(self) -> list[Cell]:
        """Every cell, row by row."""
        return list(self.plan.cells)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns) of the grid."""
        return self.plan.shape

    @property
    def row_labels(self) -> list[str]:
        """Row labels, top to bottom."""
        return list(self.plan.row_labels)

    @property
    def column_labels(self) -> list[str]:
        """Column labels, left to right."""
        return list(self.plan.column_labels)

    def cell(self, row: int, column: int) -> Cell:
        """The cell at ``(row, column)``."""
        return self.plan.cell(row, column)

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
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=RECORD_FIELDS)
            writer.writeheader()
            for record in self.records():
                writer.writerow({name: _csv_text(name, record[name]) for name in RECORD_FIELDS})
        return target

    # --- running --------------------------------------------------------------------------------

    def start(self, *, runner: Runner | None = None) -> Comparison:
        """Schedule every runnable cell on the background runner (once); returns self.

        Without a client given at construction, one is made from the configuration (and
        closed when the comparison ends); a blocking ``mw.Client`` is used through its twin.
        """
        if self._future is not None:
            raise RuntimeError("this comparison was already started")
        # None here is "no history" (compare() resolved the standard one already).
        history = self.history if self.history is not None else False
        launcher = Launcher(self._client, history, runner=runner)
        self._future = launcher.runner.submit(self._run_all(launcher), on_error=self._crashed)
        self._future.add_done_callback(lambda _: self._refresh_summary())
        return self

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
            raise RuntimeError("this comparison was never started")
        from .runner import get_runner

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
        """What each position of the contact sheet shows (image, caption, or message)."""
        from .contact_sheet import SheetCell
        from .images import decode_image

        rows, columns = self.shape
        grid: list[list[SheetCell]] = []
        for row in range(rows):
            line: list[SheetCell] = []
            for column in range(columns):
                cell = self.cell(row, column)
                view = _describe(cell)
                image = None
                if cell.image_bytes:
                    try:
                        image = decode_image(cell.image_bytes[0])
                    except Exception as exc:  # a broken image becomes text, not a broken sheet
                        view = {**view, "message": f"image cannot be shown: {exc}", "tone": "error"}
                message = view["message"]
                if cell.status == NOT_APPLICABLE:
                    message = f"n/a\n({message})" if message else "n/a"
                line.append(
                    SheetCell(
                        image=image,
                        caption=" · ".join(p for p in (view["status"], view["detail"]) if p),
                        message=message,
                        tone=view["tone"],
                    )
                )
            grid.append(line)
        return grid

    def save_sheet(self, path: str | Path, *, cell_size: int = 256) -> Path:
        """Write a labelled contact sheet (PNG or JPEG, by extension); returns the path.

        The prompt is the title, models/seeds label the rows, the compared values the columns;
        cells without an image show "n/a", the error, or their status if still running.
        """
        from .contact_sheet import render_contact_sheet, save_contact_sheet

        sheet, _ = render_contact_sheet(
            self.prompt,
            self.row_labels,
            self.column_labels,
            self.sheet_cells(),
            cell_size=cell_size,
        )
        return save_contact_sheet(sheet, path)

    # --- display --------------------------------------------------------------------------------

    @property
    def widget(self) -> ComparisonGrid:
        """The grid widget (built on first use, then kept up to date from the runner)."""
        with self._lock:
            if self._widget is None:
                from .widgets.grid import ComparisonGrid

                self._widget = ComparisonGrid(
                    self.prompt,
                    self.row_labels,
                    self.column_labels,
                    subtitle=self.subtitle,
                    on_cancel=self.cancel,
                )
                for index in range(len(self.plan.cells)):
                    self._render(index)
                self._refresh_summary()
            return self._widget

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The grid widget's bundle, with this comparison's own short text form."""
        bundle = self.widget._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        if isinstance(data, dict):
            data["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        rows, columns = self.shape
        return f"<Comparison {rows}×{columns} {self.summary()}>"

    def _changed(self, index: int, _run: Run | None = None) -> None:
        with self._lock:
            if self._widget is not None:
                self._render(index)
                self._refresh_summary()

    def _refresh_summary(self) -> None:
        with self._lock:
            if self._widget is not None:
                running = self._future is not None and not self._future.done() and not self.done
                with self._widget.hold_sync():
                    self._widget.set_summary(self.summary())
                    self._widget.set_running(running)

    def _render(self, index: int) -> None:
        assert self._widget is not None
        self._widget.set_cell(*divmod(index, self.shape[1]), self._cell_view(index))

    def _cell_view(self, index: int) -> CellView:
        from .widgets.grid import CellView

        cell = self.plan.cells[index]
        view = _describe(cell)
        image = None
        made = cell.run.thumbnails if cell.run is not None else []
        if made and made[0] is not None:
            image = made[0]  # made off the runner loop when the run completed
        elif cell.image_count:
            if index not in self._thumbnails:
                from .images import thumbnail

                try:
                    self._thumbnails[index] = thumbnail(cell.image_bytes[0], max_side=384)
                except Exception as exc:
                    view = {**view, "message": f"image cannot be shown: {exc}", "tone": "error"}
            image = self._thumbnails.get(index)
        return CellView(
            status=view["status"],
            detail=view["detail"],
            message=view["message"],
            tone=view["tone"],
            image=image,
        )


def _describe(cell: Cell) -> dict[str, str]:
    """Status word, detail line, message and tone of a cell (shared by the grid and sheet)."""
    status = cell.status
    details = []
    if cell.seconds is not None and status != QUEUED:
        details.append(f"{cell.seconds:.1f} s")
    if cell.image_count > 1:
        details.append(f"{cell.image_count} images")
    if cell.note:
        details.append(cell.note)
    detail = " · ".join(details)
    if status == NOT_APPLICABLE:
        return {
            "status": NOT_APPLICABLE,
            "detail": detail,
            "message": cell.problem or "",
            "tone": "muted",
        }
    if status == REJECTED:
        return {"status": REJECTED, "detail": detail, "message": cell.error or "", "tone": "error"}
    if status == "completed":
        return {"status": status, "detail": detail, "message": "", "tone": "ok"}
    if status in DONE_STATUSES:
        return {"status": status, "detail": detail, "message": cell.error or "", "tone": "error"}
    return {"status": status, "detail": detail, "message": "", "tone": "muted"}


# --- CSV ----------------------------------------------------------------------------------------


#: First characters that make a spreadsheet treat a cell as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: The mark that keeps a cell text; text starting with it is marked too, so unmarking is exact.
_TEXT_MARK = "'"


def _csv_text(name: str, value: Any) -> str:
    """The CSV cell for one record field: numbers as numbers, anything else as safe text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return json.dumps(value)
    if name != "params" and isinstance(value, int | float):
        return str(value)
    if name == "params" or not isinstance(value, str):
        return _as_text_cell(json.dumps(value, ensure_ascii=False, sort_keys=False))
    return _as_text_cell(value)


def _as_text_cell(text: str) -> str:
    """``text`` with a leading ``'`` when a spreadsheet could run it, or it starts with ``'``."""
    if text.startswith((*_FORMULA_STARTS, _TEXT_MARK)):
        return _TEXT_MARK + text
    return text


def _from_text_cell(cell: str) -> str:
    """The text :func:`_as_text_cell` was given (numbers never start with the mark)."""
    return cell[len(_TEXT_MARK) :] if cell.startswith(_TEXT_MARK) else cell


def _typed_value(param: str, models: Iterable[str], text: str) -> Any:
    """Turn the CSV text of a varied value back into its type, using the catalog's types."""
    for model in [*models, *catalog]:
        spec = catalog.spec(model)
        if spec.has(param):
            kind = spec.param(param).type
            break
    else:
        kind = "string"
    if kind in ("integer", "boolean") or (kind == "string|object" and text.startswith("{")):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def read_csv(path: str | Path) -> list[dict[str, Any]]:
    """Read a file written by :meth:`Comparison.to_csv` back into records (typed again)."""
    records: list[dict[str, Any]] = []
    with Path(path).open(newline="", encoding="utf-8") as handle:
        for cells in csv.DictReader(handle):
            raw = {name: _from_text_cell(cells.get(name) or "") for name in RECORD_FIELDS}
            record: dict[str, Any] = {name: (raw.get(name) or None) for name in RECORD_FIELDS}
            record["row"] = int(raw["row"])
            record["column"] = int(raw["column"])
            record["seed"] = int(raw["seed"]) if raw.get("seed") else None
            record["seconds"] = float(raw["seconds"]) if raw.get("seconds") else None
            record["params"] = json.loads(raw["params"]) if raw.get("params") else None
            record["note"] = raw.get("note") or ""
            if record["param"] and raw.get("value"):
                record["value"] = _typed_value(record["param"], [record["model"]], raw["value"])
            records.append(record)
    return records


# --- the public entry point ---------------------------------------------------------------------


def compare(
    prompt: str,
    *,
    models: Sequence[str] | None = None,
    seeds: Sequence[int | None] | int | None = None,
    vary: Mapping[str, Sequence[Any]] | None = None,
    client: AsyncClient | Client | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    params: Mapping[str, Any] | None = None,
    history: History | bool | None = None,
) -> Comparison:
    """Run ``prompt`` on every model × seed × varied value, at most ``concurrency`` at a time.

    ``models`` defaults to the four text-to-image models, ``seeds`` to one unseeded run,
    ``vary`` is ``{"param": [values]}`` for exactly one parameter, ``params`` fixes other
    parameters for every cell, ``history`` is where runs and images are journalled (the
    standard history by default; ``False`` for none). Returns at once with a
    :class:`Comparison`: display it to see the grid fill in, or call ``.wait()``. Without a
    client, the configured hub is used (the offline simulator when no ``MOUNTSEA_API_KEY`` is
    set); ``client`` may be an ``mw.AsyncClient`` or a blocking ``mw.Client``. See the module
    docs for the layout and for parameters a model does not have.
    """
    layout = plan(prompt, models=models, seeds=seeds, vary=vary, params=params)
    _check_concurrency(concurrency)
    check_client(client)
    subtitle = ""
    if client is None:
        from .config import settings

        subtitle = settings().label
    from .history import open_history

    comparison = Comparison(
        layout,
        client=client,
        concurrency=concurrency,
        history=open_history(history),
        subtitle=subtitle,
    )
    comparison.start()
    return comparison
