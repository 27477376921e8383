"""A deeply nested journal line is skipped; the records around it stay readable."""

from __future__ import annotations

from pathlib import Path

from mountsea_widgets.journal import Journal


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
