"""The base of every view: one anywidget model, its page, its messages and its fallback.

A view keeps its state in Python (typed traits the page draws) and hears the page through
small custom messages ``{"type": ..., ...}`` with optional binary buffers (thumbnails, files).

What a notebook keeps when it is saved: next to the live widget each view displays a second
output, plain escaped HTML of its current results (:meth:`View.fallback_html`), refreshed as
results change. nbconvert, GitHub and nbviewer show that output; in JupyterLab and Notebook 7
the page hides it while the view is connected to its kernel, and shows it (with a "not
connected to a kernel" note on the view) once that kernel is gone.
"""

from __future__ import annotations

import html
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

import anywidget
import traitlets

log = logging.getLogger("mountsea_widgets.views")

#: A handler of one kind of page message: ``(content, buffers)``.
Handler = Callable[[dict[str, Any], list[bytes]], None]

#: Seconds a burst of changes waits before the fallback output is rewritten once for all.
FALLBACK_DELAY_S = 1.0


class View(anywidget.AnyWidget):
    """One view: subclasses set ``_esm``/``_css`` (see :mod:`._page`), register handlers with
    :meth:`on_page` and override :meth:`fallback_html` and :meth:`describe`."""

    #: Names this view's fallback output, so the page can hide it while the view is live.
    fallback_key = traitlets.Unicode("").tag(sync=True)
    #: The view's kind, for the page's "not connected" note ("Studio", "comparison grid", ...).
    view_kind = traitlets.Unicode("view").tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fallback_key = uuid.uuid4().hex
        self._handlers: dict[str, Handler] = {"hello": self._hello}
        self._display_ids: list[str] = []
        self._fallback_lock = threading.Lock()
        self._fallback_timer: threading.Timer | None = None
        #: The fallback HTML last written (a rewrite that would change nothing is skipped).
        self._fallback_written: str | None = None
        self.on_msg(self._received)

    # --- messages from the page ---------------------------------------------------------------

    def on_page(self, kind: str, handler: Handler) -> None:
        """Call ``handler(content, buffers)`` for each page message of type ``kind``."""
        self._handlers[kind] = handler

    def receive(self, content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        """Handle one page message as if the page had sent it (the comm calls this too)."""
        kind = content.get("type") if isinstance(content, dict) else None
        handler = self._handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:
            log.info("%s: page message of unknown type %r ignored", self.view_kind, kind)
            return
        try:
            handler(content, [bytes(buffer) for buffer in buffers or ()])
        except Exception:
            # Comm handlers' exceptions go nowhere a person looks: say it on the view.
            log.exception("%s: handling %r failed", self.view_kind, kind)
            self.page_failed(f"Something went wrong while handling “{kind}”; see the log.")

    def _received(self, _widget: Any, content: Any, buffers: list[Any]) -> None:
        self.receive(content, buffers)

    def _hello(self, _content: dict[str, Any], _buffers: list[bytes]) -> None:
        self.send({"type": "hello"})

    def page_failed(self, text: str) -> None:
        """Show ``text`` where the view reports problems (subclasses put it in their state)."""
        self.send({"type": "problem", "text": text})

    # --- display: the widget plus its fallback --------------------------------------------------

    def describe(self) -> str:
        """A one-line text that stays true however the view changes (no counts, no status)."""
        return f"mountsea-widgets {self.view_kind}"

    def __repr__(self) -> str:
        return f"<{self.describe()}>"

    def fallback_html(self) -> str:
        """Escaped HTML of the view's current results (subclasses show their own)."""
        return f"<p>{html.escape(self.describe())}</p>"

    def fallback_bundle(self) -> dict[str, str]:
        """The fallback output: a ``text/html`` of the results and a ``text/plain`` line."""
        note = (
            "<p style='color:#8a5a00;margin:2px 0'>Not connected to a kernel: these are the "
            "results saved with the notebook. Run the cell again to use the "
            f"{html.escape(self.view_kind)}.</p>"
        )
        body = (
            f'<div class="mountsea-fallback mountsea-fallback-{self.fallback_key}">'
            f"{note}{self.fallback_html()}</div>"
        )
        return {"text/html": body, "text/plain": self.describe()}

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle
        data["text/plain"] = self.describe()
        return data, metadata

    def _ipython_display_(self, **kwargs: Any) -> None:
        from IPython.display import display

        bundle = self._repr_mimebundle_()
        if bundle is None:
            return
        data, metadata = bundle
        display(data, metadata=metadata, raw=True)
        display_id = uuid.uuid4().hex
        fallback = self.fallback_bundle()
        display(fallback, raw=True, display_id=display_id)
        with self._fallback_lock:
            self._display_ids.append(display_id)
            self._fallback_written = fallback["text/html"]

    def refresh_fallback(self) -> None:
        """Rewrite the fallback outputs soon, once for a burst of changes (any thread)."""
        with self._fallback_lock:
            if not self._display_ids or self._fallback_timer is not None:
                return
            timer = threading.Timer(FALLBACK_DELAY_S, self.flush_fallback)
            timer.daemon = True
            self._fallback_timer = timer
        timer.start()

    def flush_fallback(self) -> None:
        """Rewrite every fallback output of this view now."""
        from IPython.display import update_display

        with self._fallback_lock:
            self._fallback_timer = None
            display_ids = list(self._display_ids)
        if not display_ids:
            return
        bundle = self.fallback_bundle()
        with self._fallback_lock:
            if bundle["text/html"] == self._fallback_written:
                return  # e.g. a change the saved copy does not show
            self._fallback_written = bundle["text/html"]
        for display_id in display_ids:
            try:
                update_display(bundle, raw=True, display_id=display_id)
            except Exception:  # never let the saved copy break the live view
                log.info("%s: fallback update failed", self.view_kind, exc_info=True)

    def close(self) -> None:
        """Close the model (frees its comm) and stop pending fallback updates."""
        with self._fallback_lock:
            timer, self._fallback_timer = self._fallback_timer, None
        if timer is not None:
            timer.cancel()
        super().close()
