"""The real client against the simulator over real HTTP on loopback: the hub contract end to end.

The simulator runs ``SPEED`` times faster than the real hub, and the client's sleep and clock are
warped by the same factor, so the client's poll schedule (tuned for real durations) plays out
exactly as it would against the real hub, only ``SPEED`` times sooner.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import mountsea_widgets as mw
from mountsea_widgets import errors
from mountsea_widgets.catalog import catalog
from mountsea_widgets.simulator import Faults, ManualClock, SimulatorServer, serve
from mountsea_widgets.simulator.faults import Dice

SPEED = 200.0
SUBMITS = "POST /hub/v1/image"
POLLS = "GET /hub/v1/tasks/{id}"
FILES = "GET /files/{task_id}/{file}"


def warped_clock() -> float:
    return time.monotonic() * SPEED


def warped_sleep(seconds: float) -> None:
    time.sleep(seconds / SPEED)


async def warped_async_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds / SPEED)


def client_for(hub: SimulatorServer, **options: Any) -> mw.Client:
    return mw.Client(
        base_url=hub.url, sleep=warped_sleep, clock=warped_clock, timeout=30, **options
    )


def client_on(hub: SimulatorServer, clock: ManualClock, **options: Any) -> mw.Client:
    """A client sharing ``clock`` with the hub: its sleeps move the hub's time, not the wall's.

    The hub then sees the client's poll schedule exactly as the real hub would, however busy
    the machine is: how many polls a task takes is the schedule's, never the machine's speed.
    """
    return mw.Client(base_url=hub.url, sleep=clock.sleep, clock=clock, timeout=30, **options)


@pytest.fixture
def loopback_hub() -> Iterator[SimulatorServer]:
    with serve(speed=SPEED) as server:
        yield server


@pytest.fixture
def make_hub() -> Iterator[Callable[..., SimulatorServer]]:
    servers: list[SimulatorServer] = []

    def factory(**options: Any) -> SimulatorServer:
        servers.append(serve(speed=options.pop("speed", SPEED), **options))
        return servers[-1]

    yield factory
    for server in servers:
        server.close()


def seed_where(kind: str, rate: float, first: list[bool]) -> int:
    """The first fault seed whose opening rolls of ``kind`` come out as ``first``.

    Lets a test say "the submit is not dropped, the next poll is" without relying on luck.
    """
    for seed in range(10_000):
        dice = Dice(seed)
        if [dice.roll(kind, rate) for _ in first] == first:
            return seed
    raise AssertionError("no such seed")  # pragma: no cover


# --- models and sizes -------------------------------------------------------------------------

EXPECTED_SIZES = [
    ("nano-banana", {"aspect_ratio": "16:9"}, (1024, 576)),
    ("nano-banana-2", {"aspect_ratio": "3:4", "resolution": "0.5K"}, (384, 512)),
    ("nano-banana-pro", {"aspect_ratio": "21:9", "resolution": "2K"}, (2048, 878)),
    ("gpt-image-2", {"image_size": {"width": 1536, "height": 1024}}, (1536, 1024)),
    ("gpt-image-2", {"image_size": "portrait_16_9"}, (576, 1024)),
    ("nano-banana-2-edit", {"aspect_ratio": "1:1", "resolution": "1K"}, (1024, 1024)),
]


def test_every_model_is_covered() -> None:
    covered = {model for model, _, _ in EXPECTED_SIZES}
    assert set(catalog.text_to_image) <= covered
    assert covered & set(catalog.edit)


@pytest.mark.parametrize(("model", "params", "size"), EXPECTED_SIZES)
def test_generate_gives_images_of_the_expected_size(
    loopback_hub: SimulatorServer, model: str, params: dict[str, Any], size: tuple[int, int]
) -> None:
    if catalog[model].is_edit:
        params = {**params, "image_urls": ["https://example.com/source.png"]}
    with client_for(loopback_hub) as client:
        result = client.generate(model, "a lighthouse in a storm", **params)
    assert result.status == "completed"
    assert result.simulated is True
    assert result.model == model
    assert [image.size for image in result.images] == [size]
    assert result.urls[0].startswith(f"{loopback_hub.url}/files/{result.task_id}/")
    assert loopback_hub.stats.submitted == 1
    assert loopback_hub.stats.requests[FILES] == 1
    assert loopback_hub.stats.rejections == 0


def test_several_images_formats_and_sync_mode(loopback_hub: SimulatorServer) -> None:
    with client_for(loopback_hub) as client:
        jpegs = client.generate("nano-banana", "three", num_images=3, output_format="jpeg", seed=4)
        inline = client.generate("nano-banana", "inline", sync_mode=True, output_format="webp")
    assert len(jpegs.images) == 3
    assert jpegs.content_types == ["image/jpeg"] * 3
    assert len(set(jpegs.image_bytes)) == 3
    assert inline.urls[0].startswith("data:image/webp;base64,")
    assert inline.content_types == ["image/webp"]
    assert loopback_hub.stats.requests[FILES] == 3  # the inline image needed no download


def test_same_seed_same_bytes_over_http(loopback_hub: SimulatorServer) -> None:
    with client_for(loopback_hub) as client:
        first = client.generate("nano-banana-2", "a fox", seed=9, resolution="0.5K")
        again = client.generate("nano-banana-2", "a fox", seed=9, resolution="0.5K")
        other = client.generate("nano-banana-2", "a fox", seed=10, resolution="0.5K")
    assert first.task_id != again.task_id
    assert first.image_bytes == again.image_bytes
    assert first.image_bytes != other.image_bytes


@pytest.mark.parametrize("shape", ["task_id", "taskId"])
def test_both_submit_shapes(make_hub: Callable[..., SimulatorServer], shape: str) -> None:
    hub = make_hub(submit_shape=shape)
    with client_for(hub) as client:
        task_id = client.submit("nano-banana", {"prompt": "shape"})
        result = client.wait(task_id, model="nano-banana")
    assert task_id.startswith("hub-")
    assert result.task_id == task_id
    assert len(result.images) == 1


def test_async_client(loopback_hub: SimulatorServer) -> None:
    async def main() -> list[Any]:
        async with mw.AsyncClient(
            base_url=loopback_hub.url, sleep=warped_async_sleep, clock=warped_clock, timeout=30
        ) as client:
            return list(
                await asyncio.gather(
                    client.generate("nano-banana", "async one"),
                    client.generate("gpt-image-2", "async two", image_size="square"),
                )
            )

    one, two = asyncio.run(main())
    assert one.images[0].size == (1024, 1024)
    assert two.images[0].size == (512, 512)
    assert loopback_hub.stats.submitted == 2
    assert loopback_hub.stats.max_in_flight == 2


def test_callbacks_see_the_task_id_first_then_every_status(loopback_hub: SimulatorServer) -> None:
    events: list[str] = []
    with client_for(loopback_hub) as client:
        result = client.generate(
            "nano-banana",
            "events",
            on_submitted=lambda task_id: events.append(f"submitted {task_id}"),
            on_status=lambda status: events.append(status.status),
        )
    assert events[0] == f"submitted {result.task_id}"
    assert events[-1] == "completed"
    assert len(events) - 1 == loopback_hub.stats.requests[POLLS]


# --- terminal statuses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "status"),
    [("task_failed", "failed"), ("task_timeout", "timeout"), ("task_cancelled", "cancelled")],
)
def test_task_endings_raise_task_failed(
    make_hub: Callable[..., SimulatorServer], fault: str, status: str
) -> None:
    hub = make_hub(faults=f"{fault}=1")
    with client_for(hub) as client, pytest.raises(errors.TaskFailedError) as caught:
        client.generate("nano-banana", "doomed")
    assert caught.value.status == status
    assert caught.value.task_id == hub.hub.task_ids[0]
    assert caught.value.error_code
    assert caught.value.error_message
    assert hub.stats.submitted == 1
    assert hub.stats.requests[FILES] == 0


def test_our_own_deadline_raises_task_timeout(make_hub: Callable[..., SimulatorServer]) -> None:
    hub = make_hub(speed=0.001)  # the task would take hours
    with client_for(hub) as client, pytest.raises(errors.TaskTimeoutError) as caught:
        client.generate("nano-banana", "slow", timeout=30)
    assert caught.value.task_id == hub.hub.task_ids[0]
    assert hub.stats.submitted == 1


# --- faults, handled as the client promises -------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 504])
def test_submit_5xx_that_may_have_created_a_task_is_not_retried(
    make_hub: Callable[..., SimulatorServer], status: int
) -> None:
    hub = make_hub(faults=Faults(submit_5xx=1.0, status_5xx=status))
    with client_for(hub) as client, pytest.raises(errors.ServerError) as caught:
        client.generate("nano-banana", "no double charge")
    assert caught.value.status_code == status
    assert hub.stats.requests[SUBMITS] == 1
    assert hub.stats.submitted == 0


def test_submit_503_is_retried_and_completes(make_hub: Callable[..., SimulatorServer]) -> None:
    seed = seed_where("submit_5xx", 0.5, [True, True, False])
    hub = make_hub(faults=Faults(submit_5xx=0.5, status_5xx=503, seed=seed))
    with client_for(hub) as client:
        result = client.generate("nano-banana", "unavailable, then fine")
    assert len(result.images) == 1
    assert hub.stats.requests[SUBMITS] == 3
    assert hub.stats.submitted == 1


def test_rate_limits_are_waited_out(make_hub: Callable[..., SimulatorServer]) -> None:
    seed = seed_where("rate_limit", 0.2, [True] + [False] * 12)  # the submit, not the polls
    clock = ManualClock()
    hub = make_hub(faults=Faults(rate_limit=0.2, retry_after=1, seed=seed), clock=clock)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.sleep(seconds)

    with mw.Client(base_url=hub.url, sleep=sleep, clock=clock) as client:
        result = client.generate("nano-banana", "patience")
    assert len(result.images) == 1
    assert slept[0] == 1.0  # the first submit was told Retry-After: 1
    assert hub.stats.faults["rate_limit"] == 1
    assert hub.stats.requests[SUBMITS] == 2
    assert hub.stats.submitted == 1


def test_poll_errors_and_malformed_answers_are_retried(
    make_hub: Callable[..., SimulatorServer],
) -> None:
    clock = ManualClock()
    hub = make_hub(faults="poll_5xx=0.3,malformed=0.3,slow=0.2,slow_s=0.05,seed=5", clock=clock)
    # The hub runs on the client's clock, so how many polls each task takes is the schedule's,
    # not the machine's; generous retries all the same: ten failures in a row is a bad seed.
    with client_on(hub, clock, max_retries=10) as client:
        results = [client.generate("nano-banana", f"bumpy {i}") for i in range(4)]
    assert all(len(r.images) == 1 for r in results)
    assert hub.stats.submitted == 4
    assert hub.stats.faults["poll_5xx"] + hub.stats.faults["malformed"] >= 1


def test_dropped_poll_is_retried(make_hub: Callable[..., SimulatorServer]) -> None:
    # The submit goes through, then two polls are dropped (never more in a row than the client's
    # retries). The hub runs on the client's clock at a speed where the task outlives the fourth
    # request, and the pattern covers every request the schedule makes (about six).
    pattern = [False, True, False, True] + [False] * 16
    seed = seed_where("drop", 0.3, pattern)
    clock = ManualClock()
    hub = make_hub(faults=Faults(drop=0.3, seed=seed), speed=2.0, clock=clock)
    with client_on(hub, clock) as client:
        result = client.generate("nano-banana", "dropped poll")
    assert len(result.images) == 1
    assert hub.stats.faults["drop"] == 2
    assert hub.stats.submitted == 1


def test_dropped_submit_is_reported_not_resent(make_hub: Callable[..., SimulatorServer]) -> None:
    hub = make_hub(faults="drop=1")
    with client_for(hub) as client, pytest.raises(errors.APIConnectionError):
        client.generate("nano-banana", "dropped submit")
    assert hub.stats.requests[SUBMITS] == 1
    assert hub.stats.submitted == 0


def test_drop_after_submit_never_double_submits(make_hub: Callable[..., SimulatorServer]) -> None:
    hub = make_hub(faults="drop_after_submit=1")
    with client_for(hub) as client, pytest.raises(errors.APIConnectionError) as caught:
        client.generate("nano-banana", "created, then the line went dead")
    assert hub.stats.requests[SUBMITS] == 1
    assert hub.stats.submitted == 1  # the task exists; the client says it may and stops
    assert "may" in str(caught.value)


def test_images_missing_at_first_are_fetched_again(
    make_hub: Callable[..., SimulatorServer],
) -> None:
    hub = make_hub(faults="image_404_first=2")
    with client_for(hub) as client:
        result = client.generate("nano-banana", "eventually there")
    assert len(result.images) == 1
    assert hub.stats.requests[FILES] == 3
    assert hub.stats.faults["image_404_first"] == 2


def test_urls_with_a_lifetime_are_downloaded_in_time(
    make_hub: Callable[..., SimulatorServer],
) -> None:
    hub = make_hub(faults="url_ttl=5")
    with client_for(hub) as client:
        result = client.generate("nano-banana", "download promptly")
    assert len(result.image_bytes) == 1
    assert hub.stats.faults["url_ttl"] == 0


def test_expired_urls_raise_image_error(make_hub: Callable[..., SimulatorServer]) -> None:
    hub = make_hub(faults="url_ttl=0")
    with client_for(hub) as client, pytest.raises(errors.ImageError, match="410"):
        client.generate("nano-banana", "too late")
    assert hub.stats.faults["url_ttl"] >= 1


# --- authentication and validation ------------------------------------------------------------

SECRET = "sk-contract-secret-314"


def test_wrong_key_raises_authentication_error_without_the_key(
    make_hub: Callable[..., SimulatorServer],
) -> None:
    hub = make_hub(api_key=SECRET)
    wrong = "sk-wrong-key-000"
    with client_for(hub, api_key=wrong) as client, pytest.raises(errors.AuthenticationError) as e:
        client.generate("nano-banana", "locked out")
    assert e.value.status_code == 401
    assert wrong not in str(e.value) and SECRET not in str(e.value)
    assert hub.stats.unauthorized == 1
    assert hub.stats.submitted == 0
    with client_for(hub, api_key=SECRET) as client:
        assert len(client.generate("nano-banana", "let in").images) == 1


def test_client_side_validation_means_no_invalid_payload_reaches_the_hub(
    loopback_hub: SimulatorServer,
) -> None:
    with client_for(loopback_hub) as client:
        for params in (
            {"resolution": "8K"},
            {"num_images": 0},
            {"aspect_ratio": "2:1"},
            {"seed": "seven"},
        ):
            with pytest.raises(errors.ValidationError):
                client.generate("nano-banana-2", "invalid", **params)
        with pytest.raises(errors.ValidationError):
            client.generate("gpt-image-2", "bad size", image_size={"width": 1000, "height": 1000})
        with pytest.raises(errors.ValidationError):
            client.generate("not-a-model", "unknown")
    assert loopback_hub.stats.requests[SUBMITS] == 0
    assert loopback_hub.stats.rejections == 0
