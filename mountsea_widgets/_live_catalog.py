"""The live catalog: the hub's own model list and schemas, fetched, cached and merged.

``mw.catalog.refresh()`` asks the hub (``GET /hub/v1/models?capability=image``, then
``GET /hub/v1/models/{model}`` for each model) and merges the answers over the bundled catalog:

- a model only the hub lists is added (its controls are built from its ``input_schema``);
- a new value of an enum (or a wider range) is accepted;
- a value the hub no longer lists stays accepted, so a saved run can still be repeated, with a
  note on the parameter and one warning the first time it is sent (the hub has the last word);
- what only the bundled catalog knows (size rules, unavailable parameters) is kept.

``mw.catalog.diff()`` shows what differs. Without a refresh, the automatic path runs **once per
process and hub**, when a key or a base URL is configured (never for the embedded offline
simulator) and a model is unknown to the catalog, or a value is refused: ``mw.generate``, the
Studio (also in the background when it opens), and :func:`spec_for` / :func:`validated` for
any caller. It reads a fresh disk cache when there is one, else fetches within a short budget
(:data:`FETCH_BUDGET_S`); a hub that fails, is slow, or answers in a layout this version
cannot read leaves the bundled catalog in use, with one warning.

Reading answers is ``_live_schema``'s work, merging them ``_live_merge``'s, and the disk cache
(one file per hub under :func:`~mountsea_widgets._config.cache_folder`, valid for a day)
``_live_cache``'s; this module fetches, and keeps the state of this process.
"""

from __future__ import annotations

import json
import threading
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from ._live_cache import Cache
from ._live_merge import CatalogDiff, build
from ._live_schema import LayoutError, parse_model_list
from .catalog import Catalog, ModelSpec, catalog
from .errors import LiveCatalogWarning, ValidationError

#: Seconds one refresh may take in all (the list and every model's detail): a slow hub never
#: holds up a run for longer; what has not arrived by then stays as bundled.
FETCH_BUDGET_S = 3.0
#: Largest answer read: the model list, and one model's detail.
MAX_LIST_BYTES = 1_000_000
MAX_DETAIL_BYTES = 256_000

_LIST_PATH = "/hub/v1/models"
_DETAIL_PATH = "/hub/v1/models/"


class FetchError(Exception):
    """The hub's models could not be fetched; the message says why, in plain words."""


@dataclass(frozen=True)
class Target:
    """The hub to ask: its base URL and key (the key never shown), whether it is the embedded
    offline simulator, and whether the client sends through a transport of its own (a test
    double, a proxy, a client of another kind: the live catalog cannot borrow it, so nothing is
    fetched)."""

    base_url: str
    api_key: str | None = field(default=None, repr=False)
    offline: bool = False
    own_transport: bool = False


def target_of(client: Any = None) -> Target:
    """The hub ``client`` talks to, or the configured one (the embedded simulator when none)."""
    if client is not None:
        from .client import BaseClient

        if not isinstance(client, BaseClient):
            # Not one of the package's clients: its key and transport are its own business.
            return Target(str(getattr(client, "base_url", "")).rstrip("/"), own_transport=True)
        return Target(
            base_url=str(client.base_url).rstrip("/"),
            api_key=getattr(client, "_api_key", None),
            offline=bool(getattr(client, "offline", False)),
            # Client marks a transport given to it; AsyncClient marks connections it made.
            own_transport=bool(getattr(client, "_own_transport", False))
            or getattr(client, "_own_connections", True) is False,
        )
    from ._config import settings

    resolved = settings()
    return Target(resolved.base_url, resolved.api_key, resolved.offline)


def configured_target(client: Any = None) -> Target | None:
    """The hub the automatic path may ask: None when the embedded offline simulator answers."""
    if client is None:
        from ._config import configured

        key, url = configured()
        if key is None and url is None:
            return None  # offline: the bundled catalog, without starting anything
    target = target_of(client)
    return None if target.offline or target.own_transport else target


