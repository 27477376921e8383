"""``python -m mountsea_widgets batch``: a batch from a shell, from a spec file or flags.

A spec file is JSON with the keys :func:`~mountsea_widgets.batch` takes (``prompt`` or
``prompts``, ``models``, ``seeds``, ``vary``, ``params``, ``batch_id``, ``concurrency``,
``max_runs``, ``history``) and, for prompt files, ``prompts_file`` with ``column`` and
``param_columns``; flags given as well override the file. ``--export DIR`` writes the dataset
when the batch is done. Exit status: 0 when every cell ended completed (or n/a), 1 when some
did not, 2 when the batch was refused (nothing was sent).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from ..comparison import DEFAULT_CONCURRENCY, NOT_APPLICABLE, read_prompts
from ..errors import ValidationError

#: How often (seconds) the terminal's progress line is refreshed.
PROGRESS_EVERY_S = 1.0


def _value(text: str) -> Any:
    """A flag's value: JSON when it parses as JSON (numbers, true, objects), else the text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _pair(text: str, flag: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise ValueError(f"{flag} takes name=value, got {text!r}")
    return name.strip(), value


def parser() -> argparse.ArgumentParser:
    """The command line of ``python -m mountsea_widgets batch``."""
    made = argparse.ArgumentParser(
        prog="python -m mountsea_widgets batch",
        description="Run a batch of generations in the background of this shell, kept in the "
        "history; running the same command again continues it (nothing is submitted twice).",
    )
    made.add_argument("spec", nargs="?", help="a JSON spec file (keys as mw.batch takes)")
    made.add_argument("--prompt", help="one prompt (or template with {placeholders})")
    made.add_argument("--prompts", dest="prompts_file", help="a .txt, .csv or .jsonl prompt file")
    made.add_argument("--column", help="the prompt column (CSV) or key (JSON Lines)")
    made.add_argument(
        "--param-column", action="append", dest="param_columns", help="a per-row parameter column"
    )
    made.add_argument("--model", action="append", dest="models", help="a model id (repeat)")
    made.add_argument("--seed", action="append", dest="seeds", type=int, help="a seed (repeat)")
    made.add_argument(
        "--vary", action="append", default=[], help="name=v1,v2 (a parameter or placeholder)"
    )
    made.add_argument("--param", action="append", default=[], help="name=value for every cell")
    made.add_argument("--batch-id", dest="batch_id")
    made.add_argument("--extend", action="store_true", default=None, help="add new cells")
    made.add_argument("--max-runs", dest="max_runs", type=int)
    made.add_argument(
        "--confirm", action="store_true", default=None, help="run it whatever it is estimated at"
    )
    made.add_argument(
        "--max-cost", dest="max_cost", type=float, help="run it only if estimated at most this"
    )
    made.add_argument(
        "--max-requests-per-second",
        dest="max_requests_per_second",
        type=float,
        help="our own cap on requests to the hub, submits and polls alike",
    )
    made.add_argument("--concurrency", type=int)
    made.add_argument("--history", help="the history folder (default: the standard one)")
    made.add_argument("--export", help="write the images and metadata.jsonl here when done")
    made.add_argument("--quiet", action="store_true", help="no progress line")
    return made


#: The flags passed on to :func:`~mountsea_widgets.batch` (and ``export``) as they are, which a
#: spec file may hold as keys too.
_OPTIONS = (
    "batch_id",
    "extend",
    "max_runs",
    "confirm",
    "max_cost",
    "max_requests_per_second",
    "concurrency",
    "history",
    "export",
)


def options(argv: Sequence[str]) -> dict[str, Any]:
    """The keyword arguments of :func:`~mountsea_widgets.batch` (and ``export``) from ``argv``."""
    args = parser().parse_args(list(argv))
    spec: dict[str, Any] = {}
    if args.spec:
        path = Path(args.spec)
        try:
            spec = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(f"{path.name}: no such spec file ({path})") from None
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path.name}: not a JSON spec file ({exc})") from None
        if not isinstance(spec, dict):
            raise ValueError(f"{path.name}: a spec file holds one JSON object")
        if "prompts_file" in spec:
            base = path.parent
            spec["prompts_file"] = str(base / str(spec["prompts_file"]))
    for name in ("prompt", "prompts_file", "column", "param_columns", "models", "seeds"):
        if getattr(args, name) is not None:
            spec[name] = getattr(args, name)
    for name in _OPTIONS:
        if getattr(args, name) is not None:
            spec[name] = getattr(args, name)
    if args.vary:
        spec["vary"] = {
            name: [_value(v) for v in values.split(",")]
            for name, values in (_pair(text, "--vary") for text in args.vary)
        }
    if args.param:
        spec.setdefault("params", {}).update(
            {name: _value(value) for name, value in (_pair(t, "--param") for t in args.param)}
        )
    prompts_file = spec.pop("prompts_file", None)
    column = spec.pop("column", None)
    param_columns = spec.pop("param_columns", None) or ()
    if prompts_file is not None:
        if "prompts" in spec or "prompt" in spec:
            raise ValueError("give the prompts once: a prompt, a list, or a prompt file")
        spec["prompts"] = read_prompts(prompts_file, column=column, params=param_columns)
    spec["quiet"] = bool(args.quiet)
    known = {"prompt", "prompts", "models", "seeds", "vary", "params", *_OPTIONS, "quiet"}
    unknown = sorted(set(spec) - known)
    if unknown:
        raise ValueError(
            f"unknown spec key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(known))}"
        )
    return spec


def _progress(job: Any, out: TextIO) -> None:
    """Show the batch's progress until it is done (tqdm when installed, else one line)."""
    try:
        from tqdm import tqdm  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        tqdm = None
    done, total = job.progress
    bar = tqdm(total=total, initial=done, file=out, unit="run") if tqdm is not None else None
    while True:
        try:
            job.wait(PROGRESS_EVERY_S)
            finished = True
        except TimeoutError:
            finished = False
        now, _ = job.progress
        if bar is not None:
            bar.update(now - done)
            bar.set_postfix_str(job.summary().split(" · ", 2)[-1], refresh=False)
        else:
            out.write(f"\r{job.summary()}   ")
            out.flush()
        done = now
        if finished:
            break
    if bar is not None:
        bar.close()
    else:
        out.write("\n")


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the batch the command line describes; returns the exit status."""
    from . import batch

    stream = out if out is not None else sys.stderr
    try:
        spec = options(sys.argv[1:] if argv is None else argv)
        export = spec.pop("export", None)
        quiet = spec.pop("quiet")
        spec.setdefault("concurrency", DEFAULT_CONCURRENCY)
        job = batch(**spec)
    except (ValueError, ValidationError, TypeError) as exc:
        message = (
            str(exc)
            .replace("Pass extend=True", "Pass --extend (extend: true in a spec)")
            .replace("confirm=True", "--confirm (confirm: true in a spec)")
            .replace("Raise max_cost", "Raise --max-cost")
        )
        stream.write(f"mountsea batch: {message}\n")
        return 2
    stream.write(f"batch {job.batch_id}: {len(job.resumed)} resumed, {len(job.new)} to send\n")
    if quiet:
        job.wait()
    else:
        _progress(job, stream)
    if export:
        folder = job.export(export)
        stream.write(f"dataset written to {folder}\n")
    stream.write(f"{job.summary()}\n")
    ok = all(cell.status in ("completed", NOT_APPLICABLE) for cell in job.cells)
    return 0 if ok else 1
