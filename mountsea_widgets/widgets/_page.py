"""The page side of the views: their ES modules and styles, shipped inside the package.

Each view's module is plain JavaScript (no build step, nothing fetched at run time). The
helpers every view shares live in ``static/common.js`` and are put in front of the view's own
code, so one string is one self-contained ES module.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

#: The module every view starts with (DOM helpers, the kernel connection, the fallback).
COMMON_SCRIPT = "common.js"
COMMON_STYLE = "common.css"


@cache
def _read(name: str) -> str:
    return (resources.files(__package__) / "static" / name).read_text("utf-8")


def page_module(*names: str) -> str:
    """One ES module: ``common.js`` then each of ``names`` (files under ``static/``)."""
    parts = [COMMON_SCRIPT, *names]
    return "\n".join(f"// --- {name}\n{_read(name)}" for name in parts)


def page_style(*names: str) -> str:
    """The CSS of a view: ``common.css`` then each of ``names``."""
    return "\n".join(_read(name) for name in (COMMON_STYLE, *names))
