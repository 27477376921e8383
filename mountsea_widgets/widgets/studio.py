"""The Studio: pick a model, set exactly its parameters, Generate, and watch runs arrive.

>>> import mountsea_widgets as mw
>>> studio = mw.studio("nano-banana")      # the last expression of a cell displays it

Each click starts a run on the background runner (so the kernel stays free, even while a cell
blocks) and puts a live task cell on top of the history. Several runs can go at once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import html
import inspect
import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import ipywidgets as widgets

from ..catalog import catalog
from ..errors import ValidationError
from ..run import Run, run_from_entry, start
from ..runner import Runner, RunnerThreadError, get_runner
from .controls import UrlListControl, close_tree
from .form import Form
from .history_panel import HistoryPanel
from .task_cell import TaskCell

if TYPE_CHECKING:
    from ..client import AsyncClient
    from ..history import History

log = logging.getLogger("mountsea_widgets.studio")

#: Where Save writes images unless the Studio's folder field says otherwise (relative to cwd).
DEFAULT_SAVE_FOLDER = "mountsea-output"
#: How many earlier runs from the history are shown when a Studio opens.
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


def _model_label(model_id: str) -> str:
    spec = catalog[model_id]
    kind = "edit" if spec.is_edit else "text → image"
    return f"{model_id} · {kind} · ~{spec.typical_seconds:g} s"


class Studio(widgets.VBox):
    """The Studio widget (see the module docstring).

    ``client`` is an :class:`~mountsea_widgets.client.AsyncClient` (default: from the
    environment, or the embedded offline simulator); ``history`` a
    :class:`~mountsea_widgets.history.History` (default: the standard folder; ``False`` for
    none). Public parts: ``form``, ``model_select``, ``generate_button``, ``runs``, ``cells``,
    ``generate()``, ``wait_idle()``. ``deadline_s`` is how long a run waits for its task
    before it ends ``timeout`` (default: 10 x the model's expected time, at least 10 minutes).
    """

    def __init__(
        self,
        model: str = "nano-banana",
        client: AsyncClient | None = None,
        history: History | bool | None = None,
        *,
        save_folder: str | Path = DEFAULT_SAVE_FOLDER,
        runner: Runner | None = None,
        past_runs: int = PAST_RUNS,
        deadline_s: float | None = None,
    ) -> None:
        spec = catalog.spec(model)
        if deadline_s is not None and (isinstance(deadline_s, bool) or not deadline_s > 0):
            raise ValueError(f"deadline_s must be a positive number of seconds, got {deadline_s!r}")
        #: Seconds each run waits for its task (None: the per-model default, see Run).
        self.deadline_s = deadline_s
        self.runner = runner or get_runner()
        self._lock = threading.RLock()
        self.client, self._owns_client, offline = self._resolve_client(client)
        self.history: History | None = self._resolve_history(history)

        self.banner = widgets.HTML()
        self.banner.add_class("mountsea-banner")
        self.model_select = widgets.Dropdown(
            options=[(_model_label(model_id), model_id) for model_id in catalog],
            value=spec.id,
            description="model",
            tooltip="Which hub model to run; the form below shows exactly its parameters",
            style={"description_width": "150px"},
            layout=widgets.Layout(width="520px"),
        )
        self.model_select.add_class("mountsea-model")
        self.summary = widgets.HTML()
        self.summary.add_class("mountsea-model-summary")
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

        controls = widgets.HBox([self.generate_button, self.activity, self.save_folder])
        controls.add_class("mountsea-actions")
        super().__init__(
            [
                self.banner,
                self.model_select,
                self.summary,
                self.form,
                controls,
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
        self._form_changed()
        #: Loading of earlier runs from the history (a future), None when there is none.
        self._past_loading: concurrent.futures.Future[None] | None = None
        if self.history is not None and past_runs > 0:
            self._load_past(past_runs)

    # --- setup ----------------------------------------------------------------------------------

    @staticmethod
    def _resolve_client(client: AsyncClient | None) -> tuple[AsyncClient, bool, bool | None]:
        if client is not None:
            if not hasattr(client, "submit") or not inspect.iscoroutinefunction(client.submit):
                raise TypeError(
                    "Studio needs an mw.AsyncClient (its runs are awaited on the background "
                    f"runner), got {type(client).__name__}"
                )
            return client, False, None
        from ..config import make_async_client, settings

        resolved = settings()
        return make_async_client(), True, resolved.offline

    @staticmethod
    def _resolve_history(history: History | bool | None) -> History | None:
        if history is False:
            return None
        if history is None or history is True:
            from ..history import History

            return History()
        return history

    def _load_past(self, limit: int) -> None:
        """Show the latest runs from the journal (thumbnails are made off the kernel thread)."""
        history = self.history
        assert history is not None

        def build() -> None:
            try:
                entries = history.entries()[:limit]
            except Exception as exc:
                self._show_reason(f"Cannot read the history: {type(exc).__name__}: {exc}")
                return
            known = {run.run_id for run in self.runs}
            for entry in entries:
                if entry.run_id in known:
                    continue
                try:
                    run = run_from_entry(entry)
                except Exception as exc:
                    log.info("history entry %s cannot be shown: %s", entry.run_id, exc)
                    continue
                self.history_panel.add(self._cell(run), newest=False)

        self._past_loading = self.runner.submit(
            asyncio.to_thread(build), on_error=self._background_failed
        )

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
        run = Run(
            model, input, expected_s=self._expected_seconds(model), deadline_s=self.deadline_s
        )
        cell = self._cell(run)
        with self._lock:
            self.history_panel.add(cell)
            start(run, self.client, self.history, runner=self.runner)
        run.observe(self._run_changed)
        cell.render()
        self._show_activity()
        return run

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every run is finished (or ``timeout`` passes); True when all are done.

        For scripts and tests; in a notebook the runs finish on their own.
        """
        if self.runner.on_runner_thread():
            raise RunnerThreadError("wait_idle() would block the runner it waits for")
        deadline = None if timeout is None else time.monotonic() + timeout
        for run in self.runs:
            if run.future is None:
                continue  # an unfinished run from an earlier session, not started here
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not run.wait(remaining):
                return False
        return True

    def reuse(self, run: Run) -> None:
        """Load ``run``'s model and parameters into the form."""
        self.model_select.value = run.model
        refused = self.form.load(run.model, run.input)
        if refused:
            self._show_reason("Not loaded (no longer accepted): " + ", ".join(refused))

    def use_as_input(self, image: Any) -> str:
        """Add ``image`` to the form's ``image_urls``, switching to an edit model if needed.

        ``image`` is a URL or data URI string, a PIL image, a ``pathlib.Path`` or bytes (the
        last three are sent as data URIs). A text-to-image model is replaced by its edit model
        (nano-banana by nano-banana-edit, and so on), keeping the prompt and what still fits.
        Returns the string added.
        """
        from ..image_input import to_reference

        reference = to_reference(image)
        model = self.form.model
        if not catalog[model].is_edit:
            self.model_select.value = EDIT_MODEL_OF.get(model, catalog.edit[0])
        control = self.form.controls["image_urls"]
        assert isinstance(control, UrlListControl)
        control.append(reference)
        return reference

    def close(self) -> None:
        """Cancel nothing, but close the widgets (and the client the Studio made itself)."""
        if getattr(self, "_owns_client", False):  # False too when __init__ failed early
            client = self.client
            with contextlib.suppress(RuntimeError):  # the runner already stopped: nothing to close
                self.runner.submit(client.close(), on_error=self._background_failed)
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

    def _model_changed(self, change: dict[str, Any]) -> None:
        self.form.set_model(change["new"])
        self._show_summary()

    def _form_changed(self) -> None:
        problems = self.form.problems()
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

    def _background_failed(self, error: BaseException) -> None:
        self._show_reason(f"Background task failed: {type(error).__name__}: {error}")

    # --- display helpers ----------------------------------------------------------------------

    def _cell(self, run: Run) -> TaskCell:
        return TaskCell(
            run,
            on_reuse=self.reuse,
            on_remove=self._remove_cell,
            on_resume=self._resume,
            save_folder=self._save_path,
            on_use_input=self.use_as_input,
        )

    def _remove_cell(self, cell: TaskCell) -> None:
        self.history_panel.remove(cell)
        if self.history is not None:
            try:
                self.history.remove(cell.run.run_id)
            except Exception as exc:
                self._show_reason(f"Could not remove the run from the history: {exc}")
        self._show_activity()

    def _resume(self, run: Run) -> None:
        start(run, self.client, self.history, runner=self.runner)
        run.observe(self._run_changed)
        self._show_activity()

    def _save_path(self) -> Path:
        folder = Path(self.save_folder.value.strip() or DEFAULT_SAVE_FOLDER).expanduser()
        return folder if folder.is_absolute() else Path.cwd() / folder

    def _expected_seconds(self, model: str) -> float:
        if self.history is not None:
            try:
                measured = self.history.typical_seconds(model)
            except Exception:
                measured = None
            if measured:
                return float(measured)
        return catalog[model].typical_seconds

    def _show_reason(self, text: str) -> None:
        self.reason.value = (
            f'<div style="color:#b00020;white-space:pre-wrap">{html.escape(text)}</div>'
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
    client: AsyncClient | None = None,
    history: History | bool | None = None,
) -> Studio:
    """The Studio widget for ``model`` (display it: make it the last expression of a cell)."""
    return Studio(model=model, client=client, history=history)
