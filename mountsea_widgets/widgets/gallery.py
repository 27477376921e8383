"""A run's images: small thumbnails inline, the full-size image only when asked for.

Only thumbnails (small JPEGs from :func:`mountsea_widgets._images.thumbnail`) travel over the
widget comm up front; a full-size image (possibly many megabytes) is sent when its "full size"
button is clicked, one at a time.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets

from .._images import decode_image, thumbnail
from .control_base import close_tree

log = logging.getLogger("mountsea_widgets.gallery")

#: Longest side of a thumbnail, in pixels.
THUMB_SIDE = 256
#: Displayed width of a thumbnail in the page.
THUMB_WIDTH = "160px"

#: Gives one image's bytes when called (from memory, or read from a file on demand).
ImageLoader = Callable[[], bytes]


def image_format(data: bytes) -> str:
    """The ipywidgets ``Image.format`` for ``data`` (decoded safely: bad bytes raise)."""
    found = decode_image(data).format or "png"
    return found.lower()


class Gallery(widgets.VBox):
    """Thumbnails of a run's images, and a full-size view area loaded on demand."""

    def __init__(self, **kwargs: Any) -> None:
        self.thumbs = widgets.HBox(layout=widgets.Layout(flex_flow="row wrap"))
        self.thumbs.add_class("mountsea-thumbs")
        self.full = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.full.add_class("mountsea-full")
        self.full_caption = widgets.HTML("")
        self.close_button = widgets.Button(description="close full size", icon="times")
        self.close_button.add_class("mountsea-full-close")
        self.close_button.on_click(lambda _button: self.close_full())
        self.full_view = widgets.VBox(
            [widgets.HBox([self.full_caption, self.close_button]), self.full],
            layout=widgets.Layout(display="none"),
        )
        self.full_view.add_class("mountsea-full-view")
        super().__init__([self.thumbs, self.full_view], **kwargs)
        self.add_class("mountsea-gallery")
        self._loaders: list[ImageLoader] = []
        #: Index of the image shown full size, or None.
        self.opened: int | None = None

    @property
    def count(self) -> int:
        """How many thumbnails are shown."""
        return sum(1 for box in self.thumbs.children if "mountsea-thumb-box" in box._dom_classes)

    def set_images(
        self,
        loaders: Sequence[ImageLoader],
        thumbnails: Sequence[bytes | None] | None = None,
    ) -> None:
        """Show a thumbnail per image; an image that cannot be read shows why instead.

        ``thumbnails`` (JPEG bytes, e.g. cached beside history images) are shown as they are,
        so no image is decoded; a missing one (``None``) is made from its loader.
        """
        self._loaders = list(loaders)
        made = list(thumbnails or ())
        boxes = [
            self._thumb_box(index, loader, made[index] if index < len(made) else None)
            for index, loader in enumerate(self._loaders)
        ]
        old = list(self.thumbs.children)
        self.thumbs.children = boxes
        for box in old:
            close_tree(box)

    def _thumb_box(
        self, index: int, loader: ImageLoader, small: bytes | None = None
    ) -> widgets.Widget:
        try:
            if small is None:
                small = thumbnail(loader(), max_side=THUMB_SIDE)
        except Exception as exc:
            # Server bytes are untrusted: a broken image is reported, the others still show.
            log.info("image %d cannot be shown: %s", index + 1, exc)
            problem = widgets.HTML(
                f'<span style="color:#b00020">image {index + 1} cannot be shown: '
                f"{html.escape(str(exc))}</span>"
            )
            problem.add_class("mountsea-error")
            return problem
        image = widgets.Image(
            value=small, format="jpeg", layout=widgets.Layout(width=THUMB_WIDTH, height="auto")
        )
        image.add_class("mountsea-thumb")
        button = widgets.Button(
            description=f"full size {index + 1}",
            icon="expand",
            tooltip="Show this image at full size below",
            layout=widgets.Layout(width=THUMB_WIDTH),
        )
        button.add_class("mountsea-thumb-open")
        button.on_click(lambda _button, i=index: self.show_full(i))
        box = widgets.VBox([image, button], layout=widgets.Layout(margin="2px"))
        box.add_class("mountsea-thumb-box")
        return box

    def show_full(self, index: int) -> None:
        """Show image ``index`` at full size (its bytes are sent now, not before)."""
        try:
            data = self._loaders[index]()
            fmt = image_format(data)
        except Exception as exc:
            self.full_caption.value = (
                f'<span style="color:#b00020">image {index + 1} cannot be shown: '
                f"{html.escape(str(exc))}</span>"
            )
            self.full_view.layout.display = ""
            return
        with self.full.hold_sync():
            self.full.format = fmt
            self.full.value = data
        self.full_caption.value = f"image {index + 1} · {len(data) / 1e6:.2f} MB · {fmt}"
        self.full_view.layout.display = ""
        self.opened = index

    def close_full(self) -> None:
        """Hide the full-size view and drop its bytes from the page."""
        with self.full.hold_sync():
            self.full.value = b""
        self.full_view.layout.display = "none"
        self.opened = None
