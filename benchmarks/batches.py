"""A big batch against a provider's limits, a SIGKILL half way, and the resume.

The simulator runs in its own process at high speed with the limits of the target
(``submit_rate=20,poll_rate=100``: 429 + Retry-After beyond them). A fresh interpreter runs
``mw.batch`` over ``RUNS`` prompts (default 10,000; ``python -m benchmarks --only batches
--batch-runs 500`` or ``MOUNTSEA_BENCH_BATCH_RUNS=500`` for a quick check) and reports
its time and memory; the journal says what was submitted and how every run ended. Then the
same batch in a new history: killed (SIGKILL) once half its cells are submitted, and run
again, which must complete it without submitting anything twice.

Figures: sustained submits per second (target ≥ 90 % of the limit), runs lost, runs
submitted twice, runs failed because of 429s (each target 0), RSS growth (≤ 200 MB), the time
to open that history, and the time until the resumed batch submits again. After the kill, the
cells that were waiting out a 429 are sent again (the journal says the hub refused them); only
a cell killed with its request on the wire, unanswered, stays interrupted (never resent: the
hub may have accepted it).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .hubs import running_hub
from .report import Figure, at_most, info

SECTION = "batches"
#: Runs in the batch (the target's 10,000 unless ``MOUNTSEA_BENCH_BATCH_RUNS`` says otherwise).
RUNS = 10_000


def runs() -> int:
    """The batch's size: ``MOUNTSEA_BENCH_BATCH_RUNS`` when set (``--batch-runs``), else RUNS."""
    text = os.environ.get("MOUNTSEA_BENCH_BATCH_RUNS", "").strip()
    if not text:
        return RUNS
    count = int(text)
    if count < 2:
        raise ValueError(f"MOUNTSEA_BENCH_BATCH_RUNS must be a whole number >= 2, got {text!r}")
    return count


SUBMIT_LIMIT = 20.0
LIMITS = f"submit_rate={SUBMIT_LIMIT:g},poll_rate=100"
#: Simulator speed: nano-banana's ~6 s become ~6 ms (the limits, not the tasks, set the pace).
SPEED = 1000.0
#: Tasks in flight the batch allows.
CONCURRENCY = 32

_CHILD = """
import gc, json, sys, time
from benchmarks.memory import rss_bytes
import mountsea_widgets as mw
from mountsea_widgets._polling import PollSchedule
from mountsea_widgets.client import AsyncClient

url, folder = sys.argv[1], sys.argv[2]
runs, speed, concurrency = int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])

class Fast(AsyncClient):
    def poll_schedule(self, model):
        return PollSchedule(expected_s=self.expected_seconds(model) / speed, floor_s=0.02)

gc.collect()
before = rss_bytes()
began = time.monotonic()
# The smallest pictures the models offer: what is measured is the batch's pacing, not how fast
# this machine paints and encodes images (the pictures benchmark measures that).
job = mw.batch(prompts=[f"benchmark prompt {i}" for i in range(runs)], models=["nano-banana-2"],
               params={"resolution": "0.5K", "output_format": "jpeg"},
               client=Fast(base_url=url), history=folder, batch_id="bench",
               concurrency=concurrency, confirm=True)
started = {"event": "started", "new": len(job.new), "resumed": len(job.resumed)}
print(json.dumps(started), flush=True)
job.wait()
seconds = time.monotonic() - began
gc.collect()
print(json.dumps({"event": "done", "seconds": seconds, "counts": job.counts(),
                  "rss_growth": rss_bytes() - before, "refusals": job.pacer.refusals}), flush=True)
"""


def _journal(folder: Path) -> list[dict[str, Any]]:
    path = folder / "journal.jsonl"
    if not path.is_file():
        return []
    records = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
    return records


def _child(url: str, folder: Path, count: int) -> subprocess.Popen[str]:
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    env.pop("MOUNTSEA_API_KEY", None)
    command = [sys.executable, "-c", _CHILD, url, str(folder), str(count), f"{SPEED:g}"]
    return subprocess.Popen(
        [*command, str(CONCURRENCY)], stdout=subprocess.PIPE, text=True, env=env, cwd=root
    )


def _outcome(process: subprocess.Popen[str]) -> dict[str, Any]:
    assert process.stdout is not None
    done: dict[str, Any] = {}
    for line in process.stdout:
        event = json.loads(line)
        if event.get("event") == "done":
            done = event
    process.wait()
    return done


