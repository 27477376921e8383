"""A deeply nested journal line is skipped; the records around it stay readable."""

from __future__ import annotations

from pathlib import Path

from mountsea_widgets._journal import Journal


def test_deeply_nested_line_is_skipped_and_later_records_survive(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl", durable=False)
    journal.append({"n": 1})
    with open(journal.path, "ab") as handle:
        handle.write(b"[" * 100_000 + b"\n")
    journal.append({"n": 2})

    assert [r["n"] for r in journal.read_all()] == [1, 2]
    records, _ = journal.read_new()
    assert [r["n"] for r in records] == [1, 2]
    assert journal.skipped_lines >= 1


def test_a_history_with_a_too_deep_line_still_lists_its_pending_paid_task(tmp_path: Path) -> None:
    from mountsea_widgets.history import History

    history = History(tmp_path / "history")
    history.start("paid", "nano-banana", {"prompt": "a red cube"})
    history.submitted("paid", "hub-task-1", "nano-banana")
    with open(history.folder / "journal.jsonl", "ab") as handle:
        handle.write(b"[" * 100_000 + b"\n")
    history.start("later", "nano-banana", {"prompt": "after the damage"})

    reread = History(history.folder)
    assert [entry.task_id for entry in reread.pending()] == ["hub-task-1"]
    assert {entry.run_id for entry in reread.entries()} == {"paid", "later"}
