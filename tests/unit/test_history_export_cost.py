"""A history export's index says what each run was estimated to cost, as the journal holds it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from mountsea_widgets.history import History
from tests.helpers.images import solid_png


def test_the_export_index_carries_each_runs_estimate(tmp_path: Path) -> None:
    history = History(tmp_path / "history")
    cost = {"amount": 0.039, "unit": "USD", "basis": "1 × nano-banana"}
    history.start("priced", "nano-banana", {"prompt": "a red cube"}, None, cost)
    history.submitted("priced", "hub-1", "nano-banana")
    history.images("priced", [(solid_png(), "image/png")])
    history.finished("priced", "completed", None, 1.0)
    history.start("old", "nano-banana", {"prompt": "from before costs"})  # no estimate kept
    history.finished("old", "failed", "no", 1.0)

    folder = history.export(["priced", "old"], tmp_path / "export")

    with (folder / "index.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = {row["run_id"]: row for row in csv.DictReader(handle)}
    assert rows["priced"]["estimated_cost"] == "0.039"
    assert rows["old"]["estimated_cost"] == ""
    index = {run["run_id"]: run for run in json.loads((folder / "index.json").read_text())["runs"]}
    assert index["priced"]["estimated_cost"] == 0.039
    assert index["old"]["estimated_cost"] is None
