"""Long data: URIs of inputs, kept once each in ``blobs/``."""

from __future__ import annotations

import copy
import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._image_files import write_atomic as _write_atomic
from ._layout import _BLOB_MARK, _SHA256, BLOB_THRESHOLD, _unlink
from ._permissions import PRIVATE_FILE_MODE, private_folder

if TYPE_CHECKING:
    pass

log = logging.getLogger("mountsea_widgets.history")


class Blobs:
    """The ``blobs/`` folder: long data: URIs of inputs kept once each, by SHA-256.

    A journalled input holds a short mark in their place; :meth:`inflate` puts them back.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        # Kept in memory: the same reference image is usually reused across many runs.
        self._cache: dict[str, str] = {}

    def forget(self, sha: str) -> None:
        """Delete one blob (no run refers to it any more)."""
        _unlink(self.folder / f"{sha}.txt")
        self._cache.pop(sha, None)

    def store(self, value: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """Move long data: URIs out of ``value`` into ``blobs/``; returns the marked copy."""
        blobs: list[str] = []

        def walk(item: Any) -> Any:
            if isinstance(item, str) and len(item) > BLOB_THRESHOLD and item[:5] == "data:":
                raw = item.encode("utf-8")
                sha = hashlib.sha256(raw).hexdigest()
                path = self.folder / f"{sha}.txt"
                if not path.exists():
                    private_folder(path.parent)
                    _write_atomic(path, raw, mode=PRIVATE_FILE_MODE)
                self._cache[sha] = item
                if sha not in blobs:
                    blobs.append(sha)
                return _BLOB_MARK + sha
            if isinstance(item, dict):
                return {k: walk(v) for k, v in item.items()}
            if isinstance(item, list):
                return [walk(v) for v in item]
            return item

        marked: dict[str, Any] = walk(value)
        return marked, blobs

    def inflate(self, value: dict[str, Any], blobs: list[str]) -> dict[str, Any]:
        """A fresh copy of a journalled input with its blob marks replaced by the data: URIs."""
        if not blobs:
            return copy.deepcopy(value)
        allowed = set(blobs)

        def walk(item: Any) -> Any:
            if isinstance(item, str) and item.startswith(_BLOB_MARK):
                sha = item[len(_BLOB_MARK) :]
                if sha in allowed and _SHA256.match(sha):
                    return self._read(sha, item)
                return item
            if isinstance(item, dict):
                return {k: walk(v) for k, v in item.items()}
            if isinstance(item, list):
                return [walk(v) for v in item]
            return item

        inflated: dict[str, Any] = walk(value)
        return inflated

    def _read(self, sha: str, mark: str) -> str:
        cached = self._cache.get(sha)
        if cached is None:
            try:
                cached = (self.folder / f"{sha}.txt").read_text("utf-8")
            except OSError as exc:
                log.warning("input blob %s is missing: %s", sha, exc)
                return mark
            # Kept in memory: the same reference image is usually reused across many runs.
            self._cache[sha] = cached
        return cached
