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
from ..errors import Problem, ValidationError
from ..run import FINAL_STATUSES, Run
from ._prompts import Prompt, PromptFileError, fill, placeholders, source_of

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
    "prompt",
    "y_param",
    "y_value",
    "z_param",
    "z_value",
    "page",
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
    #: The prompt sent (a template filled in), or the prompt of an "n/a" cell.
    prompt: str = ""
    #: The second varied axis (rows), when ``vary`` has two entries.
    y_param: str | None = None
    y_value: Any = None
    #: The third varied axis (pages of the grid), when ``vary`` has three entries.
    z_param: str | None = None
    z_value: Any = None
    #: Which page of the grid the cell is on (0 without a third axis).
    page: int = 0

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
            "prompt": str(self.prompt),
            "y_param": self.y_param,
            "y_value": self.y_value,
            "z_param": self.z_param,
            "z_value": self.z_value,
            "page": self.page,
        }


@dataclass
class Plan:
    """The grid before anything runs: labels, and every cell with its input (or why none).

    ``prompt`` is the title: the one prompt (or template), or "N prompts". ``param`` /
    ``values`` are the first varied axis (columns), ``y_param`` / ``y_values`` the second,
    ``z_param`` / ``z_values`` the third: each of its values is one page of rows × columns
    (``page_labels``). ``cells`` are page by page, each page row by row.
    """

    prompt: str
    models: list[str]
    seeds: list[int | None]
    param: str | None
    values: list[Any]
    row_labels: list[str]
    column_labels: list[str]
    cells: list[Cell]
    prompts: list[str] = field(default_factory=list)
    y_param: str | None = None
    y_values: list[Any] = field(default_factory=list)
    z_param: str | None = None
    z_values: list[Any] = field(default_factory=list)
    page_labels: list[str] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns) of one page."""
        return len(self.row_labels), len(self.column_labels)

    @property
    def pages(self) -> int:
        """How many pages the grid has (the values of the third axis; 1 without one)."""
        return max(1, len(self.page_labels))

    def cell(self, row: int, column: int, page: int = 0) -> Cell:
        """The cell at ``(row, column)`` of page ``page``."""
        rows, columns = self.shape
        if not (0 <= row < rows and 0 <= column < columns and 0 <= page < self.pages):
            where = f" on page {page} of {self.pages}" if page else ""
            raise IndexError(f"no cell ({row}, {column}){where} in a {rows}×{columns} grid")
        return self.cells[(page * rows + row) * columns + column]

    def page_cells(self, page: int) -> list[Cell]:
        """The cells of page ``page``, row by row."""
        rows, columns = self.shape
        size = rows * columns
        return self.cells[page * size : (page + 1) * size]


def _as_list(name: str, values: Any) -> list[Any]:
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
        raise ValueError(f"{name} must be a list, got {values!r}")
    items = list(values)
    if not items:
        raise ValueError(f"{name} must not be empty")
    return items


#: How many entries ``vary`` takes: the columns (X), the rows (Y), then the pages (Z).
MAX_VARIED = 3
#: Row labels show this many characters of a prompt (the records keep it whole).
PROMPT_LABEL_CHARS = 48


@dataclass(frozen=True, eq=False)  # hashed by identity: a cell maps each axis to its value
class Axis:
    """One varied entry: a parameter, or a placeholder of the prompt template."""

    name: str
    values: list[Any]
    placeholder: bool

    def label(self, value: Any) -> str:
        """The label of one value, e.g. ``aspect_ratio = 16:9``."""
        return f"{self.name} = {format_value(value)}"


def _prompt_list(prompt: str | None, prompts: Sequence[str] | None) -> list[str]:
    if prompts is None:
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValueError("prompt must be a non-empty string")
        return [prompt]
    if prompt is not None:
        raise ValueError("give either one prompt or prompts=[...], not both")
    if isinstance(prompts, str | Path):
        raise ValueError(
            "prompts must be a list of prompts; read a file with mw.read_prompts(path, column=...)"
        )
    items = _as_list("prompts", prompts)
    for index, item in enumerate(items):
        if not isinstance(item, str) or not item.strip():
            where = source_of(item) if isinstance(item, str) else ""
            raise ValueError(
                f"prompts[{index}]{f' ({where})' if where else ''} must be a non-empty string, "
                f"got {item!r}"
            )
    return items


def _axes(vary: Mapping[str, Sequence[Any]] | None, prompts: Sequence[str]) -> list[Axis]:
    if vary is None or (isinstance(vary, Mapping) and not vary):
        return []
    if not isinstance(vary, Mapping) or len(vary) > MAX_VARIED:
        count = len(vary) if isinstance(vary, Mapping) else "not a dict"
        raise ValueError(
            "vary takes one to three entries (the columns X, the rows Y, then the pages Z) and "
            "their values, e.g. vary={'aspect_ratio': ['1:1', '16:9'], 'quality': ['low', "
            f"'high'], 'seed': [1, 2]}} (got {count}); compare more by running several grids, "
            "or put prompts in prompts=[...]"
        )
    named = {name for text in prompts for name in placeholders(text)}
    axes: list[Axis] = []
    for name, values in vary.items():
        if name == "prompt":
            raise ValueError(
                "vary cannot change the prompt; give several prompts as prompts=[...] (or "
                "mw.read_prompts(path)), or a template such as 'a {animal}' with "
                "vary={'animal': [...]}"
            )
        key = str(name)
        axes.append(Axis(key, _as_list(f"vary[{key!r}]", values), key in named))
    return axes


def _check_templates(prompts: Sequence[str], axes: Sequence[Axis]) -> bool:
    """Whether the prompts are templates (``vary`` fills a placeholder); refuses a template
    with a placeholder ``vary`` leaves empty."""
    filled = {axis.name for axis in axes if axis.placeholder}
    if not filled:
        return False
    for text in prompts:
        missing = [name for name in placeholders(text) if name not in filled]
        if missing:
            where = source_of(text)
            raise ValueError(
                f"the prompt {text!r}{f' ({where})' if where else ''} has the placeholder "
                f"{{{missing[0]}}}, which vary gives no values for; add vary={{{missing[0]!r}: "
                f"[...]}}, or write {{{{{missing[0]}}}}} for literal braces"
            )
    return True


def _known_to_some(name: str, models: Sequence[str], what: str, hint: str = "") -> None:
    """ValueError (with a suggestion) when no model of the comparison has parameter ``name``."""
    names = sorted({p for m in models for p in catalog.spec(m).names})
    if name in names:
        return
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    suggestion = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"{what} {name!r} is not a parameter of any compared model ({', '.join(models)})"
        f"{suggestion}{hint}"
    )


def _check_row_params(prompts: Sequence[str], models: Sequence[str], axes: Sequence[Axis]) -> None:
    """Refuse, naming the file and column, a row parameter no model has or that is varied."""
    varied = {axis.name for axis in axes}
    seen: set[tuple[str | None, str]] = set()
    for text in prompts:
        if not isinstance(text, Prompt):
            continue
        for name in text.params:
            if (text.file, name) in seen:
                continue
            seen.add((text.file, name))
            file = text.file or "prompts"
            if name == "prompt" or name in varied:
                what = "the prompt" if name == "prompt" else "varied"
                raise PromptFileError(
                    f"{file}: the column {name!r} is also {what}; leave it out of params=",
                    file=file,
                    row=text.row,
                    parameter=name,
                )
            try:
                _known_to_some(name, models, "column")
            except ValueError as exc:
                raise PromptFileError(
                    f"{file}: {exc}", file=file, row=text.row, parameter=name
                ) from None


def plan(
    prompt: str | None = None,
    *,
    prompts: Sequence[str] | None = None,
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
    cannot be laid out (unknown model, four varied entries, a parameter no model has…), and
    :class:`PromptFileError` when a model refuses a value a prompt file's row gives.
    Problems of single cells do not raise: they become "n/a" or "rejected" cells.
    """
    prompt_list = _prompt_list(prompt, prompts)
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
    axes = _axes(vary, prompt_list)
    templated = _check_templates(prompt_list, axes)
    # Images given as PIL images, Paths or bytes become data URIs once, for every cell.
    fixed = prepare_input("compare", dict(params or {}))
    if "prompt" in fixed:
        raise ValueError("give the prompt as the first argument, not in params")
    found = sorted({name for text in prompt_list for name in placeholders(text)})
    hint = f", nor a placeholder of the prompt ({', '.join(found)})" if found else ""
    for axis in axes:
        if axis.placeholder:
            continue
        _known_to_some(axis.name, model_ids, "vary parameter", hint)
        if axis.name in fixed:
            raise ValueError(f"{axis.name!r} is both varied and fixed in params; choose one")
        if axis.name == "seed" and seed_list != [None]:
            raise ValueError("give seeds either as seeds=[...] or as vary={'seed': [...]}")
    if "seed" in fixed:
        raise ValueError("give the seed as seeds=[...], not in params")
    for name in fixed:
        _known_to_some(name, model_ids, "params entry")
    _check_row_params(prompt_list, model_ids, axes)

    x_axis = axes[0] if axes else None
    y_axis = axes[1] if len(axes) > 1 else None
    z_axis = axes[2] if len(axes) > 2 else None
    seeds_in_rows = x_axis is not None and len(seed_list) > 1
    # (prompt, model, y value, seed or None when seeds go in columns)
    rows: list[tuple[str, str, Any, int | None]] = []
    row_labels: list[str] = []
    for text in prompt_list:
        for model in model_ids:
            has_seed = catalog.spec(model).has("seed")
            for y_value in y_axis.values if y_axis is not None else [None]:
                for seed in seed_list if seeds_in_rows else [None]:
                    rows.append((text, model, y_value, seed))
                    lines = [_prompt_label(text)] if len(prompt_list) > 1 else []
                    lines.append(model)
                    if y_axis is not None:
                        lines.append(y_axis.label(y_value))
                    if seeds_in_rows:
                        suffix = "" if has_seed else " (model has no seed)"
                        lines.append(f"{_seed_label(seed)}{suffix}")
                    row_labels.append("\n".join(lines))
    columns: list[tuple[int | None, Any]]  # (seed, value)
    if x_axis is None:
        columns = [(seed, None) for seed in seed_list]
        column_labels = [_seed_label(seed) for seed in seed_list]
    else:
        single_seed = seed_list[0] if not seeds_in_rows else None
        columns = [(single_seed, value) for value in x_axis.values]
        column_labels = [x_axis.label(value) for value in x_axis.values]

    cells: list[Cell] = []
    refusals: list[tuple[Prompt, str, Problem]] = []
    z_values = z_axis.values if z_axis is not None else [None]
    for page, z_value in enumerate(z_values):
        for row, (text, model, y_value, row_seed) in enumerate(rows):
            for column, (column_seed, x_value) in enumerate(columns):
                seed = row_seed if seeds_in_rows else column_seed
                values = {x_axis: x_value, y_axis: y_value, z_axis: z_value}
                chosen = {axis: value for axis, value in values.items() if axis is not None}
                filled = {a.name: v for a, v in chosen.items() if a.placeholder}
                sent = fill(text, filled) if templated else str(text)
                cell = _plan_cell(
                    _Choice(text, sent, model, seed, chosen, (x_axis, y_axis, z_axis)),
                    fixed,
                    (page, row, column),
                    refusals,
                    strict,
                )
                cells.append(cell)
    if refusals:
        _refuse_rows(refusals)
    return Plan(
        prompt=_title(prompt_list),
        models=model_ids,
        seeds=seed_list,
        param=x_axis.name if x_axis is not None else None,
        values=list(x_axis.values) if x_axis is not None else [],
        row_labels=row_labels,
        column_labels=column_labels,
        cells=cells,
        prompts=[str(text) for text in prompt_list],
        y_param=y_axis.name if y_axis is not None else None,
        y_values=list(y_axis.values) if y_axis is not None else [],
        z_param=z_axis.name if z_axis is not None else None,
        z_values=list(z_axis.values) if z_axis is not None else [],
        page_labels=[z_axis.label(v) for v in z_axis.values] if z_axis is not None else [],
    )


