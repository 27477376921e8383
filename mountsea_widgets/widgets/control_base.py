"""What every parameter control shares: the base class, labels, tooltips and small helpers.

A control is plain Python state, drawn by the page (``static/form.js``): it holds what the
person typed *as the page shows it* (text, a choice, a checkbox), parses it into the value to
send, and describes itself as one JSON-able field dict (:meth:`ParamControl.field`). Every rule
about allowed values stays in the catalog (``spec.check`` / ``spec.validate``).

The controls themselves (one per parameter type) are in :mod:`.controls`,
:mod:`.size_control` and :mod:`.image_list_control`; all build on this module.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..catalog import ParamSpec

#: Choice value that stands for "leave this parameter out".
UNSET = ""
#: The largest seed the random button picks (a positive 32-bit integer fits every provider).
MAX_RANDOM_SEED = 2**31 - 1

#: Called after a control's value changed; ``redraw`` is True when the page must show the new
#: value (set from Python), False when the change came from the page itself.
Listener = Callable[[bool], None]

log = logging.getLogger("mountsea_widgets.controls")

#: Labels where the parameter name alone reads badly; others are the name in words.
LABELS = {
    "image_urls": "Reference images",
    "mask_url": "Mask URL",
    "num_images": "Number of images",
    "enable_web_search": "Web search",
}


def label_for(spec: ParamSpec) -> str:
    """The label a person reads, e.g. "Aspect ratio" for ``aspect_ratio``."""
    if spec.name in LABELS:
        return LABELS[spec.name]
    words = spec.name.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else spec.name


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


def __getattr__(name: str) -> Any:
    # ``action_button`` builds an ipywidgets Button for the views that still are ipywidgets;
    # it lives apart so that the form and its controls never need ipywidgets.
    if name == "action_button":
        from ._action_button import action_button

        return action_button
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class ParamControl:
    """Base class: the state of one parameter's input(s), as the page shows them.

    ``read()`` gives ``(value, problem)`` where value ``None`` means unset and problem is text
    that could not be parsed at all (e.g. "abc" as a seed). ``shown()`` is what the page's
    input holds; ``receive(shown)`` takes it back from the page. ``touched`` turns on when the
    person changed the value (a required field says it is missing only then).
    """

    #: The field kind the page draws (see :meth:`field`).
    kind = "text"

    def __init__(self, spec: ParamSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self.touched = False
        self.disabled = bool(spec.unavailable)
        #: Why the last thing the person gave could not be taken ("" when none), e.g. a file
        #: that is not an image; shown with the field's message.
        self.refusal = ""
        self._listeners: list[Listener] = []
        self.setup()
        self.reset()

    # --- for subclasses -----------------------------------------------------------------------

    def setup(self) -> None:
        """Create the control's own state (called once, before the first reset)."""

    def read(self) -> tuple[Any, str | None]:
        """``(value, None)``, ``(None, None)`` when unset, or ``(None, problem)``."""
        raise NotImplementedError

    def _write(self, value: Any) -> None:
        """Show ``value`` (already checked by the catalog; ``None`` means unset)."""
        raise NotImplementedError

    def shown(self) -> Any:
        """What the page's input holds (a string, a boolean, or a dict of strings)."""
        raise NotImplementedError

    def _take(self, shown: Any) -> bool:
        """Take ``shown`` from the page; returns True when the page must redraw the input
        (e.g. the control moved part of it elsewhere)."""
        raise NotImplementedError

    def extra(self) -> dict[str, Any]:
        """What this kind adds to the field dict (options, limits, items, ...)."""
        return {}

    @property
    def note(self) -> str:
        """A neutral note under the input ("" when none)."""
        if self.spec.unavailable:
            return f"Unavailable: {self.spec.unavailable}"
        return ""

    # --- shared behaviour -------------------------------------------------------------------------

    @property
    def label(self) -> str:
        """The label a person reads (the API name is in the tooltip)."""
        return label_for(self.spec)

    @property
    def tooltip(self) -> str:
        """The hover text: the API name, what it does, what is allowed, the default."""
        return f"{self.name}: {tooltip_for(self.spec)}"

    @property
    def value(self) -> Any:
        """The parsed value, ``None`` when unset or unparseable."""
        return self.read()[0]

    def set(self, value: Any) -> bool:
        """Show ``value`` if the catalog accepts it for this parameter; returns whether it did."""
        if value is None:
            self._write(None)
            self._changed(redraw=True)
            return True
        if self.spec.unavailable and value is not False:
            return False
        clean, reason = self.spec.check(value)
        if reason is not None:
            return False
        self._write(clean)
        self._changed(redraw=True)
        return True

    def receive(self, shown: Any) -> bool:
        """Take what the page's input holds; returns whether it differed (then ``touched``).

        Nothing is checked here: :meth:`read` parses it and the catalog judges it.
        """
        if self.disabled or _same(shown, self.shown()):
            return False
        redraw = self._take(shown)
        self.touched = True
        self._changed(redraw=redraw)
        return True

    def reset(self) -> None:
        """Back to the documented default (unset where there is none)."""
        self._write(self.spec.default)
        self._changed(redraw=True)

    def is_default(self) -> bool:
        """Whether the control shows the model's default (an untouched control)."""
        value, problem = self.read()
        return problem is None and value == self.spec.default

    def set_enabled(self, enabled: bool) -> None:
        """Enable or disable the input (a disabled one ignores the page)."""
        self.disabled = not enabled
        self._changed(redraw=False)

    def field(self, message: str = "") -> dict[str, Any]:
        """The JSON-able field the page draws; ``message`` is the field's problem ("" none)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "label": self.label,
            "tooltip": self.tooltip,
            "required": self.spec.required,
            "value": self.shown(),
            "message": message,
            "note": self.note,
            "disabled": self.disabled,
            **self.extra(),
        }

    def on_change(self, listener: Listener) -> None:
        """Call ``listener(redraw)`` whenever the value changes."""
        self._listeners.append(listener)

    def _changed(self, redraw: bool = True) -> None:
        for listener in list(self._listeners):
            listener(redraw)

    def close(self) -> None:
        """Forget the listeners (a control of a model the form no longer shows)."""
        self._listeners.clear()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}={self.shown()!r}>"


def _same(left: Any, right: Any) -> bool:
    """Equal as the page would show them (``True`` is not ``1`` here)."""
    return type(left) is type(right) and bool(left == right)
