"""Draw a :class:`~.scene.Scene` into a frame of any size, with a model's look.

The frame maps world coordinates to pixels around the centre (the short edge is one world
unit), so the same scene gives the same picture at every size and a wider frame shows more of
it. Everything is drawn opaque with precomputed colours (no alpha layers): the cost is a few
hundred polygons, whatever the pixel count, plus a handful of whole-image operations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageDraw

from .looks import Look
from .scene import WORLD_HALF_WIDTH, Item, Scene, mix
from .words import RGB

Point = tuple[float, float]

#: Steps of the sky and ground gradients: computed once per picture whatever its size (a step
#: is at most a level of each channel apart, so no banding shows even at 4K).
_LEVELS = 128


@dataclass(frozen=True)
class Frame:
    """World-to-pixel mapping of a ``width`` x ``height`` picture."""

    width: int
    height: int

    @property
    def unit(self) -> float:
        """Pixels per world unit (the short edge)."""
        return float(min(self.width, self.height))

    def at(self, x: float, y: float) -> Point:
        """Pixel position of world point ``(x, y)``."""
        return self.width / 2 + x * self.unit, self.height / 2 + y * self.unit

    def world_y(self, row: float) -> float:
        """World ``y`` of pixel row ``row``."""
        return (row - self.height / 2) / self.unit

    def box(self, x: float, y: float, rx: float, ry: float) -> tuple[float, float, float, float]:
        """Pixel box of an ellipse centred on world ``(x, y)`` with radii ``rx``, ``ry``."""
        cx, cy = self.at(x, y)
        return cx - rx * self.unit, cy - ry * self.unit, cx + rx * self.unit, cy + ry * self.unit


def shade(colour: RGB, factor: float) -> RGB:
    """``colour`` darkened (factor < 1) or lightened (> 1)."""
    return (
        max(0, min(255, round(colour[0] * factor))),
        max(0, min(255, round(colour[1] * factor))),
        max(0, min(255, round(colour[2] * factor))),
    )


class Painter:
    """Draws one scene with one look into one frame (see the module docs)."""

    def __init__(
        self,
        scene: Scene,
        look: Look,
        frame: Frame,
        detail: float,
        base: Image.Image | None = None,
    ) -> None:
        """``base`` is a picture to draw items onto (it is changed in place); without it the
        picture starts as the scene's sky and ground."""
        self.scene = scene
        self.look = look
        self.frame = frame
        self.detail = detail
        self._ink = look.outline
        self._ink_width = max(1, round(frame.unit * 0.005)) if look.outline else 0
        self._sky, self._ground = self._gradients()
        #: The backdrop before anything is drawn on it, at reduced width (see _backdrop).
        self._narrow: Image.Image | None = None
        # Every full-frame pass costs tens of ms at 4K: the backdrop is the picture itself.
        self.picture = base if base is not None else self._backdrop()
        self.draw = ImageDraw.Draw(self.picture)

    # --- colours -----------------------------------------------------------------------------

    def lit(self, colour: RGB) -> RGB:
        """An object's colour under the scene's light, as the look paints it."""
        light = self.scene.light
        under = (
            colour[0] * light[0] // 255,
            colour[1] * light[1] // 255,
            colour[2] * light[2] // 255,
        )
        return self.look.colour(mix(under, colour, 0.2))

    def sky_at(self, y: float) -> RGB:
        """Sky colour at world height ``y`` (top colour high up, horizon colour at the horizon)."""
        s = self.scene
        top = s.horizon - 0.95
        t = max(0.0, min(1.0, (y - top) / (s.horizon - top)))
        return self._sky[round(t * _LEVELS)]

    def ground_at(self, y: float) -> RGB:
        """Ground (or water) colour at world depth ``y`` below the horizon."""
        t = max(0.0, min(1.0, (y - self.scene.horizon) / 0.9))
        return self._ground[round(t * _LEVELS)]

    def _gradients(self) -> tuple[list[RGB], list[RGB]]:
        """The sky and ground gradients, as the look paints them, at ``_LEVELS`` + 1 steps."""
        s, look = self.scene, self.look
        far = mix(s.ground, s.sky_horizon, 0.45 if s.water else 0.25)
        near = shade(s.ground, 0.7 if s.water else 0.8)
        sky, ground = [], []
        for level in range(_LEVELS + 1):
            t = level / _LEVELS
            if look.sky_bands:
                t = round(t * look.sky_bands) / look.sky_bands
            sky.append(look.colour(mix(s.sky_top, s.sky_horizon, t**1.3)))
            ground.append(look.colour(mix(far, near, t)))
        return sky, ground

    # --- the picture ---------------------------------------------------------------------------

    def paint(self) -> Image.Image:
        """The whole scene: sky, light, clouds, ground, texture, then the items back to front."""
        self._sky_things()
        self._texture()
        for item in self.scene.items:
            self.draw_item(item)
        return self.picture

    def _backdrop(self) -> Image.Image:
        """Sky and ground: a function of height only, so one column scaled across the frame
        (with the look's vignette on a narrow copy, so it costs one resize at any size)."""
        frame = self.frame
        horizon_row = frame.at(0, self.scene.horizon)[1]
        column = [
            self.sky_at(frame.world_y(row + 0.5))
            if row + 0.5 < horizon_row
            else self.ground_at(frame.world_y(row + 0.5))
            for row in range(frame.height)
        ]
        strip = Image.new("RGB", (1, frame.height))
        strip.putdata(column)
        if self.look.vignette:
            narrow = strip.resize((32, frame.height), Image.Resampling.NEAREST)
            shade_mask = Image.radial_gradient("L").resize((32, frame.height))
            strength = self.look.vignette
            shade_mask = shade_mask.point(lambda v: round(255 - max(0.0, v - 150) * strength * 1.6))
            self._narrow = ImageChops.multiply(narrow, shade_mask.convert("RGB"))
            return self._narrow.resize((frame.width, frame.height), Image.Resampling.BILINEAR)
        self._narrow = strip
        return strip.resize((frame.width, frame.height), Image.Resampling.NEAREST)

    def _plain(self, box: tuple[int, int, int, int]) -> Image.Image:
        """The backdrop inside pixel ``box``, as :meth:`_backdrop` drew it there."""
        narrow = self._narrow
        assert narrow is not None, "only a picture drawn from its backdrop has one"
        left, top, right, bottom = box
        scale = narrow.width / self.frame.width
        if narrow.width == 1:
            return narrow.resize(
                (right - left, bottom - top), Image.Resampling.NEAREST, box=(0, top, 1, bottom)
            )
        return narrow.resize(
            (right - left, bottom - top),
            Image.Resampling.BILINEAR,
            box=(left * scale, top, right * scale, bottom),
        )

    def _sky_things(self) -> None:
        s, frame, draw = self.scene, self.frame, self.draw
        for x, y, r in s.stars:
            if y < s.horizon:
                box = frame.box(x, y, r, r)
                draw.ellipse(box, fill=self.look.colour(mix(self.sky_at(y), (255, 250, 230), 0.85)))
        sx, sy = s.sun
        night = s.time == "night"
        disc = (236, 236, 220) if night else mix(s.light, (255, 250, 210), 0.5)
        halo = 0.09 if not night else 0.05
        inner = disc
        for step in range(4, 0, -1):
            r = 0.05 + halo * step / 4
            inner = self.look.colour(mix(self.sky_at(sy), disc, 0.13 * (5 - step)))
            draw.ellipse(frame.box(sx, sy, r, r), fill=inner)
        draw.ellipse(frame.box(sx, sy, 0.05, 0.05), fill=self.look.colour(disc))
        if night:  # a crescent: the glow covers part of the moon
            draw.ellipse(frame.box(sx + 0.022, sy - 0.012, 0.045, 0.045), fill=inner)
        for x, y, r in s.clouds:
            colour = self.look.colour(mix(self.sky_at(y), (255, 255, 255), 0.55))
            for dx, dy, k in ((-0.6, 0.1, 0.6), (0.0, 0.0, 0.8), (0.6, 0.12, 0.55)):
                draw.ellipse(frame.box(x + dx * r, y + dy * r, r * k, r * k * 0.55), fill=colour)
        # Sky things never cover the ground: repaint the ground below the horizon (only
        # where a sky thing reached below it: a whole-width band costs a lot at 4K).
        horizon_row = round(frame.at(0, s.horizon)[1])
        if horizon_row < frame.height:
            top = max(0, horizon_row)
            reach = self._below_horizon(top)
            if reach is not None and self._narrow is not None:
                self.picture.paste(self._plain(reach), reach[:2])
            if not s.water:
                return
            # The sun's reflection on water.
            glint = self.look.colour(mix(self.ground_at(s.horizon + 0.05), disc, 0.5))
            for k in range(6):
                y = s.horizon + 0.03 + k * 0.05
                half = 0.05 * (1 - k / 8)
                left, row = frame.at(sx - half, y)
                right, _ = frame.at(sx + half, y)
                draw.line(
                    (left, row, right, row), fill=glint, width=max(1, round(frame.unit * 0.008))
                )

    def _below_horizon(self, top: int) -> tuple[int, int, int, int] | None:
        """Pixel box below row ``top`` that the sun, moon, stars or clouds drew into."""
        s, frame = self.scene, self.frame
        boxes = [frame.box(x, y, r, r) for x, y, r in s.stars if y < s.horizon]
        sx, sy = s.sun
        boxes.append(frame.box(sx, sy, 0.05 + 0.09, 0.05 + 0.09))  # the widest halo
        boxes += [frame.box(x, y, r * 1.4, r) for x, y, r in s.clouds]
        reaching = [box for box in boxes if box[3] >= top]
        if not reaching:
            return None
        left = max(0, int(min(box[0] for box in reaching)) - 2)
        right = min(frame.width, int(max(box[2] for box in reaching)) + 3)
        bottom = min(frame.height, int(max(box[3] for box in reaching)) + 3)
        if left >= right or top >= bottom:
            return None
        return left, top, right, bottom

    def _texture(self) -> None:
        """Fine texture (waves or grass): the only part whose amount follows the detail."""
        s, frame, draw = self.scene, self.frame, self.draw
        # Marks per world unit of width; the whole world is walked so that every frame shows
        # the same marks in the same places (a wider frame just shows more of them).
        count = int((40 + 260 * self.detail) * 2 * WORLD_HALF_WIDTH)
        width = max(1, round(frame.unit * 0.0025))
        half = frame.width / frame.unit / 2 + 0.05
        for n in range(count):
            # A fixed low-discrepancy sequence: the texture is part of the scene, not noise.
            u = (n * 0.618034) % 1.0
            v = (n * 0.754878) % 1.0
            x = -WORLD_HALF_WIDTH + u * 2 * WORLD_HALF_WIDTH
            if abs(x) > half:
                continue
            y = s.horizon + 0.02 + v * v * 1.2
            colour = shade(self.ground_at(y), 1.12 if s.water else 0.85)
            length = 0.012 + 0.02 * v
            a, b = frame.at(x - length, y), frame.at(x + length, y)
            if s.water:
                draw.line((a, b), fill=colour, width=width)
            else:
                tip = frame.at(x + length * 0.3, y - length * 1.2)
                draw.line(
                    (a[0] + (b[0] - a[0]) / 2, a[1], tip[0], tip[1]), fill=colour, width=width
                )

    # --- items -------------------------------------------------------------------------------

    def _poly(self, points: Sequence[Point], colour: RGB) -> None:
        pixels = [self.frame.at(x, y) for x, y in points]
        self.draw.polygon(pixels, fill=colour, outline=self._ink, width=self._ink_width)

    def _oval(self, x: float, y: float, rx: float, ry: float, colour: RGB) -> None:
        self.draw.ellipse(
            self.frame.box(x, y, rx, ry), fill=colour, outline=self._ink, width=self._ink_width
        )

    def _shadow(self, item: Item, width: float) -> None:
        away = -1.0 if self.scene.sun[0] > item.x else 1.0
        colour = shade(self.ground_at(item.y), 0.72)
        self.draw.ellipse(
            self.frame.box(item.x + away * width * 0.35, item.y, width * 0.75, width * 0.12),
            fill=colour,
        )

    def draw_item(self, item: Item) -> None:
        """Draw one item (an unknown kind is drawn as a rock)."""
        draw_kind: Callable[[Item], None] = getattr(self, f"_draw_{item.kind}", self._draw_rock)
        draw_kind(item)

    def _faces(self, colour: RGB) -> tuple[RGB, RGB, RGB]:
        """Lit, side and top colours of a solid (flat looks keep a single colour)."""
        base = self.lit(colour)
        if not self.look.shading:
            return base, shade(base, 0.8), shade(base, 1.15)
        return base, shade(base, 0.62), shade(base, 1.3)

    def _draw_cube(self, item: Item) -> None:
        x, y, s = item.x, item.y, item.size
        front, side, top = self._faces(item.colour)
        self._shadow(item, s)
        d = s * 0.35 * (-1 if item.flip else 1)
        left, right = x - s / 2, x + s / 2
        self._poly([(left, y), (right, y), (right, y - s), (left, y - s)], front)
        edge = right if d > 0 else left
        self._poly(
            [(edge, y), (edge + d, y - s * 0.3), (edge + d, y - s * 1.3), (edge, y - s)], side
        )
        self._poly(
            [(left, y - s), (right, y - s), (right + d, y - s * 1.3), (left + d, y - s * 1.3)], top
        )

    def _draw_sphere(self, item: Item) -> None:
        r = item.size / 2
        x, y = item.x, item.y - r
        front, side, top = self._faces(item.colour)
        self._shadow(item, item.size * 0.9)
        self._oval(x, y, r, r, side)
        if self.look.shading:
            light = -1.0 if self.scene.sun[0] < x else 1.0
            for k in range(1, 6):
                f = 1 - k / 6.5
                colour = mix(side, top, k / 5)
                ox, oy = light * r * (1 - f) * 0.45, -r * (1 - f) * 0.45
                self.draw.ellipse(self.frame.box(x + ox, y + oy, r * f, r * f), fill=colour)
        else:
            self.draw.ellipse(self.frame.box(x, y, r * 0.92, r * 0.92), fill=front)

    def _draw_pyramid(self, item: Item) -> None:
        x, y, s = item.x, item.y, item.size
        front, side, _ = self._faces(item.colour)
        self._shadow(item, s)
        tip = (x + s * 0.1 * (-1 if item.flip else 1), y - s)
        self._poly([(x - s * 0.6, y), (x + s * 0.2, y + s * 0.04), tip], front)
        self._poly([(x + s * 0.2, y + s * 0.04), (x + s * 0.6, y - s * 0.02), tip], side)

    def _draw_lighthouse(self, item: Item) -> None:
        x, y, s = item.x, item.y, item.size
        rock = self.lit((92, 84, 78))
        self._poly(
            [
                (x - s * 0.45, y + 0.02),
                (x - s * 0.3, y - s * 0.08),
                (x + s * 0.32, y - s * 0.1),
                (x + s * 0.5, y + 0.02),
            ],
            rock,
        )
        bottom, top = y - s * 0.08, y - s * 0.85
        white = self.lit((240, 240, 236))
        band = self.lit(item.colour)
        stripes = 5
        for k in range(stripes):
            y0 = bottom + (top - bottom) * k / stripes
            y1 = bottom + (top - bottom) * (k + 1) / stripes
            w0 = s * (0.16 - 0.06 * k / stripes)
            w1 = s * (0.16 - 0.06 * (k + 1) / stripes)
            colour = band if k % 2 == 0 else white
            self._poly([(x - w0, y0), (x + w0, y0), (x + w1, y1), (x - w1, y1)], colour)
        lamp_on = self.scene.time in ("night", "dusk")
        lamp = (255, 236, 150) if lamp_on else self.lit((200, 220, 230))
        if lamp_on:
            beam = mix(self.sky_at(top), (255, 240, 180), 0.35)
            side = -1 if item.flip else 1
            self._poly(
                [
                    (x, top - s * 0.07),
                    (x + side * s * 2.2, top - s * 0.35),
                    (x + side * s * 2.2, top + s * 0.2),
                ],
                self.look.colour(beam),
            )
        self._poly(
            [
                (x - s * 0.1, top),
                (x + s * 0.1, top),
                (x + s * 0.1, top - s * 0.12),
                (x - s * 0.1, top - s * 0.12),
            ],
            lamp,
        )
        self._poly(
            [(x - s * 0.13, top - s * 0.12), (x + s * 0.13, top - s * 0.12), (x, top - s * 0.22)],
            band,
        )

    def _draw_cat(self, item: Item) -> None:
        x, y, s = item.x, item.y, item.size
        fur, dark, light = self._faces(item.colour)
        side = -1 if item.flip else 1
        self._shadow(item, s * 0.9)
        # Tail, body, head, ears.
        tail = [
            self.frame.at(x - side * s * 0.35, y - s * 0.2),
            self.frame.at(x - side * s * 0.55, y - s * 0.55),
        ]
        self.draw.line(tail, fill=dark, width=max(2, round(self.frame.unit * s * 0.07)))
        self._oval(x, y - s * 0.28, s * 0.36, s * 0.28, fur)
        hx, hy = x + side * s * 0.25, y - s * 0.62
        for ear in (-1, 1):
            ex = hx + ear * s * 0.12
            self._poly(
                [
                    (ex - s * 0.08, hy - s * 0.08),
                    (ex + s * 0.08, hy - s * 0.08),
                    (ex, hy - s * 0.3),
                ],
                dark,
            )
        self._oval(hx, hy, s * 0.2, s * 0.18, fur)
        eye = (250, 220, 60) if self.scene.time == "night" else (40, 120, 60)
        for ear in (-1, 1):
            self.draw.ellipse(
                self.frame.box(hx + ear * s * 0.075, hy - s * 0.02, s * 0.035, s * 0.045), fill=eye
            )
        self.draw.ellipse(self.frame.box(hx, hy + s * 0.06, s * 0.025, s * 0.018), fill=light)

    def _draw_tree(self, item: Item) -> None:
        x, y, s = item.x, item.y, item.size
        trunk = self.lit((110, 72, 40))
        leaf = self.lit(mix(item.colour, (40, 130, 50), 0.5))
        self._shadow(item, s * 0.6)
        self._poly(
            [
                (x - s * 0.05, y),
                (x + s * 0.05, y),
                (x + s * 0.04, y - s * 0.45),
                (x - s * 0.04, y - s * 0.45),
            ],
            trunk,
        )
        if item.flip:  # a pine
            for k in range(3):
                base = y - s * (0.3 + 0.22 * k)
                half = s * (0.32 - 0.08 * k)
                self._poly(
                    [(x - half, base), (x + half, base), (x, base - s * 0.38)],
                    shade(leaf, 1 - 0.08 * k),
                )
        else:
            for dx, dy, r, f in (
                (-0.14, 0.55, 0.2, 0.85),
                (0.14, 0.55, 0.2, 0.9),
                (0.0, 0.75, 0.25, 1.0),
            ):
                self._oval(x + dx * s, y - dy * s, r * s, r * s, shade(leaf, f))

    def _draw_house(self, item: Item) -> None:
        x, y, s = item.x, item.y, item.size
        wall, side, _ = self._faces(mix(item.colour, (230, 220, 200), 0.4))
        roof = self.lit(mix(item.accent, (150, 50, 40), 0.5))
        self._shadow(item, s)
        w, h = s * 0.5, s * 0.55
        self._poly([(x - w, y), (x + w, y), (x + w, y - h), (x - w, y - h)], wall)
        self._poly([(x - w * 1.15, y - h), (x + w * 1.15, y - h), (x, y - s)], roof)
        glow = self.scene.time in ("night", "dusk")
        window = (255, 214, 120) if glow else self.lit((150, 190, 220))
        for wx in (-0.55, 0.25):
            self._poly(
                [
                    (x + wx * w, y - h * 0.55),
                    (x + (wx + 0.3) * w, y - h * 0.55),
                    (x + (wx + 0.3) * w, y - h * 0.85),
                    (x + wx * w, y - h * 0.85),
                ],
                window,
            )
        self._poly(
            [
                (x - w * 0.12, y),
                (x + w * 0.12, y),
                (x + w * 0.12, y - h * 0.45),
                (x - w * 0.12, y - h * 0.45),
            ],
            side,
        )

    def _draw_boat(self, item: Item) -> None:
        x, y, s = item.x, item.y, item.size
        hull, dark, _ = self._faces(item.colour)
        sail = self.lit(mix(item.accent, (250, 248, 240), 0.6))
        side = -1 if item.flip else 1
        self._poly(
            [
                (x - s * 0.5, y - s * 0.15),
                (x + s * 0.5, y - s * 0.15),
                (x + s * 0.35, y),
                (x - s * 0.35, y),
            ],
            hull,
        )
        mast = [self.frame.at(x, y - s * 0.15), self.frame.at(x, y - s * 0.95)]
        self.draw.line(mast, fill=dark, width=max(1, round(self.frame.unit * s * 0.03)))
        self._poly(
            [
                (x + side * s * 0.03, y - s * 0.2),
                (x + side * s * 0.03, y - s * 0.92),
                (x + side * s * 0.42, y - s * 0.2),
            ],
            sail,
        )

    def _draw_mountain(self, item: Item) -> None:
        x, y, s = item.x, item.y, item.size * 1.1
        rock, dark, _ = self._faces(mix(item.colour, (110, 110, 130), 0.6))
        snow = self.lit((246, 248, 252))
        self._poly([(x - s * 0.8, y), (x + s * 0.8, y), (x, y - s)], rock)
        self._poly([(x, y), (x + s * 0.8, y), (x, y - s)], dark)
        self._poly([(x - s * 0.22, y - s * 0.72), (x + s * 0.22, y - s * 0.72), (x, y - s)], snow)

    def _draw_flower(self, item: Item) -> None:
        x, y, s = item.x, item.y, item.size * 0.7
        stem = self.lit((50, 130, 60))
        self.draw.line(
            [self.frame.at(x, y), self.frame.at(x, y - s * 0.7)],
            fill=stem,
            width=max(1, round(self.frame.unit * s * 0.05)),
        )
        petal = self.lit(item.colour)
        for dx, dy in ((-0.12, 0.0), (0.12, 0.0), (0.0, -0.12), (0.0, 0.12)):
            self._oval(x + dx * s, y - s * 0.78 + dy * s, s * 0.11, s * 0.11, petal)
        self._oval(x, y - s * 0.78, s * 0.07, s * 0.07, self.lit((250, 210, 60)))

    def _draw_bird(self, item: Item) -> None:
        x, y, s = item.x, item.y, item.size
        colour = shade(self.sky_at(y), 0.35)
        width = max(1, round(self.frame.unit * s * 0.08))
        points = [
            self.frame.at(x - s, y - s * 0.4),
            self.frame.at(x, y),
            self.frame.at(x + s, y - s * 0.4),
        ]
        self.draw.line(points, fill=colour, width=width)

    def _draw_bush(self, item: Item) -> None:
        x, y, s = item.x, item.y, item.size * 0.6
        leaf = self.lit(mix(item.colour, (50, 120, 50), 0.6))
        for dx, r, f in ((-0.3, 0.32, 0.85), (0.3, 0.3, 0.9), (0.0, 0.42, 1.0)):
            self._oval(x + dx * s, y - r * s * 0.8, r * s, r * s * 0.8, shade(leaf, f))

    def _draw_rock(self, item: Item) -> None:
        x, y, s = item.x, item.y, item.size * 0.5
        stone, dark, _ = self._faces(mix(item.colour, (120, 116, 110), 0.7))
        self._poly(
            [
                (x - s * 0.6, y),
                (x - s * 0.4, y - s * 0.5),
                (x + s * 0.1, y - s * 0.65),
                (x + s * 0.6, y),
            ],
            stone,
        )
        self._poly([(x + s * 0.1, y - s * 0.65), (x + s * 0.6, y), (x + s * 0.2, y)], dark)

    def _draw_buoy(self, item: Item) -> None:
        x, y, s = item.x, item.y, item.size * 0.4
        self._poly(
            [(x - s * 0.3, y), (x + s * 0.3, y), (x + s * 0.12, y - s), (x - s * 0.12, y - s)],
            self.lit(item.colour),
        )


def draw_scene(scene: Scene, look: Look, width: int, height: int, detail: float) -> Image.Image:
    """The scene drawn into a ``width`` x ``height`` frame with ``look`` at ``detail``."""
    return Painter(scene, look, Frame(width, height), detail).paint()
