"""The runner: one background loop that keeps going whatever the calling thread does."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from typing import Any

import pytest

from mountsea_widgets._runner import Runner, RunnerThreadError, get_runner


async def _answer(value: int) -> int:
    await asyncio.sleep(0)
    return value


async def _boom(message: str) -> None:
    await asyncio.sleep(0)
    raise ValueError(message)


def test_run_returns_the_result_and_runs_on_the_runner_thread(runner: Runner) -> None:
    async def where() -> str:
        return threading.current_thread().name

    assert runner.run(_answer(42)) == 42
    assert runner.run(where()) == "mountsea-runner-test"


def test_run_raises_the_coroutines_exception_in_the_caller(runner: Runner) -> None:
    with pytest.raises(ValueError, match="bad input"):
        runner.run(_boom("bad input"))
    # The caller got it, so it is not also reported as a lost background failure.
    assert list(runner.failures) == []


def test_runs_continue_while_the_calling_thread_blocks(runner: Runner) -> None:
    """The loop needs nothing from the caller: a blocked caller does not stall the task."""
    steps: list[int] = []
    finished = threading.Event()
    release = threading.Event()

    async def work() -> None:
        for step in range(20):
            steps.append(step)
            await asyncio.sleep(0.001)
        finished.set()
        # Wait for the caller to come back: proves the task ran to here before that.
        while not release.is_set():
            await asyncio.sleep(0.001)

    future = runner.submit(work())
    # A blocking call, like time.sleep() in a notebook cell: this thread does nothing else.
    assert finished.wait(timeout=10), "the runner did not advance while the caller was blocked"
    assert steps == list(range(20))
    assert not future.done()
    release.set()
    future.result(timeout=10)


def test_run_from_the_runner_thread_is_refused_with_a_clear_error(runner: Runner) -> None:
    async def nested() -> Any:
        return runner.run(_answer(1))

    with pytest.raises(RunnerThreadError, match="own thread"):
        runner.run(nested())


def test_exceptions_become_visible_through_on_error(runner: Runner) -> None:
    seen: list[BaseException] = []
    reported = threading.Event()

    def on_error(error: BaseException) -> None:
        seen.append(error)
        reported.set()

    future = runner.submit(_boom("lost?"), on_error=on_error)
    assert reported.wait(timeout=10)
    assert isinstance(seen[0], ValueError) and str(seen[0]) == "lost?"
    assert future.exception() is seen[0]
    assert list(runner.failures) == [seen[0]]


def test_exceptions_without_a_handler_are_logged_and_kept(
    runner: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="mountsea_widgets.runner"):
        future = runner.submit(_boom("nobody listens"))
        with pytest.raises(ValueError):
            future.result(timeout=10)
        runner.run(_answer(0))  # the done-callback has run by the time the loop serves this
    assert [str(e) for e in runner.failures] == ["nobody listens"]
    assert "nobody listens" in caplog.text


def test_no_task_exception_is_left_unretrieved(runner: Runner) -> None:
    """asyncio's "Task exception was never retrieved" must never fire for runner tasks."""
    complaints: list[dict[str, Any]] = []
    runner.loop.call_soon_threadsafe(
        runner.loop.set_exception_handler, lambda _loop, context: complaints.append(context)
    )
    futures = [runner.submit(_boom(f"failure {n}"), on_error=lambda _e: None) for n in range(5)]
    for future in futures:
        future.exception(timeout=10)
    del futures
    gc.collect()
    runner.run(_answer(0))
    gc.collect()
    assert complaints == []


def test_cancelling_the_future_cancels_the_task(runner: Runner) -> None:
    started = threading.Event()
    cancelled = threading.Event()

    async def forever() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    future = runner.submit(forever())
    assert started.wait(timeout=10)
    assert future.cancel()
    assert cancelled.wait(timeout=10)
    assert list(runner.failures) == []


def test_run_with_a_timeout_cancels_the_task(runner: Runner) -> None:
    cancelled = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError, match="cancelled"):
        runner.run(forever(), timeout=0.05)
    assert cancelled.wait(timeout=10)


def test_arun_awaits_from_another_event_loop(runner: Runner) -> None:
    async def caller() -> tuple[int, bool]:
        value = await runner.arun(_answer(7))
        return value, runner.on_runner_thread()

    assert asyncio.run(caller()) == (7, False)


def test_arun_on_the_runner_thread_awaits_directly(runner: Runner) -> None:
    async def inner() -> int:
        return await runner.arun(_answer(3))

    assert runner.run(inner()) == 3


def test_every_ticks_until_stopped(runner: Runner) -> None:
    ticks: list[str] = []
    three = threading.Event()

    def tick() -> None:
        ticks.append(threading.current_thread().name)
        if len(ticks) >= 3:
            three.set()

    ticker = runner.every(0.001, tick)
    assert three.wait(timeout=10)
    ticker.stop()
    runner.run(_answer(0))
    runner.run(_answer(0))
    count = len(ticks)
    runner.run(asyncio.sleep(0.01))
    assert len(ticks) == count
    assert not ticker.running
    assert set(ticks) == {"mountsea-runner-test"}


def test_a_failing_periodic_callback_stops_and_is_kept(runner: Runner) -> None:
    def tick() -> None:
        raise RuntimeError("tick broke")

    ticker = runner.every(0.001, tick)
    runner.run(asyncio.sleep(0.05))
    assert not ticker.running
    assert any(str(e) == "tick broke" for e in runner.failures)


def test_get_runner_is_one_shared_runner() -> None:
    first = get_runner()
    assert get_runner() is first
    assert first.alive
    assert "running" in repr(first)


def test_a_stopped_runner_refuses_new_work() -> None:
    own = Runner()
    own.shutdown()
    assert not own.alive
    coro = _answer(1)
    with pytest.raises(RuntimeError, match="stopped"):
        own.submit(coro)