class _Tail:
    """The submitted run ids of a journal being written, read incrementally (re-reading a
    journal of 10,000 runs every few milliseconds would steal the batch's CPU)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.submitted: set[str] = set()
        self._offset = 0
        self._partial = b""

    def read(self) -> set[str]:
        """Read what was appended since the last call; returns the submitted run ids."""
        try:
            with self.path.open("rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return self.submitted
        self._offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()  # a line still being written
        for line in lines:
            if b'"submitted"' not in line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("op") == "submitted":
                self.submitted.add(str(record["run_id"]))
        return self.submitted


def _refused_at_kill(records: list[dict[str, Any]]) -> int:
    """Runs whose last record says the hub refused their submit (safe to send again)."""
    last: dict[str, str] = {}
    for record in records:
        last[str(record.get("run_id"))] = str(record.get("op"))
    return sum(1 for op in last.values() if op == "refused")


def _submits(records: list[dict[str, Any]]) -> Counter[str]:
    return Counter(str(r["run_id"]) for r in records if r.get("op") == "submitted")


def run(say: Callable[[str], None]) -> list[Figure]:
    """Both phases; returns the figures."""
    figures: list[Figure] = []
    count = runs()
    with (
        tempfile.TemporaryDirectory(prefix="mountsea-bench-batch-") as base,
        running_hub(speed=SPEED, limits=LIMITS) as url,
    ):
        folder = Path(base) / "history"
        say(f"   {count} runs against {LIMITS} …")
        done = _outcome(_child(url, folder, count))
        records = _journal(folder)
        submits = _submits(records)
        ended = {str(r["run_id"]): r for r in records if r.get("op") == "finished"}
        completed = sum(1 for r in ended.values() if r.get("status") == "completed")
        failed_429 = sum(
            1
            for r in ended.values()
            if "429" in str(r.get("error")) or "RateLimit" in str(r.get("error"))
        )
        rate = len(submits) / done["seconds"] if done.get("seconds") else 0.0
        figures.append(
            Figure(
                SECTION,
                "sustained submits",
                rate,
                "/s",
                f">= {0.9 * SUBMIT_LIMIT:g} /s",
                rate >= 0.9 * SUBMIT_LIMIT,
                f"{len(submits)} submits in {done.get('seconds', 0):.0f} s; "
                f"{done.get('refusals', 0)} refused by the hub and sent again",
            )
        )
        figures.append(at_most(SECTION, "runs lost", count - completed, "runs", 0))
        figures.append(
            at_most(
                SECTION, "runs submitted twice", sum(n > 1 for n in submits.values()), "runs", 0
            )
        )
        figures.append(at_most(SECTION, "runs failed because of 429s", failed_429, "runs", 0))
        growth = float(done.get("rss_growth", 0)) / 1e6
        figures.append(at_most(SECTION, f"RSS growth over {count} runs", growth, "MB", 200))
        from mountsea_widgets.history import History

        began = time.monotonic()
        History(folder).entries()
        figures.append(
            info(
                SECTION, f"open a history of {count} runs", (time.monotonic() - began) * 1000, "ms"
            )
        )

        killed = Path(base) / "killed"
        first = _child(url, killed, count)
        tail = _Tail(killed / "journal.jsonl")
        while len(tail.read()) < count // 2 and first.poll() is None:
            time.sleep(0.1)
        first.send_signal(signal.SIGKILL)
        first.wait()
        at_kill = _journal(killed)
        before = set(_submits(at_kill))
        waiting = _refused_at_kill(at_kill)
        say(f"   killed after {len(before)} submits ({waiting} waiting out a 429); resuming …")
        began = time.monotonic()
        second = _child(url, killed, count)
        resumed_after = float("nan")
        while second.poll() is None:
            if tail.read() - before:
                resumed_after = time.monotonic() - began
                break
            time.sleep(0.02)
        _outcome(second)
        records = _journal(killed)
        submits = _submits(records)
        statuses = Counter(str(r.get("status")) for r in records if r.get("op") == "finished")
        started = {str(r["run_id"]) for r in records if r.get("op") == "start"}
        finished = {str(r["run_id"]) for r in records if r.get("op") == "finished"}
        statuses["interrupted"] = len(started - finished - set(submits))
        figures.append(
            at_most(
                SECTION,
                "after the kill: runs submitted twice",
                sum(n > 1 for n in submits.values()),
                "runs",
                0,
            )
        )
        figures.append(
            info(
                SECTION,
                "after the kill: runs completed",
                statuses["completed"],
                "runs",
                f"{waiting} waiting out a 429 at the kill, sent again; "
                f"{statuses['interrupted']} interrupted (killed with the request unanswered: "
                "never resent)",
            )
        )
        figures.append(
            info(SECTION, "time until the resumed batch submits again", resumed_after, "s")
        )
    return figures
