"""The process-wide simulator used when no API key and no base URL are configured."""

from __future__ import annotations

import atexit
import os
import threading

from .server import SimulatorServer, serve

#: Environment variable setting the embedded simulator's speed (default 3: snappy demos whose
#: progress is still visible).
SPEED_VARIABLE = "MOUNTSEA_SIMULATOR_SPEED"
DEFAULT_SPEED = 3.0

_lock = threading.Lock()
_server: SimulatorServer | None = None


def embedded() -> SimulatorServer:
    """The one simulator of this process, started on first use (real HTTP on 127.0.0.1:0)."""
    global _server
    with _lock:
        if _server is None:
            _server = serve(0, speed=_speed_from_env())
            atexit.register(_server.close)
        return _server


def _speed_from_env() -> float:
    raw = os.environ.get(SPEED_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_SPEED
    try:
        speed = float(raw)
    except ValueError:
        raise ValueError(f"{SPEED_VARIABLE} must be a number > 0, got {raw!r}") from None
    if not speed > 0:
        raise ValueError(f"{SPEED_VARIABLE} must be a number > 0, got {raw!r}")
    return speed
