"""One control per model parameter, built from its :class:`~mountsea_widgets.catalog.ParamSpec`.

Like ipywidgets-jsonschema, there is one builder per parameter type (:data:`BUILDERS`), chosen
by :func:`build_control`. A control only *reads* and *shows*: it turns what the user typed into
a Python value (``None`` meaning unset, so it is left out of the input) and reports text it
cannot even parse; every rule about allowed values stays in the catalog (``spec.validate``).
"""

from __future__ import annotations

import html
import random
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..catalog import ParamSpec

#: Width of the parameter-name column, so all controls line up.
LABEL_WIDTH = "150px"
_STYLE = {"description_width": LABEL_WIDTH}
_UNDER = f"0 0 4px calc({LABEL_WIDTH} + 8px)"
#: Dropdown value that stands for "leave this parameter out".
UNSET = ""
#: The largest seed the random button picks (a positive 32-bit integer fits every provider).
MAX_RANDOM_SEED = 2**31 - 1

Listener = Callable[[], None]


def tooltip_for(spec: ParamSpec) -> str:
    """The hover text of a parameter: what it does, what is allowed, and the default."""
    parts = [spec.description.strip() or spec.name, f"Allowed: {spec.allowed}."]
    if spec.default is not None:
        parts.append(f"Default: {_plain(spec.default)}.")
    elif not spec.required:
        parts.append("No documented default: left out unless set.")
    if spec.note:
        parts.append(spec.note.strip())
    if spec.unavailable:
        parts.append(f"Unavailable: {spec.unavailable}.")
    return " ".join(parts)


def close_tree(widget: Any) -> None:
    """Close ``widget`` and, depth first, every widget inside it (frees their comms)."""
    for child in getattr(widget, "children", ()):
        close_tree(child)
    widget.close()


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class ParamControl:
    """Base class: the widget(s) for one parameter, plus a label for its problem.

    ``box`` is what the form displays; ``read()`` gives ``(value, problem)`` where value ``None``
    means unset and problem is text that could not be parsed at all (e.g. "abc" as a seed).
    """

    def __init__(self, spec: ParamSpec) -> None:
        self.spec = spec
        self.name = spec.name
        # Notes and errors sit under the input, aligned with it rather than with the label.
        self.error = widgets.HTML(value="", layout=widgets.Layout(display="none", margin=_UNDER))
        self.error.add_class("mountsea-error")
        self.error.add_class(f"mountsea-error-{spec.name}")
        self.note = widgets.HTML(value="", layout=widgets.Layout(display="none", margin=_UNDER))
        self.note.add_class("mountsea-note")
        self._listeners: list[Listener] = []
        self.box = widgets.VBox([*self.widgets(), self.note, self.error])
        self.box.add_class("mountsea-param")
        self.box.add_class(f"mountsea-param-{spec.name}")
        if spec.unavailable:
            self.set_enabled(False)
            self.show_note(f"Unavailable: {spec.unavailable}")
        self.reset()

    # --- for subclasses -----------------------------------------------------------------------

    def widgets(self) -> list[widgets.Widget]:
        """The input widgets, top to bottom (the error label goes below them)."""
        raise NotImplementedError

    def read(self) -> tuple[Any, str | None]:
        """``(value, None)``, ``(None, None)`` when unset, or ``(None, problem)``."""
        raise NotImplementedError

    def _write(self, value: Any) -> None:
        """Show ``value`` (already checked by the catalog; ``None`` means unset)."""
        raise NotImplementedError

    # --- shared behaviour -------------------------------------------------------------------------

    @property
    def value(self) -> Any:
        """The parsed value, ``None`` when unset or unparseable."""
        return self.read()[0]

    def set(self, value: Any) -> bool:
        """Show ``value`` if the catalog accepts it for this parameter; returns whether it did."""
        if value is None:
            self._write(None)
            return True
        if self.spec.unavailable and value is not False:
            return False
        clean, reason = self.spec.check(value)
        if reason is not None:
            return False
        self._write(clean)
        return True

    def reset(self) -> None:
        """Back to the documented default (unset where there is none)."""
        self._write(self.spec.default)

    def is_default(self) -> bool:
        """Whether the control shows the model's default (an untouched control)."""
        value, problem = self.read()
        return problem is None and value == self.spec.default

    def set_enabled(self, enabled: bool) -> None:
        """Enable or disable every input widget of this control."""
        for widget in self.widgets():
            if hasattr(widget, "disabled"):
                widget.disabled = not enabled

    def show_error(self, message: str | None) -> None:
        """Show ``message`` (plain text, escaped here) under the control, or hide the label."""
        with self.error.hold_sync():
            if message:
                self.error.value = (
                    f'<span style="color:#b00020">⚠ {html.escape(self.name)}: '
                    f"{html.escape(message)}</span>"
                )
                self.error.layout.display = ""
            else:
                self.error.value = ""
                self.error.layout.display = "none"

    def show_note(self, message: str | None) -> None:
        """Show a neutral note (plain text, escaped) under the control."""
        with self.note.hold_sync():
            self.note.value = (
                f'<span style="color:#666">{html.escape(message)}</span>' if message else ""
            )
            self.note.layout.display = "" if message else "none"

    def on_change(self, listener: Listener) -> None:
        """Call ``listener()`` whenever the user changes the value."""
        self._listeners.append(listener)

    def _changed(self, _change: Any = None) -> None:
        for listener in list(self._listeners):
            listener()

    def _watch(self, *inputs: Any) -> None:
        for widget in inputs:
            widget.observe(self._changed, names="value")

    def close(self) -> None:
        """Close every widget of this control (frees the comms)."""
        close_tree(self.box)


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
    """A boolean the reference gives no default for: "default" (left out), "true", "false"."""

    def widgets(self) -> list[widgets.Widget]:
        if not hasattr(self, "choice"):
            self.choice = widgets.Dropdown(
                options=[("default", UNSET), ("true", "true"), ("false", "false")],
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
    """An integer that may stay blank (seed): a Text, blank = unset; seed gets a 🎲 button."""

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
                self.dice = widgets.Button(
                    description="🎲 random",
                    tooltip="Pick a random seed (so the run can be repeated exactly)",
                    layout=widgets.Layout(width="auto"),
                )
                self.dice.add_class("mountsea-seed-random")
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


class UrlListControl(ParamControl):
    """A list of image URLs (edit models): a Textarea, one URL per line."""

    def widgets(self) -> list[widgets.Widget]:
        if not hasattr(self, "text"):
            self.text = widgets.Textarea(
                value="",
                placeholder="https://… (one image URL or data:image URI per line)",
                description=self.name,
                tooltip=tooltip_for(self.spec),
                style=_STYLE,
                continuous_update=True,
                layout=widgets.Layout(width="95%", height="64px"),
            )
            self._watch(self.text)
        return [self.text]

    def read(self) -> tuple[Any, str | None]:
        urls = [line.strip() for line in self.text.value.splitlines() if line.strip()]
        return (urls or None), None

    def _write(self, value: Any) -> None:
        self.text.value = "\n".join(value) if value else ""


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
