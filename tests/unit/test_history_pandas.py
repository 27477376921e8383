"""History.to_pandas(): the rows of History.records() as a DataFrame, pandas optional."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mountsea_widgets.history import History
from mountsea_widgets.history._export import RECORD_COLUMNS


def _history(tmp_path: Path) -> History:
    history = History(tmp_path / "history")
    history.start("r1", "nano-banana", {"prompt": "a cat", "seed": 3})
    history.submitted("r1", "task-1", "nano-banana")
    history.finished("r1", "completed", None, 2.5)
    history.start("r2", "nano-banana", {"prompt": "a dog"})
    return history


def test_records_have_the_columns_to_pandas_names(tmp_path: Path) -> None:
    assert all(tuple(row) == RECORD_COLUMNS for row in _history(tmp_path).records())


def test_to_pandas_has_the_rows_and_columns_of_records(tmp_path: Path) -> None:
    pandas = pytest.importorskip("pandas")
    history = _history(tmp_path)
    frame = history.to_pandas()
    assert isinstance(frame, pandas.DataFrame)
    assert tuple(frame.columns) == RECORD_COLUMNS
    records = history.records()
    assert len(frame) == len(records) == 2
    assert list(frame["run_id"]) == [row["run_id"] for row in records]
    assert list(frame["status"]) == ["created", "completed"]
    assert frame.set_index("run_id").loc["r1", "task_id"] == "task-1"
    assert frame.set_index("run_id").loc["r1", "input"] == {"prompt": "a cat", "seed": 3}


def test_an_empty_history_gives_an_empty_frame_with_the_columns(tmp_path: Path) -> None:
    pytest.importorskip("pandas")
    frame = History(tmp_path / "empty").to_pandas()
    assert len(frame) == 0 and tuple(frame.columns) == RECORD_COLUMNS


def test_without_pandas_the_error_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = _history(tmp_path)
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if pandas were not installed
    with pytest.raises(ImportError, match=r"pip install pandas \(History\.records\(\)"):
        history.to_pandas()
