"""A scene description composed from a prompt and a seed, and nothing else.

The scene lives in world coordinates: the centre of the picture is ``(0, 0)``, ``y`` grows
downwards, and the short edge of any frame is one world unit long. A 1:1 frame shows
``[-0.5, 0.5]`` both ways, a 16:9 frame the same height and more width, a 9:16 frame more sky
and ground: an aspect ratio reframes the scene around its centre instead of drawing a new one.
The resolution tier, the quality and the model never reach this module, so they cannot change
what the picture shows, only how it is drawn (see ``painter.py`` and ``looks.py``).
"""

from __future__ import annotations

import colorsys
import hashlib
from dataclasses import dataclass, replace

from .words import RGB, SUBJECTS, Reading

#: How far left and right of the centre the world is furnished (8:1 shows x in [-4, 4]).
WORLD_HALF_WIDTH = 4.6

#: Sky colours (top, horizon), ground tint and the light on objects, per time of day.
_SKIES: dict[str, tuple[RGB, RGB, RGB, RGB]] = {
    "morning": ((120, 170, 226), (252, 214, 176), (112, 150, 84), (255, 236, 214)),
    "day": ((52, 124, 214), (170, 212, 240), (86, 156, 70), (255, 255, 250)),
    "dusk": ((58, 42, 112), (250, 138, 70), (96, 82, 62), (255, 178, 130)),
    "night": ((8, 12, 38), (34, 48, 96), (24, 34, 40), (120, 140, 200)),
}

#: Scenery a seed scatters over the world; kinds are drawn by ``painter.py``.
_SCENERY_LAND: tuple[str, ...] = ("tree", "tree", "bush", "rock", "house", "tree", "flower")
_SCENERY_WATER: tuple[str, ...] = ("rock", "buoy", "boat", "rock")


@dataclass(frozen=True)
class Item:
    """One drawn object: ``kind`` standing at world ``(x, y)`` (its base), ``size`` tall."""

    kind: str
    x: float
    y: float
    size: float
    colour: RGB
    accent: RGB
    flip: bool = False


@dataclass(frozen=True)
class Scene:
    """Everything that decides what a picture shows (see the module docs)."""

    time: str
    sky_top: RGB
    sky_horizon: RGB
    ground: RGB
    light: RGB
    horizon: float
    water: bool
    sun: tuple[float, float]
    items: tuple[Item, ...]
    stars: tuple[tuple[float, float, float], ...]
    clouds: tuple[tuple[float, float, float], ...]
    style: str | None
    tint: RGB | None


class Dice:
    """Deterministic numbers in [0, 1) drawn from a text key (re-hashed when used up)."""

    def __init__(self, key: str) -> None:
        self._digest = hashlib.sha256(key.encode("utf-8")).digest()
        self._pos = 0

    def unit(self) -> float:
        """The next number in [0, 1)."""
        if self._pos + 4 > len(self._digest):
            self._digest = hashlib.sha256(self._digest).digest()
            self._pos = 0
        value = int.from_bytes(self._digest[self._pos : self._pos + 4], "big")
        self._pos += 4
        return value / 2**32

    def between(self, low: float, high: float) -> float:
        """A number in [low, high)."""
        return low + (high - low) * self.unit()

    def pick(self, choices: tuple[str, ...]) -> str:
        """One of ``choices``."""
        return choices[min(len(choices) - 1, int(self.unit() * len(choices)))]

    def pick_number(self, choices: tuple[float, ...]) -> float:
        """One of ``choices`` (well-separated levels make two seeds look clearly different)."""
        return choices[min(len(choices) - 1, int(self.unit() * len(choices)))]


def mix(a: RGB, b: RGB, share: float) -> RGB:
    """``a`` moved ``share`` of the way to ``b``."""
    return (
        round(a[0] + (b[0] - a[0]) * share),
        round(a[1] + (b[1] - a[1]) * share),
        round(a[2] + (b[2] - a[2]) * share),
    )


def _shift_hue(colour: RGB, turn: float) -> RGB:
    h, s, v = colorsys.rgb_to_hsv(*(c / 255 for c in colour))
    r, g, b = colorsys.hsv_to_rgb((h + turn) % 1.0, s, v)
    return round(r * 255), round(g * 255), round(b * 255)


def _hue_colour(dice: Dice) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(dice.unit(), dice.between(0.5, 0.85), dice.between(0.6, 0.95))
    return round(r * 255), round(g * 255), round(b * 255)


