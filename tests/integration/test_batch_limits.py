"""A batch against a hub that enforces a provider's limits (429 + Retry-After beyond them):
every cell completes, none fails because of the limits, none is submitted twice."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import mountsea_widgets as mw
from mountsea_widgets import simulator
from mountsea_widgets.simulator.hub import ROUTE_SUBMIT
from tests.helpers.simulated_client import FastClient


def test_a_batch_meets_submit_and_task_limits_without_a_failure_or_a_duplicate(
    tmp_path: Path,
) -> None:
    count = 10
    with simulator.serve(speed=200, limits="submit_rate=2,max_tasks=3") as hub:
        job = mw.batch(
            prompts=[f"limited {i}" for i in range(count)],
            models=["nano-banana"],
            client=FastClient(base_url=hub.url),
            history=tmp_path / "history",
            concurrency=8,
        ).wait(300)
        refused = hub.stats.faults["submit_limit"] + hub.stats.faults["task_limit"]
        assert refused > 0  # 8 submits at once against a burst of 2: the limits were met
        assert job.counts() == {"completed": count}
        assert hub.stats.submitted == count
        sent = Counter(str(hub.hub.task(t).input["prompt"]) for t in hub.hub.task_ids)
        assert max(sent.values()) == 1 and len(sent) == count
        assert hub.stats.requests[ROUTE_SUBMIT] == count + refused
    assert all(r["error"] is None for r in job.records())
