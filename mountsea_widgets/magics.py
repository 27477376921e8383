"""IPython magics: ``%%mountsea MODEL [--param value ...]`` and ``%mountsea_models``.

>>> %load_ext mountsea_widgets                                          # doctest: +SKIP
>>> %%mountsea nano-banana --seed 7 --aspect_ratio 16:9                 # doctest: +SKIP
... a lighthouse at dusk, oil painting

The cell body is the prompt. Each ``--param value`` is converted with the type the catalog
gives that parameter: integers, ``true``/``false`` for booleans, JSON (or ``WIDTHxHEIGHT``) for
a custom ``image_size``, presets as plain strings, ``--image_urls`` repeated or comma
separated. An ``--image_urls`` (or ``--mask_url``) value that is the path of an existing local
image file, relative to the kernel's working folder, is sent as a data URI; anything else must
be an http(s) URL or a data URI. A live task cell shows the run; the magic returns the
:class:`Result`, so ``_`` and ``Out[n]`` hold it.

Errors in the magic line (unknown model, unknown flag, a value the model refuses) raise
IPython's ``UsageError``: the notebook shows the catalog's message — which parameter, what is
allowed, a did-you-mean for typos — with no traceback, and nothing is sent. A generation that
fails on the hub is shown in the task cell and on stderr, and the magic returns ``None``.
"""

from __future__ import annotations

import html
import json
import re
import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ._image_input import to_reference
from .catalog import ModelSpec, ParamSpec, catalog
from .errors import ImageError, Problem, ValidationError

if TYPE_CHECKING:
    from .client import AsyncClient
    from .history import HistoryChoice
    from .result import Result

USAGE = "usage: %%mountsea MODEL [--param value ...]  (the cell body is the prompt)"
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})
_INTEGER = re.compile(r"^[+-]?\d+$")
_SIZE = re.compile(r"^(\d+)\s*[x×]\s*(\d+)$", re.IGNORECASE)
_URL_OR_DATA = re.compile(r"^(https?://|data:)", re.IGNORECASE)

#: Makes the client each ``%%mountsea`` cell uses; None means the configured hub (or the
#: offline simulator). Set it to point the magic at another hub or client (tests do).
client_factory: Callable[[], AsyncClient] | None = None


# --- parsing the magic line -----------------------------------------------------------------------


def _convert(spec: ParamSpec, text: str) -> tuple[Any, Problem | None]:
    """``text`` as the value type of ``spec``: ``(value, None)`` or ``(None, problem)``.

    Text that does not convert is passed on unchanged, so the catalog reports it with its own
    message (e.g. "'abc' is not an integer"); only JSON that does not parse is a problem here.
    """
    stripped = text.strip()
    if spec.type == "integer":
        return (int(stripped) if _INTEGER.match(stripped) else text), None
    if spec.type == "boolean":
        lowered = stripped.lower()
        if lowered in _TRUE:
            return True, None
        if lowered in _FALSE:
            return False, None
        return text, None
    if spec.type == "string|object":
        if stripped.startswith("{"):
            try:
                return json.loads(stripped), None
            except ValueError as exc:
                return None, Problem(spec.name, f"is not valid JSON ({exc})", text, spec.allowed)
        size = _SIZE.match(stripped)
        if size:
            return {"width": int(size.group(1)), "height": int(size.group(2))}, None
    return text, None


def _split_urls(text: str) -> list[str]:
    # data: URIs contain a comma of their own, so only plain URL lists are split; so is a file
    # name with a comma in it.
    stripped = text.strip()
    if stripped.lower().startswith("data:") or _is_file(stripped):
        return [stripped]
    return [part.strip() for part in text.split(",") if part.strip()]


def _is_file(text: str) -> bool:
    try:
        return bool(text) and Path(text).expanduser().is_file()
    except (OSError, ValueError):  # a name too long or with a NUL byte is not a file here
        return False