def compose(reading: Reading, seed: str) -> Scene:
    """The scene for a prompt (already read) and a seed (any text: the seed or a run's key)."""
    dice = Dice(f"scene|{seed}")
    times = ("morning", "day", "dusk", "night")
    time = reading.time or dice.pick(times)
    top, horizon_colour, ground, light = _SKIES[time]
    # The seed turns the sky's hue a little, so two seeds never share a palette; little
    # enough that a dusk still looks like dusk (a wider turn made some dusks green).
    turn = dice.pick_number((-0.05, -0.02, 0.02, 0.05)) + dice.between(-0.01, 0.01)
    top, horizon_colour = _shift_hue(top, turn), _shift_hue(horizon_colour, turn)
    named = reading.colours
    if named:
        # A colour named in the prompt dominates: it floods the sky, the ground and the subject.
        top = mix(top, named[0], 0.62)
        horizon_colour = mix(horizon_colour, named[0], 0.55)
        ground = mix(ground, named[-1], 0.6)
    water = reading.water or (not reading.objects and dice.unit() < 0.3)
    if water:
        ground = mix(ground, (40, 96, 150), 0.6) if not named else ground
    horizon = dice.pick_number((-0.16, -0.05, 0.06, 0.17)) + dice.between(-0.02, 0.02)
    side = -1.0 if dice.unit() < 0.5 else 1.0
    sun = (side * dice.between(0.15, 0.42), horizon - dice.between(0.12, 0.32))
    if time == "night":
        sun = (side * dice.between(0.1, 0.4), horizon - dice.between(0.22, 0.4))
    subjects = reading.objects or tuple(
        dice.pick(SUBJECTS) for _ in range(1 + int(dice.unit() * 1.8))
    )
    items = list(_subjects(dice, subjects, named, horizon, -side))
    items += _scenery(dice, water, horizon, named)
    stars: tuple[tuple[float, float, float], ...] = ()
    if time in ("night", "dusk"):
        count = 140 if time == "night" else 40
        stars = tuple(
            (
                dice.between(-WORLD_HALF_WIDTH, WORLD_HALF_WIDTH),
                dice.between(-4.0, horizon - 0.05),
                dice.between(0.002, 0.006),
            )
            for _ in range(count)
        )
    clouds = tuple(
        (
            dice.between(-WORLD_HALF_WIDTH, WORLD_HALF_WIDTH),
            dice.between(-0.5, horizon - 0.15),
            dice.between(0.08, 0.2),
        )
        for _ in range(0 if time == "night" else int(dice.unit() * 10))
    )
    return Scene(
        time=time,
        sky_top=top,
        sky_horizon=horizon_colour,
        ground=ground,
        light=light,
        horizon=horizon,
        water=water,
        sun=sun,
        items=tuple(sorted(items, key=lambda item: item.y)),
        stars=stars,
        clouds=clouds,
        style=reading.style,
        tint=named[0] if named else None,
    )


def _subjects(
    dice: Dice, kinds: tuple[str, ...], named: tuple[RGB, ...], horizon: float, lean: float
) -> list[Item]:
    """The prompt's objects, large and near the centre (so every frame shows them)."""
    count = len(kinds)
    span = 0.22 * (count - 1)
    start = lean * dice.between(0.04, 0.16) - span / 2
    items = []
    for number, kind in enumerate(kinds):
        colour = named[number % len(named)] if named else _hue_colour(dice)
        accent = named[(number + 1) % len(named)] if len(named) > 1 else _hue_colour(dice)
        depth = dice.between(0.12, 0.26)
        size = dice.between(0.22, 0.4) * (1.3 if kind in ("lighthouse", "mountain") else 1.0)
        # Subjects stay inside the centre square, which every aspect ratio shows.
        reach = max(0.0, 0.42 - size * 0.65)
        x = max(-reach, min(reach, start + number * 0.22 + dice.between(-0.03, 0.03)))
        if kind == "bird":
            depth, size = dice.between(-0.42, -0.25) - horizon, 0.08
        items.append(Item(kind, x, horizon + depth, size, colour, accent, flip=dice.unit() < 0.5))
    return items


def _scenery(dice: Dice, water: bool, horizon: float, named: tuple[RGB, ...]) -> list[Item]:
    """Smaller things scattered over the whole world width (wider frames show more of them)."""
    kinds = _SCENERY_WATER if water else _SCENERY_LAND
    items = []
    x = -WORLD_HALF_WIDTH + dice.between(0.0, 0.4)
    while x < WORLD_HALF_WIDTH:
        if abs(x) > 0.45 or dice.unit() < 0.25:
            kind = dice.pick(kinds)
            depth = dice.between(0.02, 0.1) if abs(x) < 0.45 else dice.between(0.03, 0.4)
            size = (0.05 + depth * 0.6) * dice.between(0.8, 1.3)
            colour = _hue_colour(dice)
            if named and dice.unit() < 0.6:
                colour = mix(colour, named[0], 0.6)
            items.append(
                Item(kind, x, horizon + depth, size, colour, _hue_colour(dice), dice.unit() < 0.5)
            )
        x += dice.between(0.18, 0.45)
    return items


def vary(scene: Scene, index: int, seed: str) -> Scene:
    """Variation ``index`` of a scene (0 is the scene itself): the same layout, nudged."""
    if index == 0:
        return scene
    dice = Dice(f"variation|{seed}|{index}")
    items = tuple(
        replace(
            item,
            x=item.x + dice.between(-0.035, 0.035),
            y=item.y + dice.between(-0.015, 0.015),
            size=item.size * dice.between(0.9, 1.1),
            accent=_hue_colour(dice),
        )
        for item in scene.items
    )
    sun = (scene.sun[0] + dice.between(-0.06, 0.06), scene.sun[1] + dice.between(-0.04, 0.04))
    turn = dice.between(-0.025, 0.025)
    return replace(
        scene,
        items=tuple(sorted(items, key=lambda item: item.y)),
        sun=sun,
        sky_top=_shift_hue(scene.sky_top, turn),
        sky_horizon=_shift_hue(scene.sky_horizon, turn),
    )
