"""One generation run: its state (:class:`Run`) and the coroutine that carries it out.

A :class:`Run` is plain state with observers, not a widget: the Studio's task cell observes it,
scripts and tests read it. :func:`execute` moves it through its statuses on the runner loop and
writes every step to the history journal, the task id *before* polling starts, so a run that is
interrupted can always be found again.

Statuses: ``submitting`` → ``pending`` → ``processing`` → one of ``completed``, ``failed``,
``timeout``, ``cancelled`` (hub outcomes, or ``cancelled`` when we stop waiting) or ``error``
(the request never got a usable answer: validation, network, HTTP error); a run found in the
history without a task id that never finished is ``interrupted`` (it is never sent again).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import inspect
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _submit_watch as submit_watch
from ._run_journal import RunJournal, SubmitRecords
from ._statuses import FINAL_STATUSES, RUN_STATUSES, run_status
from ._statuses import INTERRUPTED_MESSAGE as INTERRUPTED_MESSAGE  # where it was always read
from .catalog import catalog
from .errors import (
    APIConnectionError,
    MountseaError,
    RateLimitError,
    ServerError,
    TaskFailedError,
    TaskIdError,
    TaskTimeoutError,
)

if TYPE_CHECKING:
    from ._runner import Runner
    from .client import AsyncClient
    from .history import History
    from .result import Result
    from .task import TaskStatus

log = logging.getLogger("mountsea_widgets.run")

#: How often a running run's ``elapsed_s`` is refreshed, in seconds.
TICK_SECONDS = 0.5
#: Default wait deadline: this many times the model's expected duration...
DEADLINE_FACTOR = 10.0
#: ...but never less than this many seconds (a busy hub can be slow; a wait must still end).
MIN_DEADLINE_S = 600.0
#: Errors after which a submitted task may still finish on the hub (we lost contact, the hub
#: failed for a while): the journal keeps such a run pending, so it can be resumed.
LOST_CONTACT = (APIConnectionError, ServerError, RateLimitError)

#: What a run learned (as opposed to where it stands): kept even when it arrives after the
#: run was made final, e.g. a task id answered while a cancel was on its way.
_FACTS = frozenset({"task_id", "result", "files", "thumbnails", "warnings"})

Observer = Callable[["Run"], None]


def default_deadline(expected_s: float) -> float:
    """How long to wait for a task that usually takes ``expected_s`` seconds before giving up."""
    return max(DEADLINE_FACTOR * max(expected_s, 0.0), MIN_DEADLINE_S)


def _shown_id(task_id: str | None, limit: int = 80) -> str:
    """A task id as a message shows it: whole when short, else its start (the run keeps it all)."""
    text = str(task_id)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def cancel_message(task_id: str | None) -> str:
    """What a local cancel means, in words (the hub documents no cancel endpoint)."""
    if task_id is None:
        return (
            "Cancelled before the hub confirmed the task. If the request had already arrived, "
            "the provider may still run (and bill) it."
        )
    return (
        f"Stopped waiting for task {_shown_id(task_id)}. The hub has no cancel endpoint: the "
        "provider may still finish (and bill) it; its result is not fetched."
    )


def interrupted(run: Run) -> KeyboardInterrupt:
    """The KeyboardInterrupt to raise when a blocking call is stopped: it names the task."""
    if run.task_id is None:
        return KeyboardInterrupt(
            f"stopped before the hub confirmed a task ({run.model}, run {run.run_id}); "
            "if the request had arrived, the provider may still run (and bill) it"
        )
    return KeyboardInterrupt(
        f"stopped waiting for {run.model} task {run.task_id}; the hub may still finish (and "
        f"bill) it. Its id is kept in the history (run {run.run_id}); fetch the result with "
        f"mw.Client().wait({run.task_id!r})"
    )


class Run:
    """The state of one generation: what was asked, where it stands, and what came back.

    Attributes are read freely from any thread; they change only through :meth:`update`, which
    then calls every observer (on the thread that made the change, usually the runner's).
    """

    def __init__(
        self,
        model: str,
        input: Mapping[str, Any],
        *,
        run_id: str | None = None,
        expected_s: float | None = None,
        deadline_s: float | None = None,
        clock: Callable[[], float] = time.time,
        unchecked: Sequence[str] = (),
    ) -> None:
        given = (expected_s is not None, deadline_s is not None)
        if expected_s is None:
            expected_s = catalog.spec(model).typical_seconds  # also refuses an unknown model
        if deadline_s is not None and (isinstance(deadline_s, bool) or not deadline_s > 0):
            raise ValueError(f"deadline_s must be a positive number of seconds, got {deadline_s!r}")
        self.run_id: str = run_id or uuid.uuid4().hex[:12]
        self.model: str = model
        self.input: dict[str, Any] = dict(input)
        #: Parameters whose values the catalog refused and that are sent all the same
        #: (``strict=False``): the hub decides. The history's start record lists them.
        self.unchecked: tuple[str, ...] = tuple(unchecked)
        self.status: str = "submitting"
        self.task_id: str | None = None
        self.started: float = clock()
        self.elapsed_s: float = 0.0
        #: Seconds the task usually takes (the progress bar's scale): the catalog's estimate
        #: until the run is launched, then what its client expects (see :meth:`expect`).
        self.expected_s: float = expected_s
        #: Seconds we wait for the task once submitted; then the run ends ``timeout``
        #: (TaskTimeoutError). Default: :func:`default_deadline` of the expected duration.
        self.deadline_s: float = (
            float(deadline_s) if deadline_s is not None else default_deadline(self.expected_s)
        )
        self._given = given
        self.error: str | None = None
        #: The exception that ended the run, when one did (None for completed runs).
        self.exception: BaseException | None = None
        #: True when the run ended because we lost contact with the hub after the task was
        #: created: the task may still finish, and :func:`execute` can poll it again.
        self.resumable: bool = False
        self.result: Result | None = None
        #: Image files written by the history journal (or found there for older runs).
        self.files: list[Path] = []
        #: Small JPEG thumbnails of the images (None where one could not be made), made off
        #: the runner loop when the run completes, so views never decode full-size images.
        self.thumbnails: list[bytes | None] = []
        #: Problems that did not stop the run (e.g. the journal could not be written).
        self.warnings: list[str] = []
        self.clock = clock
        self._observers: list[Observer] = []
        self._lock = threading.RLock()
        self._done = threading.Event()
        self._future: concurrent.futures.Future[Any] | None = None

    def expect(self, seconds: float) -> None:
        """Take ``seconds`` as the expected duration (the one the client polls around), unless
        one was given when the run was made; the default deadline follows it."""
        expected_given, deadline_given = self._given
        if expected_given or not seconds > 0:
            return
        self.expected_s = float(seconds)
        if not deadline_given:
            self.deadline_s = default_deadline(self.expected_s)

    # --- state --------------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """True once the run reached a final status."""
        return self.status in FINAL_STATUSES

    @property
    def prompt(self) -> str:
        """The prompt that was sent (empty if none)."""
        return str(self.input.get("prompt", ""))

    def changed_params(self) -> dict[str, Any]:
        """The parameters (other than the prompt) whose values differ from the model defaults."""
        # A model this version does not know (a run from the history) has no defaults: all
        # its parameters are shown.
        defaults = catalog[self.model].defaults() if self.model in catalog else {}
        return {
            name: value
            for name, value in self.input.items()
            if name != "prompt" and defaults.get(name) != value
        }

    def observe(self, observer: Observer) -> Callable[[], None]:
        """Call ``observer(run)`` after every change; returns a function that unsubscribes."""
        with self._lock:
            self._observers.append(observer)

        def unsubscribe() -> None:
            with self._lock:
                if observer in self._observers:
                    self._observers.remove(observer)

        return unsubscribe

    def update(self, **changes: Any) -> None:
        """Change attributes together, then notify the observers once."""
        unknown = [name for name in changes if not hasattr(self, name) or name.startswith("_")]
        if unknown:
            raise AttributeError(f"Run has no attribute(s) {', '.join(unknown)}")
        status = changes.get("status")
        if status is not None and status not in RUN_STATUSES:
            raise ValueError(f"unknown run status {status!r}; one of {', '.join(RUN_STATUSES)}")
        # A paid result outranks a local cancel (or a give-up) that crossed it on the way.
        paid = status == "completed" and changes.get("result") is not None
        with self._lock:
            if self.done and status is not None and status != self.status and not paid:
                # A final status is final: a late tick or poll must not revive the run. What
                # it learned still counts: a task id or images that arrived while a cancel was
                # on its way are kept, never dropped.
                changes = {k: v for k, v in changes.items() if k in _FACTS}
                if not changes:
                    return
            for name, value in changes.items():
                setattr(self, name, value)
            observers = list(self._observers)
        for observer in observers:
            try:
                observer(self)
            except Exception:
                # A broken view must not stop the run; the run's state stays right.
                log.exception("run observer %r failed", observer)
        if self.done:
            # Set after the observers ran, so whoever waits sees the views up to date too.
            self._done.set()

    def reopen(self) -> bool:
        """Let a run that lost contact with the hub go again (see :attr:`resumable`).

        Returns False (and changes nothing) for any other run.
        """
        with self._lock:
            if not (self.done and self.resumable and self.task_id is not None):
                return False
            self.status = "pending"  # directly: update() keeps final statuses final
            self._done.clear()
        self.update(error=None, exception=None, resumable=False)
        return True

    def tick(self) -> None:
        """Refresh ``elapsed_s`` from the clock while the run is going."""
        if not self.done:
            self.update(elapsed_s=max(0.0, self.clock() - self.started))

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run is final (or ``timeout`` passes); returns whether it is final."""
        return self._done.wait(timeout)

    # --- lifecycle ------------------------------------------------------------------------------

    @property
    def future(self) -> concurrent.futures.Future[Any] | None:
        """The runner future carrying this run, once :func:`start` was called."""
        return self._future

    def cancel(self) -> bool:
        """Stop polling locally; the status becomes ``cancelled`` (the hub may still bill).

        Returns False when the run had already finished.
        """
        if self.done:
            return False
        if self._future is not None and self._future.cancel():
            return True  # execute() (or the start() callback) records the cancellation
        if self._future is None:
            self.update(status="cancelled", error=cancel_message(self.task_id))
            return True
        return False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary (no images, no key)."""
        return {
            "run_id": self.run_id,
            "model": self.model,
            "input": dict(self.input),
            "status": self.status,
            "task_id": self.task_id,
            "started": self.started,
            "elapsed_s": round(self.elapsed_s, 3),
            "expected_s": self.expected_s,
            "error": self.error,
            "images": self.result.image_count if self.result is not None else len(self.files),
        }

    def __repr__(self) -> str:
        task = f" task={self.task_id}" if self.task_id else ""
        return f"<Run {self.run_id} {self.model} {self.status}{task} {self.elapsed_s:.1f}s>"


# --- carrying a run out ---------------------------------------------------------------------


def _status_from_poll(status: TaskStatus) -> str | None:
    """The run status to show for one poll answer (terminal ones are settled by ``wait``)."""
    return status.status if status.status in ("pending", "processing") else None


def describe_error(error: BaseException) -> str:
    """A one-paragraph, user-facing description of why a run stopped."""
    if isinstance(error, MountseaError):
        return f"{type(error).__name__}: {error}"
    return f"unexpected {type(error).__name__}: {error}"


async def execute(
    run: Run,
    client: AsyncClient,
    history: History | None = None,
    *,
    tick_s: float = TICK_SECONDS,
) -> Run:
    """Carry ``run`` out with ``client``: submit, journal the task id, poll, keep the images.

    A run that already has a ``task_id`` (e.g. from :func:`run_from_entry`) is resumed: it is
    polled, not submitted again, and only while no other execution (in this process, or in
    another kernel on the same history) carries it out: see :mod:`mountsea_widgets.recovery`.
    Never raises for a failed generation: the outcome is in ``run.status`` / ``run.error``.
    Cancelling the task (``run.cancel()``) records ``cancelled`` and re-raises the cancel.
    """
    from ._recovery import POLLED_ELSEWHERE, TAKEN_OVER, claim

    require_async_client(client)
    with claim(run, history) as claimed:
        if not claimed:  # another execution holds the lease: the run says so, and waits
            if POLLED_ELSEWHERE not in run.warnings:
                run.update(warnings=[*run.warnings, POLLED_ELSEWHERE])
            return run
        if POLLED_ELSEWHERE in run.warnings:  # that session stopped: this one goes on
            notes = [note for note in run.warnings if note != POLLED_ELSEWHERE]
            run.update(warnings=[*notes, TAKEN_OVER])
        if not _finished_elsewhere(run, history) and _may_send(run, history):
            await _carry_out(run, client, history, tick_s)
    return run


def require_async_client(client: object) -> None:
    """Refuse a client whose calls cannot be awaited (``mw.Client``), before anything is sent.

    Its calls would block the runner's loop, and its answers cannot be awaited: the task would
    be created (and billed) and then lost to a TypeError. None (use the configured hub) passes.
    """
    if client is None or inspect.iscoroutinefunction(getattr(client, "submit", None)):
        return
    raise TypeError(
        "client must be an mw.AsyncClient (runs are awaited on the background runner; the "
        "blocking mw.Client cannot be): make one with mw.AsyncClient(api_key=..., base_url=...), "
        f"or leave client out to use the configured hub; got {type(client).__name__}"
    )


def _finished_elsewhere(run: Run, history: History | None) -> bool:
    """For a run being resumed: take the outcome another session journalled meanwhile, if any."""
    if run.task_id is None or history is None:
        return False
    try:
        entry = history.get(run.run_id)
    except Exception:
        return False  # not in the history (removed, or never journalled): poll it
    if entry.finished is None:
        return False
    take_outcome(run, entry)
    return True


def take_outcome(run: Run, entry: Any) -> None:
    """Show on ``run`` the outcome its history ``entry`` journalled (another session's work)."""
    task_id = entry.task_id or run.task_id
    status, reason = run_status(entry.status, task_id=task_id, finished=True)
    run.update(
        task_id=task_id,
        status=status,
        error=entry.error or reason,
        files=list(entry.files),
        elapsed_s=float(entry.elapsed_s or run.elapsed_s),
    )


def _may_send(run: Run, history: History | None) -> bool:
    """For a run without a task id, under its lease: whether the journal lets it be sent.

    A run the journal does not know is new. One it knows is sent only when the hub refused
    its last attempt (nothing accepted); one whose task id or outcome another session
    journalled meanwhile takes that; any other (a request that may have reached the hub with
    no answer back) ends ``interrupted``, never sent twice.
    """
    if run.task_id is not None or history is None:
        return True
    try:
        if run.run_id not in history:
            return True
        entry = history.get(run.run_id)
    except Exception:
        return True  # no journal to read (a broken folder): a run of this session, sent once
    if entry.finished is not None:
        take_outcome(run, entry)
        return False
    if entry.task_id is not None:
        run.update(task_id=entry.task_id)  # submitted elsewhere meanwhile: polled, not sent
        return True
    if entry.is_refused:
        return True
    status, reason = run_status(entry.status, task_id=None, finished=False)
    run.update(status=status, error=reason)
    return False


async def _carry_out(run: Run, client: AsyncClient, history: History | None, tick_s: float) -> Run:
    resuming = run.task_id is not None
    if resuming:
        # A run found in the journal with a task id: poll it again, never submit twice.
        run.reopen()
        run.update(status="pending", error=None)
    else:
        run.update(status="submitting", started=run.clock(), elapsed_s=0.0)
        RunJournal(run, history).started()
    ticker = asyncio.ensure_future(_tick(run, tick_s))
    try:
        task_id = run.task_id
        if task_id is None:
            # Each refusal of the hub, and each attempt sent after one, is journalled: a run
            # killed while it waits out a refusal is sent again on resume, never one whose
            # request may have reached the hub.
            with submit_watch.watching(SubmitRecords(RunJournal(run, history))):
                task_id = await _submit(run, client)
            # In memory first: whoever sees the id in the journal (an interrupt, another
            # session) finds it on the run too.
            run.update(task_id=task_id, status="pending")
            RunJournal(run, history).submitted(task_id)

        def on_status(status: TaskStatus) -> None:
            new = _status_from_poll(status)
            elapsed = max(0.0, run.clock() - run.started)
            if new is not None:
                run.update(status=new, elapsed_s=elapsed)

        result = await client.wait(
            task_id,
            timeout=run.deadline_s,
            model=run.model,
            input=dict(run.input),
            on_status=on_status,
        )
        await _complete(run, history, result)
    except asyncio.CancelledError:
        if run.result is None:
            _finish(run, history, "cancelled", cancel_message(run.task_id))
        raise
    except TaskFailedError as exc:
        status = exc.status if exc.status in ("failed", "timeout", "cancelled") else "failed"
        _finish(run, history, status, describe_error(exc), exc)
    except TaskIdError as exc:
        # An id no poll can carry (refused before sending): polling again would fail the same
        # way, so the run ends here; the journal keeps the id, to look the task up on the hub.
        _finish(run, history, "error", describe_error(exc), exc)
    except Exception as exc:
        if run.task_id is None:
            _finish(run, history, "error", describe_error(exc), exc)
        else:
            await _keep_downloaded(run, history, exc)
            _keep_pending(run, history, exc)
    finally:
        ticker.cancel()
    return run


async def _submit(run: Run, client: AsyncClient) -> str:
    """Create the run's task; values the caller chose to send unchecked are sent unchecked."""
    if not run.unchecked:
        return await client.submit(run.model, dict(run.input))
    from ._unchecked import announced

    with announced():  # said where the run was made (its warnings, the caller's warning)
        return await client.submit(run.model, dict(run.input), strict=False)


def _keep_pending(run: Run, history: History | None, error: Exception) -> None:
    """End a run whose task exists but whose outcome we did not get, so it can be resumed.

    Lost contact, a deadline of ours, an image that would not download, an answer we could
    not read: the task may have finished (and been billed) or still finish. The journal keeps
    it pending, so Resume or the next Studio polls it again (nothing is submitted twice) and
    downloads its images, never forgets it.
    """
    elapsed = max(0.0, run.clock() - run.started)
    kept = "it is kept in the history, and " if history is not None else ""
    hint = (
        f" Task {_shown_id(run.task_id)} may still finish: {kept}Resume polls it again (nothing "
        "is submitted twice)."
    )
    # Shown on the run (its cell says why and offers Resume), so a log line is only a trace.
    log.info("run %s: task %s kept pending after %r", run.run_id, run.task_id, error)
    run.update(
        status="timeout" if isinstance(error, TaskTimeoutError) else "error",
        error=describe_error(error) + hint,
        exception=error,
        resumable=True,
        elapsed_s=elapsed,
    )


async def _keep_downloaded(run: Run, history: History | None, error: Exception) -> None:
    """Save the images that arrived before another one failed: they are paid for, and their
    URLs may not last until the run is resumed (which then only adds the missing ones)."""
    arrived = [item for item in getattr(error, "downloaded", None) or () if item is not None]
    if not arrived or history is None:
        return
    files = await asyncio.to_thread(RunJournal(run, history).images, arrived)
    if files:
        run.update(files=list(files))


async def _complete(run: Run, history: History | None, result: Result) -> None:
    """Keep a completed task's images (history files, thumbnails), then show the run completed.

    The images are paid for: a cancel that arrives meanwhile waits until they are kept, then
    goes on. The journal says ``completed`` only once every image is in the history; if one
    could not be written, the run stays pending there, so the next session downloads again.
    """
    elapsed = max(0.0, run.clock() - run.started)
    result.run_id, result.created = run.run_id, run.started  # saved copies name their run
    # Writing files and making thumbnails is slow work: off the loop, which keeps polling.
    keeping = asyncio.ensure_future(asyncio.to_thread(_keep_images, run, history, result))
    cancelled = False
    while True:
        try:
            files, thumbnails = await asyncio.shield(keeping)
            break
        except asyncio.CancelledError:
            cancelled = True
    if history is not None and len(files) < result.image_count:
        message = (
            f"{result.image_count - len(files)} of {result.image_count} images could not be "
            f"saved in the history; they are shown from memory, and task {run.task_id} stays "
            "pending there, so the next session downloads them again."
        )
        run.update(warnings=[*run.warnings, message])
    else:
        task_s = result.elapsed_s
        RunJournal(run, history).finished("completed", None, elapsed, task_s)
    run.update(
        result=result,
        files=files,
        thumbnails=thumbnails,
        elapsed_s=elapsed,
        status="completed",
        error=None,  # a cancel that came too late no longer describes the run
        exception=None,
    )
    if cancelled:
        raise asyncio.CancelledError


def _keep_images(
    run: Run, history: History | None, result: Result
) -> tuple[list[Path], list[bytes | None]]:
    """Save ``result``'s images in the history and make their thumbnails (in a worker thread).

    Once every image is safely on disk the result reads its bytes back from the files, so a
    finished run holds thumbnails only, not megabytes of full-size images.
    """
    from ._images import thumbnail

    pairs = list(zip(result.image_bytes, result.content_types, strict=False))
    files = RunJournal(run, history).images(pairs)
    thumbnails: list[bytes | None] = []
    for data, _ in pairs:
        try:
            thumbnails.append(thumbnail(data))
        except Exception as exc:  # the view shows why when it tries itself
            log.info("run %s: no thumbnail: %s", run.run_id, exc)
            thumbnails.append(None)
    if files and len(files) == len(pairs):
        try:
            result.keep_on_disk(files)
        except (OSError, ValueError) as exc:  # keep the bytes in memory rather than lose them
            log.warning("run %s: images stay in memory: %s", run.run_id, exc)
    return files, thumbnails


def _finish(
    run: Run,
    history: History | None,
    status: str,
    error: str,
    exception: BaseException | None = None,
) -> None:
    elapsed = max(0.0, run.clock() - run.started)
    RunJournal(run, history).finished(status, error, elapsed)
    run.update(status=status, error=error, elapsed_s=elapsed, exception=exception)


async def _tick(run: Run, interval: float) -> None:
    try:
        while not run.done:
            await asyncio.sleep(interval)
            run.tick()
    except Exception:
        # A broken clock must not leave an unretrieved task exception; the run goes on.
        log.exception("run %s: elapsed-time updates stopped", run.run_id)


def start(
    run: Run,
    client: AsyncClient,
    history: History | None = None,
    *,
    runner: Runner | None = None,
    tick_s: float = TICK_SECONDS,
) -> concurrent.futures.Future[Run]:
    """Schedule :func:`execute` on the runner; the run settles even if the task never starts.

    A done-callback turns anything :func:`execute` did not record (cancelled before it began,
    an unexpected crash) into the run's visible state.
    """
    from ._runner import get_runner

    active = runner or get_runner()
    run.reopen()  # a run that lost contact goes again; now, so that waiting on it waits

    def settle(error: BaseException | None = None) -> None:
        if run.done:
            return
        if error is None:
            run.update(status="cancelled", error=cancel_message(run.task_id))
        else:
            run.update(status="error", error=describe_error(error))

    future = active.submit(execute(run, client, history, tick_s=tick_s), on_error=settle)
    run._future = future

    def on_done(done: concurrent.futures.Future[Run]) -> None:
        if done.cancelled():
            settle()

    future.add_done_callback(on_done)
    return future


# --- history entries, saving, code -----------------------------------------------------------


def run_from_entry(entry: Any, *, submitting_elsewhere: bool = False) -> Run:
    """A :class:`Run` rebuilt from a history entry (a finished run, or one to resume).

    The only conversion from an entry to a run. ``entry`` is a
    :class:`~mountsea_widgets.history.HistoryEntry` (run_id, model, input, task_id, status,
    created, elapsed_s, error, files); ``submitting_elsewhere``: another live session is
    submitting it (see :func:`~mountsea_widgets._statuses.run_status`).
    """
    known = entry.model in catalog
    # A model this version does not know (a newer version's, or one the hub retired) has no
    # duration to expect: the run is shown, never started (see below).
    expected = None if known else UNKNOWN_MODEL_SECONDS
    unchecked = getattr(entry, "unchecked", None) or ()
    run = Run(
        entry.model,
        entry.input or {},
        run_id=entry.run_id,
        expected_s=expected,
        unchecked=unchecked,
    )
    run.task_id = entry.task_id
    run.started = float(entry.created or run.started)
    run.elapsed_s = float(entry.elapsed_s or 0.0)
    run.files = [Path(file) for file in entry.files or ()]
    run.status, reason = run_status(
        entry.status,
        task_id=entry.task_id,
        finished=getattr(entry, "finished", None) is not None,
        submitting_elsewhere=submitting_elsewhere,
    )
    # The journal's own error, else the reason the mapping gives (an interruption always says
    # what it means).
    run.error = reason if run.status == "interrupted" else entry.error or reason
    if not known:
        _read_only(run)
    if run.done:
        run._done.set()
    return run


#: Seconds shown as expected for a run whose model this version does not know.
UNKNOWN_MODEL_SECONDS = 60.0


def unknown_model_message(model: str, task_id: str | None) -> str:
    """Why a run from the history is shown but cannot be carried on here."""
    text = (
        f"This version of mountsea-widgets does not know the model {model!r}, so this run is "
        "shown read-only: it cannot be resumed or reused here."
    )
    if task_id is not None:
        text += (
            f" Its task {_shown_id(task_id)} stays pending in the history: a version that knows "
            f"the model resumes it, or poll it with mw.Client().wait({task_id!r})."
        )
    return text


def _read_only(run: Run) -> None:
    """Mark a rebuilt run whose model is unknown: shown as it is, never started.

    An unfinished one ends ``error`` in memory only, saying why; the journal is not written,
    so its task stays pending there for a version that knows the model.
    """
    if run.done:
        run.warnings = [*run.warnings, unknown_model_message(run.model, None)]
        return
    run.status = "error"
    run.error = unknown_model_message(run.model, run.task_id)
    run.resumable = False


def image_loaders(run: Run) -> list[Callable[[], bytes]]:
    """One loader per image of ``run``: the downloaded bytes, else the saved files."""
    result = run.result
    if result is not None and result.files:
        return [path.read_bytes for path in result.files]
    if result is not None and result.image_count:
        return [functools.partial(bytes, data) for data in result.image_bytes]
    return [path.read_bytes for path in run.files]


def save_run(run: Run, folder: str | Path) -> list[Path]:
    """Write ``run``'s images into ``folder`` (created if missing), with metadata embedded.

    The same files as ``run.result.save(folder)``: ``<task id>_<n>.<ext>``, sanitised, never
    outside ``folder``, never overwriting another file. Each carries the model, input, task id,
    run id, created time and index (``mw.read_metadata`` reads them back). A run rebuilt from
    the history (no result in memory) saves copies of its history files.
    """
    from ._image_files import file_stem, image_metadata, save_images
    from .metadata import extension_for

    if run.result is not None and run.result.image_count:
        return run.result.save(folder)

    def metadata(index: int) -> dict[str, Any]:
        return image_metadata(
            model=run.model,
            input=run.input,
            task_id=run.task_id,
            run_id=run.run_id,
            created=run.started,
            index=index,
        )

    images = []
    for load in image_loaders(run):
        data = load()
        images.append((data, "", extension_for(data)))
    # As Result.file_names names them, so both ways give the same files.
    stem = file_stem(run.task_id, "task") if run.task_id else file_stem(run.run_id, "run")
    return save_images(folder, stem, images, metadata)


def generation_code(model: str, input: Mapping[str, Any], unchecked: Sequence[str] = ()) -> str:
    """The ``mw.generate(...)`` call that repeats a run: valid Python, arguments repr'd.

    ``unchecked``: parameters the run sent unchecked; the call then says ``strict=False``, so
    it sends them again rather than stopping at the catalog.
    """
    params = {name: value for name, value in input.items() if name != "prompt"}
    lines = [
        "import mountsea_widgets as mw",
        "",
        "result = mw.generate(",
        f"    {model!r},",
        f"    {str(input.get('prompt', ''))!r},",
    ]
    for name, value in params.items():
        if not name.isidentifier():
            raise ValueError(f"parameter name {name!r} is not a Python identifier")
        lines.append(f"    {name}={value!r},")
    if unchecked:
        lines.append(f"    strict=False,  # sent unchecked: {', '.join(unchecked)}")
    lines += [")", "result"]
    return "\n".join(lines)
