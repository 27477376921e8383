"""The hub draws a task's images in the background from the moment the task is created, so a
poll never draws: when the simulated duration is over, the images are ready to serve (or the
poll waits for the drawing still under way, then answers ``completed`` with them)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from mountsea_widgets.simulator import Hub, ManualClock
from mountsea_widgets.simulator import render as render_module
from mountsea_widgets.simulator.hub import Request, Task

#: Generous: the background drawing of a small picture on a busy machine.
WAIT_S = 120.0


class Drawings:
    """Counts every picture the simulator renders, with the thread that rendered it."""

    def __init__(self) -> None:
        self.threads: list[str] = []
        self.gate = threading.Event()
        self.gate.set()
        self.events: list[str] = []
        self._real = render_module.render

    def render(self, *args: Any, **kwargs: Any) -> bytes:
        assert self.gate.wait(WAIT_S), "the test never opened the gate"
        data = self._real(*args, **kwargs)
        self.threads.append(threading.current_thread().name)
        self.events.append("drawn")
        return data


@pytest.fixture
def drawings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Drawings]:
    counter = Drawings()
    monkeypatch.setattr(render_module, "render", counter.render)
    yield counter
    counter.gate.set()


@pytest.fixture
def hub() -> Iterator[Hub]:
    core = Hub(clock=ManualClock(), seed=5)
    yield core
    core.close()


def submit(hub: Hub, **input: Any) -> Task:
    body = json.dumps({"model": "nano-banana", "input": {"prompt": "a cube", **input}}).encode()
    reply = hub.handle(Request("POST", "/hub/v1/image", body=body))
    assert reply.status == 200, reply.body
    return hub.task(json.loads(reply.body)["task_id"])


def poll(hub: Hub, task: Task) -> dict[str, Any]:
    reply = hub.handle(Request("GET", f"/hub/v1/tasks/{task.id}"))
    assert reply.status == 200
    body: dict[str, Any] = json.loads(reply.body)
    return body


def test_images_are_drawn_in_the_background_at_submit_not_on_the_poll(
    hub: Hub, drawings: Drawings
) -> None:
    task = submit(hub, seed=1, num_images=2)
    # The clock has not moved: only the background workers can have drawn these.
    for event in task.drawn:
        assert event.wait(WAIT_S)
    assert len(drawings.threads) == 2
    assert all(name.startswith("simulator-render") for name in drawings.threads)
    assert poll(hub, task)["status"] == "pending"

    hub.clock.advance(task.duration)  # type: ignore[attr-defined]
    body = poll(hub, task)
    assert body["status"] == "completed" and body["ready"] is True
    for image in body["data"]["images"]:
        path = image["url"].split("simulator.invalid", 1)[1]
        served = hub.handle(Request("GET", path))
        assert served.status == 200 and served.body.startswith(b"\x89PNG")
    # Neither the poll nor serving the files drew anything.
    assert len(drawings.threads) == 2


def test_a_poll_after_the_duration_waits_for_a_drawing_still_under_way(
    hub: Hub, drawings: Drawings, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawings.gate.clear()  # the background drawing cannot finish yet
    task = submit(hub, seed=2)
    hub.clock.advance(task.duration)  # type: ignore[attr-defined]

    real_wait = hub._await_drawings

    def wait_then_release(waited: Task) -> None:
        # The poll has decided the task is over: only now may the drawing finish.
        drawings.gate.set()
        real_wait(waited)

    monkeypatch.setattr(hub, "_await_drawings", wait_then_release)
    answers: list[dict[str, Any]] = []

    def poll_and_record() -> None:
        answers.append(poll(hub, task))
        drawings.events.append("answered")

    poller = threading.Thread(target=poll_and_record)
    poller.start()
    poller.join(WAIT_S)
    drawings.gate.set()
    assert not poller.is_alive()
    assert drawings.events == ["drawn", "answered"]
    assert answers[0]["status"] == "completed"
    assert len(answers[0]["data"]["images"]) == 1


def test_a_closed_hub_still_answers_and_serves_a_task_it_did_not_draw(drawings: Drawings) -> None:
    hub = Hub(clock=ManualClock(), seed=5)
    drawings.gate.clear()  # the workers are stuck until the hub is closed
    task = submit(hub, seed=3)
    hub.close()
    drawings.gate.set()
    hub.clock.advance(task.duration)  # type: ignore[attr-defined]
    body = poll(hub, task)
    assert body["status"] == "completed"
    path = body["data"]["images"][0]["url"].split("simulator.invalid", 1)[1]
    assert hub.handle(Request("GET", path)).status == 200
