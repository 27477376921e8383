"""The Studio: pick a model, set exactly its parameters, Generate, and watch runs arrive.

>>> import mountsea_widgets as mw
>>> studio = mw.studio("nano-banana")      # the last expression of a cell displays it

One anywidget view (one widget model, whatever the number of runs): Python holds the state
in synced traits (the form's schema and values, the newest runs' records, the credits...) and
the page (``static/studio.js``) draws it and sends small messages back (see
:class:`Studio`). Each Generate starts a run on the background runner, so the kernel stays
free; several runs can go at once, and their cards update live.

The history is one scrolling list: the page asks for the rows it shows (with their
thumbnails, made off the kernel's thread and cached beside the images), so a history of
thousands of runs opens as fast as a short one. Opening a Studio resumes, without waiting for
a click, every run the history has a task id for but no outcome (e.g. after the kernel died).
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import html
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import traitlets

from .. import _recovery as recovery
from .._launch import Launcher
from .._live_catalog import configured_target, live, spec_for
from .._resumption import run_for_entry
from .._runner import Runner, RunnerThreadError, get_runner
from ..catalog import catalog
from ..errors import MountseaError, ValidationError
from ..run import FINAL_STATUSES, Run
from ._page import page_module, page_style
from ._studio_text import (
    SPENT_TIP,
    Spending,
    exported_rows,
    history_line,
    human_size,
    model_label,
    safe_url,
    without_places,
)
from ._view import View
from .form import Form
from .image_list_control import UrlListControl
from .run_card import Card, estimate_of
from .run_list import RunList

if TYPE_CHECKING:
    from ..client import AsyncClient, Client
    from ..history import History, HistoryChoice, HistoryEntry

log = logging.getLogger("mountsea_widgets.studio")

__all__ = ["EDIT_MODEL_OF", "OFFLINE_NOTICE", "Studio", "human_size", "studio"]

#: Where Save writes images unless the Studio's folder field says otherwise (relative to cwd).
DEFAULT_SAVE_FOLDER = "mountsea-output"
#: Where Export selected writes when its folder field is empty (a time stamp is added).
DEFAULT_EXPORT_PREFIX = "mountsea-export"
#: How many of the newest runs' records the ``recent`` trait holds (first paint, saved state:
#: the first screen of cards; the page asks for the rest, with their thumbnails, anyway).
RECENT = 12
#: Long texts the ``recent`` window leaves out of its records (rows and ``run`` messages
#: carry them; a card drawn from the window alone shows the estimate without its basis).
RECENT_LEFT_OUT = frozenset({"cost_basis"})
#: Most rows one ``rows`` message may ask for (a page shows a few dozen).
MAX_ROWS = 200
#: Seconds between two live updates of one running run (a status change goes at once).
LIVE_INTERVAL_S = 0.25
#: Runs the saved fallback output shows, the images of each it shows, the side of their
#: thumbnails there, their JPEG quality (modest, optimized tables: ~0.7 KB each) and the most
#: bytes of one, so one rewrite stays a few KB.
FALLBACK_RUNS = 6
FALLBACK_IMAGES = 4
FALLBACK_THUMB_SIDE = 72
FALLBACK_THUMB_QUALITY = 60
FALLBACK_THUMB_BYTES = 1_400
#: Seconds before the ``recent`` window is rewritten after a run ended or a card changed: the
#: page already has the change (a ``run`` message); this keeps a saved notebook current, once
#: for a burst of changes.
RECENT_DELAY_S = 0.5
OFFLINE_NOTICE = "offline simulator — set MOUNTSEA_API_KEY for real images"
#: The edit model that takes each text-to-image model's images as input ("Use as input").
EDIT_MODEL_OF = {
    model_id: f"{model_id}-edit"
    for model_id in catalog.text_to_image
    if f"{model_id}-edit" in catalog
}


def edit_model_for(model: str) -> str:
    """The edit model that takes ``model``'s images: itself for an edit model, its twin else."""
    if model in catalog and catalog[model].is_edit:
        return model
    return EDIT_MODEL_OF.get(model, catalog.edit[0])


