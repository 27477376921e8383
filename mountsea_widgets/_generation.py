"""One-call generation: ``mw.generate`` (blocking) and ``mw.agenerate`` (awaitable).

Both run on the background runner's loop, so a blocking ``generate()`` in a notebook cell never
re-enters the kernel's own event loop, and an ``await agenerate()`` keeps the kernel's loop free.

Each call is a :class:`~mountsea_widgets.run.Run` carried out by
:class:`~mountsea_widgets._launch.Launcher`, so it is journalled in the history like a Studio run:
the task id is on disk before the first poll, and an interrupted call (Ctrl-C, the stop
button) names its task, which is never forgotten.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._launch import Launcher
    from ._unchecked import CheckedInput
    from .client import AsyncClient, Client
    from .history import HistoryChoice
    from .result import Result
    from .run import Run


async def _outcome(launcher: Launcher, run: Run) -> Result:
    """Carry ``run`` out (closing what the launcher made); its result, or why it has none."""
    from .errors import MountseaError

    async with launcher:
        await launcher.execute(run)
    if run.status == "completed" and run.result is not None:
        return run.result
    if run.exception is not None:
        raise run.exception
    raise MountseaError(run.error or f"the run ended {run.status}")


def _prepared(
    model: str, prompt: str, params: dict[str, Any], strict: bool, client: Any = None
) -> CheckedInput:
    """The input to send: images as data URIs, validated and cleaned (raises ValidationError);
    with ``strict=False``, values the catalog refuses are kept (and listed) to send unchecked.

    An unknown model or a refused value loads the hub's live catalog first (once per process,
    when a key or base URL is configured; see ``_live_catalog``).
    """
    from ._image_input import prepare_input
    from ._live_catalog import spec_for, validated
    from ._unchecked import CheckedInput, check_input
    from .catalog import catalog
    from .errors import ValidationError

    spec = spec_for(model, client)
    prepared = prepare_input(spec.id, params)
    full = {"prompt": prompt, **prepared}
    if not isinstance(strict, bool):
        raise TypeError(f"strict must be True or False, got {strict!r}")
    try:
        return CheckedInput(validated(spec.id, full, client))
    except ValidationError:
        if strict:
            raise
    # Still refused once the live catalog is known: sent unchecked, as asked.
    return check_input(catalog.spec(spec.id), full, strict=False)


def _launch(
    model: str,
    prompt: str,
    client: AsyncClient | Client | None,
    history: HistoryChoice,
    params: dict[str, Any],
    strict: bool = True,
) -> tuple[Launcher, Run]:
    """The launcher and the new run of one call (bad input and bad clients fail here)."""
    checked = _prepared(model, prompt, params, strict, client)  # fail here, in the caller's frame
    return _launched(model, checked, client, history)


def _launched(
    model: str, checked: CheckedInput, client: AsyncClient | Client | None, history: HistoryChoice
) -> tuple[Launcher, Run]:
    """The launcher and the new run of an input already prepared and checked."""
    from ._launch import Launcher
    from ._unchecked import warn

    launcher = Launcher(client, history)
    warn(model, checked)  # once the call is known to go ahead, pointing at the caller's line
    return launcher, launcher.new_run(model, checked.input, unchecked=checked.unchecked)


def generate(
    model: str,
    prompt: str,
    *,
    client: AsyncClient | Client | None = None,
    history: HistoryChoice = None,
    strict: bool = True,
    **params: Any,
) -> Result:
    """Generate images and block until they are downloaded; returns a :class:`Result`.

    Works in a notebook cell and in a plain script. With no ``MOUNTSEA_API_KEY`` and no
    ``MOUNTSEA_BASE_URL`` the offline simulator answers (``result.simulated`` is True).
    Parameters are the model's own (see ``mw.catalog[model].params``); they are validated
    before anything is sent; ``strict=False`` sends a value the catalog refuses all the same
    (e.g. an aspect ratio the hub added since), with an ``mw.UncheckedValueWarning`` naming it,
    and the history records it as sent unchecked. An edit model's ``image_urls`` may mix URL
    strings with PIL images, ``pathlib.Path`` objects and bytes, which are sent as data URIs
    (a plain string is never read as a file name: use ``Path`` for files). ``client``: an
    ``mw.AsyncClient`` or a blocking ``mw.Client`` (default: the configured hub).

    The run is journalled in the standard history (``history=False``: none, or a
    :class:`~mountsea_widgets.history.History`). Interrupting the call (Ctrl-C, the kernel's
    stop button) stops waiting at once and raises KeyboardInterrupt naming the task id.
    """
    launcher, run = _launch(model, prompt, client, history, params, strict)
    try:
        return launcher.runner.run(_outcome(launcher, run))
    except KeyboardInterrupt:
        from .run import interrupted

        raise interrupted(run) from None


async def agenerate(
    model: str,
    prompt: str,
    *,
    client: AsyncClient | Client | None = None,
    history: HistoryChoice = None,
    strict: bool = True,
    **params: Any,
) -> Result:
    """Awaitable :func:`generate` (e.g. top-level ``await mw.agenerate(...)`` in a notebook)."""
    # Converting images and, once, fetching the hub's live catalog take time: in a worker
    # thread, so the caller's loop (a notebook kernel's) keeps running meanwhile.
    checked = await asyncio.to_thread(_prepared, model, prompt, params, strict, client)
    launcher, run = _launched(model, checked, client, history)
    return await launcher.runner.arun(_outcome(launcher, run))
