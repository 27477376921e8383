"""An edit of one of the simulator's own results, sent back as image data, shows only the new
caption: the simulator finds its earlier caption band and repaints it before writing the new one.

The measure is the mean absolute difference (MAD, 0-255 levels) of the edited picture's caption
band against the same band of the same edit of the picture that never had a caption. With the
old caption showing through the new band it is ten levels or more (measured 10-14 on these
prompts); without it, about 2 at most (JPEG's own losses included). Where the old caption was
taller than the new one, the whole bottom of the picture is measured too (29 levels with the old
caption left in place, 2.5-6 without).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image, ImageChops, ImageStat

from mountsea_widgets.catalog import catalog
from mountsea_widgets.simulator import Hub, ManualClock, transport
from mountsea_widgets.simulator.captions import Layout, find_caption, remove_caption
from mountsea_widgets.simulator.render import paint, plan_images

#: The new caption band of an edit of a captioned result differs from the same band of the
#: edit of the uncaptioned picture by at most this MAD.
NO_OLD_CAPTION = 4.0
#: The same for the whole bottom, where a taller old band lay (repainted, not restored).
NO_OLD_BAND = 9.0

LONG = "a red cube and a blue sphere on a green hill at noon, with a lighthouse far away"
PROMPTS = [LONG, "a cat", "a lighthouse at dusk", "a paper boat on a pond at night"]


def mad(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference of two pictures of one size, in 0-255 levels."""
    return sum(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean) / 3


def result(model: str, prompt: str, *, labelled: bool = True, **extra: Any) -> Image.Image:
    """A picture as the simulator paints it for ``model`` (with or without its caption)."""
    seed = {"seed": 3} if catalog.spec(model).has("seed") else {}
    clean = catalog.spec(model).validate({"prompt": prompt, **seed, **extra})
    plan = plan_images(model, clean)[0]
    return paint(model, clean, 0, plan.width, plan.height, nonce="0:0", labelled=labelled)


def bottom(picture: Image.Image) -> Image.Image:
    """The part of ``picture`` below the top of the tallest caption band used here."""
    layout = Layout(*picture.size)
    return picture.crop((0, layout.top(3), picture.width, picture.height))


@pytest.mark.parametrize("prompt", PROMPTS)
@pytest.mark.parametrize(
    ("model", "extra"),
    [
        ("nano-banana", {}),
        ("nano-banana-2", {"aspect_ratio": "16:9", "resolution": "0.5K"}),
        ("nano-banana-pro", {"aspect_ratio": "9:16"}),
        ("gpt-image-2", {"quality": "low"}),
    ],
)
def test_the_simulator_finds_its_own_caption_band_and_only_that(
    model: str, extra: dict[str, Any], prompt: str
) -> None:
    labelled = result(model, prompt, **extra)
    box = find_caption(labelled)
    assert box is not None
    layout = Layout(*labelled.size)
    assert box[3] == layout.bottom + 1 and box[0] == layout.margin
    assert box[1] in {layout.top(lines) for lines in (1, 2, 3)}
    assert find_caption(result(model, prompt, labelled=False, **extra)) is None


@pytest.mark.parametrize("prompt", PROMPTS)
def test_removing_the_caption_brings_back_a_plain_bottom(prompt: str) -> None:
    labelled = result("nano-banana", prompt)
    plain = result("nano-banana", prompt, labelled=False)
    assert mad(bottom(labelled), bottom(plain)) > 2 * NO_OLD_CAPTION  # the measure sees a caption
    assert mad(bottom(remove_caption(labelled)), bottom(plain)) < NO_OLD_BAND
    assert remove_caption(plain) is plain  # nothing to remove: untouched


class Sim:
    """A hub with a manual clock and a client into it."""

    def __init__(self) -> None:
        self.clock = ManualClock()
        self.hub = Hub(clock=self.clock, prerender=False)
        self.client = httpx.Client(transport=transport(self.hub), base_url="http://sim.test")

    def image(self, model: str, **input: Any) -> bytes:
        """The bytes of the first image of a finished task."""
        response = self.client.post("/hub/v1/image", json={"model": model, "input": input})
        assert response.status_code == 200, response.text
        task = self.hub.task(response.json()["task_id"])
        self.clock.advance(task.duration)
        body = self.client.get(f"/hub/v1/tasks/{task.id}").json()
        assert body["status"] == "completed"
        fetched = self.client.get(body["data"]["images"][0]["url"])
        assert fetched.status_code == 200
        return fetched.content

    def close(self) -> None:
        self.client.close()
        self.hub.close()


@pytest.fixture
def sim() -> Iterator[Sim]:
    simulator = Sim()
    yield simulator
    simulator.close()


def _data_uri(data: bytes, content_type: str) -> str:
    return f"data:{content_type};base64," + base64.b64encode(data).decode("ascii")


@pytest.mark.parametrize("output_format", ["png", "jpeg"])
@pytest.mark.parametrize("prompt", [LONG, "a lighthouse at dusk"])
def test_an_edit_of_a_simulated_result_sent_as_data_shows_only_the_new_caption(
    sim: Sim, output_format: str, prompt: str
) -> None:
    first = sim.image("nano-banana", prompt=prompt, seed=3, output_format=output_format)
    content_type = "image/png" if output_format == "png" else "image/jpeg"
    edit = {"prompt": "keep it", "seed": 1, "output_format": "png"}
    edited = sim.image("nano-banana-edit", image_urls=[_data_uri(first, content_type)], **edit)
    # The same edit of the picture that never had a caption, sent the same way.
    plain = result("nano-banana", prompt, labelled=False)
    buffer = io.BytesIO()
    plain.save(buffer, "PNG" if output_format == "png" else "JPEG", quality=88)
    again = _data_uri(buffer.getvalue(), content_type)
    fresh = sim.image("nano-banana-edit", image_urls=[again], **edit)
    with Image.open(io.BytesIO(edited)) as got, Image.open(io.BytesIO(fresh)) as want:
        assert got.size == want.size
        band = (0, Layout(*got.size).top(1), got.width, got.height)  # "keep it": one line
        assert mad(got.crop(band), want.crop(band)) < NO_OLD_CAPTION
        assert mad(bottom(got), bottom(want)) < NO_OLD_BAND
