"""A batch as a dataset: a folder of images with ``metadata.jsonl`` (the layout Hugging Face's
``imagefolder`` loader reads) and ``records.csv``; records as pandas when pandas is there.

Layout of an exported folder::

    <run_id>_<n>.png     the images (metadata embedded, as in the history)
    metadata.jsonl       one JSON object per image: file_name (relative), prompt, model,
                         input (JSON text), seed, task_id, status, seconds, batch_id, run_id,
                         param/value, y_param/y_value, z_param/z_value (as text)
    records.csv          one row per cell, images or not (failed, n/a and rejected cells too)

``input`` and the varied values are JSON *text* in ``metadata.jsonl``, so every line has the
same column types whatever the model (``datasets`` infers one schema for the whole file).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._image_files import copy_names, write_atomic, write_image
from ..comparison import RECORD_FIELDS, format_value
from ..comparison._csv import csv_text

if TYPE_CHECKING:
    from ._batch import Batch

#: The metadata file of an exported folder (the name ``imagefolder`` looks for).
METADATA_NAME = "metadata.jsonl"
#: The CSV of every cell, beside it.
RECORDS_NAME = "records.csv"
#: Fields of a batch's records besides the comparison's (see ``RECORD_FIELDS``).
BATCH_FIELDS = ("batch_id", "run_id", "files")
#: Columns of ``metadata.jsonl``, in order.
METADATA_FIELDS = (
    "file_name",
    "prompt",
    "model",
    "input",
    "seed",
    "task_id",
    "status",
    "seconds",
    "batch_id",
    "run_id",
    "param",
    "value",
    "y_param",
    "y_value",
    "z_param",
    "z_value",
    "estimated_cost",
)


def _text(value: Any) -> str | None:
    return None if value is None else format_value(value)


def metadata_lines(records: Iterable[Mapping[str, Any]], names: Mapping[str, str]) -> list[str]:
    """The ``metadata.jsonl`` lines: one per image file of ``records`` (``names`` maps each
    source file to its name in the exported folder)."""
    lines = []
    for record in records:
        for source in record.get("files") or []:
            name = names.get(str(source))
            if name is None:
                continue
            row = {
                "file_name": name,
                "prompt": record.get("prompt") or (record.get("params") or {}).get("prompt", ""),
                "model": record["model"],
                "input": json.dumps(record.get("params") or {}, ensure_ascii=False),
                "seed": record.get("seed"),
                "task_id": record.get("task_id"),
                "status": record.get("status"),
                "seconds": record.get("seconds"),
                "batch_id": record.get("batch_id"),
                "run_id": record.get("run_id"),
                "param": record.get("param"),
                "value": _text(record.get("value")) if record.get("param") else None,
                "y_param": record.get("y_param"),
                "y_value": _text(record.get("y_value")) if record.get("y_param") else None,
                "z_param": record.get("z_param"),
                "z_value": _text(record.get("z_value")) if record.get("z_param") else None,
                # Dollars per run at the upstream list prices (None: no known price).
                "estimated_cost": record.get("estimated_cost"),
            }
            lines.append(json.dumps({k: row[k] for k in METADATA_FIELDS}, ensure_ascii=False))
    return lines


def records_csv(records: Iterable[Mapping[str, Any]]) -> bytes:
    """Records (a batch's fields) as CSV bytes; text a spreadsheet would run is quoted."""
    fields = (*RECORD_FIELDS, *BATCH_FIELDS)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(fields)
    for record in records:
        writer.writerow([csv_text(name, record.get(name)) for name in fields])
    return buffer.getvalue().encode("utf-8")


def write_records_csv(records: Iterable[Mapping[str, Any]], path: str | Path) -> Path:
    """Write :func:`records_csv` to ``path``; returns it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, records_csv(records), durable=False)
    return target


def export(batch: Batch, folder: str | Path) -> Path:
    """Copy the batch's images into ``folder`` with ``metadata.jsonl`` and ``records.csv``.

    Exporting again into the same folder finds the copies already there (nothing is copied
    twice, another file is never overwritten) and rewrites both indexes. Returns the folder.
    """
    target = Path(folder).expanduser().resolve()
    history = batch.history
    if history is not None and (target == history.folder or history.folder in target.parents):
        raise ValueError(f"folder must be outside the history folder {history.folder}")
    target.mkdir(parents=True, exist_ok=True)
    records = batch.records()
    names: dict[str, str] = {}
    for record in records:
        for source in record["files"]:
            path = Path(source)
            try:
                data = path.read_bytes()
            except OSError:
                continue  # a file removed from the history since: its record still says so
            copy = write_image(target, copy_names(path.name), data, write=_quick_write)
            names[str(source)] = copy.name
    lines = metadata_lines(records, names)
    write_atomic(
        target / METADATA_NAME,
        ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8"),
        durable=False,
    )
    write_records_csv(records, target / RECORDS_NAME)
    return target


def _quick_write(path: Path, data: bytes) -> None:
    write_atomic(path, data, durable=False)


def to_pandas(records: list[dict[str, Any]]) -> Any:
    """``records`` as a pandas DataFrame; a clear ImportError when pandas is not installed."""
    from .._frames import to_pandas as frame

    return frame(records)
