"""Offline simulator of the Mountsea hub: the same HTTP contract, validated by the same catalog.

>>> from mountsea_widgets import simulator
>>> with simulator.serve(speed=50) as hub:        # real HTTP on 127.0.0.1
...     print(hub.url)                            # doctest: +SKIP

- :func:`serve` runs it as an HTTP server in a background thread;
- :func:`transport` plugs the same core into an httpx client without sockets (unit tests);
- :func:`embedded` is the process-wide instance used when no API key is configured;
- :class:`Faults` injects reproducible failures (see ``faults.py`` for every key);
- ``python -m mountsea_widgets.simulator --port 8000`` serves it from a terminal.
"""

from __future__ import annotations

from .clock import ManualClock
from .embedded import embedded
from .faults import Faults
from .hub import Hub, Reply, Request, Stats
from .render import PRESET_SIZES, RESOLUTION_LONG_EDGE
from .server import SimulatorServer, serve
from .transport import HubTransport, transport

__all__ = [
    "PRESET_SIZES",
    "RESOLUTION_LONG_EDGE",
    "Faults",
    "Hub",
    "HubTransport",
    "ManualClock",
    "Reply",
    "Request",
    "SimulatorServer",
    "Stats",
    "embedded",
    "serve",
    "transport",
]
