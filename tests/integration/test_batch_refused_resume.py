"""A batch killed (SIGKILL) while a cell waits out the hub's 429: running it again sends that
cell again, and the hub accepts each cell exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import mountsea_widgets as mw
from mountsea_widgets import simulator
from mountsea_widgets.history import History
from mountsea_widgets.simulator.hub import ROUTE_SUBMIT
from tests.helpers.simulated_client import FastClient

ROOT = Path(__file__).resolve().parents[2]
PROMPTS = ["accepted at once", "refused, then killed"]

_BATCH_SCRIPT = """
import json, sys
import mountsea_widgets as mw
from tests.helpers.simulated_client import FastClient

url, folder = sys.argv[1], sys.argv[2]
job = mw.batch(
    prompts=json.loads(sys.argv[3]),
    models=["nano-banana"],
    client=FastClient(base_url=url),
    history=folder,
    batch_id="refused",
    concurrency=2,
)
job.wait()
"""


class JumpClock:
    """The simulator's clock: frozen (no task finishes, no submit token comes back) until
    :meth:`jump` moves it ``seconds`` on, from where it runs."""

    def __init__(self) -> None:
        self._offset: float | None = None
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            if self._offset is None:
                return 1000.0
            return time.monotonic() + self._offset

    def jump(self, seconds: float) -> None:
        with self._lock:
            self._offset = 1000.0 + seconds - time.monotonic()


def _journal(folder: Path) -> list[dict[str, Any]]:
    path = folder / "journal.jsonl"
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue  # a line being written
    return records


def _wait_for(condition: Any, what: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the batch process ended before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"never saw {what}")
        time.sleep(0.02)


def test_a_cell_killed_while_waiting_out_a_429_is_sent_again_and_accepted_once(
    tmp_path: Path,
) -> None:
    clock = JumpClock()
    folder = tmp_path / "history"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HOME": str(tmp_path / "home"),
        "MOUNTSEA_HISTORY_DIR": str(tmp_path / "standard-history"),
    }
    env.pop("MOUNTSEA_API_KEY", None)
    # One submit token, the next one 100 s away on a frozen clock: the second cell is refused
    # and its process waits out the hub's Retry-After when it is killed.
    with simulator.serve(speed=200, clock=clock, limits="submit_rate=0.01") as hub:
        process = subprocess.Popen(
            [sys.executable, "-c", _BATCH_SCRIPT, hub.url, str(folder), json.dumps(PROMPTS)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:

            def one_accepted_one_refused() -> bool:
                ops = Counter(str(r.get("op")) for r in _journal(folder))
                return ops["submitted"] == 1 and ops["refused"] == 1

            _wait_for(one_accepted_one_refused, "a task id and a refusal in the journal", process)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        assert process.returncode == -signal.SIGKILL
        assert hub.stats.submitted == 1
        assert hub.stats.faults["submit_limit"] == 1
        killed = History(folder)
        (refused,) = killed.refused_runs()
        assert refused.prompt == PROMPTS[1] and refused.task_id is None
        assert len(killed.pending()) == 1
        assert not any(r.get("op") == "sending" for r in _journal(folder))

        clock.jump(1000.0)  # the token is back; the accepted cell's task has finished
        job = mw.batch(
            prompts=PROMPTS,
            models=["nano-banana"],
            client=FastClient(base_url=hub.url),
            history=folder,
            batch_id="refused",
            concurrency=2,
        ).wait(120)

        assert len(job.resumed) == 2 and job.new == []
        assert job.counts() == {"completed": 2}
        assert hub.stats.submitted == 2  # the refused cell, accepted once
        assert hub.stats.requests[ROUTE_SUBMIT] == 3  # 1 accepted + 1 refused + 1 resent
        sent = Counter(str(hub.hub.task(t).input["prompt"]) for t in hub.hub.task_ids)
        assert sent == Counter(PROMPTS)  # zero duplicate submits
        reread = History(folder)
        assert {e.status for e in reread.entries()} == {"completed"}
        assert reread.refused_runs() == [] and reread.pending() == []
