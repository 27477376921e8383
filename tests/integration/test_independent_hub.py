"""The client against a hub written only from the documentation, over real HTTP on loopback.

This is the issue's "done when": ``mw.Client(api_key=..., base_url=<a server implementing the
documented hub>).generate("nano-banana", "a red cube", seed=1)`` returns a Result with PIL
images. The server (independent_hub.py) does not import mountsea_widgets.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from PIL import Image

import mountsea_widgets as mw
from mountsea_widgets import errors

from .conftest import HUB_KEY
from .independent_hub import IMAGE_SIZE, IndependentHub


def short_sleep(seconds: float) -> None:
    """The server is real, so time must pass a little; the schedule's long waits are cut short."""
    time.sleep(min(seconds, 0.02))


async def short_async_sleep(seconds: float) -> None:
    await asyncio.sleep(min(seconds, 0.02))


def check_result(result: mw.Result, hub: IndependentHub) -> None:
    assert isinstance(result, mw.Result)
    assert result.status == "completed"
    assert result.model == "nano-banana"
    assert result.input == {"prompt": "a red cube", "seed": 1}
    assert len(result.images) == 1
    image = result.images[0]
    assert isinstance(image, Image.Image)
    assert image.size == IMAGE_SIZE
    assert image.convert("RGB").getpixel((10, 10)) == (220, 30, 30)
    assert result.task_id in hub.state.tasks
    assert result.simulated is False
    # the documented envelope went out, validated, exactly once
    assert hub.state.submits == [
        {"model": "nano-banana", "input": {"prompt": "a red cube", "seed": 1}}
    ]
    assert hub.state.tasks[result.task_id].polls == hub.state.polls_to_complete
    # every hub call carried the documented bearer header
    assert set(hub.state.auth_headers) == {f"Bearer {HUB_KEY}"}
    assert len(hub.state.file_auth_headers) == 1


def test_sync_client_generates_against_the_independent_hub(
    independent_hub: IndependentHub, tmp_path: Path
) -> None:
    submitted: list[str] = []
    statuses: list[str] = []
    with mw.Client(api_key=HUB_KEY, base_url=independent_hub.url, sleep=short_sleep) as client:
        result = client.generate(
            "nano-banana",
            "a red cube",
            seed=1,
            on_submitted=submitted.append,
            on_status=lambda status: statuses.append(status.status),
        )
    check_result(result, independent_hub)
    assert submitted == [result.task_id]
    assert statuses == ["pending", "processing", "completed"]
    (path,) = result.save(tmp_path)
    assert path.name == f"{result.task_id}_1.png"
    assert Image.open(path).size == IMAGE_SIZE


def test_async_client_generates_against_the_independent_hub(
    independent_hub: IndependentHub,
) -> None:
    async def main() -> mw.Result:
        async with mw.AsyncClient(
            api_key=HUB_KEY, base_url=independent_hub.url, sleep=short_async_sleep
        ) as client:
            return await client.generate("nano-banana", "a red cube", seed=1)

    check_result(asyncio.run(main()), independent_hub)


def test_submit_then_resume_with_wait(independent_hub: IndependentHub) -> None:
    with mw.Client(api_key=HUB_KEY, base_url=independent_hub.url, sleep=short_sleep) as client:
        task_id = client.submit("nano-banana", {"prompt": "a red cube", "seed": 1})
        first = client.get_task(task_id)
        assert (first.id, first.status, first.ready) == (task_id, "pending", False)
        result = client.wait(
            task_id, model="nano-banana", input={"prompt": "a red cube", "seed": 1}
        )
    check_result(result, independent_hub)


@pytest.mark.parametrize("key", ["sk-wrong-key-000000000", None])
def test_wrong_or_missing_key_is_an_authentication_error(
    independent_hub: IndependentHub, key: str | None
) -> None:
    client = mw.Client(api_key=key, base_url=independent_hub.url, sleep=short_sleep)
    with client, pytest.raises(errors.AuthenticationError) as info:
        client.generate("nano-banana", "a red cube", seed=1)
    assert info.value.status_code == 401
    assert "Invalid API key" in str(info.value)
    if key is not None:
        assert key not in str(info.value)
    assert independent_hub.state.submits == []
