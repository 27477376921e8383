"""Prompt sets: prompts read from ``.txt``, ``.csv`` and ``.jsonl`` files, and prompt templates.

A prompt read from a file is a :class:`Prompt`: a ``str`` that also knows where it came from
(``prompts.csv, row 7``), so a problem found later (a model refusing a row's parameter) names
the file and the row. Every problem of a file is found before anything is sent.

Templates: ``"a {animal} in {style}"`` with ``vary={"animal": [...], "style": [...]}``. A
placeholder is a plain name in braces; ``{{`` and ``}}`` are literal braces in a template.
A prompt is a template only when ``vary`` names one of its placeholders, so a prompt that
merely contains braces is sent as written.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

#: The file types :func:`read_prompts` reads, by extension.
PROMPT_FILE_TYPES = (".txt", ".csv", ".jsonl")
#: The column (CSV) or key (JSON Lines) read when none is chosen and the file has it.
DEFAULT_COLUMN = "prompt"

_FIELD = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")


class PromptFileError(ValueError):
    """A prompt file that cannot be used as it is; nothing was sent.

    ``file`` is the file, ``row`` the row (line) number counted from 1 (None for the whole
    file) and ``parameter`` the parameter concerned (``column`` or ``prompt``...).
    """

    def __init__(
        self, message: str, *, file: str, row: int | None = None, parameter: str = "prompts"
    ) -> None:
        super().__init__(message)
        self.file = file
        self.row = row
        self.parameter = parameter


class Prompt(str):
    """A prompt that remembers its file and row, and the row's own parameters (if read).

    It is a plain ``str`` everywhere else (sent, journalled and compared as its text).
    """

    file: str | None
    row: int | None
    params: dict[str, Any]

    def __new__(
        cls,
        text: str,
        *,
        file: str | None = None,
        row: int | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Prompt:
        prompt = super().__new__(cls, text)
        prompt.file = file
        prompt.row = row
        prompt.params = dict(params or {})
        return prompt

    @property
    def source(self) -> str:
        """Where the prompt came from, e.g. ``prompts.csv, row 7`` ('' when not from a file)."""
        if self.file is None:
            return ""
        return f"{self.file}, row {self.row}" if self.row is not None else self.file

    def __reduce__(self) -> Any:
        return (_rebuild, (str(self), self.file, self.row, self.params))


def _rebuild(text: str, file: str | None, row: int | None, params: dict[str, Any]) -> Prompt:
    return Prompt(text, file=file, row=row, params=params)


def source_of(prompt: str) -> str:
    """Where ``prompt`` came from ('' for a prompt given in code)."""
    return prompt.source if isinstance(prompt, Prompt) else ""


# --- templates -----------------------------------------------------------------------------------


def placeholders(template: str) -> list[str]:
    """The placeholder names of ``template``, in order, each once (``{{`` is no placeholder)."""
    names = [m.group(1) for m in _FIELD.finditer(template) if m.group(1)]
    return list(dict.fromkeys(names))


def fill(template: str, values: Mapping[str, Any]) -> str:
    """``template`` with the placeholders named in ``values`` replaced (``{{`` → ``{``).

    Only called for templates (a prompt whose placeholders ``vary`` names); other placeholders
    were refused when the comparison was planned.
    """

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return match.group(0)[0]
        if name in values:
            return _as_text(values[name])
        return match.group(0)

    return _FIELD.sub(replace, template)


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


# --- files ---------------------------------------------------------------------------------------


def read_prompts(
    path: str | Path,
    *,
    column: str | None = None,
    params: Sequence[str] = (),
    skip_empty: bool = False,
    encoding: str = "utf-8",
) -> list[Prompt]:
    """Read a prompt set from a ``.txt``, ``.csv`` or ``.jsonl`` file, for ``prompts=``.

    - ``.txt``: one prompt per line;
    - ``.csv``: a header row, then one prompt per row, from ``column`` (default: the column
      named ``prompt``, or the only column);
    - ``.jsonl``: one JSON object per line, the prompt under the key ``column`` (default
      ``prompt``); a line that is a JSON string is a prompt too.

    ``params`` names further columns (keys) each row gives its own value for, e.g.
    ``params=["seed", "aspect_ratio"]``: they are sent with that row's prompt (a row that
    leaves one blank uses the comparison's). Empty prompts are refused unless
    ``skip_empty=True`` (then blank lines and rows are left out). Every problem raises
    :class:`PromptFileError` naming the file, the row and the column: nothing is sent.
    """
    file = Path(path)
    name = file.name
    suffix = file.suffix.lower()
    if suffix not in PROMPT_FILE_TYPES:
        raise PromptFileError(
            f"{name}: prompt files must end in {', '.join(PROMPT_FILE_TYPES)}, not "
            f"{suffix or 'no extension'}",
            file=name,
        )
    if isinstance(params, str):
        raise TypeError("params must be a list of column names, not one string")
    if suffix == ".txt" and (column is not None or params):
        raise PromptFileError(
            f"{name}: a .txt file has no columns (one prompt per line); leave column and "
            "params out, or use a .csv or .jsonl file",
            file=name,
            parameter="column",
        )
    text = _read_text(file, encoding)
    if suffix == ".txt":
        rows = _txt_rows(text)
    elif suffix == ".csv":
        rows = _csv_rows(text, name, column, list(params))
    else:
        rows = _jsonl_rows(text, name, column or DEFAULT_COLUMN, list(params))
    prompts: list[Prompt] = []
    for number, prompt, row_params in rows:
        if not prompt.strip():
            if skip_empty:
                continue
            raise PromptFileError(
                f"{name}, row {number}: the prompt is empty; remove the row, or pass "
                "skip_empty=True to leave empty rows out",
                file=name,
                row=number,
                parameter=column or "prompt",
            )
        prompts.append(Prompt(prompt, file=name, row=number, params=row_params))
    if not prompts:
        raise PromptFileError(f"{name}: the file holds no prompt", file=name)
    return prompts


def _read_text(file: Path, encoding: str) -> str:
    name = file.name
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise PromptFileError(f"{name}: no such prompt file ({file})", file=name) from None
    except IsADirectoryError:
        raise PromptFileError(f"{name}: is a folder, not a prompt file", file=name) from None
    except OSError as exc:
        reason = exc.strerror or "it cannot be read"
        raise PromptFileError(f"{name}: cannot be read ({reason.lower()})", file=name) from None
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PromptFileError(
            f"{name}, row {line}: the file is not {encoding} text (byte {exc.start + 1} cannot "
            f"be read); save it as UTF-8, or pass the encoding it uses, e.g. encoding='latin-1'",
            file=name,
            row=line,
            parameter="encoding",
        ) from None
    except LookupError:
        raise PromptFileError(
            f"{name}: unknown encoding {encoding!r}; try 'utf-8' or 'latin-1'",
            file=name,
            parameter="encoding",
        ) from None
    return text.removeprefix("\ufeff")  # a byte-order mark is not part of the first prompt


def _txt_rows(text: str) -> Iterable[tuple[int, str, dict[str, Any]]]:
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        yield number, line.strip(), {}


def _csv_rows(
    text: str, name: str, column: str | None, params: list[str]
) -> Iterable[tuple[int, str, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [cell.strip() for cell in next(reader, [])]
    if not header or not any(header):
        raise PromptFileError(f"{name}: the file is empty (a header row is needed)", file=name)
    chosen = column
    if chosen is None:
        if DEFAULT_COLUMN in header:
            chosen = DEFAULT_COLUMN
        elif len(header) == 1:
            chosen = header[0]
        else:
            raise PromptFileError(
                f"{name}: choose the prompt column with column=...; the columns are "
                f"{', '.join(map(repr, header))}",
                file=name,
                row=1,
                parameter="column",
            )
    for wanted, what in [(chosen, "column"), *((p, "params") for p in params)]:
        if wanted not in header:
            raise PromptFileError(
                f"{name}: no column {wanted!r} (given as {what}); the columns are "
                f"{', '.join(map(repr, header))}",
                file=name,
                row=1,
                parameter=what,
            )
    position = header.index(chosen)
    wanted_params = {p: header.index(p) for p in params}
    # The reader counts physical lines (a quoted prompt may span several).
    for cells in reader:
        number = reader.line_num
        if not any(cell.strip() for cell in cells):
            yield number, "", {}
            continue
        if len(cells) != len(header):
            raise PromptFileError(
                f"{name}, row {number}: {len(cells)} cells where the header has {len(header)}",
                file=name,
                row=number,
                parameter="column",
            )
        row_params = {
            p: _typed(cells[i].strip()) for p, i in wanted_params.items() if cells[i].strip()
        }
        yield number, cells[position].strip(), row_params


def _typed(text: str) -> Any:
    """A CSV cell as the value it spells: numbers and true/false as such, else the text."""
    if re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    if text in ("true", "false"):
        return text == "true"
    return text


def _jsonl_rows(
    text: str, name: str, key: str, params: list[str]
) -> Iterable[tuple[int, str, dict[str, Any]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            yield number, "", {}
            continue
        try:
            item = json.loads(line)
        except ValueError:
            raise PromptFileError(
                f"{name}, row {number}: not a JSON value (each line must be one JSON object)",
                file=name,
                row=number,
                parameter="prompts",
            ) from None
        if isinstance(item, str):
            if params:
                raise PromptFileError(
                    f"{name}, row {number}: a plain string has no {params[0]!r}; write an "
                    'object such as {"prompt": ...}',
                    file=name,
                    row=number,
                    parameter="params",
                )
            yield number, item.strip(), {}
            continue
        if not isinstance(item, dict):
            raise PromptFileError(
                f"{name}, row {number}: a JSON object or string is needed, not "
                f"{type(item).__name__}",
                file=name,
                row=number,
            )
        if key not in item:
            keys = ", ".join(map(repr, item)) or "none"
            raise PromptFileError(
                f"{name}, row {number}: no key {key!r} (choose it with column=...); its keys "
                f"are {keys}",
                file=name,
                row=number,
                parameter="column",
            )
        prompt = item[key]
        if not isinstance(prompt, str):
            raise PromptFileError(
                f"{name}, row {number}: {key!r} must be text, not {type(prompt).__name__}",
                file=name,
                row=number,
                parameter="column",
            )
        yield number, prompt.strip(), {p: item[p] for p in params if item.get(p) is not None}
