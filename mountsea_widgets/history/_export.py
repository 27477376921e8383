"""The index a history export writes beside the copied images: CSV and JSON rows."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from typing import Any

from .._spreadsheet import text_cell
from ..metadata import shorten_data_uris
from ._entry import HistoryEntry

# --- export index --------------------------------------------------------------------------------


def _iso(stamp: float | None) -> str:
    if stamp is None:
        return ""
    return datetime.fromtimestamp(stamp, tz=timezone.utc).isoformat(timespec="seconds")


#: The fields of each :meth:`History.records` row, in order.
RECORD_COLUMNS = (
    "run_id",
    "model",
    "prompt",
    "status",
    "task_id",
    "created",
    "created_utc",
    "finished",
    "elapsed_s",
    "error",
    "files",
    "input",
    "estimated_cost",
)


def _index_row(entry: HistoryEntry, names: list[str]) -> dict[str, Any]:
    return {
        "run_id": entry.run_id,
        "model": entry.model,
        "prompt": entry.prompt,
        "status": entry.status,
        "task_id": entry.task_id,
        "created": entry.created,
        "created_utc": _iso(entry.created),
        "finished": entry.finished,
        "elapsed_s": entry.elapsed_s,
        "error": entry.error,
        "files": names,
        "input": entry.input,
        # Dollars at the upstream list prices, as journalled (None: no known price, or a run
        # journalled before costs were recorded).
        "estimated_cost": _amount(entry.cost),
    }


def _amount(cost: dict[str, Any] | None) -> float | None:
    amount = (cost or {}).get("amount")
    return (
        float(amount) if isinstance(amount, int | float) and not isinstance(amount, bool) else None
    )


_CSV_COLUMNS = (
    "run_id",
    "created_utc",
    "model",
    "prompt",
    "status",
    "task_id",
    "elapsed_s",
    "error",
    "files",
    "input",
    "estimated_cost",
)


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return text_cell(value if isinstance(value, str) else str(value))  # never a live formula


def _index_csv(rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_CSV_COLUMNS)
    for row in rows:
        shortened, _ = shorten_data_uris(row["input"])
        cells = dict(row, files=";".join(row["files"]))
        cells["input"] = json.dumps(shortened, ensure_ascii=False, separators=(",", ":"))
        writer.writerow([_csv_cell(cells[column]) for column in _CSV_COLUMNS])
    # UTF-8 with BOM so spreadsheet programs detect the encoding of non-ASCII prompts.
    return buffer.getvalue().encode("utf-8-sig")
