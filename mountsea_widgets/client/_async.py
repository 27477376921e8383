"""The awaitable client: awaits each step of a flow."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, cast

import httpx

from ..errors import (
    EventLoopError,
    MountseaError,
)
from ..result import Result
from ..task import TaskStatus
from ._base import BaseClient
from ._protocol import StatusCallback, SubmittedCallback, _check_body, _check_declared_length
from ._steps import _T, Flow, _Action, _Call, _Reply, _Send, _Sleep
from ._sync import _collect

log = logging.getLogger("mountsea_widgets.client")


# --- the async client ---------------------------------------------------------------------------


class AsyncClient(BaseClient):
    """Async hub client (``httpx.AsyncClient``); the same methods as :class:`Client`, awaited.

    ``sleep`` may be a coroutine function (default ``asyncio.sleep``) or a plain function;
    callbacks may be plain functions or coroutine functions. It works on one event loop, the
    one it first sends on: make one per ``asyncio.run`` (another loop gets an
    :class:`~mountsea_widgets.errors.EventLoopError`, and nothing is sent).
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float = 60.0,
        max_retries: int = 3,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        durations: Mapping[str, float] | None = None,
        windows: Mapping[str, tuple[float, float]] | None = None,
        max_requests_per_second: float | None = None,
    ) -> None:
        super().__init__(
            api_key,
            base_url,
            timeout=timeout,
            max_retries=max_retries,
            clock=clock,
            durations=durations,
            windows=windows,
            max_requests_per_second=max_requests_per_second,
        )
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            transport=transport, timeout=self._timeout, follow_redirects=False
        )
        # The client's own connections belong to the event loop they were opened on; a
        # transport passed in is the caller's, and so is its loop.
        self._own_connections = transport is None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def submit(self, model: str, input: Mapping[str, Any], *, strict: bool = True) -> str:
        """Validate ``input`` for ``model`` and create the task; returns the task id.

        ``strict=False`` sends values the catalog refuses, with an ``UncheckedValueWarning``
        naming each (see :meth:`Client.submit`).
        """
        task_id, _ = await self._run(self._submit_flow(model, input, strict=strict))
        return task_id

    async def get_task(self, task_id: str) -> TaskStatus:
        """Poll the task once."""
        status, _ = await self._run(self._poll_flow(task_id))
        return status

    async def wait(
        self,
        task_id: str,
        *,
        timeout: float | None = None,
        model: str | None = None,
        input: dict[str, Any] | None = None,
        on_status: StatusCallback | None = None,
    ) -> Result:
        """Poll until the task is ready, download its images and return the :class:`Result`."""
        return await self._run(
            self._wait_flow(
                task_id,
                timeout=timeout,
                model=model,
                input=input,
                on_status=on_status,
                poll_first=True,
            )
        )

    async def generate(
        self,
        model: str,
        prompt: str,
        *,
        timeout: float | None = None,
        on_submitted: SubmittedCallback | None = None,
        on_status: StatusCallback | None = None,
        strict: bool = True,
        **params: Any,
    ) -> Result:
        """Submit, wait, download; ``on_submitted(task_id)`` runs before any polling.

        ``strict=False`` sends values the catalog refuses, with a warning naming each.
        """
        return await self._run(
            self._generate_flow(
                model,
                {"prompt": prompt, **params},
                timeout=timeout,
                on_submitted=on_submitted,
                on_status=on_status,
                strict=strict,
            )
        )

    async def close(self) -> None:
        """Close the connection pool; the client refuses (sends nothing) from then on.

        On an event loop other than the one it worked on, the connections of that loop cannot
        be closed from here: they are dropped (and closed when the process lets them go).
        """
        self._closed = True
        try:
            await self._http.aclose()
        except RuntimeError:
            if self._loop is None or self._loop is asyncio.get_running_loop():
                raise
        finally:
            self._release_logs()

    def _refuse_on_another_loop(self) -> None:
        """Refuse, before sending, a use from a loop other than the one the client works on.

        The first loop's connections cannot be used from a second one: on a closed loop
        (``asyncio.run`` closes its own when it returns) a request would go out and its answer
        be lost, a task created on the hub with no id to show for it.
        """
        if not self._own_connections:
            return
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
            return
        if loop is self._loop:
            return
        first = "has ended" if self._loop.is_closed() else "is another one"
        raise EventLoopError(
            f"This AsyncClient works on the event loop it first ran on, and that loop {first}; "
            "nothing was sent. An AsyncClient works on one event loop: make one per "
            "asyncio.run (for example `async with mw.AsyncClient() as client:` inside it)."
        )

    aclose = close

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- the driver -----------------------------------------------------------------------------

    async def _run(self, flow: Flow[_T]) -> _T:
        value: Any = None
        error: Exception | None = None
        try:
            while True:
                try:
                    action = flow.send(value) if error is None else flow.throw(error)
                except StopIteration as stop:
                    return cast(_T, stop.value)
                except MountseaError as exc:
                    raise self._scrubbed(exc) from exc.__cause__
                value, error = None, None
                try:
                    value = await self._perform(action)
                except Exception as exc:  # handed to the flow, which decides
                    error = exc
        finally:
            flow.close()

    async def _perform(self, action: _Action) -> Any:
        if isinstance(action, _Send):
            return await self._send(action)
        if isinstance(action, _Sleep):
            await _maybe_await(self._sleep(action.seconds))
            return None
        if isinstance(action, _Call):
            if action.offload:
                return await asyncio.to_thread(action.fn, *action.args)
            return await _maybe_await(action.fn(*action.args))
        outcomes = await asyncio.gather(
            *(self._run(flow) for flow in action.flows), return_exceptions=True
        )
        return _collect(
            [(o, None) if not isinstance(o, BaseException) else (None, o) for o in outcomes]
        )

    async def _send(self, action: _Send) -> _Reply:
        self._refuse_if_closed()
        self._refuse_on_another_loop()
        response = await self._http.send(action.request, stream=True)
        try:
            _check_declared_length(response, action.max_bytes)
            body = bytearray()
            started = self._clock()
            async for chunk in response.aiter_bytes():
                body += chunk
                _check_body(body, action, self._clock() - started, response.num_bytes_downloaded)
        finally:
            await response.aclose()
        return _Reply(response.status_code, response.headers, bytes(body), str(response.url))


async def _maybe_await(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value
