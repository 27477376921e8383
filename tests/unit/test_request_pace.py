"""A client's own cap on requests per second: every request takes the next slot, on the
client's clock (no real waiting here: the clock and the sleep are the test's)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from mountsea_widgets._connection import async_twin
from mountsea_widgets._launch import Launcher, check_pace
from mountsea_widgets.client import AsyncClient, Client
from mountsea_widgets.client._pace import RequestPace


class FakeTime:
    """A clock that moves only when slept on."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


def _hub(request: httpx.Request) -> httpx.Response:
    body = {"task_id": "hub-1", "status": "processing", "ready": False}
    return httpx.Response(200, content=json.dumps(body).encode())


def test_requests_go_out_at_least_one_slot_apart() -> None:
    fake = FakeTime()
    with Client(
        base_url="http://hub.test",
        transport=httpx.MockTransport(_hub),
        sleep=fake.sleep,
        clock=fake.clock,
        max_requests_per_second=4,
    ) as client:
        for _ in range(5):
            client.get_task("hub-1")
    assert fake.sleeps == [0.25, 0.25, 0.25, 0.25]  # the first at once, then one slot each


def test_the_async_client_and_a_blocking_clients_twin_keep_the_cap() -> None:
    fake = FakeTime()
    sent: list[float] = []

    def hub(request: httpx.Request) -> httpx.Response:
        sent.append(fake.now)
        return _hub(request)

    async def main() -> None:
        async with AsyncClient(
            base_url="http://hub.test",
            transport=httpx.MockTransport(hub),
            sleep=fake.asleep,
            clock=fake.clock,
            max_requests_per_second=2,
        ) as client:
            await asyncio.gather(*(client.get_task("hub-1") for _ in range(3)))

    asyncio.run(main())
    # Three polls at once share the slots: sent half a second apart.
    assert sent == [1000.0, 1000.5, 1001.0]
    blocking = Client(base_url="http://hub.test", max_requests_per_second=3)
    twin = async_twin(blocking)
    assert twin is not None and twin.max_requests_per_second == 3
    blocking.close()


def test_no_cap_means_no_waiting() -> None:
    fake = FakeTime()
    with Client(
        base_url="http://hub.test",
        transport=httpx.MockTransport(_hub),
        sleep=fake.sleep,
        clock=fake.clock,
    ) as client:
        for _ in range(5):
            client.get_task("hub-1")
    assert fake.sleeps == []


def test_a_slot_left_unused_is_not_saved_up() -> None:
    fake = FakeTime()
    pace = RequestPace(10, fake.clock)
    assert pace.reserve() == 0.0
    fake.now += 5.0  # idle for a while: no burst of fifty after it
    assert [pace.reserve(), pace.reserve()] == [0.0, pytest.approx(0.1)]


@pytest.mark.parametrize("rate", [0, -1, True, "10", float("nan")])
def test_a_cap_that_is_not_a_positive_number_is_refused_naming_it(rate: object) -> None:
    with pytest.raises(ValueError, match="max_requests_per_second must be a number above 0"):
        Client(base_url="http://hub.test", max_requests_per_second=rate)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_requests_per_second must be a number above 0"):
        check_pace(None, rate)  # type: ignore[arg-type]


def test_a_cap_beside_a_given_client_is_refused() -> None:
    given = AsyncClient(base_url="http://hub.test")
    with pytest.raises(ValueError, match="a client given has its own"):
        Launcher(given, False, max_requests_per_second=5)
    launcher = Launcher(None, False, max_requests_per_second=5)
    assert launcher.max_requests_per_second == 5


def test_the_command_line_takes_the_cap() -> None:
    from mountsea_widgets.batches._cli import options

    assert (
        options(["--prompt", "a cat", "--max-requests-per-second", "5"])["max_requests_per_second"]
        == 5.0
    )
