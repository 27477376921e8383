"""strict=False against the simulator on loopback: the value is really sent, the hub decides.

Two hubs: the simulator as it ships (its catalog is the bundled one, so it refuses a value
the client's catalog refuses, with its 4xx), and one whose catalog lists one aspect ratio
more (a hub that knows more than this copy of the reference data): there the run completes.
Either way the history's start record says the value was sent unchecked.
"""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import mountsea_widgets as mw
from mountsea_widgets import simulator
from mountsea_widgets.catalog import load_catalog
from mountsea_widgets.errors import BadRequestError, ValidationError
from mountsea_widgets.history import History
from mountsea_widgets.history._layout import JOURNAL_NAME
from mountsea_widgets.simulator import SimulatorServer
from mountsea_widgets.simulator.hub import ROUTE_SUBMIT
from tests.helpers.simulated_client import SPEED, FastClient

MODEL = "nano-banana"
NEW_RATIO = "5:1"
PROMPT = "a long thin banner of a harbour"


def _broader_catalog() -> mw.Catalog:
    data = json.loads((Path(mw.__file__).parent / "data" / "models.json").read_text("utf-8"))
    (model,) = [m for m in data["models"] if m["id"] == MODEL]
    (ratio,) = [p for p in model["params"] if p["name"] == "aspect_ratio"]
    ratio["enum"] = [*ratio["enum"], NEW_RATIO]
    return load_catalog(data)


@pytest.fixture(scope="module")
def loopback_hub() -> Iterator[SimulatorServer]:
    """The simulator as it ships: it refuses NEW_RATIO."""
    with simulator.serve(speed=SPEED) as server:
        yield server


@pytest.fixture(scope="module")
def broader_hub() -> Iterator[SimulatorServer]:
    """A simulator whose catalog accepts NEW_RATIO for nano-banana but publishes no schemas
    (its model endpoints answer 404), so the live catalog cannot learn the value: only
    ``strict=False`` sends it."""
    with simulator.serve(speed=SPEED, catalog=_broader_catalog(), models_error=404) as server:
        yield server


def _records(history: History, op: str) -> list[dict[str, Any]]:
    lines = (history.folder / JOURNAL_NAME).read_text("utf-8").splitlines()
    return [record for record in map(json.loads, lines) if record.get("op") == op]


def test_generate_refuses_by_default_and_sends_nothing(
    broader_hub: SimulatorServer, history: History
) -> None:
    before = broader_hub.hub.stats.snapshot()["requests"].get(ROUTE_SUBMIT, 0)
    client = FastClient(base_url=broader_hub.url)
    with pytest.raises(ValidationError) as refused:
        mw.generate(MODEL, PROMPT, aspect_ratio=NEW_RATIO, client=client, history=history)
    assert refused.value.params == ["aspect_ratio"]
    assert broader_hub.hub.stats.snapshot()["requests"].get(ROUTE_SUBMIT, 0) == before
    assert len(history) == 0


def test_generate_not_strict_completes_where_the_hub_accepts(
    broader_hub: SimulatorServer, history: History
) -> None:
    client = FastClient(base_url=broader_hub.url)
    with pytest.warns(mw.UncheckedValueWarning, match="aspect_ratio") as caught:
        result = mw.generate(
            MODEL, PROMPT, aspect_ratio=NEW_RATIO, strict=False, client=client, history=history
        )
    asyncio.run(client.aclose())
    # Said once, though both the call and the client checked (the hub publishing no schemas
    # is a warning of its own kind).
    said = [w for w in caught.list if issubclass(w.category, mw.UncheckedValueWarning)]
    assert len(said) == 1
    assert said[0].filename == __file__
    assert result.status == "completed" and result.image_count == 1
    assert result.input["aspect_ratio"] == NEW_RATIO
    assert broader_hub.hub.task(result.task_id).input["aspect_ratio"] == NEW_RATIO
    width, height = result.images[0].size
    assert round(width / height) == 5  # the simulator drew what it was asked for

    (start,) = _records(history, "start")
    assert start["unchecked"] == ["aspect_ratio"]
    assert start["input"]["aspect_ratio"] == NEW_RATIO
    (finished,) = _records(history, "finished")
    assert finished["status"] == "completed"
    (entry,) = history.entries()
    assert entry.unchecked == ["aspect_ratio"]


