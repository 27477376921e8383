"""The simulator's images: sizes for every model and tier, formats, determinism, sync_mode."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from mountsea_widgets.catalog import catalog
from mountsea_widgets.simulator import PRESET_SIZES, Hub, ManualClock, transport
from mountsea_widgets.simulator.render import image_size, ratio_for_auto, render
from tests.helpers.images import solid_png

BASE = "http://hub.test"
LONG_EDGE = {"0.5K": 512, "1K": 1024, "2K": 2048, "4K": 4096}


class Sim:
    """A hub with a manual clock and a client into it; ``run`` submits and finishes a task."""

    def __init__(self, **options: Any) -> None:
        self.clock = ManualClock()
        self.hub = Hub(clock=self.clock, prerender=False, **options)
        self.client = httpx.Client(transport=transport(self.hub), base_url=BASE)

    def run(self, model: str, **input: Any) -> dict[str, Any]:
        if catalog[model].is_edit and "image_urls" not in input:
            input["image_urls"] = ["https://example.com/a.png"]
        response = self.client.post("/hub/v1/image", json={"model": model, "input": input})
        assert response.status_code == 200, response.text
        task = self.hub.task(response.json()["task_id"])
        self.clock.advance(task.duration)
        body: dict[str, Any] = self.client.get(f"/hub/v1/tasks/{task.id}").json()
        assert body["status"] == "completed"
        return body

    def fetch(self, url: str) -> httpx.Response:
        response = self.client.get(url)
        assert response.status_code == 200, response.text
        return response

    def close(self) -> None:
        self.client.close()
        self.hub.close()


@pytest.fixture
def sim() -> Iterator[Sim]:
    sim = Sim()
    yield sim
    sim.close()


def _ratio_cases() -> list[tuple[str, str, str | None]]:
    cases: list[tuple[str, str, str | None]] = []
    for model in catalog:
        spec = catalog[model]
        if not spec.has("aspect_ratio"):
            continue
        ratios = [r for r in spec.param("aspect_ratio").enum or () if r != "auto"]
        tiers: list[str | None] = (
            list(spec.param("resolution").enum or ()) if spec.has("resolution") else [None]
        )
        cases += [(model, ratio, tier) for ratio in ratios for tier in tiers]
    return cases


@pytest.mark.parametrize(("model", "ratio", "tier"), _ratio_cases())
def test_nano_banana_size_follows_aspect_ratio_and_resolution(
    sim: Sim, model: str, ratio: str, tier: str | None
) -> None:
    input: dict[str, Any] = {"prompt": "size check", "aspect_ratio": ratio}
    if tier is not None:
        input["resolution"] = tier
    image = sim.run(model, **input)["data"]["images"][0]
    width, height = image["width"], image["height"]
    rw, rh = (int(n) for n in ratio.split(":"))
    assert max(width, height) == LONG_EDGE[tier or "1K"]
    assert (width >= height) == (rw >= rh)
    # The short edge is the long edge times the ratio, rounded to a whole pixel.
    assert abs(width * rh - height * rw) <= max(rw, rh)
    if max(width, height) <= 1024:  # decoding every 4K image would only slow the suite down
        with Image.open(io.BytesIO(sim.fetch(image["url"]).content)) as picture:
            assert picture.size == (width, height)


def test_a_4k_image_really_is_4096_pixels_on_the_long_edge(sim: Sim) -> None:
    body = sim.run("nano-banana-pro", prompt="big", resolution="4K", aspect_ratio="16:9")
    image = body["data"]["images"][0]
    assert (image["width"], image["height"]) == (4096, 2304)
    with Image.open(io.BytesIO(sim.fetch(image["url"]).content)) as picture:
        assert picture.size == (4096, 2304)


def test_default_sizes(sim: Sim) -> None:
    sizes = {
        model: tuple(
            sim.run(model, prompt="a cat")["data"]["images"][0][k] for k in ("width", "height")
        )
        for model in ("nano-banana", "nano-banana-2", "nano-banana-pro", "gpt-image-2")
    }
    assert sizes == {
        "nano-banana": (1024, 1024),  # 1:1 default
        "nano-banana-2": (1024, 1024),  # auto, nothing wide or tall in the prompt
        "nano-banana-pro": (1024, 1024),
        "gpt-image-2": (1024, 768),  # landscape_4_3 default
    }


def test_auto_aspect_ratio_is_derived_from_the_prompt(sim: Sim) -> None:
    assert ratio_for_auto("a wide panorama of the alps") == (16, 9)
    assert ratio_for_auto("a movie poster") == (3, 4)
    assert ratio_for_auto("a cat") == (1, 1)
    wide = sim.run("nano-banana-2", prompt="a wide panorama of the alps", aspect_ratio="auto")
    assert (wide["data"]["images"][0]["width"], wide["data"]["images"][0]["height"]) == (
        1024,
        576,
    )
    tall = sim.run("nano-banana-edit", prompt="make it a movie poster")
    assert (tall["data"]["images"][0]["width"], tall["data"]["images"][0]["height"]) == (
        768,
        1024,
    )


@pytest.mark.parametrize("model", ["gpt-image-2", "gpt-image-2-edit"])
@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("square_hd", (1024, 1024)),
        ("square", (512, 512)),
        ("portrait_4_3", (768, 1024)),
        ("portrait_16_9", (576, 1024)),
        ("landscape_4_3", (1024, 768)),
        ("landscape_16_9", (1024, 576)),
    ],
)
def test_gpt_image_presets(sim: Sim, model: str, preset: str, expected: tuple[int, int]) -> None:
    image = sim.run(model, prompt="preset", image_size=preset)["data"]["images"][0]
    assert (image["width"], image["height"]) == expected
    with Image.open(io.BytesIO(sim.fetch(image["url"]).content)) as picture:
        assert picture.size == expected


def test_gpt_image_edit_auto_size(sim: Sim) -> None:
    image = sim.run("gpt-image-2-edit", prompt="x", image_size="auto")["data"]["images"][0]
    assert (image["width"], image["height"]) == PRESET_SIZES["auto"] == (1024, 1024)


@pytest.mark.parametrize(("width", "height"), [(1536, 1024), (1024, 640), (3840, 2160)])
def test_gpt_image_custom_size_is_exact(sim: Sim, width: int, height: int) -> None:
    size = {"width": width, "height": height}
    image = sim.run("gpt-image-2", prompt="custom", image_size=size)["data"]["images"][0]
    assert (image["width"], image["height"]) == (width, height)
    with Image.open(io.BytesIO(sim.fetch(image["url"]).content)) as picture:
        assert picture.size == (width, height)


def test_num_images_gives_that_many_distinct_images(sim: Sim) -> None:
    images = sim.run("nano-banana", prompt="four", num_images=4, seed=1)["data"]["images"]
    assert len(images) == 4
    assert len({image["url"] for image in images}) == 4
    contents = [sim.fetch(image["url"]).content for image in images]
    assert len(set(contents)) == 4
    for content in contents:
        with Image.open(io.BytesIO(content)) as picture:
            assert picture.size == (1024, 1024)


@pytest.mark.parametrize(
    ("fmt", "content_type", "extension", "pil_format"),
    [
        ("png", "image/png", "png", "PNG"),
        ("jpeg", "image/jpeg", "jpg", "JPEG"),
        ("webp", "image/webp", "webp", "WEBP"),
    ],
)
def test_output_formats(
    sim: Sim, fmt: str, content_type: str, extension: str, pil_format: str
) -> None:
    image = sim.run("nano-banana", prompt="fmt", output_format=fmt)["data"]["images"][0]
    assert image["content_type"] == content_type
    assert image["url"].endswith(f".{extension}")
    assert image["file_name"].endswith(f".{extension}")
    response = sim.fetch(image["url"])
    assert response.headers["content-type"] == content_type
    with Image.open(io.BytesIO(response.content)) as picture:
        assert picture.format == pil_format


def test_image_urls_are_on_the_host_the_client_called(sim: Sim) -> None:
    image = sim.run("nano-banana", prompt="x")["data"]["images"][0]
    assert image["url"].startswith(f"{BASE}/files/hub-")
    other = httpx.Client(transport=transport(sim.hub), base_url="http://elsewhere:9")
    task_id = other.post(
        "/hub/v1/image", json={"model": "nano-banana", "input": {"prompt": "y"}}
    ).json()["task_id"]
    sim.clock.advance(sim.hub.task(task_id).duration)
    body = other.get(f"/hub/v1/tasks/{task_id}").json()
    assert body["data"]["images"][0]["url"].startswith("http://elsewhere:9/files/")


def test_file_urls_are_404_until_the_task_completes_and_for_wrong_names(sim: Sim) -> None:
    response = sim.client.post(
        "/hub/v1/image", json={"model": "nano-banana", "input": {"prompt": "x"}}
    )
    task_id = response.json()["task_id"]
    assert sim.client.get(f"/files/{task_id}/0.png").status_code == 404
    sim.clock.advance(sim.hub.task(task_id).duration)
    assert sim.client.get(f"/files/{task_id}/0.png").status_code == 200
    assert sim.client.get(f"/files/{task_id}/0.jpg").status_code == 404
    assert sim.client.get(f"/files/{task_id}/1.png").status_code == 404
    assert sim.client.get("/files/hub-nope/0.png").status_code == 404


def test_sync_mode_returns_data_uris(sim: Sim) -> None:
    body = sim.run(
        "nano-banana", prompt="inline", sync_mode=True, num_images=2, output_format="jpeg"
    )
    images = body["data"]["images"]
    assert len(images) == 2
    for image in images:
        head, _, payload = image["url"].partition(",")
        assert head == "data:image/jpeg;base64"
        with Image.open(io.BytesIO(base64.b64decode(payload))) as picture:
            assert picture.format == "JPEG"
            assert picture.size == (image["width"], image["height"])
    # Nothing was served as a file.
    assert sim.hub.stats.requests["GET /files/{task_id}/{file}"] == 0


# --- determinism ------------------------------------------------------------------------------


def _bytes_of(model: str, **input: Any) -> bytes:
    sim = Sim()  # a fresh hub each time: no shared cache
    try:
        image = sim.run(model, **input)["data"]["images"][0]
        return sim.fetch(image["url"]).content
    finally:
        sim.close()


def test_same_model_input_and_seed_give_the_same_bytes() -> None:
    first = _bytes_of("nano-banana-2", prompt="a lighthouse", seed=42, resolution="0.5K")
    again = _bytes_of("nano-banana-2", prompt="a lighthouse", seed=42, resolution="0.5K")
    assert first == again


def test_another_seed_gives_another_image() -> None:
    first = _bytes_of("nano-banana-2", prompt="a lighthouse", seed=42, resolution="0.5K")
    other = _bytes_of("nano-banana-2", prompt="a lighthouse", seed=43, resolution="0.5K")
    assert first != other
    with Image.open(io.BytesIO(first)) as a, Image.open(io.BytesIO(other)) as b:
        # Not just a different badge: the palette differs (compare the average colour).
        assert a.convert("RGB").resize((1, 1)).getpixel((0, 0)) != b.convert("RGB").resize(
            (1, 1)
        ).getpixel((0, 0))


def test_gpt_image_2_is_deterministic_on_model_and_input() -> None:
    size = {"width": 1024, "height": 640}
    first = _bytes_of("gpt-image-2", prompt="a poster", image_size=size)
    assert _bytes_of("gpt-image-2", prompt="a poster", image_size=size) == first
    assert _bytes_of("gpt-image-2", prompt="a poster!", image_size=size) != first
    assert _bytes_of("gpt-image-2", prompt="a poster", image_size=size, quality="low") != first


def test_the_prompt_is_written_on_the_image() -> None:
    # A long prompt wraps onto several lines inside a dark caption panel at the bottom.
    prompt = "A lighthouse on a cliff at sunset, painted in watercolor with soft pastel light"
    with Image.open(io.BytesIO(render("nano-banana", {"prompt": prompt}))) as picture:
        rgb = picture.convert("RGB")
    width, height = rgb.size
    # Inside the darkened caption panel the background is at most ~126 bright, so white pixels
    # there can only be the letters; the badge's dark letters are darker than any palette colour.
    caption = rgb.crop((width // 10, height * 85 // 100, width * 9 // 10, height * 95 // 100))
    badge = rgb.crop((0, 0, width // 3, height // 12))
    assert caption.convert("L").getextrema()[1] > 240
    darkest_badge_channel_max = min(max(c) for c in _pixels(badge))
    assert darkest_badge_channel_max < 40


def _pixels(picture: Image.Image) -> list[tuple[int, int, int]]:
    raw = picture.tobytes()
    return [(raw[i], raw[i + 1], raw[i + 2]) for i in range(0, len(raw), 3)]


def test_image_size_function_matches_the_catalog_defaults() -> None:
    assert image_size("gpt-image-2", {"prompt": "x"}) == (1024, 768)
    assert image_size("gpt-image-2-edit", {"prompt": "x"}) == (1024, 1024)
    assert image_size(
        "nano-banana-2", {"prompt": "x", "aspect_ratio": "8:1", "resolution": "0.5K"}
    ) == (
        512,
        64,
    )


# --- edits ------------------------------------------------------------------------------------


def _png_data_uri(size: tuple[int, int], color: tuple[int, int, int]) -> str:
    return "data:image/png;base64," + base64.b64encode(solid_png(color, size)).decode()


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("nano-banana-edit", (1024, 683)),
        ("nano-banana-2-edit", (1024, 683)),
        ("gpt-image-2-edit", (1024, 688)),  # edges kept multiples of 16
    ],
)
def test_edit_auto_keeps_the_shape_of_a_data_uri_source(
    sim: Sim, model: str, expected: tuple[int, int]
) -> None:
    source = _png_data_uri((300, 200), (255, 0, 0))
    image = sim.run(model, prompt="make it blue", image_urls=[source])["data"]["images"][0]
    assert (image["width"], image["height"]) == expected
    with Image.open(io.BytesIO(sim.fetch(image["url"]).content)) as picture:
        rgb = picture.convert("RGB")
    assert rgb.size == expected
    # The output is the red source itself, tinted towards the blue the instruction names.
    corner = rgb.crop((expected[0] * 2 // 3, 0, expected[0], expected[1] // 3))
    for red, green, blue in set(_pixels(corner)):
        assert red > 150 and green < 60 and 60 < blue < 120


def test_a_simulated_result_can_be_edited(sim: Sim) -> None:
    wide = sim.run("nano-banana", prompt="a beach", aspect_ratio="16:9")["data"]["images"][0]
    edited = sim.run("nano-banana-pro-edit", prompt="add a boat", image_urls=[wide["url"]])
    image = edited["data"]["images"][0]
    assert (image["width"], image["height"]) == (1024, 576)
    assert sim.fetch(image["url"]).content != sim.fetch(wide["url"]).content


def test_edit_sources_the_simulator_cannot_see_fall_back_to_the_prompt(sim: Sim) -> None:
    for url in ("https://example.com/a.png", "data:image/png;base64,AAAA"):
        body = sim.run("nano-banana-edit", prompt="a movie poster", image_urls=[url])
        image = body["data"]["images"][0]
        assert (image["width"], image["height"]) == (768, 1024)
        assert sim.fetch(image["url"]).status_code == 200