class Studio(View):
    """The Studio view (see the module docstring).

    ``client`` is an :class:`~mountsea_widgets.client.AsyncClient` or a blocking
    :class:`~mountsea_widgets.client.Client` (default: from the environment, or the embedded
    offline simulator); ``history`` a :class:`~mountsea_widgets.history.History` (default: the
    standard folder; ``False`` for none); ``past_runs=0`` leaves the history's earlier runs out
    (not shown, not resumed). ``deadline_s`` is how long a run waits for its task before it
    ends ``timeout`` (default: 10 x the model's expected time, at least 10 minutes).

    Python API: ``form``, ``model``, ``generate()``, ``reuse(run)``, ``use_as_input(image)``,
    ``load_image(path)``, ``export_selected(folder)``, ``select(...)``, ``cards`` (one
    :class:`~.run_card.Card` per run, newest first; ``cells`` is the same list), ``runs``,
    ``running``, ``resumed``, ``offline``, ``refresh_credits()``, ``wait_loaded()``,
    ``wait_idle()``, ``close()``.

    Page messages (``{"type": ...}``): ``generate``; ``model`` (``model``); the form's
    ``form`` / ``attach`` / ``detach``; ``rows`` (``start``, ``stop``, ``have``: run ids whose
    thumbnails the page holds) answered by ``rows`` (``start``, ``version``, ``rows``: records
    with ``thumbs``, indexes into the buffers); ``action`` (``action``, ``run_id``, ``index``,
    ``on``) for a card's buttons; ``select_all`` (``on``); ``export``; ``load`` (``path``);
    ``full`` (``run_id``, ``index``) answered by ``full`` with the image as a buffer. To the
    page besides: ``run`` (``record``, ``thumbs``) whenever one run changes, and ``moved``
    (``from``, ``version``, ``at``, ``by``, ``record`` of a run added) when a run is added or
    removed, so the page shifts the rows it holds instead of asking for them again. The
    ``recent`` window (with ``recent_version``, the ``list_version`` it was taken at) is
    rewritten when runs are added or removed and, once for a burst, after runs end or change.
    """

    _esm = page_module("form.js", "card.js", "studio.js")
    _css = page_style("form.css", "studio.css")

    view_kind = traitlets.Unicode("Studio").tag(sync=True)
    #: The model picker: ``[label, model id]`` pairs, and the chosen model.
    models: traitlets.List[list[str]] = traitlets.List().tag(sync=True)
    model = traitlets.Unicode("").tag(sync=True)
    summary = traitlets.Unicode("").tag(sync=True)
    #: ``form.state()``: the fields the page draws (see the Form's state contract).
    form_state = traitlets.Dict().tag(sync=True)
    banner = traitlets.Unicode("").tag(sync=True)
    banner_kind = traitlets.Unicode("hub").tag(sync=True)
    can_generate = traitlets.Bool(False).tag(sync=True)
    #: Why Generate is off, or what went wrong (plain words; '' when all is well).
    reason = traitlets.Unicode("").tag(sync=True)
    estimate = traitlets.Unicode("").tag(sync=True)
    estimate_basis = traitlets.Unicode("").tag(sync=True)
    spent = traitlets.Unicode("").tag(sync=True)
    spent_tip = traitlets.Unicode(SPENT_TIP).tag(sync=True)
    credits = traitlets.Unicode("").tag(sync=True)
    credits_quiet = traitlets.Bool(False).tag(sync=True)
    activity = traitlets.Unicode("").tag(sync=True)
    #: The page's text fields (it sets them as the person types).
    save_folder = traitlets.Unicode(DEFAULT_SAVE_FOLDER).tag(sync=True)
    export_folder = traitlets.Unicode("").tag(sync=True)
    load_path = traitlets.Unicode("").tag(sync=True)
    load_message = traitlets.Unicode("").tag(sync=True)
    load_error = traitlets.Bool(False).tag(sync=True)
    has_history = traitlets.Bool(False).tag(sync=True)
    history_info = traitlets.Unicode("").tag(sync=True)
    history_message = traitlets.Unicode("").tag(sync=True)
    history_error = traitlets.Bool(False).tag(sync=True)
    #: The list: how many runs, a version bumped when runs are added or removed (positions
    #: move), the newest runs' records, and a version bumped when many selections change.
    run_count = traitlets.Int(0).tag(sync=True)
    list_version = traitlets.Int(0).tag(sync=True)
    recent: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    #: The ``list_version`` the ``recent`` window was taken at (the page trusts it then only).
    recent_version = traitlets.Int(0).tag(sync=True)
    selected_count = traitlets.Int(0).tag(sync=True)
    selection_version = traitlets.Int(0).tag(sync=True)

    def __init__(
        self,
        model: str = "nano-banana",
        client: AsyncClient | Client | None = None,
        history: HistoryChoice = None,
        *,
        save_folder: str | Path = DEFAULT_SAVE_FOLDER,
        runner: Runner | None = None,
        past_runs: int | None = None,
        deadline_s: float | None = None,
    ) -> None:
        spec = spec_for(model, client)  # a model only the hub lists loads its live catalog
        if deadline_s is not None and (isinstance(deadline_s, bool) or not deadline_s > 0):
            raise ValueError(f"deadline_s must be a positive number of seconds, got {deadline_s!r}")
        super().__init__()
        #: Seconds each run waits for its task (None: the per-model default, see Run).
        self.deadline_s = deadline_s
        self.runner = runner or get_runner()
        self._lock = threading.RLock()
        #: Where this Studio's runs start: its history, its client, its runner.
        self.launcher = Launcher(client, history, runner=self.runner)
        self.history: History | None = self.launcher.history
        self.client: AsyncClient = self.launcher.client
        self._offline = self.launcher.offline
        self._list = RunList(self._card_of_entry)
        self._selected: set[str] = set()
        self._observed: set[str] = set()
        self._live_sent: dict[str, tuple[float, str]] = {}
        self._finished: set[str] = set()
        #: The pending rewrite of the ``recent`` window (see _recent_soon).
        self._recent_timer: threading.Timer | None = None
        #: Runs adopted from the history while cards were made, to resume (see _open_history).
        self._adopted: list[Run] = []
        self._spending = Spending()
        self._measuring = False
        self._measure_again = False
        #: Runs this Studio resumed on its own when it opened (unfinished in the history).
        self.resumed: list[Run] = []
        #: Loading of the history (a future), None when there is none.
        self._past_loading: concurrent.futures.Future[None] | None = None
        #: Every background job started, so wait_loaded() can wait for them.
        self._loading: list[concurrent.futures.Future[Any]] = []
        #: The last update of each run's card after its execution ended (see _start).
        self._rendering: list[concurrent.futures.Future[None]] = []

        self.form = Form(spec.id)
        with self.hold_sync():
            self.save_folder = str(save_folder)
            self.models = self._model_options()
            self.model = spec.id
            self.has_history = self.history is not None
            self.spent = self._spending.text()
            self._show_banner()
            self._show_summary()
            self._form_changed()
        self.observe(self._model_picked, names="model")
        self.form.on_change(lambda _form: self._form_changed())
        for kind, handler in self.form.handlers().items():
            self.on_page(kind, handler)
        self.on_page("generate", lambda _c, _b: self._clicked())
        self.on_page("model", self._model_message)
        self.on_page("rows", self._rows_message)
        self.on_page("action", self._action_message)
        self.on_page("select_all", lambda c, _b: self.select_all(bool(c.get("on", True))))
        self.on_page("export", lambda _c, _b: self._export_clicked())
        self.on_page("load", self._load_message)
        self.on_page("full", self._full_message)

        if self.history is not None:
            if past_runs != 0:
                self._past_loading = self._in_background(self._open_history)
            self._refresh_size()
        #: The last credits refresh started (None: no credits service is known for this hub).
        self.credits_loading: concurrent.futures.Future[None] | None = None
        self.refresh_credits()
        if configured_target(client) is not None:
            self._in_background(self._load_live_catalog)

    # --- setup ----------------------------------------------------------------------------------

    def _in_background(self, work: Callable[[], None]) -> concurrent.futures.Future[None]:
        """Run ``work`` in a worker thread (never on the kernel's or the runner's loop)."""
        future = self.runner.submit(asyncio.to_thread(work), on_error=self._background_failed)
        with self._lock:
            self._loading = [f for f in self._loading if not f.done()] + [future]
        return future

    def _model_options(self) -> list[list[str]]:
        options = [
            [model_label(model_id, self.launcher.expected_seconds(model_id)), model_id]
            for model_id in catalog
        ]
        current = self.model
        if current and current not in catalog:  # a live-only model no longer listed
            options.append([f"{current} · no longer listed by the hub", current])
        return options

    def _load_live_catalog(self) -> None:
        """The hub's live catalog (once per process and hub); new models join the list."""
        if live.ensure(catalog, self.client):
            self._catalog_changed()

    def _catalog_changed(self) -> None:
        """Show the catalog's models, and the current model's controls, as they are now."""
        current = self.model
        self.models = self._model_options()
        if current in catalog and catalog[current] != self.form.spec:
            self.form.rebuild()
            self._show_summary()

    # --- the history: reading it, resuming, cards -------------------------------------------------

    def _open_history(self) -> None:
        """Every run of the history below the ones started here; unfinished ones resumed."""
        history = self.history
        assert history is not None
        try:
            entries = history.entries()
        except Exception as exc:
            log.warning("cannot read the history at %s: %s", history.folder, exc)
            self._show_reason(
                f"The history at {history.folder} cannot be read ({exc}); runs still work, "
                "but earlier ones are not shown."
            )
            return
        if any(entry.model not in catalog for entry in entries):
            # Runs of a model only the hub lists (a live catalog of an earlier session).
            self._load_live_catalog()
        self._list.put_older(entries)
        # A run still waiting for its task is resumed at once, wherever it is in the list.
        for entry in self._list.pending_entries():
            self._list.card(entry.run_id)
        with self._lock:
            to_start, self._adopted = self._adopted, []
        for run in to_start:
            self._start(run)
            with self._lock:
                self.resumed.append(run)
        self._list_changed()
        self._show_activity()
        self.refresh_fallback()

    def _card_of_entry(self, entry: HistoryEntry) -> Card:
        """The card of a history entry: its live run if this process has it, else rebuilt."""
        assert self.history is not None
        try:
            run, fresh = run_for_entry(self.history, entry)
        except Exception as exc:
            if entry.is_pending:  # a task that may still bill: say so where it is seen
                log.warning(
                    "history run %s (task %s, not finished) cannot be rebuilt: %s; "
                    "resume it with client.wait(%r)",
                    entry.run_id,
                    entry.task_id,
                    exc,
                    entry.task_id,
                )
            from ..run import run_from_entry

            run, fresh = run_from_entry(entry), False
            run.status, run.error = "error", f"This run cannot be shown as it was: {exc}"
        if recovery.live_run(self.history, run.run_id) is run:  # going, or kept, here
            self._observe(run)
        if fresh:  # adopted here: this Studio polls its task again (see _open_history)
            with self._lock:
                self._adopted.append(run)
        return self._card(run)

    def _card(self, run: Run) -> Card:
        return Card(
            run,
            on_reuse=self.reuse,
            on_resume=self._resume,
            on_remove=self._remove_card,
            on_use_input=self._use_run_image,
            save_folder=self._save_path,
        )

    def _observe(self, run: Run) -> None:
        with self._lock:
            if run.run_id in self._observed:
                return
            self._observed.add(run.run_id)
        run.observe(self._run_changed)

    def wait_loaded(self, timeout: float | None = None) -> bool:
        """Block until the history, the rows asked for and the thumbnails are ready.

        For scripts and tests; in a notebook they appear on their own. True when done.
        """
        if self.runner.on_runner_thread():
            raise RunnerThreadError("wait_loaded() would block the runner it waits for")
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                pending = [future for future in self._loading if not future.done()]
            if not pending:
                return True
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            done, _ = concurrent.futures.wait(pending, remaining)
            if len(done) < len(pending) and deadline is not None and time.monotonic() >= deadline:
                return False

    # --- state ---------------------------------------------------------------------------------

    @property
    def cards(self) -> list[Card]:
        """One card per run, newest first (made on demand: this builds every one)."""
        return self._list.cards()

    @property
    def cells(self) -> list[Card]:
        """The same as :attr:`cards` (the name the history's entries had before)."""
        return self.cards

    def card(self, run: Run | str) -> Card | None:
        """The card of ``run`` (a Run or a run id), None when it is not listed."""
        return self._list.card(run if isinstance(run, str) else run.run_id)

    @property
    def runs(self) -> list[Run]:
        """Every run listed, newest first."""
        return [card.run for card in self.cards]

    @property
    def running(self) -> list[Run]:
        """The runs still going (started here, or resumed)."""
        return [
            card.run
            for card in self._list.made_cards()
            if not card.run.done and card.run.future is not None
        ]

    @property
    def offline(self) -> bool | None:
        """True when the offline simulator answers (None: not known yet for a given client)."""
        return self._offline

    def records(self, start: int = 0, stop: int | None = None) -> list[dict[str, Any]]:
        """The records (what the page draws) of the runs at positions ``start`` to ``stop``."""
        stop = start + RECENT if stop is None else stop
        return [self._record(card) for card in self._list.cards(start, stop)]

    def _recent_records(self) -> list[dict[str, Any]]:
        """The ``recent`` window: the newest records without their empty fields (the page
        reads a missing field as empty) nor the estimate's long basis (the rows and ``run``
        messages carry it), since the window is rewritten as runs come and go."""
        return [
            {
                key: value
                for key, value in record.items()
                if key not in RECENT_LEFT_OUT and not _empty(value)
            }
            for record in self.records(0, RECENT)
        ]

    def _record(self, card: Card) -> dict[str, Any]:
        record = card.record()
        record["selected"] = card.run_id in self._selected
        return record

    # --- actions ----------------------------------------------------------------------------------

    def generate(self) -> Run:
        """Start a run with the form's values (same as clicking Generate); returns the Run.

        Raises :class:`~mountsea_widgets.errors.ValidationError` when the form is not valid.
        """
        input = self.form.validate()
        run = Run(self.form.model, input, deadline_s=self.deadline_s)
        card = self._card(run)
        self._observe(run)
        with self._lock:
            self._list.add(card)
            self._start(run)
        self._list_changed((0, 1, card))
        self._show_activity()
        return run

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until the history is loaded and every run is finished; True when all are.

        For scripts and tests; in a notebook the runs finish on their own. Runs from an
        earlier session that nothing is polling do not count.
        """
        if self.runner.on_runner_thread():
            raise RunnerThreadError("wait_idle() would block the runner it waits for")
        deadline = None if timeout is None else time.monotonic() + timeout

        def remaining() -> float | None:
            return None if deadline is None else max(0.0, deadline - time.monotonic())

        if not self.wait_loaded(remaining()):
            return False
        for card in self._list.made_cards():
            run = card.run
            future = run.future
            if future is None:
                continue  # an unfinished run from an earlier session, not started here
            try:
                future.result(remaining())
            except concurrent.futures.TimeoutError:
                return False
            except Exception:
                pass  # cancelled or crashed: start() settles the run, waited for below
            if future.cancelled() and not run.wait(remaining()):
                return False
        with self._lock:
            rendering = list(self._rendering)
        _, late = concurrent.futures.wait(rendering, remaining())
        loaded = not late and self.wait_loaded(remaining())  # e.g. thumbnails after the runs
        with self._lock:
            pending = self._recent_timer is not None
        if pending:
            self._flush_recent()  # what a notebook saved now would keep
        return loaded

    def reuse(self, run: Run) -> None:
        """Load ``run``'s model and parameters into the form."""
        refused = self._load_form(run.model, run.input)
        if refused:
            self._show_reason("Not loaded (no longer accepted here): " + ", ".join(refused))

    def use_as_input(self, image: Any, *, model: str | None = None) -> str:
        """Add ``image`` to the form's ``image_urls``, switching to an edit model if needed.

        ``image`` is a URL or data URI string, a PIL image, a ``pathlib.Path`` or bytes (the
        last three are sent as data URIs). The edit model is ``model``'s (its edit twin:
        nano-banana-edit for nano-banana, and so on; default: the form's model), keeping the
        prompt and what still fits. Returns the string added.
        """
        from .._image_input import to_reference

        reference = to_reference(image)
        target = edit_model_for(model or self.form.model)
        if target != self.form.model:
            self.model = target
        control = self.form.controls["image_urls"]
        assert isinstance(control, UrlListControl)
        control.append(reference)
        return reference

    def _use_run_image(self, run: Run, reference: str) -> None:
        """Use as input on a card: the edit twin of the run's own model takes the image."""
        self.use_as_input(reference, model=run.model)

    def load_image(self, path: str | Path) -> dict[str, Any]:
        """Load the model and parameters saved inside an image file into the form.

        ``path`` is a PNG, JPEG or WebP written by mountsea-widgets (Save, the history, or
        ``Result.save``). Returns its metadata (``mw.read_metadata``). Reference images that
        were too long to embed are taken from this Studio's history when it still has the run,
        and left out otherwise (the message next to the field names them). Raises
        :class:`~mountsea_widgets.metadata.MetadataError` when the file carries no usable
        metadata and :class:`FileNotFoundError` when it does not exist.
        """
        from ..metadata import MetadataError, read_metadata

        file = Path(path).expanduser()
        meta = read_metadata(file)
        model, input = meta.get("model"), meta.get("input")
        if isinstance(model, str) and model not in catalog:
            self._load_live_catalog()  # a model only the hub lists
        if not isinstance(model, str) or model not in catalog:
            known = ", ".join(catalog)
            raise MetadataError(
                f"{file}: its model {model!r} is not one this version knows ({known})"
            )
        if not isinstance(input, dict):
            raise MetadataError(f"{file}: its metadata has no input parameters")
        input, missing = self._complete_input(meta, input)
        refused = self._load_form(model, input)
        parts = [f"Loaded {model} parameters from {file.name}"]
        if meta.get("task_id"):
            parts[0] += f" (task {meta['task_id']})"
        if missing:
            parts.append("not saved in the image, add them again: " + ", ".join(missing))
        if refused:
            parts.append("not loaded (no longer accepted): " + ", ".join(refused))
        self._show_load_message(" · ".join(parts), error=bool(missing or refused))
        return meta

    def _complete_input(
        self, meta: dict[str, Any], input: dict[str, Any]
    ) -> tuple[dict[str, Any], list[str]]:
        """The input with omitted reference images restored from the history, else dropped."""
        omitted = meta.get("input_omitted")
        if not isinstance(omitted, list) or not omitted:
            return dict(input), []
        run_id = meta.get("run_id")
        if self.history is not None and isinstance(run_id, str):
            try:
                entry = self.history.get(run_id)
            except KeyError:
                entry = None
            if entry is not None and entry.model == meta.get("model"):
                return dict(entry.input), []
        return without_places(input, [str(place) for place in omitted])

    def _load_form(self, model: str, input: dict[str, Any]) -> list[str]:
        self.model = model
        refused = self.form.load(model, input)
        self._form_changed()
        return refused

    def select(self, run: Run | Card | str, on: bool = True) -> None:
        """Tick (or clear) one run's "select" box (for Export selected)."""
        run_id = run if isinstance(run, str) else run.run_id
        if run_id not in self._list:
            return
        with self._lock:
            if on:
                self._selected.add(run_id)
            else:
                self._selected.discard(run_id)
            count = len(self._selected)
        self.selected_count = count
        card = self._list.made(run_id)
        if card is not None:
            self._send_card(card, recent=True)

    def select_all(self, on: bool = True) -> None:
        """Tick (or clear) every run's "select" box."""
        with self._lock:
            if on:
                size = len(self._list)
                self._selected = set(self._list.ids(0, size))
            else:
                self._selected = set()
            count = len(self._selected)
        with self.hold_sync():
            self.selected_count = count
            self.selection_version += 1
            self._flush_recent()

    def selected(self) -> list[Card]:
        """The selected runs' cards, newest first."""
        with self._lock:
            chosen = set(self._selected)
        cards = [self._list.card(run_id) for run_id in chosen]
        found = [card for card in cards if card is not None]
        return sorted(found, key=lambda card: self._list.position(card.run_id) or 0)

    def export_selected(self, folder: str | Path | None = None) -> Path | None:
        """Copy the selected runs' images to ``folder`` with ``index.csv`` and ``index.json``.

        ``folder`` defaults to the export field, else ``mountsea-export-<date>-<time>``;
        relative paths start at the notebook's folder. Returns the folder, or None (with the
        reason shown under the tools) when nothing was exported.
        """
        if self.history is None:
            self._show_history_message("This Studio keeps no history: nothing to export.", True)
            return None
        selected = self.selected()
        if not selected:
            self._show_history_message("Select runs with their checkboxes first.", True)
            return None
        text = str(folder) if folder is not None else self.export_folder.strip()
        target = Path(text or f"{DEFAULT_EXPORT_PREFIX}-{time.strftime('%Y%m%d-%H%M%S')}")
        target = target.expanduser()
        if not target.is_absolute():
            target = Path.cwd() / target
        run_ids = [card.run_id for card in selected]
        try:
            written = self.history.export(run_ids, target)
        except KeyError:
            self._show_history_message(
                "Export stopped: a selected run is no longer in the history (removed "
                "elsewhere). Select again and retry.",
                True,
            )
            return None
        except ValueError as exc:
            self._show_history_message(f"Export refused: {exc}.", True)
            return None
        except OSError as exc:
            self._show_history_message(
                f"Could not export into {target}: {exc.strerror or 'the folder refused'}. "
                "Choose another folder.",
                True,
            )
            return None
        images = sum(len(row.get("files", ())) for row in exported_rows(written))
        self._show_history_message(
            f"Exported {len(run_ids)} run(s), {images} image(s) to {written} "
            "(index.csv, index.json)"
        )
        return written

    def close(self) -> None:
        """Cancel nothing, but close the view (and the client the Studio made itself)."""
        launcher = getattr(self, "launcher", None)  # None when __init__ failed early
        if launcher is not None:
            launcher.close()  # the client it made (a given AsyncClient stays open)
        timer = getattr(self, "_recent_timer", None)
        if timer is not None:
            timer.cancel()
        super().close()

    # --- page messages (any thread) ---------------------------------------------------------------

    def _clicked(self) -> None:
        try:
            self.generate()
        except ValidationError as exc:
            self.form.touch_all()  # Generate was pressed: every field says what it lacks
            self._show_reason(str(exc))
        except Exception as exc:
            # A comm handler's exception goes nowhere a person looks: say it on the view.
            log.exception("Generate failed")
            self._show_reason(f"Generate failed: {exc}. See the log for details.")

    def _model_message(self, content: dict[str, Any], _buffers: list[bytes]) -> None:
        model = content.get("model")
        if isinstance(model, str) and (model in catalog or model == self.model):
            self.model = model
        else:
            self._show_reason(f"There is no model {model!r} in the catalog; pick one listed.")

    def _load_message(self, content: dict[str, Any], _buffers: list[bytes]) -> None:
        path = content.get("path")
        if isinstance(path, str):
            self.load_path = path
        self._load_clicked()

    def _load_clicked(self) -> None:
        path = self.load_path.strip()
        if not path:
            self._show_load_message(
                "Type the path of an image saved by mountsea-widgets first.", error=True
            )
            return
        try:
            self.load_image(path)
        except FileNotFoundError:
            self._show_load_message(
                f"There is no file {path}. Check the path (relative paths start at the "
                "notebook's folder).",
                error=True,
            )
        except IsADirectoryError:
            self._show_load_message(f"{path} is a folder: give an image file.", error=True)
        except MountseaError as exc:
            self._show_load_message(str(exc), error=True)
        except OSError as exc:
            self._show_load_message(
                f"Could not read {path}: {exc.strerror or 'the file refused'}.", error=True
            )
        except Exception as exc:
            log.exception("Load parameters failed")
            self._show_load_message(f"Could not load parameters from {path}: {exc}", error=True)

    def _export_clicked(self) -> None:
        try:
            self.export_selected()
        except Exception as exc:
            log.exception("Export failed")
            self._show_history_message(f"Export failed: {exc}. See the log for details.", True)

    def _rows_message(self, content: dict[str, Any], _buffers: list[bytes]) -> None:
        """Answer the rows the page scrolled to (records and thumbnails), off this thread."""
        start, stop = content.get("start"), content.get("stop")
        if not isinstance(start, int) or not isinstance(stop, int) or start < 0 or stop < start:
            return
        stop = min(stop, start + MAX_ROWS)
        have = content.get("have")
        known = (
            {item for item in have if isinstance(item, str)} if isinstance(have, list) else set()
        )
        self._in_background(lambda: self.send_rows(start, stop, known))

    def send_rows(self, start: int, stop: int, have: set[str] | None = None) -> None:
        """Send the page the rows ``start`` to ``stop``: records, and the thumbnails of those
        runs not in ``have`` (slow: call it in a worker thread)."""
        version = self.list_version
        rows: list[dict[str, Any]] = []
        buffers: list[bytes] = []
        for card in self._list.cards(start, stop):
            record = self._record(card)
            if card.run_id not in (have or ()) and record["images"] and card.run.done:
                record["thumbs"] = self._pack(card.thumbnails(), buffers)
            rows.append(record)
        self.send(
            {"type": "rows", "start": start, "version": version, "rows": rows}, buffers=buffers
        )

    @staticmethod
    def _pack(thumbs: list[bytes | None], buffers: list[bytes]) -> list[int | None]:
        places: list[int | None] = []
        for thumb in thumbs:
            if thumb is None:
                places.append(None)
            else:
                places.append(len(buffers))
                buffers.append(thumb)
        return places

    def _action_message(self, content: dict[str, Any], _buffers: list[bytes]) -> None:
        action, run_id = content.get("action"), content.get("run_id")
        card = self._list.card(run_id) if isinstance(run_id, str) else None
        if card is None:
            self._show_reason("That run is no longer in this Studio's list.")
            return
        index = content.get("index")
        index = index if isinstance(index, int) and not isinstance(index, bool) else 0
        if action == "cancel":
            card.cancel()
        elif action == "resume":
            card.resume()
        elif action == "reuse":
            card.reuse()
        elif action == "use-input":
            card.use_as_input(index)
        elif action == "save":
            card.save()
        elif action == "code":
            card.toggle_code()
        elif action == "remove":
            card.remove()
            return
        elif action == "select":
            self.select(card, bool(content.get("on", True)))
            return
        else:
            self._show_reason(f"This Studio has no action {action!r}.")
            return
        self._send_card(card, recent=True)

    def _full_message(self, content: dict[str, Any], _buffers: list[bytes]) -> None:
        run_id, index = content.get("run_id"), content.get("index")
        card = self._list.card(run_id) if isinstance(run_id, str) else None
        if card is None or not isinstance(index, int):
            return

        def send() -> None:
            self.send_full(card, index)

        self._in_background(send)

    def send_full(self, card: Card, index: int) -> None:
        """Send image ``index`` of ``card`` at full size (only ever when the page asks)."""
        from .._images import decode_image

        answer: dict[str, Any] = {"type": "full", "run_id": card.run_id, "index": index}
        try:
            data = card.full_image(index)
            kind = (decode_image(data).format or "png").lower()
        except Exception as exc:
            self.send({**answer, "error": f"Image {index + 1} cannot be shown: {exc}"})
            return
        caption = f"image {index + 1} · {len(data) / 1e6:.2f} MB · {kind}"
        self.send({**answer, "mime": f"image/{kind}", "caption": caption}, buffers=[data])

    def page_failed(self, text: str) -> None:
        """A page message that failed: said where Generate's reasons show."""
        self._show_reason(text)

    # --- changes (any thread) ---------------------------------------------------------------------

    def _model_picked(self, change: dict[str, Any]) -> None:
        new = change["new"]
        if new in catalog and new != self.form.model:
            self.form.set_model(new)
        self._show_summary()
        self._form_changed()

    def _form_changed(self) -> None:
        problems = self.form.problems()
        estimate = estimate_of(self.form.model, self.form.value())
        with self.hold_sync():
            self.form_state = self.form.state()
            self.estimate = f"estimated {estimate.label}" if estimate is not None else ""
            self.estimate_basis = f"Estimate: {estimate.basis}" if estimate is not None else ""
            self.can_generate = not problems
            if problems:
                text = "; ".join(f"{name}: {message}" for name, message in problems.items())
                self.reason = f"Generate is off until this is fixed — {text}"
            else:
                self.reason = ""

    def _run_changed(self, run: Run) -> None:
        """A run changed (runner thread): its card on the page, and once it ends the rest."""
        if run.result is not None and run.result.simulated and not self._offline:
            self._offline = True
            self._show_banner()
        card = self._list.made(run.run_id)
        if card is None:
            return
        final = run.status in FINAL_STATUSES
        now = time.monotonic()
        with self._lock:
            last = self._live_sent.get(run.run_id)
            quiet = last is not None and last[1] == run.status and now - last[0] < LIVE_INTERVAL_S
            if not final and quiet:
                return  # a tick: the page hears again in a moment
            self._live_sent[run.run_id] = (now, run.status)
            first_end = final and run.run_id not in self._finished
            if first_end:
                self._finished.add(run.run_id)
        if not first_end:
            self._send_card(card)
            return
        self._live_sent.pop(run.run_id, None)
        self._in_background(lambda: self._run_ended(card))

    def _run_ended(self, card: Card) -> None:
        """A run reached its end: its card with thumbnails, the list, the totals (a worker)."""
        run = card.run
        self._send_card(card, thumbnails=True, recent=True)
        self._show_activity()
        self._refresh_size()
        if run.future is not None and self._spending.count(run):  # started here: billed
            self.spent = self._spending.text()
            if run.status == "completed":
                self.refresh_credits()
        position = self._list.position(card.run_id)
        if position is not None and position < FALLBACK_RUNS:  # the saved copy shows it
            self.refresh_fallback()

    def _send_card(self, card: Card, *, thumbnails: bool = False, recent: bool = False) -> None:
        """Tell the page one card changed (with its thumbnails when asked); ``recent``: also
        rewrite the ``recent`` window if the card is in it (not for every tick of a run)."""
        record = self._record(card)
        buffers: list[bytes] = []
        if thumbnails and record["images"]:
            record["thumbs"] = self._pack(card.thumbnails(), buffers)
        self.send({"type": "run", "record": record}, buffers=buffers)
        if recent:
            position = self._list.position(card.run_id)
            if position is not None and position < RECENT:
                self._recent_soon()

    def _recent_soon(self) -> None:
        """Rewrite the ``recent`` window in a moment, once for a burst of card changes."""
        with self._lock:
            if self._recent_timer is not None:
                return
            timer = threading.Timer(RECENT_DELAY_S, self._flush_recent)
            timer.daemon = True
            self._recent_timer = timer
        timer.start()

    def _flush_recent(self) -> None:
        """Rewrite the ``recent`` window now (and forget a pending rewrite)."""
        with self._lock:  # never between a list change's version and its window
            timer, self._recent_timer = self._recent_timer, None
            if timer is not None:
                timer.cancel()
            with self.hold_sync():
                self.recent = self._recent_records()
                self.recent_version = self.list_version

    def _list_changed(self, moved: tuple[int, int, Card | None] | None = None) -> None:
        """Runs were added or removed: positions moved (O(RECENT) work, whatever the size).

        ``moved`` = (position, +1 or -1, the card added): the page shifts the rows it holds
        instead of asking for them again.
        """
        # One change at a time: the page's "moved" and the versions must agree.
        with self._lock:
            version = self.list_version
            timer, self._recent_timer = self._recent_timer, None
            records = self._recent_records()
            if timer is not None:
                timer.cancel()
            if moved is not None:
                position, by, added = moved
                message: dict[str, Any] = {
                    "type": "moved",
                    "from": version,
                    "version": version + 1,
                    "at": position,
                    "by": by,
                }
                if added is not None:
                    message["record"] = self._record(added)
                self.send(message)
            with self.hold_sync():
                self.run_count = len(self._list)
                self.list_version = version + 1
                self.recent = records
                self.recent_version = version + 1

    def _remove_card(self, card: Card) -> None:
        position = self._list.position(card.run_id)
        if position is None or not self._list.remove(card.run_id):
            return
        with self._lock:
            self._selected.discard(card.run_id)
            self.selected_count = len(self._selected)
        if self.history is not None:
            try:
                self.history.remove(card.run_id)
            except KeyError:
                pass  # already gone (removed from another Studio)
            except OSError as exc:
                self._show_reason(
                    f"The run left this list, but its files could not all be deleted from the "
                    f"history: {exc.strerror or exc}."
                )
            self._refresh_size()
        self._list_changed((position, -1, None))
        self._show_activity()
        if position < FALLBACK_RUNS:  # the saved copy showed it
            self.refresh_fallback()

    def _start(self, run: Run) -> None:
        """Carry ``run`` out on the runner; its card updates once more when that ends.

        (A run can end its execution without changing, e.g. when another session polls
        its task: its card must still offer Resume then.)
        """
        future = self.launcher.start(run)
        rendered: concurrent.futures.Future[None] = concurrent.futures.Future()
        with self._lock:
            self._rendering = [f for f in self._rendering if not f.done()] + [rendered]

        def render(_done: object) -> None:
            try:
                card = self._list.made(run.run_id)
                if card is not None and run.run_id not in self._finished:
                    self._send_card(card, recent=True)  # e.g. Resume offered again
                self._show_activity()
            finally:
                rendered.set_result(None)

        future.add_done_callback(render)

    def _resume(self, run: Run) -> None:
        with self._lock:
            self._finished.discard(run.run_id)
        self._observe(run)
        self._start(run)
        self._show_activity()

    def refresh_credits(self) -> concurrent.futures.Future[None] | None:
        """Ask the credits service for the account's balance, in a worker thread (never in a
        run's way); returns its future, or None when no credits service is known here."""
        from .._credits import CreditsError, credits_target, fetch_credits

        # Offline only when the embedded simulator is the target (not just a simulated result).
        target = credits_target(self.client, self.launcher.offline)
        if target is None:
            return None
        url, key = target

        def fetch() -> None:
            try:
                balance = fetch_credits(url, key)
            except CreditsError as exc:
                self._show_credits(f"credits unknown: {exc}", quiet=True)
            except Exception:  # quietly: the credits are a courtesy, never a failure
                log.info("credits refresh failed", exc_info=True)
                self._show_credits("credits unknown", quiet=True)
            else:
                label = "simulated account" if self._offline else "account"
                self._show_credits(f"{label}: {balance}")

        future = self._in_background(fetch)
        self.credits_loading = future
        return future

    def _background_failed(self, error: BaseException) -> None:
        log.error("Studio background work failed", exc_info=error)
        self._show_reason(f"Something failed in the background: {error}. See the log.")

    # --- display helpers ----------------------------------------------------------------------

    def _refresh_size(self) -> None:
        """Show the history's run count and size on disk (measured in a worker thread, one
        measurement at a time: a burst of runs is measured once more after the last)."""
        history = self.history
        if history is None:
            return
        with self._lock:
            if self._measuring:
                self._measure_again = True
                return
            self._measuring = True

        def measure() -> None:
            while True:
                with self._lock:
                    self._measure_again = False
                self.history_info = history_line(
                    len(history), history.size_bytes(), str(history.folder)
                )
                with self._lock:
                    if not self._measure_again:
                        self._measuring = False
                        return

        self._in_background(measure)

    def _save_path(self) -> Path:
        folder = Path(self.save_folder.strip() or DEFAULT_SAVE_FOLDER).expanduser()
        return folder if folder.is_absolute() else Path.cwd() / folder

    def _show_reason(self, text: str) -> None:
        self.reason = text

    def _show_load_message(self, text: str, *, error: bool = False) -> None:
        with self.hold_sync():
            self.load_message = text
            self.load_error = error

    def _show_history_message(self, text: str, error: bool = False) -> None:
        with self.hold_sync():
            self.history_message = text
            self.history_error = error

    def _show_credits(self, text: str, *, quiet: bool = False) -> None:
        with self.hold_sync():
            self.credits = text
            self.credits_quiet = quiet

    def _show_activity(self) -> None:
        count = len(self.running)
        self.activity = f"{count} running" if count else ""

    def _show_summary(self) -> None:
        model = self.model or self.form.model
        if model not in catalog:
            self.summary = ""
            return
        spec = catalog[model]
        self.summary = f"{spec.title} — {spec.summary}"

    def _show_banner(self) -> None:
        with self.hold_sync():
            if self._offline:
                self.banner, self.banner_kind = OFFLINE_NOTICE, "offline"
            else:
                url = safe_url(str(getattr(self.client, "base_url", "")))
                self.banner, self.banner_kind = f"Mountsea hub at {url}", "hub"

    # --- what a notebook keeps ----------------------------------------------------------------

    def describe(self) -> str:
        """One line that stays true (no counts): the Studio and the hub it talks to."""
        target = "offline simulator" if self._offline else safe_url(str(self.client.base_url))
        return f"mountsea-widgets Studio · {target}"

    def fallback_html(self) -> str:
        """The latest runs as escaped HTML (prompt, model, status, small JPEG thumbnails).

        Bounded: the newest :data:`FALLBACK_RUNS` runs, :data:`FALLBACK_IMAGES` thumbnails
        each of at most :data:`FALLBACK_THUMB_BYTES`, so one rewrite stays a few KB.
        """
        parts = [f"<p><b>{html.escape(self.describe())}</b></p>"]
        cards = self._list.cards(0, FALLBACK_RUNS)
        if not cards:
            parts.append("<p>No runs yet.</p>")
        for card in cards:
            run = card.run
            images = []
            for small in _fallback_thumbnails(run):
                uri = "data:image/jpeg;base64," + base64.b64encode(small).decode("ascii")
                images.append(f'<img src="{uri}" alt="" style="margin:2px">')
            prompt = run.prompt if len(run.prompt) <= 300 else run.prompt[:299] + "…"
            parts.append(
                '<div style="border:1px solid #ddd;padding:4px;margin:4px 0">'
                f"<div><b>{html.escape(run.model)}</b> · {html.escape(run.status)}</div>"
                f'<div style="white-space:pre-wrap">{html.escape(prompt)}</div>'
                f"<div>{''.join(images)}</div></div>"
            )
        return "".join(parts)

    def __repr__(self) -> str:
        return f"<{self.describe()}: {self.form.model}>"