# --- fetching -------------------------------------------------------------------------------------


def fetch_answers(target: Target, budget_s: float = FETCH_BUDGET_S) -> dict[str, Any]:
    """The hub's raw answers: ``{"list": ..., "details": {id: ...}}`` (parsed JSON only).

    The list must arrive; a detail that fails or does not arrive in the budget is left out
    (that model stays as bundled). Raises :class:`FetchError`.
    """
    import httpx

    if target.own_transport:
        raise FetchError(
            "this client sends through a transport of its own, which the live catalog cannot "
            "use; pass a client made without one, e.g. mw.Client(base_url=...)"
        )
    deadline = time.monotonic() + budget_s
    headers = {"Accept": "application/json", "User-Agent": "mountsea-widgets live catalog"}
    if target.api_key:
        headers["Authorization"] = f"Bearer {target.api_key}"
    with httpx.Client(headers=headers, follow_redirects=False) as http:
        listing = _get_json(
            http, target, _LIST_PATH, {"capability": "image"}, MAX_LIST_BYTES, deadline
        )
        try:
            entries = parse_model_list(listing)
        except LayoutError:
            return {"list": listing, "details": {}}  # the caller reports the layout
        details: dict[str, Any] = {}
        for entry in entries:
            if time.monotonic() >= deadline:
                break
            path = _DETAIL_PATH + quote(entry.id, safe="")
            try:
                details[entry.id] = _get_json(http, target, path, None, MAX_DETAIL_BYTES, deadline)
            except FetchError:
                continue
    return {"list": listing, "details": details}


def _get_json(
    http: Any,
    target: Target,
    path: str,
    params: Mapping[str, str] | None,
    limit: int,
    deadline: float,
) -> Any:
    import httpx

    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchError("the hub did not answer in time")
    url = target.base_url + path
    try:
        with http.stream("GET", url, params=params, timeout=httpx.Timeout(remaining)) as reply:
            if reply.status_code in (401, 403):
                raise FetchError(
                    f"the hub refused the API key (HTTP {reply.status_code} for {path}); check "
                    "MOUNTSEA_API_KEY or the client's api_key"
                )
            if reply.status_code != 200:
                raise FetchError(f"the hub answered HTTP {reply.status_code} for {path}")
            body = bytearray()
            for chunk in reply.iter_bytes():
                body += chunk
                if len(body) > limit:
                    raise FetchError(f"the hub's answer for {path} is larger than {limit:,} bytes")
                if time.monotonic() > deadline:
                    raise FetchError("the hub did not answer in time")
    except httpx.TimeoutException:
        raise FetchError("the hub did not answer in time") from None
    except httpx.HTTPError:
        raise FetchError(f"the hub at {_origin(target.base_url)} could not be reached") from None
    try:
        return json.loads(bytes(body).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise FetchError(f"the hub's answer for {path} is not JSON") from None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}"


# --- the live source attached to mw.catalog -------------------------------------------------------


