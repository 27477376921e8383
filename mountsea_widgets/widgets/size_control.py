"""The image-size control of the gpt-image-2 family: a preset, or a custom width × height.

Choosing "custom…" reveals width and height inputs, checked live against the catalog's
:class:`~mountsea_widgets.catalog.SizeRules` as the user types; the reason a size is refused
is shown right under them (and Generate stays off).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets

from ..catalog import SizeRules
from .control_base import _STYLE, UNSET, ParamControl, tooltip_for

#: Dropdown value of the "custom…" entry (not a valid preset name, so it cannot clash).
CUSTOM = "custom…"
#: What the width/height inputs hold when "custom…" is first chosen (a valid landscape size).
START_SIZE = (1536, 1024)


class SizeControl(ParamControl):
    """Preset Dropdown plus "custom…", which shows width/height inputs with live validation."""

    def widgets(self) -> list[widgets.Widget]:
        if not hasattr(self, "preset"):
            options: list[tuple[str, str]] = []
            if self.spec.default is None and not self.spec.required:
                options.append(("(default)", UNSET))
            options += [(name, name) for name in self.spec.enum or ()]
            options.append((CUSTOM, CUSTOM))
            self.preset = widgets.Dropdown(
                options=options,
                description=self.name,
                tooltip=tooltip_for(self.spec),
                style=_STYLE,
            )
            rules = self.rules
            self.width = widgets.IntText(
                value=START_SIZE[0],
                description="width",
                tooltip=f"Custom width in px: {rules.describe()}",
                continuous_update=True,
                layout=widgets.Layout(width="180px"),
                style={"description_width": "50px"},
            )
            self.height = widgets.IntText(
                value=START_SIZE[1],
                description="height",
                tooltip=f"Custom height in px: {rules.describe()}",
                continuous_update=True,
                layout=widgets.Layout(width="180px"),
                style={"description_width": "50px"},
            )
            self.custom = widgets.HBox(
                [self.width, self.height],
                layout=widgets.Layout(
                    display="none", margin=f"0 0 0 {_STYLE['description_width']}"
                ),
            )
            self.custom.add_class("mountsea-size-custom")
            self.width.add_class("mountsea-size-width")
            self.height.add_class("mountsea-size-height")
            self.row = widgets.VBox([self.preset, self.custom])
            self.row.add_class("mountsea-size-control")
            self.preset.observe(self._preset_changed, names="value")
            for widget in (self.width, self.height):
                widget.observe(self._size_changed, names="value")
        return [self.row]

    @property
    def rules(self) -> SizeRules:
        """The catalog's size rules for this parameter."""
        return self.spec.size_rules or SizeRules()

    @property
    def is_custom(self) -> bool:
        """Whether "custom…" is selected."""
        return bool(self.preset.value == CUSTOM)

    def set_enabled(self, enabled: bool) -> None:
        for widget in (self.preset, self.width, self.height):
            widget.disabled = not enabled

    def _preset_changed(self, _change: Any = None) -> None:
        self.custom.layout.display = "" if self.is_custom else "none"
        self._size_changed()

    def _size_changed(self, _change: Any = None) -> None:
        self._show_hint()
        self._changed()

    def _show_hint(self) -> None:
        if not self.is_custom:
            self.show_note(None)
            return
        value, problem = self.read()
        if problem is None and value is not None:
            pixels = value["width"] * value["height"]
            self.show_note(
                f"{value['width']} × {value['height']} px ({pixels / 1e6:.2f} MP), allowed"
            )
        else:
            self.show_note(None)

    def read(self) -> tuple[Any, str | None]:
        choice = self.preset.value
        if choice in (UNSET, None):
            return None, None
        if choice != CUSTOM:
            return choice, None
        width, height = int(self.width.value), int(self.height.value)
        broken = self.rules.check(width, height)
        if broken:
            return None, f"{width} × {height} is not allowed: " + "; ".join(broken)
        return {"width": width, "height": height}, None

    def _write(self, value: Any) -> None:
        if isinstance(value, Mapping):
            with self.width.hold_trait_notifications(), self.height.hold_trait_notifications():
                self.width.value = int(value["width"])
                self.height.value = int(value["height"])
            self.preset.value = CUSTOM
        else:
            self.preset.value = UNSET if value is None else str(value)
        self._preset_changed()
