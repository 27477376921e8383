"""The reference-image list of the edit models: URLs typed one per line, and attached files.

Attached images (and pasted data: URIs) are kept in Python as data URIs; the page shows them
as chips labelled with a name and a size (never the data itself), and only the URLs are text
the person edits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._images import decode_image, parse_data_uri, to_data_uri
from ..catalog import MAX_DATA_URI_CHARS
from ..errors import ImageError
from .control_base import ParamControl, log

#: The parameter whose attachments these are (used in tooltips).
IMAGE_URLS = "image_urls"
#: The text of the button that attaches image files.
UPLOAD_LABEL = "add image files"


class UrlListControl(ParamControl):
    """Reference images (edit models): URLs typed one per line, and attached image files.

    ``text`` holds http(s) URLs only. Images attached as files (:meth:`attach`, from the page's
    file picker or drop zone) and data: URIs pasted into the text, given to :meth:`set` or
    added by :meth:`append` are kept here as data URIs and shown as chips, so the page never
    holds megabytes of base64 text. The value lists the URLs first, in the text's order, then
    the attached images in the order they were attached; each chip knows its position in
    ``image_urls``.

    Field: ``{"kind": "images", "value": "<URL lines>", "items": [{"label": "photo.png ·
    12 KB", "title": ..., "position": 2}, ...], "placeholder", "accept": "image/*",
    "attach_label", "attach_tooltip"}``.
    """

    kind = "images"

    def setup(self) -> None:
        self.text = ""
        self.attachments: list[Attachment] = []

    # --- reading and writing ---------------------------------------------------------------

    def urls(self) -> list[str]:
        """The non-blank lines of the text."""
        return [line.strip() for line in self.text.splitlines() if line.strip()]

    def read(self) -> tuple[Any, str | None]:
        urls = self.urls()
        for number, line in enumerate(urls, 1):
            _clean, reason = self.spec.check([line])
            if reason is not None:
                return None, (
                    f"line {number} ({line[:60]!r}) is not an http(s) URL; attach image files"
                    f' with "{UPLOAD_LABEL}"'
                )
        value = urls + [attachment.uri for attachment in self.attachments]
        return (value or None), None

    def _write(self, value: Any) -> None:
        items = list(value or ())
        self.attachments = [Attachment.make(item) for item in items if _is_data_uri(item)]
        self.text = "\n".join(item for item in items if not _is_data_uri(item))
        self.refusal = ""

    def shown(self) -> str:
        return self.text

    def _take(self, shown: Any) -> bool:
        """A data: URI pasted into the text becomes a chip (the text keeps URLs only)."""
        lines = ("" if shown is None else str(shown)).splitlines()
        pasted = [line.strip() for line in lines if _is_data_uri(line.strip())]
        for uri in pasted:
            self.attachments.append(Attachment.make(uri))
        if pasted:
            self.text = "\n".join(line for line in lines if not _is_data_uri(line.strip()))
            return True  # the page must drop those lines from its text box
        self.text = "" if shown is None else str(shown)
        return False

    def append(self, reference: str) -> None:
        """Add one image, a URL (to the text) or a data URI (as a chip), at the end."""
        if _is_data_uri(reference):
            self.attachments.append(Attachment.make(reference))
        else:
            self.text = "\n".join([*self.urls(), reference.strip()])
        self._changed(redraw=True)

    # --- attaching -------------------------------------------------------------------------

    def attach(self, data: bytes, name: str = "image") -> str | None:
        """Attach image file bytes (checked by decoding); returns the refusal, or None when added.

        Nothing is added for bytes that are not an image or that would be too big to send
        inline; the refusal names the file, says why and what to do instead.
        """
        label = _short_name(name)
        too_big = self.too_big(name, len(data))
        problem: str | None
        if len(data) * 4 // 3 > MAX_DATA_URI_CHARS:  # refused before any decoding
            problem = too_big
        else:
            try:
                uri = to_data_uri(bytes(data))  # decodes the bytes: a non-image is refused here
            except ImageError as exc:
                problem = f"{label} was not added: it is not a usable image ({exc})"
            else:
                if len(uri) > MAX_DATA_URI_CHARS:
                    problem = too_big
                else:
                    name_attachment(uri, name)
                    self.attachments.append(Attachment.make(uri, data))
                    problem = None
        self.refusal = problem or ""
        self._changed(redraw=False)
        return problem

    def too_big(self, name: str, size: int) -> str:
        """The refusal of a file of ``size`` bytes that is too big to send inline."""
        limit_mb = MAX_DATA_URI_CHARS * 3 // 4 // 1_000_000
        return (
            f"{_short_name(name)} was not added: it is {size / 1e6:.1f} MB, over the about"
            f" {limit_mb} MB an inline image may have; put it online and paste its http(s) URL"
            " instead"
        )

    def refuse(self, problem: str) -> None:
        """Say ``problem`` with the field's message (a file the page could not send)."""
        self.refusal = problem
        self._changed(redraw=False)

    def remove_attachment(self, index: int) -> None:
        """Drop attached image ``index`` (0 = the first chip); IndexError when there is none."""
        if not 0 <= index < len(self.attachments):
            raise IndexError(f"{self.name} has no attached image {index}")
        self.attachments.pop(index)
        self.refusal = ""
        self._changed(redraw=False)

    def extra(self) -> dict[str, Any]:
        first = len(self.urls())
        return {
            "items": [
                attachment.item(position)
                for position, attachment in enumerate(self.attachments, first + 1)
            ],
            "placeholder": "https://… (one image URL per line; attach files below)",
            "accept": "image/*",
            "max_file_bytes": MAX_DATA_URI_CHARS * 3 // 4,
            "attach_label": UPLOAD_LABEL,
            "attach_tooltip": (
                "Attach image files (or drop them here); each is sent inline, up to about"
                f" {MAX_DATA_URI_CHARS * 3 // 4 // 1_000_000} MB"
            ),
        }


@dataclass(eq=False)
class Attachment:
    """One attached image: its data URI (kept in Python only), its name and a summary."""

    uri: str
    name: str
    summary: str
    size: str

    @classmethod
    def make(cls, uri: str, data: bytes | None = None) -> Attachment:
        """The attachment for ``uri`` (``data``: its bytes, when already decoded)."""
        name = _NAMES.get(uri, "attached image")
        summary, size = _describe_image(uri, data)
        return cls(uri, name, summary, size)

    @property
    def label(self) -> str:
        """The chip's text: the name and the size, e.g. "photo.png · 12 KB"."""
        return f"{_short_name(self.name)} · {self.size}"

    def item(self, position: int) -> dict[str, Any]:
        """The chip as the page draws it (``position``: its place in ``image_urls``, from 1)."""
        return {
            "label": self.label,
            "title": f"#{position} in {IMAGE_URLS}: {_short_name(self.name)}, {self.summary}",
            "position": position,
        }


#: File names of recently attached images by data URI, so a chip keeps its name when the form
#: is rebuilt for another model (only the URI travels in the form's value).
_NAMES: dict[str, str] = {}
_MAX_NAMES = 64


def name_attachment(uri: str, name: str) -> None:
    """Show the chip of data URI ``uri`` under ``name`` (e.g. "nano-banana image 1")."""
    if not name or not _is_data_uri(uri):
        return
    _NAMES.pop(uri, None)
    _NAMES[uri] = name
    while len(_NAMES) > _MAX_NAMES:
        _NAMES.pop(next(iter(_NAMES)))


def _is_data_uri(item: Any) -> bool:
    return isinstance(item, str) and item[:5].lower() == "data:"


def _short_name(name: str, limit: int = 40) -> str:
    name = " ".join(str(name).split()) or "image"
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _describe_image(uri: str, data: bytes | None) -> tuple[str, str]:
    """A summary like ``PNG 640×480 · 123 KB`` and the size alone (``123 KB``)."""
    media = uri[5:].split(";", 1)[0].split(",", 1)[0][:40] or "?"
    try:
        if data is None:
            data, media = parse_data_uri(uri)
        image = decode_image(data)
        shape = f"{image.format or media} {image.width}×{image.height}"
        image.close()
    except ImageError as exc:
        log.info("attached image not readable: %s", exc)
        return f"{media}, not readable as an image", "not readable"
    size = _kilobytes(len(data))
    return f"{shape} · {size}", size


def _kilobytes(count: int) -> str:
    return f"{count / 1e6:.1f} MB" if count >= 1_000_000 else f"{max(1, round(count / 1e3))} KB"