def _title(prompts: Sequence[str]) -> str:
    if len(prompts) == 1:
        return str(prompts[0])
    files = sorted({text.file for text in prompts if isinstance(text, Prompt) and text.file})
    source = f" from {', '.join(files)}" if files else ""
    return f"{len(prompts)} prompts{source}"


def _prompt_label(text: str) -> str:
    flat = " ".join(str(text).split())
    if len(flat) > PROMPT_LABEL_CHARS:
        flat = flat[: PROMPT_LABEL_CHARS - 1] + "…"
    return flat


def _refuse_rows(refusals: list[tuple[Prompt, str, Problem]]) -> None:
    lines = [f"{given.source}: {model} refuses {problem}" for given, model, problem in refusals]
    shown = lines[:10]
    more = f"\n  … and {len(lines) - len(shown)} more" if len(lines) > len(shown) else ""
    noun = "row is" if len(lines) == 1 else "rows are"
    given, _, problem = refusals[0]
    raise PromptFileError(
        f"{len(lines)} prompt {noun} refused by a model; nothing was sent. Fix the rows, or "
        "leave those models out:\n" + "\n".join(f"  - {line}" for line in shown) + more,
        file=given.file or "prompts",
        row=given.row,
        parameter=problem.param,
    )


@dataclass(frozen=True)
class _Choice:
    """What one cell asks for: its prompt (as given and as sent), model, seed, axis values."""

    given: str
    prompt: str
    model: str
    seed: int | None
    values: dict[Axis, Any]
    #: The columns' (X), rows' (Y) and pages' (Z) axes (None where not varied).
    axes: tuple[Axis | None, Axis | None, Axis | None]


