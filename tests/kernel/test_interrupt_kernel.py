"""Ctrl-C (the kernel's stop button) during a blocking ``mw.generate()`` in a real kernel.

The interrupt is the real one: ``KernelManager.interrupt_kernel()`` sends SIGINT to the kernel
while the cell blocks on a task that would take minutes. The cell must end at once with a
KeyboardInterrupt that names the task, the task id must be in the history, and the kernel (and
its runner) must keep working.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mountsea_widgets.history import History

KernelDriver = Any

pytestmark = [pytest.mark.kernel, pytest.mark.timeout(120)]

SETUP = """
import json, mountsea_widgets as mw
from mountsea_widgets import simulator
SLOW = simulator.serve(speed=0.02)   # nano-banana takes about five minutes here
FAST = simulator.serve(speed=100)
"""


def _history(kernel: KernelDriver) -> History:
    # The kernel fixture points MOUNTSEA_HISTORY_DIR at <base>/history, beside its work folder.
    return History(Path(kernel.work).parent / "history")


def test_ctrl_c_stops_a_blocking_generate_at_once_and_keeps_the_task_id(
    kernel: KernelDriver,
) -> None:
    kernel.execute(SETUP)
    history = _history(kernel)
    before = {entry.run_id for entry in history.entries()}

    msg_id = kernel.client.execute(
        "mw.generate('nano-banana', 'a very slow boat', client=mw.AsyncClient(base_url=SLOW.url))",
        store_history=False,
    )

    def submitted() -> bool:
        return any(e.task_id for e in history.entries() if e.run_id not in before)

    # Wait (reading IOPub only) until the task id is on disk: the cell is now blocked polling.
    kernel.wait_for(submitted, timeout=30, what="the task id in the history")
    (entry,) = [e for e in history.entries() if e.run_id not in before]
    assert entry.task_id is not None and entry.status == "submitted"

    kernel.manager.interrupt_kernel()
    # The task would take minutes: ending within this bound proves the interrupt was prompt.
    reply = kernel._until_idle(msg_id, timeout=10)

    assert reply.error is not None
    assert reply.error.startswith("KeyboardInterrupt: stopped waiting for nano-banana task")
    assert entry.task_id in reply.error and "mw.Client().wait(" in reply.error

    # The history keeps the task id, and says the wait was stopped (the hub may still bill).
    kernel.wait_for(
        lambda: history.get(entry.run_id).status == "cancelled",
        timeout=10,
        what="the run recorded as cancelled",
    )
    kept = history.get(entry.run_id)
    assert kept.task_id == entry.task_id
    assert kept.error is not None and entry.task_id in kept.error

    # The kernel and its runner are fine: the next blocking generate completes.
    after = kernel.execute(
        "result = mw.generate('nano-banana', 'a quick boat',"
        " client=mw.AsyncClient(base_url=FAST.url))\n"
        "print(json.dumps([result.status, len(result.image_bytes)]))"
    )
    assert json.loads(after.stdout) == ["completed", 1]
    failures = kernel.execute(
        "from mountsea_widgets._runner import get_runner\n"
        "print(json.dumps([repr(e) for e in get_runner().failures]))"
    )
    assert json.loads(failures.stdout) == []


def test_ctrl_c_in_a_mountsea_cell_stops_it_and_the_cells_queued_after_it(
    kernel: KernelDriver,
) -> None:
    kernel.execute(
        SETUP + "%load_ext mountsea_widgets\n"
        "from mountsea_widgets import magics\n"
        "magics.client_factory = lambda: mw.AsyncClient(base_url=SLOW.url)\n"
    )
    history = _history(kernel)
    before = {entry.run_id for entry in history.entries()}

    magic = kernel.client.execute("%%mountsea nano-banana\na very slow boat", store_history=False)
    queued = kernel.client.execute("print('the queued cell ran')", store_history=False)
    kernel.wait_for(
        lambda: any(e.task_id for e in history.entries() if e.run_id not in before),
        timeout=30,
        what="the task id in the history",
    )
    (entry,) = [e for e in history.entries() if e.run_id not in before]

    kernel.manager.interrupt_kernel()
    reply = kernel._until_idle(magic, timeout=10)

    assert reply.error is not None
    assert reply.error.startswith("KeyboardInterrupt: stopped waiting for nano-banana task")
    assert entry.task_id is not None and entry.task_id in reply.error
    # The kernel drops what was queued behind the stopped cell (Run All stops there).
    status = None
    for _ in range(50):
        answer = kernel.client.get_shell_msg(timeout=10)
        if answer["parent_header"].get("msg_id") == queued:
            status = answer["content"]["status"]
            break
    assert status == "aborted"
    assert "the queued cell ran" not in "".join(
        m["content"].get("text", "") for m in kernel.log if m["msg_type"] == "stream"
    )
    kernel.execute("magics.client_factory = None")
