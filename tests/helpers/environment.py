"""The environment a test (or a kernel it starts) runs in: its own home and Jupyter folders."""

from __future__ import annotations

from pathlib import Path

#: The variables naming folders that must never be the real user's: the home folder, Jupyter's
#: and IPython's folders, and the XDG ones (the history's default lives under XDG_DATA_HOME).
ISOLATED_FOLDERS: tuple[str, ...] = (
    "HOME",
    "JUPYTER_CONFIG_DIR",
    "JUPYTER_DATA_DIR",
    "JUPYTER_RUNTIME_DIR",
    "IPYTHONDIR",
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
)

#: The variables that would point the package at the real hub with a real key.
HUB_VARIABLES: tuple[str, ...] = (
    "MOUNTSEA_API_KEY",
    "MOUNTSEA_BASE_URL",
    "MOUNTSEA_USAGE_URL",
    "MOUNTSEA_PRICES",
    "MOUNTSEA_CONFIRM_ABOVE",
)


def isolated_folders(base: Path) -> dict[str, str]:
    """Make one folder under ``base`` per :data:`ISOLATED_FOLDERS` variable (named after it,
    in lower case) and return the variables' values: ``{"HOME": "<base>/home", ...}``."""
    values = {}
    for name in ISOLATED_FOLDERS:
        folder = base / name.lower()
        folder.mkdir(parents=True, exist_ok=True)
        values[name] = str(folder)
    return values
