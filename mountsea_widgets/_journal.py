"""An append-only JSON-lines file that several processes can share, and that survives crashes.

Each record is one JSON object on one line. Appending takes an exclusive ``flock`` on the file,
writes the whole line (normally in one ``write`` call, on an ``O_APPEND`` descriptor) and
``fsync``\\ s before the lock is released, so once :meth:`Journal.append` returns the record is
on disk, and two kernels appending at once never interleave their lines.

A crash can still leave a torn last line (a write cut short). Readers skip any line that is
not a JSON object, and the next append, seeing the file does not end in a newline, starts a new
line first, so one torn record never damages the ones after it.

Reading is incremental: :meth:`Journal.read_new` returns only the records appended since the
previous call (by anyone), so re-reading a long journal costs only the new bytes.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

try:  # POSIX; without it (Windows) appends are serialised within one process only.
    import fcntl
except ImportError:  # pragma: no cover - not reached on the platforms we test
    fcntl = None  # type: ignore[assignment]

__all__ = ["Journal", "fsync_folder"]

log = logging.getLogger(__name__)


class Journal:
    """An append-only JSONL file: :meth:`append` records, :meth:`read_new` what was added since.

    ``durable=False`` skips ``fsync`` (for scratch journals; the history always syncs).
    """

    def __init__(self, path: str | Path, *, durable: bool = True) -> None:
        self.path = Path(path)
        self.durable = durable
        #: Lines skipped so far because they were not whole JSON objects (torn or foreign).
        self.skipped_lines = 0
        self._offset = 0
        self._identity: tuple[int, int] | None = None
        self._read_lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._held = threading.local()  # .fd: the locked descriptor, while this thread holds it

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    # --- writing ---------------------------------------------------------------------------

    @staticmethod
    def encode(record: Mapping[str, Any]) -> bytes:
        """One record as one line: compact JSON (newlines inside strings are escaped) + ``\\n``."""
        text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        return text.encode("utf-8") + b"\n"

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the journal's exclusive lock (across processes) for a multi-step change.

        :meth:`append` inside the block reuses the lock. Used where files and records must
        change together, e.g. deleting a blob only if no record refers to it any more.
        """
        with self._write_lock:
            if getattr(self._held, "fd", None) is not None:
                yield  # already held by this thread
                return
            fd = self._open_for_append()
            try:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                self._held.fd = fd
                yield
            finally:
                self._held.fd = None
                os.close(fd)  # closing releases the flock

    def append(self, record: Mapping[str, Any]) -> None:
        """Write ``record`` as one line and make it durable before returning."""
        line = self.encode(record)
        with self.locked():
            fd: int = self._held.fd
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # the last line was torn by a crash: start a fresh one
            view = memoryview(line)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if self.durable:
                os.fsync(fd)

    def _open_for_append(self) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
        created = not self.path.exists()
        fd = os.open(self.path, flags, 0o600)  # prompts and task ids: the owner's only
        if created and self.durable:
            fsync_folder(self.path.parent)
        return fd

    # --- reading ---------------------------------------------------------------------------

    def read_new(self) -> tuple[list[dict[str, Any]], bool]:
        """Records appended since the last call, and whether the journal started over.

        ``True`` means the file was replaced or truncated since the last read: the records
        returned are then the whole journal, and anything derived from earlier reads is stale.
        Only complete lines are consumed; a line still being written is read next time.
        """
        with self._read_lock:
            try:
                handle = open(self.path, "rb")  # noqa: SIM115 - closed below, needs fstat first
            except FileNotFoundError:
                restarted = self._identity is not None
                self._offset, self._identity = 0, None
                return [], restarted
            with handle:
                stat = os.fstat(handle.fileno())
                identity = (stat.st_dev, stat.st_ino)
                restarted = False
                if identity != self._identity or stat.st_size < self._offset:
                    restarted = self._identity is not None
                    self._offset, self._identity = 0, identity
                handle.seek(self._offset)
                chunk = handle.read()
            end = chunk.rfind(b"\n") + 1
            self._offset += end
            return self._parse(chunk[:end]), restarted

    def read_all(self) -> list[dict[str, Any]]:
        """Every intact record in the journal, oldest first (does not move :meth:`read_new`)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        return self._parse(data[: data.rfind(b"\n") + 1])

    def _parse(self, data: bytes) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for line in data.split(b"\n"):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (ValueError, RecursionError):  # RecursionError: a line nested "[[[[..."
                record = None
            if isinstance(record, dict):
                records.append(record)
            else:
                self.skipped_lines += 1
                log.warning("skipping a damaged line in %s (%d bytes)", self.path, len(line))
        return records


def fsync_folder(folder: Path) -> None:
    """Make a new directory entry durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
