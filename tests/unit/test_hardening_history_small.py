"""Smaller hardening cases, each on one layer (no socket):

* a pending history run of a model this version does not know is shown, read-only, saying
  why, and never adopted (its task stays pending in the journal);
* a journalled file record without ``sha256`` does not break saving a resumed run's images;
* ``Infinity`` (or NaN, or a huge number) in the journal is a missing number, and the task
  cell shows a time it cannot format as unknown;
* ``Result._repr_png_`` shows a CMYK JPEG;
* a local file that is not an image is named by its kind in errors, never by its bytes;
* the history folder, its sub-folders and its files are private to their owner.
"""

from __future__ import annotations

import io
import json
import os
import stat
import sys
from pathlib import Path

import pytest
from PIL import Image

from mountsea_widgets import errors
from mountsea_widgets._file_kinds import describe_kind
from mountsea_widgets._image_input import prepare_input, to_reference
from mountsea_widgets._resumption import run_for_entry, runs_to_resume
from mountsea_widgets.history import History
from mountsea_widgets.magics import build_input
from mountsea_widgets.result import Result
from mountsea_widgets.widgets.task_cell import TaskCell

SHADOW = b"root:*:20228:0:99999:7:::\ndaemon:*:20228:0:99999:7:::\n"


def png(color: str = "red", side: int = 8) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (side, side), color).save(buffer, format="PNG")
    return buffer.getvalue()


def append_records(history: History, *records: dict[str, object]) -> None:
    """Journal lines as another (older, newer or damaged) writer left them."""
    with (history.folder / "journal.jsonl").open("a", encoding="utf-8") as journal:
        for record in records:
            journal.write(json.dumps(record) + "\n")


# --- a model this version does not know -------------------------------------------------------


def test_a_pending_run_of_an_unknown_model_is_shown_read_only_saying_why(tmp_path: Path) -> None:
    history = History(tmp_path / "history")
    history.start("future1", "nano-banana-9000", {"prompt": "from a newer version"}, 1.0)
    history.submitted("future1", "hub-task-77")
    entry = history.get("future1")

    run, fresh = run_for_entry(history, entry)

    assert fresh is False  # never adopted, never polled here
    assert (run.model, run.task_id, run.status, run.resumable) == (
        "nano-banana-9000",
        "hub-task-77",
        "error",
        False,
    )
    assert run.error is not None
    assert "does not know the model 'nano-banana-9000'" in run.error
    assert "read-only" in run.error
    assert "mw.Client().wait('hub-task-77')" in run.error
    assert runs_to_resume(history) == []
    assert history.get("future1").is_pending  # the journal keeps the task for a later version

    cell = TaskCell(run, on_reuse=lambda _r: None, on_resume=lambda _r: None)
    assert cell.record["model"] == "nano-banana-9000"
    assert "does not know the model" in cell.record["error"]
    assert "resume" not in cell.record["actions"]
    assert "reuse" not in cell.record["actions"]
    cell.close()


def test_a_finished_run_of_an_unknown_model_keeps_its_outcome_with_a_note(tmp_path: Path) -> None:
    history = History(tmp_path / "history")
    history.start("old1", "retired-model", {"prompt": "long ago"}, 1.0)
    history.submitted("old1", "hub-task-1")
    history.images("old1", [(png(), "image/png")])
    history.finished("old1", "completed", None, 3.0)

    run, fresh = run_for_entry(history, history.get("old1"))

    assert (fresh, run.status, len(run.files)) == (False, "completed", 1)
    assert any("does not know the model 'retired-model'" in text for text in run.warnings)


# --- a file record without its digest ---------------------------------------------------------


def test_a_file_record_without_sha256_does_not_break_saving_a_resumed_runs_images(
    tmp_path: Path,
) -> None:
    history = History(tmp_path / "history")
    history.start("r1", "nano-banana", {"prompt": "x"}, 1.0)
    history.submitted("r1", "hub-1")
    (history.folder / "images").mkdir(exist_ok=True)
    (history.folder / "images" / "r1_0.png").write_bytes(png("blue"))
    append_records(
        history, {"op": "images", "run_id": "r1", "files": [{"name": "images/r1_0.png"}]}
    )

    paths = history.images("r1", [(png("green"), "image/png")])

    assert len(paths) == 1 and paths[0].name != "r1_0.png"  # saved beside, nothing overwritten
    assert [path.name for path in history.get("r1").files] == ["r1_0.png", paths[0].name]


# --- numbers no clock can show ----------------------------------------------------------------


@pytest.mark.parametrize("bad", [float("inf"), float("-inf"), float("nan"), 10**400])
def test_a_journalled_time_that_is_not_a_real_number_counts_as_missing(
    tmp_path: Path, bad: float
) -> None:
    history = History(tmp_path / "history")
    text = json.dumps(
        {"op": "start", "run_id": "r1", "model": "nano-banana", "input": {}, "created": bad}
    )
    text = text[:-1] + ', "t": 1700000000.0}'
    with (history.folder / "journal.jsonl").open("a", encoding="utf-8") as journal:
        journal.write(text + "\n")
        journal.write(json.dumps({"op": "submitted", "run_id": "r1", "task_id": "t1"}) + "\n")
        finished = {"op": "finished", "run_id": "r1", "status": "failed", "t": 1700000005.0}
        journal.write(json.dumps({**finished, "elapsed_s": bad}))
        journal.write("\n")

    entry = history.get("r1")

    assert entry.created == 1700000000.0  # the record's own time stamp instead
    assert entry.elapsed_s is None
    run, _ = run_for_entry(history, entry)
    cell = TaskCell(run)
    assert cell.record["started"] != "at an unknown time" and cell.record["status"] != "error"
    cell.close()


