"""The account's credits, from the documented credits service.

``GET <usage URL>/api-user/credits`` with the header ``X-API-Key: <key>`` answers
``{"credits": N}``. The usage URL is ``MOUNTSEA_USAGE_URL``, else ``https://dk.mountsea.ai`` for
the real hub (see :func:`~mountsea_widgets._config.usage_url`). The key goes there in that
header only, and nowhere else; redirects are not followed (they could carry the header to
another host), and the answer is checked before it is believed.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import httpx

from ._config import usage_url

__all__ = ["CREDITS_PATH", "Credits", "CreditsError", "credits_target", "fetch_credits"]

CREDITS_PATH = "/api-user/credits"
#: The longest answer read from the service (it is a few bytes of JSON).
MAX_ANSWER_BYTES = 64 * 1024
#: Seconds to wait for the service (it must never hold anything up for long).
TIMEOUT_S = 10.0


class CreditsError(Exception):
    """The credits could not be fetched; the message says why, in plain words (never the key)."""


@dataclass(frozen=True)
class Credits:
    """The account's balance as the service reported it (in its own unit, credits)."""

    credits: float
    url: str

    def __str__(self) -> str:
        value = (
            f"{self.credits:,.0f}" if self.credits == int(self.credits) else f"{self.credits:,.2f}"
        )
        return f"{value} credits"


def credits_target(client: Any, offline: bool | None) -> tuple[str, str | None] | None:
    """``(usage URL, key)`` for the hub ``client`` talks to, or None when there is no known
    credits service: the offline simulator (``offline``) answers for itself, without a key; a
    keyed client asks the configured service with its key; anything else has none."""
    base = str(getattr(client, "base_url", "") or "")
    if offline:
        return (base, None) if base else None
    # The client's own key: the one the hub gets, sent here in the service's own header.
    key = getattr(client, "_api_key", None)
    if not isinstance(key, str) or not key:
        return None
    url = usage_url(base or None)
    return (url, key) if url else None


def _number(body: Any) -> float:
    value = body.get("credits") if isinstance(body, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CreditsError("the credits service sent an answer without a credits figure")
    return float(value)


def fetch_credits(
    url: str,
    api_key: str | None,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: float = TIMEOUT_S,
) -> Credits:
    """Ask the credits service at ``url`` for the balance of ``api_key``'s account.

    Raises :class:`CreditsError` with a plain message when it cannot be had.
    """
    scheme = url.split(":", 1)[0].lower()
    if scheme not in ("http", "https"):
        raise CreditsError("the credits service address must start with http:// or https://")
    headers = {"Accept": "application/json"}
    if api_key:
        headers["X-API-Key"] = api_key
    target = url.rstrip("/") + CREDITS_PATH
    try:
        with (
            httpx.Client(transport=transport, timeout=timeout, follow_redirects=False) as http,
            http.stream("GET", target, headers=headers) as reply,
        ):
            if reply.status_code in (401, 403):
                raise CreditsError("the credits service did not accept the API key")
            if reply.status_code != 200:
                raise CreditsError(f"the credits service answered with status {reply.status_code}")
            data = b""
            for chunk in reply.iter_bytes():
                data += chunk
                if len(data) > MAX_ANSWER_BYTES:
                    raise CreditsError("the credits service sent an answer far too long")
    except httpx.TimeoutException:
        raise CreditsError("the credits service did not answer in time") from None
    except httpx.HTTPError:
        raise CreditsError("the credits service could not be reached") from None
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise CreditsError("the credits service sent an answer that is not JSON") from None
    return Credits(_number(body), url)
