"""The two doors into the hub: the HTTP server (and its command line) and the httpx transport."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from mountsea_widgets import simulator
from mountsea_widgets.simulator import Faults, Hub, ManualClock, SimulatorServer, serve, transport
from mountsea_widgets.simulator.embedded import DEFAULT_SPEED, SPEED_VARIABLE, _speed_from_env

SUBMIT = {"model": "nano-banana", "input": {"prompt": "over http"}}


def _raw(url: str, method: str, path: str, body: Any = None, headers: Any = None) -> Any:
    """A request with the standard library only: any HTTP client can use the simulator."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    payload = json.dumps(body).encode() if body is not None else None
    connection.request(method, path, body=payload, headers=headers or {})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), data


def test_serve_answers_over_real_http_on_loopback() -> None:
    clock = ManualClock()
    with serve(clock=clock, prerender=False) as hub:
        assert hub.url.startswith("http://127.0.0.1:")
        assert hub.port > 0
        status, headers, data = _raw(
            hub.url, "POST", "/hub/v1/image", SUBMIT, {"Content-Type": "application/json"}
        )
        assert status == 200
        task_id = json.loads(data)["task_id"]
        clock.advance(hub.hub.task(task_id).duration)
        status, _, data = _raw(hub.url, "GET", f"/hub/v1/tasks/{task_id}")
        body = json.loads(data)
        assert body["status"] == "completed"
        assert body["simulated"] is True
        url = body["data"]["images"][0]["url"]
        assert url == f"{hub.url}/files/{task_id}/0.png"
        status, headers, data = _raw(hub.url, "GET", url.removeprefix(hub.url))
        assert status == 200
        assert headers["Content-Type"] == "image/png"
        assert data.startswith(b"\x89PNG")
        assert hub.stats.submitted == 1
        assert hub.stats.requests["GET /files/{task_id}/{file}"] == 1


def test_keep_alive_serves_several_requests_on_one_connection() -> None:
    with serve() as hub:
        host, port = hub.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        for _ in range(3):
            connection.request("GET", "/hub/v1/models?capability=image")
            response = connection.getresponse()
            assert response.status == 200
            assert len(json.loads(response.read())["data"]) == 8
        connection.close()
        assert hub.stats.requests["GET /hub/v1/models"] == 3


def test_drop_closes_the_socket_without_a_response() -> None:
    with serve(faults="drop=1") as hub:
        with pytest.raises(http.client.RemoteDisconnected):
            _raw(hub.url, "POST", "/hub/v1/image", SUBMIT)
        with httpx.Client(base_url=hub.url) as client, pytest.raises(httpx.RemoteProtocolError):
            client.post("/hub/v1/image", json=SUBMIT)
        assert hub.stats.submitted == 0
        # The server is still fine for routes the fault does not touch.
        assert _raw(hub.url, "GET", "/hub/v1/models")[0] == 200


def test_429_carries_retry_after_over_http() -> None:
    with serve(faults=Faults(rate_limit=1.0, retry_after=2)) as hub:
        status, headers, _ = _raw(hub.url, "POST", "/hub/v1/image", SUBMIT)
        assert status == 429
        assert headers["Retry-After"] == "2"


def test_api_key_over_http_is_required_and_never_echoed() -> None:
    secret = "sk-http-secret-77"
    with serve(api_key=secret) as hub:
        status, _, data = _raw(
            hub.url, "POST", "/hub/v1/image", SUBMIT, {"Authorization": "Bearer nope"}
        )
        assert status == 401
        assert secret.encode() not in data
        status, _, _ = _raw(
            hub.url, "POST", "/hub/v1/image", SUBMIT, {"Authorization": f"Bearer {secret}"}
        )
        assert status == 200


