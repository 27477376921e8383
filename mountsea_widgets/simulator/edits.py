"""What an edit model does to its first input image: the instruction, applied to that image.

The output is the input, fitted to the output frame (centre-cropped when the shapes differ) and
changed as the instruction says: a colour word tints it, a time of day relights it ("make it
night" darkens it and turns it blue, "at sunset" warms it), a style word filters it, and named
objects are drawn into its foreground (then the colour words colour them: "add a red boat").
Nothing else moves, so the input stays recognisable.
"""

from __future__ import annotations

from PIL import Image, ImageEnhance, ImageOps

from .looks import Look, apply_style
from .painter import Frame, Painter
from .scene import Dice, Item, Scene
from .words import RGB, Reading

#: How strongly a colour word tints the input.
TINT_SHARE = 0.38

#: Time of day as (brightness, tint colour, tint share).
_RELIGHT: dict[str, tuple[float, RGB, float]] = {
    "night": (0.42, (20, 34, 96), 0.35),
    "dusk": (0.85, (250, 120, 50), 0.3),
    "morning": (1.1, (255, 220, 180), 0.18),
    "day": (1.15, (255, 255, 240), 0.08),
}


def edit_picture(
    source: Image.Image,
    reading: Reading,
    look: Look,
    width: int,
    height: int,
    seed: str,
    variation: int = 0,
) -> Image.Image:
    """``source`` changed as the instruction (already read) says, in a ``width`` x ``height``
    frame; ``seed`` places any objects the instruction adds; ``variation`` > 0 (the later images
    of a ``num_images`` request) nudges the light and colour a little."""
    picture = ImageOps.fit(source.convert("RGB"), (width, height), Image.Resampling.BILINEAR)
    if variation:
        dice = Dice(f"edit variation|{seed}|{variation}")
        picture = ImageEnhance.Brightness(picture).enhance(dice.between(0.92, 1.08))
        picture = ImageEnhance.Color(picture).enhance(dice.between(0.8, 1.2))
    if reading.objects:
        picture = _add_objects(picture, reading, look, seed)
    if reading.time is not None:
        brightness, colour, share = _RELIGHT[reading.time]
        picture = ImageEnhance.Brightness(picture).enhance(brightness)
        picture = Image.blend(picture, Image.new("RGB", picture.size, colour), share)
    if reading.colours and not reading.objects:  # "add a red boat": the colour is the boat's
        picture = Image.blend(
            picture, Image.new("RGB", picture.size, reading.colours[0]), TINT_SHARE
        )
    return apply_style(picture, reading.style)


def _add_objects(picture: Image.Image, reading: Reading, look: Look, seed: str) -> Image.Image:
    """Draw the named objects on the input's lower half, side by side around the centre."""
    dice = Dice(f"edit|{seed}")
    colours = reading.colours or ((230, 230, 230),)
    count = len(reading.objects)
    side = -1.0 if dice.unit() < 0.5 else 1.0  # beside the centre, where the subject usually is
    items = tuple(
        Item(
            kind,
            x=side * 0.22 + (number - (count - 1) / 2) * 0.24 + dice.between(-0.03, 0.03),
            y=0.24,
            size=0.24,
            colour=colours[number % len(colours)],
            accent=colours[(number + 1) % len(colours)],
            flip=dice.unit() < 0.5,
        )
        for number, kind in enumerate(reading.objects)
    )
    scene = Scene(
        time=reading.time or "day",
        sky_top=(120, 160, 220),
        sky_horizon=(200, 210, 230),
        ground=picture.resize((1, 1)).getpixel((0, 0)),  # type: ignore[arg-type]
        light=(255, 255, 250),
        horizon=0.3,
        water=False,
        sun=(-0.4, -0.3),
        items=items,
        stars=(),
        clouds=(),
        style=None,
        tint=None,
    )
    painter = Painter(scene, look, Frame(*picture.size), detail=0.5, base=picture)
    for item in items:
        painter.draw_item(item)
    return painter.picture