def _image_value(spec: ParamSpec, text: str, problems: list[Problem]) -> str:
    """An image for ``--image_urls``/``--mask_url``: a URL or data URI as written, and the path
    of an existing local file (relative to the kernel's working folder) as a data URI."""
    if _URL_OR_DATA.match(text):
        return text
    if _is_file(text):
        try:
            return to_reference(Path(text))
        except ImageError as exc:
            problems.append(Problem(spec.name, f"{text!r}: {exc}", text, spec.allowed))
            return text
    problems.append(
        Problem(
            spec.name,
            f"{text!r} is neither an http(s) URL, a data:image URI nor an existing image file",
            text,
            spec.allowed,
        )
    )
    return text


def parse_line(line: str) -> tuple[ModelSpec, dict[str, Any]]:
    """Split ``MODEL --param value ...`` into the model's spec and typed parameters.

    Raises :class:`ValidationError` (unknown model, a flag without a value, a flag given twice,
    JSON that does not parse) and ValueError (unbalanced quotes, no model). Values are not
    range-checked here; the catalog does that (see :func:`build_input`).
    """
    try:
        tokens = shlex.split(line)
    except ValueError as exc:
        raise ValueError(f"cannot read the magic line ({exc}); {USAGE}") from None
    if not tokens or tokens[0].startswith("-"):
        raise ValueError(f"no model given; {USAGE}")
    spec = catalog.spec(tokens[0])
    params: dict[str, Any] = {}
    problems: list[Problem] = []
    index = 1
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if not token.startswith("--") or len(token) == 2:
            problems.append(
                Problem(
                    "line",
                    f"unexpected {token!r}: parameters are written --name value",
                    token,
                    "--" + " --".join(spec.names),
                )
            )
            continue
        name, has_inline, inline = token[2:].partition("=")
        name = name.replace("-", "_")
        param = spec.param(name) if spec.has(name) else None
        if has_inline:
            text: str | None = inline
        elif index < len(tokens) and not tokens[index].startswith("--"):
            text = tokens[index]
            index += 1
        else:
            text = None
        if text is None:
            if param is not None and param.type == "boolean":
                text = "true"  # a bare --sync_mode switches it on
            else:
                allowed = param.allowed if param is not None else ""
                problems.append(Problem(name, "needs a value", None, allowed))
                continue
        if param is None:
            params[name] = text  # the catalog names it as unknown, with a did-you-mean
            continue
        if param.type == "array<string>":
            params.setdefault(name, [])
            params[name].extend(_image_value(param, url, problems) for url in _split_urls(text))
            continue
        if name in params:
            problems.append(Problem(name, "is given twice", text, param.allowed))
            continue
        if param.type == "url":
            params[name] = _image_value(param, text.strip(), problems)
            continue
        value, problem = _convert(param, text)
        if problem is not None:
            problems.append(problem)
        else:
            params[name] = value
    if "prompt" in params:
        problems.append(Problem("prompt", "is the cell body, not a --flag", params.pop("prompt")))
    if problems:
        raise ValidationError(spec.id, problems)
    return spec, params


def build_input(line: str, cell: str) -> tuple[str, dict[str, Any]]:
    """The model id and the validated input for a ``%%mountsea`` cell (nothing is sent).

    Raises :class:`ValidationError` or ValueError with a message fit to show as is.
    """
    prompt = cell.strip()
    spec, params = parse_line(line)
    if not prompt:
        raise ValueError(f"the cell body is the prompt, and it is empty; {USAGE}")
    return spec.id, spec.validate({"prompt": prompt, **params})


# --- the magics ---------------------------------------------------------------------------------


