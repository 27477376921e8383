"""The key is scrubbed from log records while a client holding it lives (no socket: the
records are logged by the test on the loggers httpx and httpcore use)."""

from __future__ import annotations

import gc
import logging
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from mountsea_widgets.client import AsyncClient, Client
from mountsea_widgets.client._log_scrub import scrubbed_keys

KEY = "sk-unit-log+canary/2468"


def _client() -> Client:
    return Client(
        api_key=KEY,
        base_url="https://hub.test",
        transport=httpx.MockTransport(lambda request: httpx.Response(200)),
    )


@pytest.fixture
def records(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    for name in ("httpx", "httpcore", "mountsea_widgets", "someone.else"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


@pytest.mark.parametrize(
    "name", ["httpcore.http11", "httpcore.connection", "httpx", "mountsea_widgets.client"]
)
def test_records_of_the_http_loggers_and_their_children_lose_the_key(
    records: pytest.LogCaptureFixture, name: str
) -> None:
    with _client():
        logging.getLogger(name).debug(
            "headers=[(b'X-Echo', b'%s'), (b'Q', b'%s')]", KEY, quote(KEY)
        )
    (record,) = [r for r in records.records if r.name == name]
    assert record.getMessage() == "headers=[(b'X-Echo', b'***'), (b'Q', b'***')]"


def test_a_traceback_on_a_record_loses_the_key_too(records: pytest.LogCaptureFixture) -> None:
    with _client():
        try:
            raise ValueError(f"echoed {KEY}")
        except ValueError:
            logging.getLogger("httpcore.http11").exception("failed")
    (record,) = records.records
    assert record.exc_text is not None and "echoed ***" in record.exc_text
    assert KEY not in logging.Formatter().format(record)


def test_other_loggers_are_left_alone(records: pytest.LogCaptureFixture) -> None:
    with _client():
        logging.getLogger("someone.else").info("their own %s", KEY)
    assert records.records[-1].getMessage() == f"their own {KEY}"


def test_the_factory_in_place_is_kept_and_put_back(records: pytest.LogCaptureFixture) -> None:
    before = logging.getLogRecordFactory()
    seen: list[str] = []

    def theirs(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = before(*args, **kwargs)
        seen.append(record.name)
        return record

    logging.setLogRecordFactory(theirs)
    try:
        client = _client()
        other = AsyncClient(api_key=KEY, base_url="https://hub.test")
        assert logging.getLogRecordFactory() is not theirs
        client.close()  # one client holding the key still lives
        logging.getLogger("httpx").info("still %s", KEY)
        assert records.records[-1].getMessage() == "still ***"
        del other  # garbage collected without close(): released all the same
        gc.collect()
        if scrubbed_keys() == 0:  # no client of another test holds a key still
            assert logging.getLogRecordFactory() is theirs
        else:  # ours stays while any key lives, and still calls theirs
            assert _chain(logging.getLogRecordFactory())[1] is theirs
        assert "httpx" in seen  # their factory made the record ours scrubbed
    finally:
        logging.setLogRecordFactory(before)


def _chain(factory: Any) -> list[Any]:
    """``factory`` and the factories it wraps (ours say which one, in ``_mountsea_wraps``)."""
    chain = [factory]
    while getattr(chain[-1], "_mountsea_wraps", None) is not None:
        chain.append(chain[-1]._mountsea_wraps)
    return chain


def test_a_factory_set_while_a_client_lives_is_wrapped_by_the_next_client(
    records: pytest.LogCaptureFixture,
) -> None:
    before = logging.getLogRecordFactory()
    first = _client()
    try:
        # Someone installs a factory of their own that does not call ours.
        logging.setLogRecordFactory(logging.LogRecord)
        second = _client()  # the next client notices, and wraps it
        try:
            logging.getLogger("httpcore.http11").debug("header %s", KEY)
            assert records.records[-1].getMessage() == "header ***"
        finally:
            second.close()
    finally:
        first.close()
        logging.setLogRecordFactory(before)
