"""One launch path: every way of starting a run journals the same records and takes any client.

``mw.generate``, ``mw.agenerate``, ``%%mountsea``, ``mw.compare`` and the Studio each start a
run against the simulator on loopback, with a blocking ``mw.Client`` (through its async twin)
or an ``mw.AsyncClient``; their journals must read the same once ids and times are left out.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import mountsea_widgets as mw
from mountsea_widgets import magics, simulator
from mountsea_widgets._launch import Launcher
from mountsea_widgets.history import History
from mountsea_widgets.simulator import SimulatorServer
from mountsea_widgets.simulator.hub import ROUTE_SUBMIT
from mountsea_widgets.widgets.studio import Studio

MODEL = "nano-banana"
PROMPT = "a paper boat on a pond, morning light"
SEED = 7
#: Every parameter, as the Studio's form sends them (the other entry points are given the same).
PARAMS = {
    "seed": SEED,
    "aspect_ratio": "1:1",
    "num_images": 1,
    "output_format": "png",
    "safety_tolerance": "4",
}
INPUT = {"prompt": PROMPT, **PARAMS}
#: Values that differ between any two runs (ids, clocks, file hashes) and are left out.
VARYING = {"run_id", "task_id", "t", "created", "elapsed_s", "task_s", "sha256", "bytes"}


@pytest.fixture(scope="module")
def loopback_hub() -> Iterator[SimulatorServer]:
    with simulator.serve(speed=200) as server:
        yield server


def _by_generate(client: Any, history: History) -> None:
    result = mw.generate(MODEL, PROMPT, client=client, history=history, **PARAMS)
    assert result.status == "completed"


def _by_agenerate(client: Any, history: History) -> None:
    result = asyncio.run(mw.agenerate(MODEL, PROMPT, client=client, history=history, **PARAMS))
    assert result.status == "completed"


def _by_magic(client: Any, history: History) -> None:
    previous = magics.client_factory
    magics.client_factory = lambda: client
    try:
        flags = " ".join(f"--{name} {value}" for name, value in PARAMS.items())
        result = magics.mountsea(f"{MODEL} {flags}", PROMPT, history=history)
    finally:
        magics.client_factory = previous
    assert result is not None and result.status == "completed"


def _by_compare(client: Any, history: History) -> None:
    fixed = {name: value for name, value in PARAMS.items() if name != "seed"}
    comparison = mw.compare(
        PROMPT, models=[MODEL], seeds=[SEED], params=fixed, client=client, history=history
    )
    assert [record["status"] for record in comparison.wait(60).records()] == ["completed"]


def _by_studio(client: Any, history: History) -> None:
    studio = Studio(MODEL, client=client, history=history, past_runs=0)
    try:
        studio.form.controls["prompt"].set(PROMPT)
        for name, value in PARAMS.items():
            studio.form.controls[name].set(value)
        run = studio.generate()
        assert studio.wait_idle(60)
        assert run.status == "completed", run.error
    finally:
        studio.close()


ENTRY_POINTS: dict[str, Callable[[Any, History], None]] = {
    "generate": _by_generate,
    "agenerate": _by_agenerate,
    "magic": _by_magic,
    "compare": _by_compare,
    "studio": _by_studio,
}


def _records(history: History) -> list[dict[str, Any]]:
    """The journal's records, with what varies between runs (ids, clocks, hashes) left out."""
    lines = (history.folder / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    return [_without_varying(json.loads(line)) for line in lines]


def _without_varying(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _without_varying(item)
            for key, item in value.items()
            if key not in VARYING and key != "name"  # image file names hold the run id
        }
    if isinstance(value, list):
        return [_without_varying(item) for item in value]
    return value


def _blocking(hub: SimulatorServer) -> mw.Client:
    return mw.Client(base_url=hub.url)


def _awaitable(hub: SimulatorServer) -> mw.AsyncClient:
    return mw.AsyncClient(base_url=hub.url)


@pytest.mark.parametrize("make_client", [_blocking, _awaitable], ids=["Client", "AsyncClient"])
def test_every_entry_point_journals_the_same_records_with_either_client(
    tmp_path: Path,
    loopback_hub: SimulatorServer,
    make_client: Callable[[SimulatorServer], Any],
) -> None:
    journals: dict[str, list[dict[str, Any]]] = {}
    for name, launch in ENTRY_POINTS.items():
        history = History(tmp_path / name)
        submits = loopback_hub.stats.requests[ROUTE_SUBMIT]
        client = make_client(loopback_hub)
        launch(client, history)
        assert loopback_hub.stats.requests[ROUTE_SUBMIT] == submits + 1, name  # sent once
        journals[name] = _records(history)
        [entry] = History(history.folder).entries()
        assert entry.status == "completed", name
        assert entry.input == INPUT, name
        assert len(entry.files) == 1 and Path(entry.files[0]).is_file(), name

    reference = journals["generate"]
    assert [record["op"] for record in reference] == ["start", "submitted", "images", "finished"]
    assert reference[0]["input"] == INPUT
    for name, records in journals.items():
        assert records == reference, f"{name} journals differently from mw.generate"


def test_a_blocking_clients_twin_is_closed_and_the_client_left_open(
    loopback_hub: SimulatorServer,
) -> None:
    blocking = mw.Client(base_url=loopback_hub.url)
    launcher = Launcher(blocking, history=False)
    twin = launcher.client
    assert isinstance(twin, mw.AsyncClient) and twin.base_url == blocking.base_url
    assert launcher.owns_client
    launcher.runner.run(launcher.aclose())
    assert twin._http.is_closed
    assert not blocking._http.is_closed  # still the caller's: it keeps working
    assert blocking.submit(MODEL, {"prompt": PROMPT})
    blocking.close()


def test_a_given_async_client_is_left_open_for_its_owner(loopback_hub: SimulatorServer) -> None:
    given = mw.AsyncClient(base_url=loopback_hub.url)
    launcher = Launcher(given, history=False)
    assert launcher.client is given and not launcher.owns_client
    launcher.runner.run(launcher.aclose())
    assert not given._http.is_closed
    launcher.runner.run(given.aclose())


def _transport(request: httpx.Request) -> httpx.Response:
    raise AssertionError("nothing may be sent through a refused client")


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_a_blocking_client_with_its_own_transport_is_refused_before_anything_is_sent(
    tmp_path: Path, name: str
) -> None:
    own = mw.Client(base_url="http://hub.test", transport=httpx.MockTransport(_transport))
    history = History(tmp_path / "history")
    with pytest.raises(TypeError, match=r"its own transport.*mw\.AsyncClient"):
        ENTRY_POINTS[name](own, history)
    assert history.entries() == []  # nothing journalled: nothing was sent
    own.close()


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_what_is_not_a_client_is_refused_naming_what_is_allowed(tmp_path: Path, name: str) -> None:
    history = History(tmp_path / "history")
    with pytest.raises(TypeError, match=r"client must be an mw\.AsyncClient or an mw\.Client"):
        ENTRY_POINTS[name]("http://hub.test", history)
    assert history.entries() == []


def test_agenerate_prepares_its_input_off_the_callers_loop(
    tmp_path: Path, loopback_hub: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Converting images (and fetching the live catalog) must not stall the caller's loop."""
    import threading

    from mountsea_widgets import _generation

    real = _generation._prepared
    loop_ran = threading.Event()

    def slow_prepare(*args: Any, **kwargs: Any) -> Any:
        # Waits for the caller's loop to run something else: it can only if this is not on it.
        assert loop_ran.wait(30), "the caller's loop was blocked while the input was prepared"
        return real(*args, **kwargs)

    monkeypatch.setattr(_generation, "_prepared", slow_prepare)

    async def main() -> Any:
        async def other_work() -> None:
            loop_ran.set()

        client = mw.AsyncClient(base_url=loopback_hub.url)
        result, _ = await asyncio.gather(
            mw.agenerate(MODEL, PROMPT, client=client, history=History(tmp_path / "h")),
            other_work(),
        )
        await client.aclose()
        return result

    assert asyncio.run(main()).status == "completed"
