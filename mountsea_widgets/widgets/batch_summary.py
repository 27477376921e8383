"""The live summary of a batch: ONE view for the whole batch, never one per run.

A progress bar, one line of counts (and the time left), the latest few images and, for
``confirm="ask"``, the Run button. It knows nothing about runs:
:class:`~mountsea_widgets.batches.Batch` tells it what to show, from any thread.
``static/batch.js`` draws it.

Synced traits (JSON only, small): ``title``, ``progress`` (``{"done", "total"}``), ``text``
(the counts line), ``running``, ``confirm`` (the question, "" when none), ``images`` (how many
latest images there are), ``problem``. Messages to the page: ``{"type": "images", "mime"}``
with one small JPEG buffer per latest image, newest first (when they change, and as the answer
to the page's ``{"type": "thumbs"}``). Messages from the page: ``thumbs``, ``confirm`` (the Run
button), ``cancel``.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable, Sequence

import traitlets

from ._asking_view import AskingView
from ._page import page_module, page_style
from ._thumbs import fallback_uri, shrink

#: How many of the latest images the summary shows.
LATEST_IMAGES = 4
#: Longest side of one of those thumbnails, in pixels (the page shows them at 96 CSS px).
THUMBNAIL_SIDE = 128
#: Largest such thumbnail, in bytes (all four stay well under 64 KB per finished run).
THUMBNAIL_BYTES = 12 * 1024


class BatchSummary(AskingView):
    """Title, progress bar, counts line and the latest images of one batch."""

    _esm = page_module("batch.js")
    _css = page_style("grid.css")

    title = traitlets.Unicode("").tag(sync=True)
    progress = traitlets.Dict({"done": 0, "total": 0}).tag(sync=True)
    text = traitlets.Unicode("").tag(sync=True)
    running = traitlets.Bool(False).tag(sync=True)
    images = traitlets.Int(0).tag(sync=True)

    def __init__(
        self,
        title: str,
        *,
        on_cancel: Callable[[], object] | None = None,
        on_confirm: Callable[[], object] | None = None,
    ) -> None:
        super().__init__(view_kind="batch summary", on_cancel=on_cancel, on_confirm=on_confirm)
        self._lock = threading.RLock()
        #: (source thumbnail, small JPEG) of the latest images, newest first.
        self._latest: list[tuple[bytes, bytes]] = []
        self._fallback_uris: dict[bytes, str | None] = {}
        self.title = title
        self.on_page("thumbs", lambda _c, _b: self._send_images())

    # --- changes from Python (any thread) -------------------------------------------------------

    def set_progress(self, done: int, total: int) -> None:
        """Show ``done`` of ``total`` cells done."""
        value = {"done": int(done), "total": int(total)}
        if value != self.progress:
            self.progress = value
            self.refresh_fallback()

    def set_text(self, text: str) -> None:
        """The counts line (text: it can hold hub text)."""
        if text != self.text:
            self.text = text
            self.refresh_fallback()

    def set_images(self, images: Sequence[bytes]) -> None:
        """Show the latest images (JPEG thumbnails), newest first; only a change is sent."""
        wanted = list(images)[:LATEST_IMAGES]
        with self._lock:
            known = dict(self._latest)
            if [source for source, _ in self._latest] == wanted:
                return
            latest = []
            for source in wanted:
                small = known.get(source) or shrink(source, THUMBNAIL_SIDE, THUMBNAIL_BYTES)
                if small is not None:
                    latest.append((source, small))
            self._latest = latest
        self.images = len(latest)
        self._send_images()
        self.refresh_fallback()

    def latest_images(self) -> list[bytes]:
        """The small JPEGs the page shows, newest first."""
        with self._lock:
            return [small for _, small in self._latest]

    def set_running(self, running: bool) -> None:
        """Offer Cancel only while the batch runs."""
        self.running = bool(running)

    # --- messages from the page -----------------------------------------------------------------

    def _send_images(self) -> None:
        buffers = self.latest_images()
        self.send({"type": "images", "mime": "image/jpeg"}, buffers)

    # --- text forms -----------------------------------------------------------------------------

    def describe(self) -> str:
        """A line that stays true while the batch runs (no counts)."""
        return f"mountsea-widgets batch summary: {self.title}"

    def fallback_html(self) -> str:
        """Escaped HTML: the title, a progress bar, the counts and tiny latest images."""
        done, total = self.progress.get("done", 0), self.progress.get("total", 0)
        images = []
        with self._lock:
            latest = list(self._latest)
        uris: dict[bytes, str | None] = {}
        for source, small in latest:
            # Made once per image; only the latest images' are kept.
            uri = self._fallback_uris.get(source)
            uris[source] = uri = uri or fallback_uri(small)
            if uri:
                images.append(f"<img src='{html.escape(uri, quote=True)}' alt=''>")
        self._fallback_uris = uris
        return (
            '<div class="mw-fallback-batch">'
            f"<b>{html.escape(self.title)}</b> "
            f'<progress value="{int(done)}" max="{max(int(total), 1)}"></progress> '
            f"<span>{html.escape(self.text)}</span>"
            f"<div>{''.join(images)}</div></div>"
        )
