"""What a killed process leaves in a history is removed when it is first read, and only that.

Temporary files of an atomic write and image files that no journal record references (of runs
that ended or were removed) go; everything the journal references, files of runs still
pending, files of unknown runs, names that are not ours and anything recent (another process
may be writing it right now) stay. Ages come from the history's injected clock and from the
files' modification times set by the test, never from how fast the machine is.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from PIL import Image

from mountsea_widgets.history import LEFTOVER_AGE_S, History

NOW = 1_800_000_000.0
OLD = NOW - 2 * LEFTOVER_AGE_S


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def png(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), color).save(buffer, format="PNG")
    return buffer.getvalue()


def all_files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def age_everything(folder: Path, stamp: float = OLD) -> None:
    for path in folder.rglob("*"):
        os.utime(path, (stamp, stamp))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A history with an ended run, a pending run and a removed run, all journalled."""
    hist = History(tmp_path / "history", clock=Clock())
    hist.start("r-done", "nano-banana", {"prompt": "done"})
    hist.submitted("r-done", "hub-1")
    hist.images("r-done", [(png((1, 2, 3)), "image/png"), (png((4, 5, 6)), "image/png")])
    hist.finished("r-done", "completed", elapsed_s=3.0)
    hist.start("r-pending", "nano-banana", {"prompt": "pending"})
    hist.submitted("r-pending", "hub-2")
    hist.start("r-gone", "nano-banana", {"prompt": "gone"})
    hist.submitted("r-gone", "hub-3")
    (gone,) = hist.images("r-gone", [(png((7, 8, 9)), "image/png")])
    hist.finished("r-gone", "completed")
    kept = gone.read_bytes()
    hist.remove("r-gone")
    gone.write_bytes(kept)  # as if the process died after the record, before the unlink
    return hist.folder


LEFTOVERS = {
    "images/r-done_2.png",  # written, never journalled, and its run has ended
    "images/r-gone_0.png",  # a removed run's image the removal did not get to
    "images/.r-done_3.png.0123456789ab.tmp",  # temporary files of killed atomic writes
    "images/.thumbs/.r-done_0.384.jpg.0123456789ab.tmp",
    "blobs/.0f0f.txt.0123456789ab.tmp",
    ".index.json.0123456789ab.tmp",
}
NOT_OURS_TO_REMOVE = {
    "images/r-pending_0.png",  # its run may still be resumed: resuming reuses it
    "images/someone-else_0.png",  # no such run in the journal
    "images/r-done_notes.txt",  # not a name the history gives
    "images/r-done_0.png.tmp",  # not a temporary name of ours
}


def leave(folder: Path, names: set[str]) -> None:
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".png") and not path.exists():
            path.write_bytes(png((200, 100, 0)))
        elif not path.exists():
            path.write_bytes(b"x" * 1000)


def test_leftovers_are_removed_when_the_history_is_read(folder: Path) -> None:
    leave(folder, LEFTOVERS | NOT_OURS_TO_REMOVE)
    age_everything(folder)
    before = History(folder, clock=Clock(OLD))  # a clock at the files' age: nothing is old yet
    entries = [(e.run_id, e.status, e.files) for e in before.entries()]
    assert all_files(folder) >= LEFTOVERS
    removed_bytes = sum((folder / name).stat().st_size for name in LEFTOVERS)
    size = before.size_bytes()

    reopened = History(folder, clock=Clock())
    assert all_files(folder) >= LEFTOVERS  # opening reads nothing yet (the Studio reads later)
    listed = [(e.run_id, e.status, e.files) for e in reopened.entries()]

    remaining = all_files(folder)
    assert not LEFTOVERS & remaining
    assert remaining >= NOT_OURS_TO_REMOVE
    assert listed == entries
    done = reopened.get("r-done")
    assert [p.name for p in done.files] == ["r-done_0.png", "r-done_1.png"]
    assert all(p.is_file() for p in done.files)  # journalled files are never touched
    assert reopened.size_bytes() == size - removed_bytes


def test_the_size_on_disk_never_counts_old_leftovers(folder: Path) -> None:
    leave(folder, LEFTOVERS)
    age_everything(folder)
    journalled = sum(
        path.stat().st_size
        for path in folder.rglob("*")
        if path.is_file() and str(path.relative_to(folder)) not in LEFTOVERS
    )

    assert History(folder, clock=Clock()).size_bytes() == journalled


