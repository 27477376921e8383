"""Looking through a widget tree the way a page shows it."""

from __future__ import annotations

from typing import Any


def walk(widget: Any) -> list[Any]:
    """``widget`` and every widget below it, depth first, through their ``children``."""
    found = [widget]
    for child in getattr(widget, "children", ()):
        found += walk(child)
    return found
