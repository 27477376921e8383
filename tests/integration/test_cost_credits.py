"""Cost against the simulator on loopback: the Studio's estimate, spent total and credits, the
credits service failing quietly, and the budget guard holding grids before anything is sent."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import mountsea_widgets as mw
from mountsea_widgets import _prices as prices
from mountsea_widgets import simulator
from mountsea_widgets._credits import CreditsError, fetch_credits
from mountsea_widgets.history import History
from mountsea_widgets.simulator import SimulatorServer
from mountsea_widgets.widgets.studio import Studio
from tests.helpers.simulated_client import FastClient
from tests.helpers.studios import studio_maker
from tests.helpers.views import send

KEY = "sk-credits-test-0042"
START = 20.0


@pytest.fixture(autouse=True)
def builtin_prices() -> Iterator[None]:
    prices.reset_prices()
    yield
    prices.reset_prices()


@pytest.fixture
def keyed_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimulatorServer]:
    """A simulator requiring ``KEY`` that also serves the credits endpoint (``START`` credits)."""
    with simulator.serve(speed=60, api_key=KEY, credits=START) as server:
        monkeypatch.setenv("MOUNTSEA_USAGE_URL", server.url)
        yield server


@pytest.fixture
def make_keyed_studio(
    keyed_server: SimulatorServer, tmp_path: Path
) -> Iterator[Callable[..., Studio]]:
    with studio_maker(keyed_server.url, History(tmp_path / "history")) as make:
        yield make


def refreshed(studio: Studio) -> str:
    """The credits label once the last refresh finished."""
    assert studio.credits_loading is not None
    studio.credits_loading.result(30)
    return studio.credits


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_studio_shows_estimate_spent_and_credits_deducted_after_a_run(
    make_keyed_studio: Callable[..., Studio], keyed_server: SimulatorServer
) -> None:
    studio = make_keyed_studio("nano-banana-2", api_key=KEY)
    assert "20 credits" in refreshed(studio)
    assert "≈ $0.080" in studio.estimate
    studio.form.controls["resolution"].set("2K")
    studio.form.controls["num_images"].set(2)
    assert "≈ $0.24" in studio.estimate  # follows the form as it changes
    studio.form.controls["prompt"].set("a lighthouse")
    run = studio.generate()
    assert studio.wait_idle(60) and run.status == "completed"
    assert "≈ $0.24" in studio.recent[0]["cost"]  # the run's own estimate
    assert "19.76 credits" in refreshed(studio)  # the refresh after the run
    assert "≈ $0.24 (1 completed run)" in studio.spent
    assert keyed_server.hub.account.refused == 0


def test_failed_runs_cost_nothing_in_the_spent_total_or_the_credits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with simulator.serve(speed=60, api_key=KEY, credits=START, faults="task_failed=1") as server:
        monkeypatch.setenv("MOUNTSEA_USAGE_URL", server.url)
        with studio_maker(server.url, History(tmp_path / "history")) as make:
            studio = make("nano-banana", api_key=KEY)
            studio.form.controls["prompt"].set("a lighthouse")
            run = studio.generate()
            assert studio.wait_idle(60) and run.status == "failed"
            assert "≈ $0.00 (0 completed runs)" in studio.spent
            assert "20 credits" in refreshed(studio)


def test_credits_service_down_is_shown_quietly_and_runs_go_on(
    make_keyed_studio: Callable[..., Studio], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOUNTSEA_USAGE_URL", closed_port_url())
    studio = make_keyed_studio("nano-banana", api_key=KEY)
    studio.form.controls["prompt"].set("a lighthouse")
    run = studio.generate()
    assert studio.wait_idle(60) and run.status == "completed"
    label = refreshed(studio)
    assert "credits unknown: the credits service could not be reached" in label
    assert studio.credits_quiet  # quiet (grey, italic), not an error
    assert studio.reason == ""


def test_no_credits_service_is_guessed_for_a_custom_hub(
    make_keyed_studio: Callable[..., Studio],
    monkeypatch: pytest.MonkeyPatch,
    keyed_server: SimulatorServer,
) -> None:
    monkeypatch.delenv("MOUNTSEA_USAGE_URL")
    studio = make_keyed_studio("nano-banana", api_key=KEY)
    assert studio.credits_loading is None and studio.credits == ""
    assert keyed_server.hub.account.requests == 0


def test_fetch_credits_wrong_key_and_wrong_header(keyed_server: SimulatorServer) -> None:
    assert fetch_credits(keyed_server.url, KEY).credits == START
    with pytest.raises(CreditsError, match="did not accept the API key") as refused:
        fetch_credits(keyed_server.url, "sk-wrong")
    assert "sk-wrong" not in str(refused.value)
    with pytest.raises(CreditsError, match="did not accept"):
        fetch_credits(keyed_server.url, None)


# --- the budget guard ------------------------------------------------------------------------


def big_grid(url: str, **options: object) -> mw.Comparison:
    return mw.compare(
        "a lighthouse",
        models=["nano-banana-2"],
        seeds=[1, 2, 3],
        vary={"resolution": ["2K", "4K"]},
        params={"num_images": 2},  # 6 cells x 2 images at $0.12-$0.16: about $1.68
        client=FastClient(base_url=url, api_key=KEY),
        history=False,
        **options,  # type: ignore[arg-type]
    )


def test_guard_refuses_a_costly_grid_before_anything_is_sent(
    keyed_server: SimulatorServer,
) -> None:
    with pytest.raises(mw.BudgetError) as refused:
        big_grid(keyed_server.url)
    text = str(refused.value)
    assert "$1.68" in text and "confirm=True" in text and "max_cost=" in text
    assert keyed_server.hub.task_ids == []
    with pytest.raises(mw.BudgetError, match=r"above max_cost=\$1.00"):
        big_grid(keyed_server.url, max_cost=1.0)
    assert keyed_server.hub.task_ids == []


def test_guard_lets_a_confirmed_or_allowed_grid_run(keyed_server: SimulatorServer) -> None:
    grid = big_grid(keyed_server.url, confirm=True).wait(60)
    assert grid.counts() == {"completed": 6}
    assert grid.estimate.amount == pytest.approx(1.68)
    allowed = big_grid(keyed_server.url, max_cost=2.0).wait(60)
    assert allowed.counts() == {"completed": 6}
    assert len(keyed_server.hub.task_ids) == 12


def test_guard_asks_in_the_grid_and_runs_once_confirmed(keyed_server: SimulatorServer) -> None:
    grid = big_grid(keyed_server.url, confirm="ask")
    widget = grid.widget
    assert grid.awaiting_confirmation and widget.confirm != ""
    assert "$1.68" in widget.confirm and "$1.68" in widget.estimate
    with pytest.raises(RuntimeError, match="confirm"):
        grid.wait(1)
    assert keyed_server.hub.task_ids == []  # nothing sent while it asks
    send(widget, "confirm")  # the page's Run button
    grid.wait(60)
    assert grid.counts() == {"completed": 6}
    assert widget.confirm == ""
    assert len(keyed_server.hub.task_ids) == 6
