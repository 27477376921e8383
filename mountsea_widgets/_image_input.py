"""Images given to edit models: PIL images, files and bytes become ``data:`` URIs.

Edit models take ``image_urls`` (gpt-image-2-edit also a ``mask_url``): strings the hub passes on
to the provider, http(s) URLs or ``data:image/...;base64,`` URIs. From Python you may also give a
PIL image, a :class:`pathlib.Path` or raw bytes; :func:`prepare_input` turns each into a data URI
(checked by decoding it) *before* the catalog validates the input, so the catalog's limits apply
to exactly what is sent. A ``str`` is kept as given, a URL or a data URI, and never read as a
file name: pass ``Path("photo.png")`` for a file.

>>> from pathlib import Path
>>> import mountsea_widgets as mw
>>> mw.generate("nano-banana-edit", "make it blue",                    # doctest: +SKIP
...             image_urls=[Path("cat.png"), "https://example.com/dog.jpg"])
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PIL import Image

from ._images import to_data_uri
from .catalog import MAX_DATA_URI_CHARS
from .errors import ImageError, Problem, ValidationError

#: The parameters that carry input images: a list of them, and a single one.
IMAGE_LIST_PARAMS = ("image_urls",)
IMAGE_PARAMS = ("image_urls", "mask_url")
#: Largest image file read for a data URI (a bigger one could never pass the catalog's cap).
MAX_FILE_BYTES = MAX_DATA_URI_CHARS * 3 // 4


def is_convertible(item: Any) -> bool:
    """True for a PIL image, a path object or bytes: things that become a data URI."""
    return isinstance(item, Image.Image | os.PathLike | bytes | bytearray | memoryview)


def needs_conversion(input: Mapping[str, Any]) -> bool:
    """Whether ``input`` holds any image given as a PIL image, a path or bytes."""
    if not isinstance(input, Mapping):
        return False
    for name in IMAGE_PARAMS:
        value = input.get(name)
        items = value if isinstance(value, list | tuple) else [value]
        if any(is_convertible(item) for item in items):
            return True
    return False


def to_reference(item: Any) -> str:
    """One image as the string to send: a str unchanged, anything else as a data URI.

    Raises :class:`~mountsea_widgets.errors.ImageError` (not an image, no such file, too big).
    """
    if isinstance(item, str):
        return item
    if isinstance(item, os.PathLike) and not isinstance(item, Path):
        item = Path(os.fspath(item))
    if isinstance(item, Path):
        item = item.expanduser()
        _check_file(item)
    return to_data_uri(item)


def prepare_input(model: str, input: Mapping[str, Any]) -> dict[str, Any]:
    """``input`` with every PIL image, path and bytes in ``image_urls``/``mask_url`` as a data URI.

    Everything else is returned as given (the catalog checks it next). A single image given as
    ``image_urls`` becomes a one-item list. Raises :class:`ValidationError` naming the parameter
    and the item when an image cannot be read.
    """
    if not isinstance(input, Mapping):
        return input  # the catalog reports a non-dict input
    prepared = dict(input)
    problems: list[Problem] = []
    for name in IMAGE_PARAMS:
        if name not in prepared:
            continue
        value = prepared[name]
        if name in IMAGE_LIST_PARAMS:
            if is_convertible(value):
                value = [value]
            if isinstance(value, list | tuple) and any(is_convertible(v) for v in value):
                converted = []
                for index, item in enumerate(value):
                    converted.append(_convert(name, index, item, problems))
                prepared[name] = converted
        elif is_convertible(value):
            prepared[name] = _convert(name, None, value, problems)
    if problems:
        raise ValidationError(model, problems)
    return prepared


def reference_for(url: str | None, load: Callable[[], bytes]) -> str:
    """What to send for an image we already have: its http(s) URL, else a data URI of its bytes.

    Used for a result fed back into an edit model. Provider URLs may expire (then the hub
    cannot fetch them); a result without an http(s) URL (``sync_mode``, or loaded from the
    history) is sent inline.
    """
    if url and urlsplit(url).scheme.lower() in ("http", "https"):
        return url
    return to_data_uri(load())


def shorten_data_uris(text: str) -> str:
    """``text`` with every long base64 data URI cut to its header and size, for display.

    >>> shorten_data_uris("x = 'data:image/png;base64," + "A" * 4000 + "'")
    "x = 'data:image/png;base64,… (3 KB)'"
    """

    def short(match: re.Match[str]) -> str:
        size = len(match.group(2)) * 3 // 4
        amount = f"{size / 1e6:.1f} MB" if size >= 1_000_000 else f"{max(1, round(size / 1e3))} KB"
        return f"{match.group(1)}… ({amount})"

    return _LONG_DATA_URI.sub(short, text)


def describe(item: Any) -> str:
    """A short description of an image item for messages (never its whole content)."""
    if isinstance(item, Image.Image):
        return f"PIL image {item.width}x{item.height}"
    if isinstance(item, os.PathLike):
        return f"file {os.fspath(item)!r}"
    if isinstance(item, bytes | bytearray | memoryview):
        return f"{len(bytes(item)):,} bytes"
    text = repr(item)
    return text if len(text) <= 60 else text[:59] + "…"


def _convert(name: str, index: int | None, item: Any, problems: list[Problem]) -> Any:
    if not is_convertible(item):
        return item
    try:
        return to_reference(item)
    except Exception as exc:  # ImageError, or Pillow failing to encode an odd image mode
        where = f"item {index} ({describe(item)})" if index is not None else describe(item)
        problems.append(
            Problem(name, f"{where} cannot be sent as an image: {exc}", allowed=_ALLOWED)
        )
        return item


def _check_file(path: Path) -> None:
    try:
        size = path.stat().st_size
    except OSError:
        raise ImageError(f"no image file at {str(path)!r}") from None
    if size > MAX_FILE_BYTES:
        raise ImageError(
            f"the file is {size:,} bytes; at most about {MAX_FILE_BYTES:,} can be sent inline"
            " (upload it somewhere and pass its http(s) URL)"
        )


_LONG_DATA_URI = re.compile(r"(data:[\w.+/-]+(?:;[\w.+=-]+)*;base64,)([A-Za-z0-9+/=]{64,})")
_ALLOWED = "an http(s) URL, a data:image URI, or (from Python) a PIL image, a Path or bytes"
