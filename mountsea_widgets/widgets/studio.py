"""The Studio: pick a model, set exactly its parameters, Generate, and watch runs arrive.

>>> import mountsea_widgets as mw
>>> studio = mw.studio("nano-banana")      # the last expression of a cell displays it

Each click starts a run on the background runner (so the kernel stays free, even while a cell
blocks) and puts a live task cell on top of the history. Several runs can go at once.

Opening a Studio shows the history a page at a time (the newest runs first; "show older"
builds the next page) and, without waiting for a click, resumes polling every run the history
has a task id for but no outcome, e.g. after the kernel died. Thumbnails of earlier runs are
made off the kernel's thread and cached beside the images, so a history of thousands of runs
opens as fast as a short one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import html
import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import ipywidgets as widgets

from .. import _recovery as recovery
from .._durations import about
from .._launch import Launcher
from .._live_catalog import configured_target, live, spec_for
from .._resumption import run_for_entry
from .._runner import Runner, RunnerThreadError, get_runner
from ..catalog import catalog
from ..errors import MountseaError, ValidationError
from ..run import Run
from .control_base import action_button, close_tree
from .cost_panel import CostPanel, estimate_of
from .form import Form
from .gallery import THUMB_SIDE
from .history_panel import DEFAULT_EXPORT_PREFIX, HistoryPanel
from .image_list_control import UrlListControl
from .task_cell import TaskCell

if TYPE_CHECKING:
    from ..client import AsyncClient, Client
    from ..history import History, HistoryChoice, HistoryEntry

log = logging.getLogger("mountsea_widgets.studio")

#: Where Save writes images unless the Studio's folder field says otherwise (relative to cwd).
DEFAULT_SAVE_FOLDER = "mountsea-output"
#: How many earlier runs one page of the history shows (the first page when a Studio opens).
PAST_RUNS = 12
OFFLINE_NOTICE = "offline simulator — set MOUNTSEA_API_KEY for real images"
#: The edit model that takes each text-to-image model's images as input ("Use as input").
EDIT_MODEL_OF = {
    model_id: f"{model_id}-edit"
    for model_id in catalog.text_to_image
    if f"{model_id}-edit" in catalog
}


def _safe_url(url: str) -> str:
    """``url`` without any user:password part (never shown, even if someone put one there)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


def _model_label(model_id: str, expected_s: float) -> str:
    kind = "edit" if catalog[model_id].is_edit else "text → image"
    return f"{model_id} · {kind} · {about(expected_s)}"


def _without_places(input: dict[str, Any], places: list[str]) -> tuple[dict[str, Any], list[str]]:
    """``input`` without the values at ``places`` (``name`` or ``name[i]``), and the names hit.

    For reference images too long to embed in an image's metadata (its ``input_omitted``):
    the note standing in for them must never be loaded as if it were the image.
    """
    result = dict(input)
    whole: set[str] = set()
    items: dict[str, set[int]] = {}
    for place in places:
        name, _, rest = place.partition("[")
        name = name.split(".")[0]
        index = rest.split("]")[0]
        if index.isdigit() and isinstance(result.get(name), list):
            items.setdefault(name, set()).add(int(index))
        else:
            whole.add(name)
    for name in whole:
        result.pop(name, None)
    for name, indexes in items.items():
        if name in whole:
            continue
        kept = [item for position, item in enumerate(result[name]) if position not in indexes]
        if kept:
            result[name] = kept
        else:
            del result[name]
    return result, sorted(whole | set(items))


def _exported_rows(folder: Path) -> list[dict[str, Any]]:
    """The runs listed in an export's ``index.json`` (empty when it cannot be read)."""
    try:
        rows = json.loads((folder / "index.json").read_text("utf-8")).get("runs", [])
    except (OSError, ValueError, AttributeError):
        return []
    return [row for row in rows if isinstance(row, dict)]


