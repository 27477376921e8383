"""The outcome of one finished task: what was asked, and the image bytes downloaded at once."""

from __future__ import annotations

import base64
import html
import io
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from ._image_files import file_stem, image_metadata, save_images
from ._images import EXTENSIONS, decode_image, thumbnail

if TYPE_CHECKING:
    from ._cost import Estimate

#: Image modes a PNG can hold as they are (others are converted for display).
_PNG_MODES = frozenset({"1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"})


class Result:
    """A completed hub task with its images already downloaded.

    ``input`` is the JSON that was sent (after validation), ``image_bytes`` the downloaded
    files (kept because result URLs may expire), ``raw`` the hub's last task body.
    ``images`` decodes the bytes lazily, through the safe decoder. ``run_id`` and ``created``
    (Unix time) name the run the task belongs to (set by ``mw.generate`` and the Studio; a bare
    client's result has no run id and is stamped when it is made); saved files carry them.

    Once the images are saved (the Studio's history does it), :meth:`keep_on_disk` drops the
    bytes from memory: ``image_bytes`` and ``images`` then read the saved files, so hundreds
    of finished runs in a notebook do not hold hundreds of megabytes.
    """

    def __init__(
        self,
        *,
        task_id: str,
        model: str,
        input: dict[str, Any] | None = None,
        status: str = "completed",
        urls: Sequence[str] = (),
        image_bytes: Sequence[bytes] = (),
        content_types: Sequence[str] = (),
        elapsed_s: float | None = None,
        raw: dict[str, Any] | None = None,
        run_id: str | None = None,
        created: float | None = None,
    ) -> None:
        self.task_id = task_id
        self.run_id = run_id
        self.created = float(created) if created is not None else time.time()
        self.model = model
        self.input: dict[str, Any] = dict(input or {})
        self.status = status
        self.urls: list[str] = list(urls)
        self._bytes: list[bytes] = list(image_bytes)
        self._files: list[Path] | None = None
        self.content_types: list[str] = list(content_types)
        while len(self.content_types) < self.image_count:
            self.content_types.append("application/octet-stream")
        self.elapsed_s = elapsed_s
        self.raw: dict[str, Any] = dict(raw or {})
        self.simulated = bool(self.raw.get("simulated"))
        self._images: list[Image.Image] | None = None

    @property
    def prompt(self) -> str:
        """The prompt that was sent ("" when unknown)."""
        prompt = self.input.get("prompt")
        return prompt if isinstance(prompt, str) else ""

    @property
    def image_bytes(self) -> list[bytes]:
        """The images' encoded bytes: kept in memory, or read back from :attr:`files`."""
        if self._files is None:
            return self._bytes
        return [self._read(number, path) for number, path in enumerate(self._files, 1)]

    @image_bytes.setter
    def image_bytes(self, value: Sequence[bytes]) -> None:
        self._bytes = list(value)
        self._files = None
        self._images = None

    @property
    def image_count(self) -> int:
        """How many images there are (reads nothing)."""
        return len(self._bytes) if self._files is None else len(self._files)

    def _read(self, number: int, path: Path) -> bytes:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise FileNotFoundError(
                f"image {number} of task {self.task_id} was kept in the history at {path}, "
                "which no longer exists (removed from the history?)"
            ) from None

    @property
    def files(self) -> list[Path]:
        """The saved files the images are read from, after :meth:`keep_on_disk` (else empty)."""
        return list(self._files or ())

    def keep_on_disk(self, paths: Sequence[str | os.PathLike[str]]) -> None:
        """Read the images from ``paths`` (their saved copies) from now on; free the memory.

        ``paths`` must be one existing file per image, in order; the in-memory bytes and any
        decoded images are then dropped. (Saved copies may carry embedded metadata, so their
        bytes can differ from the download while decoding to the same pixels.)
        """
        files = [Path(path) for path in paths]
        if len(files) != self.image_count:
            raise ValueError(
                f"expected {self.image_count} file(s), one per image, got {len(files)}"
            )
        missing = [str(path) for path in files if not path.is_file()]
        if missing:
            raise FileNotFoundError(f"no saved image at {', '.join(missing)}")
        self._files = files
        self._bytes = []
        self._images = None

    @property
    def images(self) -> list[Image.Image]:
        """The images as PIL images, decoded on first use and then kept."""
        if self._images is None:
            self._images = [decode_image(data) for data in self.image_bytes]
        return list(self._images)

    def file_names(self) -> list[str]:
        """The names :meth:`save` gives the images first: ``<task_id>_<n>.<ext>``, n from 1.

        The task id is cleaned for any file system; an id that cleaning changed or shortened
        gets a short hash of the whole id, so two tasks never share names. When a file of that
        name already holds other bytes, :meth:`save` picks ``<task_id>_<n>-2.<ext>`` instead.
        """
        stem = file_stem(self.task_id, "task")
        return [f"{stem}_{number}.{ext}" for number, ext in enumerate(self._extensions(), 1)]

    def _extensions(self) -> list[str]:
        return [EXTENSIONS.get(kind, "img") for kind in self.content_types[: self.image_count]]

    def save(self, folder: str | os.PathLike[str]) -> list[Path]:
        """Write every image into ``folder`` (created if missing); returns the paths written.

        Names are deterministic and sanitised (see :meth:`file_names`); a file never lands
        outside ``folder`` whatever the task id says, and nothing is overwritten: saving the
        same images again returns the files already there. Each PNG, JPEG or WebP file carries
        the model, input, task id, run id, created time and index (``mw.read_metadata`` reads
        them back); other formats are written as received.
        """
        images = list(zip(self.image_bytes, self.content_types, self._extensions(), strict=False))
        return save_images(folder, file_stem(self.task_id, "task"), images, self.metadata)

    def metadata(self, index: int) -> dict[str, Any]:
        """The metadata saved with image ``index`` (from 0)."""
        return image_metadata(
            model=self.model,
            input=self.input,
            task_id=self.task_id,
            run_id=self.run_id,
            created=self.created,
            index=index,
        )

    def _repr_png_(self) -> bytes | None:
        """The first image as PNG bytes (Jupyter's image display)."""
        if not self.image_count:
            return None
        first = self.image_bytes[0]
        image = decode_image(first)
        if image.format == "PNG":
            return bytes(first)
        if image.mode not in _PNG_MODES:
            # CMYK (print JPEGs), YCbCr, LAB...: PNG cannot hold them; shown as RGB(A).
            transparent = "transparency" in image.info or image.mode.endswith("A")
            image = image.convert("RGBA" if transparent else "RGB")
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return buffer.getvalue()

    @property
    def estimate(self) -> Estimate:
        """What this result is estimated to cost, at the upstream list prices (the same
        estimate :func:`mw.estimate_cost <mountsea_widgets.estimate_cost>` gives)."""
        from ._cost import estimate_input

        return estimate_input(self.model, self.input)

    def _repr_html_(self) -> str:
        """A small card: model, task, estimated cost, escaped prompt, inline thumbnails."""
        escape = html.escape
        badge = " · simulated" if self.simulated else ""
        try:
            cost = f" · estimated {self.estimate.label}"
        except Exception:  # a model the price table cannot read: the card shows the rest
            cost = ""
        elapsed = f" · {self.elapsed_s:.1f} s" if self.elapsed_s is not None else ""
        thumbs = []
        for number, data in enumerate(self.image_bytes, 1):
            try:
                small = thumbnail(data, max_side=256)
            except Exception:  # one broken image must not hide the others
                thumbs.append(f"<span>image {number}: cannot be shown</span>")
                continue
            src = "data:image/jpeg;base64," + base64.b64encode(small).decode("ascii")
            thumbs.append(
                f'<img src="{src}" alt="image {number}" '
                'style="max-width:256px;max-height:256px;margin:2px;border-radius:4px">'
            )
        return (
            '<div class="mountsea-result">'
            f"<div><b>{escape(self.model)}</b> · {escape(self.status)} · "
            f"<code>{escape(self.task_id)}</code>{elapsed}{escape(cost)}{badge}</div>"
            f'<div style="white-space:pre-wrap">{escape(self.prompt)}</div>'
            f'<div style="display:flex;flex-wrap:wrap">{"".join(thumbs)}</div>'
            "</div>"
        )

    def __repr__(self) -> str:
        elapsed = f", elapsed_s={self.elapsed_s:.1f}" if self.elapsed_s is not None else ""
        simulated = ", simulated=True" if self.simulated else ""
        return (
            f"Result(task_id={self.task_id!r}, model={self.model!r}, status={self.status!r}, "
            f"images={self.image_count}{elapsed}{simulated})"
        )
