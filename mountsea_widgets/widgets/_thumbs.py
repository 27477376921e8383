"""Image sizes the views send: small thumbnails for the page, tiny ones for the saved fallback.

Thumbnails travel as binary buffers of custom messages, never in synced traits; each is a
small JPEG so a finished run costs the page a few KB. The fallback output embeds tiny JPEGs
as ``data:`` URIs inside a byte budget, so one rewrite of it stays small.
"""

from __future__ import annotations

import base64
import logging

log = logging.getLogger("mountsea_widgets.views")

#: Longest side of a thumbnail shown on the page, in pixels.
PAGE_THUMB_SIDE = 160
#: Largest thumbnail sent to the page, in bytes (well under the 64 KB a finished run may cost).
PAGE_THUMB_BYTES = 40 * 1024
#: Longest side of a full image shown on a click, in pixels (bounded: it is one message).
FULL_IMAGE_SIDE = 1280
#: Largest full image sent on a click, in bytes.
FULL_IMAGE_BYTES = 1024 * 1024
#: Longest side of a thumbnail inside the saved fallback HTML, in pixels.
FALLBACK_THUMB_SIDE = 64
#: Largest such thumbnail, in bytes.
FALLBACK_THUMB_BYTES = 3 * 1024


def shrink(data: bytes, side: int, max_bytes: int) -> bytes | None:
    """A JPEG of the image in ``data`` at most ``side`` pixels and ``max_bytes`` bytes; None
    when the bytes are not an image we can read (the view then shows text instead)."""
    from .._images import thumbnail

    try:
        return thumbnail(data, max_side=side, max_bytes=max_bytes)
    except Exception as exc:  # untrusted bytes: a broken image is text, not a broken view
        log.info("no thumbnail: %s", exc)
        return None


def page_thumbnail(data: bytes) -> bytes | None:
    """The thumbnail the page shows for an image (``PAGE_THUMB_SIDE`` px, small JPEG)."""
    return shrink(data, PAGE_THUMB_SIDE, PAGE_THUMB_BYTES)


def full_image(data: bytes) -> bytes | None:
    """The bounded image shown when a thumbnail is clicked."""
    return shrink(data, FULL_IMAGE_SIDE, FULL_IMAGE_BYTES)


def fallback_uri(data: bytes) -> str | None:
    """A tiny JPEG of a thumbnail as a ``data:`` URI for the fallback HTML (None: unreadable)."""
    tiny = shrink(data, FALLBACK_THUMB_SIDE, FALLBACK_THUMB_BYTES)
    if tiny is None:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(tiny).decode("ascii")
