"""The live catalog's disk cache: the hub's answers, one file per hub, with an expiry.

The file holds the answers as they came (never the key: answers that echo it are not written)
and is read back as warily as a fresh answer, by the same parser.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

#: How long a cached answer is used before the hub is asked again (one day).
CACHE_TTL_S = 24 * 3600.0
#: Largest cache file read back.
MAX_CACHE_BYTES = 16_000_000


class Cache:
    """One JSON file per hub in ``folder`` holding its answers and when they were fetched.

    ``clock`` gives the current time in seconds (injectable, so expiry is tested without
    waiting); an answer older than ``ttl_s`` is not used.
    """

    def __init__(
        self,
        folder: Path | None = None,
        *,
        ttl_s: float = CACHE_TTL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._folder = folder
        self.ttl_s = ttl_s
        self.clock = clock

    @property
    def folder(self) -> Path:
        """Where the files are (the configured cache folder unless given)."""
        if self._folder is None:
            from ._config import cache_folder

            return cache_folder() / "catalog"
        return self._folder

    def path(self, base_url: str) -> Path:
        """The file for the hub at ``base_url``."""
        digest = hashlib.sha256(base_url.encode("utf-8")).hexdigest()[:16]
        return self.folder / f"models-{digest}.json"

    def load(self, base_url: str) -> dict[str, Any] | None:
        """The cached answers for ``base_url`` while fresh; None when missing, stale or bad."""
        path = self.path(base_url)
        try:
            if path.stat().st_size > MAX_CACHE_BYTES:
                return None
            stored = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(stored, dict) or stored.get("base_url") != base_url:
            return None
        fetched = stored.get("fetched_at")
        if isinstance(fetched, bool) or not isinstance(fetched, int | float):
            return None
        age = self.clock() - fetched
        if not 0 <= age <= self.ttl_s:
            return None
        answers = stored.get("answers")
        return answers if isinstance(answers, dict) else None

    def save(self, base_url: str, answers: Mapping[str, Any], api_key: str | None) -> bool:
        """Write the answers (atomically); False when not written (e.g. they hold the key)."""
        text = json.dumps({"base_url": base_url, "fetched_at": self.clock(), "answers": answers})
        if api_key and api_key in text:
            return False  # a hub echoing the key: never write it to disk
        path = self.path(base_url)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.part")
            partial.write_text(text, "utf-8")
            os.replace(partial, path)
        except OSError:
            return False
        return True
