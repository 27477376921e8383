"""One run as a view shows it: a headless card with its record (JSON for the page) and actions.

The Studio keeps a :class:`Card` per run of its history and the ``%%mountsea`` task cell one
for its run. A card holds no widget: :meth:`Card.record` is what the page draws (``card.js``),
and the actions (Cancel, Resume, Reuse, Use as input, Save, Code, Remove, select) are methods
the page's messages call. Everything in a record is plain text (the page puts it in with
``textContent``), bounded in length, and never holds the API key or image bytes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._durations import about
from .._image_input import reference_for, shorten_data_uris
from ..catalog import catalog
from ..run import FINAL_STATUSES, Run, generation_code, image_loaders, save_run

if TYPE_CHECKING:
    from .._cost import Estimate

log = logging.getLogger("mountsea_widgets.cards")

#: Longest parameter value shown on a card (data: URIs can be megabytes).
MAX_SHOWN_VALUE = 80
#: Longest prompt, error or note a record carries (the full text stays in Python).
MAX_TEXT = 2000
#: Longest code text a record carries (data URIs are shortened first).
MAX_CODE = 8000
#: Longest side of a card's thumbnails, in pixels (small JPEGs: a few KB each).
CARD_THUMB_SIDE = 160

#: Every action a card may offer, in the order its buttons show.
ACTIONS = ("cancel", "resume", "reuse", "use-input", "save", "code", "remove")

#: Called with the run when the card's Reuse / Resume is used.
RunAction = Callable[[Run], None]


def estimate_of(model: str, input: Mapping[str, Any]) -> Estimate | None:
    """The estimate for ``model`` with ``input`` (None when it cannot be worked out)."""
    from .._cost import estimate_input

    try:
        return estimate_input(model, input)
    except Exception:  # a price problem must never stop the form or a run
        return None


def short(value: Any, limit: int = MAX_SHOWN_VALUE) -> str:
    """``value`` as a person reads it on a card, cut to ``limit`` characters."""
    if isinstance(value, list):
        text = ", ".join(short(item, limit) for item in value)
    elif isinstance(value, str):
        text = value
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clip(text: str | None, limit: int = MAX_TEXT) -> str:
    """``text`` (None: '') cut to ``limit`` characters, saying so."""
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clock_time(stamp: float) -> str:
    """``stamp`` (Unix time) as the local ``HH:MM:SS``, or "at an unknown time" when no clock
    can show it (a damaged history: a time in the year 300,000, or not a number at all)."""
    try:
        return time.strftime("%H:%M:%S", time.localtime(stamp))
    except (OverflowError, OSError, ValueError, TypeError):
        return "at an unknown time"


def progress_of(run: Run) -> tuple[float, str, bool]:
    """The bar's fill (0..1), the timing text ("1.2 s / ~6 s") and whether the run is late."""
    expected = max(run.expected_s, 0.1)
    late = not run.done and run.elapsed_s > expected
    timing = f"{run.elapsed_s:.1f} s"
    if not run.done:
        timing += f" / {about(expected)}" + (" (longer than usual)" if late else "")
    fill = 1.0 if run.status == "completed" else min(run.elapsed_s / expected, 1.0)
    return round(fill, 3), timing, late


