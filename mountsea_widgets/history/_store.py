"""The history store: the journal replayed into runs, and every change written to it."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import re
import stat
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from .._image_files import (
    MAX_CANDIDATES,
    copy_names,
    file_stem,
    image_metadata,
    is_temp_name,
    with_metadata,
    write_image,
)
from .._image_files import write_atomic as _write_atomic
from .._journal import Journal
from ..errors import scrub
from ..metadata import embed, extension_for
from ._blobs import Blobs
from ._entry import HistoryEntry
from ._export import RECORD_COLUMNS, _index_csv, _index_row
from ._layout import (
    _IMAGE_NAME,
    _SECRET_NAMES,
    BLOBS_DIR,
    IMAGES_DIR,
    JOURNAL_NAME,
    LEFTOVER_AGE_S,
    RECORD_VERSION,
    STATUS_CREATED,
    STATUS_REFUSED,
    STATUS_SUBMITTED,
    THUMBS_DIR,
    TYPICAL_WINDOW,
    _unlink,
    default_folder,
)
from ._permissions import PRIVATE_FILE_MODE, private_folder, tighten
from ._thumbnails import _remove_thumbnails

if TYPE_CHECKING:
    from ..client import AsyncClient, Client
    from ..run import Run

log = logging.getLogger("mountsea_widgets.history")


# --- the store -----------------------------------------------------------------------------------


@dataclass
class _Run:
    """Mutable merged state of one run while replaying the journal."""

    run_id: str
    seq: int
    created: float
    model: str = ""
    input: dict[str, Any] = field(default_factory=dict)  # with blob marks, as journalled
    blobs: list[str] = field(default_factory=list)
    task_id: str | None = None
    submitted_at: float | None = None
    status: str = STATUS_CREATED
    finished: float | None = None
    elapsed_s: float | None = None
    #: The task's own time: the hub's ``elapsed_ms`` (else how long the client waited for the
    #: task); what poll timing learns from.
    task_s: float | None = None
    error: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    #: The estimated cost journalled with the run (None in journals written before costs).
    cost: dict[str, Any] | None = None
    #: Parameters sent although the catalog refused their values (``strict=False``).
    unchecked: list[str] = field(default_factory=list)


class History:
    """The run history in ``folder`` (created if missing); see the module docstring.

    Safe to use from several threads and from several processes sharing the folder. ``clock``
    gives the Unix time stamped on records (injectable for tests).
    """

    def __init__(
        self, folder: str | Path | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.folder = Path(folder).expanduser() if folder is not None else default_folder()
        # 0o700: prompts and images are private; only the owner may read the history (an
        # existing folder of the user's is tightened, see _permissions).
        private_folder(self.folder, parents=True)
        self.folder = self.folder.resolve()
        tighten(self.folder / JOURNAL_NAME, PRIVATE_FILE_MODE)
        self._clock = clock
        self._journal = Journal(self.folder / JOURNAL_NAME)
        self._runs: dict[str, _Run] = {}
        #: Runs removed: records that still arrive for them (a run ending late) are ignored.
        self._removed: set[str] = set()
        self._seq = 0
        self._lock = threading.RLock()
        self._blobs = Blobs(self.folder / BLOBS_DIR)
        #: Whether the leftovers of killed writes were looked for (done on the first reading,
        #: which the Studio does off the kernel's thread).
        self._tidied = False

    def __repr__(self) -> str:
        with self._lock:
            self._refresh()
            return f"History({str(self.folder)!r}, {len(self._runs)} runs)"

    def __len__(self) -> int:
        with self._lock:
            self._refresh()
            return len(self._runs)

    # --- recording a run -------------------------------------------------------------------

    def start(
        self,
        run_id: str,
        model: str,
        input: dict[str, Any],
        created: float | None = None,
        cost: Mapping[str, Any] | None = None,
        *,
        unchecked: Iterable[str] = (),
    ) -> None:
        """Record a run about to be submitted: its model and the exact input JSON.

        ``cost`` is the run's estimated cost as data (optional: older journals have none).

        Keys that look like credentials (``api_key``, ``authorization``...) are dropped, and
        long data: URIs are stored once in ``blobs/`` (the entry's ``input`` still has them).
        ``unchecked``: parameters sent although the catalog refused their values
        (``strict=False``), recorded as the record's optional ``"unchecked"`` list (readers
        that do not know the field skip it).
        """
        _check_run_id(run_id)
        clean = _clean_input(input)
        names = [str(name) for name in unchecked]
        with self._lock, self._journal.locked():
            journalled, blobs = self._blobs.store(clean)
            record: dict[str, Any] = {
                "op": "start",
                "run_id": run_id,
                "model": str(model),
                "input": journalled,
                "blobs": blobs,
                "created": self._clock() if created is None else float(created),
            }
            if cost is not None:
                record["cost"] = dict(cost)
            if names:
                record["unchecked"] = names
            self._append(record)

    def submitted(self, run_id: str, task_id: str, model: str | None = None) -> None:
        """Record the hub's task id. Call it the moment the id is known, before polling.

        ``model`` is recorded again beside the id, so the run can be resumed even if its
        ``start`` record could not be written.
        """
        _check_run_id(run_id)
        if not isinstance(task_id, str) or not task_id:
            raise ValueError(f"task_id must be a non-empty string, got {task_id!r}")
        record: dict[str, Any] = {"op": "submitted", "run_id": run_id, "task_id": task_id}
        if model:
            record["model"] = str(model)
        with self._lock:
            self._append(record)

    def refused(self, run_id: str, status_code: int | None = None) -> None:
        """Record that the hub refused the run's submit (429, 503) before accepting anything.

        Write it before waiting the refusal out: until :meth:`sending` says another attempt
        went out, the run is safe to send again (see :attr:`HistoryEntry.is_refused`).
        ``status_code``: the hub's answer (None: the request never left this machine).
        """
        _check_run_id(run_id)
        record: dict[str, Any] = {"op": "refused", "run_id": run_id}
        if status_code is not None:
            record["status_code"] = int(status_code)
        with self._lock:
            self._append(record)

    def sending(self, run_id: str) -> None:
        """Record that a refused run's submit is being sent again (before it goes out): from
        now on the hub may accept it, so it must never be sent again without its task id."""
        _check_run_id(run_id)
        with self._lock:
            self._append({"op": "sending", "run_id": run_id})

    def images(self, run_id: str, images: list[tuple[bytes, str]]) -> list[Path]:
        """Save downloaded images (``(bytes, content_type)`` pairs) and return their paths.

        Each file gets the run's metadata embedded (model, input, task id, time) and is written
        atomically. Bytes already saved for this run are not saved twice (a resumed run may
        download them again): their existing path is returned. Identical images within one call
        are each saved (the hub sent them as separate images). An image whose metadata cannot
        be embedded is still saved, as received: a paid image is never dropped.
        """
        _check_run_id(run_id)
        images = list(images)
        for position, item in enumerate(images):
            if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], bytes)):
                raise TypeError(
                    f"images[{position}] must be a (bytes, content_type) tuple, "
                    f"got {type(item).__name__}"
                )
        with self._lock:
            self._refresh()
            if run_id in self._removed:
                return []  # the user removed this run: its late images are not kept
            run = self._runs.get(run_id)
            # A record without a digest (an older or damaged journal) matches nothing: the
            # image is then saved once more, never lost, and nothing raises.
            known = {
                f["sha256"]: self._path_of(f)
                for f in (run.files if run else ())
                if isinstance(f.get("sha256"), str)
            }
            count = len(run.files) if run else 0
            folder = self.folder / IMAGES_DIR
            private_folder(folder)
            stem = file_stem(run_id)
            paths: list[Path] = []
            saved: list[dict[str, Any]] = []
            number = count  # file numbers go on from the run's last file (from 0)
            try:
                for data, content_type in images:
                    digest = hashlib.sha256(data).hexdigest()
                    existing = known.get(digest)
                    if existing is not None:
                        paths.append(existing)
                        continue
                    ext = extension_for(data, content_type)
                    content = self._with_metadata(run, run_id, count, data, content_type)
                    # Never overwrite (e.g. a file left by a crash before it was journalled):
                    # the next free number is taken. ``_write_atomic`` is looked up here, at
                    # call time, so that tests can make the disk fail.
                    names = (f"{stem}_{n}.{ext}" for n in range(number, number + MAX_CANDIDATES))
                    path = write_image(folder, names, content, write=_write_private)
                    record = {
                        "name": f"{IMAGES_DIR}/{path.name}",
                        "sha256": digest,
                        "bytes": len(data),
                    }
                    saved.append(record)
                    paths.append(path)
                    count += 1
                    number = int(path.stem.rpartition("_")[2]) + 1
            finally:
                # Even when a later image fails (a full disk), the ones written are journalled:
                # a resumed run then only has to save the rest.
                if saved:
                    self._append({"op": "images", "run_id": run_id, "files": saved})
            return paths

    def finished(
        self,
        run_id: str,
        status: str,
        error: str | None = None,
        elapsed_s: float | None = None,
        task_s: float | None = None,
        cost: Mapping[str, Any] | None = None,
    ) -> None:
        """Record how the run ended (``completed``, ``failed``, ``cancelled``, ``timeout``...).

        ``cost``: what a completed run is estimated to have cost (optional; the hub bills only
        completed tasks, so other endings carry none).

        ``elapsed_s`` is the run's time as the person saw it (submission, waiting, download);
        ``task_s`` the task's own time (the hub's ``elapsed_ms`` when it reported one).
        """
        _check_run_id(run_id)
        if not isinstance(status, str) or not status:
            raise ValueError(f"status must be a non-empty string, got {status!r}")
        message = None if error is None else _scrub_key(str(error))[:4000]
        record: dict[str, Any] = {
            "op": "finished",
            "run_id": run_id,
            "status": status,
            "error": message,
            "elapsed_s": None if elapsed_s is None else float(elapsed_s),
            "task_s": None if task_s is None else float(task_s),
        }
        if cost is not None:
            record["cost"] = dict(cost)
        with self._lock:
            self._append(record)

    # --- reading ---------------------------------------------------------------------------

    def entries(self) -> list[HistoryEntry]:
        """Every run, newest first. Reads only the journal (no image is opened)."""
        with self._lock:
            self._refresh()
            runs = sorted(self._runs.values(), key=lambda r: (r.created, r.seq), reverse=True)
            return [self._entry(run) for run in runs]

    def records(self) -> list[dict[str, Any]]:
        """Every run as a plain dict, newest first: run_id, model, prompt, status, task_id,
        created (Unix time and UTC text), finished, elapsed_s, error, files (absolute paths)
        and input, the fields of :meth:`export`'s index."""
        return [_index_row(entry, [str(path) for path in entry.files]) for entry in self.entries()]

    def to_pandas(self) -> Any:
        """:meth:`records` as a pandas DataFrame, the same columns in the same order (also for
        an empty history). pandas is an optional extra: without it, an ImportError says to
        ``pip install pandas``."""
        from .._frames import to_pandas

        return to_pandas(self.records(), columns=RECORD_COLUMNS, what="History.records()")

    def pending(self) -> list[HistoryEntry]:
        """Runs that were submitted (have a task id) but never finished: resume polling these."""
        return [entry for entry in self.entries() if entry.is_pending]

    def refused_runs(self) -> list[HistoryEntry]:
        """Runs the hub refused (429, 503) and that were not sent again before their session
        ended: nothing was accepted, so :meth:`resume` sends them again."""
        return [entry for entry in self.entries() if entry.is_refused]

    def resume(self, client: AsyncClient | Client | None = None) -> list[Run]:
        """Poll again every run that has a task id but no outcome, send again every run the
        hub refused before accepting anything (see :meth:`refused_runs`), and wait until they
        settle.

        For scripts and after a crash: nothing is submitted twice (a run whose request may have
        reached the hub without an answer is never sent again), images are saved and
        journalled as in a Studio, and runs another live session carries out are left to it.
        Returns the runs resumed here (see each ``run.status`` / ``run.error``). ``client``:
        a client for the hub the tasks were created on (default: the configured one).
        """
        from .._launch import Launcher

        launcher = Launcher(client, self)  # a client that cannot work is refused here

        async def resume() -> list[Run]:
            async with launcher:
                return await launcher.resume_pending()

        return launcher.runner.run(resume())

    def get(self, run_id: str) -> HistoryEntry:
        """The entry of one run; ``KeyError`` if the history has no such run."""
        with self._lock:
            self._refresh()
            run = self._runs.get(run_id)
            if run is None:
                raise KeyError(f"no run {run_id!r} in the history at {self.folder}")
            return self._entry(run)

    def __contains__(self, run_id: object) -> bool:
        with self._lock:
            self._refresh()
            return run_id in self._runs

    def typical_seconds(self, model: str) -> float | None:
        """Median measured duration of the model's recent completed runs (``None``: no data)."""
        durations = self.recent_durations(model)
        return statistics.median(durations) if durations else None

    def recent_durations(self, model: str) -> list[float]:
        """Durations of the model's most recently started completed runs (up to
        :data:`TYPICAL_WINDOW`, oldest first), in seconds.

        Each is the hub's processing time when it reported one, else the run's time as
        recorded, else the time from submission to finish. Recent by start, not by finish: of
        a burst of runs started together, the last to finish are the slowest, so the most
        recently finished would make the model look slower than it is.
        """
        with self._lock:
            self._refresh()
            runs = sorted(
                (r for r in self._runs.values() if r.model == model and r.status == "completed"),
                key=lambda r: (r.created, r.seq),
            )
            durations: list[float] = []
            for run in runs:
                if run.task_s is not None:
                    durations.append(run.task_s)
                elif run.elapsed_s is not None:
                    durations.append(run.elapsed_s)
                elif run.submitted_at is not None and run.finished is not None:
                    durations.append(run.finished - run.submitted_at)
            return [d for d in durations if d >= 0][-TYPICAL_WINDOW:]

    # --- managing --------------------------------------------------------------------------

    def remove(self, run_id: str) -> None:
        """Forget a run and delete its images, thumbnails and unshared input blobs.

        ``KeyError`` if the history has no such run. The journal keeps a ``removed`` record.
        """
        with self._lock, self._journal.locked():
            self._refresh()
            run = self._runs.get(run_id)
            if run is None:
                raise KeyError(f"no run {run_id!r} in the history at {self.folder}")
            # Record first: a crash after this leaves stray files, never an entry without files.
            self._append({"op": "removed", "run_id": run_id})
            for record in run.files:
                path = self._path_of(record)
                if path is None:
                    continue
                _unlink(path)
                _remove_thumbnails(path)
            still_used = {sha for other in self._runs.values() for sha in other.blobs}
            for sha in set(run.blobs) - still_used:
                self._blobs.forget(sha)

    def export(self, run_ids: Iterable[str], folder: str | Path) -> Path:
        """Copy the images of ``run_ids`` to ``folder`` with an ``index.csv`` and ``index.json``.

        The index lists, per run, its model, prompt, status, task id, times, error, input and
        the file names in ``folder``. Returns the folder. ``KeyError`` for an unknown run;
        ``ValueError`` when ``folder`` is inside the history itself.
        """
        if isinstance(run_ids, str):
            raise TypeError("run_ids must be a list of run ids, not one string")
        target = Path(folder).expanduser().resolve()
        if target == self.folder or self.folder in target.parents:
            raise ValueError(f"folder must be outside the history folder {self.folder}")
        entries = [self.get(run_id) for run_id in dict.fromkeys(run_ids)]
        target.mkdir(parents=True, exist_ok=True)
        rows: list[dict[str, Any]] = []
        for entry in entries:
            names: list[str] = []
            for source in entry.files:
                try:
                    data = source.read_bytes()
                except (FileNotFoundError, IsADirectoryError):
                    log.warning("export: %s is missing, skipped", source)
                    continue
                # Never over another file: exporting twice finds its copies, a foreign file
                # of the same name is kept and the copy goes beside it.
                copy = write_image(target, copy_names(source.name), data, write=_quick_write)
                names.append(copy.name)
            rows.append(_index_row(entry, names))
        index = {"software": "mountsea-widgets", "exported": self._clock(), "runs": rows}
        _write_atomic(
            target / "index.json",
            json.dumps(index, ensure_ascii=False, indent=2).encode("utf-8"),
            durable=False,
        )
        _write_atomic(target / "index.csv", _index_csv(rows), durable=False)
        return target

    def size_bytes(self) -> int:
        """The history's size on disk: journal, images, thumbnails and blobs, in bytes."""
        with self._lock:
            self._refresh()  # the first reading removes crash leftovers: they are not counted
        total = 0
        for root, _dirs, files in os.walk(self.folder):
            for name in files:
                with contextlib.suppress(OSError):  # removed while we walked
                    total += os.lstat(os.path.join(root, name)).st_size
        return total

    # --- internals -------------------------------------------------------------------------

    def _remove_leftovers(self) -> None:
        """Delete what a killed process left behind (on the history's first reading).

        Two kinds of files, and only those older than :data:`LEFTOVER_AGE_S`: temporary files
        of an atomic write (``.<name>.<random>.tmp``), anywhere in the history's own folders;
        and image files named like ours (``<run>_<n>.<ext>``) of a run that has ended or was
        removed, that no journal record references. A file the journal references is never
        touched; neither is a file of a run still pending (resuming it reuses that file when
        it holds the same image) nor anything when a journal line could not be read (it may
        have been the record of that file). Cheap: a few folder listings, and only the
        journal reading the history does anyway. Failures are logged, never raised.
        """
        try:
            self._remove_leftovers_now()
        except OSError as exc:  # a read-only or vanishing history still opens
            log.info("could not remove leftover files in %s: %s", self.folder, exc)

    def _remove_leftovers_now(self) -> None:
        images = self.folder / IMAGES_DIR
        folders = (self.folder, images, images / THUMBS_DIR, self.folder / BLOBS_DIR)
        temps = [folder / name for folder in folders for name in _names(folder)]
        temps = [path for path in temps if is_temp_name(path.name)]
        named = [name for name in _names(images) if _IMAGE_NAME.match(name)]
        if not temps and not named:
            return
        cutoff = self._clock() - LEFTOVER_AGE_S
        for temp in temps:
            _unlink_if_older(temp, cutoff)
        if not named or not (self.folder / JOURNAL_NAME).is_file():
            return
        with self._lock, self._journal.locked():
            self._refresh()
            if self._journal.skipped_lines:
                return
            referenced = {
                str(record.get("name")) for run in self._runs.values() for record in run.files
            }
            ended = {
                file_stem(run.run_id) for run in self._runs.values() if run.finished is not None
            }
            ended |= {file_stem(run_id) for run_id in self._removed}
            for name in named:
                match = _IMAGE_NAME.match(name)
                if match and match["stem"] in ended and f"{IMAGES_DIR}/{name}" not in referenced:
                    _unlink_if_older(images / name, cutoff)

    def _append(self, record: dict[str, Any]) -> None:
        record = {"v": RECORD_VERSION, **record, "t": self._clock()}
        self._journal.append(record)
        self._refresh()

    def _refresh(self) -> None:
        records, restarted = self._journal.read_new()
        if restarted:
            self._runs.clear()
            self._removed.clear()
        for record in records:
            self._apply(record)
        if not self._tidied:
            self._tidied = True
            self._remove_leftovers()

    def _apply(self, record: Mapping[str, Any]) -> None:
        op, run_id = record.get("op"), record.get("run_id")
        if not isinstance(run_id, str) or not isinstance(op, str):
            return
        stamp = _number(record.get("t")) or 0.0
        if op == "removed":
            self._runs.pop(run_id, None)
            self._removed.add(run_id)
            return
        if op == "start":
            self._removed.discard(run_id)  # a new run under a reused id
        elif run_id in self._removed:
            return  # e.g. a cancelled run's last record, written after it was removed
        run = self._runs.get(run_id)
        if run is None:
            self._seq += 1
            run = self._runs[run_id] = _Run(run_id=run_id, seq=self._seq, created=stamp)
        if op == "start":
            run.model = str(record.get("model") or "")
            data = record.get("input")
            run.input = data if isinstance(data, dict) else {}
            blobs = record.get("blobs")
            run.blobs = [b for b in blobs if isinstance(b, str)] if isinstance(blobs, list) else []
            run.created = _number(record.get("created")) or stamp
            cost = record.get("cost")
            run.cost = cost if isinstance(cost, dict) else None
            unchecked = record.get("unchecked")
            if isinstance(unchecked, list):
                run.unchecked = [name for name in unchecked if isinstance(name, str)]
            if run.task_id is None and run.finished is None:
                run.status = STATUS_CREATED  # sent again: it may reach the hub from now on
        elif op in ("refused", "sending"):
            # Only a run still waiting for its task: a refusal never undoes a task id or an
            # outcome (a record of another process arriving late).
            if run.task_id is None and run.finished is None:
                run.status = STATUS_REFUSED if op == "refused" else STATUS_CREATED
        elif op == "submitted":
            task_id = record.get("task_id")
            if isinstance(task_id, str) and task_id:
                run.task_id = task_id
                run.submitted_at = stamp
                model = record.get("model")
                if not run.model and isinstance(model, str):
                    run.model = model
                if run.finished is None:
                    run.status = STATUS_SUBMITTED
        elif op == "images":
            files = record.get("files")
            for item in files if isinstance(files, list) else []:
                if isinstance(item, dict) and isinstance(item.get("name"), str):
                    run.files.append(item)
        elif op == "finished":
            run.status = str(record.get("status") or "finished")
            run.finished = stamp
            error = record.get("error")
            run.error = error if isinstance(error, str) else None
            run.elapsed_s = _number(record.get("elapsed_s"))
            run.task_s = _number(record.get("task_s"))
            cost = record.get("cost")
            if isinstance(cost, dict):
                run.cost = cost

    def _entry(self, run: _Run) -> HistoryEntry:
        files = [path for path in map(self._path_of, run.files) if path is not None]
        return HistoryEntry(
            run_id=run.run_id,
            model=run.model,
            input=self._blobs.inflate(run.input, run.blobs),
            task_id=run.task_id,
            status=run.status,
            created=run.created,
            finished=run.finished,
            elapsed_s=run.elapsed_s,
            error=run.error,
            files=files,
            submitted_at=run.submitted_at,
            cost=run.cost,
            unchecked=list(run.unchecked),
        )

    def _path_of(self, record: Mapping[str, Any]) -> Path | None:
        """The absolute path of a journalled file name, or None if it would leave the folder."""
        name = record.get("name")
        if not isinstance(name, str) or not name:
            return None
        parts = name.split("/")
        if name.startswith("/") or "\\" in name or any(p in ("", ".", "..") for p in parts):
            log.warning("ignoring a file name outside the history folder: %r", name)
            return None
        return self.folder.joinpath(*parts)

    def _with_metadata(
        self, run: _Run | None, run_id: str, index: int, data: bytes, content_type: str
    ) -> bytes:
        meta = image_metadata(
            model=run.model if run else "",
            input=self._blobs.inflate(run.input, run.blobs) if run else {},
            task_id=run.task_id if run else None,
            run_id=run_id,
            created=run.created if run else self._clock(),
            index=index,
        )
        # ``embed`` is this module's name, looked up at call time (tests make it fail).
        return with_metadata(data, content_type, meta, embed=embed)


