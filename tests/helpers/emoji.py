"""Finding emoji in what a page shows (a browser without an emoji font draws empty boxes)."""

from __future__ import annotations

from typing import Any

#: Code points drawn from an emoji font (or missing entirely without one): pictographs,
#: dingbats and symbols, technical symbols (hourglasses, play/stop), arrows like ⤢, variation
#: selectors and the zero-width joiner.
EMOJI_RANGES = (
    (0x1F000, 0x1FAFF),
    (0x2600, 0x27BF),
    (0x2300, 0x23FF),
    (0x2B00, 0x2BFF),
    (0x2900, 0x297F),
    (0xFE00, 0xFE0F),
    (0x200D, 0x200D),
)


def emoji_in(text: str) -> list[str]:
    """The characters of ``text`` that need an emoji font."""
    return [ch for ch in text if any(lo <= ord(ch) <= hi for lo, hi in EMOJI_RANGES)]


def texts_in(value: Any) -> list[str]:
    """Every string inside a JSON-able value (what the page may show or put in a tooltip)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in texts_in(item)]
    if isinstance(value, list | tuple):
        return [text for item in value for text in texts_in(item)]
    return []
