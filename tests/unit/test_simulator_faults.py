"""Every injected fault does what it promises, reproducibly, through the in-process transport."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mountsea_widgets.simulator import Faults, Hub, ManualClock, transport
from mountsea_widgets.simulator.faults import Dice

BASE = "http://hub.test"
SUBMIT = {"model": "nano-banana", "input": {"prompt": "fault test"}}


class Sim:
    def __init__(self, faults: Faults | str, **options: Any) -> None:
        self.clock = ManualClock()
        self.slept: list[float] = []
        self.hub = Hub(clock=self.clock, prerender=False, faults=faults, **options)
        self.client = httpx.Client(
            transport=transport(self.hub, sleep=self.slept.append), base_url=BASE
        )

    def submit(self) -> httpx.Response:
        return self.client.post("/hub/v1/image", json=SUBMIT)

    def finish(self, task_id: str) -> dict[str, Any]:
        self.clock.advance(max(0.0, self.hub.task(task_id).finishes - self.clock()))
        body: dict[str, Any] = self.client.get(f"/hub/v1/tasks/{task_id}").json()
        return body


@pytest.fixture
def make() -> Iterator[Any]:
    sims: list[Sim] = []

    def factory(faults: Faults | str, **options: Any) -> Sim:
        sims.append(Sim(faults, **options))
        return sims[-1]

    yield factory
    for sim in sims:
        sim.client.close()
        sim.hub.close()


# --- parsing -------------------------------------------------------------------------------------


def test_parse_reads_every_key() -> None:
    faults = Faults.parse(
        "submit_5xx=0.1,poll_5xx=0.2,status_5xx=503,rate_limit=0.05,retry_after=1.5,drop=0.05,"
        "drop_after_submit=0.01,malformed=0.05,slow=0.05,slow_s=2,task_failed=0.05,"
        "task_timeout=0.05,task_cancelled=0.02,image_404_first=1,url_ttl=30,seed=7"
    )
    assert faults == Faults(
        submit_5xx=0.1,
        poll_5xx=0.2,
        status_5xx=503,
        rate_limit=0.05,
        retry_after=1.5,
        drop=0.05,
        drop_after_submit=0.01,
        malformed=0.05,
        slow=0.05,
        slow_s=2.0,
        task_failed=0.05,
        task_timeout=0.05,
        task_cancelled=0.02,
        image_404_first=1,
        url_ttl=30.0,
        seed=7,
    )
    assert Faults.parse(faults.describe()) == faults


def test_server_error_is_shorthand_for_submit_and_poll_5xx() -> None:
    assert Faults.parse("server_error=0.1, seed=7") == Faults(submit_5xx=0.1, poll_5xx=0.1, seed=7)


def test_empty_means_no_faults() -> None:
    assert Faults.parse("") == Faults.parse(None) == Faults()
    assert Faults().describe() == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("explode=0.5", "unknown fault 'explode'"),
        ("drop", "needs a value"),
        ("drop=lots", "drop needs a number"),
        ("drop=1.5", "drop must be a rate between 0 and 1"),
        ("task_failed=0.6,task_timeout=0.6", "at most 1"),
        ("status_5xx=404", "5xx"),
        ("image_404_first=-1", "image_404_first"),
    ],
)
def test_parse_errors_name_the_key(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Faults.parse(text)


def test_dice_are_reproducible_and_follow_the_rate() -> None:
    def rolls(seed: int) -> list[bool]:
        dice = Dice(seed)
        return [dice.roll("drop", 0.3) for _ in range(400)]

    first = rolls(7)
    assert rolls(7) == first
    assert rolls(8) != first
    assert 80 <= sum(first) <= 160  # 0.3 of 400 = 120, and the draw is fixed by the seed
    assert not any(Dice(7).roll("drop", 0.0) for _ in range(100))
    assert all(Dice(7).roll("drop", 1.0) for _ in range(100))


def test_the_same_seed_replays_the_same_outcomes(make: Any) -> None:
    def outcomes(seed: int) -> list[int]:
        sim = make(Faults(submit_5xx=0.5, seed=seed))
        return [sim.submit().status_code for _ in range(30)]

    first = outcomes(7)
    assert set(first) == {200, 500}
    assert outcomes(7) == first
    assert outcomes(8) != first


# --- faults before a task exists ------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503])
def test_submit_5xx_creates_no_task(make: Any, status: int) -> None:
    sim = make(Faults(submit_5xx=1.0, status_5xx=status))
    response = sim.submit()
    assert response.status_code == status
    assert response.json()["statusCode"] == status
    assert sim.hub.stats.submitted == 0
    assert sim.hub.task_ids == []
    assert sim.hub.stats.faults["submit_5xx"] == 1


def test_poll_5xx_hits_polls_only(make: Any) -> None:
    sim = make(Faults(poll_5xx=1.0))
    response = sim.submit()
    assert response.status_code == 200
    assert sim.client.get(f"/hub/v1/tasks/{response.json()['task_id']}").status_code == 500


def test_rate_limit_answers_429_with_retry_after(make: Any) -> None:
    sim = make(Faults(rate_limit=1.0, retry_after=3))
    response = sim.submit()
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert sim.hub.stats.submitted == 0
    assert sim.client.get("/hub/v1/tasks/hub-anything").status_code == 429


def test_drop_closes_without_an_answer_and_creates_nothing(make: Any) -> None:
    sim = make(Faults(drop=1.0))
    with pytest.raises(httpx.RemoteProtocolError):
        sim.submit()
    assert sim.hub.stats.submitted == 0
    assert sim.hub.task_ids == []
    assert sim.hub.stats.faults["drop"] == 1


def test_drop_after_submit_creates_the_task_then_drops(make: Any) -> None:
    sim = make(Faults(drop_after_submit=1.0))
    with pytest.raises(httpx.RemoteProtocolError):
        sim.submit()
    assert sim.hub.stats.submitted == 1
    assert len(sim.hub.task_ids) == 1


def test_malformed_poll_is_200_with_broken_json(make: Any) -> None:
    sim = make(Faults(malformed=1.0))
    task_id = sim.submit().json()["task_id"]  # submits are never malformed
    response = sim.client.get(f"/hub/v1/tasks/{task_id}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_slow_delays_the_answer_through_the_injected_sleep(make: Any) -> None:
    sim = make(Faults(slow=1.0, slow_s=2.5))
    task_id = sim.submit().json()["task_id"]
    sim.client.get(f"/hub/v1/tasks/{task_id}")
    assert sim.slept == [2.5, 2.5]
    assert sim.hub.stats.faults["slow"] == 2


def test_slow_delays_async_clients_too() -> None:
    import asyncio

    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    hub = Hub(clock=ManualClock(), prerender=False, faults=Faults(slow=1.0, slow_s=4))

    async def main() -> int:
        async with httpx.AsyncClient(
            transport=transport(hub, async_sleep=fake_sleep), base_url=BASE
        ) as client:
            return (await client.post("/hub/v1/image", json=SUBMIT)).status_code

    assert asyncio.run(main()) == 200
    assert slept == [4]


# --- faults after a task exists -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "status", "code"),
    [
        ("task_failed", "failed", "SIMULATED_FAILURE"),
        ("task_timeout", "timeout", "TIMEOUT"),
        ("task_cancelled", "cancelled", "CANCELLED"),
    ],
)
def test_task_endings(make: Any, key: str, status: str, code: str) -> None:
    sim = make(Faults.parse(f"{key}=1"))
    task_id = sim.submit().json()["task_id"]
    early = sim.client.get(f"/hub/v1/tasks/{task_id}").json()
    assert early["status"] == "pending"  # the ending only shows once the task is over
    body = sim.finish(task_id)
    assert body["status"] == status
    assert body["ready"] is True
    assert body["error_code"] == code
    assert body["error_message"]
    assert "data" not in body
    assert sim.client.get(f"/files/{task_id}/0.png").status_code == 404


def test_task_ending_mix_is_reproducible(make: Any) -> None:
    def endings(seed: int) -> list[str]:
        sim = make(Faults(task_failed=0.3, task_timeout=0.3, seed=seed))
        ids = [sim.submit().json()["task_id"] for _ in range(20)]
        return [sim.finish(task_id)["status"] for task_id in ids]

    first = endings(4)
    assert set(first) == {"completed", "failed", "timeout"}
    assert endings(4) == first


def test_image_404_first_n_fetches(make: Any) -> None:
    sim = make(Faults(image_404_first=2))
    task_id = sim.submit().json()["task_id"]
    url = sim.finish(task_id)["data"]["images"][0]["url"]
    assert [sim.client.get(url).status_code for _ in range(4)] == [404, 404, 200, 200]


def test_url_ttl_expires_image_urls(make: Any) -> None:
    sim = make(Faults(url_ttl=30))
    task_id = sim.submit().json()["task_id"]
    url = sim.finish(task_id)["data"]["images"][0]["url"]
    sim.clock.advance(29)
    assert sim.client.get(url).status_code == 200
    sim.clock.advance(2)
    response = sim.client.get(url)
    assert response.status_code == 410
    assert "expired" in response.json()["message"]
    # The task itself still answers; only the file URL expired.
    assert sim.client.get(f"/hub/v1/tasks/{task_id}").json()["status"] == "completed"


def test_models_endpoints_are_never_faulted(make: Any) -> None:
    sim = make(Faults(drop=1.0, rate_limit=1.0, submit_5xx=1.0, poll_5xx=1.0))
    assert sim.client.get("/hub/v1/models").status_code == 200
    assert sim.client.get("/hub/v1/models/gpt-image-2").status_code == 200
