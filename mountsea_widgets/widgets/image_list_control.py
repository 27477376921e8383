"""The reference-image list of the edit models: URLs typed one per line, and attached files.

Attached images (and pasted data: URIs) are kept in Python as data URIs and shown as chips
(thumbnail, name, size, remove button); only the URLs are text the person edits.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets

from .._images import decode_image, parse_data_uri, thumbnail, to_data_uri
from ..catalog import MAX_DATA_URI_CHARS
from ..errors import ImageError
from .control_base import (
    _STYLE,
    _UNDER,
    ParamControl,
    close_tree,
    log,
    tooltip_for,
)


class UrlListControl(ParamControl):
    """Reference images (edit models): URLs typed one per line, and attached image files.

    The Textarea holds http(s) URLs only. Images attached with "add image files" (and data:
    URIs pasted into the text box, given to :meth:`set` or added by :meth:`append`) are kept
    here in Python as data URIs and shown as chips (thumbnail, name, size, remove button), so
    the page never holds megabytes of base64 text. The value lists the URLs first, in the text
    box's order, then the attached images in the order they were attached; each chip shows its
    position in ``image_urls``.
    """

    def widgets(self) -> list[widgets.Widget]:
        if not hasattr(self, "text"):
            self.attachments: list[Attachment] = []
            self.text = widgets.Textarea(
                value="",
                placeholder="https://… (one image URL per line; attach files below)",
                description=self.name,
                tooltip=tooltip_for(self.spec),
                style=_STYLE,
                continuous_update=True,
                layout=widgets.Layout(width="95%", height="64px"),
            )
            self.text.observe(self._text_changed, names="value")  # before _watch: runs first
            self._watch(self.text)
            self.upload = widgets.FileUpload(
                accept="image/*",
                multiple=True,
                description=UPLOAD_LABEL,
                tooltip=(
                    "Attach image files (sent inline as data: URIs, up to about"
                    f" {MAX_DATA_URI_CHARS * 3 // 4 // 1_000_000} MB each; Jupyter carries at"
                    " most 10 MB per upload, so choose big files one at a time)"
                ),
                layout=widgets.Layout(width="150px", min_width="150px"),
            )
            self.upload.add_class("mountsea-upload")
            self.upload.observe(self._uploaded, names="value")
            self.chips = widgets.HBox(layout=widgets.Layout(flex_flow="row wrap", flex="1 1 auto"))
            self.chips.add_class("mountsea-attachments")
            self.upload_error = widgets.HTML(value="", layout=widgets.Layout(display="none"))
            self.upload_error.add_class("mountsea-upload-error")
            self.attach_row = widgets.VBox(
                [
                    widgets.HBox(
                        [self.upload, self.chips, _upload_style()],
                        layout=widgets.Layout(width="100%", align_items="flex-start"),
                    ),
                    self.upload_error,
                ],
                layout=widgets.Layout(margin=_UNDER),
            )
        return [self.text, self.attach_row]

    # --- reading and writing ---------------------------------------------------------------

    def urls(self) -> list[str]:
        """The non-blank lines of the text box."""
        return [line.strip() for line in self.text.value.splitlines() if line.strip()]

    def read(self) -> tuple[Any, str | None]:
        urls = self.urls()
        for number, line in enumerate(urls, 1):
            _clean, reason = self.spec.check([line])
            if reason is not None:
                return None, (
                    f"line {number} ({line[:60]!r}) is not an http(s) URL; attach image files"
                    ' with "add image files"'
                )
        value = urls + [attachment.uri for attachment in self.attachments]
        return (value or None), None

    def _write(self, value: Any) -> None:
        items = list(value or ())
        self._clear_attachments()
        for item in items:
            if _is_data_uri(item):
                self._add_attachment(item)
        self.text.value = "\n".join(item for item in items if not _is_data_uri(item))
        self._show_upload_error(None)
        self._label_chips()

    def append(self, reference: str) -> None:
        """Add one image, a URL (to the text box) or a data URI (as a chip), at the end."""
        if _is_data_uri(reference):
            self._add_attachment(reference)
            self._label_chips()
            self._changed()
        else:
            lines = self.urls()
            self.text.value = "\n".join([*lines, reference.strip()])

    def set_enabled(self, enabled: bool) -> None:
        self.text.disabled = not enabled
        self.upload.disabled = not enabled
        for attachment in self.attachments:
            attachment.remove_button.disabled = not enabled

    # --- attaching -------------------------------------------------------------------------

    def attach(self, data: bytes, name: str = "image") -> str | None:
        """Attach image file bytes (checked by decoding); returns the problem, or None when added.

        The problem is also shown under the control; nothing is added for bytes that are not
        an image or that would be too big to send inline.
        """
        label = _short_name(name)
        try:
            uri = to_data_uri(bytes(data))  # decodes the bytes: a non-image is refused here
        except ImageError as exc:
            problem = f"{label} was not added: it is not a usable image ({exc})"
        else:
            if len(uri) > MAX_DATA_URI_CHARS:
                problem = (
                    f"{label} was not added: it is {len(data) / 1e6:.1f} MB, over the about"
                    f" {MAX_DATA_URI_CHARS * 3 // 4 // 1_000_000} MB an inline image may have;"
                    " put it online and paste its http(s) URL instead"
                )
            else:
                name_attachment(uri, name)
                self._add_attachment(uri, data)
                self._label_chips()
                self._show_upload_error(None)
                self._changed()
                return None
        self._show_upload_error(problem)
        return problem

    def remove_attachment(self, index: int) -> None:
        """Drop attached image ``index`` (0 = the first chip)."""
        attachment = self.attachments.pop(index)
        self.chips.children = [a.chip for a in self.attachments]
        close_tree(attachment.chip)
        self._label_chips()
        self._changed()

    def _uploaded(self, change: Any) -> None:
        files = change["new"]
        if not files:
            return  # our own clearing below
        problems = []
        for file in files:
            problem = self.attach(bytes(file.get("content", b"")), str(file.get("name") or ""))
            if problem:
                problems.append(problem)
        # Clearing frees the uploaded bytes from the widget state and lets the same file be
        # added again.
        self.upload.value = ()
        self._show_upload_error("; ".join(problems) or None)

    def _text_changed(self, change: Any) -> None:
        """A data: URI pasted into the text box becomes a chip (the box keeps URLs only)."""
        lines = change["new"].splitlines()
        pasted = [line.strip() for line in lines if _is_data_uri(line.strip())]
        if not pasted:
            self._label_chips()  # the number of URLs moves the chips' positions
            return
        for uri in pasted:
            self._add_attachment(uri)
        self.text.value = "\n".join(line for line in lines if not _is_data_uri(line.strip()))

    def _add_attachment(self, uri: str, data: bytes | None = None) -> None:
        attachment = Attachment.make(uri, data)
        attachment.remove_button.on_click(lambda _b, a=attachment: self._remove(a))
        self.attachments.append(attachment)
        self.chips.children = [a.chip for a in self.attachments]

    def _remove(self, attachment: Attachment) -> None:
        if attachment in self.attachments:
            self.remove_attachment(self.attachments.index(attachment))

    def _clear_attachments(self) -> None:
        old, self.attachments = self.attachments, []
        self.chips.children = []
        for attachment in old:
            close_tree(attachment.chip)

    def _label_chips(self) -> None:
        first = len(self.urls())
        for position, attachment in enumerate(self.attachments, first + 1):
            attachment.set_position(position)

    def _show_upload_error(self, problem: str | None) -> None:
        with self.upload_error.hold_sync():
            self.upload_error.value = (
                f'<span style="color:#b00020">{html.escape(problem)}</span>' if problem else ""
            )
            self.upload_error.layout.display = "" if problem else "none"


@dataclass(eq=False)
class Attachment:
    """One attached image: its data URI (kept in Python only) and the chip showing it."""

    uri: str
    name: str
    summary: str
    chip: widgets.HBox
    label: widgets.HTML
    remove_button: widgets.Button

    @classmethod
    def make(cls, uri: str, data: bytes | None = None) -> Attachment:
        """The attachment for ``uri`` (``data``: its bytes, when already decoded)."""
        name = _NAMES.get(uri, "attached image")
        summary, thumb = _describe_image(uri, data)
        label = widgets.HTML()
        label.add_class("mountsea-attachment-label")
        remove = widgets.Button(
            icon="times",
            tooltip=f"Remove {name} from {IMAGE_URLS}",
            layout=widgets.Layout(width="32px"),
        )
        remove.add_class("mountsea-attachment-remove")
        parts: list[widgets.Widget] = [label, remove]
        if thumb:
            image = widgets.Image(
                value=thumb, format="jpeg", layout=widgets.Layout(width="40px", height="auto")
            )
            image.add_class("mountsea-attachment-thumb")
            parts.insert(0, image)
        chip = widgets.HBox(
            parts,
            layout=widgets.Layout(
                border="1px solid #ccc",
                padding="1px 2px 1px 4px",
                margin="0 4px 2px 0",
                align_items="center",
            ),
        )
        chip.add_class("mountsea-attachment")
        return cls(uri, name, summary, chip, label, remove)

    def set_position(self, position: int) -> None:
        """Show the chip's place in ``image_urls`` (1 = first)."""
        text = f"#{position} {html.escape(_short_name(self.name))} · {html.escape(self.summary)}"
        if self.label.value != text:
            self.label.value = text


