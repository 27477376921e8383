"""The simulated credits service: ``GET /api-user/credits`` → ``{"credits": N}``.

As documented for the real service, the key comes in the header ``X-API-Key: <key>`` (or as
``?key=``), never as a bearer token. The balance starts at ``credits`` and goes down by the
estimated price of every task that has ended ``completed`` (the hub bills completed tasks
only); in the simulator one credit is one dollar of the estimate.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable, Mapping
from typing import Any

from .._cost import estimate_input

#: The route the credits service answers on.
CREDITS_PATH = "/api-user/credits"
#: The balance a simulated account starts with (the documented example's figure).
DEFAULT_CREDITS = 10000.0


class Account:
    """The simulated account's balance; thread-safe.

    ``api_key``: the key the service accepts (None: any key, or none, is accepted).
    """

    def __init__(self, credits: float = DEFAULT_CREDITS, api_key: str | None = None) -> None:
        self.start = float(credits)
        self._api_key = api_key or None
        self._prices: dict[str, float] = {}
        self._lock = threading.Lock()
        #: Requests answered, and how many were refused for a missing or wrong key.
        self.requests = 0
        self.refused = 0

    def price(self, task_id: str, model: str, input: Mapping[str, Any]) -> None:
        """Note what task ``task_id`` is estimated to cost (charged once it completes)."""
        try:
            amount = estimate_input(model, input).amount
        except Exception:  # a model of another catalog, or a broken price table: no charge
            amount = None
        with self._lock:
            self._prices[task_id] = float(amount or 0.0)

    def balance(self, completed: Callable[[str], bool]) -> float:
        """The start balance less the estimated price of every task ``completed`` says ended so."""
        with self._lock:
            prices = dict(self._prices)
        spent = sum(amount for task_id, amount in prices.items() if completed(task_id))
        return round(self.start - spent, 6)

    def answer(
        self, headers: Mapping[str, str], query: Mapping[str, str], completed: Callable[[str], bool]
    ) -> tuple[int, dict[str, Any]]:
        """``(status, JSON body)`` for one request to :data:`CREDITS_PATH`."""
        with self._lock:
            self.requests += 1
        given = headers.get("x-api-key") or query.get("key") or ""
        if self._api_key is not None and not hmac.compare_digest(
            given.encode("utf-8"), self._api_key.encode("utf-8")
        ):
            with self._lock:
                self.refused += 1
            return 401, {"error": "missing or invalid API key: send the header X-API-Key: <key>"}
        return 200, {"credits": self.balance(completed)}
