"""One control per model parameter, built from its :class:`~mountsea_widgets.catalog.ParamSpec`.

Like ipywidgets-jsonschema, there is one builder per parameter type (:data:`BUILDERS`), chosen
by :func:`build_control`. A control only *reads* and *describes*: it turns what the person
typed into a Python value (``None`` meaning unset, so it is left out of the input) and reports
text it cannot even parse; every rule about allowed values stays in the catalog
(``spec.validate``). The page draws each control from its field dict (``control.field()``).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, ClassVar

from ..catalog import ParamSpec
from .control_base import MAX_RANDOM_SEED, UNSET, ParamControl
from .image_list_control import UrlListControl

__all__ = [
    "BUILDERS",
    "UNSET",
    "ChoiceControl",
    "FlagControl",
    "IntegerControl",
    "OptionalIntegerControl",
    "ParamControl",
    "TextControl",
    "TriStateControl",
    "UrlListControl",
    "build_control",
]

#: The label of the choice that leaves a parameter out.
DEFAULT_LABEL = "(default)"

# --- builders, one per parameter type -------------------------------------------------------


class ChoiceControl(ParamControl):
    """An enum: a select with the documented default preselected, "(default)" when none.

    Field: ``{"kind": "enum", "value": "<choice>" ("" = unset), "options": [[label, value],
    ...]}``.
    """

    kind = "enum"

    def setup(self) -> None:
        self.choice = UNSET

    @property
    def options(self) -> list[tuple[str, str]]:
        """``(label, value)`` pairs, "(default)" first when the parameter may stay unset."""
        options: list[tuple[str, str]] = []
        if self.spec.default is None and not self.spec.required:
            options.append((DEFAULT_LABEL, UNSET))
        options += [(choice, choice) for choice in self.spec.enum or ()]
        return options

    def read(self) -> tuple[Any, str | None]:
        return (None if self.choice == UNSET else self.choice), None

    def _write(self, value: Any) -> None:
        self.choice = UNSET if value is None else str(value)

    def shown(self) -> str:
        return self.choice

    def _take(self, shown: Any) -> bool:
        self.choice = "" if shown is None else str(shown)
        return False

    def extra(self) -> dict[str, Any]:
        return {"options": [list(pair) for pair in self.options]}


class FlagControl(ParamControl):
    """A boolean with a documented default: a checkbox. Field: ``{"kind": "flag", "value":
    bool}``."""

    kind = "flag"

    def setup(self) -> None:
        self.checked = bool(self.spec.default)

    def read(self) -> tuple[Any, str | None]:
        return self.checked, None

    def _write(self, value: Any) -> None:
        self.checked = bool(value) if value is not None else bool(self.spec.default)

    def shown(self) -> bool:
        return self.checked

    def _take(self, shown: Any) -> bool:
        self.checked = shown is True or str(shown).lower() == "true"
        return False


class TriStateControl(ParamControl):
    """A boolean the reference gives no default for: a select "(default)" (left out), "on",
    "off". Field: ``{"kind": "tristate", "value": "" | "true" | "false", "options": [...]}``.
    """

    kind = "tristate"
    OPTIONS = ((DEFAULT_LABEL, UNSET), ("on", "true"), ("off", "false"))

    def setup(self) -> None:
        self.choice = UNSET

    @property
    def options(self) -> list[tuple[str, str]]:
        """``(label, value)`` pairs: "(default)", "on", "off"."""
        return list(self.OPTIONS)

    def read(self) -> tuple[Any, str | None]:
        if self.choice == UNSET:
            return None, None
        if self.choice in ("true", "false"):
            return self.choice == "true", None
        return None, f"{self.choice[:40]!r} is not one of (default), on, off"

    def _write(self, value: Any) -> None:
        self.choice = UNSET if value is None else ("true" if value else "false")

    def shown(self) -> str:
        return self.choice

    def _take(self, shown: Any) -> bool:
        if isinstance(shown, bool):
            self.choice = "true" if shown else "false"
        else:
            self.choice = "" if shown is None else str(shown).lower()
        return False

    def extra(self) -> dict[str, Any]:
        return {"options": [list(pair) for pair in self.options]}


class IntegerControl(ParamControl):
    """An integer with a default (num_images): a number input; the range is the catalog's.

    Field: ``{"kind": "integer", "value": "<text>", "min", "max", "step": 1, "placeholder",
    "random": false}``. Blank leaves the parameter out (the hub's default applies).
    """

    kind = "integer"

    def setup(self) -> None:
        self.text = ""

    @property
    def blank(self) -> str:
        """What a blank input means, in the input's placeholder."""
        return "(default)"

    @property
    def hint(self) -> str:
        """Said after a text that is not a whole number."""
        return ""

    def read(self) -> tuple[Any, str | None]:
        text = self.text.strip()
        if not text:
            return None, None
        try:
            return int(text), None
        except ValueError:
            return None, f"{text[:40]!r} is not a whole number{self.hint}"

    def _write(self, value: Any) -> None:
        self.text = "" if value is None else str(int(value))

    def shown(self) -> str:
        return self.text

    def _take(self, shown: Any) -> bool:
        if isinstance(shown, bool):  # never a number here
            shown = str(shown).lower()
        self.text = "" if shown is None else str(shown)
        return False

    def extra(self) -> dict[str, Any]:
        return {
            "min": self.spec.minimum,
            "max": self.spec.maximum,
            "step": 1,
            "placeholder": self.blank,
            "random": False,
        }


class OptionalIntegerControl(IntegerControl):
    """An integer that may stay blank (seed): blank = unset; seed gets a "random" button.

    Field: as :class:`IntegerControl`, with ``"random": true`` and ``"random_max"`` for the
    seed (the page picks a number from 0 to ``random_max``).
    """

    @property
    def blank(self) -> str:
        """The seed's blank means a random one; others' the hub's default."""
        return "random" if self.name == "seed" else "(default)"

    @property
    def hint(self) -> str:
        return f" (leave it blank for {self.blank})"

    def roll(self) -> int:
        """Put a random seed in (so the run can be repeated exactly); returns it."""
        seed = random.randint(0, MAX_RANDOM_SEED)
        self.text = str(seed)
        self.touched = True
        self._changed(redraw=True)
        return seed

    def extra(self) -> dict[str, Any]:
        extra = super().extra()
        if self.name == "seed":
            extra.update(
                random=True,
                random_max=MAX_RANDOM_SEED,
                random_tooltip="Pick a random seed (so the run can be repeated exactly)",
            )
        return extra


class TextControl(ParamControl):
    """Free text: a multi-line box for prompts, one line otherwise (e.g. mask_url).

    Field: ``{"kind": "text", "value": "<text>", "multiline": bool, "placeholder"}``.
    """

    kind = "text"
    MULTILINE = ("prompt", "system_prompt")
    PLACEHOLDERS: ClassVar[dict[str, str]] = {
        "prompt": "Describe the image…",
        "system_prompt": "(optional) instructions for the model",
    }

    def setup(self) -> None:
        self.text = ""

    @property
    def multiline(self) -> bool:
        """Whether the page draws a textarea."""
        return self.name in self.MULTILINE

    def read(self) -> tuple[Any, str | None]:
        return (self.text if self.text.strip() else None), None

    def _write(self, value: Any) -> None:
        self.text = "" if value is None else str(value)

    def shown(self) -> str:
        return self.text

    def _take(self, shown: Any) -> bool:
        self.text = "" if shown is None else str(shown)
        return False

    def extra(self) -> dict[str, Any]:
        return {
            "multiline": self.multiline,
            "placeholder": self.PLACEHOLDERS.get(self.name, "(optional)"),
        }


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
