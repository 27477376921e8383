"""An in-process httpx transport into a :class:`~.hub.Hub`: the hub without sockets.

Like ``httpx.MockTransport`` it serves both ``httpx.Client`` and ``httpx.AsyncClient``. Image
URLs the hub hands out use the host the client called, so they resolve through the same
transport. Faults behave like the HTTP server's: ``drop`` raises ``httpx.RemoteProtocolError``
(the error httpx raises when a server closes the connection without answering) and ``slow``
waits through the injectable ``sleep``/``async_sleep``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from .hub import Hub, Reply, Request


class HubTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Send httpx requests straight to ``hub.handle`` (sync and async)."""

    def __init__(
        self,
        hub: Hub,
        *,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.hub = hub
        self._sleep = sleep
        self._async_sleep = async_sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer a request from a sync ``httpx.Client``."""
        request.read()
        reply = self.hub.handle(_to_hub_request(request))
        if reply.delay:
            self._sleep(reply.delay)
        return _to_response(reply, request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer a request from an ``httpx.AsyncClient``."""
        await request.aread()
        reply = self.hub.handle(_to_hub_request(request))
        if reply.delay:
            await self._async_sleep(reply.delay)
        return _to_response(reply, request)


def transport(
    hub: Hub | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    async_sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    **hub_options: Any,
) -> HubTransport:
    """An in-process transport into ``hub`` (a new :class:`Hub` built from ``hub_options``).

    >>> t = transport(speed=100)
    >>> client = httpx.Client(transport=t, base_url="http://hub.test")
    """
    if hub is None:
        hub = Hub(**hub_options)
    elif hub_options:
        raise TypeError("pass either a hub or options to build one, not both")
    return HubTransport(hub, sleep=sleep, async_sleep=async_sleep)


def _to_hub_request(request: httpx.Request) -> Request:
    url = request.url
    return Request(
        method=request.method,
        path=url.path,
        query=dict(url.params),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=request.content,
        base_url=f"{url.scheme}://{url.netloc.decode('ascii')}",
    )


def _to_response(reply: Reply, request: httpx.Request) -> httpx.Response:
    if reply.drop:
        raise httpx.RemoteProtocolError(
            "Server disconnected without sending a response.", request=request
        )
    return httpx.Response(reply.status, headers=reply.headers, content=reply.body, request=request)
