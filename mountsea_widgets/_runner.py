"""The runner: one background asyncio loop, in a daemon thread, that runs every task.

Why a thread of our own: a task on the kernel's loop stops advancing while a cell runs blocking
code, and JupyterLab >= 4.4 with ipykernel >= 7 may call widget handlers on a subshell thread
with a loop of its own. A loop in a dedicated thread keeps polling whatever the kernel does,
works the same in a plain script, and lets a blocking call wait on a
:class:`concurrent.futures.Future` without re-entering any running loop (no nest-asyncio).

>>> from mountsea_widgets._runner import get_runner
>>> async def answer() -> int:
...     return 42
>>> get_runner().run(answer())
42
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

log = logging.getLogger("mountsea_widgets.runner")

#: How many recent task failures :attr:`Runner.failures` keeps.
MAX_KEPT_FAILURES = 50


class RunnerThreadError(RuntimeError):
    """A blocking call was made on the runner's own thread, where it would wait forever."""


class Ticker:
    """A callable run every ``interval`` seconds on the runner loop until :meth:`stop`."""

    def __init__(self, task: asyncio.Task[None], loop: asyncio.AbstractEventLoop) -> None:
        self._task = task
        self._loop = loop

    def stop(self) -> None:
        """Stop ticking (safe from any thread, idempotent)."""
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._task.cancel)

    @property
    def running(self) -> bool:
        """False once stopped or once the callable raised."""
        return not self._task.done()


class Runner:
    """An asyncio loop running forever in a daemon thread; submit coroutines from any thread.

    Every submitted coroutine runs as a task on that loop. Its outcome lands in the returned
    :class:`concurrent.futures.Future`; an exception is *also* passed to ``on_error`` (or, when
    none is given, logged and kept in :attr:`failures`) so it is never silently lost.
    """

    def __init__(self, name: str = "mountsea-runner") -> None:
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._pid = os.getpid()
        self.failures: deque[BaseException] = deque(maxlen=MAX_KEPT_FAILURES)
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()
        self._started.wait()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(self._started.set)
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    # --- introspection ------------------------------------------------------------------------

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The runner's event loop (use only from coroutines running on it)."""
        return self._loop

    @property
    def thread(self) -> threading.Thread:
        """The daemon thread that runs the loop."""
        return self._thread

    @property
    def alive(self) -> bool:
        """True while the loop thread runs in this process (False after a fork or shutdown)."""
        return self._thread.is_alive() and os.getpid() == self._pid and not self._loop.is_closed()

    def on_runner_thread(self) -> bool:
        """Whether the caller is running on the runner's own thread."""
        return threading.current_thread() is self._thread

    # --- scheduling ---------------------------------------------------------------------------

    def submit(
        self,
        coro: Coroutine[Any, Any, T],
        *,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> concurrent.futures.Future[T]:
        """Run ``coro`` on the runner loop; returns a thread-safe future of its result.

        Cancelling the future cancels the task. If the coroutine raises, ``on_error`` is called
        with the exception (on the runner thread); without ``on_error`` the exception is logged
        and kept in :attr:`failures`. Cancellation is not an error.
        """
        if not self.alive:
            coro.close()
            raise RuntimeError("the mountsea runner has stopped; call get_runner() for a new one")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        future.add_done_callback(lambda done: self._report(done, on_error))
        return future

    def _report(
        self,
        future: concurrent.futures.Future[Any],
        on_error: Callable[[BaseException], None] | None,
    ) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if error is None or on_error is _already_raised:
            return
        self.failures.append(error)
        if on_error is None:
            log.warning("background task failed: %s: %s", type(error).__name__, error)
            return
        try:
            on_error(error)
        except Exception:
            # The error handler itself broke: the original error must still be seen somewhere.
            log.exception("error handler failed while reporting %r", error)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the runner loop and block the calling thread until it finishes.

        Works inside a notebook cell (the kernel's own loop is never re-entered). Raises
        :class:`RunnerThreadError` when called from the runner thread itself, and
        :class:`TimeoutError` (after cancelling the task) when ``timeout`` seconds pass.
        An interrupt (Ctrl-C / the kernel's stop button) cancels the task too.
        """
        if self.on_runner_thread():
            coro.close()
            raise RunnerThreadError(
                "Runner.run() was called on the runner's own thread, where it would wait for "
                "itself forever; use 'await' (or Runner.submit) from coroutines on the runner."
            )
        future = self.submit(coro, on_error=_already_raised)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(
                f"not finished after {timeout:g} s; the task was cancelled"
            ) from None
        except BaseException:
            # KeyboardInterrupt (and anything else that stops our wait) also stops the task.
            future.cancel()
            raise

    async def arun(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` from any event loop while it runs on the runner loop.

        ``await runner.arun(...)`` in a notebook keeps the kernel's loop free; cancelling the
        awaiting task cancels the runner task.
        """
        if self.on_runner_thread():
            return await coro
        return await asyncio.wrap_future(self.submit(coro, on_error=_already_raised))

    def call_soon(self, callback: Callable[..., Any], *args: Any) -> None:
        """Call ``callback(*args)`` on the runner thread as soon as possible."""
        self._loop.call_soon_threadsafe(callback, *args)

    def every(self, interval: float, callback: Callable[[], Any]) -> Ticker:
        """Call ``callback()`` on the runner loop every ``interval`` seconds until stopped.

        If the callback raises, ticking stops and the exception is kept in :attr:`failures`.
        """

        async def tick() -> None:
            while True:
                await asyncio.sleep(interval)
                callback()

        created: concurrent.futures.Future[Ticker] = concurrent.futures.Future()

        def start() -> None:
            task = self._loop.create_task(tick())
            task.add_done_callback(self._report_task)
            created.set_result(Ticker(task, self._loop))

        if self.on_runner_thread():
            start()
        else:
            self._loop.call_soon_threadsafe(start)
        return created.result()

    def _report_task(self, task: asyncio.Task[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            assert error is not None
            self.failures.append(error)
            log.warning("periodic callback stopped: %s: %s", type(error).__name__, error)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Cancel every task, stop the loop and join the thread (tests and interpreter exit)."""
        if not self.alive:
            return

        async def cancel_all() -> None:
            current = asyncio.current_task()
            tasks = [t for t in asyncio.all_tasks() if t is not current]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            asyncio.run_coroutine_threadsafe(cancel_all(), self._loop).result(timeout)
        except Exception:
            log.debug("runner tasks did not all stop in %s s", timeout)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)

    def __repr__(self) -> str:
        state = "running" if self.alive else "stopped"
        return f"<Runner {self._thread.name} {state}>"


def _already_raised(error: BaseException) -> None:
    """on_error for futures whose caller receives the exception itself (run/arun)."""


_runner: Runner | None = None
_runner_lock = threading.Lock()


def get_runner() -> Runner:
    """The process-wide :class:`Runner`, started on first use (again after a fork)."""
    global _runner
    with _runner_lock:
        if _runner is None or not _runner.alive:
            _runner = Runner()
        return _runner