def test_the_hub_s_refusal_is_a_typed_error_and_the_journal_keeps_it(
    loopback_hub: SimulatorServer, history: History
) -> None:
    rejections = loopback_hub.hub.stats.rejections
    client = FastClient(base_url=loopback_hub.url)
    with (
        pytest.warns(mw.UncheckedValueWarning),
        pytest.raises(BadRequestError) as refused,
    ):
        mw.generate(
            MODEL, PROMPT, aspect_ratio=NEW_RATIO, strict=False, client=client, history=history
        )
    asyncio.run(client.aclose())
    assert refused.value.status_code == 422
    assert "aspect_ratio" in str(refused.value)
    assert loopback_hub.hub.stats.rejections == rejections + 1  # sent, and refused there

    (start,) = _records(history, "start")
    assert start["unchecked"] == ["aspect_ratio"]
    (finished,) = _records(history, "finished")
    assert finished["status"] == "error" and "aspect_ratio" in finished["error"]


def test_agenerate_not_strict(broader_hub: SimulatorServer, history: History) -> None:
    async def go() -> mw.Result:
        async with FastClient(base_url=broader_hub.url) as client:
            return await mw.agenerate(
                MODEL, PROMPT, aspect_ratio=NEW_RATIO, strict=False, client=client, history=history
            )

    with pytest.warns(mw.UncheckedValueWarning, match="aspect_ratio"):
        result = asyncio.run(go())
    assert result.status == "completed"
    assert _records(history, "start")[0]["unchecked"] == ["aspect_ratio"]


def test_the_clients_generate_not_strict(broader_hub: SimulatorServer) -> None:
    fast = {MODEL: 0.05}  # poll on the simulator's accelerated time scale
    with (
        mw.Client(base_url=broader_hub.url, durations=fast) as client,
        pytest.warns(mw.UncheckedValueWarning) as caught,
    ):
        result = client.generate(MODEL, PROMPT, aspect_ratio=NEW_RATIO, strict=False)
    assert result.status == "completed" and result.input["aspect_ratio"] == NEW_RATIO
    assert caught.list[0].filename == __file__

    async def go() -> mw.Result:
        async with mw.AsyncClient(base_url=broader_hub.url, durations=fast) as client:
            return await client.generate(MODEL, PROMPT, aspect_ratio=NEW_RATIO, strict=False)

    with pytest.warns(mw.UncheckedValueWarning) as caught:
        again = asyncio.run(go())
    assert again.status == "completed"
    assert caught.list[0].filename == __file__


def test_compare_not_strict_runs_the_cell_it_would_reject(
    broader_hub: SimulatorServer, history: History
) -> None:
    vary = {"aspect_ratio": ["1:1", NEW_RATIO]}
    client = FastClient(base_url=broader_hub.url)
    strict = mw.compare(PROMPT, models=[MODEL], vary=vary, client=client, history=False)
    assert [cell.status for cell in strict.wait(120).cells] == ["completed", "rejected"]

    with pytest.warns(mw.UncheckedValueWarning, match="aspect_ratio") as caught:
        loose = mw.compare(
            PROMPT, models=[MODEL], vary=vary, client=client, history=history, strict=False
        )
    assert len(caught.list) == 1
    assert [cell.status for cell in loose.wait(120).cells] == ["completed", "completed"]
    asyncio.run(client.aclose())
    starts = {record["input"]["aspect_ratio"]: record for record in _records(history, "start")}
    assert "unchecked" not in starts["1:1"]
    assert starts[NEW_RATIO]["unchecked"] == ["aspect_ratio"]


def test_a_value_no_request_can_carry_is_refused_even_so(
    loopback_hub: SimulatorServer, history: History
) -> None:
    before = loopback_hub.hub.stats.snapshot()["requests"].get(ROUTE_SUBMIT, 0)
    client = FastClient(base_url=loopback_hub.url)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and nothing is announced as sent
        with pytest.raises(ValidationError, match="not sent even with strict=False"):
            mw.generate(
                MODEL,
                PROMPT,
                aspect_ratio="16:9\ud800",
                strict=False,
                client=client,
                history=history,
            )
    assert loopback_hub.hub.stats.snapshot()["requests"].get(ROUTE_SUBMIT, 0) == before
    assert len(history) == 0
