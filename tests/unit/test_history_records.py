"""``History.records()``: every run as a plain dict, as the export index has it."""

from __future__ import annotations

import json
from pathlib import Path

from mountsea_widgets.history import History


def test_records_are_plain_dicts_newest_first(tmp_path: Path) -> None:
    clock = iter(float(t) for t in range(1000, 2000))
    history = History(tmp_path / "history", clock=lambda: next(clock))
    history.start("older", "nano-banana", {"prompt": "a cat", "seed": 2})
    history.submitted("older", "task-1", "nano-banana")
    history.images("older", [(b"\x89PNG\r\n\x1a\n" + b"0" * 32, "image/png")])
    history.finished("older", "completed", elapsed_s=3.5)
    history.start("newer", "gpt-image-2", {"prompt": "a dog"})

    records = History(history.folder).records()
    assert [r["run_id"] for r in records] == ["newer", "older"]
    older = records[1]
    assert older["model"] == "nano-banana" and older["prompt"] == "a cat"
    assert older["status"] == "completed" and older["task_id"] == "task-1"
    assert older["elapsed_s"] == 3.5 and older["input"] == {"prompt": "a cat", "seed": 2}
    assert [Path(f).is_file() for f in older["files"]] == [True]
    assert records[0]["status"] == "created" and records[0]["files"] == []
    assert json.loads(json.dumps(records)) == records
