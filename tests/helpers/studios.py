"""Making Studios for a test and closing them all afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from mountsea_widgets.client import AsyncClient
from mountsea_widgets.history import History
from mountsea_widgets.widgets.studio import Studio
from tests.helpers.simulated_client import FastClient

#: Builds a Studio's client from the hub URL and the key (None: no key).
ClientFactory = Callable[..., AsyncClient]


def fast_client(base_url: str, api_key: str | None) -> AsyncClient:
    """A client polling on the fast simulator's time scale (see :class:`FastClient`)."""
    return FastClient(base_url=base_url, api_key=api_key)


@contextmanager
def studio_maker(
    url: str,
    history: History | bool,
    *,
    client: ClientFactory = fast_client,
    **defaults: Any,
) -> Iterator[Callable[..., Studio]]:
    """Yields ``make(model="nano-banana", url=None, **options)``, which builds a Studio.

    Its client is ``client(url or <the given url>, options.pop("api_key", None))``; its history
    is ``history`` unless ``history=`` is among the options; ``defaults`` are Studio options
    the options may override. On exit every Studio made is given 30 s to go idle and closed.
    """
    made: list[Studio] = []
    default_url = url

    def make(model: str = "nano-banana", url: str | None = None, **options: Any) -> Studio:
        chosen = {**defaults, **options}
        new = Studio(
            model,
            client=client(url or default_url, chosen.pop("api_key", None)),
            history=chosen.pop("history", history),
            **chosen,
        )
        made.append(new)
        return new

    yield make
    for each in made:
        each.wait_idle(30)
        each.close()
