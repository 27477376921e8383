"""What the Studio says in words: model labels, the hub's address, sizes, the session's spend,
and the inputs an image's metadata could not carry.

Plain text only: the page puts every string in with ``textContent``.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .._durations import about
from ..catalog import catalog
from .run_card import estimate_of

if TYPE_CHECKING:
    from ..run import Run

SPENT_TIP = "Estimated from upstream list prices; the hub bills only completed runs"


def safe_url(url: str) -> str:
    """``url`` without any user:password part (never shown, even if someone put one there)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


def model_label(model_id: str, expected_s: float) -> str:
    """The model picker's line for ``model_id``: id, kind and usual duration."""
    kind = "edit" if catalog[model_id].is_edit else "text → image"
    return f"{model_id} · {kind} · {about(expected_s)}"


def human_size(size: int) -> str:
    """``size`` bytes in words: ``0 B``, ``512 B``, ``1.5 kB``, ``12.3 MB``, ``1.02 GB``."""
    if size < 1000:
        return f"{size} B"
    value = float(size)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            return f"{value:.3g} {unit}" if value < 100 else f"{value:.0f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def history_line(runs: int, size: int, folder: str) -> str:
    """``2,314 runs · 1.2 GB on disk · <folder>``."""
    return f"{runs:,} run{'' if runs == 1 else 's'} · {human_size(size)} on disk · {folder}"


def without_places(input: dict[str, Any], places: list[str]) -> tuple[dict[str, Any], list[str]]:
    """``input`` without the values at ``places`` (``name`` or ``name[i]``), and the names hit.

    For reference images too long to embed in an image's metadata (its ``input_omitted``):
    the note standing in for them must never be loaded as if it were the image.
    """
    result = dict(input)
    whole: set[str] = set()
    items: dict[str, set[int]] = {}
    for place in places:
        name, _, rest = place.partition("[")
        name = name.split(".")[0]
        index = rest.split("]")[0]
        if index.isdigit() and isinstance(result.get(name), list):
            items.setdefault(name, set()).add(int(index))
        else:
            whole.add(name)
    for name in whole:
        result.pop(name, None)
    for name, indexes in items.items():
        if name in whole:
            continue
        kept = [item for position, item in enumerate(result[name]) if position not in indexes]
        if kept:
            result[name] = kept
        else:
            del result[name]
    return result, sorted(whole | set(items))


def exported_rows(folder: Path) -> list[dict[str, Any]]:
    """The runs listed in an export's ``index.json`` (empty when it cannot be read)."""
    try:
        rows = json.loads((folder / "index.json").read_text("utf-8")).get("runs", [])
    except (OSError, ValueError, AttributeError):
        return []
    return [row for row in rows if isinstance(row, dict)]


class Spending:
    """The estimated dollars of the runs completed in this session (each counted once)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counted: dict[str, float] = {}
        self._unknown: set[str] = set()

    @property
    def spent(self) -> float:
        """Estimated dollars of the runs completed in this session."""
        with self._lock:
            return sum(self._counted.values())

    def count(self, run: Run) -> bool:
        """Add ``run`` once, if it completed (the hub bills nothing else); True when added."""
        if run.status != "completed":
            return False
        estimate = estimate_of(run.model, run.input)
        with self._lock:
            if run.run_id in self._counted or run.run_id in self._unknown:
                return False
            if estimate is None or estimate.amount is None:
                self._unknown.add(run.run_id)
            else:
                self._counted[run.run_id] = estimate.amount
        return True

    def text(self) -> str:
        """``spent this session ≈ $0.08 (2 completed runs)``."""
        from .._cost import money

        with self._lock:
            amount, runs, unknown = (
                sum(self._counted.values()),
                len(self._counted),
                len(self._unknown),
            )
        text = (
            f"spent this session ≈ {money(amount)} ({runs} completed run{'' if runs == 1 else 's'}"
        )
        return text + (f", {unknown} without a known price)" if unknown else ")")
