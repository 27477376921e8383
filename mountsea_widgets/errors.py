"""The one exception tree of mountsea-widgets, and the one place that maps HTTP statuses to it.

Every error a user can meet is a :class:`MountseaError`. Messages never contain the API key:
the client scrubs it (see :func:`scrub`) before any text reaches an exception.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus


class MountseaError(Exception):
    """Base class of every error raised by mountsea-widgets."""


# --- client-side validation -------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: which parameter, what was given, and what is allowed."""

    param: str
    message: str
    value: Any = None
    allowed: str = ""

    def __str__(self) -> str:
        allowed = f" (allowed: {self.allowed})" if self.allowed else ""
        return f"{self.param}: {self.message}{allowed}"


class ValidationError(MountseaError, ValueError):
    """The input breaks the model's parameter rules; nothing was sent.

    ``problems`` lists every problem found (not only the first), each naming the parameter.
    """

    def __init__(self, model: str, problems: Sequence[Problem]) -> None:
        self.model = model
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        noun = "problem" if len(self.problems) == 1 else "problems"
        super().__init__(f"Invalid input for {model!r} ({len(self.problems)} {noun}):\n{lines}")

    @property
    def params(self) -> list[str]:
        """The names of the parameters that have a problem, in order."""
        return [p.param for p in self.problems]


# --- HTTP status errors ----------------------------------------------------------------------


class APIError(MountseaError):
    """The hub answered with an error status. ``body`` is the parsed JSON (or text) it sent."""

    def __init__(self, message: str, *, status_code: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.body = body


class AuthenticationError(APIError):
    """401/403: the API key is missing, wrong or not allowed to do this."""


class PaymentRequiredError(APIError):
    """402: the account has no credits left for this request."""


class NotFoundError(APIError):
    """404: unknown model, task or route."""


class BadRequestError(APIError):
    """400/422: the hub rejected the input."""


class RateLimitError(APIError):
    """429: too many requests; ``retry_after`` is the wait the hub asked for, in seconds."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = 429,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, body=body)
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx: the hub failed; usually worth retrying later."""


class InvalidResponseError(APIError):
    """The hub answered 2xx but with a body we cannot understand (malformed JSON, no task id)."""


class ResponseTooLargeError(InvalidResponseError):
    """The hub's answer was bigger than any answer of its kind can need, so it was not read.

    ``limit`` is the cap, in bytes (decoded size). Reading stopped at the cap: a compressed
    answer can inflate a thousandfold, and the whole of it would have been held in memory.
    """

    def __init__(self, message: str, *, limit: int, status_code: int | None = None) -> None:
        super().__init__(message, status_code=status_code)
        self.limit = limit


class AmbiguousTaskIdError(InvalidResponseError):
    """The hub accepted a task but its answer names different task ids; none was followed.

    ``task_ids`` holds every id the answer gave (``task_id`` first, then ``taskId``, then those
    inside ``data``), so none is lost; ``task_id`` is the first of them. The task was created
    (and may be billed): resume the right one with ``client.wait(id)``.
    """

    def __init__(
        self, task_ids: Sequence[str], *, status_code: int | None = None, body: Any = None
    ) -> None:
        self.task_ids = tuple(task_ids)
        self.task_id = self.task_ids[0]
        listed = " and ".join(repr(server_text(str(i), 200)) for i in self.task_ids)
        waits = " or ".join(f"client.wait({server_text(str(i), 200)!r})" for i in self.task_ids)
        http = f" (HTTP {status_code})" if status_code else ""
        super().__init__(
            f"The hub accepted the task{http} but its answer names {len(self.task_ids)} "
            f"different task ids ({listed}), and it is not known which one to poll, so none "
            "is followed. The task exists and may be billed: check which one the hub knows, "
            f"then resume it with {waits}.",
            status_code=status_code,
            body=body,
        )


# --- transport errors -------------------------------------------------------------------------


class APIConnectionError(MountseaError):
    """The hub could not be reached, or the connection broke."""


class APITimeoutError(APIConnectionError):
    """A request to the hub timed out (connect or read)."""


# --- a client that cannot work ------------------------------------------------------------------


class ClientStateError(MountseaError, RuntimeError):
    """The client cannot send anything in its present state; nothing was sent."""


class ClientClosedError(ClientStateError):
    """The client was closed (``close()`` or the end of its ``with`` block)."""


class EventLoopError(ClientStateError):
    """An :class:`~mountsea_widgets.client.AsyncClient` was used on a second event loop.

    Its connections belong to the loop it first ran on (each ``asyncio.run`` makes, then
    closes, a loop of its own).
    """


# --- task ids ----------------------------------------------------------------------------------


class TaskIdError(MountseaError, ValueError):
    """A task id that cannot name a task on the hub; ``task_id`` holds it in full.

    Raised before anything is sent when such an id is given to poll or wait, and after a
    submit whose answer holds one (the task may exist: the id is kept on the error).
    """

    def __init__(self, message: str, task_id: Any) -> None:
        super().__init__(message)
        self.task_id = task_id


# --- task outcome errors -----------------------------------------------------------------------


class TaskFailedError(MountseaError):
    """The task ended without images: hub status ``failed``, ``timeout`` or ``cancelled``."""

    def __init__(
        self,
        task_id: str,
        error_code: Any = None,
        error_message: str | None = None,
        *,
        status: str = "failed",
    ) -> None:
        self.task_id = task_id
        self.error_code = error_code
        self.error_message = error_message
        self.status = status
        detail = server_text(error_message) if error_message else "no reason given"
        code = f" [{server_text(str(error_code), 200)}]" if error_code not in (None, "") else ""
        super().__init__(f"Task {task_id} ended {status}{code}: {detail}")


class TaskNotFoundError(NotFoundError):
    """The hub kept answering 404 for a task: it does not know the id (or lost the task)."""

    def __init__(self, message: str, task_id: str, *, body: Any = None) -> None:
        super().__init__(message, status_code=404, body=body)
        self.task_id = task_id


class TaskTimeoutError(MountseaError):
    """We stopped waiting for a task after ``timeout`` seconds; the task may still finish."""

    def __init__(self, task_id: str, timeout: float) -> None:
        self.task_id = task_id
        self.timeout = timeout
        super().__init__(
            f"Task {task_id} was not ready after {timeout:g} s; it may still finish on the hub "
            f"(resume it with client.wait({task_id!r}))."
        )


class ImageError(MountseaError):
    """A result image could not be fetched or decoded safely (bad URL, bytes, size or scheme)."""


class LiveCatalogWarning(UserWarning):
    """The hub's live catalog could not be used (the bundled one is), or a value sent is no
    longer listed by the hub (see ``mw.catalog.diff()``)."""


# --- the single status → class map --------------------------------------------------------------

_STATUS_CLASSES: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: AuthenticationError,
    404: NotFoundError,
    422: BadRequestError,
    429: RateLimitError,
}