def test_the_task_cell_says_unknown_for_a_start_time_no_clock_can_show(tmp_path: Path) -> None:
    history = History(tmp_path / "history")
    history.start("r1", "nano-banana", {"prompt": "x"}, 1e300)
    history.finished("r1", "failed", "no", 1.0)
    run, _ = run_for_entry(history, history.get("r1"))
    cell = TaskCell(run)
    assert cell.record["started"] == "at an unknown time"
    assert "at an unknown time" in cell.fallback_html() or cell.run.status in cell.fallback_html()
    cell.close()


# --- a CMYK JPEG on display -------------------------------------------------------------------


def test_repr_png_shows_a_cmyk_jpeg() -> None:
    buffer = io.BytesIO()
    Image.new("CMYK", (12, 8), (0, 255, 255, 0)).save(buffer, format="JPEG")
    result = Result(
        task_id="t1",
        model="nano-banana",
        input={},
        status="completed",
        urls=["https://cdn.test/1.jpg"],
        image_bytes=[buffer.getvalue()],
        content_types=["image/jpeg"],
    )

    shown = result._repr_png_()

    assert shown is not None
    image = Image.open(io.BytesIO(shown))
    assert (image.format, image.size, image.mode) == ("PNG", (12, 8), "RGB")
    red, green, blue = image.getpixel((6, 4))  # type: ignore[misc]
    assert red > 200 and green < 60 and blue < 60  # CMYK (0, 255, 255, 0) is red


# --- a local file that is not an image --------------------------------------------------------


def test_a_local_non_image_file_is_named_by_its_kind_never_its_bytes(tmp_path: Path) -> None:
    secret = tmp_path / "shadow"
    secret.write_bytes(SHADOW)

    with pytest.raises(errors.ImageError) as info:
        to_reference(secret)
    assert "a text file" in str(info.value) and "not an image" in str(info.value)
    assert "daemon" not in str(info.value) and "20228" not in str(info.value)

    with pytest.raises(errors.ValidationError) as problems:
        prepare_input("nano-banana-edit", {"prompt": "x", "image_urls": [secret]})
    assert "a text file" in str(problems.value)
    assert "daemon" not in str(problems.value) and "20228" not in str(problems.value)


def test_the_magic_names_the_kind_of_a_file_given_as_an_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "shadow").write_bytes(SHADOW)
    with pytest.raises(errors.ValidationError) as info:
        build_input("nano-banana-edit --image_urls etc/shadow", "make it blue")
    text = str(info.value)
    assert "etc/shadow" in text and "a text file" in text
    assert "daemon" not in text and "20228" not in text and "b'" not in text


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"", "an empty file"),
        (b"%PDF-1.7\n%\xe2\xe3", "a PDF document"),
        (b"PK\x03\x04rest", "a ZIP archive (or an Office document)"),
        (b"\x7fELF\x02\x01", "a program (an executable file)"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "an SVG drawing"),
        (b"\x00\x01\x02\x03", "binary data"),
        ("caf\u00e9 au lait".encode() * 2000, "a text file"),
    ],
)
def test_kinds_of_files(data: bytes, kind: str) -> None:
    assert describe_kind(data).startswith(kind)


# --- a private history ------------------------------------------------------------------------

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="Unix permissions")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@posix_only
def test_the_history_its_folders_and_its_files_are_private(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        history = History(tmp_path / "history")
        history.start(
            "r1", "nano-banana-edit", {"prompt": "x", "image_urls": ["data:," + "A" * 5000]}
        )
        history.submitted("r1", "hub-1")
        [image] = history.images("r1", [(png(), "image/png")])
        history.finished("r1", "completed", None, 1.0)
        assert history.get("r1").thumbnail() is not None
    finally:
        os.umask(previous)
    folder = history.folder
    assert _mode(folder) == 0o700
    for sub in ("images", "blobs", "images/.thumbs"):
        assert _mode(folder / sub) == 0o700, sub
    files = [path for path in folder.rglob("*") if path.is_file()]
    assert {path.name for path in files} >= {"journal.jsonl", image.name}
    assert any(path.parent.name == "blobs" for path in files)
    assert any(path.parent.name == ".thumbs" for path in files)
    assert {path.name: _mode(path) for path in files} == {path.name: 0o600 for path in files}


@posix_only
def test_an_existing_history_folder_of_the_user_is_tightened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "shared-looking"
    (folder / "images").mkdir(parents=True)
    folder.chmod(0o755)
    (folder / "images").chmod(0o777)
    (folder / "journal.jsonl").write_text("")
    (folder / "journal.jsonl").chmod(0o644)
    monkeypatch.setenv("MOUNTSEA_HISTORY_DIR", str(folder))

    history = History()
    history.start("r1", "nano-banana", {"prompt": "x"})
    history.images("r1", [(png(), "image/png")])

    assert history.folder == folder.resolve()
    assert _mode(folder) == 0o700
    assert _mode(folder / "images") == 0o700
    assert _mode(folder / "journal.jsonl") == 0o600


@posix_only
def test_exported_copies_keep_the_usual_permissions(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        history = History(tmp_path / "history")
        history.start("r1", "nano-banana", {"prompt": "x"})
        history.images("r1", [(png(), "image/png")])
        history.finished("r1", "completed", None, 1.0)
        target = history.export(["r1"], tmp_path / "my-export")
    finally:
        os.umask(previous)
    assert _mode(target) == 0o755
    modes = {path.name: _mode(path) for path in target.iterdir()}
    assert modes and set(modes.values()) == {0o644}, modes
