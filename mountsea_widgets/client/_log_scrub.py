"""Keeping the API key out of log records while a client that holds it lives.

httpcore logs every header it receives at DEBUG (a server echoing the key puts it there),
httpx logs each request's URL at INFO (a redirect ``Location`` may carry the key), and the
package logs what it does. Every record of the ``httpx``, ``httpcore`` and ``mountsea_widgets``
loggers (their children included) is scrubbed of each key a living client holds, percent-encoded
forms too, before any handler sees it.

Why a log-record factory rather than a :class:`logging.Filter` on those loggers: a logger's
filters run only for records logged on that very logger, not for those its children
(``httpcore.http11``, ``httpcore.connection``...) pass up to its handlers. The factory sees every
record as it is made. It wraps whatever factory was set before it (again, should another factory
have replaced it since), and is taken out again when the last client holding a key closes (or is
garbage collected).
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections import Counter
from collections.abc import Callable
from typing import Any

from ..errors import scrub

#: The loggers whose records are scrubbed, with every logger under them.
SCRUBBED_LOGGERS = ("httpx", "httpcore", "mountsea_widgets")

_lock = threading.Lock()
#: Each key a living client holds, with how many clients hold it (changed under the lock).
_keys: Counter[str] = Counter()
#: The keys to scrub, as one tuple replaced whole: records are made on any thread, unlocked.
_scrubbed: tuple[str, ...] = ()
#: Set on each factory of ours: the factory it wraps.
_WRAPPED = "_mountsea_wraps"


def _wrapping(previous: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    """A record factory that makes records with ``previous`` and scrubs them of every key."""

    def scrubbed_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        keys = _scrubbed
        if keys and _is_scrubbed_logger(record.name):
            _scrub_record(record, keys)  # idempotent: two of ours in one chain are harmless
        return record

    setattr(scrubbed_record, _WRAPPED, previous)
    return scrubbed_record


def _is_ours(factory: Callable[..., logging.LogRecord]) -> bool:
    return getattr(factory, _WRAPPED, None) is not None


def _is_scrubbed_logger(name: str) -> bool:
    return any(name == root or name.startswith(root + ".") for root in SCRUBBED_LOGGERS)


def _scrub_record(record: logging.LogRecord, keys: tuple[str, ...]) -> None:
    try:
        text = record.getMessage()
    except Exception:  # a message whose arguments do not fit: left for logging to report
        return
    clean = text
    for key in keys:
        clean = scrub(clean, key)
    if clean != text or record.args:
        # The message is fixed once formatted, so no argument can bring the key back.
        record.msg, record.args = clean, ()
    if record.exc_info and record.exc_info[0] is not None:
        # A traceback may quote the key too: formatted now, scrubbed, and kept as the text
        # handlers show (Formatter uses exc_text when it is set).
        formatted = logging.Formatter().formatException(record.exc_info)
        for key in keys:
            formatted = scrub(formatted, key)
        record.exc_text = formatted
    if record.stack_info:
        for key in keys:
            record.stack_info = scrub(record.stack_info, key)


def guard_logs(owner: object, key: str | None) -> Callable[[], None]:
    """Scrub ``key`` from log records while ``owner`` lives; returns the release to call on
    close (idempotent; also run when ``owner`` is garbage collected)."""
    if not key:
        return _nothing
    global _scrubbed
    with _lock:
        _keys[key] += 1
        _scrubbed = tuple(_keys)
        current = logging.getLogRecordFactory()
        # Checked on every client: a factory set since (one that does not call ours) would
        # otherwise leave records unscrubbed while the key lives.
        if not _is_ours(current):
            logging.setLogRecordFactory(_wrapping(current))
    return weakref.finalize(owner, _release, key)


def _release(key: str) -> None:
    global _scrubbed
    with _lock:
        _keys[key] -= 1
        if _keys[key] <= 0:
            del _keys[key]
        _scrubbed = tuple(_keys)
        current = logging.getLogRecordFactory()
        if not _keys and _is_ours(current):
            # Put back the factory we wrapped. Had someone wrapped ours meanwhile, ours stays
            # in their chain, doing nothing without keys.
            logging.setLogRecordFactory(getattr(current, _WRAPPED))


def _nothing() -> None:
    """No key, nothing to release."""


def scrubbed_keys() -> int:
    """How many distinct keys are scrubbed from log records now (for tests and checks)."""
    with _lock:
        return len(_keys)