def _plan_cell(
    choice: _Choice,
    fixed: Mapping[str, Any],
    where: tuple[int, int, int],
    refusals: list[tuple[Prompt, str, Problem]],
    strict: bool = True,
) -> Cell:
    model, seed = choice.model, choice.seed
    spec = catalog.spec(model)
    page, row, column = where
    x_axis, y_axis, z_axis = choice.axes
    position = (
        row,
        column,
        model,
        seed,
        x_axis.name if x_axis is not None else None,
        choice.values.get(x_axis) if x_axis is not None else None,
    )
    extra: dict[str, Any] = {
        "prompt": choice.prompt,
        "y_param": y_axis.name if y_axis is not None else None,
        "y_value": choice.values.get(y_axis) if y_axis is not None else None,
        "z_param": z_axis.name if z_axis is not None else None,
        "z_value": choice.values.get(z_axis) if z_axis is not None else None,
        "page": page,
    }
    varied = {a.name: v for a, v in choice.values.items() if not a.placeholder}
    for name in varied:
        if not spec.has(name):
            return Cell(
                *position,
                kind=NOT_APPLICABLE,
                input=None,
                problem=f"{model} has no {name}",
                **extra,
            )
    notes: list[str] = []
    wanted: dict[str, Any] = {"prompt": choice.prompt}
    row_params = choice.given.params if isinstance(choice.given, Prompt) else {}
    # A row's own value overrides the comparison's fixed one (the row is more specific).
    for name, fixed_value in {**fixed, **row_params}.items():
        if spec.has(name):
            wanted[name] = fixed_value
        else:
            notes.append(f"{name} left out ({model} has no {name})")
    if seed is not None and "seed" not in row_params:
        if spec.has("seed"):
            wanted["seed"] = seed
        else:
            notes.append(NO_SEED_NOTE)
    wanted.update(varied)
    try:
        checked = check_input(spec, wanted, strict=strict)
    except ValidationError as exc:
        given = choice.given
        from_row = [p for p in exc.problems if p.param in row_params or p.param == "prompt"]
        if isinstance(given, Prompt) and given.file:
            refusals += [(given, model, problem) for problem in from_row]
        return Cell(*position, kind=REJECTED, input=wanted, problem=str(exc), notes=notes, **extra)
    notes += [f"{name} sent unchecked" for name in checked.names]
    run = Launcher.new_run(model, checked.input, unchecked=checked.unchecked)
    return Cell(*position, kind="run", input=checked.input, notes=notes, run=run, **extra)
