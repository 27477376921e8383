"""HTTP client for the Mountsea hub: submit a task, poll it, download its images. Sync and async.

How the two clients share everything but the I/O (the idea of httpx's ``BaseClient``, taken one
step further): every operation — retries, polling, redirects, downloads — is written once, in
:class:`BaseClient`, as a generator that *yields* what it needs done (send this request, sleep
this long, call this callback, run these downloads side by side) and receives the outcome.
:class:`Client` performs those steps with blocking calls, :class:`AsyncClient` awaits them. So
the rules that must never diverge (never resubmit a task that may exist, never trust a server's
URL) live in one place.

>>> import mountsea_widgets as mw
>>> with mw.Client() as client:                                        # doctest: +SKIP
...     result = client.generate("nano-banana", "a red cube", seed=1)
...     result.images[0]
"""

from __future__ import annotations

from .._config import DEFAULT_BASE_URL
from ._async import AsyncClient
from ._base import BaseClient, StatusCallback, SubmittedCallback
from ._protocol import (
    DOWNLOAD_WORKERS,
    IMAGE_NOT_FOUND_RETRIES,
    MAX_DOWNLOAD_SECONDS,
    MAX_IMAGES_PER_TASK,
    MAX_INLINE_JSON_BYTES,
    MAX_JSON_BYTES,
    MAX_JSON_INFLATION,
    MAX_REDIRECTS,
    MAX_TASK_ID_LENGTH,
    MAX_TASK_PIXELS,
    TASK_NOT_FOUND_RETRIES,
    USER_AGENT,
)
from ._sync import Client

__all__ = [
    "DEFAULT_BASE_URL",
    "DOWNLOAD_WORKERS",
    "IMAGE_NOT_FOUND_RETRIES",
    "MAX_DOWNLOAD_SECONDS",
    "MAX_IMAGES_PER_TASK",
    "MAX_INLINE_JSON_BYTES",
    "MAX_JSON_BYTES",
    "MAX_JSON_INFLATION",
    "MAX_REDIRECTS",
    "MAX_TASK_ID_LENGTH",
    "MAX_TASK_PIXELS",
    "TASK_NOT_FOUND_RETRIES",
    "USER_AGENT",
    "AsyncClient",
    "BaseClient",
    "Client",
    "StatusCallback",
    "SubmittedCallback",
]