def mountsea(line: str, cell: str, *, history: HistoryChoice = None) -> Result | None:
    """``%%mountsea MODEL [--param value ...]``: generate from the cell body; returns the Result.

    Blocks until the run ends while a live task cell shows its progress; an interrupt (the
    stop button) stops waiting and raises KeyboardInterrupt naming the task, so cells queued
    after this one do not run. Usage errors raise ``UsageError`` (shown without a traceback).
    """
    from IPython.display import HTML, display

    from ._config import settings
    from ._launch import Launcher
    from .run import interrupted
    from .widgets.task_cell import TaskCell

    try:
        model, input = build_input(line, cell)
    except (ValidationError, ValueError) as exc:
        raise UsageError(str(exc)) from None

    if client_factory is not None:  # the client it makes is this cell's: closed when it ends
        launcher = Launcher(client_factory(), history, close_client=True)
    else:
        launcher = Launcher(None, history)  # polls around the measured durations
        if launcher.offline:
            display(HTML(f'<div style="color:#6b7280">{html.escape(settings().label)}</div>'))
    run = launcher.new_run(model, input)
    display(TaskCell(run))
    future = launcher.start(run)
    future.add_done_callback(lambda _done: launcher.close())
    try:
        run.wait()
    except KeyboardInterrupt:
        run.cancel()
        run.wait(5.0)
        # Raised again, naming the task: the kernel then drops the cells queued after this
        # one (Run All), which would otherwise go on and generate (and bill) more.
        raise interrupted(run) from None
    if run.status == "completed" and run.result is not None:
        return run.result
    print(f"mountsea: {model} run {run.status}: {run.error or 'no reason given'}", file=sys.stderr)
    return None


@dataclass(frozen=True)
class ModelTable:
    """The parameters of some models, shown as an HTML table (or text outside a notebook)."""

    models: tuple[ModelSpec, ...]

    def rows(self) -> list[tuple[str, str, str, str, str]]:
        """(model, parameter, type, default, allowed) for every parameter of every model."""
        rows = []
        for spec in self.models:
            for param in spec.params:
                default = "" if param.default is None else json.dumps(param.default)
                allowed = param.allowed
                if param.required:
                    allowed = "required; " + allowed
                if param.unavailable:
                    allowed = f"not available: {param.unavailable}"
                rows.append((spec.id, param.name, param.type, default, allowed))
        return rows

    def _repr_html_(self) -> str:
        escape = html.escape
        parts = ['<table class="mountsea-models">']
        parts.append(
            "<thead><tr><th>model</th><th>parameter</th><th>type</th><th>default</th>"
            "<th>allowed</th></tr></thead><tbody>"
        )
        last = None
        for model, name, kind, default, allowed in self.rows():
            shown = f"<b>{escape(model)}</b>" if model != last else ""
            last = model
            parts.append(
                f"<tr><td>{shown}</td><td><code>{escape(name)}</code></td><td>{escape(kind)}</td>"
                f"<td>{escape(default)}</td><td style='text-align:left'>{escape(allowed)}</td></tr>"
            )
        parts.append("</tbody></table>")
        return "".join(parts)

    def __repr__(self) -> str:
        header = ("model", "parameter", "type", "default", "allowed")
        rows = [header, *self.rows()]
        widths = [max(len(row[i]) for row in rows[:]) for i in range(4)]
        lines = []
        for row in rows:
            cells = [row[i].ljust(widths[i]) for i in range(4)]
            lines.append("  ".join([*cells, row[4]]).rstrip())
        return "\n".join(lines)


def model_table(names: Sequence[str] = ()) -> ModelTable:
    """A :class:`ModelTable` of the named models (all models when none are named)."""
    ids = list(names) or list(catalog)
    return ModelTable(tuple(catalog.spec(name) for name in ids))


def mountsea_models(line: str) -> ModelTable:
    """``%mountsea_models [MODEL ...]``: the models and their parameters (name, type, default,
    allowed values)."""
    try:
        return model_table(shlex.split(line))
    except (ValidationError, ValueError) as exc:
        raise UsageError(str(exc)) from None


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%%mountsea`` and ``%mountsea_models`` (``%load_ext mountsea_widgets``)."""
    ipython.register_magic_function(mountsea, magic_kind="cell", magic_name="mountsea")
    ipython.register_magic_function(
        mountsea_models, magic_kind="line", magic_name="mountsea_models"
    )
