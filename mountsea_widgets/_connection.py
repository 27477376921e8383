"""The clients runs are carried out with: made for the resolved settings and what a history learned.

:mod:`.config` resolves where requests go and what a history measured; this module turns that
into :class:`~mountsea_widgets.client.Client` / :class:`~mountsea_widgets.client.AsyncClient`
keywords, so every entry point (``mw.generate``, the magic, comparisons, the Studio) polls the
same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._config import settings
from ._durations import finish_windows, median_durations, trusted_durations

if TYPE_CHECKING:
    from .client import AsyncClient, Client
    from .history import History


def client_options(
    api_key: str | None, base_url: str | None, history: History | None
) -> dict[str, Any]:
    """The resolved key, base URL, per-model expected durations and learned finish windows, as
    client keywords (the history is read once for both)."""
    resolved = settings(api_key, base_url)
    trusted = trusted_durations(history, resolved.speed)
    return {
        "api_key": resolved.api_key,
        "base_url": resolved.base_url,
        "durations": {**resolved.durations(), **median_durations(trusted)},
        "windows": finish_windows(trusted),
    }


def make_client(
    api_key: str | None = None, base_url: str | None = None, *, history: History | None = None
) -> Client:
    """A sync :class:`~mountsea_widgets.client.Client` for the resolved settings.

    With a ``history``, tasks are polled around the durations it measured for each model
    (and, once it holds enough runs of a model, in the window they finished in).
    """
    from .client import Client

    return Client(**client_options(api_key, base_url, history))


def make_async_client(
    api_key: str | None = None,
    base_url: str | None = None,
    *,
    history: History | None = None,
    max_requests_per_second: float | None = None,
) -> AsyncClient:
    """An :class:`~mountsea_widgets.client.AsyncClient` for the resolved settings.

    With a ``history``, tasks are polled around the durations it measured for each model
    (and, once it holds enough runs of a model, in the window they finished in).
    ``max_requests_per_second``: the client's own cap, shared by all its requests.
    """
    from .client import AsyncClient

    options = client_options(api_key, base_url, history)
    return AsyncClient(**options, max_requests_per_second=max_requests_per_second)


def async_twin(client: Client | AsyncClient | None) -> AsyncClient | None:
    """``client`` itself when its calls can be awaited; for a blocking
    :class:`~mountsea_widgets.client.Client`, a new AsyncClient with the same key, base URL,
    timeout, retries and learned timings (runs are awaited on the background runner).

    The twin is the caller's to close; the blocking client is left as it was.
    """
    from .client import AsyncClient, Client

    if client is None or not isinstance(client, Client):
        return client
    check_twinnable(client)
    return AsyncClient(
        api_key=client._api_key,
        base_url=client.base_url,
        timeout=client.timeout,
        max_retries=client.max_retries,
        durations=client.durations,
        windows=client.windows,
        max_requests_per_second=client.max_requests_per_second,
    )


def check_twinnable(client: Client) -> None:
    """Refuse a blocking client whose runs an async twin could not carry out the same way."""
    if client._own_transport:
        raise TypeError(
            "client: this mw.Client was made with its own transport, which runs on the "
            "background runner cannot use (they are awaited); pass an mw.AsyncClient made "
            "with an async transport instead, or an mw.Client without one"
        )
