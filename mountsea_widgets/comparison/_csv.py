"""A comparison's records as CSV, and back: numbers stay numbers, text never runs as a formula."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .._spreadsheet import from_text_cell, text_cell
from ..catalog import catalog
from ._plan import RECORD_FIELDS


def csv_text(name: str, value: Any) -> str:
    """The CSV cell for one record field: numbers as numbers, anything else as safe text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return json.dumps(value)
    if name != "params" and isinstance(value, int | float):
        return str(value)
    if name == "params" or not isinstance(value, str):
        return text_cell(json.dumps(value, ensure_ascii=False, sort_keys=False))
    return text_cell(value)


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


def write_csv(records: Iterable[dict[str, Any]], path: str | Path) -> Path:
    """Write ``records`` (of :data:`RECORD_FIELDS`) as CSV; returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=RECORD_FIELDS)
        writer.writeheader()
        for record in records:
            writer.writerow({name: csv_text(name, record[name]) for name in RECORD_FIELDS})
    return target


def read_csv(path: str | Path) -> list[dict[str, Any]]:
    """Read a file written by :meth:`Comparison.to_csv` back into records (typed again)."""
    records: list[dict[str, Any]] = []
    with Path(path).open(newline="", encoding="utf-8") as handle:
        for cells in csv.DictReader(handle):
            raw = {name: from_text_cell(cells.get(name) or "") for name in RECORD_FIELDS}
            record: dict[str, Any] = {name: (raw.get(name) or None) for name in RECORD_FIELDS}
            record["row"] = int(raw["row"])
            record["column"] = int(raw["column"])
            record["seed"] = int(raw["seed"]) if raw.get("seed") else None
            record["seconds"] = float(raw["seconds"]) if raw.get("seconds") else None
            cost = raw.get("estimated_cost")  # absent from files written before costs
            record["estimated_cost"] = float(cost) if cost else None
            record["params"] = json.loads(raw["params"]) if raw.get("params") else None
            record["note"] = raw.get("note") or ""
            if record["param"] and raw.get("value"):
                record["value"] = _typed_value(record["param"], [record["model"]], raw["value"])
            for axis in ("y", "z"):  # the rows' and the pages' axes
                name = record[f"{axis}_param"]
                if name and raw.get(f"{axis}_value"):
                    record[f"{axis}_value"] = _typed_value(
                        name, [record["model"]], raw[f"{axis}_value"]
                    )
            # Absent from files written before the grid had pages: everything on page 0.
            record["page"] = int(raw["page"]) if raw.get("page") else 0
            record["prompt"] = raw.get("prompt") or (record["params"] or {}).get("prompt", "")
            records.append(record)
    return records
