"""The simulator's provider limits: submit and poll rates, tasks in flight, 429 + Retry-After."""

from __future__ import annotations

import json

import pytest

from mountsea_widgets.simulator import Hub, ManualClock
from mountsea_widgets.simulator.hub import ROUTE_SUBMIT, Request
from mountsea_widgets.simulator.limits import Limits, TokenBucket


def _submit(hub: Hub, prompt: str = "a cat") -> tuple[int, dict[str, str], dict[str, object]]:
    body = json.dumps({"model": "nano-banana", "input": {"prompt": prompt}}).encode()
    reply = hub.handle(Request("POST", "/hub/v1/image", {}, {}, body, "http://hub.test"))
    return reply.status, reply.headers, json.loads(reply.body or b"{}")


def _poll(hub: Hub, task_id: str) -> tuple[int, dict[str, str]]:
    reply = hub.handle(Request("GET", f"/hub/v1/tasks/{task_id}", {}, {}, b"", "http://hub.test"))
    return reply.status, reply.headers


def test_submits_beyond_the_rate_get_429_with_the_wait_until_one_is_allowed(
    manual_clock: ManualClock,
) -> None:
    hub = Hub(clock=manual_clock, prerender=False, limits="submit_rate=2")
    assert [_submit(hub)[0] for _ in range(2)] == [200, 200]  # one second's burst
    status, headers, body = _submit(hub)
    assert status == 429 and headers["Retry-After"] == "0.5"
    assert "rate limited (submit limit)" in str(body["message"])
    assert hub.stats.submitted == 2 and hub.stats.faults["submit_limit"] == 1
    manual_clock.advance(0.5)
    assert _submit(hub)[0] == 200
    assert hub.stats.requests[ROUTE_SUBMIT] == 4


def test_polls_have_their_own_rate(manual_clock: ManualClock) -> None:
    hub = Hub(clock=manual_clock, prerender=False, limits="poll_rate=1")
    status, _, body = _submit(hub)
    task_id = str(body.get("task_id"))
    assert _poll(hub, task_id)[0] == 200
    status, headers = _poll(hub, task_id)
    assert status == 429 and float(headers["Retry-After"]) == pytest.approx(1.0)
    assert hub.stats.faults["poll_limit"] == 1
    manual_clock.advance(1.0)
    assert _poll(hub, task_id)[0] == 200


def test_tasks_in_flight_are_capped_until_one_finishes(manual_clock: ManualClock) -> None:
    hub = Hub(clock=manual_clock, prerender=False, limits="max_tasks=2")
    assert [_submit(hub, f"p{i}")[0] for i in range(2)] == [200, 200]
    status, headers, _ = _submit(hub, "p2")
    assert status == 429 and hub.stats.faults["task_limit"] == 1
    wait = float(headers["Retry-After"])
    first_end = min(hub.task(t).finishes for t in hub.task_ids)
    assert wait == pytest.approx(first_end - manual_clock(), abs=0.001)
    manual_clock.advance(wait)
    assert _submit(hub, "p2")[0] == 200
    assert hub.stats.submitted == 3


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("submit_rate=0", "submit_rate must be a positive number"),
        ("max_tasks=0", "max_tasks must be an integer >= 1"),
        ("speed=3", "unknown limit 'speed=3'"),
        ("poll_rate=fast", "poll_rate needs a number"),
    ],
)
def test_bad_limits_are_refused_naming_them(text: str, words: str) -> None:
    with pytest.raises(ValueError) as error:
        Limits.parse(text)
    assert words in str(error.value)


def test_a_bucket_refills_at_its_rate(manual_clock: ManualClock) -> None:
    bucket = TokenBucket(4, manual_clock)
    assert [bucket.take() for _ in range(4)] == [0.0] * 4
    assert bucket.take() == pytest.approx(0.25)
    manual_clock.advance(0.25)
    assert bucket.take() == 0.0
    assert Limits.parse("submit_rate=20,poll_rate=100").describe() == "submit_rate=20,poll_rate=100"
