"""One-call generation: ``mw.generate`` (blocking) and ``mw.agenerate`` (awaitable).

Both run on the background runner's loop, so a blocking ``generate()`` in a notebook cell never
re-enters the kernel's own event loop, and an ``await agenerate()`` keeps the kernel's loop free.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from .config import make_async_client

if TYPE_CHECKING:
    from .client import AsyncClient
    from .result import Result


async def _generate_on_runner(
    model: str, prompt: str, client: AsyncClient | None, params: dict[str, Any]
) -> Result:
    own = client is None
    active = client if client is not None else make_async_client()
    try:
        return await active.generate(model, prompt, **params)
    finally:
        if own:
            await active.aclose()


def _prepared(model: str, prompt: str, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with input images as data URIs, validated (raises ValidationError)."""
    from .catalog import catalog
    from .image_input import prepare_input

    spec = catalog.spec(model)
    prepared = prepare_input(spec.id, params)
    spec.validate({"prompt": prompt, **prepared})
    return prepared


def generate(
    model: str, prompt: str, *, client: AsyncClient | None = None, **params: Any
) -> Result:
    """Generate images and block until they are downloaded; returns a :class:`Result`.

    Works in a notebook cell and in a plain script. With no ``MOUNTSEA_API_KEY`` and no
    ``MOUNTSEA_BASE_URL`` the offline simulator answers (``result.simulated`` is True).
    Parameters are the model's own (see ``mw.catalog[model].params``); they are validated
    before anything is sent. An edit model's ``image_urls`` may mix URL strings with PIL images,
    ``pathlib.Path`` objects and bytes, which are sent as data URIs (a plain string is never
    read as a file name: use ``Path`` for files).
    """
    from .runner import get_runner

    params = _prepared(model, prompt, params)  # fail here, in the caller's frame
    return get_runner().run(_generate_on_runner(model, prompt, client, params))


async def agenerate(
    model: str, prompt: str, *, client: AsyncClient | None = None, **params: Any
) -> Result:
    """Awaitable :func:`generate` (e.g. top-level ``await mw.agenerate(...)`` in a notebook)."""
    from .runner import get_runner

    params = _prepared(model, prompt, params)
    future = get_runner().submit(_generate_on_runner(model, prompt, client, params))
    return await asyncio.wrap_future(future)