class LiveCatalog:
    """Fetches, caches and merges the hub's models into a :class:`Catalog` (see module docs)."""

    def __init__(self, cache: Cache | None = None, budget_s: float = FETCH_BUDGET_S) -> None:
        self.cache = cache or Cache()
        self.budget_s = budget_s
        self._lock = threading.RLock()
        self._tried: set[str] = set()
        self._diff = CatalogDiff()
        self._retired: dict[tuple[str, str], set[str]] = {}
        self._warned: set[tuple[str, str, str]] = set()

    # -- the Catalog's hooks -------------------------------------------------------------------

    def refresh(self, catalog: Catalog, client: Any = None) -> CatalogDiff:
        """Fetch now (the cache is rewritten) and merge; the bundled catalog on failure."""
        target = target_of(client)
        with self._lock:
            self._tried.add(target.base_url)
            self._load(catalog, target, use_cache=False)
            return self._diff

    def diff(self, catalog: Catalog) -> CatalogDiff:
        """The differences found by the last refresh (none before one)."""
        with self._lock:
            return self._diff

    # -- the automatic path --------------------------------------------------------------------

    def ensure(self, catalog: Catalog, client: Any = None) -> bool:
        """Load the live catalog once per process and hub, when one is configured; True when
        this call changed the catalog."""
        target = configured_target(client)
        if target is None:
            return False
        with self._lock:
            if target.base_url in self._tried:
                return False
            self._tried.add(target.base_url)
            return self._load(catalog, target, use_cache=True)

    def reset(self, catalog: Catalog) -> None:
        """Back to the bundled catalog, as in a new process (for tests and tools)."""
        with self._lock:
            catalog.install({})
            self._tried.clear()
            self._diff = CatalogDiff()
            self._retired.clear()
            self._warned.clear()

    def warn_retired(self, model: str, input: Mapping[str, Any]) -> None:
        """One warning per value sent that the hub no longer lists."""
        for name, value in input.items():
            retired = self._retired.get((model, name))
            if not retired or not isinstance(value, str) or value not in retired:
                continue
            key = (model, name, value)
            with self._lock:
                if key in self._warned:
                    continue
                self._warned.add(key)
            warnings.warn(
                f"{model}: {name}={value!r} is no longer listed by the hub; it is sent as "
                "asked, and the hub may refuse it (mw.catalog.diff() shows what changed)",
                LiveCatalogWarning,
                stacklevel=3,
            )

    # -- work ---------------------------------------------------------------------------------

    def _load(self, catalog: Catalog, target: Target, *, use_cache: bool) -> bool:
        before = dict(catalog)
        answers = self.cache.load(target.base_url) if use_cache else None
        fetched = answers is None
        where = _origin(target.base_url)
        if answers is None:
            try:
                answers = fetch_answers(target, self.budget_s)
            except FetchError as exc:
                return self._fall_back(catalog, f"the live model list was not fetched: {exc}")
        try:
            models, diff = build(answers, catalog.bundled, f"live catalog of {where}")
        except LayoutError as exc:
            return self._fall_back(
                catalog,
                f"the hub describes its models in a layout this version cannot read ({exc})",
            )
        if fetched:
            self.cache.save(target.base_url, answers, target.api_key)
        catalog.install(models)
        self._diff = diff
        self._retired = {
            tuple(key.rsplit(".", 1)): set(values)  # type: ignore[misc]
            for key, values in diff.retired_values.items()
        }
        if diff.unreadable:
            warnings.warn(
                f"the hub's schema of {', '.join(diff.unreadable[:5])} could not be read or "
                "fetched; the bundled catalog is used for it",
                LiveCatalogWarning,
                stacklevel=4,
            )
        return dict(catalog) != before

    def _fall_back(self, catalog: Catalog, reason: str) -> bool:
        changed = dict(catalog) != dict(catalog.bundled)
        catalog.install({})
        self._diff = CatalogDiff(source=f"bundled catalog only ({reason})")
        self._retired.clear()
        warnings.warn(
            f"{reason}; the bundled catalog is used (mw.catalog.refresh() tries again)",
            LiveCatalogWarning,
            stacklevel=4,
        )
        return changed


#: The live source of ``mw.catalog``.
live = LiveCatalog()
catalog.attach_live_source(live)


def spec_for(model: str, client: Any = None) -> ModelSpec:
    """``catalog.spec(model)``, loading the live catalog first (once) for an unknown model."""
    if isinstance(model, str) and model not in catalog:
        live.ensure(catalog, client)
    return catalog.spec(model)


def validated(model: str, input: Mapping[str, Any], client: Any = None) -> dict[str, Any]:
    """``catalog.spec(model).validate(input)``; a refused value loads the live catalog (once)
    and is checked again. Warns once per value the hub no longer lists."""
    try:
        clean = catalog.spec(model).validate(input)
    except ValidationError:
        if not live.ensure(catalog, client):
            raise
        clean = catalog.spec(model).validate(input)
    live.warn_retired(model, clean)
    return clean
