"""Resuming interrupted runs exactly once: a lease per running run, and the runs alive here.

A run whose task id is in the history but that never finished (the kernel died, the laptop
slept) is resumed by polling its task again; it is never submitted twice. Two things make sure
it is polled by one place only:

- **A lease per run**, held while :func:`mountsea_widgets.run.execute` carries the run out: an
  exclusive ``flock`` on ``<history>/.running/<hash>.lock``. Any other execution of the same
  run, in this process or in another kernel on the same history folder, fails to take it and
  does not poll. The operating system releases the lock when the process dies, however it
  dies (SIGKILL included), so a crashed kernel never leaves a run "taken".
- **The runs alive in this process** (a weak registry keyed by history folder and run id): a
  second Studio in the same kernel shows the very :class:`~mountsea_widgets.run.Run` the first
  one is resuming (one poll loop, two live views) instead of starting another.

Without ``fcntl`` (Windows) the lease is per process only.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

try:
    import fcntl
except ImportError:  # pragma: no cover - not reached on the platforms we test
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from .history import History
    from .run import Run

__all__ = ["Lease", "acquire", "claim", "held_elsewhere", "live_run", "register"]

log = logging.getLogger("mountsea_widgets.recovery")

#: Folder (inside the history folder) holding one lock file per run being carried out.
LEASE_DIR = ".running"

#: Shown on a run that another process is polling right now.
POLLED_ELSEWHERE = (
    "Another Python session (kernel) is polling this task right now; it was not started "
    "again here. Click Resume to take over if that session has stopped."
)
#: Replaces :data:`POLLED_ELSEWHERE` once this session took the run over.
TAKEN_OVER = "Resumed here: taken over from the session that was polling it."

_local_leases: set[Path] = set()  # for platforms without flock
_local_lock = threading.Lock()


class Lease:
    """The exclusive right to carry out one run; :meth:`release` gives it back (idempotent)."""

    def __init__(self, path: Path, fd: int | None) -> None:
        self.path = path
        self._fd = fd
        self._held = True

    def release(self) -> None:
        """Delete the lock file, then unlock (so no one can lock a file about to vanish)."""
        if not self._held:
            return
        self._held = False
        with contextlib.suppress(OSError):
            self.path.unlink()
        if self._fd is not None:
            os.close(self._fd)  # closing releases the flock
            self._fd = None
        else:
            with _local_lock:
                _local_leases.discard(self.path)

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"Lease({str(self.path)!r}, {'held' if self._held else 'released'})"


def lease_path(history: History, run_id: str) -> Path:
    """The lock file of ``run_id`` (a hash: run ids never become file names)."""
    digest = hashlib.sha256(run_id.encode("utf-8")).hexdigest()[:40]
    return history.folder / LEASE_DIR / f"{digest}.lock"


def acquire(history: History, run_id: str) -> Lease | None:
    """Take the lease of ``run_id`` without waiting; ``None`` when someone else holds it.

    Raises :class:`OSError` when the lock file cannot be created (e.g. a read-only history).
    """
    path = lease_path(history, run_id)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    if fcntl is None:  # pragma: no cover - Windows
        with _local_lock:
            if path in _local_leases:
                return None
            _local_leases.add(path)
        return Lease(path, None)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        # The holder before us may have deleted the file between our open and our lock:
        # then we locked an orphan, and must lock the file that is there now.
        try:
            current = os.stat(path)
        except FileNotFoundError:
            os.close(fd)
            continue
        mine = os.fstat(fd)
        if (mine.st_dev, mine.st_ino) == (current.st_dev, current.st_ino):
            return Lease(path, fd)
        os.close(fd)


def held_elsewhere(history: History, run_id: str) -> bool:
    """Whether some execution (here or in another process) holds ``run_id``'s lease now."""
    try:
        lease = acquire(history, run_id)
    except OSError:
        return False  # cannot tell: treat as free (the run is shown as interrupted)
    if lease is None:
        return True
    lease.release()
    return False


# --- runs alive in this process ----------------------------------------------------------------

_live: weakref.WeakValueDictionary[tuple[str, str], Run] = weakref.WeakValueDictionary()
_live_lock = threading.Lock()


def _key(history: History, run_id: str) -> tuple[str, str]:
    return (str(history.folder), run_id)


def live_run(history: History, run_id: str) -> Run | None:
    """The :class:`Run` of ``run_id`` alive in this process, if any."""
    with _live_lock:
        return _live.get(_key(history, run_id))


def register(history: History, run: Run) -> Run:
    """Make ``run`` the live run of its id unless another one is; returns the live one."""
    with _live_lock:
        key = _key(history, run.run_id)
        existing = _live.get(key)
        if existing is None:
            _live[key] = run
            return run
        return existing


@contextlib.contextmanager
def claim(run: Run, history: History | None) -> Iterator[bool]:
    """Hold ``run``'s lease while the block runs; yields whether this execution may go on.

    ``False`` when another execution holds it (the caller says so on the run). A lease that
    cannot be created (read-only history) does not stop the run.
    """
    if history is None:
        yield True
        return
    register(history, run)
    try:
        lease = acquire(history, run.run_id)
    except OSError as exc:
        log.warning("run %s: no lease (%s); going on without one", run.run_id, exc)
        yield True
        return
    if lease is None:
        log.info("run %s is being carried out elsewhere; not polled here", run.run_id)
        yield False
        return
    with lease:
        yield True
