"""Planning a comparison: which cells the grid has, what each asks for, and which are sent.

See :mod:`mountsea_widgets.comparison` for the layout and for parameters a model does not have.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._image_input import prepare_input
from .._launch import Launcher
from .._unchecked import check_input
from ..catalog import catalog
from ..errors import ValidationError
from ..run import FINAL_STATUSES, Run

if TYPE_CHECKING:
    from .._cost import Estimate

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
    "estimated_cost",
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


def _amount(estimate: Estimate | None) -> float | None:
    if estimate is None or estimate.amount is None:
        return None
    return round(estimate.amount, 6)


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

    @property
    def estimate(self) -> Estimate | None:
        """What this cell's run is estimated to cost (None when nothing is sent)."""
        if self.kind != "run" or self.input is None:
            return None
        from .._cost import estimate_input

        return estimate_input(self.model, self.input)

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
            # Dollars at the upstream list prices (None: nothing sent, or no known price).
            "estimated_cost": _amount(self.estimate),
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
    strict: bool = True,
) -> Plan:
    """Lay out the grid and build (and validate) every cell's input; nothing is sent.

    ``strict=False``: a value a model's catalog refuses is sent all the same (the cell's run
    sends it unchecked and says so) instead of making the cell "rejected".

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
            cells.append(_plan_cell(prompt, model, seed, param, value, fixed, row, column, strict))
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
    strict: bool = True,
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
        checked = check_input(spec, wanted, strict=strict)
    except ValidationError as exc:
        return Cell(*position, kind=REJECTED, input=wanted, problem=str(exc), notes=notes)
    notes += [f"{name} sent unchecked" for name in checked.names]
    run = Launcher.new_run(model, checked.input, unchecked=checked.unchecked)
    return Cell(*position, kind="run", input=checked.input, notes=notes, run=run)
