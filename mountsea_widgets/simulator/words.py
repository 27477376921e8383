"""What the simulator understands in a prompt: colours, objects, time of day, light and style.

A small, fixed vocabulary, so a teacher can predict what a prompt will show: "a red cube at
night, pixel art" gives a red cube under a night sky, drawn as pixel art. Words outside the
vocabulary are simply not drawn (the prompt is still written on the picture).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RGB = tuple[int, int, int]

#: Colour words and the colour each one paints.
COLOURS: dict[str, RGB] = {
    "red": (214, 38, 44),
    "crimson": (178, 24, 52),
    "orange": (240, 128, 28),
    "yellow": (244, 212, 40),
    "gold": (222, 176, 40),
    "golden": (222, 176, 40),
    "green": (46, 160, 68),
    "teal": (24, 146, 140),
    "cyan": (40, 196, 220),
    "turquoise": (48, 200, 190),
    "blue": (38, 92, 214),
    "navy": (24, 36, 110),
    "purple": (128, 54, 178),
    "violet": (142, 84, 214),
    "magenta": (214, 40, 170),
    "pink": (240, 120, 170),
    "brown": (128, 80, 44),
    "white": (242, 242, 238),
    "black": (26, 26, 30),
    "grey": (128, 128, 134),
    "gray": (128, 128, 134),
    "silver": (180, 184, 192),
}

#: Objects the simulator can draw, with the words that call for each one.
OBJECT_WORDS: dict[str, tuple[str, ...]] = {
    "cube": ("cube", "cubes", "box", "boxes", "block", "blocks"),
    "sphere": ("sphere", "spheres", "ball", "balls", "orb", "orbs", "globe"),
    "pyramid": ("pyramid", "pyramids", "cone"),
    "lighthouse": ("lighthouse", "lighthouses", "tower"),
    "cat": ("cat", "cats", "kitten", "kittens"),
    "tree": ("tree", "trees", "forest", "pine", "oak"),
    "house": ("house", "houses", "cabin", "cottage", "home", "village"),
    "boat": ("boat", "boats", "ship", "sailboat", "yacht"),
    "mountain": ("mountain", "mountains", "alps", "peak", "peaks", "hill", "hills"),
    "flower": ("flower", "flowers", "rose", "roses", "tulip", "daisy"),
    "bird": ("bird", "birds", "gull", "gulls", "seagull"),
}

#: The objects a seed may pick when the prompt names none.
SUBJECTS: tuple[str, ...] = ("cube", "sphere", "pyramid", "lighthouse", "cat", "tree", "house")

#: Words that put water in the foreground.
_WATER = re.compile(r"\b(sea|ocean|pond|lake|river|water|harbou?r|beach|coast|bay|waves?)\b", re.I)

#: Times of day and light, each with the words that ask for it.
TIME_WORDS: dict[str, tuple[str, ...]] = {
    "night": (
        "night",
        "midnight",
        "starry",
        "stars",
        "moon",
        "moonlight",
        "moonlit",
        "dark",
        "darker",
    ),
    "dusk": ("dusk", "sunset", "evening", "twilight", "golden hour"),
    "morning": ("morning", "dawn", "sunrise", "early light"),
    "day": ("day", "noon", "midday", "sunny", "daylight", "bright", "brighter"),
}

#: Styles, applied as filters on the drawn picture.
STYLE_WORDS: dict[str, tuple[str, ...]] = {
    "pixel art": ("pixel art", "pixel-art", "8-bit", "8 bit", "pixelated", "retro game"),
    "watercolour": ("watercolour", "watercolor", "aquarelle"),
    "oil painting": ("oil painting", "oil paint", "oil on canvas", "impasto"),
    "sketch": ("sketch", "pencil", "drawing", "charcoal", "line art"),
}


@dataclass(frozen=True)
class Reading:
    """What a prompt asks for, in the order its words appear."""

    colours: tuple[RGB, ...] = ()
    objects: tuple[str, ...] = ()
    time: str | None = None
    style: str | None = None
    water: bool = False


def _first(text: str, table: dict[str, tuple[str, ...]]) -> str | None:
    """The key whose word appears first in ``text`` (None if none does)."""
    best: tuple[int, str] | None = None
    for key, words in table.items():
        for word in words:
            match = re.search(rf"\b{re.escape(word)}\b", text)
            if match and (best is None or match.start() < best[0]):
                best = (match.start(), key)
    return best[1] if best else None


def read_prompt(prompt: str) -> Reading:
    """The colours, objects, time of day, style and water a prompt names."""
    text = " ".join(prompt.lower().split())
    found: list[tuple[int, RGB]] = []
    for name, rgb in COLOURS.items():
        for match in re.finditer(rf"\b{name}\b", text):
            found.append((match.start(), rgb))
    colours: list[RGB] = []
    for _, rgb in sorted(found):
        if rgb not in colours:
            colours.append(rgb)
    placed: list[tuple[int, str]] = []
    for kind, words in OBJECT_WORDS.items():
        starts = [m.start() for w in words for m in re.finditer(rf"\b{re.escape(w)}\b", text)]
        if starts:
            placed.append((min(starts), kind))
    objects = tuple(kind for _, kind in sorted(placed))
    return Reading(
        colours=tuple(colours[:3]),
        objects=objects[:4],
        time=_first(text, TIME_WORDS),
        style=_first(text, STYLE_WORDS),
        water=bool(_WATER.search(text)) or "boat" in objects or "lighthouse" in objects,
    )


def without_style(text: str) -> str:
    """``text`` (lower case) with its style words taken out."""
    for words in STYLE_WORDS.values():
        for word in words:
            text = re.sub(rf"\b{re.escape(word)}\b", " ", text)
    return text