#: The parameter whose attachments these are (used in tooltips).
IMAGE_URLS = "image_urls"
#: The text of the button that attaches image files.
UPLOAD_LABEL = "add image files"
#: FileUpload always writes its file count after the description ("add image files (0)"); the
#: files are taken out at once, so the count is always 0 and only confuses. This hides the
#: button's text and shows the description alone (where the CSS is ignored, the count shows).
_UPLOAD_CSS = (
    "<style>.mountsea-upload{font-size:0 !important}"
    f".mountsea-upload::after{{content:'{UPLOAD_LABEL}';"
    "font-size:var(--jp-widgets-font-size,13px)}"
    ".mountsea-upload i{font-size:var(--jp-widgets-font-size,13px)}</style>"
)


def _upload_style() -> widgets.HTML:
    return widgets.HTML(_UPLOAD_CSS, layout=widgets.Layout(width="0", margin="0"))


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


def _describe_image(uri: str, data: bytes | None) -> tuple[str, bytes | None]:
    """A summary like ``PNG 640×480 · 123 KB`` and a small JPEG thumbnail (None: unreadable)."""
    media = uri[5:].split(";", 1)[0].split(",", 1)[0] or "?"
    try:
        if data is None:
            data, media = parse_data_uri(uri)
        image = decode_image(data)
        size = f"{image.format or media} {image.width}×{image.height}"
        image.close()
        thumb: bytes | None = thumbnail(data, max_side=80)
    except ImageError as exc:
        log.info("attached image not readable: %s", exc)
        return f"{media}, not readable as an image", None
    return f"{size} · {_kilobytes(len(data))}", thumb


def _kilobytes(count: int) -> str:
    return f"{count / 1e6:.1f} MB" if count >= 1_000_000 else f"{max(1, round(count / 1e3))} KB"