# --- helpers -------------------------------------------------------------------------------------


def _check_run_id(run_id: object) -> None:
    if not isinstance(run_id, str) or not run_id:
        raise ValueError(f"run_id must be a non-empty string, got {run_id!r}")


def _is_secret_name(name: str) -> bool:
    normalised = re.sub(r"[^a-z0-9]", "", name.lower())
    return normalised in _SECRET_NAMES or normalised.endswith("apikey")


def _scrub_key(text: str) -> str:
    return scrub(text, os.environ.get("MOUNTSEA_API_KEY"))


def _clean_input(value: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON-safe deep copy of an input, without credential-like keys or the API key."""
    if not isinstance(value, Mapping):
        raise TypeError(f"input must be a dict, got {type(value).__name__}")

    def walk(item: Any) -> Any:
        if isinstance(item, Mapping):
            return {str(k): walk(v) for k, v in item.items() if not _is_secret_name(str(k))}
        if isinstance(item, (list, tuple)):
            return [walk(v) for v in item]
        if isinstance(item, str):
            return _scrub_key(item)
        if item is None or isinstance(item, (bool, int)):
            return item
        if isinstance(item, float):
            return item if item == item and abs(item) != float("inf") else None
        return _scrub_key(str(item))  # anything else (a Path...) is journalled as text

    cleaned: dict[str, Any] = walk(value)
    return cleaned


def _number(value: Any) -> float | None:
    """A journalled number, or None when missing or not a real one (``Infinity`` and ``NaN``
    parse from JSON, and no time or duration can be them)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer too big for a float (10**400)
        return None
    return number if math.isfinite(number) else None


def _write_private(path: Path, data: bytes) -> None:
    """An atomic write of a history file, readable by its owner only."""
    _write_atomic(path, data, mode=PRIVATE_FILE_MODE)


def _quick_write(path: Path, data: bytes) -> None:
    """An atomic write without fsync (for copies the history does not depend on)."""
    _write_atomic(path, data, durable=False)


def _names(folder: Path) -> list[str]:
    """The names in ``folder`` ([] when it does not exist)."""
    try:
        return os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []


def _unlink_if_older(path: Path, cutoff: float) -> None:
    """Delete ``path`` if it is a regular file last modified before ``cutoff`` (Unix time)."""
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISREG(status.st_mode) and status.st_mtime < cutoff:
        log.info("removing %s, left behind by an interrupted write", path)
        _unlink(path)


#: What every ``history=`` argument takes: a History, a folder path, True/None (the standard
#: history) or False (none).
HistoryChoice: TypeAlias = "History | str | os.PathLike[str] | bool | None"


def open_history(history: HistoryChoice) -> History | None:
    """The history to journal runs in: the standard one for None/True, none for False, the one
    in that folder for a path.

    A standard history folder that cannot be created is reported on stderr and runs go on
    without it; anything else is refused with a TypeError naming what is allowed.
    """
    if history is False:
        return None
    if isinstance(history, str | os.PathLike):
        return History(os.fspath(history))
    if history is not None and history is not True and not isinstance(history, History):
        raise TypeError(
            "history must be an mw.History, a folder path, True or None (the standard "
            f"history) or False (none); got {type(history).__name__}"
        )
    if history is None or history is True:
        try:
            return History()
        except OSError as exc:
            print(f"mountsea: runs are not kept in the history ({exc})", file=sys.stderr)
            return None
    return history
