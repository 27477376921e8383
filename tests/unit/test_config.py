"""Which hub the entry points talk to, and how the offline default is wired."""

from __future__ import annotations

import asyncio

import pytest

import mountsea_widgets as mw
from mountsea_widgets import _config as config
from mountsea_widgets import _connection as connection
from mountsea_widgets.catalog import TYPICAL_SECONDS


def test_key_without_url_means_real_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOUNTSEA_API_KEY", "sk-canary-config-0001")
    monkeypatch.delenv("MOUNTSEA_BASE_URL", raising=False)
    resolved = config.settings()
    assert not resolved.offline
    assert resolved.base_url == config.DEFAULT_BASE_URL
    assert resolved.durations() == {}
    assert "sk-canary-config-0001" not in repr(resolved)
    assert "sk-canary-config-0001" not in resolved.label


def test_explicit_arguments_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOUNTSEA_BASE_URL", "http://127.0.0.1:9")
    resolved = config.settings(base_url="http://127.0.0.1:8000/")
    assert resolved.base_url == "http://127.0.0.1:8000"
    assert not resolved.offline


def test_client_durations_override_typical_seconds() -> None:
    client = mw.Client(base_url="http://127.0.0.1:9", durations={"nano-banana": 1.5})
    try:
        assert client.expected_seconds("nano-banana") == 1.5
        assert client.expected_seconds("gpt-image-2") == TYPICAL_SECONDS["gpt-image-2"]
    finally:
        client.close()


def test_the_client_reads_the_environment_only_through_config() -> None:
    import inspect

    from mountsea_widgets import client

    source = inspect.getsource(client)
    assert "os.environ" not in source and "getenv" not in source
    assert client.DEFAULT_BASE_URL is config.DEFAULT_BASE_URL


def test_a_blocking_clients_async_twin_has_its_key_hub_and_options() -> None:
    blocking = mw.Client(
        api_key="sk-twin-0042", base_url="http://127.0.0.1:9", timeout=7, max_retries=1
    )
    twin = connection.async_twin(blocking)
    try:
        assert isinstance(twin, mw.AsyncClient)
        assert twin.has_api_key and twin._api_key == "sk-twin-0042"
        assert (twin.base_url, twin.timeout, twin.max_retries) == ("http://127.0.0.1:9", 7.0, 1)
        assert twin.durations == blocking.durations and twin.windows == blocking.windows
        assert connection.async_twin(twin) is twin and connection.async_twin(None) is None
    finally:
        blocking.close()
        asyncio.run(twin.aclose())
