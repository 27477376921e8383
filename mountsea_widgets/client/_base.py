"""Every client operation written once, as a flow: retries, polling, redirects, downloads."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx

from .. import _submit_watch as submit_watch
from .._config import DEFAULT_BASE_URL, configured, settings
from .._durations import estimate
from .._image_input import needs_conversion, prepare_input
from .._images import MAX_IMAGE_BYTES, declared_pixels, parse_data_uri
from .._polling import PollSchedule
from .._retry import SUBMIT_RETRY_STATUSES, RetryPolicy, never_sent, parse_retry_after
from .._unchecked import check_input
from .._unchecked import warn as warn_unchecked
from ..catalog import catalog
from ..errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ClientClosedError,
    ImageError,
    InvalidResponseError,
    MountseaError,
    NotFoundError,
    Problem,
    RateLimitError,
    ResponseTooLargeError,
    TaskFailedError,
    TaskIdError,
    TaskNotFoundError,
    TaskTimeoutError,
    ValidationError,
    make_status_error,
    scrub,
)
from ..result import Result
from ..task import FAILED, ImageRef, TaskStatus
from ._log_scrub import guard_logs
from ._pace import RequestPace
from ._protocol import (
    _MAYBE_CREATED,
    _REDIRECTS,
    _SUBMIT_PATH,
    _TASK_PATH,
    IMAGE_NOT_FOUND_RETRIES,
    MAX_DOWNLOAD_SECONDS,
    MAX_IMAGES_PER_TASK,
    MAX_INLINE_JSON_BYTES,
    MAX_JSON_BYTES,
    MAX_JSON_INFLATION,
    MAX_REDIRECTS,
    MAX_TASK_PIXELS,
    TASK_NOT_FOUND_RETRIES,
    USER_AGENT,
    StatusCallback,
    SubmittedCallback,
    _check_task_id,
    _json_object,
    _origin,
    _task_id,
    _task_id_problem,
    _verify_image,
)
from ._scrub import _E, _describe_data, _mask, _reword, _scrub_strings, _short, _with_task
from ._steps import Flow, _BodyTooLarge, _BodyTooSlow, _Call, _Gather, _Reply, _Send, _Sleep

log = logging.getLogger("mountsea_widgets.client")


# --- request building and the flows, without I/O ------------------------------------------------


class BaseClient:
    """Everything both clients share: configuration, request building, parsing and the flows."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float = 60.0,
        max_retries: int = 3,
        clock: Callable[[], float] = time.monotonic,
        durations: Mapping[str, float] | None = None,
        windows: Mapping[str, tuple[float, float]] | None = None,
        max_requests_per_second: float | None = None,
    ) -> None:
        if api_key is not None and not isinstance(api_key, str):
            raise TypeError(f"api_key must be a string, got {type(api_key).__name__}")
        key, url = configured(api_key.strip() if api_key else None, base_url)
        self._api_key: str | None = key.strip() or None if key else None
        if self._api_key is not None and not (
            self._api_key.isascii() and self._api_key.isprintable()
        ):
            # Said without the key: an HTTP header cannot carry it, and the encoding error
            # httpx would raise later quotes the whole header.
            raise ValueError(
                "api_key holds characters an HTTP header cannot carry (non-ASCII or control "
                "characters, e.g. an invisible one pasted with it); copy the key again"
            )
        #: True when no key and no base URL are configured and the embedded simulator answers.
        self.offline = False
        if url is None and self._api_key is None:
            # Same default as mw.generate and the Studio: the offline simulator, never a keyless
            # request to the paid hub.
            resolved = settings()
            url, self.offline = resolved.base_url, True
            durations = {**resolved.durations(), **(durations or {})}
        url = url or DEFAULT_BASE_URL
        parts = urlsplit(str(url))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL!r}, got {url!r}"
            )
        self.base_url: str = str(url).rstrip("/")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries must be an integer >= 0, got {max_retries!r}")
        self.timeout = float(timeout)
        self.max_retries = max_retries
        self._timeout = httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0))
        self._retry = RetryPolicy(max_retries=max_retries)
        self._clock = clock
        self._origin = _origin(self.base_url)
        # Expected seconds per model: measured durations or a fast simulator's, over the defaults.
        self.durations: dict[str, float] = dict(durations or {})
        # Learned finish windows (earliest, latest seconds) per model, from a history.
        self.windows: dict[str, tuple[float, float]] = dict(windows or {})
        #: This client's own cap on requests per second (None: none), shared by all its runs.
        self.max_requests_per_second = max_requests_per_second
        self._pace = (
            RequestPace(max_requests_per_second, clock)
            if max_requests_per_second is not None
            else None
        )
        self._closed = False
        # Log records of httpx, httpcore and the package lose the key while this client lives.
        self._release_logs = guard_logs(self, self._api_key)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called: the client sends nothing more."""
        return self._closed

    def _refuse_if_closed(self) -> None:
        if self._closed:
            raise ClientClosedError(
                f"This {type(self).__name__} was closed (close() or the end of its with block), "
                "so nothing was sent; make a new one for more requests."
            )

    # -- small pure helpers ---------------------------------------------------------------------

    @property
    def has_api_key(self) -> bool:
        """Whether requests to the hub carry an API key."""
        return self._api_key is not None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, api_key={_mask(self._api_key)!r})"
        )

    def _scrub(self, text: str) -> str:
        return scrub(text, self._api_key)

    def _scrubbed(self, error: _E) -> _E:
        """``error`` with the key removed from its message (a last line of defence)."""
        text = str(error)
        if self._api_key and self._api_key in text:
            _reword(error, self._scrub(text))
        return error

    def expected_seconds(self, model: str | None) -> float:
        """How long a task of ``model`` usually takes (drives the poll schedule)."""
        name = model or ""
        if name in self.durations:
            return self.durations[name]
        return estimate(name)

    def poll_schedule(self, model: str | None) -> PollSchedule:
        """The poll timing for a task of ``model`` (override to tune polling)."""
        return PollSchedule(
            expected_s=self.expected_seconds(model), window_s=self.windows.get(model or "")
        )

    def _build_request(
        self, method: str, url: str, *, json_body: Any = None, accept: str = "application/json"
    ) -> httpx.Request:
        headers = {"User-Agent": USER_AGENT, "Accept": accept}
        # The key goes only to the hub's own origin, never to an image host or a redirect target.
        if self._api_key and _origin(url) == self._origin:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return httpx.Request(
            method,
            url,
            headers=headers,
            json=json_body,
            extensions={"timeout": self._timeout.as_dict()},
        )

    def _transport_error(
        self, exc: BaseException, what: str, *, idempotent: bool
    ) -> APIConnectionError:
        detail = self._scrub(str(exc) or "no detail")
        maybe = "" if idempotent or never_sent(exc) else _MAYBE_CREATED
        kind = type(exc).__name__
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(f"{what} timed out ({kind}: {detail}).{maybe}")
        return APIConnectionError(
            f"{what} failed: could not talk to {self._origin_text()} ({kind}: {detail}).{maybe}"
        )

    def _unexpected_send_error(
        self, exc: BaseException, what: str, *, idempotent: bool
    ) -> APIConnectionError:
        detail = self._scrub(str(exc) or "no detail")
        maybe = "" if idempotent else _MAYBE_CREATED
        return APIConnectionError(
            f"{what} failed while talking to {self._origin_text()}: {detail}.{maybe}"
        )

    def _origin_text(self) -> str:
        scheme, host, port = self._origin
        return f"{scheme}://{host}:{port}"

    def _status_error(
        self, reply: _Reply, retry_after: float | None, what: str, *, idempotent: bool
    ) -> APIError:
        text = self._scrub(reply.content.decode("utf-8", "replace"))
        body: Any
        try:
            # Scrubbed again once parsed: a JSON escape ("\/" for "/") hides the key from
            # the scrub of the raw text.
            body = _scrub_strings(json.loads(text), self._api_key)
        except (ValueError, RecursionError):  # RecursionError: hostile nesting ("[[[[...")
            body = text[:2000]
        error = make_status_error(reply.status_code, body, retry_after=retry_after)
        message = f"{what}: {error.message}"
        if reply.status_code in (401, 403) and self._api_key is None:
            message += " (no API key was sent: pass api_key= or set MOUNTSEA_API_KEY)"
        maybe_created = reply.status_code >= 500 and reply.status_code not in SUBMIT_RETRY_STATUSES
        if not idempotent and maybe_created:
            message += "." + _MAYBE_CREATED
        return _reword(error, self._scrub(message))

    # -- flows ----------------------------------------------------------------------------------

    def _paced(self) -> Flow[None]:
        """Wait for this request's slot under ``max_requests_per_second`` (none: at once)."""
        if self._pace is not None:
            wait = self._pace.reserve()
            if wait > 0:
                yield _Sleep(wait)

    def _api_flow(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        idempotent: bool,
        max_bytes: int = MAX_JSON_BYTES,
    ) -> Flow[tuple[dict[str, Any], _Reply]]:
        """One hub call with retries; returns the JSON object it answered and the reply.

        ``max_bytes`` caps the decoded answer (a task status needs far less than the cap).
        """
        url = self.base_url + path
        what = f"{method} {path}"
        attempt = 0
        while True:
            request = self._build_request(method, url, json_body=json_body)
            yield from self._paced()
            if not idempotent:
                # Whoever journals the run hears it now, before the body can reach the hub.
                submit_watch.sending()
            try:
                # The whole answer within the timeout: the per-read timeout alone lets a
                # server trickle a byte at a time forever, past any wait's deadline.
                reply: _Reply = yield _Send(
                    request, max_bytes, self.timeout, max_inflation=MAX_JSON_INFLATION
                )
            except httpx.RequestError as exc:
                if not idempotent and never_sent(exc):
                    submit_watch.refused(None)  # it never left: safe to send again
                retry = self._retry.may_retry_transport(exc, idempotent=idempotent)
                if retry and attempt < self._retry.max_retries:
                    delay = self._retry.backoff(attempt)
                    log.info("%s: %s; retrying in %.2f s", what, type(exc).__name__, delay)
                    attempt += 1
                    yield _Sleep(delay)
                    continue
                raise self._transport_error(exc, what, idempotent=idempotent) from None
            except _BodyTooSlow as exc:
                if idempotent and attempt < self._retry.max_retries:
                    delay = self._retry.backoff(attempt)
                    log.info("%s: %s; retrying in %.2f s", what, exc, delay)
                    attempt += 1
                    yield _Sleep(delay)
                    continue
                maybe = "" if idempotent else _MAYBE_CREATED
                raise APITimeoutError(f"{what} timed out: {exc}.{maybe}") from None
            except _BodyTooLarge as exc:
                raise self._too_large(exc, what, idempotent=idempotent) from None
            except MountseaError:  # the driver refused before sending (a closed client)
                raise
            except Exception as exc:
                # Anything else the send raised (a connection left on a closed event loop, a
                # custom transport's own error) came after the request may have gone out: a
                # typed error that says so, never a raw one that loses a created task.
                raise self._unexpected_send_error(exc, what, idempotent=idempotent) from None
            status = reply.status_code
            log.debug("%s -> HTTP %s", what, status)
            if 200 <= status < 300:
                body = _json_object(reply.content)
                if body is not None:
                    # A server that echoes the key (in a task's data, an error field) must not
                    # get it into a TaskStatus, a Result's raw answer or a callback.
                    return _scrub_strings(body, self._api_key), reply
                if idempotent and attempt < self._retry.max_retries:
                    delay = self._retry.backoff(attempt)
                    log.info("%s: malformed JSON answer; retrying in %.2f s", what, delay)
                    attempt += 1
                    yield _Sleep(delay)
                    continue
                snippet = self._scrub(reply.content[:200].decode("utf-8", "replace"))
                maybe = "" if idempotent else _MAYBE_CREATED
                raise InvalidResponseError(
                    f"{what}: the hub answered HTTP {status} but not with a JSON object "
                    f"(starts with {snippet!r}).{maybe}",
                    status_code=status,
                    body=snippet,
                )
            retry_after = parse_retry_after(reply.headers.get("retry-after"))
            retry = self._retry.may_retry_status(status, idempotent=idempotent)
            if not idempotent and status in SUBMIT_RETRY_STATUSES:
                # Refused before anything was accepted: said before the wait, so a process
                # killed while it waits leaves a run that is safe to send again.
                submit_watch.refused(status)
                if submit_watch.raise_refusals():
                    retry = False  # the caller waits and sends again itself (a batch)
            patient = retry_after is None or retry_after <= self._retry.max_retry_after_s
            if retry and patient and attempt < self._retry.max_retries:
                delay = retry_after if retry_after is not None else self._retry.backoff(attempt)
                log.info("%s: HTTP %s; retrying in %.2f s", what, status, delay)
                attempt += 1
                yield _Sleep(delay)
                continue
            raise self._status_error(reply, retry_after, what, idempotent=idempotent)

    def _too_large(self, exc: _BodyTooLarge, what: str, *, idempotent: bool) -> APIError:
        """The typed error for an answer stopped at its size cap, naming the cap."""
        maybe = "" if idempotent else _MAYBE_CREATED
        hint = ""
        if exc.limit == MAX_JSON_BYTES and not exc.inflated and what.startswith("GET"):
            hint = (
                "; a task asked with sync_mode=True carries its images inline: pass its input "
                "(input={'sync_mode': True}) to wait() to allow a bigger answer"
            )
        need = "" if exc.inflated else ", more than a task status can need"
        return ResponseTooLargeError(
            f"{what}: {exc}{need}, so it was not read{hint}.{maybe}",
            limit=exc.limit,
        )

    def _submit_flow(
        self, model: str, input: Mapping[str, Any], *, strict: bool = True
    ) -> Flow[tuple[str, dict[str, Any]]]:
        """Validate, then POST the task once (retried only where it provably was not created).

        ``strict=False``: values the catalog refuses but a request can carry are sent, each
        announced with an ``UncheckedValueWarning``.
        """
        if not isinstance(model, str):
            raise ValidationError(
                str(model), [Problem("model", "must be a model id string", model)]
            )
        spec = catalog.spec(model)
        if needs_conversion(input):
            # PIL images, paths and bytes in image_urls become data URIs before validation, so
            # the catalog's limits apply to what is sent (encoding runs off the event loop).
            input = yield _Call(prepare_input, (model, input), offload=True)
        checked = check_input(spec, input, strict=strict)
        warn_unchecked(model, checked)
        cleaned = checked.input
        what = f"POST {_SUBMIT_PATH}"
        body, reply = yield from self._api_flow(
            "POST", _SUBMIT_PATH, json_body={"model": model, "input": cleaned}, idempotent=False
        )
        task_id = _task_id(body, reply.status_code)
        if task_id is None:
            snippet = json.dumps(body)[:300]  # scrubbed of the key by _api_flow
            raise InvalidResponseError(
                f"{what}: the hub accepted the request (HTTP {reply.status_code}) but its answer "
                f"has no task id (task_id or taskId) that names a task: {snippet}.{_MAYBE_CREATED}",
                status_code=reply.status_code,
                body=body,
            )
        problem = _task_id_problem(task_id)
        if problem is not None:
            # The task exists (and may be billed) but cannot be polled: said, with the id kept
            # on the error in full and its start in the message, so the run can be found.
            raise TaskIdError(
                f"{what}: the hub created a task (HTTP {reply.status_code}) but its task id "
                f"{problem}, so it cannot be polled; it starts {_short(task_id)!r} (the whole "
                "id is on this error as .task_id). Check the task on the hub before submitting "
                "again.",
                task_id,
            )
        log.info("submitted %s task %s", model, task_id)
        return task_id, cleaned

    def _poll_flow(
        self, task_id: str, max_bytes: int = MAX_JSON_BYTES
    ) -> Flow[tuple[TaskStatus, float | None]]:
        """One poll of the task; also returns any Retry-After the hub sent with it."""
        path = _TASK_PATH + quote(_check_task_id(task_id), safe="")
        body, reply = yield from self._api_flow("GET", path, idempotent=True, max_bytes=max_bytes)
        status = TaskStatus.parse(body, task_id, base_url=self.base_url)
        return status, parse_retry_after(reply.headers.get("retry-after"))

    def _wait_flow(
        self,
        task_id: str,
        *,
        timeout: float | None,
        model: str | None,
        input: Mapping[str, Any] | None,
        on_status: StatusCallback | None,
        poll_first: bool,
    ) -> Flow[Result]:
        """Poll until ready, then download every image and build the Result."""
        _check_task_id(task_id)
        if timeout is not None and (isinstance(timeout, bool) or timeout <= 0):
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        schedule = self.poll_schedule(model)
        # Only a task asked for inline images may answer with more than a status needs.
        inline = isinstance(input, Mapping) and input.get("sync_mode") is True
        answer_cap = MAX_INLINE_JSON_BYTES if inline else MAX_JSON_BYTES
        start = self._clock()
        retry_after: float | None = None
        poll_now = poll_first
        found = False  # whether a poll has seen the task yet
        missing = 0  # 404s before that
        limited = 0  # polls rate limited (429) in a row
        while True:
            if not poll_now:
                # A Retry-After on a poll is advice from an untrusted server: capped like the
                # retry rules cap it, so "come back tomorrow" cannot freeze the wait.
                advised = (
                    None if retry_after is None else min(retry_after, self._retry.max_retry_after_s)
                )
                delay = schedule.next_delay(self._clock() - start, advised)
                if timeout is not None:
                    remaining = start + timeout - self._clock()
                    if remaining <= 0:
                        raise TaskTimeoutError(task_id, timeout)
                    delay = min(delay, remaining)
                yield _Sleep(delay)
            poll_now = False
            try:
                status, retry_after = yield from self._poll_flow(task_id, answer_cap)
            except RateLimitError as exc:
                # A poll changes nothing: a 429 (once its retries are spent) means "slower",
                # never "stop waiting"; the deadline still ends the wait. Without a Retry-After
                # the pauses keep growing, as the retries' did.
                retry_after = exc.retry_after
                if retry_after is None:
                    retry_after = self._retry.backoff(self._retry.max_retries + limited)
                limited += 1
                log.info("task %s: polls rate limited; waiting before the next one", task_id)
                continue
            except NotFoundError as exc:
                if found:
                    raise _with_task(exc, task_id) from None
                # A task just created (or just resumed) may not be visible on every hub node
                # yet: a few more polls with backoff, as for image files, before giving up.
                left = None if timeout is None else start + timeout - self._clock()
                if missing >= TASK_NOT_FOUND_RETRIES or (left is not None and left <= 0):
                    raise self._task_not_found(task_id, missing + 1, exc) from None
                delay = self._retry.backoff(missing)
                missing += 1
                log.info("task %s not found yet; polling again in %.2f s", task_id, delay)
                yield _Sleep(delay if left is None else min(delay, left))
                poll_now = True
                continue
            except MountseaError as exc:
                raise _with_task(exc, task_id) from None
            found, limited = True, 0
            if on_status is not None:
                yield from _callback_flow(on_status, (status,), task_id)
            if status.ready:
                break
        if status.status in FAILED or (status.status != "completed" and not status.images):
            raise TaskFailedError(
                task_id,
                status.error_code,  # the poll answer was scrubbed of the key by _api_flow
                status.error_message or None,
                status=status.status,
            )
        if not status.images:
            raise _with_task(
                InvalidResponseError(
                    f"Task {task_id} completed but its data holds no image URL "
                    f"({_describe_data(status.data)})",
                    body=status.raw,
                ),
                task_id,
            )
        if len(status.images) > MAX_IMAGES_PER_TASK:
            raise _with_task(
                ImageError(
                    f"Task {task_id} lists {len(status.images)} images; at most "
                    f"{MAX_IMAGES_PER_TASK} are downloaded for one task (models make up to 4)"
                ),
                task_id,
            )
        flows = tuple(
            self._download_flow(task_id, number, ref) for number, ref in enumerate(status.images, 1)
        )
        try:
            fetched: list[bytes] = yield _Gather(flows)
        except MountseaError as exc:
            # ``downloaded`` (set by the gather) keeps the files that did arrive: checked like
            # the others, they are paid-for images to keep.
            arrived = list(getattr(exc, "downloaded", None) or ())
            kept, _ = yield from _checked_images(task_id, arrived)
            exc.downloaded = kept  # type: ignore[attr-defined]
            raise _with_task(exc, task_id) from None
        checked, problem = yield from _checked_images(task_id, list(fetched))
        if problem is not None:
            problem.downloaded = checked  # type: ignore[attr-defined]
            raise _with_task(problem, task_id)
        downloads = [item for item in checked if item is not None]
        elapsed = (
            status.elapsed_ms / 1000 if status.elapsed_ms is not None else self._clock() - start
        )
        raw_model = status.raw.get("model")
        return Result(
            task_id=task_id,
            model=model or (raw_model if isinstance(raw_model, str) else ""),
            input=dict(input or {}),
            status=status.status,
            urls=[ref.url for ref in status.images],
            image_bytes=[data for data, _ in downloads],
            content_types=[content_type for _, content_type in downloads],
            elapsed_s=elapsed,
            raw=status.raw,
        )

    def _task_not_found(self, task_id: str, polls: int, error: NotFoundError) -> TaskNotFoundError:
        return TaskNotFoundError(
            self._scrub(
                f"Task {task_id} was not found on the hub: {polls} polls in a row answered "
                f"HTTP 404 ({error.message}). Check the task id; if the task was created only "
                f"just now, resume it later with client.wait({task_id!r})."
            ),
            task_id,
            body=error.body,
        )

    def _generate_flow(
        self,
        model: str,
        input: Mapping[str, Any],
        *,
        timeout: float | None,
        on_submitted: SubmittedCallback | None,
        on_status: StatusCallback | None,
        strict: bool = True,
    ) -> Flow[Result]:
        task_id, cleaned = yield from self._submit_flow(model, input, strict=strict)
        if on_submitted is not None:
            yield from _callback_flow(on_submitted, (task_id,), task_id)
        result: Result = yield from self._wait_flow(
            task_id,
            timeout=timeout,
            model=model,
            input=cleaned,
            on_status=on_status,
            poll_first=False,
        )
        return result

    def _download_flow(self, task_id: str, number: int, ref: ImageRef) -> Flow[bytes]:
        """Fetch one result image (or unpack its data URI); checked by :func:`_checked_images`."""
        where = f"Task {task_id} image {number}"
        if ref.url[:5].lower() == "data:":
            try:
                data, _ = parse_data_uri(ref.url)
            except ImageError as exc:
                raise ImageError(f"{where}: {exc}") from None
        else:
            data = yield from self._fetch_flow(ref.url, where)
        return data

    def _fetch_flow(self, url: str, where: str) -> Flow[bytes]:
        """GET an untrusted image URL: http(s) only, redirects re-checked, size-capped."""
        current = url
        hops = failures = missing = 0
        while True:
            request = self._image_request(current, where)
            try:
                yield from self._paced()
                reply: _Reply = yield _Send(request, MAX_IMAGE_BYTES, MAX_DOWNLOAD_SECONDS)
            except (_BodyTooLarge, _BodyTooSlow) as exc:
                raise ImageError(f"{where}: {exc}") from None
            except httpx.RequestError as exc:
                if failures < self._retry.max_retries:
                    delay = self._retry.backoff(failures)
                    failures += 1
                    yield _Sleep(delay)
                    continue
                raise self._transport_error(exc, f"{where} download", idempotent=True) from None
            except MountseaError:  # the driver refused before sending (a closed client)
                raise
            except Exception as exc:
                raise self._unexpected_send_error(
                    exc, f"{where} download", idempotent=True
                ) from None
            status = reply.status_code
            if status in _REDIRECTS:
                location = reply.headers.get("location")
                hops += 1
                if not location:
                    raise ImageError(f"{where}: HTTP {status} redirect without a Location")
                if hops > MAX_REDIRECTS:
                    raise ImageError(f"{where}: more than {MAX_REDIRECTS} redirects")
                current = urljoin(current, location)
                continue
            if 200 <= status < 300:
                return reply.content
            if status == 404 and missing < IMAGE_NOT_FOUND_RETRIES:
                delay = self._retry.backoff(missing)
                missing += 1
                yield _Sleep(delay)
                continue
            retry_after = parse_retry_after(reply.headers.get("retry-after"))
            if (
                self._retry.may_retry_status(status, idempotent=True)
                and failures < self._retry.max_retries
                and (retry_after is None or retry_after <= self._retry.max_retry_after_s)
            ):
                delay = retry_after if retry_after is not None else self._retry.backoff(failures)
                failures += 1
                yield _Sleep(delay)
                continue
            raise ImageError(
                self._scrub(f"{where}: downloading {_short(current)} failed with HTTP {status}")
            )

    def _image_request(self, url: str, where: str) -> httpx.Request:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            raise ImageError(
                f"{where}: refusing the URL {_short(url)!r}; only http(s) URLs and data: URIs "
                "are accepted"
            )
        try:
            return self._build_request("GET", url, accept="image/*")
        except (httpx.InvalidURL, ValueError) as exc:
            raise ImageError(f"{where}: invalid URL {_short(url)!r} ({exc})") from None


