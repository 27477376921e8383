"""Who may read a history: its owner only (prompts and images are private).

The history folder and its sub-folders are ``0700`` and its files ``0600``, whatever the
umask. A folder that already exists (``MOUNTSEA_HISTORY_DIR`` pointing at one, a history made
by an older version) is tightened when the user owns it; one owned by someone else (a shared
folder) is left as its owner set it. Copies exported into a folder of the user's choosing are
not the history's: they keep the usual permissions.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("mountsea_widgets.history")

#: Permissions of the history folder and of every folder inside it.
PRIVATE_FOLDER_MODE = 0o700
#: Permissions of every file the history writes (journal, images, thumbnails, blobs).
PRIVATE_FILE_MODE = 0o600


def private_folder(path: Path, *, parents: bool = False) -> None:
    """Create ``path`` as a private folder, or tighten it to 0700 when it exists and is ours."""
    path.mkdir(parents=parents, exist_ok=True, mode=PRIVATE_FOLDER_MODE)
    tighten(path, PRIVATE_FOLDER_MODE)


def tighten(path: Path, mode: int) -> None:
    """Take away from ``path`` any permission beyond ``mode``, if the user owns it.

    Never follows a symbolic link, never fails: a file system without Unix permissions (or a
    path someone else owns) keeps what it has.
    """
    getuid = getattr(os, "getuid", None)
    if getuid is None:  # Windows: no owner permission bits to tighten
        return
    try:
        info = path.lstat()
    except OSError:
        return
    if stat.S_ISLNK(info.st_mode) or info.st_uid != getuid():
        return
    current = stat.S_IMODE(info.st_mode)
    if current & ~mode:
        with contextlib.suppress(OSError):
            path.chmod(current & mode)
            log.info("made %s private to its owner (mode %o)", path, current & mode)
