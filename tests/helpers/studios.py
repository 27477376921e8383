"""Making Studios for a test (closing them all afterwards) and reading them as their page does."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from mountsea_widgets.client import AsyncClient
from mountsea_widgets.history import History
from mountsea_widgets.widgets.studio import Studio
from tests.helpers.simulated_client import FastClient
from tests.helpers.views import PageRecorder, send

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


def ask_rows(studio: Studio, start: int = 0, stop: int = 24, have: Iterable[str] = ()) -> list[Row]:
    """Ask ``studio`` for rows the way its page does and wait for the answer.

    Returns each row's record and its thumbnails (JPEG bytes, None where one could not be
    made; an empty list when none were sent).
    """
    recorder = PageRecorder(studio)
    send(studio, "rows", start=start, stop=stop, have=list(have))
    assert studio.wait_loaded(60), "the rows were not answered"
    answers = [(c, b) for c, b in recorder.messages if c.get("type") == "rows"]
    assert answers, "no rows message"
    content, buffers = answers[-1]
    return [Row(record, _thumbs(record, buffers)) for record in content["rows"]]


def card_thumbs(studio: Studio, run_id: str) -> list[bytes | None]:
    """The thumbnails the page gets for one run (asked for as its page asks for a row)."""
    card = studio.card(run_id)
    assert card is not None, f"no card for {run_id}"
    position = studio._list.position(run_id)
    assert position is not None
    (row,) = ask_rows(studio, position, position + 1)
    assert row.record["id"] == run_id
    return row.thumbs


def _thumbs(record: dict[str, Any], buffers: list[bytes]) -> list[bytes | None]:
    return [None if place is None else buffers[place] for place in record.get("thumbs", [])]


class Row(NamedTuple):
    """One row as the page receives it: the record and its thumbnails."""

    record: dict[str, Any]
    thumbs: list[bytes | None]


def record_of(studio: Studio, run: Any) -> dict[str, Any]:
    """The record the page draws for ``run`` (a Run or a run id) now."""
    card = studio.card(run)
    assert card is not None
    return studio._record(card)
