"""The Studio in a real kernel, used the way its page uses it.

The simulator runs inside the kernel; the test sends the page's messages (the typed prompt,
Generate, rows) with ``comm_msg`` on the shell channel, then checks both what the page would
hold (the view's state rebuilt from IOPub, and the custom messages with their buffers) and
what the Studio holds in the kernel (read back with a cell).
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from tests.helpers.views import comm_message

# The driver and model types come from this folder's conftest.py (fixtures, not imports).
KernelDriver = Any
WidgetModel = Any

pytestmark = [pytest.mark.kernel, pytest.mark.timeout(120)]

SETUP = """
import json, time
from mountsea_widgets import simulator
from mountsea_widgets.client import AsyncClient
from mountsea_widgets.history import History
from mountsea_widgets._polling import PollSchedule
from mountsea_widgets.widgets.studio import Studio

SPEED = 30.0

class FastClient(AsyncClient):
    # Poll on the simulator's accelerated time scale.
    def poll_schedule(self, model):
        return PollSchedule(expected_s=self.expected_seconds(model) / SPEED, floor_s=0.02)

def make_studio(faults=None, folder="history"):
    hub = simulator.serve(speed=SPEED, faults=faults)
    made = Studio("nano-banana", client=FastClient(base_url=hub.url), history=History(folder))
    display(made)
    return made

def report(s):
    return json.dumps([s._record(card) for card in s.cards])

HUB = simulator.serve(speed=SPEED)
"""


def _json(kernel: KernelDriver, expression: str) -> Any:
    return json.loads(kernel.execute(f"print({expression})").stdout)


def _send(kernel: KernelDriver, view_id: str, kind: str, **content: Any) -> Any:
    """Send the page message ``{"type": kind, ...}`` the way the page's comm does."""
    message = comm_message(SimpleNamespace(model_id=view_id), kind, **content)
    return kernel.comm_msg(message["comm_id"], message["data"])


def _custom(
    kernel: KernelDriver, view_id: str, kind: str
) -> list[tuple[dict[str, Any], list[bytes]]]:
    """The custom messages of type ``kind`` the view sent its page so far (with buffers)."""
    found = []
    for message in kernel.log:
        content = message["content"]
        if message["msg_type"] != "comm_msg" or content.get("comm_id") != view_id:
            continue
        data = content.get("data", {})
        if data.get("method") == "custom" and data.get("content", {}).get("type") == kind:
            found.append((data["content"], [bytes(b) for b in message.get("buffers", [])]))
    return found


def _recent(kernel: KernelDriver, view_id: str) -> list[dict[str, Any]]:
    """The newest runs' records as the page's model holds them."""
    return list(kernel.models[view_id].state.get("recent", []))


def _with_status(kernel: KernelDriver, view_id: str, status: str) -> list[dict[str, Any]]:
    return [record for record in _recent(kernel, view_id) if record["status"] == status]


def _ended(kernel: KernelDriver, view_id: str) -> list[tuple[dict[str, Any], list[bytes]]]:
    """The "run" messages that brought a finished run's card (and thumbnails)."""
    return [(c, b) for c, b in _custom(kernel, view_id, "run") if c["record"]["final"]]


@pytest.fixture(scope="module")
def studio(kernel: KernelDriver) -> str:
    kernel.execute(SETUP)
    view_id: str = _json(kernel, "json.dumps((studio := make_studio()).model_id)")
    _send(kernel, view_id, "form", values={"prompt": "a lighthouse at dusk"})
    return view_id


def test_the_studio_answers_the_page_and_is_one_model(kernel: KernelDriver, studio: str) -> None:
    _send(kernel, studio, "hello")
    kernel.wait_for(lambda: bool(_custom(kernel, studio, "hello")), what="the hello answer")
    kernel.wait_for(
        lambda: kernel.models[studio].state.get("can_generate") is True, what="Generate on"
    )
    views = [m for m in kernel.models.values() if m.state.get("_model_name") == "AnyModel"]
    assert len(views) == 1 and len(kernel.models) <= 10


def test_click_runs_to_completion_while_the_kernel_is_idle(
    kernel: KernelDriver, studio: str
) -> None:
    assert kernel.models[studio].state["can_generate"] is True  # the typing enabled Generate
    _send(kernel, studio, "generate")
    mark = len(kernel.log)

    # No request is sent now: only IOPub is read, so the kernel is idle the whole time.
    kernel.wait_for(
        lambda: len(_with_status(kernel, studio, "completed")) == 1, what="a completed card"
    )
    kernel.wait_for(lambda: len(_ended(kernel, studio)) == 1, what="a thumbnail for the page")
    assert all(m["msg_type"] != "execute_input" for m in kernel.log[mark:])
    (content, buffers) = _ended(kernel, studio)[0]
    assert content["record"]["thumbs"] == [0] and buffers[0][:2] == b"\xff\xd8"
    assert len(buffers[0]) < 64_000

    rows = _json(kernel, "report(studio)")
    assert len(rows) == 1
    assert rows[0]["status"] == "completed", rows[0]["error"]
    assert rows[0]["images"] == 1 and rows[0]["task"].startswith("hub-")