def _empty(value: Any) -> bool:
    """An empty text, list or flag (a number, even 0, is never empty: the page shows it)."""
    return value is None or value is False or (isinstance(value, str | list) and not value)


def _modest(jpeg: bytes) -> bytes:
    """``jpeg`` (a thumbnail made here, so trusted) again at the fallback's modest quality with
    optimized tables, when that is smaller."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(jpeg)) as image:
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=FALLBACK_THUMB_QUALITY, optimize=True)
    smaller = buffer.getvalue()
    return smaller if len(smaller) < len(jpeg) else jpeg


def _fallback_thumbnails(run: Run) -> list[bytes]:
    """Small, modest-quality JPEGs of a run's first images, for the saved fallback output."""
    from .._images import thumbnail
    from ..history import cached_thumbnail
    from ..run import image_loaders

    made: list[bytes] = []
    for index, load in enumerate(image_loaders(run)[:FALLBACK_IMAGES]):
        source = getattr(load, "__self__", None)
        try:
            # The run's own small JPEG, else the history file's cached one, else the image.
            small = run.thumbnails[index] if index < len(run.thumbnails) else None
            if small is None and isinstance(source, Path):
                small = cached_thumbnail(source, FALLBACK_THUMB_SIDE)
            data = small or load()
            if data:
                made.append(_modest(thumbnail(data, FALLBACK_THUMB_SIDE, FALLBACK_THUMB_BYTES)))
        except Exception:  # an image that cannot be shrunk is left out of the saved copy
            log.info("run %s image %d: no fallback thumbnail", run.run_id, index + 1)
    return made


def studio(
    model: str = "nano-banana",
    *,
    client: AsyncClient | Client | None = None,
    history: HistoryChoice = None,
) -> Studio:
    """The Studio view for ``model`` (display it: make it the last expression of a cell)."""
    return Studio(model=model, client=client, history=history)
