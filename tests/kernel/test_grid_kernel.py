"""The comparison grid in a real kernel, talked to the way its page talks to it.

The simulator runs inside the kernel. The test sends the page's messages (``hello``,
``confirm``, ``thumbs``, ``page``) as ``comm_msg`` on the shell channel and reads IOPub as the
page would: the grid's synced state, its custom messages with thumbnail buffers, and the
fallback output rewritten as cells finish.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

KernelDriver = Any  # the driver comes from this folder's conftest.py (a fixture)

pytestmark = [pytest.mark.kernel, pytest.mark.timeout(180)]

SETUP = """
import json, os
os.environ["MOUNTSEA_CONFIRM_ABOVE"] = "0.01"
import mountsea_widgets as mw
from mountsea_widgets import simulator
from mountsea_widgets._polling import PollSchedule

class FastClient(mw.AsyncClient):
    def poll_schedule(self, model):
        return PollSchedule(expected_s=self.expected_seconds(model) / 100, floor_s=0.02)

GRID_HUB = simulator.serve(speed=100)
paged = mw.compare("a lighthouse", models=["nano-banana-2"],
                   vary={"aspect_ratio": ["1:1", "16:9"], "seed": [1],
                         "resolution": ["0.5K", "1K"]},
                   client=FastClient(base_url=GRID_HUB.url), history=False, confirm="ask")
display(paged)
print(json.dumps({"grid": paged.widget.model_id}))
"""


def _custom(kernel: KernelDriver, comm_id: str, kind: str) -> list[tuple[dict[str, Any], list]]:
    found = []
    for message in kernel.log:
        if message["msg_type"] != "comm_msg" or message["content"]["comm_id"] != comm_id:
            continue
        data = message["content"].get("data", {})
        content = data.get("content") or {}
        if data.get("method") == "custom" and content.get("type") == kind:
            found.append((content, [bytes(b) for b in message.get("buffers", [])]))
    return found


def _send(kernel: KernelDriver, comm_id: str, kind: str, **content: Any) -> None:
    kernel.comm_msg(comm_id, {"method": "custom", "content": {"type": kind, **content}})


def test_an_asked_paged_grid_runs_on_the_page_s_click_and_sends_thumbnails(
    kernel: KernelDriver,
) -> None:
    ids = json.loads(kernel.execute(SETUP).stdout.strip().splitlines()[-1])
    grid_id = ids["grid"]
    model = kernel.models[grid_id]
    assert model.state["pages"] == ["resolution = 0.5K", "resolution = 1K"]
    assert model.state["confirm"].startswith("Run this grid?")
    assert [cell["status"] for cell in model.state["cells"]] == ["queued", "queued"]

    _send(kernel, grid_id, "hello")
    kernel.wait_for(lambda: bool(_custom(kernel, grid_id, "hello")), what="the hello answer")
    _send(kernel, grid_id, "confirm")  # the Run button
    kernel.wait_for(
        lambda: model.state.get("progress") == {"done": 4, "total": 4},
        timeout=120,
        what="every page's cells to finish",
    )
    assert model.state["confirm"] == ""
    kernel.wait_for(
        lambda: len(_custom(kernel, grid_id, "thumb")) == 2, what="the shown page's thumbnails"
    )
    for content, buffers in _custom(kernel, grid_id, "thumb"):
        assert content["index"] in (0, 1) and buffers[0][:2] == b"\xff\xd8"
        assert len(buffers[0]) <= 64 * 1024

    _send(kernel, grid_id, "page", page=1)
    kernel.wait_for(lambda: model.state.get("page") == 1, what="the second page")
    assert [cell["index"] for cell in model.state["cells"]] == [2, 3]
    (answer, buffers) = _custom(kernel, grid_id, "thumbs")[-1]
    assert [item["index"] for item in answer["thumbs"]] == [2, 3] and len(buffers) == 2

    # The saved copy beside the view was rewritten with the finished grid.
    kernel.wait_for(
        lambda: any(
            m["msg_type"] == "update_display_data"
            and "data:image/jpeg;base64," in m["content"]["data"].get("text/html", "")
            and "4 of 4 done" in m["content"]["data"]["text/html"]
            for m in kernel.log
        ),
        timeout=30,
        what="the fallback output to show the finished grid",
    )
    kernel.execute("GRID_HUB.close()")
