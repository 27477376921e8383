"""Sleeps for clients under test: backoffs and Retry-After waits, compressed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


def capped_sleep(cap_s: float) -> Callable[[float], Awaitable[None]]:
    """An async sleep that waits at most ``cap_s`` seconds, however long it is asked to."""

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(min(seconds, cap_s))

    return sleep


#: Waits at most 10 ms: the simulator in these tests runs many times faster than the hub.
short_sleep = capped_sleep(0.01)


def eventually(condition: Callable[[], bool], *, timeout: float = 60.0, what: str = "") -> None:
    """Wait until ``condition()`` holds (checked every 10 ms); fail after ``timeout`` seconds.

    For state another thread settles a moment later (e.g. a journal record written after the
    run already shows its status): the timeout is generous, so only a hang fails.
    """
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout:g} s: {what or condition}")
        time.sleep(0.01)
