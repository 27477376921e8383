"""What the simulator's pictures show: a scene from the prompt and the seed, drawn at any size.

The measure throughout is the mean absolute difference (MAD) of two pictures scaled to the same
small size, in 0-255 levels averaged over the three channels: ~0 for the same picture, a few
levels for the same scene with other detail, tens of levels for another scene.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image, ImageChops, ImageFilter, ImageOps, ImageStat

from mountsea_widgets.catalog import catalog
from mountsea_widgets.simulator import Hub, ManualClock, transport
from mountsea_widgets.simulator.edits import TINT_SHARE
from mountsea_widgets.simulator.looks import LOOKS
from mountsea_widgets.simulator.render import paint, plan_images
from mountsea_widgets.simulator.words import COLOURS

#: Two tiers (or qualities) of one prompt and seed differ by at most this MAD.
SAME_SCENE = 4.5
#: Two seeds (or two unseeded runs) of one prompt differ by at least this MAD.
OTHER_SCENE = 8.0
#: The centre square of a reframed picture differs from the 1:1 picture by at most this MAD.
SAME_CENTRE = 4.0

PROMPT = "a paper boat on a pond, morning light"
PROMPTS = [PROMPT, "a lighthouse at dusk", "a red cube and a blue sphere at night", "a cat"]


def picture(model: str, *, index: int = 0, nonce: str | None = None, **input: Any) -> Image.Image:
    """The picture the simulator paints for a validated ``input`` of ``model``."""
    clean = catalog.spec(model).validate(input)
    plan = plan_images(model, clean)[0]
    return paint(model, clean, index, plan.width, plan.height, nonce=nonce)


def mad(a: Image.Image, b: Image.Image, size: tuple[int, int] = (256, 256)) -> float:
    """Mean absolute difference of ``a`` and ``b`` scaled to ``size`` (0-255 levels)."""
    small_a = a.convert("RGB").resize(size, Image.Resampling.BOX)
    small_b = b.convert("RGB").resize(size, Image.Resampling.BOX)
    return sum(ImageStat.Stat(ImageChops.difference(small_a, small_b)).mean) / 3


def mean_rgb(image: Image.Image) -> list[float]:
    """Average colour of ``image``."""
    return list(ImageStat.Stat(image.convert("RGB").resize((128, 128))).mean)


# --- 1. composition from prompt and seed --------------------------------------------------------


@pytest.mark.parametrize("prompt", PROMPTS)
def test_every_resolution_tier_of_one_seed_shows_the_same_scene(prompt: str) -> None:
    one_k = picture("nano-banana-2", prompt=prompt, seed=3, resolution="1K", aspect_ratio="1:1")
    for tier in ("0.5K", "2K"):
        other = picture("nano-banana-2", prompt=prompt, seed=3, resolution=tier, aspect_ratio="1:1")
        assert other.size != one_k.size
        assert mad(one_k, other) < SAME_SCENE, tier


def test_a_4k_picture_is_the_1k_scene_with_more_detail() -> None:
    one_k = picture("nano-banana-pro", prompt=PROMPT, seed=3, resolution="1K")
    four_k = picture("nano-banana-pro", prompt=PROMPT, seed=3, resolution="4K")
    assert four_k.size == (4096, 4096)
    assert 0 < mad(one_k, four_k) < SAME_SCENE


@pytest.mark.parametrize("prompt", PROMPTS)
def test_different_seeds_give_clearly_different_scenes(prompt: str) -> None:
    seeds = {
        seed: picture("nano-banana-2", prompt=prompt, seed=seed, aspect_ratio="1:1")
        for seed in range(1, 6)
    }
    for (a, first), (b, second) in itertools.combinations(seeds.items(), 2):
        assert mad(first, second) > OTHER_SCENE, (a, b)


def test_quality_changes_detail_not_content() -> None:
    pictures = {
        quality: picture("gpt-image-2", prompt=PROMPT, quality=quality, nonce="0:0")
        for quality in ("low", "medium", "high")
    }
    assert pictures["low"].tobytes() != pictures["high"].tobytes()
    for quality in ("low", "medium"):
        assert mad(pictures[quality], pictures["high"]) < SAME_SCENE, quality
    # Less detail is softer: less edge energy (measured above the caption).
    width, height = pictures["high"].size
    region = (0, height // 10, width, height * 6 // 10)
    edges = [
        ImageStat.Stat(pictures[q].crop(region).convert("L").filter(ImageFilter.FIND_EDGES)).mean[0]
        for q in ("low", "high")
    ]
    assert edges[0] < 0.7 * edges[1]


@pytest.mark.parametrize("model", ["nano-banana-2", "nano-banana-pro"])
@pytest.mark.parametrize("ratio", ["16:9", "9:16", "21:9"])
def test_an_aspect_ratio_reframes_the_same_scene_around_its_centre(model: str, ratio: str) -> None:
    square = picture(model, prompt=PROMPT, seed=3, aspect_ratio="1:1")
    framed = picture(model, prompt=PROMPT, seed=3, aspect_ratio=ratio)
    width, height = framed.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    centre = framed.crop((left, top, left + side, top + side)).resize((256, 256))
    # Compare the middle of the square, away from the badge (top left) and the caption (bottom).
    region = (77, 26, 256, 179)
    size = (region[2] - region[0], region[3] - region[1])
    kept = mad(square.resize((256, 256)).crop(region), centre.crop(region), size)
    assert kept < SAME_CENTRE
    other_seed = picture(model, prompt=PROMPT, seed=4, aspect_ratio="1:1").resize((256, 256))
    assert mad(other_seed.crop(region), centre.crop(region), size) > 2 * SAME_CENTRE


def test_a_wider_frame_shows_more_of_the_world() -> None:
    square = picture("nano-banana-2", prompt=PROMPT, seed=3, aspect_ratio="1:1")
    wide = picture("nano-banana-2", prompt=PROMPT, seed=3, aspect_ratio="4:1")
    # The 4:1 frame is as tall as a quarter of its width: its sides hold scenery the square
    # does not have, so they are not a plain stretch of sky and ground.
    width, height = wide.size
    left_side = wide.crop((0, 0, width // 4, height * 3 // 4))
    assert len(left_side.getcolors(1 << 20) or ()) > 50
    assert square.size == (1024, 1024) and wide.size == (1024, 256)


# --- unseeded runs ------------------------------------------------------------------------------


class Sim:
    """A hub with a manual clock; ``picture`` runs a task and returns its first picture."""

    def __init__(self, seed: int = 0) -> None:
        self.clock = ManualClock()
        self.hub = Hub(clock=self.clock, prerender=False, seed=seed)
        self.client = httpx.Client(transport=transport(self.hub), base_url="http://hub.test")

    def picture(self, model: str, **input: Any) -> Image.Image:
        response = self.client.post("/hub/v1/image", json={"model": model, "input": input})
        task = self.hub.task(response.json()["task_id"])
        self.clock.advance(task.duration)
        body = self.client.get(f"/hub/v1/tasks/{task.id}").json()
        data = self.client.get(body["data"]["images"][0]["url"]).content
        return Image.open(io.BytesIO(data)).convert("RGB")

    def close(self) -> None:
        self.client.close()
        self.hub.close()


@pytest.fixture
def sims() -> Iterator[list[Sim]]:
    made = [Sim(seed=0), Sim(seed=0), Sim(seed=1)]
    yield made
    for sim in made:
        sim.close()


def test_unseeded_runs_differ_yet_replay_under_the_simulators_seed(sims: list[Sim]) -> None:
    first_hub, same_seed_hub, other_seed_hub = sims
    runs = [first_hub.picture("gpt-image-2", prompt="a lighthouse at dusk") for _ in range(3)]
    for first, second in itertools.combinations(runs, 2):
        assert mad(first, second) > OTHER_SCENE  # gpt-image-2 has no seed: each run differs
    replay = [same_seed_hub.picture("gpt-image-2", prompt="a lighthouse at dusk") for _ in range(3)]
    assert [r.tobytes() for r in replay] == [r.tobytes() for r in runs]
    other = other_seed_hub.picture("gpt-image-2", prompt="a lighthouse at dusk")
    assert mad(other, runs[0]) > OTHER_SCENE


def test_a_seed_given_to_a_seeded_model_is_the_same_in_every_run(sims: list[Sim]) -> None:
    first_hub, _, other_seed_hub = sims
    once = first_hub.picture("nano-banana", prompt="a cat", seed=11)
    twice = first_hub.picture("nano-banana", prompt="a cat", seed=11)
    elsewhere = other_seed_hub.picture("nano-banana", prompt="a cat", seed=11)
    assert once.tobytes() == twice.tobytes() == elsewhere.tobytes()


# --- 2. the prompt shows ------------------------------------------------------------------------

_CHANNEL = {"red": 0, "green": 1, "blue": 2}


@pytest.mark.parametrize(
    "model", ["nano-banana", "nano-banana-2", "nano-banana-pro", "gpt-image-2"]
)
@pytest.mark.parametrize("colour", list(_CHANNEL))
@pytest.mark.parametrize("template", ["a {} cube", "a {} house at night", "a {} sphere, pixel art"])
def test_a_colour_named_in_the_prompt_dominates(model: str, colour: str, template: str) -> None:
    seed = {} if model == "gpt-image-2" else {"seed": 2}
    average = mean_rgb(picture(model, prompt=template.format(colour), nonce="0:2", **seed))
    channel = _CHANNEL[colour]
    others = [value for index, value in enumerate(average) if index != channel]
    assert average[channel] > max(others) + 8, average


def test_each_named_colour_moves_the_picture_towards_it() -> None:
    for name in ("yellow", "purple", "orange", "teal"):
        plain = mean_rgb(picture("nano-banana-2", prompt="a cube", seed=5))
        named = mean_rgb(picture("nano-banana-2", prompt=f"a {name} cube", seed=5))
        target = COLOURS[name]
        before = sum(abs(a - b) for a, b in zip(plain, target, strict=True))
        after = sum(abs(a - b) for a, b in zip(named, target, strict=True))
        assert after < before * 0.7, name


def test_night_is_dark_and_morning_is_light() -> None:
    def brightness(prompt: str) -> float:
        return sum(mean_rgb(picture("nano-banana-2", prompt=prompt, seed=6))) / 3

    night, morning = brightness("a house at night"), brightness("a house in the morning")
    assert night < 0.5 * morning


def test_pixel_art_is_drawn_in_a_few_flat_colours() -> None:
    plain = picture("nano-banana", prompt="a tree and a house", seed=2)
    pixel = picture("nano-banana", prompt="a tree and a house, pixel art", seed=2)
    region = (300, 100, 1000, 600)  # away from the badge and the caption
    assert len(pixel.crop(region).getcolors(1 << 20) or ()) <= 16
    assert len(plain.crop(region).getcolors(1 << 20) or ()) > 16


@pytest.mark.parametrize("style", ["watercolour", "oil painting"])
def test_a_style_filters_the_same_scene(style: str) -> None:
    # A style word is a filter: it does not change the scene the rest of the prompt gives.
    plain = picture("nano-banana-2", prompt="a cat", seed=2)
    styled = picture("nano-banana-2", prompt=f"a cat, {style}", seed=2)
    other = picture("nano-banana-2", prompt=f"a cat, {style}", seed=3)
    assert styled.tobytes() != plain.tobytes()
    grey = [image.convert("L") for image in (styled, plain, other)]
    assert mad(grey[0], grey[1]) < mad(grey[0], grey[2])


def test_a_sketch_is_grey_pencil_on_paper() -> None:
    sketch = picture("nano-banana-2", prompt="a red cat, sketch", seed=2).crop((0, 100, 1024, 700))
    plain = picture("nano-banana-2", prompt="a red cat", seed=2).crop((0, 100, 1024, 700))

    def colourfulness(image: Image.Image) -> float:
        r, g, b = mean_rgb(image)
        return max(r, g, b) - min(r, g, b)

    assert colourfulness(sketch) < 30 < colourfulness(plain)


def test_the_four_models_draw_with_four_looks() -> None:
    assert len({look.name for look in LOOKS.values()}) == 4
    pictures = {
        model: picture(model, prompt=PROMPT, seed=3)
        for model in ("nano-banana", "nano-banana-2", "nano-banana-pro")
    }
    pictures["gpt-image-2"] = picture("gpt-image-2", prompt=PROMPT, image_size="square_hd")
    for (a, first), (b, second) in itertools.combinations(pictures.items(), 2):
        assert mad(first, second) > 5, (a, b)

    # Signatures: the flat poster's banded sky, the inked outlines, the print's cream matte.
    def sky_colours(image: Image.Image) -> int:
        return len(image.crop((600, 80, 601, 400)).getcolors(1 << 16) or ())

    assert sky_colours(pictures["nano-banana"]) < sky_colours(pictures["nano-banana-2"]) / 3
    ink = LOOKS["nano-banana-pro"].outline
    counts = {
        m: sum(c for c, rgb in p.getcolors(1 << 20) or () if rgb == ink)
        for m, p in pictures.items()
    }
    assert counts["nano-banana-pro"] > 1000 and counts["nano-banana"] == 0
    matte = LOOKS["gpt-image-2"].matte
    print_ = pictures["gpt-image-2"]
    assert print_.getpixel((print_.width - 2, print_.height - 2)) == matte
    assert pictures["nano-banana-2"].getpixel((1022, 1022)) != matte


# --- 3. edits edit ------------------------------------------------------------------------------


def _source() -> Image.Image:
    clean = catalog.spec("nano-banana").validate({"prompt": "a house and a tree", "seed": 4})
    return paint("nano-banana", clean, 0, 1024, 1024, labelled=False)


def _edit(instruction: str, source: Image.Image, model: str = "nano-banana-edit") -> Image.Image:
    clean = catalog.spec(model).validate(
        {"prompt": instruction, "image_urls": ["data:image/png;base64,AAAA"], "seed": 1}
    )
    return paint(model, clean, 0, *source.size, source)


#: Above the caption and right of the badge, where an edit shows only the changed input.
_UPPER = (0, 120, 1024, 700)


def test_an_edit_without_a_known_word_keeps_its_input() -> None:
    source = _source()
    kept = _edit("improve it", source)
    assert mad(kept.crop(_UPPER), source.crop(_UPPER), (256, 144)) < 0.5


def test_a_colour_word_tints_the_input() -> None:
    source = _source()
    blue = _edit("make it blue", source)
    expected = Image.blend(source, Image.new("RGB", source.size, COLOURS["blue"]), TINT_SHARE)
    assert mad(blue.crop(_UPPER), expected.crop(_UPPER), (256, 144)) < 0.5
    assert mad(blue, source) > OTHER_SCENE  # visibly bluer...
    before, after = mean_rgb(source), mean_rgb(blue)
    assert after[2] - after[0] > before[2] - before[0] + 15
    unrelated = _source().transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    assert mad(blue.convert("L"), source.convert("L")) < mad(
        blue.convert("L"), unrelated.convert("L")
    )


def test_make_it_night_darkens_the_input() -> None:
    source = _source()
    night = _edit("make it night", source, model="nano-banana-2-edit")
    assert sum(mean_rgb(night)) < 0.6 * sum(mean_rgb(source))

    # Still the same picture: its light and dark places stay where they were.
    def shape(image: Image.Image) -> Image.Image:
        return ImageOps.autocontrast(image.convert("L").crop(_UPPER))

    unrelated = source.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    assert mad(shape(night), shape(source), (256, 144)) < 0.5 * mad(
        shape(night), shape(unrelated), (256, 144)
    )


def test_an_edit_adds_the_objects_it_names_and_keeps_the_rest() -> None:
    source = _source()
    with_boat = _edit("add a boat", source)
    sky = (0, 120, 1024, 420)
    assert mad(with_boat.crop(sky), source.crop(sky), (256, 75)) < 0.5
    assert mad(with_boat, source) > 0.5


def test_an_edit_of_a_simulated_result_starts_from_its_unlabelled_picture(sims: list[Sim]) -> None:
    sim = sims[0]
    first = sim.client.post(
        "/hub/v1/image", json={"model": "nano-banana", "input": {"prompt": "a cube", "seed": 3}}
    )
    task = sim.hub.task(first.json()["task_id"])
    sim.clock.advance(task.duration)
    url = sim.client.get(f"/hub/v1/tasks/{task.id}").json()["data"]["images"][0]["url"]
    edited = sim.picture("nano-banana-edit", prompt="keep it", image_urls=[url], seed=1)
    clean = catalog.spec("nano-banana").validate({"prompt": "a cube", "seed": 3})
    unlabelled = paint("nano-banana", clean, 0, 1024, 1024, labelled=False)
    # Exactly the edit of the picture without its caption and badge: nothing is stacked.
    assert edited.tobytes() == _edit("keep it", unlabelled).tobytes()
    labelled = picture("nano-banana", prompt="a cube", seed=3)
    assert edited.tobytes() != _edit("keep it", labelled).tobytes()


# --- 4. num_images ------------------------------------------------------------------------------


def test_num_images_gives_variations_of_one_scene() -> None:
    images = [
        picture("nano-banana", prompt="a sphere and a cube", seed=9, num_images=4, index=index)
        for index in range(4)
    ]
    other_seed = picture("nano-banana", prompt="a sphere and a cube", seed=10, num_images=4)
    for first, second in itertools.combinations(images, 2):
        assert 0.5 < mad(first, second) < mad(images[0], other_seed)
    assert all(mad(image, images[0]) < OTHER_SCENE for image in images)


def test_num_images_of_an_edit_are_variations_of_the_edited_input() -> None:
    source = _source()
    clean = catalog.spec("nano-banana-edit").validate(
        {"prompt": "make it night", "image_urls": ["data:image/png;base64,AAAA"], "num_images": 3}
    )
    edits = [paint("nano-banana-edit", clean, index, 1024, 1024, source) for index in range(3)]
    for first, second in itertools.combinations(edits, 2):
        assert 0.3 < mad(first.crop(_UPPER), second.crop(_UPPER), (256, 144)) < OTHER_SCENE
