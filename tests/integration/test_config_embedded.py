"""With nothing configured the entry points start the embedded simulator, a real server on
loopback; these tests use it."""

from __future__ import annotations

import pytest

import mountsea_widgets as mw
from mountsea_widgets import _config as config
from mountsea_widgets import _connection as connection
from mountsea_widgets.catalog import TYPICAL_SECONDS


def test_no_key_no_url_means_embedded_simulator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOUNTSEA_API_KEY", raising=False)
    monkeypatch.delenv("MOUNTSEA_BASE_URL", raising=False)
    resolved = config.settings()
    assert resolved.offline
    assert resolved.base_url == mw.simulator.embedded().url
    assert resolved.base_url.startswith("http://127.0.0.1:")
    assert resolved.label == config.OFFLINE_NOTICE
    # Polling follows the simulator's speed, not the real hub's durations.
    speed = mw.simulator.embedded().hub.speed
    client = connection.make_client()
    try:
        expected = TYPICAL_SECONDS["gpt-image-2"] / speed
        assert client.poll_schedule("gpt-image-2").expected_s == pytest.approx(expected)
    finally:
        client.close()


def test_an_empty_api_key_means_not_given_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOUNTSEA_BASE_URL", raising=False)
    monkeypatch.delenv("MOUNTSEA_API_KEY", raising=False)
    # Nothing configured: both the settings and a client go offline, never keyless to the hub.
    assert config.settings(api_key="").offline
    client = mw.Client(api_key="")
    try:
        assert client.offline and not client.has_api_key
        assert client.base_url == mw.simulator.embedded().url
    finally:
        client.close()
    # A key in the environment: "" falls back to it, as it does for the settings.
    monkeypatch.setenv("MOUNTSEA_API_KEY", "sk-from-the-environment")
    assert config.settings(api_key="").api_key == "sk-from-the-environment"
    client = mw.Client(api_key="")
    try:
        assert client.has_api_key and not client.offline
        assert client.base_url == config.DEFAULT_BASE_URL
    finally:
        client.close()
