"""One control per model parameter, built from its :class:`~mountsea_widgets.catalog.ParamSpec`.

Like ipywidgets-jsonschema, there is one builder per parameter type (:data:`BUILDERS`), chosen
by :func:`build_control`. A control only *reads* and *shows*: it turns what the user typed into
a Python value (``None`` meaning unset, so it is left out of the input) and reports text it
cannot even parse; every rule about allowed values stays in the catalog (``spec.validate``).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..catalog import ParamSpec
from .control_base import (
    _STYLE,
    MAX_RANDOM_SEED,
    UNSET,
    ParamControl,
    action_button,
    tooltip_for,
)
from .image_list_control import UrlListControl

# --- builders, one per parameter type -------------------------------------------------------


class ChoiceControl(ParamControl):
    """An enum: a Dropdown with the documented default preselected, "(default)" when none."""

    def widgets(self) -> list[widgets.Widget]:
        if not hasattr(self, "dropdown"):
            options: list[tuple[str, str]] = []
            if self.spec.default is None and not self.spec.required:
                options.append(("(default)", UNSET))
            options += [(choice, choice) for choice in self.spec.enum or ()]
            self.dropdown = widgets.Dropdown(
                options=options,
                description=self.name,
                tooltip=tooltip_for(self.spec),
                style=_STYLE,
            )
            self._watch(self.dropdown)
        return [self.dropdown]

    def read(self) -> tuple[Any, str | None]:
        value = self.dropdown.value
        return (None if value in (UNSET, None) else value), None

    def _write(self, value: Any) -> None:
        self.dropdown.value = UNSET if value is None else str(value)


class FlagControl(ParamControl):
    """A boolean with a documented default: a Checkbox."""

    def widgets(self) -> list[widgets.Widget]:
        if not hasattr(self, "checkbox"):
            self.checkbox = widgets.Checkbox(
                value=bool(self.spec.default),
                description=self.name,
                tooltip=tooltip_for(self.spec),
                style=_STYLE,
                indent=True,
            )
            self._watch(self.checkbox)
        return [self.checkbox]

    def read(self) -> tuple[Any, str | None]:
        return bool(self.checkbox.value), None

    def _write(self, value: Any) -> None:
        self.checkbox.value = bool(value) if value is not None else bool(self.spec.default)


class TriStateControl(ParamControl):
    """A boolean the reference gives no default for: a Dropdown "(default)" (left out), "true",
    "false". A Dropdown lines up with the other controls' label column, as toggle buttons do not.
    """

    def widgets(self) -> list[widgets.Widget]:
        if not hasattr(self, "choice"):
            self.choice = widgets.Dropdown(
                options=[("(default)", UNSET), ("true", "true"), ("false", "false")],
                description=self.name,
                tooltip=tooltip_for(self.spec),
                style=_STYLE,
            )
            self._watch(self.choice)
        return [self.choice]

    def read(self) -> tuple[Any, str | None]:
        value = self.choice.value
        if value in (UNSET, None):
            return None, None
        return value == "true", None

    def _write(self, value: Any) -> None:
        self.choice.value = UNSET if value is None else ("true" if value else "false")


class IntegerControl(ParamControl):
    """An integer with a default (num_images): an IntText; the range is checked by the catalog."""

    def widgets(self) -> list[widgets.Widget]:
        if not hasattr(self, "number"):
            self.number = widgets.IntText(
                value=int(self.spec.default or 0),
                description=self.name,
                tooltip=tooltip_for(self.spec),
                style=_STYLE,
                continuous_update=True,
                layout=widgets.Layout(width="260px"),
            )
            self._watch(self.number)
        return [self.number]

    def read(self) -> tuple[Any, str | None]:
        return int(self.number.value), None

    def _write(self, value: Any) -> None:
        self.number.value = int(value if value is not None else (self.spec.default or 0))


class OptionalIntegerControl(ParamControl):
    """An integer that may stay blank (seed): a Text, blank = unset; seed gets a dice button."""

    def widgets(self) -> list[widgets.Widget]:
        if not hasattr(self, "text"):
            self.text = widgets.Text(
                value="",
                placeholder="random" if self.name == "seed" else "(default)",
                description=self.name,
                tooltip=tooltip_for(self.spec),
                style=_STYLE,
                continuous_update=True,
                layout=widgets.Layout(width="320px"),
            )
            self._watch(self.text)
            self.row: Any = self.text
            if self.name == "seed":
                self.dice = action_button(
                    "random",
                    "mountsea-seed-random",
                    "Pick a random seed (so the run can be repeated exactly)",
                    "dice",
                )
                self.dice.on_click(self._roll)
                self.row = widgets.HBox([self.text, self.dice])
        return [self.row]

    def set_enabled(self, enabled: bool) -> None:
        self.text.disabled = not enabled
        if hasattr(self, "dice"):
            self.dice.disabled = not enabled

    def _roll(self, _button: Any = None) -> None:
        self.text.value = str(random.randint(0, MAX_RANDOM_SEED))

    def read(self) -> tuple[Any, str | None]:
        text = self.text.value.strip()
        if not text:
            return None, None
        try:
            return int(text), None
        except ValueError:
            return None, f"{text[:40]!r} is not a whole number (leave it blank for random)"

    def _write(self, value: Any) -> None:
        self.text.value = "" if value is None else str(value)


class TextControl(ParamControl):
    """Free text: a Textarea for prompts, a one-line Text otherwise (e.g. mask_url)."""

    MULTILINE = ("prompt", "system_prompt")

    def widgets(self) -> list[widgets.Widget]:
        if not hasattr(self, "text"):
            multiline = self.name in self.MULTILINE
            cls = widgets.Textarea if multiline else widgets.Text
            placeholder = {
                "prompt": "Describe the image…",
                "system_prompt": "(optional) instructions for the model",
            }.get(self.name, "(optional)")
            self.text = cls(
                value="",
                placeholder=placeholder,
                description=self.name,
                tooltip=tooltip_for(self.spec),
                style=_STYLE,
                continuous_update=True,
                layout=widgets.Layout(width="95%", height="80px" if multiline else "auto"),
            )
            self._watch(self.text)
        return [self.text]

    def read(self) -> tuple[Any, str | None]:
        value = self.text.value
        return (value if value.strip() else None), None

    def _write(self, value: Any) -> None:
        self.text.value = "" if value is None else str(value)


def build_control(spec: ParamSpec) -> ParamControl:
    """The control for ``spec``, picked by its type (see :data:`BUILDERS`)."""
    if spec.type == "string":
        kind = "enum" if spec.enum is not None else "text"
    elif spec.type == "boolean":
        kind = "flag" if spec.default is not None else "tristate"
    elif spec.type == "integer":
        kind = "integer" if spec.default is not None else "optional-integer"
    else:
        kind = spec.type
    try:
        builder = BUILDERS[kind]
    except KeyError:
        raise TypeError(f"no control for parameter {spec.name!r} of type {spec.type!r}") from None
    return builder(spec)


def _size_control(spec: ParamSpec) -> ParamControl:
    from .size_control import SizeControl

    return SizeControl(spec)


#: Builder per parameter kind; ``string|object`` is the preset-or-custom image size.
BUILDERS: dict[str, Callable[[ParamSpec], ParamControl]] = {
    "enum": ChoiceControl,
    "text": TextControl,
    "url": TextControl,
    "flag": FlagControl,
    "tristate": TriStateControl,
    "integer": IntegerControl,
    "optional-integer": OptionalIntegerControl,
    "array<string>": UrlListControl,
    "string|object": _size_control,
}
