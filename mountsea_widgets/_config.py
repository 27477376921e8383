"""Configuration: which hub to talk to, with which key, and the offline default.

Resolution order, for every entry point (``mw.generate``, the Studio, comparisons, the magic):

1. ``api_key`` / ``base_url`` given explicitly;
2. the environment: ``MOUNTSEA_API_KEY``, ``MOUNTSEA_BASE_URL``;
3. neither a key nor a base URL → the embedded offline simulator, started on first use.

A key with no base URL means the real hub at :data:`DEFAULT_BASE_URL`.

How long each model's tasks take at the resolved target (its ``speed``, and what a history
measured) is :mod:`.durations`' business.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ._durations import estimates, expected_durations

if TYPE_CHECKING:
    from .history import History

DEFAULT_BASE_URL = "https://api.mountsea.ai"
#: Variable naming the cache folder (the live catalog's answers), else the XDG one.
CACHE_VARIABLE = "MOUNTSEA_CACHE_DIR"
OFFLINE_NOTICE = "offline simulator — set MOUNTSEA_API_KEY for real images"


@dataclass(frozen=True)
class Settings:
    """Where requests go. ``offline`` is True when the embedded simulator serves them.

    ``speed`` is how much faster than the real hub the target runs (the embedded simulator's
    speed; 1 for a real hub), so polling can follow the simulated durations.
    """

    api_key: str | None
    base_url: str
    offline: bool
    speed: float = 1.0

    def durations(self) -> dict[str, float]:
        """Expected seconds per model at this target's speed (for the client's poll timing)."""
        return estimates(self.speed)

    def expected_durations(self, history: History | None = None) -> dict[str, float]:
        """Expected seconds per model: :meth:`durations`, refined by ``history``'s measurements."""
        return expected_durations(history, self.speed)

    def __repr__(self) -> str:
        key = "set" if self.api_key else "none"
        return f"Settings(base_url={self.base_url!r}, api_key={key}, offline={self.offline})"

    @property
    def label(self) -> str:
        """A short human description of the target, safe to show (never the key)."""
        return OFFLINE_NOTICE if self.offline else f"Mountsea hub at {self.base_url}"


def configured(
    api_key: str | None = None, base_url: str | None = None
) -> tuple[str | None, str | None]:
    """The key and base URL given, else the environment's; None for each that is not set.

    The one place the package reads ``MOUNTSEA_API_KEY`` and ``MOUNTSEA_BASE_URL``. An empty
    string means "not given", as an empty variable or a blank form field does: ``api_key=""``
    falls back to the environment, and with nothing configured the offline simulator answers
    (never a keyless request to the paid hub).
    """
    key = api_key or os.environ.get("MOUNTSEA_API_KEY") or None
    url = base_url or os.environ.get("MOUNTSEA_BASE_URL") or None
    return key, url


def settings(api_key: str | None = None, base_url: str | None = None) -> Settings:
    """Resolve the key and base URL; start the embedded simulator when neither is configured."""
    key, url = configured(api_key, base_url)
    if key is None and url is None:
        from .simulator import embedded

        hub = embedded()
        return Settings(api_key=None, base_url=hub.url, offline=True, speed=hub.hub.speed)
    return Settings(api_key=key, base_url=(url or DEFAULT_BASE_URL).rstrip("/"), offline=False)


# --- the credits service ----------------------------------------------------------------------

DEFAULT_USAGE_URL = "https://dk.mountsea.ai"


def usage_url(hub_url: str | None = None) -> str | None:
    """The credits service's base URL for a hub at ``hub_url``, or None when it is not known.

    ``MOUNTSEA_USAGE_URL`` when set (the one place the package reads it); else the documented
    ``https://dk.mountsea.ai`` for the real hub (``hub_url`` None or :data:`DEFAULT_BASE_URL`).
    Another hub (a proxy, a simulator) has no known credits service: the key is never sent to
    a guessed address.
    """
    url = os.environ.get("MOUNTSEA_USAGE_URL")
    if url:
        return url.rstrip("/")
    if hub_url is None or hub_url.rstrip("/") == DEFAULT_BASE_URL:
        return DEFAULT_USAGE_URL
    return None


def cache_folder() -> Path:
    """Where cached hub answers live: ``$MOUNTSEA_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/mountsea-widgets``, else ``~/.cache/mountsea-widgets``."""
    configured_dir = os.environ.get(CACHE_VARIABLE)
    if configured_dir:
        return Path(configured_dir).expanduser()
    cache_home = os.environ.get("XDG_CACHE_HOME")
    # The XDG spec says relative values are invalid and must be ignored.
    if cache_home and Path(cache_home).is_absolute():
        return Path(cache_home) / "mountsea-widgets"
    return Path.home() / ".cache" / "mountsea-widgets"
