"""What every parameter control shares: the base class, the label style and small helpers.

The controls themselves (one per parameter type) are in :mod:`.controls` and
:mod:`.size_control`; both build on this module, so neither imports the other's base.
"""

from __future__ import annotations

import html
import logging
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

log = logging.getLogger("mountsea_widgets.controls")


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


def action_button(description: str, css: str, tooltip: str, icon: str = "") -> widgets.Button:
    """A compact button with a tooltip, a Font Awesome ``icon`` and a CSS class tests can find."""
    button = widgets.Button(
        description=description, tooltip=tooltip, icon=icon, layout=widgets.Layout(width="auto")
    )
    button.add_class(css)
    return button


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
                    f'<span style="color:#b00020"><b>{html.escape(self.name)}:</b> '
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
