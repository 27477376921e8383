"""The budget guard holds for batches too: over the threshold, nothing is sent without consent."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import mountsea_widgets as mw
from mountsea_widgets import simulator
from mountsea_widgets.batches._cli import main
from mountsea_widgets.simulator import SimulatorServer
from tests.helpers.views import send

#: Twelve high-quality gpt-image-2 runs: about $1.80 at the built-in estimates, over $1.
PROMPTS = [f"a lighthouse, study {n}" for n in range(12)]
PARAMS = {"quality": "high", "image_size": "landscape_4_3"}


@pytest.fixture
def loopback_hub() -> Iterator[SimulatorServer]:
    with simulator.serve(speed=400) as server:
        yield server


def _batch(
    hub: SimulatorServer, history: Path, prompts_count: int | None = None, **options: object
) -> mw.Batch:
    return mw.batch(
        prompts=PROMPTS[:prompts_count],
        models=["gpt-image-2"],
        params=PARAMS,
        client=mw.AsyncClient(base_url=hub.url),
        history=history,
        **options,  # type: ignore[arg-type]
    )


def test_a_batch_over_the_threshold_is_refused_and_nothing_is_sent(
    loopback_hub: SimulatorServer, tmp_path: Path
) -> None:
    estimate = mw.estimate_cost("gpt-image-2", prompt="x", **PARAMS)
    assert estimate.amount is not None and estimate.amount * len(PROMPTS) > 1.0
    with pytest.raises(
        mw.BudgetError,
        match=r"This batch is estimated at .*Pass confirm=True to run it or max_cost",
    ):
        _batch(loopback_hub, tmp_path / "history")
    with pytest.raises(mw.BudgetError, match=r"above max_cost"):
        _batch(loopback_hub, tmp_path / "history", max_cost=0.5)
    assert loopback_hub.stats.submitted == 0
    assert not (tmp_path / "history" / "batches").exists()  # not even the spec is kept


def test_a_confirmed_batch_or_one_within_max_cost_runs(
    loopback_hub: SimulatorServer, tmp_path: Path
) -> None:
    job = _batch(loopback_hub, tmp_path / "history", max_cost=100.0).wait(120)
    assert [cell.status for cell in job.cells] == ["completed"] * len(PROMPTS)
    each = mw.estimate_cost("gpt-image-2", prompt="x", **PARAMS).amount
    assert each is not None
    assert job.estimate.amount == pytest.approx(each * len(PROMPTS))
    assert f"{job.estimate.label} estimated" in job.widget.title
    lines = (job.export(tmp_path / "dataset") / "metadata.jsonl").read_text("utf-8").splitlines()
    assert [json.loads(line)["estimated_cost"] for line in lines] == [pytest.approx(each)] * len(
        PROMPTS
    )
    again = _batch(loopback_hub, tmp_path / "history", confirm=True).wait(120)
    assert again.batch_id == job.batch_id
    assert loopback_hub.stats.submitted == len(PROMPTS)  # resumed: nothing sent twice


def test_the_command_line_refuses_and_says_how_to_confirm(tmp_path: Path) -> None:
    spec = tmp_path / "lighthouses.json"
    spec.write_text(
        json.dumps({"prompts": PROMPTS, "models": ["gpt-image-2"], "params": PARAMS}),
        encoding="utf-8",
    )
    out = io.StringIO()
    status = main([str(spec), "--history", str(tmp_path / "history"), "--quiet"], out=out)
    assert status == 2
    assert "nothing was submitted" in out.getvalue()
    assert "--confirm (confirm: true in a spec)" in out.getvalue()
    assert not (tmp_path / "history" / "batches").exists()


def test_a_batch_with_a_cap_on_requests_per_second_completes_and_refuses_it_beside_a_client(
    loopback_hub: SimulatorServer, tmp_path: Path
) -> None:
    job = mw.batch(
        prompts=PROMPTS[:3],
        models=["nano-banana"],
        history=tmp_path / "history",
        max_requests_per_second=200,
    ).wait(120)
    assert [cell.status for cell in job.cells] == ["completed"] * 3
    with pytest.raises(ValueError, match="a client given has its own"):
        _batch(loopback_hub, tmp_path / "other", confirm=True, max_requests_per_second=5)
    assert loopback_hub.stats.submitted == 0  # the capped batch ran offline; this one sent nothing


def test_a_batch_asked_about_waits_for_the_click_in_its_summary(
    loopback_hub: SimulatorServer, tmp_path: Path
) -> None:
    job = _batch(loopback_hub, tmp_path / "history", confirm="ask")
    widget = job.widget
    assert job.awaiting_confirmation and loopback_hub.stats.submitted == 0
    assert widget.confirm != ""
    assert f"estimated at {job.estimate.label}" in widget.confirm
    with pytest.raises(RuntimeError, match="waits for its estimated cost"):
        job.wait(1)
    send(widget, "confirm")  # the person says yes (the page's Run button)
    job.wait(120)
    assert [cell.status for cell in job.cells] == ["completed"] * len(PROMPTS)
    assert loopback_hub.stats.submitted == len(PROMPTS)
    assert widget.confirm == ""


def test_a_batch_within_the_threshold_is_not_asked_about(
    loopback_hub: SimulatorServer, tmp_path: Path
) -> None:
    job = _batch(loopback_hub, tmp_path / "history", confirm="ask", prompts_count=2)
    job.wait(120)
    assert not job.awaiting_confirmation
    assert loopback_hub.stats.submitted == 2
