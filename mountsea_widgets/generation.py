"""One-call generation: ``mw.generate`` (blocking) and ``mw.agenerate`` (awaitable).

Both run on the background runner's loop, so a blocking ``generate()`` in a notebook cell never
re-enters the kernel's own event loop, and an ``await agenerate()`` keeps the kernel's loop free.

Each call is a :class:`~mountsea_widgets.run.Run` carried out by
:func:`~mountsea_widgets.run.execute`, so it is journalled in the history like a Studio run:
the task id is on disk before the first poll, and an interrupted call (Ctrl-C, the stop
button) names its task, which is never forgotten.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .connection import make_async_client

if TYPE_CHECKING:
    from .client import AsyncClient
    from .history import History
    from .result import Result
    from .run import Run


async def _generate_on_runner(
    run: Run, client: AsyncClient | None, history: History | None
) -> Result:
    from .errors import MountseaError
    from .run import execute

    own = client is None
    active = client if client is not None else make_async_client(history=history)
    try:
        await execute(run, active, history)
    finally:
        if own:
            await active.aclose()
    if run.status == "completed" and run.result is not None:
        return run.result
    if run.exception is not None:
        raise run.exception
    raise MountseaError(run.error or f"the run ended {run.status}")


def _prepared(model: str, prompt: str, params: dict[str, Any]) -> dict[str, Any]:
    """The input to send: images as data URIs, validated and cleaned (raises ValidationError)."""
    from .catalog import catalog
    from .image_input import prepare_input

    spec = catalog.spec(model)
    prepared = prepare_input(spec.id, params)
    return spec.validate({"prompt": prompt, **prepared})


def _new_run(model: str, input: dict[str, Any]) -> Run:
    from .run import Run

    return Run(model, input)


def generate(
    model: str,
    prompt: str,
    *,
    client: AsyncClient | None = None,
    history: History | bool | None = None,
    **params: Any,
) -> Result:
    """Generate images and block until they are downloaded; returns a :class:`Result`.

    Works in a notebook cell and in a plain script. With no ``MOUNTSEA_API_KEY`` and no
    ``MOUNTSEA_BASE_URL`` the offline simulator answers (``result.simulated`` is True).
    Parameters are the model's own (see ``mw.catalog[model].params``); they are validated
    before anything is sent. An edit model's ``image_urls`` may mix URL strings with PIL images,
    ``pathlib.Path`` objects and bytes, which are sent as data URIs (a plain string is never
    read as a file name: use ``Path`` for files).

    The run is journalled in the standard history (``history=False``: none, or a
    :class:`~mountsea_widgets.history.History`). Interrupting the call (Ctrl-C, the kernel's
    stop button) stops waiting at once and raises KeyboardInterrupt naming the task id.
    """
    from .history import open_history
    from .run import require_async_client
    from .runner import get_runner

    input = _prepared(model, prompt, params)  # fail here, in the caller's frame
    require_async_client(client)
    run = _new_run(model, input)
    try:
        return get_runner().run(_generate_on_runner(run, client, open_history(history)))
    except KeyboardInterrupt:
        from .run import interrupted

        raise interrupted(run) from None


async def agenerate(
    model: str,
    prompt: str,
    *,
    client: AsyncClient | None = None,
    history: History | bool | None = None,
    **params: Any,
) -> Result:
    """Awaitable :func:`generate` (e.g. top-level ``await mw.agenerate(...)`` in a notebook)."""
    from .history import open_history
    from .run import require_async_client
    from .runner import get_runner

    input = _prepared(model, prompt, params)
    require_async_client(client)
    run = _new_run(model, input)
    return await get_runner().arun(_generate_on_runner(run, client, open_history(history)))