def test_recent_files_are_kept_as_another_process_may_be_writing_them(folder: Path) -> None:
    leave(folder, LEFTOVERS)
    age_everything(folder, NOW - LEFTOVER_AGE_S / 2)

    assert len(History(folder, clock=Clock())) == 2

    assert all_files(folder) >= LEFTOVERS


def test_image_files_stay_when_a_journal_line_cannot_be_read(folder: Path) -> None:
    leave(folder, LEFTOVERS)
    with open(folder / "journal.jsonl", "ab") as journal:
        journal.write(b'{"op": "images", "run_id": "r-done", "files": [{"name": "images/r-\n')
    age_everything(folder)

    assert len(History(folder, clock=Clock())) == 2

    remaining = all_files(folder)
    # The damaged line may have been the record of those images: they stay. Temporaries go.
    assert {"images/r-done_2.png", "images/r-gone_0.png"} <= remaining
    assert not {name for name in LEFTOVERS if name.endswith(".tmp")} & remaining


def test_a_history_without_images_is_read_without_touching_anything(tmp_path: Path) -> None:
    empty = tmp_path / "history"
    assert History(empty, clock=Clock()).entries() == []
    assert all_files(empty) == set()  # reading creates no journal


# --- real kills ----------------------------------------------------------------------------------

_KILLED = textwrap.dedent(
    """
    import io, os, signal, sys
    from PIL import Image
    import mountsea_widgets._image_files as image_files
    from mountsea_widgets.history import History
    from mountsea_widgets._journal import Journal

    folder, where = sys.argv[1], sys.argv[2]
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (9, 9, 9)).save(buffer, format="PNG")
    hist = History(folder)
    hist.start("r1", "nano-banana", {"prompt": "killed"})
    hist.submitted("r1", "hub-1")
    real_append, real_replace = Journal.append, os.replace

    def append(self, record):
        if where == "journal" and record.get("op") == "images":
            os.kill(os.getpid(), signal.SIGKILL)  # the image is on disk, its record is not
        real_append(self, record)

    def replace(source, target):
        if where == "replace" and str(source).endswith(".tmp"):
            os.kill(os.getpid(), signal.SIGKILL)  # the bytes are in the temporary file only
        real_replace(source, target)

    Journal.append = append
    image_files.os.replace = replace
    hist.images("r1", [(buffer.getvalue(), "image/png")])
    """
)


def killed_while_saving(folder: Path, where: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _KILLED, str(folder), where],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode(errors="replace")


def test_an_image_saved_just_before_a_kill_is_reused_when_the_run_resumes(tmp_path: Path) -> None:
    folder = tmp_path / "history"
    killed_while_saving(folder, "journal")
    (stray,) = (folder / "images").iterdir()
    image = Image.new("RGB", (4, 4), (9, 9, 9))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")

    hist = History(folder, clock=lambda: time.time() + 2 * LEFTOVER_AGE_S)
    assert len(hist) == 1
    assert stray.is_file()  # the run is pending: its image is kept for the resume
    assert hist.get("r1").files == []
    (path,) = hist.images("r1", [(buffer.getvalue(), "image/png")])  # the resumed download

    assert path == stray
    assert [p.name for p in (folder / "images").iterdir()] == [stray.name]
    assert hist.get("r1").files == [stray]


def test_a_temporary_file_of_a_killed_write_is_removed_once_old(tmp_path: Path) -> None:
    folder = tmp_path / "history"
    killed_while_saving(folder, "replace")
    names = os.listdir(folder / "images")
    assert len(names) == 2 and any(n.endswith(".tmp") for n in names), names

    assert len(History(folder)) == 1  # the temporary file is recent: it may still be written
    assert len(os.listdir(folder / "images")) == 2
    hist = History(folder, clock=lambda: time.time() + 2 * LEFTOVER_AGE_S)
    assert len(hist) == 1

    remaining = os.listdir(folder / "images")
    assert not [n for n in remaining if n.endswith(".tmp")]
    # The empty file that reserved the name is not journalled either: a resume writes it again.
    (path,) = hist.images("r1", [(png((9, 9, 9)), "image/png")])
    assert path.stat().st_size > 0 and hist.get("r1").files == [path]