def error_class_for_status(status_code: int) -> type[APIError]:
    """The exception class for an HTTP error status (the one mapping used everywhere)."""
    if status_code in _STATUS_CLASSES:
        return _STATUS_CLASSES[status_code]
    if status_code >= 500:
        return ServerError
    return APIError


def make_status_error(status_code: int, body: Any, *, retry_after: float | None = None) -> APIError:
    """Build the typed error for an HTTP error response, with the hub's message when it has one."""
    cls = error_class_for_status(status_code)
    detail = _message_from_body(body)
    message = f"HTTP {status_code}" + (f": {detail}" if detail else "")
    if cls is RateLimitError:
        return RateLimitError(message, status_code=status_code, body=body, retry_after=retry_after)
    return cls(message, status_code=status_code, body=body)


def _message_from_body(body: Any) -> str:
    if isinstance(body, dict):
        for key in ("message", "error_message", "detail", "error"):
            value = body.get(key)
            if isinstance(value, list):
                return server_text("; ".join(str(v) for v in value[:50]))
            if value:
                return server_text(str(value))
        return ""
    if isinstance(body, str):
        return server_text(body.strip(), 500)
    return ""


#: Longest server text (an error message) carried into an exception, a run or a cell.
MAX_SERVER_TEXT = 2000
#: Control characters (C0 but tab and newline, DEL, C1): escape sequences a server could use
#: to rewrite a terminal line or write to the clipboard when the text is printed.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def server_text(text: str, limit: int = MAX_SERVER_TEXT) -> str:
    """Text from a server made safe to show: control characters out, at most ``limit`` long."""
    cleaned = _CONTROL.sub("", text)
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1] + "…"
    return cleaned


def scrub(text: str, secret: str | None) -> str:
    """Remove ``secret`` from ``text`` (used on every message that may echo a request)."""
    if secret and len(secret) >= 4:
        # Also its percent-encoded forms: a server echoing the key in a URL or a query string
        # (in either case of hex: ``%2F`` and ``%2f`` are the same character).
        for form in {quote(secret, safe=""), quote(secret), quote_plus(secret), secret}:
            text = text.replace(form, "***")
            if "%" in form:
                text = _encoded_form(form).sub("***", text)
    return text


def _encoded_form(form: str) -> re.Pattern[str]:
    """A pattern for a percent-encoded ``form`` whose escapes match in either case."""
    parts = re.split(r"(%[0-9A-Fa-f]{2})", form)
    return re.compile(
        "".join(
            f"(?i:{re.escape(part)})" if part.startswith("%") else re.escape(part)
            for part in parts
            if part
        )
    )
