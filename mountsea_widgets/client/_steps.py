"""The steps a flow asks its driver to perform: send, sleep, call back, gather."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar, Union

import httpx

#: What a flow returns.
_T = TypeVar("_T")

# --- the steps a flow asks its driver to perform ------------------------------------------------


@dataclass(frozen=True)
class _Send:
    """Send ``request``, read at most ``max_bytes`` of the answer; the driver returns a _Reply.

    With ``max_seconds`` the whole answer must arrive within that time: the per-read timeout
    alone lets a server trickle a byte at a time forever.
    """

    request: httpx.Request
    max_bytes: int
    max_seconds: float | None = None
    #: Most times the decoded answer may outgrow the bytes that came over the wire (JSON
    #: answers; None for image files, which are checked by decoding).
    max_inflation: float | None = None


@dataclass(frozen=True)
class _Sleep:
    seconds: float


@dataclass(frozen=True)
class _Call:
    """Call ``fn(*args)``; awaited when it returns an awaitable (async driver).

    ``offload`` marks CPU work (image decoding) the async driver moves off the event loop.
    """

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    offload: bool = False


@dataclass(frozen=True)
class _Gather:
    """Run several flows side by side; the driver returns their results in order."""

    flows: tuple[Generator[Any, Any, Any], ...]


_Action = Union[_Send, _Sleep, _Call, _Gather]  # noqa: UP007 - runtime alias on Python 3.10
Flow = Generator[_Action, Any, _T]


@dataclass(frozen=True)
class _Reply:
    """An HTTP answer whose body has been read (within the size limit)."""

    status_code: int
    headers: httpx.Headers
    #: Left out of the repr: a server may echo the key in it (verbose tracebacks show reprs).
    content: bytes = field(repr=False)
    url: str


class _BodyTooLarge(Exception):
    def __init__(self, limit: int, *, inflated: bool = False) -> None:
        if inflated:
            text = (
                f"the answer inflates past {_size(limit)} from far fewer compressed bytes "
                "(a compression bomb, not a task status or image data)"
            )
        else:
            text = f"the answer is larger than {_size(limit)}"
        super().__init__(text)
        self.limit = limit
        self.inflated = inflated


def _size(count: int) -> str:
    """A byte count in plain words: "4 MiB", "256 MiB", "1,000 bytes"."""
    mib = 1024 * 1024
    if count >= mib and count % mib == 0:
        return f"{count // mib:,} MiB"
    return f"{count:,} bytes"


class _BodyTooSlow(Exception):
    def __init__(self, limit: float) -> None:
        super().__init__(f"the answer took longer than {limit:g} s to arrive")
        self.limit = limit
