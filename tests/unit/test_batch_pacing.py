"""A batch's submit pacer: AIMD concurrency (once per refusal episode), a learned rate, a
shared Retry-After, refused submits sent again (only those a 429 or 503 proves were never
created)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mountsea_widgets.batches._pacing import PacedClient, SubmitPacer
from mountsea_widgets.errors import RateLimitError, ServerError


class StubbornHub:
    """A stand-in client: refuses the first ``refusals`` submits, counts submits in flight."""

    def __init__(self, refusals: int, error: Exception | None = None) -> None:
        self.refusals = refusals
        self.error = error or RateLimitError("HTTP 429", retry_after=0.0)
        self.calls = 0
        self.active = 0
        self.most = 0
        self.created: list[str] = []

    async def submit(self, model: str, input: Any) -> str:
        self.calls += 1
        self.active += 1
        self.most = max(self.most, self.active)
        try:
            await asyncio.sleep(0)
            if self.refusals > 0:
                self.refusals -= 1
                raise self.error
            self.created.append(str(input["prompt"]))
            return f"task-{len(self.created)}"
        finally:
            self.active -= 1

    def expected_seconds(self, model: str) -> float:
        return 1.0


def test_refused_submits_are_sent_again_and_the_limit_halves_once_per_burst() -> None:
    hub = StubbornHub(refusals=3)
    pacer = SubmitPacer(8)
    client = PacedClient(hub, pacer)

    async def main() -> list[str]:
        return await asyncio.gather(*(client.submit("m", {"prompt": f"p{i}"}) for i in range(8)))

    ids = asyncio.run(main())
    assert len(set(ids)) == 8 and sorted(hub.created) == sorted(f"p{i}" for i in range(8))
    assert hub.calls == 11 and pacer.refusals == 3
    # The three refusals answered submits let out together: one episode, one halving (8 → 4).
    assert pacer.lowest == 4.0
    assert 4.0 < pacer.limit <= 8.0  # growing back while the hub accepts
    assert pacer.rate is not None  # paced from the first refusal on
    assert client.expected_seconds("m") == 1.0  # everything else is the client's


def test_after_a_refusal_submits_go_one_at_a_time_until_accepted_again() -> None:
    hub = StubbornHub(refusals=1)
    pacer = SubmitPacer(4)

    async def main() -> None:
        await pacer.submit(hub, "m", {"prompt": "first"})  # refused once, then accepted
        hub.most = 0
        await asyncio.gather(*(pacer.submit(hub, "m", {"prompt": f"p{i}"}) for i in range(4)))

    asyncio.run(main())
    assert pacer.lowest == 2.0
    assert hub.most <= 3  # the limit (2, growing by 1/limit) caps submits at once


def test_the_retry_after_is_honoured_by_every_submit_of_the_batch() -> None:
    now = [100.0]
    hub = StubbornHub(refusals=1, error=RateLimitError("HTTP 429", retry_after=5.0))
    pacer = SubmitPacer(2, clock=lambda: now[0])
    waited: list[float] = []

    async def main() -> None:
        first = asyncio.ensure_future(pacer.submit(hub, "m", {"prompt": "a"}))
        for _ in range(20):
            await asyncio.sleep(0)
        waited.append(pacer._not_before - now[0])
        assert hub.calls == 1 and not first.done()  # waiting out the hub's 5 s
        now[0] += 5.0
        await first

    asyncio.run(main())
    assert waited == [5.0]
    assert hub.created == ["a"]


@pytest.mark.parametrize(
    ("error", "resent"),
    [
        (ServerError("HTTP 503", status_code=503), True),
        (ServerError("HTTP 500", status_code=500), False),  # may have created the task
        (RuntimeError("connection dropped"), False),
    ],
)
def test_only_answers_that_prove_nothing_was_created_are_sent_again(
    error: Exception, resent: bool
) -> None:
    hub = StubbornHub(refusals=1, error=error)
    pacer = SubmitPacer(2)
    if resent:
        assert asyncio.run(pacer.submit(hub, "m", {"prompt": "a"})) == "task-1"
        assert hub.calls == 2
    else:
        with pytest.raises(type(error)):
            asyncio.run(pacer.submit(hub, "m", {"prompt": "a"}))
        assert hub.calls == 1 and pacer.refusals == 0
    assert pacer.active == 0


def test_a_hub_that_never_accepts_ends_the_submit_after_the_attempts() -> None:
    hub = StubbornHub(refusals=10**6)
    pacer = SubmitPacer(2, attempts=5)
    with pytest.raises(RateLimitError):
        asyncio.run(pacer.submit(hub, "m", {"prompt": "a"}))
    assert hub.calls == 5 and hub.created == []
