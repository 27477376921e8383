"""The image-size control of the gpt-image-2 family: a preset, or a custom width × height.

Choosing "custom…" shows width and height inputs, checked as the person types against the
catalog's :class:`~mountsea_widgets.catalog.SizeRules`; the reason a size is refused is the
field's message (and Generate stays off), a valid custom size is confirmed in its note.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..catalog import SizeRules
from .control_base import UNSET, ParamControl

#: Choice value of the "custom…" entry (not a valid preset name, so it cannot clash).
CUSTOM = "custom…"
#: What the width/height inputs hold when "custom…" is first chosen (a valid landscape size).
START_SIZE = (1536, 1024)


class SizeControl(ParamControl):
    """A preset select plus "custom…", which shows width/height inputs.

    Field: ``{"kind": "size", "value": {"preset": "<preset>" | "custom…" | "", "width":
    "<text>", "height": "<text>"}, "options": [[label, value], ...], "custom": bool,
    "rules": "<the size rules in words>"}``.
    """

    kind = "size"

    def setup(self) -> None:
        self.preset = UNSET
        self.width = str(START_SIZE[0])
        self.height = str(START_SIZE[1])

    @property
    def rules(self) -> SizeRules:
        """The catalog's size rules for this parameter."""
        return self.spec.size_rules or SizeRules()

    @property
    def is_custom(self) -> bool:
        """Whether "custom…" is selected."""
        return self.preset == CUSTOM

    @property
    def options(self) -> list[tuple[str, str]]:
        """``(label, value)`` pairs: "(default)" when it may stay unset, presets, "custom…"."""
        options: list[tuple[str, str]] = []
        if self.spec.default is None and not self.spec.required:
            options.append(("(default)", UNSET))
        options += [(name, name) for name in self.spec.enum or ()]
        options.append((CUSTOM, CUSTOM))
        return options

    @property
    def note(self) -> str:
        """Confirms a valid custom size (its megapixels); else the base note."""
        base = super().note
        if base or not self.is_custom:
            return base
        value, problem = self.read()
        if problem is None and isinstance(value, dict):
            pixels = value["width"] * value["height"]
            return f"{value['width']} × {value['height']} px ({pixels / 1e6:.2f} MP), allowed"
        return ""

    def read(self) -> tuple[Any, str | None]:
        if self.preset == UNSET:
            return None, None
        if self.preset != CUSTOM:
            return self.preset, None
        try:
            width, height = int(self.width.strip()), int(self.height.strip())
        except ValueError:
            return None, (
                f"width {self.width.strip()[:12]!r} and height {self.height.strip()[:12]!r}"
                " must be whole numbers of pixels"
            )
        broken = self.rules.check(width, height)
        if broken:
            return None, f"{width} × {height} is not allowed: " + "; ".join(broken)
        return {"width": width, "height": height}, None

    def _write(self, value: Any) -> None:
        if isinstance(value, Mapping):
            self.width = str(int(value["width"]))
            self.height = str(int(value["height"]))
            self.preset = CUSTOM
        else:
            self.preset = UNSET if value is None else str(value)

    def shown(self) -> dict[str, str]:
        return {"preset": self.preset, "width": self.width, "height": self.height}

    def _take(self, shown: Any) -> bool:
        if isinstance(shown, Mapping):
            self.preset = _text(shown.get("preset", self.preset))
            self.width = _text(shown.get("width", self.width))
            self.height = _text(shown.get("height", self.height))
        else:  # a bare preset name
            self.preset = _text(shown)
        return False

    def extra(self) -> dict[str, Any]:
        return {
            "options": [list(pair) for pair in self.options],
            "custom": self.is_custom,
            "rules": self.rules.describe(),
            "custom_value": CUSTOM,
        }


def _text(value: Any) -> str:
    return "" if value is None else str(value)