def test_the_page_asks_for_rows_and_gets_thumbnails(kernel: KernelDriver, studio: str) -> None:
    _send(kernel, studio, "rows", start=0, stop=10, have=[])
    kernel.wait_for(lambda: bool(_custom(kernel, studio, "rows")), what="the rows answer")
    (content, buffers) = _custom(kernel, studio, "rows")[-1]
    assert [row["status"] for row in content["rows"]] == ["completed"]
    assert content["rows"][0]["thumbs"] == [0] and buffers[0][:2] == b"\xff\xd8"


def test_a_run_completes_while_another_cell_blocks(kernel: KernelDriver, studio: str) -> None:
    _send(kernel, studio, "generate")
    reply = kernel.execute(
        "time.sleep(5)\nprint(json.dumps([r.status for r in studio.runs]))", timeout=60
    )
    # Read right after the blocking call, before the kernel's loop ran again.
    assert json.loads(reply.stdout) == ["completed", "completed"]
    # And the page was told while the cell still slept: the update came before the output.
    updates = [
        index
        for index, m in enumerate(reply.messages)
        if m["msg_type"] == "comm_msg"
        and m["content"]["data"].get("method") == "custom"
        and m["content"]["data"]["content"].get("type") == "run"
        and m["content"]["data"]["content"]["record"]["final"]
    ]
    output = next(index for index, m in enumerate(reply.messages) if m["msg_type"] == "stream")
    assert updates and updates[0] < output
    rows = _json(kernel, "report(studio)")
    assert rows[0]["images"] == 1


def test_two_runs_at_once_both_complete(kernel: KernelDriver, studio: str) -> None:
    _send(kernel, studio, "form", values={"prompt": "two ships passing"})
    _send(kernel, studio, "generate")
    _send(kernel, studio, "generate")
    kernel.wait_for(
        lambda: len(_with_status(kernel, studio, "completed")) == 4, what="four completed"
    )
    kernel.wait_for(lambda: len(_ended(kernel, studio)) == 4, what="four thumbnails")

    rows = _json(kernel, "report(studio)")
    assert [row["status"] for row in rows] == ["completed"] * 4
    newest = rows[:2]
    assert all(row["images"] == 1 for row in newest)
    assert newest[0]["task"] != newest[1]["task"]
    assert [row["prompt"] for row in newest] == ["two ships passing"] * 2
    assert kernel.models[studio].state["run_count"] == 4


def test_a_failing_run_shows_its_error_on_its_card(kernel: KernelDriver) -> None:
    view_id = _json(
        kernel,
        "json.dumps((failing := make_studio('task_failed=1.0', 'history-failing')).model_id)",
    )
    _send(kernel, view_id, "form", values={"prompt": "this one fails <b>loudly</b>"})
    _send(kernel, view_id, "generate")
    kernel.wait_for(lambda: len(_with_status(kernel, view_id, "failed")) == 1, what="a failed card")
    (record,) = _with_status(kernel, view_id, "failed")
    assert "SIMULATED_FAILURE" in record["error"]
    assert record["images"] == 0
    assert record["prompt"] == "this one fails <b>loudly</b>"  # text: the page never parses it


def test_generate_blocks_in_a_cell_and_agenerate_awaits_at_top_level(
    kernel: KernelDriver,
) -> None:
    """Both run on the runner: no 'event loop is already running', no nest-asyncio."""
    blocking = kernel.execute(
        "import sys, mountsea_widgets as mw\n"
        "result = mw.generate('nano-banana', 'a kite', client=FastClient(base_url=HUB.url))\n"
        "print(json.dumps([result.status, len(result.image_bytes), result.simulated]))"
    )
    assert json.loads(blocking.stdout) == ["completed", 1, True]
    awaited = kernel.execute(
        "result = await mw.agenerate('nano-banana', 'a boat', num_images=2,"
        " client=FastClient(base_url=HUB.url))\n"
        "print(json.dumps([result.status, len(result.image_bytes), 'nest_asyncio' in sys.modules]))"
    )
    assert json.loads(awaited.stdout) == ["completed", 2, False]


def test_nothing_was_lost_on_the_way(kernel: KernelDriver) -> None:
    """No traceback, no "Task exception was never retrieved", no runner failure."""
    stderr = "".join(
        m["content"]["text"]
        for m in kernel.log
        if m["msg_type"] == "stream" and m["content"]["name"] == "stderr"
    )
    assert "never retrieved" not in stderr and "Traceback" not in stderr
    assert not [m for m in kernel.log if m["msg_type"] == "error"]
    failures = "json.dumps([repr(e) for e in get_runner().failures])"
    kernel.execute("from mountsea_widgets._runner import get_runner")
    assert _json(kernel, failures) == []
