"""The blocking client: performs each step of a flow with blocking calls."""

from __future__ import annotations

import contextlib
import inspect
import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any, cast

import httpx

from ..errors import (
    MountseaError,
)
from ..result import Result
from ..task import TaskStatus
from ._base import BaseClient
from ._protocol import (
    DOWNLOAD_WORKERS,
    StatusCallback,
    SubmittedCallback,
    _check_body,
    _check_declared_length,
)
from ._steps import _T, Flow, _Action, _Call, _Gather, _Reply, _Send, _Sleep

log = logging.getLogger("mountsea_widgets.client")


# --- the sync client ----------------------------------------------------------------------------


class Client(BaseClient):
    """Blocking hub client (``httpx.Client``). Use as a context manager or call :meth:`close`.

    ``sleep`` and ``clock`` are injectable so tests (and the runner) control time.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float = 60.0,
        max_retries: int = 3,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], Any] = time.sleep,
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
        # A transport of one's own (a test double, a proxy) cannot be carried to an async twin.
        self._own_transport = transport is not None
        self._http = httpx.Client(
            transport=transport, timeout=self._timeout, follow_redirects=False
        )

    def submit(self, model: str, input: Mapping[str, Any], *, strict: bool = True) -> str:
        """Validate ``input`` for ``model`` and create the task; returns the task id.

        Nothing invalid is sent: a :class:`ValidationError` names every bad parameter.
        Edit models' ``image_urls`` may hold PIL images, ``pathlib.Path`` objects and bytes
        besides URL strings: they are sent as data URIs (see :mod:`mountsea_widgets.image_input`).

        ``strict=False`` sends a value the catalog refuses (one the hub may know, e.g. a new
        aspect ratio) as given, with an :class:`~mountsea_widgets.UncheckedValueWarning`
        naming the parameter and why the catalog refused it; the hub decides. Values no request
        can carry (not JSON, text that is not valid Unicode) are refused all the same.
        """
        task_id, _ = self._run(self._submit_flow(model, input, strict=strict))
        return task_id

    def get_task(self, task_id: str) -> TaskStatus:
        """Poll the task once."""
        status, _ = self._run(self._poll_flow(task_id))
        return status

    def wait(
        self,
        task_id: str,
        *,
        timeout: float | None = None,
        model: str | None = None,
        input: dict[str, Any] | None = None,
        on_status: StatusCallback | None = None,
    ) -> Result:
        """Poll until the task is ready, download its images and return the :class:`Result`.

        Raises :class:`TaskFailedError` (failed/timeout/cancelled on the hub) or
        :class:`TaskTimeoutError` (our ``timeout`` passed; the task may still finish).
        When an image fails to download, the error's ``downloaded`` lists the images that did
        arrive (``(bytes, content_type)``, None for the failed ones): they are paid for.
        ``model``/``input`` only label the Result and tune the poll timing.
        """
        return self._run(
            self._wait_flow(
                task_id,
                timeout=timeout,
                model=model,
                input=input,
                on_status=on_status,
                poll_first=True,
            )
        )

    def generate(
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
        """Submit ``prompt`` (plus the model's ``params``), wait, download; returns the Result.

        ``on_submitted(task_id)`` runs as soon as the task exists, before any polling.
        ``image_urls`` may mix URL strings, PIL images, ``pathlib.Path`` objects and bytes;
        ``result.input`` shows what was sent (data URIs for the non-strings). ``strict=False``
        sends values the catalog refuses, with a warning naming each (see :meth:`submit`).
        """
        return self._run(
            self._generate_flow(
                model,
                {"prompt": prompt, **params},
                timeout=timeout,
                on_submitted=on_submitted,
                on_status=on_status,
                strict=strict,
            )
        )

    def close(self) -> None:
        """Close the connection pool; the client refuses (sends nothing) from then on."""
        self._closed = True
        try:
            self._http.close()
        finally:
            self._release_logs()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the driver -----------------------------------------------------------------------------

    def _run(self, flow: Flow[_T]) -> _T:
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
                    value = self._perform(action)
                except Exception as exc:  # handed to the flow, which decides
                    error = exc
        finally:
            flow.close()

    def _perform(self, action: _Action) -> Any:
        if isinstance(action, _Send):
            return self._send(action)
        if isinstance(action, _Sleep):
            self._sleep(action.seconds)
            return None
        if isinstance(action, _Call):
            result = action.fn(*action.args)
            if inspect.isawaitable(result):
                if inspect.iscoroutine(result):
                    result.close()
                raise TypeError(
                    f"{getattr(action.fn, '__name__', 'callback')} returned an awaitable; "
                    "async callbacks need AsyncClient"
                )
            return result
        return self._gather(action)

    def _send(self, action: _Send) -> _Reply:
        self._refuse_if_closed()
        response = self._http.send(action.request, stream=True)
        try:
            _check_declared_length(response, action.max_bytes)
            body = bytearray()
            started = self._clock()
            for chunk in response.iter_bytes():
                body += chunk
                _check_body(body, action, self._clock() - started, response.num_bytes_downloaded)
        finally:
            response.close()
        return _Reply(response.status_code, response.headers, bytes(body), str(response.url))

    def _gather(self, action: _Gather) -> list[Any]:
        if len(action.flows) <= 1:
            return [self._run(flow) for flow in action.flows]
        workers = min(DOWNLOAD_WORKERS, len(action.flows))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mountsea-dl") as pool:
            futures = [pool.submit(self._run, flow) for flow in action.flows]
            return _collect([_outcome(future.result) for future in futures])


def _outcome(get: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    try:
        return get(), None
    except Exception as exc:
        return None, exc


def _collect(outcomes: list[tuple[Any, BaseException | None]]) -> list[Any]:
    """Results in order once every side-by-side flow is done; the first failure is raised,
    carrying what the others got as ``downloaded`` (None where a flow failed)."""
    for _, error in outcomes:
        if error is not None:
            with contextlib.suppress(AttributeError, TypeError):
                error.downloaded = [value for value, _ in outcomes]  # type: ignore[attr-defined]
            raise error
    return [value for value, _ in outcomes]
