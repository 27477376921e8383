"""Small JPEG thumbnails of history images, made once and cached beside them."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .._image_files import write_atomic as _write_atomic
from ._layout import THUMBS_DIR, _unlink
from ._permissions import PRIVATE_FILE_MODE, private_folder

if TYPE_CHECKING:
    pass

log = logging.getLogger("mountsea_widgets.history")


def cached_thumbnail(image: str | Path, max_side: int = 384) -> bytes | None:
    """A JPEG thumbnail of one history image file, cached in ``.thumbs/`` beside it.

    Decodes the image only the first time (per size); ``None`` when it is missing or unreadable.
    """
    if max_side < 1:
        raise ValueError(f"max_side must be a positive number of pixels, got {max_side!r}")
    return _thumbnail_of(Path(image), int(max_side))


def _thumbnail_of(image: Path, max_side: int) -> bytes | None:
    cached = image.parent / THUMBS_DIR / f"{image.stem}.{max_side}.jpg"
    try:
        if cached.stat().st_mtime >= image.stat().st_mtime:
            return cached.read_bytes()
    except OSError:
        pass  # no cache yet (or the image is gone: handled below)
    from .._images import thumbnail
    from ..errors import ImageError

    try:
        data = thumbnail(image.read_bytes(), max_side)
    except (OSError, ImageError) as exc:
        log.warning("no thumbnail for %s: %s", image, exc)
        return None
    try:
        private_folder(cached.parent)
        _write_atomic(cached, data, durable=False, mode=PRIVATE_FILE_MODE)
    except OSError as exc:  # a read-only history still shows thumbnails
        log.info("could not cache the thumbnail of %s: %s", image, exc)
    return data


def _remove_thumbnails(image: Path) -> None:
    """Delete every cached thumbnail size of ``image``."""
    prefix = image.stem + "."
    try:
        names = os.listdir(image.parent / THUMBS_DIR)
    except OSError:
        return
    for name in names:
        if name.startswith(prefix) and name.endswith(".jpg"):
            _unlink(image.parent / THUMBS_DIR / name)
