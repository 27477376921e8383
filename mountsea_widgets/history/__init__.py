"""The history of runs, kept on disk so that nothing paid for is ever lost.

Every run is journalled as it happens: its model and input before it is submitted, its task id
the moment the hub returns one (before any polling, so a crashed kernel can resume it), its
images as soon as they are downloaded, and how it ended. Restart the kernel, open a ``History``
on the same folder, and :meth:`History.pending` lists the tasks to resume polling.

Layout of the history folder (default: ``$MOUNTSEA_HISTORY_DIR``, else
``$XDG_DATA_HOME/mountsea-widgets/history``, else ``~/.local/share/mountsea-widgets/history``)::

    journal.jsonl           one JSON record per line: start, refused, sending, submitted,
                            images, finished, removed
    images/<run>_<n>.png    the images, with the generation metadata embedded (see metadata.py)
    images/.thumbs/         thumbnails, made on first request and cached
    blobs/<sha256>.txt      long data: URIs from inputs (reference images), stored once each

Why a JSONL journal and not SQLite: the journal is only ever appended to, and an append of one
line under ``flock`` + ``fsync`` is all the durability and multi-process safety we need (see
journal.py); a torn last line after a crash is skipped on read. It stays human-readable
(``tail journal.jsonl``), easy to repair or grep, has no schema migrations, and works the same
on network and container file systems where SQLite's locking is known to misbehave. Reading
is incremental (only new bytes are parsed), and long data: URIs live in ``blobs/`` so the
journal stays small: thousands of runs load in milliseconds. Images are never opened to list
the history; :meth:`HistoryEntry.thumbnail` decodes one image, on demand, and caches the result.

Image files are written by :mod:`mountsea_widgets.image_files` (the writer ``Result.save`` and
the Studio's Save use too): atomically, never over another file, named ``<run_id>_<n>.<ext>``
from our own run id (made file-name safe) and the type the bytes really are, never from
anything a server sent. What a killed process left (temporary files, images never journalled)
is removed when a history is first read; see :meth:`History._remove_leftovers`.
"""

from __future__ import annotations

from ._entry import HistoryEntry
from ._layout import (
    BLOB_THRESHOLD,
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
    default_folder,
)
from ._store import History, HistoryChoice, open_history
from ._thumbnails import cached_thumbnail

__all__ = [
    "BLOBS_DIR",
    "BLOB_THRESHOLD",
    "IMAGES_DIR",
    "JOURNAL_NAME",
    "LEFTOVER_AGE_S",
    "RECORD_VERSION",
    "STATUS_CREATED",
    "STATUS_REFUSED",
    "STATUS_SUBMITTED",
    "THUMBS_DIR",
    "TYPICAL_WINDOW",
    "History",
    "HistoryChoice",
    "HistoryEntry",
    "cached_thumbnail",
    "default_folder",
    "open_history",
]