class Studio(widgets.VBox):
    """The Studio widget (see the module docstring).

    ``client`` is an :class:`~mountsea_widgets.client.AsyncClient` or a blocking
    :class:`~mountsea_widgets.client.Client` (default: from the environment, or the embedded
    offline simulator); ``history`` a
    :class:`~mountsea_widgets.history.History` (default: the standard folder; ``False`` for
    none); ``past_runs`` how many earlier runs a page of the history shows (0: none are shown
    and none resumed). Public parts: ``form``, ``model_select``, ``generate_button``, ``runs``,
    ``cells``, ``resumed``, ``generate()``, ``load_image()``, ``show_older()``,
    ``export_selected()``, ``wait_loaded()``, ``wait_idle()``, ``cost`` (the estimate beside
    Generate, the session's spent total, the credits) and ``refresh_credits()``.
    ``deadline_s`` is how long a run waits for its task before it ends ``timeout`` (default: 10 x
    the model's expected time, at least 10 minutes).
    """

    def __init__(
        self,
        model: str = "nano-banana",
        client: AsyncClient | Client | None = None,
        history: HistoryChoice = None,
        *,
        save_folder: str | Path = DEFAULT_SAVE_FOLDER,
        runner: Runner | None = None,
        past_runs: int = PAST_RUNS,
        deadline_s: float | None = None,
    ) -> None:
        spec = spec_for(model, client)  # a model only the hub lists loads its live catalog
        if deadline_s is not None and (isinstance(deadline_s, bool) or not deadline_s > 0):
            raise ValueError(f"deadline_s must be a positive number of seconds, got {deadline_s!r}")
        #: Seconds each run waits for its task (None: the per-model default, see Run).
        self.deadline_s = deadline_s
        self.runner = runner or get_runner()
        self._lock = threading.RLock()
        #: Where this Studio's runs start: its history, its client, its runner.
        self.launcher = Launcher(client, history, runner=self.runner)
        self.history: History | None = self.launcher.history
        self.client: AsyncClient = self.launcher.client
        offline = self.launcher.offline

        self.banner = widgets.HTML()
        self.banner.add_class("mountsea-banner")
        self.model_select = widgets.Dropdown(
            options=[
                (_model_label(model_id, self.launcher.expected_seconds(model_id)), model_id)
                for model_id in catalog
            ],
            value=spec.id,
            description="model",
            tooltip="Which hub model to run; the form below shows exactly its parameters",
            style={"description_width": "150px"},
            layout=widgets.Layout(width="520px"),
        )
        self.model_select.add_class("mountsea-model")
        self.summary = widgets.HTML()
        self.summary.add_class("mountsea-model-summary")
        self.load_path = widgets.Text(
            value="",
            placeholder="path of an image saved by mountsea-widgets",
            description="from image",
            tooltip=(
                "Load the model and parameters saved inside an image (Save, the history's "
                "images/ folder, or mw.generate(...).save()). Relative paths start at the "
                "notebook's folder."
            ),
            style={"description_width": "150px"},
            layout=widgets.Layout(width="520px"),
        )
        self.load_path.add_class("mountsea-load-path")
        self.load_button = action_button(
            "Load parameters",
            "mountsea-load",
            "Put the model and parameters saved in that image into the form",
            "upload",
        )
        self.load_message = widgets.HTML()
        self.load_message.add_class("mountsea-load-message")
        loader = widgets.HBox([self.load_path, self.load_button, self.load_message])
        loader.add_class("mountsea-load-image")
        self.form = Form(spec.id)
        self.generate_button = widgets.Button(
            description="Generate",
            button_style="primary",
            icon="play",
            tooltip="Start a run with these parameters (you can keep working meanwhile)",
        )
        self.generate_button.add_class("mountsea-generate")
        self.reason = widgets.HTML()
        self.reason.add_class("mountsea-generate-reason")
        self.activity = widgets.HTML()
        self.activity.add_class("mountsea-activity")
        self.save_folder = widgets.Text(
            value=str(save_folder),
            description="save to",
            tooltip="Folder for Save (relative paths start at the notebook's folder)",
            style={"description_width": "60px"},
            layout=widgets.Layout(width="360px"),
        )
        self.save_folder.add_class("mountsea-save-folder")
        self.history_panel = HistoryPanel()
        self.history_panel.show_tools(self.history is not None)

        #: The form's estimated cost (beside Generate), the session's spent total, the credits.
        self.cost = CostPanel()
        controls = widgets.HBox(
            [self.generate_button, self.cost.estimate_html, self.activity, self.save_folder]
        )
        controls.add_class("mountsea-actions")
        super().__init__(
            [
                self.banner,
                self.model_select,
                self.summary,
                loader,
                self.form,
                controls,
                self.cost,
                self.reason,
                self.history_panel,
            ]
        )
        self.add_class("mountsea-studio")
        self._offline = offline
        self._show_banner()
        self._show_summary()

        self.model_select.observe(self._model_changed, names="value")
        self.form.on_change(lambda _form: self._form_changed())
        self.generate_button.on_click(self._clicked)
        self.load_button.on_click(self._load_clicked)
        self.history_panel.on_more(self._more_clicked)
        self.history_panel.on_export(self._export_clicked)
        self._form_changed()

        #: Runs this Studio resumed on its own when it opened (unfinished in the history).
        self.resumed: list[Run] = []
        self._page_size = max(0, int(past_runs))
        #: Earlier runs not shown yet, newest first ("show older" takes the next page).
        self._older: list[HistoryEntry] = []
        self._observed: set[str] = set()
        #: Loading of the first page of the history (a future), None when there is none.
        self._past_loading: concurrent.futures.Future[None] | None = None
        #: Every page load and size refresh started, so wait_loaded() can wait for them.
        self._loading: list[concurrent.futures.Future[Any]] = []
        #: The last render of each run's cells after its execution ended (see _start).
        self._rendering: list[concurrent.futures.Future[None]] = []
        if self.history is not None:
            if self._page_size > 0:
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

    def _load_live_catalog(self) -> None:
        """The hub's live catalog (once per process and hub); new models join the list."""
        if live.ensure(catalog, self.client):
            self._catalog_changed()

    def _catalog_changed(self) -> None:
        """Show the catalog's models, and the current model's controls, as they are now."""
        current = self.model_select.value
        options = [
            (_model_label(model_id, self.launcher.expected_seconds(model_id)), model_id)
            for model_id in catalog
        ]
        if current not in catalog:  # a live-only model no longer listed: kept while shown
            options.append((f"{current} · no longer listed by the hub", current))
        with self.model_select.hold_trait_notifications():
            self.model_select.options = options
            self.model_select.value = current
        if current in catalog and catalog[current] != self.form.spec:
            self.form.rebuild()
            self._show_summary()

    # --- the history: pages, resuming, thumbnails ------------------------------------------------

    def _open_history(self) -> None:
        """First page (plus every unfinished run, wherever it is), resumed runs started."""
        history = self.history
        assert history is not None
        try:
            entries = history.entries()
        except Exception as exc:
            self._show_reason(f"Cannot read the history: {type(exc).__name__}: {exc}")
            return
        if any(entry.model not in catalog for entry in entries):
            # Runs of a model only the hub lists (a live catalog of an earlier session).
            self._load_live_catalog()
        first, rest = entries[: self._page_size], entries[self._page_size :]
        # A run still waiting for its task is always shown (and resumed), however old.
        first += [entry for entry in rest if entry.is_pending]
        with self._lock:
            self._older = [entry for entry in rest if not entry.is_pending]
        self._show_page(first)

    def _show_page(self, entries: list[HistoryEntry]) -> None:
        """Build cells for ``entries`` at the bottom, start resumed runs, then thumbnails."""
        assert self.history is not None
        shown = {run.run_id for run in self.runs}
        cells: list[TaskCell] = []
        to_start: list[Run] = []
        for entry in entries:
            if entry.run_id in shown:
                continue
            try:
                run, fresh = self._run_for(entry)
                cell = self._cell(run, lazy_images=run.done and run.result is None)
            except Exception as exc:
                if entry.is_pending:  # a task that may still bill: say so where it is seen
                    log.warning(
                        "history run %s (task %s, not finished) cannot be shown here: %s; "
                        "resume it with client.wait(%r)",
                        entry.run_id,
                        entry.task_id,
                        exc,
                        entry.task_id,
                    )
                else:
                    log.info("history entry %s cannot be shown: %s", entry.run_id, exc)
                continue
            shown.add(entry.run_id)
            cells.append(cell)
            if fresh:
                to_start.append(run)
        self.history_panel.add_older(cells)
        for run in to_start:  # after the cells exist, so they see every change
            self._start(run)
            with self._lock:
                self.resumed.append(run)
        if to_start:
            self._show_activity()
        self._show_more()
        self._load_thumbnails(cells)

    def _run_for(self, entry: HistoryEntry) -> tuple[Run, bool]:
        """The run to show for ``entry``, and whether this Studio must start (resume) it."""
        assert self.history is not None
        run, fresh = run_for_entry(self.history, entry)
        if recovery.live_run(self.history, run.run_id) is run:  # going, or kept, here
            self._observe(run)
        return run, fresh

    def _observe(self, run: Run) -> None:
        with self._lock:
            if run.run_id in self._observed:
                return
            self._observed.add(run.run_id)
        run.observe(self._run_changed)

    def _load_thumbnails(self, cells: list[TaskCell]) -> None:
        """Thumbnails of earlier runs, from the cache beside the images (made once if missing)."""
        from ..history import cached_thumbnail

        for cell in cells:
            if not cell.waiting_for_images:
                continue
            try:
                thumbs = [cached_thumbnail(path, THUMB_SIDE) for path in cell.run.files]
            except Exception as exc:  # never stop the page for one image
                log.info("thumbnails of run %s: %s", cell.run.run_id, exc)
                thumbs = []
            cell.show_images(thumbs)

    def show_older(self) -> concurrent.futures.Future[None] | None:
        """Build the next page of earlier runs (in the background); None when none are left."""
        with self._lock:
            if not self._older:
                return None
            page, self._older = self._older[: self._page_size], self._older[self._page_size :]
            remaining = len(self._older)
        self.history_panel.set_more(remaining + len(page), busy=True)

        def build() -> None:
            try:
                history = self.history
                assert history is not None
                self._show_page([entry for entry in page if entry.run_id in history])
            finally:
                self._show_more()

        return self._in_background(build)

    def _show_more(self) -> None:
        with self._lock:
            remaining = len(self._older)
        self.history_panel.set_more(remaining)

    def wait_loaded(self, timeout: float | None = None) -> bool:
        """Block until the history pages and thumbnails asked for so far are shown.

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
    def cells(self) -> list[TaskCell]:
        """The history cells, newest first."""
        return self.history_panel.cells

    @property
    def runs(self) -> list[Run]:
        """The runs shown in the history, newest first."""
        return [cell.run for cell in self.cells]

    @property
    def running(self) -> list[Run]:
        """The runs still going."""
        return [run for run in self.runs if not run.done and run.future is not None]

    @property
    def offline(self) -> bool | None:
        """True when the offline simulator answers (None: not known yet for a given client)."""
        return self._offline

    # --- actions ----------------------------------------------------------------------------------

    def generate(self) -> Run:
        """Start a run with the form's values (same as clicking Generate); returns the Run.

        Raises :class:`~mountsea_widgets.errors.ValidationError` when the form is not valid.
        """
        input = self.form.validate()
        model = self.form.model
        run = Run(model, input, deadline_s=self.deadline_s)
        cell = self._cell(run)
        self._observe(run)
        with self._lock:
            self.history_panel.add(cell)
            self._start(run)
        cell.render()
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
        for run in self.runs:
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
        return not late and self.wait_loaded(remaining())  # e.g. the size shown after the runs

    def reuse(self, run: Run) -> None:
        """Load ``run``'s model and parameters into the form."""
        refused = self._load_form(run.model, run.input)
        if refused:
            self._show_reason("Not loaded (no longer accepted): " + ", ".join(refused))

    def use_as_input(self, image: Any) -> str:
        """Add ``image`` to the form's ``image_urls``, switching to an edit model if needed.

        ``image`` is a URL or data URI string, a PIL image, a ``pathlib.Path`` or bytes (the
        last three are sent as data URIs). A text-to-image model is replaced by its edit model
        (nano-banana by nano-banana-edit, and so on), keeping the prompt and what still fits.
        Returns the string added.
        """
        from .._image_input import to_reference

        reference = to_reference(image)
        model = self.form.model
        if not catalog[model].is_edit:
            self.model_select.value = EDIT_MODEL_OF.get(model, catalog.edit[0])
        control = self.form.controls["image_urls"]
        assert isinstance(control, UrlListControl)
        control.append(reference)
        return reference

    def load_image(self, path: str | Path) -> dict[str, Any]:
        """Load the model and parameters saved inside an image file into the form.

        ``path`` is a PNG, JPEG or WebP written by mountsea-widgets (Save, the history, or
        ``Result.save``). Returns its metadata (``mw.read_metadata``). Reference images that
        were too long to embed are taken from this Studio's history when it still has the run,
        and left out otherwise (the message next to the control names them). Raises
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
        return _without_places(input, [str(place) for place in omitted])

    def _load_form(self, model: str, input: dict[str, Any]) -> list[str]:
        self.model_select.value = model
        return self.form.load(model, input)

    def export_selected(self, folder: str | Path | None = None) -> Path | None:
        """Copy the selected runs' images to ``folder`` with ``index.csv`` and ``index.json``.

        ``folder`` defaults to the export field, else ``mountsea-export-<date>-<time>``;
        relative paths start at the notebook's folder. Returns the folder, or None (with the
        reason shown under the tools) when nothing was exported.
        """
        panel = self.history_panel
        if self.history is None:
            panel.show_message("This Studio keeps no history: nothing to export.", error=True)
            return None
        selected = panel.selected()
        if not selected:
            panel.show_message("Select runs with their checkboxes first.", error=True)
            return None
        text = str(folder) if folder is not None else panel.export_folder.value.strip()
        target = Path(text or f"{DEFAULT_EXPORT_PREFIX}-{time.strftime('%Y%m%d-%H%M%S')}")
        target = target.expanduser()
        if not target.is_absolute():
            target = Path.cwd() / target
        run_ids = [cell.run.run_id for cell in selected]
        try:
            written = self.history.export(run_ids, target)
        except KeyError as exc:
            panel.show_message(f"Export failed: {exc.args[0] if exc.args else exc}", error=True)
            return None
        except (OSError, ValueError, TypeError) as exc:
            panel.show_message(f"Export failed: {type(exc).__name__}: {exc}", error=True)
            return None
        images = sum(len(row.get("files", ())) for row in _exported_rows(written))
        panel.show_message(
            f"Exported {len(run_ids)} run(s), {images} image(s) to {written} "
            "(index.csv, index.json)"
        )
        return written

    def close(self) -> None:
        """Cancel nothing, but close the widgets (and the client the Studio made itself)."""
        launcher = getattr(self, "launcher", None)  # None when __init__ failed early
        if launcher is not None:
            launcher.close()  # the client it made (a given AsyncClient stays open)
        for child in list(self.children):
            close_tree(child)
        super().close()

    # --- event handlers (any thread) -------------------------------------------------------------

    def _clicked(self, _button: Any = None) -> None:
        try:
            self.generate()
        except ValidationError as exc:
            self._show_reason(str(exc))
        except Exception as exc:
            # on_click output goes nowhere in JupyterLab: the error must land in the widget.
            log.exception("Generate failed")
            self._show_reason(f"Generate failed: {type(exc).__name__}: {exc}")

    def _load_clicked(self, _button: Any = None) -> None:
        path = self.load_path.value.strip()
        if not path:
            self._show_load_message(
                "Type the path of an image saved by mountsea-widgets first.", error=True
            )
            return
        try:
            self.load_image(path)
        except (MountseaError, OSError) as exc:
            self._show_load_message(str(exc), error=True)
        except Exception as exc:
            log.exception("Load parameters failed")
            self._show_load_message(f"Load failed: {type(exc).__name__}: {exc}", error=True)

    def _more_clicked(self) -> None:
        self.show_older()

    def _export_clicked(self) -> None:
        try:
            self.export_selected()
        except Exception as exc:
            log.exception("Export failed")
            self.history_panel.show_message(
                f"Export failed: {type(exc).__name__}: {exc}", error=True
            )

    def _model_changed(self, change: dict[str, Any]) -> None:
        self.form.set_model(change["new"])
        self._show_summary()

    def _form_changed(self) -> None:
        problems = self.form.problems()
        self.cost.show_estimate(estimate_of(self.form.model, self.form.value()))
        self.generate_button.disabled = bool(problems)
        if problems:
            text = "; ".join(f"{name}: {message}" for name, message in problems.items())
            self._show_reason(f"Generate is off until this is fixed — {text}")
        else:
            self._show_reason("")

    def _run_changed(self, run: Run) -> None:
        if run.result is not None and run.result.simulated and not self._offline:
            self._offline = True
            self._show_banner()
        if run.done:
            self._show_activity()
            self._refresh_size()
            if run.future is not None:  # started here: billed in this session if completed
                self.cost.count(run)
                if run.status == "completed":
                    self.refresh_credits()

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
                self.cost.show_credits(f"credits unknown: {exc}", quiet=True)
            except Exception:  # quietly: the credits are a courtesy, never a failure
                log.info("credits refresh failed", exc_info=True)
                self.cost.show_credits("credits unknown", quiet=True)
            else:
                label = "simulated account" if self._offline else "account"
                self.cost.show_credits(f"{label}: {balance}")

        future = self._in_background(fetch)
        self.credits_loading = future
        return future

    def _background_failed(self, error: BaseException) -> None:
        self._show_reason(f"Background task failed: {type(error).__name__}: {error}")

    # --- display helpers ----------------------------------------------------------------------

    def _cell(self, run: Run, *, lazy_images: bool = False) -> TaskCell:
        return TaskCell(
            run,
            on_reuse=self.reuse,
            on_remove=self._remove_cell,
            on_resume=self._resume,
            save_folder=self._save_path,
            on_use_input=self.use_as_input,
            lazy_images=lazy_images,
        )

    def _remove_cell(self, cell: TaskCell) -> None:
        self.history_panel.remove(cell)
        if self.history is not None:
            try:
                self.history.remove(cell.run.run_id)
            except KeyError:
                pass  # already gone (removed from another Studio)
            except Exception as exc:
                self._show_reason(f"Could not remove the run from the history: {exc}")
            self._refresh_size()
        self._show_activity()

    def _start(self, run: Run) -> None:
        """Carry ``run`` out on the runner; its cells render once more when that ends.

        (A run can end its execution without changing, e.g. when another session polls
        its task: its cell must still offer Resume then.)
        """
        future = self.launcher.start(run)
        rendered: concurrent.futures.Future[None] = concurrent.futures.Future()
        with self._lock:
            self._rendering = [f for f in self._rendering if not f.done()] + [rendered]

        def render(_done: object) -> None:
            try:
                for cell in self.cells:
                    if cell.run is run:
                        cell.render()
            finally:
                rendered.set_result(None)

        future.add_done_callback(render)

    def _resume(self, run: Run) -> None:
        self._observe(run)
        self._start(run)
        self._show_activity()

    def _refresh_size(self) -> None:
        """Show the history's run count and size on disk (measured in a worker thread)."""
        history = self.history
        if history is None:
            return

        def measure() -> None:
            self.history_panel.show_size(len(history), history.size_bytes(), str(history.folder))

        self._in_background(measure)

    def _save_path(self) -> Path:
        folder = Path(self.save_folder.value.strip() or DEFAULT_SAVE_FOLDER).expanduser()
        return folder if folder.is_absolute() else Path.cwd() / folder

    def _show_reason(self, text: str) -> None:
        self.reason.value = (
            f'<div style="color:#b00020;white-space:pre-wrap">{html.escape(text)}</div>'
            if text
            else ""
        )

    def _show_load_message(self, text: str, *, error: bool = False) -> None:
        color = "#b00020" if error else "#1b5e20"
        self.load_message.value = (
            f'<div style="color:{color};white-space:pre-wrap;margin-left:8px">'
            f"{html.escape(text)}</div>"
            if text
            else ""
        )

    def _show_activity(self) -> None:
        count = len(self.running)
        self.activity.value = (
            f'<span style="color:#555;margin:0 8px">{count} running</span>' if count else ""
        )

    def _show_summary(self) -> None:
        spec = catalog[self.model_select.value]
        self.summary.value = (
            f'<div style="color:#555;margin-left:154px">{html.escape(spec.title)} — '
            f"{html.escape(spec.summary)}</div>"
        )

    def _show_banner(self) -> None:
        if self._offline:
            text, color = OFFLINE_NOTICE, "#8a5a00"
        else:
            url = _safe_url(str(getattr(self.client, "base_url", "")))
            text, color = f"Mountsea hub at {url}", "#1b5e20"
        self.banner.value = f'<div style="color:{color};font-weight:600">{html.escape(text)}</div>'

    def __repr__(self) -> str:
        target = "offline simulator" if self._offline else _safe_url(str(self.client.base_url))
        return f"<Studio {self.form.model}: {len(self.runs)} runs, {target}>"


def studio(
    model: str = "nano-banana",
    *,
    client: AsyncClient | Client | None = None,
    history: HistoryChoice = None,
) -> Studio:
    """The Studio widget for ``model`` (display it: make it the last expression of a cell)."""
    return Studio(model=model, client=client, history=history)