def test_requests_are_handled_in_parallel() -> None:
    # Every request is held (through the "slow" fault's sleep) until 100 of them are inside the
    # server at once: a server handling one request at a time would break the barrier.
    parties = 100
    barrier = threading.Barrier(parties, timeout=20)
    hub = Hub(faults="slow=1,slow_s=0.01", prerender=False)
    with SimulatorServer(hub, sleep=lambda _s: barrier.wait()).start() as server:
        limits = httpx.Limits(max_connections=parties)
        with (
            httpx.Client(base_url=server.url, limits=limits, timeout=30) as client,
            ThreadPoolExecutor(max_workers=parties) as pool,
        ):
            statuses = list(
                pool.map(
                    lambda _i: client.post("/hub/v1/image", json=SUBMIT).status_code,
                    range(parties),
                )
            )
        assert statuses == [200] * parties
        assert hub.stats.max_in_flight == parties


def test_close_stops_the_server() -> None:
    server = serve()
    url = server.url
    assert _raw(url, "GET", "/hub/v1/models")[0] == 200
    server.close()
    server.close()  # twice is fine
    with pytest.raises(OSError):
        _raw(url, "GET", "/hub/v1/models")


def test_server_repr_shows_url_and_state() -> None:
    server = SimulatorServer(Hub(prerender=False))
    assert server.url in repr(server)
    server.close()
    assert "closed" in repr(server)


# --- in-process transport ---------------------------------------------------------------------


def test_transport_serves_async_clients_and_image_urls() -> None:
    clock = ManualClock()
    hub = Hub(clock=clock, prerender=False)

    async def main() -> bytes:
        async with httpx.AsyncClient(transport=transport(hub), base_url="http://sim") as client:
            task_id = (await client.post("/hub/v1/image", json=SUBMIT)).json()["task_id"]
            clock.advance(hub.task(task_id).duration)
            body = (await client.get(f"/hub/v1/tasks/{task_id}")).json()
            image = await client.get(body["data"]["images"][0]["url"])
            assert image.status_code == 200
            return image.content

    assert asyncio.run(main()).startswith(b"\x89PNG")
    hub.close()


def test_transport_builds_its_own_hub_from_options() -> None:
    t = transport(speed=7, api_key="k")
    assert t.hub.speed == 7
    with pytest.raises(TypeError):
        transport(Hub(prerender=False), speed=2)


def test_transport_drop_over_async_raises_remote_protocol_error() -> None:
    hub = Hub(prerender=False, faults="drop=1")

    async def main() -> None:
        async with httpx.AsyncClient(transport=transport(hub), base_url="http://sim") as client:
            await client.post("/hub/v1/image", json=SUBMIT)

    with pytest.raises(httpx.RemoteProtocolError):
        asyncio.run(main())


# --- embedded ---------------------------------------------------------------------------------


def test_embedded_is_one_running_simulator_per_process() -> None:
    first = simulator.embedded()
    assert simulator.embedded() is first
    assert first.url.startswith("http://127.0.0.1:")
    assert _raw(first.url, "GET", "/hub/v1/models")[0] == 200


def test_embedded_speed_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SPEED_VARIABLE, raising=False)
    assert _speed_from_env() == DEFAULT_SPEED == 3.0
    monkeypatch.setenv(SPEED_VARIABLE, "25")
    assert _speed_from_env() == 25.0
    for bad in ("fast", "0", "-1"):
        monkeypatch.setenv(SPEED_VARIABLE, bad)
        with pytest.raises(ValueError, match=SPEED_VARIABLE):
            _speed_from_env()


# --- command line -----------------------------------------------------------------------------


def test_command_line_serves_until_interrupted() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mountsea_widgets.simulator",
            "--port",
            "0",
            "--speed",
            "100",
            "--faults",
            "task_failed=1",
            "--api-key",
            "cli-key",
            "--submit-shape",
            "taskId",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        assert "serving on http://127.0.0.1:" in first_line
        url = first_line.rsplit(" ", 1)[-1].strip()
        status, _, data = _raw(
            url, "POST", "/hub/v1/image", SUBMIT, {"Authorization": "Bearer cli-key"}
        )
        assert status == 201
        assert "taskId" in json.loads(data)
        assert _raw(url, "GET", "/hub/v1/models")[0] == 401
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    assert process.returncode == 0


def test_command_line_rejects_bad_faults() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mountsea_widgets.simulator", "--port", "0", "--faults", "boom=1"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "unknown fault 'boom'" in result.stderr
