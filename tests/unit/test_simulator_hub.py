"""The simulated hub's contract, state machine, validation, auth and counters (no sockets).

Every test drives the hub through the in-process httpx transport with a manual clock, so time
moves only when the test says so.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mountsea_widgets.catalog import TYPICAL_SECONDS, catalog
from mountsea_widgets.simulator import Hub, ManualClock, transport
from mountsea_widgets.simulator.latency import JITTER, PENDING_FRACTION

BASE = "http://hub.test"


@pytest.fixture
def client(manual_clock_hub: Hub) -> Iterator[httpx.Client]:
    with httpx.Client(transport=transport(manual_clock_hub), base_url=BASE) as client:
        yield client


def submit(client: httpx.Client, model: str, **input: Any) -> str:
    response = client.post("/hub/v1/image", json={"model": model, "input": input})
    assert response.status_code == 200, response.text
    task_id: str = response.json()["task_id"]
    return task_id


def finish(hub: Hub, clock: ManualClock, task_id: str) -> None:
    task = hub.task(task_id)
    clock.advance(max(0.0, task.finishes - clock()))


# --- submit -----------------------------------------------------------------------------------


def test_submit_answers_the_documented_task_id_shape(client: httpx.Client) -> None:
    response = client.post("/hub/v1/image", json={"model": "gpt-image-2", "input": {"prompt": "x"}})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "task_id",
        "status",
        "capability",
        "model",
        "vendor",
        "mode",
        "created_at",
    }
    assert body["task_id"].startswith("hub-")
    assert len(body["task_id"]) == len("hub-") + 36
    assert body["status"] == "pending"
    assert body["capability"] == "image"
    assert (body["model"], body["vendor"], body["mode"]) == (
        "gpt-image-2",
        "OpenAI",
        "text-to-image",
    )
    # ISO-8601 in UTC with a Z suffix, like the documented example.
    assert body["created_at"].endswith("Z") and "T" in body["created_at"]


def test_submit_shape_task_id_camel_case_answers_201(manual_clock: ManualClock) -> None:
    hub = Hub(clock=manual_clock, prerender=False, submit_shape="taskId")
    with httpx.Client(transport=transport(hub), base_url=BASE) as client:
        response = client.post(
            "/hub/v1/image", json={"model": "nano-banana", "input": {"prompt": "x"}}
        )
        assert response.status_code == 201
        body = response.json()
        assert list(body) == ["taskId"]
        poll = client.get(f"/hub/v1/tasks/{body['taskId']}")
        assert poll.status_code == 200
        assert poll.json()["task_id"] == body["taskId"]


def test_unknown_submit_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="submit_shape"):
        Hub(submit_shape="id")


def test_edit_model_reports_image_to_image(client: httpx.Client) -> None:
    response = client.post(
        "/hub/v1/image",
        json={
            "model": "nano-banana-edit",
            "input": {"prompt": "add a hat", "image_urls": ["https://example.com/a.png"]},
        },
    )
    assert response.status_code == 200
    assert response.json()["mode"] == "image-to-image"


# --- state machine ----------------------------------------------------------------------------


def test_task_moves_pending_processing_completed_with_the_clock(
    manual_clock_hub: Hub, manual_clock: ManualClock, client: httpx.Client
) -> None:
    task_id = submit(client, "nano-banana", prompt="a fox")
    duration = manual_clock_hub.task(task_id).duration
    seen = []
    for fraction in (0.0, PENDING_FRACTION * 0.5, PENDING_FRACTION * 1.5, 0.9, 1.0, 3.0):
        clock_at = manual_clock_hub.task(task_id).created + fraction * duration
        manual_clock.advance(max(0.0, clock_at - manual_clock()))
        body = client.get(f"/hub/v1/tasks/{task_id}").json()
        seen.append((body["status"], body["ready"]))
        assert body["simulated"] is True
        assert body["task_id"] == task_id
    assert seen == [
        ("pending", False),
        ("pending", False),
        ("processing", False),
        ("processing", False),
        ("completed", True),
        ("completed", True),
    ]
    final = client.get(f"/hub/v1/tasks/{task_id}").json()
    # elapsed_ms stops at the task's duration once it is finished.
    assert final["elapsed_ms"] == round(duration * 1000)
    assert "error_code" not in final
    assert len(final["data"]["images"]) == 1


def test_pending_task_has_no_data(client: httpx.Client) -> None:
    task_id = submit(client, "nano-banana", prompt="a fox")
    body = client.get(f"/hub/v1/tasks/{task_id}").json()
    assert body["status"] == "pending"
    assert "data" not in body
    assert body["elapsed_ms"] == 0


@pytest.mark.parametrize("model", list(catalog))
def test_duration_is_the_typical_time_with_jitter_divided_by_speed(model: str) -> None:
    durations = []
    for speed in (1.0, 10.0):
        hub = Hub(speed=speed, seed=3, clock=ManualClock(), prerender=False)
        spec = catalog[model]
        durations.append(hub._create(spec, spec.validate(_minimal_input(model))).duration)
        hub.close()
    typical = TYPICAL_SECONDS[model]
    assert typical * (1 - JITTER) <= durations[0] <= typical * (1 + JITTER)
    assert durations[1] == pytest.approx(durations[0] / 10)


def test_jitter_differs_between_tasks_but_repeats_with_the_seed() -> None:
    def durations(seed: int) -> list[float]:
        hub = Hub(seed=seed, clock=ManualClock(), prerender=False)
        spec = catalog["nano-banana"]
        values = [hub._create(spec, {"prompt": "x"}).duration for _ in range(5)]
        hub.close()
        return values

    first = durations(1)
    assert len(set(first)) == 5
    assert durations(1) == first
    assert durations(2) != first


def test_speed_must_be_positive() -> None:
    with pytest.raises(ValueError, match="speed"):
        Hub(speed=0)


def test_in_flight_counts_unfinished_tasks(
    manual_clock_hub: Hub, manual_clock: ManualClock, client: httpx.Client
) -> None:
    ids = [submit(client, "nano-banana", prompt=f"p{i}") for i in range(3)]
    assert manual_clock_hub.stats.in_flight == 3
    assert manual_clock_hub.stats.max_in_flight == 3
    for task_id in ids:
        finish(manual_clock_hub, manual_clock, task_id)
    assert manual_clock_hub.stats.in_flight == 0
    assert manual_clock_hub.stats.max_in_flight == 3
    assert manual_clock_hub.stats.submitted == 3


def test_counters_are_thread_safe(manual_clock_hub: Hub) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with httpx.Client(transport=transport(manual_clock_hub), base_url=BASE) as client:
                for _ in range(10):
                    submit(client, "nano-banana", prompt="same")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert manual_clock_hub.stats.submitted == 80
    assert manual_clock_hub.stats.requests["POST /hub/v1/image"] == 80
    assert len(set(manual_clock_hub.task_ids)) == 80


# --- polling errors ---------------------------------------------------------------------------


def test_unknown_task_is_404(client: httpx.Client) -> None:
    response = client.get("/hub/v1/tasks/hub-00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert "not found" in response.json()["message"]


def test_unknown_route_is_404(client: httpx.Client) -> None:
    assert client.get("/hub/v2/whatever").status_code == 404
    assert client.delete("/hub/v1/image").status_code == 404


# --- validation -------------------------------------------------------------------------------


def test_invalid_input_is_rejected_naming_the_parameter(
    manual_clock_hub: Hub, client: httpx.Client
) -> None:
    response = client.post(
        "/hub/v1/image",
        json={"model": "nano-banana-2", "input": {"prompt": "x", "resolution": "5K"}},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["statusCode"] == 422
    assert body["error"] == "Unprocessable Entity"
    assert "resolution" in body["message"]
    assert body["problems"] == [
        {
            "param": "resolution",
            "message": "'5K' is not allowed",
            "allowed": "one of 0.5K, 1K, 2K, 4K",
        }
    ]
    assert manual_clock_hub.stats.rejections == 1
    assert manual_clock_hub.stats.submitted == 0
    assert manual_clock_hub.task_ids == []


def test_every_problem_is_listed(client: httpx.Client) -> None:
    response = client.post(
        "/hub/v1/image",
        json={"model": "gpt-image-2", "input": {"num_images": 9, "seed": 3}},
    )
    assert response.status_code == 422
    params = {p["param"] for p in response.json()["problems"]}
    assert params == {"num_images", "seed", "prompt"}


def test_unknown_model_is_rejected_naming_model(
    manual_clock_hub: Hub, client: httpx.Client
) -> None:
    response = client.post(
        "/hub/v1/image", json={"model": "nano-bananas", "input": {"prompt": "x"}}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["problems"][0]["param"] == "model"
    assert "model" in body["message"]
    assert "nano-banana" in body["problems"][0]["message"]  # did-you-mean suggestion
    assert manual_clock_hub.stats.rejections == 1


@pytest.mark.parametrize(
    ("payload", "param", "status"),
    [
        (b"{not json", "body", 400),
        (b"[1, 2]", "body", 400),
        (json.dumps({"input": {"prompt": "x"}}).encode(), "model", 400),
        (json.dumps({"model": "nano-banana", "input": "x"}).encode(), "input", 422),
    ],
)
def test_malformed_requests_are_rejected(
    manual_clock_hub: Hub, client: httpx.Client, payload: bytes, param: str, status: int
) -> None:
    response = client.post(
        "/hub/v1/image", content=payload, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == status
    assert response.json()["problems"][0]["param"] == param
    assert manual_clock_hub.stats.rejections == 1


# --- authentication ---------------------------------------------------------------------------

SECRET = "sk-test-very-secret-0042"


@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong-key", SECRET, f"Basic {SECRET}", f"Bearer {SECRET}x"],
)
def test_requests_without_the_right_bearer_key_get_401(header: str | None) -> None:
    hub = Hub(api_key=SECRET, clock=ManualClock(), prerender=False)
    headers = {"Authorization": header} if header else {}
    with httpx.Client(transport=transport(hub), base_url=BASE, headers=headers) as client:
        for response in (
            client.post("/hub/v1/image", json={"model": "nano-banana", "input": {"prompt": "x"}}),
            client.get("/hub/v1/tasks/hub-x"),
            client.get("/hub/v1/models"),
        ):
            assert response.status_code == 401
            assert response.headers["content-type"] == "application/json"
            assert SECRET not in response.text
            assert "Authorization" in response.json()["message"]
    assert hub.stats.unauthorized == 3
    assert hub.stats.submitted == 0


def test_the_right_key_is_accepted() -> None:
    hub = Hub(api_key=SECRET, clock=ManualClock(), prerender=False)
    headers = {"Authorization": f"Bearer {SECRET}"}
    with httpx.Client(transport=transport(hub), base_url=BASE, headers=headers) as client:
        task_id = submit(client, "nano-banana", prompt="x")
        assert client.get(f"/hub/v1/tasks/{task_id}").status_code == 200
    assert hub.stats.unauthorized == 0


# --- models -----------------------------------------------------------------------------------


def test_model_list_names_every_catalog_model(client: httpx.Client) -> None:
    body = client.get("/hub/v1/models", params={"capability": "image"}).json()
    assert [m["id"] for m in body["data"]] == list(catalog)
    for item in body["data"]:
        assert set(item) == {"id", "title", "vendor", "capability", "mode", "summary"}
        assert item["capability"] == "image"
        assert item["title"] == catalog[item["id"]].title
    assert client.get("/hub/v1/models", params={"capability": "video"}).json()["data"] == []


@pytest.mark.parametrize("model", list(catalog))
def test_model_detail_serves_the_catalog_schema_and_a_valid_example(
    client: httpx.Client, model: str
) -> None:
    body = client.get(f"/hub/v1/models/{model}").json()
    spec = catalog[model]
    assert body["id"] == model
    assert body["input_schema"] == spec.input_schema()
    # The documented workflow copies the example into a submit: it must be accepted as is.
    assert spec.validate(body["example"])
    assert client.post("/hub/v1/image", json={"model": model, "input": body["example"]}).is_success


def test_unknown_model_detail_is_404_naming_model(client: httpx.Client) -> None:
    response = client.get("/hub/v1/models/dall-e")
    assert response.status_code == 404
    assert "model" in response.json()["message"]


def test_requests_are_counted_per_route(
    manual_clock_hub: Hub, manual_clock: ManualClock, client: httpx.Client
) -> None:
    task_id = submit(client, "nano-banana", prompt="x")
    client.get(f"/hub/v1/tasks/{task_id}")
    client.get(f"/hub/v1/tasks/{task_id}")
    finish(manual_clock_hub, manual_clock, task_id)
    url = client.get(f"/hub/v1/tasks/{task_id}").json()["data"]["images"][0]["url"]
    client.get(url)
    client.get("/hub/v1/models")
    client.get("/hub/v1/models/nano-banana")
    assert dict(manual_clock_hub.stats.requests) == {
        "POST /hub/v1/image": 1,
        "GET /hub/v1/tasks/{id}": 3,
        "GET /files/{task_id}/{file}": 1,
        "GET /hub/v1/models": 1,
        "GET /hub/v1/models/{id}": 1,
    }
    snapshot = manual_clock_hub.stats.snapshot()
    assert snapshot["submitted"] == 1
    assert snapshot["rejections"] == 0


def _minimal_input(model: str) -> dict[str, Any]:
    if catalog[model].is_edit:
        return {"prompt": "x", "image_urls": ["https://example.com/a.png"]}
    return {"prompt": "x"}
