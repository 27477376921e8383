"""The comparison grid: ONE view (an anywidget model) whatever the number of cells.

The view knows nothing about clients or runs: it shows what it is told through
:meth:`ComparisonGrid.set_cell` (a :class:`CellView`) and the ``set_*`` methods, from any
thread. Python holds the state; ``static/grid.js`` draws it.

Synced traits (JSON only, bounded by one page of the grid): ``title``, ``subtitle``,
``columns`` / ``rows`` (axis labels), ``pages`` (labels of the third axis) and ``page`` (the
one shown), ``cells`` (the shown page's cell records, see :meth:`ComparisonGrid.record`),
``summary``, ``tone``, ``progress`` (``{"done", "total"}``), ``estimate`` / ``estimate_basis``,
``confirm`` (the question of ``confirm="ask"``, "" when none), ``running``, ``problem``.

Messages to the page: ``{"type": "cell", "cell": record}`` as a cell changes;
``{"type": "thumb", "index", "mime"}`` with one JPEG buffer when a cell of the shown page gets
its thumbnail; ``{"type": "thumbs", "page", "cells": [...], "thumbs": [{"index", "mime"}]}``
with one buffer per thumbnail (the answer to the page's ``{"type": "thumbs"}`` and to a page
switch); ``{"type": "full", "index", "mime", "width", "height"}`` with the bounded image (or
``"text"`` without one). Messages from the page: ``thumbs``, ``page`` (``{"page": n}``),
``full`` (``{"index": i}``), ``confirm`` (the Run button), ``cancel``.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import traitlets

from ._asking_view import AskingView
from ._page import page_module, page_style
from ._thumbs import fallback_uri, full_image

#: Longest cell message kept in a record (an error page's text can be long; the records keep
#: the whole text in Python).
MESSAGE_CHARS = 400
#: Seconds a burst of cell changes waits before the ``cells`` trait (the saved state) is
#: synced once for all; the page hears each change at once by a ``cell`` message. A bigger
#: page waits longer (``SYNC_CELLS_PER_S`` cells per second of delay), so the bytes of these
#: syncs per finished cell stay small however long the grid runs; a finished grid and a
#: page switch are synced at once.
SYNC_DELAY_S = 3.0
SYNC_CELLS_PER_S = 8
#: Bytes of thumbnails the fallback HTML embeds at most (the rest of the cells show text).
FALLBACK_IMAGE_BUDGET = 18 * 1024
#: Cells the fallback lists at most (a huge grid stays a small saved output).
FALLBACK_CELLS = 256

#: Tones a cell or the summary may have (the page colours them).
TONES = ("normal", "muted", "error", "ok")

#: A function giving the full-size image bytes of a cell (by index), or None.
ImageSource = Callable[[int], bytes | None]


@dataclass(frozen=True)
class CellView:
    """What one cell shows right now.

    ``status`` is the short state word ("queued", "processing", "completed", "n/a", ...);
    ``detail`` a second line (image count, seed note); ``message`` a longer text such as an
    error; ``seconds`` how long the run took so far and ``expected`` how long it usually takes
    (the page's progress bar); ``estimate`` the cell's estimated cost as text; ``image`` the
    page thumbnail (a small JPEG) once there is one.
    """

    status: str
    detail: str = ""
    message: str = ""
    tone: str = "normal"
    image: bytes | None = None
    seconds: float | None = None
    expected: float | None = None
    running: bool = False
    estimate: str = ""


class ComparisonGrid(AskingView):
    """A titled, labelled grid (rows × columns, optionally in pages) with a summary line."""

    _esm = page_module("grid.js")
    _css = page_style("grid.css")

    title = traitlets.Unicode("").tag(sync=True)
    subtitle = traitlets.Unicode("").tag(sync=True)
    columns = traitlets.List(traitlets.Unicode()).tag(sync=True)
    rows = traitlets.List(traitlets.Unicode()).tag(sync=True)
    pages = traitlets.List(traitlets.Unicode()).tag(sync=True)
    page = traitlets.Int(0).tag(sync=True)
    cells = traitlets.List(traitlets.Dict()).tag(sync=True)
    summary = traitlets.Unicode("").tag(sync=True)
    tone = traitlets.Unicode("muted").tag(sync=True)
    progress = traitlets.Dict({"done": 0, "total": 0}).tag(sync=True)
    estimate = traitlets.Unicode("").tag(sync=True)
    estimate_basis = traitlets.Unicode("").tag(sync=True)
    running = traitlets.Bool(False).tag(sync=True)

    def __init__(
        self,
        title: str,
        row_labels: Sequence[str],
        column_labels: Sequence[str],
        *,
        subtitle: str = "",
        page_labels: Sequence[str] = (),
        on_cancel: Callable[[], Any] | None = None,
        on_confirm: Callable[[], Any] | None = None,
        image_source: ImageSource | None = None,
    ) -> None:
        super().__init__(view_kind="comparison grid", on_cancel=on_cancel, on_confirm=on_confirm)
        self._lock = threading.RLock()
        self._image_source = image_source
        self._sync_timer: threading.Timer | None = None
        rows, columns = len(row_labels), len(column_labels)
        self._column_count = max(1, columns)
        self._page_size = rows * columns
        count = self._page_size * max(1, len(page_labels))
        self._records: list[dict[str, Any]] = [
            self._record(index, CellView(status="queued", tone="muted")) for index in range(count)
        ]
        self._thumbs: dict[int, bytes] = {}
        self._fallback_thumbs: dict[int, str | None] = {}
        with self.hold_sync():
            self.title = title
            self.subtitle = subtitle
            self.rows = [str(label) for label in row_labels]
            self.columns = [str(label) for label in column_labels]
            self.pages = [str(label) for label in page_labels]
            self.cells = self._page_records(0)
        self.on_page("thumbs", lambda _c, _b: self._send_page_thumbs())
        self.on_page("page", self._page_asked)
        self.on_page("full", self._full_asked)

    # --- what the grid holds --------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns) of one page."""
        return len(self.rows), len(self.columns)

    @property
    def page_count(self) -> int:
        """How many pages (1 without a third axis)."""
        return max(1, len(self.pages))

    def index(self, row: int, column: int, page: int = 0) -> int:
        """The cell index of ``(row, column)`` on ``page`` (cells are page by page, row by row)."""
        rows, columns = self.shape
        if not (0 <= row < rows and 0 <= column < columns and 0 <= page < self.page_count):
            raise IndexError(f"no cell ({row}, {column}) on page {page} of this grid")
        return (page * rows + row) * columns + column

    def record(self, index: int) -> dict[str, Any]:
        """What the page shows for cell ``index``: ``{"index", "page", "row", "column",
        "status", "tone", "detail", "message", "seconds", "expected", "running", "estimate",
        "thumb"}`` (a copy)."""
        with self._lock:
            return dict(self._records[index])

    def thumbnail(self, index: int) -> bytes | None:
        """The thumbnail the page gets for cell ``index`` (None before there is one)."""
        with self._lock:
            return self._thumbs.get(index)

    def _record(self, index: int, view: CellView) -> dict[str, Any]:
        size = max(1, self._page_size)
        page, place = divmod(index, size)
        row, column = divmod(place, self._column_count)
        message = view.message
        if len(message) > MESSAGE_CHARS:
            message = message[: MESSAGE_CHARS - 1] + "…"
        return {
            "index": index,
            "page": page,
            "row": row,
            "column": column,
            "status": view.status,
            "tone": view.tone if view.tone in TONES else "normal",
            "detail": view.detail,
            "message": message,
            "seconds": None if view.seconds is None else round(float(view.seconds), 1),
            "expected": None if view.expected is None else round(float(view.expected), 1),
            "running": bool(view.running),
            "estimate": view.estimate,
            "thumb": view.image is not None,
        }

    def _page_records(self, page: int) -> list[dict[str, Any]]:
        size = self._page_size
        return [dict(record) for record in self._records[page * size : (page + 1) * size]]

    # --- changes from Python (any thread) -------------------------------------------------------

    def set_cell(self, index: int, view: CellView) -> None:
        """Show ``view`` in cell ``index``: the page hears of it at once, the saved state soon."""
        with self._lock:
            before = self._records[index]
            record = self._record(index, view)
            new_thumb = view.image is not None and self._thumbs.get(index) != view.image
            if new_thumb:
                assert view.image is not None
                self._thumbs[index] = view.image
                self._fallback_thumbs.pop(index, None)
            elif view.image is None and index in self._thumbs:
                del self._thumbs[index]
                self._fallback_thumbs.pop(index, None)
            # The page keeps a running cell's clock itself: seconds alone are no news.
            news = {k: v for k, v in record.items() if k != "seconds"} != {
                k: v for k, v in before.items() if k != "seconds"
            }
            self._records[index] = record
            # Sent under the lock: the page hears changes in the order they were made (a
            # sync of the records never overtakes a newer cell message, nor the reverse).
            shown = record["page"] == self.page
            if news and shown:
                self.send({"type": "cell", "cell": record})
            if new_thumb and shown:
                assert view.image is not None
                self.send({"type": "thumb", "index": index, "mime": "image/jpeg"}, [view.image])
        if news or new_thumb:
            self._sync_soon()
            self.refresh_fallback()

    def set_summary(self, text: str, *, tone: str = "muted") -> None:
        """Replace the one-line summary above the grid (e.g. "5 of 8 done")."""
        with self.hold_sync():
            self.summary = text
            self.tone = tone if tone in TONES else "normal"

    def set_progress(self, done: int, total: int) -> None:
        """Show ``done`` of ``total`` cells done (the grid's progress bar)."""
        value = {"done": int(done), "total": int(total)}
        if value != self.progress:
            self.progress = value

    def set_running(self, running: bool) -> None:
        """Offer Cancel only while cells are still running."""
        self.running = bool(running)

    def set_estimate(self, text: str, basis: str = "") -> None:
        """Show the grid's estimated cost (``basis``: how it was worked out, as a tooltip)."""
        with self.hold_sync():
            self.estimate = text
            self.estimate_basis = basis

    def flush(self) -> None:
        """Sync the shown page's records now (the saved state catches up with the page)."""
        with self._lock:
            timer, self._sync_timer = self._sync_timer, None
            records = self._page_records(self.page)
            if records != self.cells:
                self.cells = records
        if timer is not None:
            timer.cancel()

    def _sync_soon(self) -> None:
        with self._lock:
            if self._sync_timer is not None:
                return
            delay = max(SYNC_DELAY_S, self._page_size / SYNC_CELLS_PER_S)
            timer = threading.Timer(delay, self.flush)
            timer.daemon = True
            self._sync_timer = timer
        timer.start()

    # --- messages from the page -----------------------------------------------------------------

    def show_page(self, page: int) -> None:
        """Show page ``page`` (every page's cells run; this changes only what is shown)."""
        if isinstance(page, bool) or not isinstance(page, int):
            raise ValueError(f"page must be a whole number, got {page!r}")
        if not 0 <= page < self.page_count:
            raise ValueError(f"page must be between 0 and {self.page_count - 1}, got {page}")
        with self._lock, self.hold_sync():
            self.page = page
            self.cells = self._page_records(page)
            self.problem = ""  # a page shown: an earlier refusal is old news
        self._send_page_thumbs()

    def _page_asked(self, content: dict[str, Any], _buffers: list[bytes]) -> None:
        page = content.get("page")
        if isinstance(page, bool) or not isinstance(page, int) or not 0 <= page < self.page_count:
            self.page_failed(f"There is no page {page!r} in this grid.")
            return
        self.show_page(page)

    def _send_page_thumbs(self) -> None:
        """Send the shown page's records and thumbnails (after a re-render or a page switch)."""
        with self._lock:
            page = self.page
            records = self._page_records(page)
            indexes = [r["index"] for r in records if r["index"] in self._thumbs]
            buffers = [self._thumbs[index] for index in indexes]
            thumbs = [{"index": index, "mime": "image/jpeg"} for index in indexes]
            self.send({"type": "thumbs", "page": page, "cells": records, "thumbs": thumbs}, buffers)

    def _full_asked(self, content: dict[str, Any], _buffers: list[bytes]) -> None:
        index = content.get("index")
        if isinstance(index, bool) or not isinstance(index, int):
            return
        if not 0 <= index < len(self._records):
            return
        data = self._image_source(index) if self._image_source is not None else None
        image = full_image(data) if data else None
        if image is None:
            text = (
                "This cell has no image to show yet." if not data else "This image cannot be shown."
            )
            self.send({"type": "full", "index": index, "text": text})
            return
        from .._images import decode_image

        width, height = decode_image(image).size
        self.send(
            {
                "type": "full",
                "index": index,
                "mime": "image/jpeg",
                "width": width,
                "height": height,
            },
            [image],
        )

    # --- text forms -----------------------------------------------------------------------------

    def describe(self) -> str:
        """A line that stays true as the grid fills: what is compared, never counts."""
        rows, columns = self.shape
        pages = f" × {self.page_count} pages" if self.pages else ""
        title = self.title if len(self.title) <= 60 else self.title[:59] + "…"
        return f"mountsea-widgets comparison grid ({rows}×{columns}{pages}): {title}"

    def fallback_html(self) -> str:
        """Escaped HTML of the grid: labels, statuses and tiny thumbnails, bounded in size."""
        with self._lock:
            records = [dict(record) for record in self._records[:FALLBACK_CELLS]]
            left_out = len(self._records) - len(records)
            thumbs = dict(self._thumbs)
        budget = FALLBACK_IMAGE_BUDGET
        rows, columns = self.shape
        parts = [f"<div><b>{_text(self.title)}</b></div>"]
        if self.subtitle:
            parts.append(f"<div style='color:#6b7280'>{_text(self.subtitle)}</div>")
        line = " · ".join(t for t in (self.summary, self.estimate) if t)
        parts.append(f"<div style='color:#6b7280;font-size:0.9em'>{_text(line)}</div>")
        by_page: dict[int, list[dict[str, Any]]] = {}
        for record in records:
            by_page.setdefault(record["page"], []).append(record)
        for page, page_records in by_page.items():
            if self.pages:
                parts.append(f"<div><b>{_text(self.pages[page])}</b></div>")
            head = "".join(f"<th>{_text(label)}</th>" for label in self.columns)
            body = []
            for row in range(rows):
                cells = []
                for record in page_records[row * columns : (row + 1) * columns]:
                    uri = None
                    if record["index"] in thumbs:
                        uri = self._fallback_uri(record["index"], thumbs[record["index"]])
                        if uri is not None and len(uri) <= budget:
                            budget -= len(uri)
                        else:
                            uri = None
                    cells.append(_fallback_cell(record, uri))
                if cells:
                    label = _text(self.rows[row]) if row < len(self.rows) else ""
                    body.append(
                        f"<tr><th style='text-align:left'>{label}</th>{''.join(cells)}</tr>"
                    )
            parts.append(
                "<table style='border-collapse:collapse;font-size:0.85em'>"
                f"<tr><th></th>{head}</tr>{''.join(body)}</table>"
            )
        if left_out:
            parts.append(f"<div>… and {left_out} more cells in the live grid.</div>")
        return f'<div class="mw-fallback-grid">{FALLBACK_STYLE}{"".join(parts)}</div>'

    def _fallback_uri(self, index: int, thumb: bytes) -> str | None:
        with self._lock:
            if index not in self._fallback_thumbs:
                self._fallback_thumbs[index] = fallback_uri(thumb)
            return self._fallback_thumbs[index]

    def close(self) -> None:
        """Close the model and stop a pending sync."""
        with self._lock:
            timer, self._sync_timer = self._sync_timer, None
        if timer is not None:
            timer.cancel()
        super().close()


def _text(text: str) -> str:
    """Text for HTML: escaped, line breaks kept."""
    return html.escape(str(text)).replace("\n", "<br>")


#: The fallback table's look, once per output (not once per cell: the output stays small).
FALLBACK_STYLE = (
    "<style>.mw-fallback-grid td{border:1px solid #d1d5db;padding:3px;vertical-align:top}"
    ".mw-fallback-grid img{display:block}.mw-fallback-grid b.ok{color:#047857}"
    ".mw-fallback-grid b.error{color:#b00020}.mw-fallback-grid b.muted{color:#6b7280}</style>"
)


def _fallback_cell(record: dict[str, Any], uri: str | None) -> str:
    tone = record["tone"] if record["tone"] in TONES else "normal"
    image = f"<img src='{html.escape(uri, quote=True)}' alt=''>" if uri else ""
    lines = [record["detail"], record["message"]]
    extra = "".join(f"<div>{_text(text)}</div>" for text in lines if text)
    return f"<td><b class='{tone}'>{_text(record['status'])}</b>{image}{extra}</td>"
