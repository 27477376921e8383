"""The Studio in a real kernel, clicked the way JupyterLab clicks it.

The simulator runs inside the kernel; the test types the prompt and clicks Generate with
``comm_msg`` on the shell channel, then checks both what the page would hold (the widget
models rebuilt from IOPub) and what the widgets hold in the kernel (read back with a cell).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

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
    rows = []
    for run, cell in zip(s.runs, s.cells):
        thumbs = [
            w for box in cell.gallery.thumbs.children for w in getattr(box, "children", ())
            if "mountsea-thumb" in w._dom_classes
        ]
        rows.append({
            "status": run.status,
            "task_id": run.task_id,
            "error": run.error,
            "images": cell.gallery.count,
            "thumb_formats": [t.format for t in thumbs],
            "thumb_bytes": [len(t.value) for t in thumbs],
            "status_html": cell.status.value,
            "error_html": cell.error.value,
        })
    return json.dumps(rows)

HUB = simulator.serve(speed=SPEED)

def ids(s):
    return json.dumps({
        "generate": s.generate_button.model_id,
        "prompt": s.form.controls["prompt"].text.model_id,
    })
"""


def _json(kernel: KernelDriver, expression: str) -> Any:
    return json.loads(kernel.execute(f"print({expression})").stdout)


def _cells(kernel: KernelDriver, status: str) -> list[WidgetModel]:
    return [
        model
        for model in kernel.with_class("mountsea-history-cell")
        if f"mountsea-status-{status}" in model.classes
    ]


def _children(kernel: KernelDriver, model: WidgetModel) -> list[WidgetModel]:
    ids = [str(ref).removeprefix("IPY_MODEL_") for ref in model.state.get("children", ())]
    return [kernel.models[i] for i in ids if i in kernel.models]


def _thumbs(kernel: KernelDriver) -> list[WidgetModel]:
    """Thumbnails the page shows: JPEG Image models inside a gallery's thumbnail row."""
    return [
        image
        for row in kernel.with_class("mountsea-thumbs")
        for box in _children(kernel, row)
        for image in _children(kernel, box)
        if "mountsea-thumb" in image.classes and image.buffers.get("value")
    ]


@pytest.fixture(scope="module")
def studio(kernel: KernelDriver) -> dict[str, str]:
    kernel.execute(SETUP)
    widget_ids: dict[str, str] = _json(kernel, "ids(studio := make_studio())")
    kernel.type_into(widget_ids["prompt"], "a lighthouse at dusk")
    return widget_ids


def test_click_runs_to_completion_while_the_kernel_is_idle(
    kernel: KernelDriver, studio: dict[str, str]
) -> None:
    generate = kernel.models[studio["generate"]]
    assert generate.state["disabled"] is False  # the page saw Generate enabled by the typing
    kernel.click(studio["generate"])
    mark = len(kernel.log)

    # No request is sent now: only IOPub is read, so the kernel is idle the whole time.
    kernel.wait_for(lambda: len(_cells(kernel, "completed")) == 1, what="a completed cell")
    kernel.wait_for(lambda: len(_thumbs(kernel)) == 1, what="a thumbnail on the page")
    assert all(m["msg_type"] != "execute_input" for m in kernel.log[mark:])
    thumb = _thumbs(kernel)[0]
    assert thumb.state["format"] == "jpeg" and thumb.buffers["value"][:2] == b"\xff\xd8"

    rows = _json(kernel, "report(studio)")
    assert len(rows) == 1
    assert rows[0]["status"] == "completed", rows[0]["error"]
    assert rows[0]["images"] == 1 and rows[0]["thumb_formats"] == ["jpeg"]
    assert "completed" in rows[0]["status_html"]
    assert rows[0]["task_id"].startswith("hub-")


def test_a_run_completes_while_another_cell_blocks(
    kernel: KernelDriver, studio: dict[str, str]
) -> None:
    kernel.click(studio["generate"])
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
        and "mountsea-status-completed"
        in m["content"]["data"].get("state", {}).get("_dom_classes", ())
    ]
    output = next(index for index, m in enumerate(reply.messages) if m["msg_type"] == "stream")
    assert updates and updates[0] < output
    rows = _json(kernel, "report(studio)")
    assert rows[0]["images"] == 1


def test_two_runs_at_once_both_complete(kernel: KernelDriver, studio: dict[str, str]) -> None:
    kernel.type_into(studio["prompt"], "two ships passing")
    kernel.click(studio["generate"])
    kernel.click(studio["generate"])
    kernel.wait_for(lambda: len(_cells(kernel, "completed")) == 4, what="four completed cells")
    kernel.wait_for(lambda: len(_thumbs(kernel)) == 4, what="four thumbnails")

    rows = _json(kernel, "report(studio)")
    assert [row["status"] for row in rows] == ["completed"] * 4
    newest = rows[:2]
    assert all(row["images"] == 1 for row in newest)
    assert newest[0]["task_id"] != newest[1]["task_id"]
    assert (
        _json(kernel, "json.dumps([r.prompt for r in studio.runs[:2]])")
        == ["two ships passing"] * 2
    )


def test_a_failing_run_shows_its_error_in_its_cell(kernel: KernelDriver) -> None:
    widget_ids = _json(kernel, "ids(failing := make_studio('task_failed=1.0', 'history-failing'))")
    kernel.type_into(widget_ids["prompt"], "this one fails <b>loudly</b>")
    kernel.click(widget_ids["generate"])
    kernel.wait_for(lambda: len(_cells(kernel, "failed")) == 1, what="a failed cell")
    kernel.wait_for(
        lambda: any(
            "SIMULATED_FAILURE" in str(m.state.get("value", ""))
            for m in kernel.with_class("mountsea-error")
        ),
        what="the error on the page",
    )

    rows = _json(kernel, "report(failing)")
    assert len(rows) == 1
    assert rows[0]["status"] == "failed"
    assert "SIMULATED_FAILURE" in rows[0]["error_html"]
    assert rows[0]["images"] == 0
    prompt_html = _json(kernel, "json.dumps(failing.cells[0].prompt.value)")
    assert "&lt;b&gt;loudly&lt;/b&gt;" in prompt_html


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