class Card:
    """A run as a view shows it (see the module docstring); safe to use from any thread.

    ``on_reuse`` / ``on_resume`` / ``on_remove`` / ``on_use_input`` are what the view does for
    those actions (an action without one is not offered); ``save_folder`` gives Save's folder.
    """

    def __init__(
        self,
        run: Run,
        *,
        on_reuse: RunAction | None = None,
        on_resume: RunAction | None = None,
        on_remove: Callable[[Card], None] | None = None,
        on_use_input: Callable[[Run, str], Any] | None = None,
        save_folder: Callable[[], Path] = lambda: Path.cwd() / "mountsea-output",
    ) -> None:
        self.run = run
        self._on_reuse = on_reuse
        self._on_resume = on_resume
        self._on_remove = on_remove
        self._on_use_input = on_use_input
        self._save_folder = save_folder
        self._lock = threading.RLock()
        #: Ticked for Export selected.
        self.selected = False
        #: Whether the code that reproduces the run is shown on the card.
        self.code_shown = False
        #: What the last action said (Save's paths, a refusal), shown under the card.
        self.note = ""
        #: Files written by the last :meth:`save`.
        self.saved_paths: list[Path] = []

    # --- what the page draws ----------------------------------------------------------------

    @property
    def run_id(self) -> str:
        """The run's id (the card's key on the page)."""
        return self.run.run_id

    @property
    def image_count(self) -> int:
        """How many images the run has (kept in memory or in files)."""
        return len(image_loaders(self.run))

    @property
    def running(self) -> bool:
        """True while this process carries the run out."""
        run = self.run
        return not run.done and run.future is not None and not run.future.done()

    def actions(self) -> list[str]:
        """The actions the card offers now (see :data:`ACTIONS`)."""
        run = self.run
        running = self.running
        # Unfinished runs from the history, and runs that lost contact with the hub.
        resumable = (not run.done or run.resumable) and not running and run.task_id is not None
        has_images = self.image_count > 0
        offered = {
            "cancel": running,
            "resume": resumable and self._on_resume is not None,
            # A model this version does not know cannot be loaded into the form.
            "reuse": run.model in catalog and self._on_reuse is not None,
            "use-input": run.status == "completed" and has_images and bool(self._on_use_input),
            "save": has_images,
            "code": True,
            "remove": self._on_remove is not None,
        }
        return [name for name in ACTIONS if offered[name]]

    def record(self) -> dict[str, Any]:
        """The card as JSON-able text for the page (bounded; no image bytes, no key)."""
        with self._lock:
            run = self.run
            fill, timing, late = progress_of(run)
            estimate = estimate_of(run.model, run.input)
            notes = [*run.warnings, self.note] if self.note else list(run.warnings)
            record: dict[str, Any] = {
                "id": run.run_id,
                "model": run.model,
                "prompt": clip(run.prompt),
                "status": run.status,
                "final": run.status in FINAL_STATUSES,
                "task": clip(run.task_id, 120),
                "started": clock_time(run.started),
                "params": [
                    [name, short(value)] for name, value in list(run.changed_params().items())[:24]
                ],
                "cost": f"estimated {estimate.label}" if estimate is not None else "",
                "cost_basis": f"Estimate: {estimate.basis}" if estimate is not None else "",
                "timing": timing,
                "late": late,
                "progress": fill,
                "error": clip(run.error),
                "note": clip(" · ".join(text for text in notes if text)),
                "images": self.image_count,
                "actions": self.actions(),
                "selected": self.selected,
            }
            if self.code_shown:
                # Attached images would put megabytes of base64 into the page.
                record["code"] = clip(shorten_data_uris(self.code_text()), MAX_CODE)
            return record

    def thumbnails(self, side: int = CARD_THUMB_SIDE) -> list[bytes | None]:
        """Small JPEGs of the images (None where one cannot be made); slow: a worker's job.

        History files use the cache beside them (decoded once ever); images in memory are
        shrunk from the run's own thumbnails when it has them.
        """
        from .._images import thumbnail
        from ..history import cached_thumbnail

        run = self.run
        made: list[bytes | None] = []
        for index, load in enumerate(image_loaders(run)):
            try:
                # The run's own thumbnails first (small JPEGs made as it ended), then the
                # history file's cached one, and only then the full image.
                small = run.thumbnails[index] if index < len(run.thumbnails) else None
                source = getattr(load, "__self__", None)
                if small is None and isinstance(source, Path):
                    made.append(cached_thumbnail(source, side))
                    continue
                made.append(thumbnail(small or load(), side))
            except Exception as exc:  # server bytes are untrusted: this image says why
                log.info("run %s image %d: no thumbnail: %s", run.run_id, index + 1, exc)
                made.append(None)
        return made

    def full_image(self, index: int) -> bytes:
        """Image ``index`` at full size (read now); IndexError when there is no such image."""
        loaders = image_loaders(self.run)
        if not 0 <= index < len(loaders):
            raise IndexError(f"the run has {len(loaders)} image(s), not an image {index + 1}")
        return loaders[index]()

    # --- actions ----------------------------------------------------------------------------

    def cancel(self) -> bool:
        """Stop waiting for this run (the hub may still finish and bill it)."""
        return self.run.cancel()

    def resume(self) -> None:
        """Poll this run's task again (unfinished in the history, or after lost contact)."""
        if self._on_resume is not None and (not self.run.done or self.run.resumable):
            self._on_resume(self.run)

    def reuse(self) -> None:
        """Load this run's model and parameters into the form."""
        if self._on_reuse is not None:
            self._on_reuse(self.run)

    def use_as_input(self, index: int = 0) -> str | None:
        """Hand image ``index`` to the view as an edit input; returns what will be sent.

        The image goes as its provider URL when that is http(s), else (``sync_mode`` results,
        runs read back from the history) as a data URI of the kept bytes.
        """
        from .image_list_control import name_attachment

        if self._on_use_input is None:
            return None
        loaders = image_loaders(self.run)
        if not 0 <= index < len(loaders):
            self.note = f"There is no image {index + 1} in this run."
            return None
        urls = self.run.result.urls if self.run.result is not None else []
        url = urls[index] if index < len(urls) else None
        try:
            reference = reference_for(url, loaders[index])
        except Exception as exc:
            self.note = f"Image {index + 1} cannot be used as input: {exc}"
            return None
        name_attachment(reference, f"{self.run.model} image {index + 1}")  # its chip's name
        self._on_use_input(self.run, reference)
        return reference

    def save(self, folder: str | Path | None = None) -> list[Path]:
        """Write the images to ``folder`` (default: the view's save folder); notes the paths."""
        target = Path(folder) if folder is not None else self._save_folder()
        try:
            paths = save_run(self.run, target)
        except OSError as exc:
            self.note = f"Could not save into {target}: {exc.strerror or 'the folder refused'}."
            return []
        except Exception as exc:
            log.exception("save of run %s failed", self.run.run_id)
            self.note = f"Could not save the images: {exc}"
            return []
        listing = "\n".join(str(path) for path in paths) or "(no images to save)"
        self.note = f"Saved {len(paths)} file(s):\n{listing}"
        self.saved_paths = paths
        return paths

    def code_text(self) -> str:
        """The ``mw.generate(...)`` call that reproduces this run."""
        return generation_code(self.run.model, self.run.input, self.run.unchecked)

    def toggle_code(self) -> bool:
        """Show or hide the code on the card; returns whether it is shown now."""
        self.code_shown = not self.code_shown
        return self.code_shown

    def remove(self) -> None:
        """Cancel the run if it is going, and drop the card (and the run from the history)."""
        if not self.run.done:
            self.run.cancel()
        if self._on_remove is not None:
            self._on_remove(self)

    def __repr__(self) -> str:
        return f"<Card {self.run!r}>"
