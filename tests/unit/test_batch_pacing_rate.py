"""The batch pacer's learned rate: after a refusal, submits are spaced just under what the hub
accepted, lowered once per episode (not halved on every 429), and grown back while accepted."""

from __future__ import annotations

import asyncio

import pytest

from mountsea_widgets.batches._pacing import (
    DECREASE,
    INCREASE_PER_S,
    RATE_WINDOW_S,
    SubmitPacer,
    Ticket,
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _accept(pacer: SubmitPacer, clock: Clock, count: int, spacing: float) -> None:
    async def main() -> None:
        for _ in range(count):
            pacer.active += 1
            await pacer._leave(Ticket(slot=clock.now), accepted=True)
            clock.now += spacing

    asyncio.run(main())


def _refuse(pacer: SubmitPacer, clock: Clock, slot: float, wait: float = 0.05) -> None:
    async def main() -> None:
        pacer.active += 1
        await pacer._leave(Ticket(slot=slot), accepted=False, wait=wait)

    asyncio.run(main())


def test_unpaced_until_the_first_refusal_then_spaced_just_under_the_accepted_rate() -> None:
    clock = Clock()
    pacer = SubmitPacer(32, clock=clock)
    assert pacer.rate is None and pacer._reserve() == pacer._reserve() == clock.now
    _accept(pacer, clock, 20, 0.05)  # 20 accepted over the last second
    _refuse(pacer, clock, slot=clock.now)
    assert pacer.rate == pytest.approx(DECREASE * 20 / RATE_WINDOW_S)
    assert pacer.limit == 16.0  # the concurrency halves once too
    clock.now = pacer._not_before
    first, second, third = pacer._reserve(), pacer._reserve(), pacer._reserve()
    assert second - first == pytest.approx(1 / pacer.rate)
    assert third - second == pytest.approx(1 / pacer.rate)


def test_refusals_of_one_episode_lower_the_rate_once() -> None:
    clock = Clock()
    pacer = SubmitPacer(32, clock=clock)
    _accept(pacer, clock, 20, 0.05)
    burst = clock.now
    for _ in range(12):  # the rest of a burst let out together: all refused
        _refuse(pacer, clock, slot=burst)
        clock.now += 0.001
    assert pacer.refusals == 12
    assert pacer.rate == pytest.approx(DECREASE * 20)
    assert pacer.lowest == 16.0
    # A submit let out after the lowering but within the window says nothing new either.
    _refuse(pacer, clock, slot=clock.now)
    assert pacer.rate == pytest.approx(DECREASE * 20)


def test_the_rate_grows_back_while_the_hub_accepts_and_a_later_refusal_lowers_it_again() -> None:
    clock = Clock()
    pacer = SubmitPacer(32, clock=clock)
    _accept(pacer, clock, 20, 0.05)
    _refuse(pacer, clock, slot=clock.now)
    lowered = pacer.rate
    assert lowered is not None
    _accept(pacer, clock, 19, 1 / 19)  # one second of accepted submits
    assert pacer.rate == pytest.approx(lowered + INCREASE_PER_S, rel=0.05)
    clock.now += RATE_WINDOW_S
    _accept(pacer, clock, 20, 0.05)
    _refuse(pacer, clock, slot=clock.now)
    assert pacer.rate == pytest.approx(DECREASE * 20)  # of what was accepted, not halved


def test_a_slow_second_never_more_than_halves_the_rate() -> None:
    clock = Clock()
    pacer = SubmitPacer(32, clock=clock)
    _accept(pacer, clock, 20, 0.05)
    _refuse(pacer, clock, slot=clock.now)
    clock.now += 5.0  # the process was busy: nothing accepted for a while
    _accept(pacer, clock, 1, 0.0)
    before = pacer.rate
    assert before is not None
    _refuse(pacer, clock, slot=clock.now)
    assert pacer.rate == pytest.approx(DECREASE * before / 2)
