"""Does the notebook stay responsive with 64 runs in flight?

A real kernel (jupyter_client, like JupyterLab) runs ``mw.compare`` with 4 models x 16 seeds
and ``concurrency=64`` against a simulator at realistic speed (in another process), and
displays the grid, so every status change, elapsed tick, download, thumbnail and history
write happens in the kernel exactly as in a notebook. Meanwhile we time ``REQUESTS`` trivial
execute requests (``pass``), one at a time, a little apart, from sending the request to
receiving its reply, over ~11 s from the moment all 64 runs have their task ids: the first
~30 (nano-banana, nano-banana-2) finish during the measurement, so the heavy part of a finish
(download, verification, thumbnail, history write, widget updates) is measured too.
IOPub is read all along in a thread, as a page would.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyter_client.manager import KernelManager

from tests.helpers.environment import isolated_folders

from .hubs import running_hub
from .report import Figure, at_most, info, percentile

SECTION = "responsiveness"
REQUESTS = 100
#: Seconds between the end of one request and the next one.
GAP_S = 0.1
FINAL = frozenset({"completed", "failed", "timeout", "cancelled", "error", "interrupted"})

START = """
import mountsea_widgets as mw
grid = mw.compare(
    "a lighthouse at dusk, watercolor",
    models=["nano-banana", "nano-banana-2", "nano-banana-pro", "gpt-image-2"],
    seeds=list(range(16)),
    concurrency=64,
)
grid
"""

#: Blocks until every run has its task id: from then on all 64 are in flight.
ALL_SUBMITTED = """
import time
while sum(1 for c in grid.cells if c.run is not None and c.run.task_id) < 64:
    time.sleep(0.02)
"""

REPORT = """
import json
print(json.dumps([
    [cell.run.started, cell.run.started + cell.run.elapsed_s, cell.run.status]
    for cell in grid.cells if cell.run is not None and cell.started
]))
grid.cancel()
"""


class _IOPubReader(threading.Thread):
    """Reads IOPub all the time (as the page does), counting messages."""

    def __init__(self, client: Any) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.messages = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.client.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                continue
            self.messages += 1


def _execute(client: Any, code: str, timeout: float = 60.0) -> dict[str, Any]:
    """Send ``code``; return its execute_reply (other shell messages are skipped)."""
    msg_id = client.execute(code, store_history=False)
    deadline = time.monotonic() + timeout
    while True:
        reply: dict[str, Any] = client.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply


def _output(client: Any, code: str) -> str:
    """Run ``code`` and return what it printed (read from IOPub by a temporary reader)."""
    msg_id = client.execute(code, store_history=False)
    printed = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        message = client.get_iopub_msg(timeout=60)
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        if message["msg_type"] == "stream":
            printed.append(message["content"]["text"])
        if message["msg_type"] == "error":
            raise RuntimeError("\n".join(message["content"]["traceback"]))
        if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            return "".join(printed)
    raise TimeoutError("no answer from the kernel")


def measure(url: str) -> tuple[list[float], list[float], list[list[Any]], int]:
    """(round trips in s, their send times, every run's [start, end, status], IOPub count)."""
    with tempfile.TemporaryDirectory(prefix="mountsea-bench-kernel-") as folder:
        env = dict(os.environ)
        env.update(isolated_folders(Path(folder)))
        env["MOUNTSEA_BASE_URL"] = url
        env["MOUNTSEA_HISTORY_DIR"] = str(Path(folder) / "history")
        env.pop("MOUNTSEA_API_KEY", None)
        manager = KernelManager(kernel_name="python3")
        # stderr: the kernel's "running over TCP without encryption" warning is noise here.
        manager.start_kernel(env=env, cwd=folder, stderr=subprocess.DEVNULL)
        client = manager.client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=60)
            _output(client, "import mountsea_widgets, ipywidgets, PIL, httpx")  # warm imports
            reader = _IOPubReader(client)
            reader.start()
            for code in (START, ALL_SUBMITTED):
                reply = _execute(client, code)
                if reply["content"]["status"] != "ok":
                    raise RuntimeError(f"the comparison failed: {reply['content']}")
            trips, sent = [], []
            for _ in range(REQUESTS):
                time.sleep(GAP_S)
                sent.append(time.time())
                began = time.perf_counter()
                _execute(client, "pass")
                trips.append(time.perf_counter() - began)
            reader.stopped.set()
            reader.join()
            runs = json.loads(_output(client, REPORT).strip().splitlines()[-1])
            return trips, sent, runs, reader.messages
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)


def run(print_line: Callable[[str], None]) -> list[Figure]:
    """Measure; the target is p99 <= 50 ms with 64 runs in flight."""
    with running_hub(speed=1.0, seed=5) as url:
        trips, sent, runs, messages = measure(url)
    # A run still going at the report has an end of "not yet" (its elapsed_s only ticks).
    ends = [end if status in FINAL else float("inf") for _, end, status in runs]
    in_flight = [
        sum(1 for (start, _, _), end in zip(runs, ends, strict=True) if start <= t < end)
        for t in sent
    ]
    finished = sum(1 for _, end, status in runs if status == "completed" and end <= sent[-1])
    ms = [trip * 1000 for trip in trips]
    print_line(
        f"  {len(trips)} round trips over {sent[-1] - sent[0]:.1f} s; runs in flight "
        f"{max(in_flight)} at most, {min(in_flight)} at least; {finished} runs finished "
        f"meanwhile; {messages} IOPub messages read"
    )
    print_line(
        f"  round trip p50 {percentile(ms, 0.5):.1f} ms, p99 {percentile(ms, 0.99):.1f} ms, "
        f"max {max(ms):.1f} ms"
    )
    if max(in_flight) < 64:
        raise RuntimeError(f"only {max(in_flight)} runs were ever in flight at once (want 64)")
    return [
        info(SECTION, "trivial cell round trip p50", percentile(ms, 0.5), "ms"),
        at_most(SECTION, "trivial cell round trip p99", percentile(ms, 0.99), "ms", 50),
    ]
