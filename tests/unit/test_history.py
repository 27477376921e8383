"""The on-disk run history: journal durability, concurrency, image files, management."""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
import statistics
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from mountsea_widgets._journal import Journal
from mountsea_widgets.history import TYPICAL_WINDOW, History, default_folder
from mountsea_widgets.history import _store as history_module  # where the store reads its tools
from mountsea_widgets.metadata import read_metadata
from tests.helpers.images import solid_image, solid_png


class FakeClock:
    """Unix time that moves only when told to."""

    def __init__(self, start: float = 1_760_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def hist(sandbox: Path, clock: FakeClock) -> History:
    return History(sandbox / "history", clock=clock)


def run_to_end(
    history: History, run_id: str, *, model: str = "nano-banana", elapsed: float = 5.0
) -> list[Path]:
    history.start(run_id, model, {"prompt": f"prompt of {run_id}", "seed": 1})
    history.submitted(run_id, f"task-{run_id}")
    paths = history.images(run_id, [(solid_png(), "image/png")])
    history.finished(run_id, "completed", elapsed_s=elapsed)
    return paths


def all_files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


# --- folder -------------------------------------------------------------------------------------


def test_default_folder_comes_from_the_environment(sandbox: Path) -> None:
    history = History()
    assert history.folder == (sandbox / "history").resolve()
    assert history.folder.is_dir()


def test_default_folder_falls_back_to_xdg_data_home_then_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("MOUNTSEA_HISTORY_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_folder() == tmp_path / "xdg" / "mountsea-widgets" / "history"

    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    expected = tmp_path / "home" / ".local" / "share" / "mountsea-widgets" / "history"
    assert default_folder() == expected

    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_folder() == expected


def test_folder_argument_overrides_the_environment(sandbox: Path) -> None:
    history = History(sandbox / "elsewhere")
    history.start("r1", "nano-banana", {"prompt": "x"})
    assert (sandbox / "elsewhere" / "journal.jsonl").is_file()
    assert not (sandbox / "history").exists()


# --- recording runs ------------------------------------------------------------------------------


def test_a_run_is_recorded_step_by_step(hist: History, clock: FakeClock) -> None:
    hist.start("r1", "nano-banana", {"prompt": "a red cube", "seed": 7})
    entry = hist.get("r1")
    assert (entry.status, entry.task_id, entry.created) == ("created", None, clock.now)

    clock.advance(1)
    hist.submitted("r1", "hub-abc")
    entry = hist.get("r1")
    assert (entry.status, entry.task_id, entry.submitted_at) == ("submitted", "hub-abc", clock.now)

    paths = hist.images(
        "r1",
        [(solid_png(), "image/png"), (solid_image((10, 90, 200), (40, 30), "JPEG"), "image/jpeg")],
    )
    assert [p.name for p in paths] == ["r1_0.png", "r1_1.jpg"]
    assert all(p.parent == hist.folder / "images" for p in paths)

    clock.advance(5)
    hist.finished("r1", "completed", elapsed_s=4.5)
    entry = hist.get("r1")
    assert entry.status == "completed"
    assert entry.finished == clock.now
    assert entry.elapsed_s == 4.5
    assert entry.files == paths
    assert entry.input == {"prompt": "a red cube", "seed": 7}
    assert entry.prompt == "a red cube"


def test_everything_survives_a_restart(sandbox: Path) -> None:
    first = History(sandbox / "h")
    first.start("r1", "gpt-image-2", {"prompt": "p"})
    first.submitted("r1", "hub-1")
    saved = first.images("r1", [(solid_png(), "image/png")])
    first.finished("r1", "failed", error="content policy")
    del first

    entry = History(sandbox / "h").get("r1")
    assert (entry.model, entry.task_id, entry.status, entry.error) == (
        "gpt-image-2",
        "hub-1",
        "failed",
        "content policy",
    )
    assert entry.files == saved


def test_entries_are_newest_first(hist: History, clock: FakeClock) -> None:
    for run_id in ("old", "middle", "new"):
        hist.start(run_id, "nano-banana", {"prompt": run_id})
        clock.advance(10)
    hist.start("backdated", "nano-banana", {"prompt": "b"}, created=clock.now - 15)
    assert [e.run_id for e in hist.entries()] == ["new", "backdated", "middle", "old"]


def test_pending_lists_only_submitted_unfinished_runs(hist: History) -> None:
    hist.start("not-submitted", "nano-banana", {"prompt": "a"})
    hist.start("waiting", "nano-banana", {"prompt": "b"})
    hist.submitted("waiting", "hub-waiting")
    hist.start("downloaded", "nano-banana", {"prompt": "c"})
    hist.submitted("downloaded", "hub-downloaded")
    hist.images("downloaded", [(solid_png(), "image/png")])
    run_to_end(hist, "done")
    hist.start("failed", "nano-banana", {"prompt": "d"})
    hist.submitted("failed", "hub-failed")
    hist.finished("failed", "failed", error="boom")

    pending = History(hist.folder).pending()  # as a new kernel would see it

    assert sorted(e.run_id for e in pending) == ["downloaded", "waiting"]
    assert {e.task_id for e in pending} == {"hub-downloaded", "hub-waiting"}


def test_images_carry_the_run_metadata(hist: History, clock: FakeClock) -> None:
    hist.start("r1", "nano-banana-pro", {"prompt": "a fox", "aspect_ratio": "16:9"})
    hist.submitted("r1", "hub-fox")
    paths = hist.images(
        "r1",
        [(solid_png(), "image/png"), (solid_image((10, 90, 200), (40, 30), "JPEG"), "image/jpeg")],
    )
    for index, path in enumerate(paths):
        meta = read_metadata(path)
        assert meta["model"] == "nano-banana-pro"
        assert meta["input"] == {"prompt": "a fox", "aspect_ratio": "16:9"}
        assert meta["task_id"] == "hub-fox"
        assert meta["created"] == clock.now
        assert meta["run_id"] == "r1"
        assert meta["index"] == index


def test_file_extension_comes_from_the_bytes_not_the_content_type(hist: History) -> None:
    hist.start("r1", "nano-banana", {"prompt": "x"})
    [path] = hist.images("r1", [(solid_image((10, 90, 200), (40, 30), "JPEG"), "image/png; lies")])
    assert path.suffix == ".jpg"


def test_non_image_bytes_are_still_kept_unchanged(hist: History) -> None:
    hist.start("r1", "nano-banana", {"prompt": "x"})
    [path] = hist.images("r1", [(b"not an image", "application/octet-stream")])
    assert path.suffix == ".bin"
    assert path.read_bytes() == b"not an image"
    assert hist.get("r1").files == [path]


def test_an_image_is_kept_even_when_embedding_metadata_crashes(
    hist: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crashing_embed(*args: Any) -> bytes:
        raise RuntimeError("unexpected EXIF trouble")

    monkeypatch.setattr(history_module, "embed", crashing_embed)
    hist.start("r1", "nano-banana", {"prompt": "x"})
    data = solid_png()
    [path] = hist.images("r1", [(data, "image/png")])
    assert path.read_bytes() == data
    assert hist.get("r1").files == [path]


def test_downloading_the_same_images_again_does_not_duplicate_them(hist: History) -> None:
    hist.start("r1", "nano-banana", {"prompt": "x"})
    hist.submitted("r1", "hub-1")
    first = hist.images(
        "r1", [(solid_png((1, 2, 3)), "image/png"), (solid_png((4, 5, 6)), "image/png")]
    )
    again = hist.images(
        "r1", [(solid_png((1, 2, 3)), "image/png"), (solid_png((4, 5, 6)), "image/png")]
    )
    assert again == first
    assert len(hist.get("r1").files) == 2
    assert len(list((hist.folder / "images").glob("r1_*"))) == 2


def test_images_for_a_run_never_overwrite_an_existing_file(hist: History) -> None:
    hist.start("r1", "nano-banana", {"prompt": "x"})
    stray = hist.folder / "images" / "r1_0.png"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"left by a crash before it was journalled")
    [path] = hist.images("r1", [(solid_png(), "image/png")])
    assert path.name == "r1_1.png"
    assert stray.read_bytes() == b"left by a crash before it was journalled"


def test_records_for_a_run_that_was_never_started_are_kept(hist: History) -> None:
    hist.submitted("orphan", "hub-orphan")
    assert [e.task_id for e in hist.pending()] == ["hub-orphan"]


@pytest.mark.parametrize(
    "call",
    [
        lambda h: h.start("", "m", {}),
        lambda h: h.submitted("r", ""),
        lambda h: h.finished("r", ""),
        lambda h: h.start("r", "m", "prompt"),
    ],
)
def test_bad_arguments_are_refused(hist: History, call: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        call(hist)


def test_images_must_be_bytes_and_content_type_pairs(hist: History) -> None:
    with pytest.raises(TypeError, match=r"images\[0\]"):
        hist.images("r1", [solid_png()])  # type: ignore[list-item]


# --- secrets --------------------------------------------------------------------------------------


def test_credentials_never_reach_the_journal_or_the_images(
    hist: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOUNTSEA_API_KEY", "sk-live-SECRET-1234")
    hist.start(
        "r1",
        "nano-banana",
        {
            "prompt": "echo sk-live-SECRET-1234",
            "api_key": "sk-live-SECRET-1234",
            "headers": {"Authorization": "Bearer sk-live-SECRET-1234", "X-API-Key": "k2"},
            "seed": 3,
        },
    )
    hist.submitted("r1", "hub-1")
    [path] = hist.images("r1", [(solid_png(), "image/png")])
    hist.finished("r1", "failed", error="401 for key sk-live-SECRET-1234")

    journal = (hist.folder / "journal.jsonl").read_text()
    assert "SECRET" not in journal and "k2" not in journal
    assert b"SECRET" not in path.read_bytes()
    entry = hist.get("r1")
    assert entry.input == {"prompt": "echo ***", "headers": {}, "seed": 3}
    assert entry.error == "401 for key ***"


# --- journal robustness ------------------------------------------------------------------------


def test_a_torn_last_line_is_skipped_and_later_appends_still_work(sandbox: Path) -> None:
    folder = sandbox / "h"
    history = History(folder)
    run_to_end(history, "before-1")
    run_to_end(history, "before-2")
    journal = folder / "journal.jsonl"
    with open(journal, "ab") as handle:  # a crash in the middle of writing a record
        handle.write(b'{"v":1,"op":"start","run_id":"torn","model":"nano-ba')

    reopened = History(folder)
    assert [e.run_id for e in reopened.entries()] == ["before-2", "before-1"]

    reopened.start("after", "nano-banana", {"prompt": "after the crash"})
    reopened.submitted("after", "hub-after")

    fresh = History(folder)
    assert {e.run_id for e in fresh.entries()} == {"before-1", "before-2", "after"}
    after = fresh.get("after")
    assert (after.model, after.prompt, after.task_id) == (
        "nano-banana",
        "after the crash",
        "hub-after",
    )
    assert "torn" not in fresh
    assert fresh._journal.skipped_lines == 1
    lines = journal.read_bytes().split(b"\n")
    assert lines[-1] == b""  # file ends with a newline again
    assert any(line.startswith(b'{"v":1,"op":"start","run_id":"torn"') for line in lines)


def test_a_line_still_being_written_is_not_consumed_early(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.append({"n": 1})
    with open(journal.path, "ab") as handle:
        handle.write(b'{"n": 2')  # another process is mid-write
    records, _ = journal.read_new()
    assert records == [{"n": 1}]
    with open(journal.path, "ab") as handle:
        handle.write(b"}\n")  # ... and finishes
    records, _ = journal.read_new()
    assert records == [{"n": 2}]
    assert journal.skipped_lines == 0


def test_garbage_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.append({"n": 1})
    with open(journal.path, "ab") as handle:
        handle.write(b"\x00\xff not json\n[1, 2]\n")
    journal.append({"n": 2})
    records, _ = journal.read_new()
    assert records == [{"n": 1}, {"n": 2}]
    assert journal.skipped_lines == 2
    assert Journal(journal.path).read_all() == [{"n": 1}, {"n": 2}]


def test_a_replaced_journal_is_read_again_from_the_start(hist: History) -> None:
    run_to_end(hist, "a")
    journal = hist.folder / "journal.jsonl"
    keep = journal.read_bytes()
    run_to_end(hist, "b")
    assert {e.run_id for e in hist.entries()} == {"a", "b"}

    replacement = journal.with_name("new.jsonl")
    replacement.write_bytes(keep)  # e.g. restored from a backup
    os.replace(replacement, journal)

    assert [e.run_id for e in hist.entries()] == ["a"]


def _append_runs(folder: str, writer: int, count: int, padding: int) -> None:
    history = History(folder)
    for n in range(count):
        run_id = f"w{writer}-{n}"
        history.start(run_id, "nano-banana", {"prompt": f"{run_id} " + "x" * padding, "n": n})
        history.submitted(run_id, f"task-{run_id}")


def test_two_processes_appending_at_once_never_interleave(sandbox: Path) -> None:
    folder = sandbox / "shared"
    History(folder)
    count, padding = 150, 3000  # long lines make any interleaving visible
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_append_runs, args=(str(folder), w, count, padding)) for w in (1, 2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=240)
        assert worker.exitcode == 0

    journal = Journal(folder / "journal.jsonl")
    records, _ = journal.read_new()
    assert journal.skipped_lines == 0
    assert len(records) == 2 * 2 * count
    entries = History(folder).entries()
    assert len(entries) == 2 * count
    for entry in entries:
        assert entry.prompt == f"{entry.run_id} " + "x" * padding
        assert entry.task_id == f"task-{entry.run_id}"
        assert entry.status == "submitted"


# --- atomic files -------------------------------------------------------------------------------


def test_image_write_is_atomic_when_the_final_rename_fails(
    hist: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    hist.start("r1", "nano-banana", {"prompt": "x"})
    hist.submitted("r1", "hub-1")

    def broken_replace(src: Any, dst: Any) -> None:
        raise OSError("disk vanished")

    with monkeypatch.context() as patch:
        patch.setattr(history_module.os, "replace", broken_replace)
        with pytest.raises(OSError, match="disk vanished"):
            hist.images("r1", [(solid_png(), "image/png")])

    images = hist.folder / "images"
    assert sorted(p.name for p in images.iterdir()) == []  # no partial file, no temp file
    assert hist.get("r1").files == []  # and nothing journalled

    [path] = hist.images("r1", [(solid_png(), "image/png")])  # a retry succeeds
    assert read_metadata(path)["task_id"] == "hub-1"


def test_image_write_is_atomic_when_writing_fails_midway(
    hist: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    hist.start("r1", "nano-banana", {"prompt": "x"})
    real_write = os.write
    calls = {"n": 0}

    def failing_write(fd: int, data: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            return real_write(fd, bytes(data)[:10])  # a short write ...
        raise OSError(28, "No space left on device")  # ... then the disk is full

    with monkeypatch.context() as patch:
        patch.setattr(history_module.os, "write", failing_write)
        with pytest.raises(OSError, match="No space left"):
            hist.images("r1", [(solid_png(), "image/png")])

    assert list((hist.folder / "images").iterdir()) == []


def test_no_temporary_files_remain_after_saving(hist: History) -> None:
    run_to_end(hist, "r1")
    hist.get("r1").thumbnail()
    assert not [p for p in all_files(hist.folder) if p.name.endswith(".tmp")]


# --- hostile names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "run_id", ["../x", "../../etc/passwd", "/abs/path", "a/../../b", "..", "con", "x\x00y", "é"]
)
def test_hostile_run_ids_never_escape_the_folder(hist: History, run_id: str) -> None:
    hist.start(run_id, "nano-banana", {"prompt": "x"})
    paths = hist.images(
        run_id,
        [
            (solid_png(), "../../evil.sh"),
            (solid_image((10, 90, 200), (40, 30), "JPEG"), "text/html"),
        ],
    )
    images = (hist.folder / "images").resolve()
    for path in paths:
        assert path.resolve().parent == images
        assert path.is_file()
    assert [p.suffix for p in paths] == [".png", ".jpg"]
    assert hist.get(run_id).files == paths


def test_cleaned_run_ids_stay_distinct(hist: History) -> None:
    names = set()
    for run_id in ("a/b", "a_b", "a?b"):
        hist.start(run_id, "nano-banana", {"prompt": "x"})
        [path] = hist.images(run_id, [(solid_png(), "image/png")])
        names.add(path.name)
    assert len(names) == 3


def test_a_tampered_journal_cannot_point_outside_the_folder(hist: History, sandbox: Path) -> None:
    outside = sandbox / "precious.txt"
    outside.write_text("keep me")
    hist.start("r1", "nano-banana", {"prompt": "x"})
    journal = Journal(hist.folder / "journal.jsonl")
    journal.append({"v": 1, "op": "images", "run_id": "r1", "files": [{"name": "../precious.txt"}]})
    journal.append({"v": 1, "op": "images", "run_id": "r1", "files": [{"name": str(outside)}]})

    assert hist.get("r1").files == []
    hist.remove("r1")
    assert outside.read_text() == "keep me"


# --- lazy loading -------------------------------------------------------------------------------


def test_opening_a_large_history_decodes_no_image(
    sandbox: Path, count_image_opens: list[Any]
) -> None:
    folder = sandbox / "big"
    writer = History(folder)
    image = solid_png(size=(512, 512))
    for n in range(300):
        run_id = f"run-{n:04d}"
        writer.start(run_id, "nano-banana", {"prompt": f"prompt {n}", "seed": n}, created=n)
        writer.submitted(run_id, f"task-{n}")
        writer.images(run_id, [(image, "image/png")])
        writer.finished(run_id, "completed", elapsed_s=6.0)
    count_image_opens.clear()

    entries = History(folder).entries()

    assert len(entries) == 300
    assert all(len(e.files) == 1 and e.files[0].is_file() for e in entries)
    assert count_image_opens == []

    thumb = entries[0].thumbnail()
    assert len(count_image_opens) == 1
    assert entries[0].thumbnail() == thumb  # cached beside the image: no second decode
    assert len(count_image_opens) == 1
    assert thumb is not None
    with Image.open(io.BytesIO(thumb)) as small:
        assert max(small.size) == 384
    assert (folder / "images" / ".thumbs" / f"{entries[0].files[0].stem}.384.jpg").is_file()


def test_thumbnail_is_none_without_images_or_for_unreadable_files(hist: History) -> None:
    hist.start("empty", "nano-banana", {"prompt": "x"})
    assert hist.get("empty").thumbnail() is None
    hist.start("junk", "nano-banana", {"prompt": "x"})
    hist.images("junk", [(b"\x89PNG\r\n\x1a\n broken", "image/png")])
    assert hist.get("junk").thumbnail() is None
    with pytest.raises(ValueError, match="max_side"):
        hist.get("junk").thumbnail(0)


def test_thumbnail_sizes_are_cached_separately(hist: History) -> None:
    run_to_end(hist, "r1")
    entry = hist.get("r1")
    small, large = entry.thumbnail(16), entry.thumbnail(32)
    assert small is not None and large is not None
    with Image.open(io.BytesIO(small)) as a, Image.open(io.BytesIO(large)) as b:
        assert max(a.size) == 16 and max(b.size) == 32


# --- blobs --------------------------------------------------------------------------------------


def test_long_data_uris_are_stored_once_outside_the_journal(hist: History) -> None:
    reference = "data:image/png;base64," + "B" * 200_000
    for run_id in ("edit-1", "edit-2"):
        hist.start(run_id, "nano-banana-edit", {"prompt": "edit", "image_urls": [reference]})

    assert (hist.folder / "journal.jsonl").stat().st_size < 2_000
    assert len(list((hist.folder / "blobs").iterdir())) == 1
    assert History(hist.folder).get("edit-2").input["image_urls"] == [reference]

    hist.remove("edit-1")
    assert len(list((hist.folder / "blobs").iterdir())) == 1  # still used by edit-2
    assert hist.get("edit-2").input["image_urls"] == [reference]
    hist.remove("edit-2")
    assert list((hist.folder / "blobs").iterdir()) == []


def test_entries_return_copies(hist: History) -> None:
    hist.start("r1", "nano-banana", {"prompt": "x", "image_size": {"width": 1}})
    hist.entries()[0].input["image_size"]["width"] = 99
    assert hist.get("r1").input == {"prompt": "x", "image_size": {"width": 1}}


# --- manage -------------------------------------------------------------------------------------


def test_remove_deletes_the_entry_and_its_files(hist: History) -> None:
    kept = run_to_end(hist, "keep")
    paths = run_to_end(hist, "drop")
    hist.get("drop").thumbnail()
    thumbs = hist.folder / "images" / ".thumbs"
    assert any(thumbs.iterdir())

    hist.remove("drop")

    assert not any(p.exists() for p in paths)
    assert list(thumbs.iterdir()) == []
    assert "drop" not in hist
    assert [e.run_id for e in History(hist.folder).entries()] == ["keep"]
    assert all(p.is_file() for p in kept)
    last = json.loads((hist.folder / "journal.jsonl").read_text().splitlines()[-1])
    assert (last["op"], last["run_id"]) == ("removed", "drop")
    with pytest.raises(KeyError, match="drop"):
        hist.remove("drop")


def test_get_unknown_run_raises_key_error(hist: History) -> None:
    with pytest.raises(KeyError, match="nope"):
        hist.get("nope")


def test_export_copies_images_and_writes_an_index(hist: History, sandbox: Path) -> None:
    first = run_to_end(hist, "r1")
    hist.start("r2", "gpt-image-2", {"prompt": '=HYPERLINK("http://evil")', "seed": 2})
    hist.submitted("r2", "hub-r2")
    second = hist.images(
        "r2",
        [(solid_image((10, 90, 200), (40, 30), "JPEG"), "image/jpeg"), (solid_png(), "image/png")],
    )
    hist.finished("r2", "completed", elapsed_s=30.0)
    run_to_end(hist, "not-exported")

    target = hist.export(["r2", "r1"], sandbox / "out")

    assert target == (sandbox / "out").resolve()
    copied = sorted(p.name for p in target.iterdir())
    assert copied == sorted(["index.csv", "index.json", *[p.name for p in first + second]])
    for source in first + second:
        assert (target / source.name).read_bytes() == source.read_bytes()

    index = json.loads((target / "index.json").read_text())
    assert [row["run_id"] for row in index["runs"]] == ["r2", "r1"]
    assert index["runs"][0]["files"] == [p.name for p in second]
    assert index["runs"][0]["input"] == {"prompt": '=HYPERLINK("http://evil")', "seed": 2}
    assert index["runs"][0]["task_id"] == "hub-r2"

    with open(target / "index.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["run_id"] for row in rows] == ["r2", "r1"]
    assert rows[0]["model"] == "gpt-image-2"
    assert rows[0]["prompt"] == '\'=HYPERLINK("http://evil")'  # never a live formula
    assert rows[0]["files"] == ";".join(p.name for p in second)
    assert rows[1]["status"] == "completed"


def test_export_refuses_unknown_runs_and_the_history_folder(hist: History, sandbox: Path) -> None:
    run_to_end(hist, "r1")
    with pytest.raises(KeyError, match="missing"):
        hist.export(["r1", "missing"], sandbox / "out")
    with pytest.raises(ValueError, match="outside the history folder"):
        hist.export(["r1"], hist.folder / "export")
    with pytest.raises(TypeError):
        hist.export("r1", sandbox / "out")


def test_size_bytes_counts_everything_on_disk(hist: History) -> None:
    empty = hist.size_bytes()
    run_to_end(hist, "r1")
    paths = run_to_end(hist, "r2")
    expected = sum(p.stat().st_size for p in all_files(hist.folder))
    assert hist.size_bytes() == expected > empty
    image_size = paths[0].stat().st_size
    hist.remove("r2")
    assert hist.size_bytes() == expected - image_size + _removed_record_size(hist)


def _removed_record_size(history: History) -> int:
    return len((history.folder / "journal.jsonl").read_bytes().splitlines(keepends=True)[-1])


def test_typical_seconds_is_the_median_of_completed_runs(hist: History, clock: FakeClock) -> None:
    assert hist.typical_seconds("nano-banana") is None
    for n, seconds in enumerate([4.0, 9.0, 5.0]):
        run_to_end(hist, f"ok-{n}", elapsed=seconds)
    hist.start("bad", "nano-banana", {"prompt": "x"})
    hist.finished("bad", "failed", elapsed_s=100.0)
    run_to_end(hist, "other", model="gpt-image-2", elapsed=40.0)

    assert hist.typical_seconds("nano-banana") == 5.0
    assert hist.typical_seconds("gpt-image-2") == 40.0

    # Without a measured elapsed time, submission to finish is used.
    hist.start("unmeasured", "nano-banana-2", {"prompt": "x"})
    hist.submitted("unmeasured", "hub-u")
    clock.advance(12)
    hist.finished("unmeasured", "completed")
    assert hist.typical_seconds("nano-banana-2") == 12.0


def test_typical_seconds_after_a_burst_is_not_the_slowest_runs(
    hist: History, clock: FakeClock
) -> None:
    # 2 x TYPICAL_WINDOW runs started together; they finish in order of their duration, so the
    # last TYPICAL_WINDOW to finish are the slowest half. The recently *started* half is a fair
    # sample: durations 1..100 s assigned out of start order.
    count = 2 * TYPICAL_WINDOW
    durations = [float(1 + (37 * n) % count) for n in range(count)]  # a permutation of 1..100
    for n in range(count):
        hist.start(f"burst-{n}", "nano-banana", {"prompt": "x"})
        hist.submitted(f"burst-{n}", f"task-{n}")
        clock.advance(0.01)
    for n in sorted(range(count), key=lambda n: durations[n]):
        hist.finished(f"burst-{n}", "completed", elapsed_s=durations[n])
        clock.advance(0.01)

    recent = hist.recent_durations("nano-banana")
    assert recent == durations[-TYPICAL_WINDOW:]  # the last started, in start order
    assert hist.typical_seconds("nano-banana") == statistics.median(durations[-TYPICAL_WINDOW:])
    assert 40.0 <= statistics.median(recent) <= 61.0  # the slowest half's median would be 75.5


def test_open_history_goes_on_without_one_when_the_folder_cannot_be_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from mountsea_widgets.history import open_history

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MOUNTSEA_HISTORY_DIR", str(blocker / "history"))
    assert open_history(None) is None
    assert "not kept in the history" in capsys.readouterr().err
    assert open_history(False) is None
    mine = History(tmp_path / "mine")
    assert open_history(mine) is mine
    monkeypatch.setenv("MOUNTSEA_HISTORY_DIR", str(tmp_path / "standard"))
    standard = open_history(True)
    assert standard is not None and standard.folder == tmp_path / "standard"