def _checked_images(
    task_id: str, fetched: list[bytes | None]
) -> Flow[tuple[list[tuple[bytes, str] | None], ImageError | None]]:
    """Each fetched file (None: not fetched) checked to be an image, within the pixel budget.

    An image's size is read from its header before it is decoded: one that would take the
    task past :data:`MAX_TASK_PIXELS` is refused undecoded. The images are decoded one at a
    time, so at most one is held decoded. Returns ``(bytes, content_type)`` per image (None
    for those refused or missing) and the error for the first one refused.
    """
    checked: list[tuple[bytes, str] | None] = [None] * len(fetched)
    problem: ImageError | None = None
    used = 0
    for index, data in enumerate(fetched):
        if data is None:
            continue
        where = f"Task {task_id} image {index + 1}"
        try:
            pixels: int = yield _Call(declared_pixels, (data,), offload=True)
            if used + pixels > MAX_TASK_PIXELS:
                raise ImageError(
                    f"the task's images declare more than {MAX_TASK_PIXELS:,} pixels in all "
                    f"(this one is {pixels:,}, after {used:,} in the images before it), the "
                    "most decoded for one task; it was refused before decoding"
                )
            content_type: str = yield _Call(_verify_image, (data,), offload=True)
        except ImageError as exc:
            problem = problem or ImageError(f"{where}: {exc}")
            continue
        used += pixels
        checked[index] = (data, content_type)
    return checked, problem


def _callback_flow(fn: Callable[..., Any], args: tuple[Any, ...], task_id: str) -> Flow[None]:
    """Call the caller's callback; an error in it still names the task, so the id is not lost.

    The caller's own exception goes on up (it is their bug to see), with ``task_id`` set on it
    and a note naming the task.
    """
    try:
        yield _Call(fn, args)
    except Exception as exc:
        with contextlib.suppress(AttributeError, TypeError):
            exc.task_id = task_id  # type: ignore[attr-defined]
        add_note = getattr(exc, "add_note", None)  # Python 3.11+
        if add_note is not None:
            add_note(f"Task {task_id} is not lost: resume it with client.wait({task_id!r}).")
        raise
