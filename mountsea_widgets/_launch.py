"""Launching runs: one history, one client, one runner, for every way a run starts.

``mw.generate``, ``mw.agenerate``, ``%%mountsea``, comparisons, the Studio and
``History.resume()`` all start their runs through a :class:`Launcher`. It resolves the history
(the standard one, a given one, or none) and the client (a given
:class:`~mountsea_widgets.client.AsyncClient`; a blocking
:class:`~mountsea_widgets.client.Client`, through its async twin with the same key, base URL
and options; or one made for the configured hub with what the history learned), hands each
:class:`~mountsea_widgets.run.Run` to the background runner, and closes the client it made.

So every entry point journals the same records, polls the same way and refuses the same bad
clients, before anything is sent.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .run import TICK_SECONDS, Run, execute, start

if TYPE_CHECKING:
    from ._runner import Runner
    from .client import AsyncClient, Client
    from .errors import Problem
    from .history import History, HistoryChoice


def check_client(client: object) -> None:
    """Refuse, before anything is sent, a ``client`` that is not one of the package's clients.

    Allowed: None (the configured hub, or the offline simulator), an
    :class:`~mountsea_widgets.client.AsyncClient` (or anything whose ``submit`` can be awaited)
    or a blocking :class:`~mountsea_widgets.client.Client` made without a transport of its own
    (its async twin carries the runs).
    """
    from ._connection import check_twinnable
    from .client import Client
    from .run import require_async_client

    if isinstance(client, Client):
        check_twinnable(client)
        return
    try:
        require_async_client(client)
    except TypeError:
        raise TypeError(
            "client must be an mw.AsyncClient or an mw.Client (made with mw.AsyncClient(api_key="
            "..., base_url=...)), or left out to use the configured hub; got "
            f"{type(client).__name__}"
        ) from None


def check_pace(client: object, max_requests_per_second: float | None) -> None:
    """Refuse, before anything is sent, a cap on requests per second that cannot apply: not a
    number above 0, or given beside a client (which has its own)."""
    if max_requests_per_second is None:
        return
    if client is not None:
        raise ValueError(
            "max_requests_per_second is for the client made here; a client given has its own: "
            "make it with mw.AsyncClient(..., max_requests_per_second=...)"
        )
    from .client._pace import check_rate

    check_rate(max_requests_per_second)  # refused now, not at the first request


class Launcher:
    """Starts runs on the background runner with one history and one client.

    ``client``: None (made here for the configured hub, polling around the durations the
    history measured), an :class:`~mountsea_widgets.client.AsyncClient`, or a blocking
    :class:`~mountsea_widgets.client.Client` (used through its async twin). ``history``: a
    :class:`~mountsea_widgets.history.History`, None or True for the standard one, False for
    none. A client made here (for the configured hub, or as a twin) is closed by
    :meth:`aclose` / :meth:`close`; a given AsyncClient is left open for its owner.
    """

    def __init__(
        self,
        client: AsyncClient | Client | None = None,
        history: HistoryChoice = None,
        *,
        runner: Runner | None = None,
        close_client: bool | None = None,
        max_requests_per_second: float | None = None,
    ) -> None:
        from .history import open_history

        check_client(client)
        check_pace(client, max_requests_per_second)
        #: The cap on requests per second of the client made here (None: none).
        self.max_requests_per_second = max_requests_per_second
        self.history: History | None = open_history(history)
        self._given = client
        self._client: AsyncClient | None = None
        self._lock = threading.Lock()
        self._runner = runner
        #: Whether :meth:`aclose` closes the client (None: only one made here).
        self._close_client = close_client

    # --- what runs are carried out with -------------------------------------------------------

    @property
    def runner(self) -> Runner:
        """The background runner the runs go on (the process-wide one unless given)."""
        if self._runner is None:
            from ._runner import get_runner

            self._runner = get_runner()
        return self._runner

    @property
    def client(self) -> AsyncClient:
        """The AsyncClient runs are carried out with (made on first use, then kept)."""
        with self._lock:
            if self._client is None:
                self._client = self._make_client()
            return self._client

    def _make_client(self) -> AsyncClient:
        from ._connection import async_twin, make_async_client

        twin = async_twin(self._given)
        if twin is not None:
            return twin
        # Polls follow the durations the history measured for each model.
        return make_async_client(
            history=self.history, max_requests_per_second=self.max_requests_per_second
        )

    @property
    def owns_client(self) -> bool:
        """True when :meth:`aclose` closes the client (it was made here)."""
        if self._close_client is not None:
            return self._close_client
        from .client import Client

        return self._given is None or isinstance(self._given, Client)

    @property
    def offline(self) -> bool | None:
        """True when the offline simulator answers (None: a given client, not known here)."""
        if self._given is not None:
            return None  # the first run's result says (``result.simulated``)
        from ._config import settings

        return settings().offline

    # --- starting runs ------------------------------------------------------------------------

    @staticmethod
    def new_run(model: str, input: Mapping[str, Any], *, unchecked: Sequence[Problem] = ()) -> Run:
        """A new run of ``model`` with a validated ``input`` (nothing is sent yet).

        ``unchecked``: the catalog's refusals of values sent all the same (``strict=False``):
        the run sends them unchecked, says so in its warnings, and the journal lists them.
        """
        if not unchecked:
            return Run(model, dict(input))
        from ._unchecked import unchecked_message

        run = Run(model, dict(input), unchecked=[problem.param for problem in unchecked])
        run.warnings = [unchecked_message(model, problem) for problem in unchecked]
        return run

    def expected_seconds(self, model: str) -> float:
        """How long a task of ``model`` usually takes here: the number the client polls around
        (the catalog's estimate at the target's speed, or what the history measured)."""
        from ._durations import estimate

        expected = getattr(self.client, "expected_seconds", None)  # a stand-in may have none
        return float(expected(model)) if callable(expected) else estimate(model)

    def start(self, run: Run, *, tick_s: float = TICK_SECONDS) -> concurrent.futures.Future[Run]:
        """Carry ``run`` out on the runner; returns its future (the run settles either way)."""
        run.expect(self.expected_seconds(run.model))
        return start(run, self.client, self.history, runner=self.runner, tick_s=tick_s)

    async def execute(self, run: Run, *, tick_s: float = TICK_SECONDS) -> Run:
        """Carry ``run`` out here, on the running loop (the runner's); returns it."""
        run.expect(self.expected_seconds(run.model))
        return await execute(run, self.client, self.history, tick_s=tick_s)

    async def execute_all(self, runs: Iterable[Run]) -> list[Run]:
        """Carry ``runs`` out at once; returns them when every one has settled."""
        chosen = list(runs)
        await asyncio.gather(*(self.execute(run) for run in chosen))
        return chosen

    async def resume_pending(self) -> list[Run]:
        """Poll again every run of the history that has a task id but no outcome, and send
        again the runs the hub refused before accepting anything.

        Runs another session is carrying out are left to it (their run says so); nothing is
        submitted twice. Returns the runs resumed here.
        """
        from ._resumption import runs_to_resume

        if self.history is None:
            return []
        # Reading the journal and trying the leases is file I/O: off the runner's loop.
        return await self.execute_all(await asyncio.to_thread(runs_to_resume, self.history))

    # --- closing ------------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the client if it was made here (a given AsyncClient stays open)."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None and self.owns_client:
            await client.aclose()

    def close(self) -> None:
        """Schedule :meth:`aclose` on the runner without waiting (safe from any thread)."""
        if self._client is None:
            return
        with contextlib.suppress(RuntimeError):  # the runner already stopped: nothing to close
            self.runner.submit(self.aclose())

    async def __aenter__(self) -> Launcher:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        where = "no history" if self.history is None else f"history {self.history.folder}"
        return f"<Launcher {where}, client {'made here' if self.owns_client else 'given'}>"
