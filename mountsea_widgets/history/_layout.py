"""Where a history keeps what: file and folder names, record version, limits."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from .._statuses import JOURNAL_CREATED, JOURNAL_REFUSED, JOURNAL_SUBMITTED

if TYPE_CHECKING:
    pass


log = logging.getLogger(__name__)

JOURNAL_NAME = "journal.jsonl"
IMAGES_DIR = "images"
THUMBS_DIR = ".thumbs"
BLOBS_DIR = "blobs"
#: Layout version written into every record.
RECORD_VERSION = 1
#: data: URIs in inputs longer than this are stored in ``blobs/`` instead of the journal.
BLOB_THRESHOLD = 4096
#: How old (seconds, by the history's clock) a file left by a crash must be before opening a
#: history removes it: another process sharing the folder may be between writing an image and
#: journalling it at this very moment, and that file must stay.
LEFTOVER_AGE_S = 3600.0
#: How many recently started completed runs of a model :meth:`History.typical_seconds` looks at.
TYPICAL_WINDOW = 50

#: Status of a run that has been started but has no task id yet (see :mod:`.statuses`).
STATUS_CREATED = JOURNAL_CREATED
#: Status of a run whose task id is known and that has not finished.
STATUS_SUBMITTED = JOURNAL_SUBMITTED
#: Status of a run whose last submit attempt the hub refused: nothing accepted, safe to resend.
STATUS_REFUSED = JOURNAL_REFUSED

_BLOB_MARK = "mountsea-blob:sha256:"
#: The names :meth:`History.images` gives image files (extensions as ``extension_for`` picks).
_IMAGE_NAME = re.compile(r"^(?P<stem>[A-Za-z0-9_-]+)_[0-9]+\.(?:png|jpg|webp|bin)$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SECRET_NAMES = frozenset(
    {
        "apikey",
        "xapikey",
        "authorization",
        "auth",
        "authtoken",
        "accesstoken",
        "bearer",
        "token",
        "secret",
        "clientsecret",
        "password",
    }
)


def default_folder() -> Path:
    """Where the history lives unless a folder is given (see the module docstring)."""
    configured = os.environ.get("MOUNTSEA_HISTORY_DIR")
    if configured:
        return Path(configured).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME")
    # The XDG spec says relative values are invalid and must be ignored.
    base = Path(data_home) if data_home and os.path.isabs(data_home) else None
    if base is None:
        base = Path.home() / ".local" / "share"
    return base / "mountsea-widgets" / "history"


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)
