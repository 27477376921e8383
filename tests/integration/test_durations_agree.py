"""One expected duration per model: the progress bar, the poll schedule, the Studio's model list
and the offline simulator read the same number (the catalog's estimate at the target's speed,
or what the history measured)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mountsea_widgets._durations import about, estimate
from mountsea_widgets._launch import Launcher
from mountsea_widgets.catalog import catalog
from mountsea_widgets.history import History
from mountsea_widgets.run import Run
from mountsea_widgets.simulator import embedded
from mountsea_widgets.simulator.latency import JITTER, Latency
from mountsea_widgets.widgets.studio import Studio
from mountsea_widgets.widgets.task_cell import TaskCell


def _label(studio: Studio, model: str) -> str:
    return next(label for label, value in studio.models if value == model)


def test_offline_the_bar_the_polls_the_model_list_and_the_simulator_agree(tmp_path: Path) -> None:
    speed = embedded().hub.speed  # the offline simulator answers: no key, no base URL
    launcher = Launcher(None, History(tmp_path / "history"))
    studio = Studio("nano-banana-2", history=launcher.history, past_runs=0)
    try:
        for model in catalog:
            expected = launcher.expected_seconds(model)
            assert expected == pytest.approx(estimate(model, speed)), model
            assert launcher.client.poll_schedule(model).expected_s == expected, model
            assert _label(studio, model).endswith(about(expected)), model
            # The simulator draws its tasks' durations around the very same number.
            drawn = [Latency(speed).duration(model, f"key-{n}") for n in range(50)]
            assert all(
                expected * (1 - JITTER) <= seconds <= expected * (1 + JITTER) for seconds in drawn
            )

        run = launcher.new_run("nano-banana-2", {"prompt": "a paper boat on a pond"})
        launcher.start(run).result(120)
        assert run.status == "completed", run.error
        assert run.expected_s == pytest.approx(estimate("nano-banana-2", speed))
        if speed != 1.0:  # the progress bar no longer shows the real hub's ~10 s offline
            assert run.expected_s != catalog["nano-banana-2"].typical_seconds
    finally:
        studio.close()
        launcher.close()


def test_what_the_history_measured_is_what_every_view_expects(tmp_path: Path) -> None:
    history = History(tmp_path / "history")
    speed = embedded().hub.speed
    measured = estimate("nano-banana", speed) * 1.5  # slower than estimated, but plausible
    for n in range(3):
        history.start(f"past-{n}", "nano-banana", {"prompt": "a"})
        history.submitted(f"past-{n}", f"task-{n}", "nano-banana")
        history.finished(f"past-{n}", "completed", None, measured + 1.0, measured)
    launcher = Launcher(None, history)
    studio = Studio("nano-banana", history=history, past_runs=0)
    try:
        assert launcher.expected_seconds("nano-banana") == pytest.approx(measured)
        assert launcher.client.poll_schedule("nano-banana").expected_s == pytest.approx(measured)
        assert studio.launcher.expected_seconds("nano-banana") == pytest.approx(measured)
        assert _label(studio, "nano-banana").endswith(about(measured))
        run = Run("nano-banana", {"prompt": "b"})
        launcher.start(run).result(120)
        assert run.expected_s == pytest.approx(measured)
    finally:
        studio.close()
        launcher.close()


def test_an_expected_duration_given_to_a_run_is_kept() -> None:
    run = Run("nano-banana", {"prompt": "a"}, expected_s=42.0, deadline_s=900.0)
    run.expect(1.0)
    assert (run.expected_s, run.deadline_s) == (42.0, 900.0)
    free = Run("nano-banana", {"prompt": "a"})
    free.expect(120.0)  # a slow hub: the default deadline follows (10 x, at least 10 minutes)
    assert (free.expected_s, free.deadline_s) == (120.0, 1200.0)


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.04, "~0.1 s"), (0.42, "~0.4 s"), (3.33, "~3 s"), (600.0, "~10 min")]
)
def test_a_task_cell_shows_the_expected_duration_in_words(seconds: float, text: str) -> None:
    run = Run("nano-banana", {"prompt": "a"})
    run.expect(seconds)
    cell = TaskCell(run)
    try:
        assert about(seconds) == text
        assert f"/ {text}" in cell.record["timing"]
    finally:
        cell.close()
