"""Run state and execute(): statuses, the journal order, failures, cancel, resume, save, code.

The hub is the simulator core behind an in-process transport with a manual clock: the
client's sleeps advance that clock, so a "35 s" run finishes at once and elapsed times are exact.
"""

from __future__ import annotations

import ast
import asyncio
import sys
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from mountsea_widgets import simulator
from mountsea_widgets._runner import Runner
from mountsea_widgets.client import AsyncClient
from mountsea_widgets.history import History
from mountsea_widgets.metadata import read_metadata
from mountsea_widgets.run import (
    Run,
    execute,
    generation_code,
    run_from_entry,
    save_run,
    start,
)
from mountsea_widgets.simulator import Hub, ManualClock
from tests.helpers.images import solid_png


class Journal(History):
    """The real History, also noting the order of the calls (shared with the client below)."""

    def __init__(self, folder: Path, calls: list[str]) -> None:
        super().__init__(folder)
        self.calls = calls

    def start(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append("history.start")
        super().start(*args, **kwargs)

    def submitted(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append("history.submitted")
        super().submitted(*args, **kwargs)

    def images(self, run_id: str, images: list[tuple[bytes, str]]) -> list[Path]:
        self.calls.append("history.images")
        return super().images(run_id, images)

    def finished(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append("history.finished")
        super().finished(*args, **kwargs)


class Hubside:
    """A simulated hub on a manual clock and an AsyncClient whose sleeps move that clock."""

    def __init__(self, calls: list[str] | None = None, **hub_options: Any) -> None:
        self.clock = ManualClock(start=1_000_000.0)
        self.hub = Hub(clock=self.clock, **hub_options)
        self.calls = calls if calls is not None else []
        clock = self.clock
        calls_ = self.calls

        async def sleep(seconds: float) -> None:
            clock.advance(seconds)
            await asyncio.sleep(0)

        class Recording(AsyncClient):
            async def submit(self, model: str, input: Any) -> str:
                calls_.append("client.submit")
                return await super().submit(model, input)

            async def wait(self, task_id: str, **kwargs: Any) -> Any:
                calls_.append("client.wait")
                return await super().wait(task_id, **kwargs)

        self.client = Recording(
            base_url="http://hub.test",
            transport=simulator.transport(self.hub),
            sleep=sleep,
            clock=clock,
        )


def _run(model: str = "nano-banana", clock: Any = None, **input: Any) -> Run:
    return Run(model, {"prompt": "a red cube", **input}, clock=clock or (lambda: 5000.0))


def test_execute_completes_and_journals_the_task_id_before_polling(tmp_path: Path) -> None:
    calls: list[str] = []
    side = Hubside(calls)
    history = Journal(tmp_path / "history", calls)
    run = _run(clock=side.clock, num_images=2)
    statuses: list[str] = []
    run.observe(lambda r: statuses.append(r.status))

    asyncio.run(execute(run, side.client, history, tick_s=0.001))

    assert run.status == "completed", run.error
    assert calls == [
        "history.start",
        "client.submit",
        "history.submitted",
        "client.wait",
        "history.images",
        "history.finished",
    ]
    assert statuses[0] == "submitting" and statuses[-1] == "completed"
    assert "pending" in statuses
    assert run.task_id and run.task_id.startswith("hub-")
    assert run.result is not None and len(run.result.image_bytes) == 2
    assert run.elapsed_s > 0
    entry = history.get(run.run_id)
    assert (entry.status, entry.task_id) == ("completed", run.task_id)
    assert [path.exists() for path in entry.files] == [True, True]
    assert run.files == entry.files


def test_a_failed_task_becomes_visible_state(tmp_path: Path) -> None:
    side = Hubside(faults="task_failed=1.0")
    history = History(tmp_path / "history")
    run = _run(clock=side.clock)

    asyncio.run(execute(run, side.client, history, tick_s=0.001))

    assert run.status == "failed"
    assert run.error is not None and "SIMULATED_FAILURE" in run.error
    assert run.result is None
    entry = history.get(run.run_id)
    assert entry.status == "failed" and entry.task_id == run.task_id
    assert "SIMULATED_FAILURE" in (entry.error or "")


def test_invalid_input_is_an_error_naming_the_parameter_and_nothing_is_sent() -> None:
    side = Hubside()
    run = _run(clock=side.clock, num_images=9)

    asyncio.run(execute(run, side.client, None, tick_s=0.001))

    assert run.status == "error"
    assert run.error is not None and "num_images" in run.error
    assert run.task_id is None
    assert side.hub.stats.submitted == 0


def test_a_run_cancelled_before_it_starts_still_settles(runner: Runner) -> None:
    busy = threading.Event()
    release = threading.Event()

    def block() -> None:  # holds the runner loop so the run cannot start yet
        busy.set()
        release.wait(timeout=20)

    runner.call_soon(block)
    assert busy.wait(timeout=10)
    run = Run("nano-banana", {"prompt": "never sent"})
    start(run, Hubside().client, None, runner=runner)
    assert run.cancel()
    release.set()

    assert run.wait(timeout=10)
    assert run.status == "cancelled"
    assert run.task_id is None
    assert "before the hub confirmed" in (run.error or "")


def test_a_run_with_a_task_id_is_resumed_not_submitted_again(tmp_path: Path) -> None:
    side = Hubside()
    history = History(tmp_path / "history")
    first = _run(clock=side.clock)
    history.start(first.run_id, first.model, first.input, 1.0)

    async def submit_only() -> str:
        return await side.client.submit(first.model, first.input)

    task_id = asyncio.run(submit_only())
    history.submitted(first.run_id, task_id)
    entry = history.get(first.run_id)
    assert entry.is_pending

    resumed = run_from_entry(entry)
    assert (resumed.status, resumed.task_id) == ("pending", task_id)
    resumed.clock = side.clock
    asyncio.run(execute(resumed, side.client, history, tick_s=0.001))

    assert resumed.status == "completed", resumed.error
    assert side.hub.stats.submitted == 1
    assert history.get(first.run_id).status == "completed"


def test_run_from_entry_maps_journal_states() -> None:
    def entry(**fields: Any) -> Any:
        base = dict(
            run_id="r1",
            model="nano-banana",
            input={"prompt": "x"},
            task_id=None,
            status="completed",
            created=10.0,
            finished=12.0,
            elapsed_s=2.0,
            error=None,
            files=[],
        )
        base.update(fields)
        return SimpleNamespace(**base)

    done = run_from_entry(entry())
    assert (done.status, done.done, done.elapsed_s, done.started) == ("completed", True, 2.0, 10.0)
    assert done.wait(0)
    lost = run_from_entry(entry(status="created", finished=None))
    assert lost.status == "interrupted" and lost.done
    assert "never reached the hub" in (lost.error or "")
    waiting = run_from_entry(entry(status="submitted", task_id="hub-1", finished=None))
    assert waiting.status == "pending" and not waiting.done


def test_a_final_status_is_final() -> None:
    run = _run()
    run.update(status="completed")
    run.update(status="processing", elapsed_s=3.0)  # a late poll
    assert run.status == "completed"
    with pytest.raises(ValueError, match="unknown run status"):
        _run().update(status="nearly")
    with pytest.raises(AttributeError):
        _run().update(colour="red")


def test_a_broken_observer_does_not_break_the_run() -> None:
    run = _run()
    seen: list[str] = []

    def broken(_run: Run) -> None:
        raise RuntimeError("view broke")

    run.observe(broken)
    unsubscribe = run.observe(lambda r: seen.append(r.status))
    run.update(status="pending")
    unsubscribe()
    run.update(status="processing")
    assert seen == ["pending"] and run.status == "processing"


def test_changed_params_are_those_that_differ_from_the_defaults() -> None:
    run = Run(
        "nano-banana",
        {"prompt": "p", "num_images": 1, "aspect_ratio": "16:9", "seed": 4},
    )
    assert run.changed_params() == {"aspect_ratio": "16:9", "seed": 4}


@pytest.mark.parametrize(
    "input",
    [
        {"prompt": "a cat", "seed": 3, "aspect_ratio": "16:9"},
        {"prompt": "quotes ' \" and\nnewlines \\ {braces}", "num_images": 2},
        {"prompt": "x", "image_size": {"width": 1536, "height": 1024}, "sync_mode": True},
    ],
)
def test_generation_code_is_valid_python_that_repeats_the_input(input: dict[str, Any]) -> None:
    code = generation_code("gpt-image-2" if "image_size" in input else "nano-banana", input)
    tree = ast.parse(code)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert len(calls) == 1
    call = calls[0]
    assert ast.unparse(call.func) == "mw.generate"
    assert ast.literal_eval(call.args[1]) == input["prompt"]
    keywords = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    assert keywords == {k: v for k, v in input.items() if k != "prompt"}


def test_save_run_writes_images_with_metadata_inside_the_folder(tmp_path: Path) -> None:
    side = Hubside()
    run = _run(clock=side.clock, num_images=2)
    asyncio.run(execute(run, side.client, None, tick_s=0.001))
    run.task_id = "../../escape/../me"  # hostile ids must not move files out of the folder

    paths = save_run(run, tmp_path / "out")

    assert len(paths) == 2
    for path in paths:
        assert path.parent == tmp_path / "out"
        meta = read_metadata(path)
        assert meta["model"] == "nano-banana" and meta["input"]["prompt"] == "a red cube"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in paths)


def test_to_dict_summarises_the_run() -> None:
    run = _run(seed=5)
    run.update(status="pending", task_id="hub-9", elapsed_s=1.23456)
    assert run.to_dict() == {
        "run_id": run.run_id,
        "model": "nano-banana",
        "input": {"prompt": "a red cube", "seed": 5},
        "status": "pending",
        "task_id": "hub-9",
        "started": 5000.0,
        "elapsed_s": 1.235,
        "expected_s": 6.0,
        "error": None,
        "images": 0,
    }
    assert repr(run) == f"<Run {run.run_id} nano-banana pending task=hub-9 1.2s>"


def test_elapsed_ticks_while_the_run_waits() -> None:
    """The periodic updater refreshes elapsed_s (from the run's clock) while nothing else moves."""
    from mountsea_widgets.errors import TaskFailedError

    class StalledClient:
        def __init__(self) -> None:
            self.release = asyncio.Event()

        async def submit(self, model: str, input: Any) -> str:
            await self.release.wait()
            return "hub-stalled"

        async def wait(self, task_id: str, **kwargs: Any) -> Any:
            raise TaskFailedError(task_id, "STOP", "stopped by the test")

    now = [100.0]

    def clock() -> float:
        return now[0]

    run = Run("nano-banana", {"prompt": "tick"}, clock=clock)
    seen: list[float] = []
    run.observe(lambda r: seen.append(r.elapsed_s))

    async def scenario() -> None:
        client = StalledClient()
        task = asyncio.ensure_future(execute(run, client, None, tick_s=0.001))  # type: ignore[arg-type]
        while not seen:  # execute() has started (and stamped run.started = 100.0)
            await asyncio.sleep(0.001)
        for step in (1.5, 3.0):
            now[0] = 100.0 + step
            while run.elapsed_s != step:
                await asyncio.sleep(0.001)
        assert run.status == "submitting"
        client.release.set()
        await task

    asyncio.run(scenario())
    assert 1.5 in seen and 3.0 in seen
    assert run.status == "failed" and "stopped by the test" in (run.error or "")


def test_the_hubs_own_task_time_is_journalled_for_poll_timing(tmp_path: Path) -> None:
    side = Hubside()
    history = History(tmp_path / "history")
    run = _run(clock=side.clock)

    asyncio.run(execute(run, side.client, history, tick_s=0.001))

    assert run.status == "completed", run.error
    assert run.task_id is not None
    hub_seconds = side.hub.task(run.task_id).duration
    # The person waited longer (the poll after the finish, the download) than the hub worked;
    # polling learns from the hub's time.
    assert run.elapsed_s > hub_seconds + 0.01
    assert History(tmp_path / "history").recent_durations("nano-banana") == [
        pytest.approx(hub_seconds, abs=0.001)
    ]


# --- nothing lost: a task whose outcome we did not get stays pending, paid images are kept -----


def _resume(history: History, run: Run, side: Hubside) -> Run:
    """What Resume (or the next Studio) does: rebuild the run from its entry and poll it again."""
    entry = history.get(run.run_id)
    assert entry.is_pending, f"{entry.status} {entry.finished}"
    again = run_from_entry(entry)
    again.clock = side.clock
    asyncio.run(execute(again, side.client, history, tick_s=0.001))
    return again


def test_an_image_that_will_not_download_keeps_the_task_to_download_again(tmp_path: Path) -> None:
    from mountsea_widgets.client import IMAGE_NOT_FOUND_RETRIES

    # Every image URL answers 404 a few more times than one wait retries: the first wait gives
    # up on the download, the resumed one gets it.
    side = Hubside(faults=f"image_404_first={IMAGE_NOT_FOUND_RETRIES + 2}")
    history = History(tmp_path / "history")
    run = _run(clock=side.clock)

    asyncio.run(execute(run, side.client, history, tick_s=0.001))

    assert (run.status, run.resumable) == ("error", True)
    assert run.error is not None and "404" in run.error and run.task_id in run.error
    again = _resume(history, run, side)
    assert again.status == "completed", again.error
    assert side.hub.stats.submitted == 1
    entry = history.get(run.run_id)
    assert entry.status == "completed" and [p.exists() for p in entry.files] == [True]


def test_images_that_arrived_before_another_failed_are_kept_at_once(tmp_path: Path) -> None:
    import httpx

    side = Hubside()
    inner = simulator.transport(side.hub)
    cdn_down = threading.Event()
    cdn_down.set()

    class SecondImageDown(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if cdn_down.is_set() and request.url.path.endswith("/1.png"):
                return httpx.Response(502, request=request)
            return await inner.handle_async_request(request)

    async def sleep(seconds: float) -> None:
        side.clock.advance(seconds)
        await asyncio.sleep(0)

    flaky = AsyncClient(
        base_url="http://hub.test", transport=SecondImageDown(), sleep=sleep, clock=side.clock
    )
    history = History(tmp_path / "history")
    run = _run(clock=side.clock, num_images=4)

    asyncio.run(execute(run, flaky, history, tick_s=0.001))

    assert (run.status, run.resumable) == ("error", True)
    kept = history.get(run.run_id).files
    assert len(kept) == 3 and all(path.exists() for path in kept)
    assert run.files == kept

    cdn_down.clear()
    again = _resume(history, run, side)
    assert again.status == "completed", again.error
    entry = history.get(run.run_id)
    assert len(entry.files) == 4 and set(kept) <= set(entry.files)
    assert side.hub.stats.submitted == 1


def test_an_unreadable_poll_answer_keeps_the_task(tmp_path: Path) -> None:
    side = Hubside(faults="malformed=1.0")
    history = History(tmp_path / "history")
    run = _run(clock=side.clock)

    asyncio.run(execute(run, side.client, history, tick_s=0.001))

    assert (run.status, run.resumable) == ("error", True)
    assert "InvalidResponseError" in (run.error or "")
    entry = history.get(run.run_id)
    assert entry.is_pending and entry.task_id == run.task_id


def test_our_own_deadline_keeps_the_task_for_a_later_resume(tmp_path: Path) -> None:
    side = Hubside()
    history = History(tmp_path / "history")
    run = Run("nano-banana", {"prompt": "a red cube"}, clock=side.clock, deadline_s=1.0)

    asyncio.run(execute(run, side.client, history, tick_s=0.001))

    assert (run.status, run.resumable) == ("timeout", True)
    assert "may still finish" in (run.error or "")
    again = _resume(history, run, side)
    assert again.status == "completed", again.error
    assert side.hub.stats.submitted == 1


def test_images_the_history_cannot_save_are_shown_and_downloaded_again_later(
    tmp_path: Path,
) -> None:
    side = Hubside()
    history = History(tmp_path / "history")
    blocker = history.folder / "images"
    blocker.write_bytes(b"not a folder")  # the images folder cannot be made
    run = _run(clock=side.clock)

    asyncio.run(execute(run, side.client, history, tick_s=0.001))

    assert run.status == "completed" and run.result is not None
    assert run.result.image_count == 1 and run.files == []
    assert any("stays pending" in warning for warning in run.warnings)
    assert history.get(run.run_id).finished is None  # not "completed" with no file

    blocker.unlink()
    again = _resume(history, run, side)
    assert again.status == "completed", again.error
    entry = history.get(run.run_id)
    assert entry.status == "completed" and [p.exists() for p in entry.files] == [True]
    assert side.hub.stats.submitted == 1


def test_images_written_before_a_later_one_fails_are_journalled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mountsea_widgets.history._store as history_module  # where images are written

    history = History(tmp_path / "history")
    history.start("r1", "nano-banana", {"prompt": "x"})
    history.submitted("r1", "hub-1")
    real_write = history_module._write_atomic
    written: list[Path] = []

    def disk_full_after_one(path: Path, data: bytes, **kwargs: Any) -> None:
        if written:
            raise OSError(28, "No space left on device")
        real_write(path, data, **kwargs)
        written.append(path)

    monkeypatch.setattr(history_module, "_write_atomic", disk_full_after_one)
    png = solid_png("red", (4, 4))
    with pytest.raises(OSError, match="No space"):
        history.images("r1", [(png, "image/png"), (png + b"\0", "image/png")])

    assert history.get("r1").files == written


def test_a_callbacks_error_still_names_the_task(tmp_path: Path) -> None:
    side = Hubside()

    def broken(_: Any) -> None:
        raise RuntimeError("callback bug")

    for hook in ("on_submitted", "on_status"):
        with pytest.raises(RuntimeError, match="callback bug") as caught:
            asyncio.run(side.client.generate("nano-banana", "a red cube", **{hook: broken}))
        task_id = caught.value.task_id  # type: ignore[attr-defined]
        assert task_id.startswith("hub-")
        if sys.version_info >= (3, 11):  # exception notes exist from 3.11 on
            assert any(f"client.wait({task_id!r})" in n for n in caught.value.__notes__)
    assert side.hub.stats.submitted == 2


def test_what_a_run_learns_after_a_cancel_is_kept() -> None:
    run = _run()
    run.update(status="cancelled", error="Cancelled before the hub confirmed the task.")
    run.update(task_id="hub-late", status="pending")  # the POST's answer, after the cancel
    assert (run.status, run.task_id) == ("cancelled", "hub-late")

    result = SimpleNamespace(image_count=1)
    run.update(result=result, files=[Path("a.png")], status="completed")  # a paid image
    assert (run.status, run.result, run.files) == ("completed", result, [Path("a.png")])

    run.update(status="processing", elapsed_s=3.0)  # a late poll changes nothing
    assert run.status == "completed" and run.elapsed_s == 0.0


def test_a_cancel_while_the_images_are_kept_does_not_drop_them(
    tmp_path: Path, runner: Runner
) -> None:
    keeping = threading.Event()
    release = threading.Event()

    class SlowDisk(History):
        def images(self, run_id: str, images: list[tuple[bytes, str]]) -> list[Path]:
            keeping.set()
            assert release.wait(timeout=20)
            return super().images(run_id, images)

    side = Hubside()
    history = SlowDisk(tmp_path / "history")
    run = _run(clock=side.clock)
    completed = threading.Event()
    run.observe(lambda r: completed.set() if r.status == "completed" else None)
    start(run, side.client, history, runner=runner, tick_s=0.01)
    assert keeping.wait(timeout=20)

    assert run.cancel()
    assert run.status == "cancelled"  # at once, for the person who clicked
    release.set()

    assert completed.wait(timeout=20)  # then the paid image arrives after all
    assert run.status == "completed" and run.result is not None
    assert run.error is None  # the cancel no longer describes the run
    entry = history.get(run.run_id)
    assert entry.status == "completed" and [p.exists() for p in entry.files] == [True]


def test_the_model_is_journalled_with_the_task_id(tmp_path: Path) -> None:
    history = History(tmp_path / "history")
    history.submitted("r1", "hub-1", "nano-banana-pro")  # its start record was never written

    entry = history.get("r1")
    assert (entry.model, entry.task_id, entry.is_pending) == ("nano-banana-pro", "hub-1", True)
    assert run_from_entry(entry).model == "nano-banana-pro"
