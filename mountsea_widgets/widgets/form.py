"""The parameter form: exactly the selected model's controls, validated by the catalog.

The form is plain Python state that a view's page draws (``static/form.js``): :meth:`Form.state`
is what the page shows, :meth:`Form.receive` takes what the person typed, and each field gets
its message from the catalog's own checks, as the person types.

>>> from mountsea_widgets.widgets.form import Form
>>> form = Form("nano-banana")
>>> form.controls["prompt"].set("a red cube")
True
>>> form.value()["aspect_ratio"]
'1:1'
>>> form.receive({"seed": "12abc"})
True
>>> [f["message"] for f in form.state()["fields"] if f["name"] == "seed"]
["'12abc' is not a whole number (leave it blank for random)"]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..catalog import ModelSpec, catalog
from ..errors import Problem, ValidationError
from .controls import ParamControl, build_control
from .image_list_control import UrlListControl

#: Parameters shown first, in this order, when the model has them; the rest follow in the
#: reference order. What to draw is the first question, how to draw it the second.
LEADING = ("prompt", "system_prompt", "image_urls", "mask_url")
#: Kept when switching model even if equal to the old default (they have no defaults).
ALWAYS_CARRIED = ("prompt", "system_prompt", "image_urls", "seed")
#: The catalog's word for a missing required value.
REQUIRED = "is required"

FormListener = Callable[["Form"], None]
#: A page-message handler, as :meth:`~mountsea_widgets.widgets._view.View.on_page` takes it.
PageHandler = Callable[[dict[str, Any], list[bytes]], None]


class Form:
    """Controls for one model's parameters, rebuilt (keeping what still fits) on model change.

    ``value()`` is the input to send (unset parameters left out); ``problems()`` lists what is
    wrong, by parameter, using the catalog's own ``validate``; ``state()`` gives each field its
    problem as a message, once the person touched the field for "is required".
    """

    def __init__(self, model: str = "nano-banana") -> None:
        self.spec: ModelSpec = catalog.spec(model)
        self.controls: dict[str, ParamControl] = {}
        #: Increases whenever the page must redraw its inputs from the fields' values.
        self.revision = 0
        self._listeners: list[FormListener] = []
        self._quiet = False
        self._redraw = False
        self._problems: dict[str, str] = {}
        self._build(self.spec)
        self.refresh()

    # --- reading --------------------------------------------------------------------------------

    @property
    def model(self) -> str:
        """The id of the model the form is built for."""
        return self.spec.id

    def value(self) -> dict[str, Any]:
        """The input as the controls show it, unset parameters left out (reference order).

        Values a control cannot parse are left out too; :meth:`problems` names them.
        """
        values: dict[str, Any] = {}
        for spec in self.spec.params:
            value, _problem = self.controls[spec.name].read()
            if value is not None:
                values[spec.name] = value
        return values

    def problems(self) -> dict[str, str]:
        """What is wrong, by parameter name (empty when the form can be sent)."""
        return dict(self._problems)

    @property
    def valid(self) -> bool:
        """True when :meth:`validate` would succeed."""
        return not self._problems

    def validate(self) -> dict[str, Any]:
        """The cleaned input to send; raises :class:`ValidationError` naming every problem.

        Like pressing Generate: every field counts as touched from now on, so a missing
        required value is said next to its field.
        """
        self.touch_all()
        return self._checked()

    def _checked(self) -> dict[str, Any]:
        local = self._local_problems()
        try:
            clean = self.spec.validate(self._without(local))
        except ValidationError as exc:
            raise ValidationError(self.model, local + exc.problems) from None
        if local:
            raise ValidationError(self.model, local)
        return clean

    def _local_problems(self) -> list[Problem]:
        problems = []
        for name, control in self.controls.items():
            _value, problem = control.read()
            if problem is not None:
                problems.append(Problem(name, problem))
        return problems

    def _without(self, problems: list[Problem]) -> dict[str, Any]:
        broken = {p.param for p in problems}
        return {k: v for k, v in self.value().items() if k not in broken}

    # --- the page -------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """What the page draws (JSON-able): ``{"revision", "model", "fields": [...]}``.

        Each field: ``name``, ``kind``, ``label``, ``tooltip``, ``required``, ``value`` (as
        the page shows it), ``message`` (its problem in plain words, "" when none), ``note``,
        ``disabled``, plus what its kind needs (see the controls' docstrings).
        """
        return {
            "revision": self.revision,
            "model": self.model,
            "fields": [
                control.field(self.message(name)) for name, control in self.controls.items()
            ],
        }

    def message(self, name: str) -> str:
        """The message shown next to field ``name`` ("" when none).

        The catalog's problem, in words; "is required" only once the field was touched (or
        Generate pressed), so a form that was just opened does not shout. A file that could
        not be attached is said too.
        """
        control = self.controls[name]
        problem = self._problems.get(name, "")
        if problem == REQUIRED:
            problem = f"{control.label} is required" if control.touched else ""
        return "; ".join(part for part in (problem, control.refusal) if part)

    def receive(self, values: Mapping[str, Any], revision: int | None = None) -> bool:
        """Take the values as the page holds them (strings, booleans); returns whether any
        changed.

        Fields whose value changed count as touched; their messages are brought up to date
        and the listeners told. The revision stays (the page keeps what the person is typing),
        unless a control moved something out of its input. Values sent for an older
        ``revision`` (before a model switch or a Reuse) are ignored.
        """
        if revision is not None and revision != self.revision:
            return False
        changed = False
        self._quiet = True
        try:
            for name, shown in values.items():
                control = self.controls.get(str(name))
                if control is not None and control.receive(shown):
                    changed = True
        finally:
            self._quiet = False
        if changed:
            self.refresh()
        return changed

    def attach(self, field: str, filename: str, data: bytes) -> str | None:
        """Attach the image file ``data`` to field ``field``; None, or a plain-words refusal."""
        label = " ".join(str(filename).split())[:60] or "image"
        control = self.controls.get(field)
        if not isinstance(control, UrlListControl):
            return f"{label} was not added: {self.model} takes no reference images"
        control.touched = True
        return control.attach(bytes(data), label)

    def detach(self, field: str, index: int) -> None:
        """Drop attached image ``index`` (0 = the first chip) of field ``field``.

        A chip the page still showed after it was gone is ignored.
        """
        control = self.controls.get(field)
        if isinstance(control, UrlListControl) and 0 <= index < len(control.attachments):
            control.touched = True
            control.remove_attachment(index)

    def touch_all(self) -> None:
        """Count every field as touched (Generate was pressed): every message shows."""
        untouched = [control for control in self.controls.values() if not control.touched]
        for control in untouched:
            control.touched = True
        if untouched:
            self.refresh()

    def handlers(self) -> dict[str, PageHandler]:
        """The page-message handlers a view registers with ``on_page``: ``form`` (values),
        ``attach`` (one file in the buffer) and ``detach``.

        A view holding a form wires it like this (its page calls ``renderForm(...).update``
        with the ``form`` trait on every change)::

            for kind, handler in form.handlers().items():
                view.on_page(kind, handler)
            form.on_change(lambda f: setattr(view, "form", f.state()))
        """
        return {"form": self._on_form, "attach": self._on_attach, "detach": self._on_detach}

    def _on_form(self, content: dict[str, Any], _buffers: list[bytes]) -> None:
        values = content.get("values")
        revision = content.get("revision")
        if isinstance(values, dict):
            self.receive(values, revision if isinstance(revision, int) else None)

    def _on_attach(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        field = str(content.get("field") or "")
        name = " ".join(str(content.get("name") or "image").split())[:60] or "image"
        if buffers:
            self.attach(field, name, buffers[0])
            return
        control = self.controls.get(field)
        if not isinstance(control, UrlListControl):
            return
        control.touched = True
        size = content.get("size")
        if isinstance(size, int) and not isinstance(size, bool) and size > 0:
            control.refuse(control.too_big(name, size))  # the page did not send the bytes
        else:
            control.refuse(f"{name} was not added: the page could not read it; try again")

    def _on_detach(self, content: dict[str, Any], _buffers: list[bytes]) -> None:
        index = content.get("index")
        if isinstance(index, int) and not isinstance(index, bool):
            self.detach(str(content.get("field") or ""), index)

    # --- changing -------------------------------------------------------------------------------

    def set_model(self, model: str) -> None:
        """Show ``model``'s controls, keeping the values it accepts.

        Carried over: the prompt, system prompt, reference images and seed, and every value the
        user changed from the old model's default, if the new model has that parameter and the
        catalog accepts the value there. Everything else starts at the new model's default.
        """
        spec = catalog.spec(model)
        if spec.id == self.model:
            return
        carried = {
            name: control.read()[0]
            for name, control in self.controls.items()
            if control.read()[0] is not None
            and (name in ALWAYS_CARRIED or not control.is_default())
        }
        self._build(spec)
        self._set_values(carried)

    def rebuild(self) -> list[str]:
        """Rebuild the controls from the catalog's current spec of this model (e.g. after the
        live catalog added a value), keeping every value it accepts; returns those refused."""
        values = self.value()
        self._build(catalog.spec(self.model))
        return self._set_values(values)

    def load(self, model: str, input: Mapping[str, Any]) -> list[str]:
        """Show ``model`` with exactly ``input`` (others at defaults), e.g. to reuse a run.

        Returns the names of parameters that could not be shown (unknown or refused).
        """
        spec = catalog.spec(model)
        if spec.id != self.model:
            self._build(spec)
        self._quiet = True
        try:
            for control in self.controls.values():
                control.reset()
        finally:
            self._quiet = False
        return self._set_values(dict(input))

    def reset(self) -> None:
        """Every control back to the model's defaults (the prompt is kept)."""
        self.load(self.model, {"prompt": self.value().get("prompt")})

    def on_change(self, listener: FormListener) -> None:
        """Call ``listener(form)`` after every change (values, messages or model)."""
        self._listeners.append(listener)

    def _set_values(self, values: Mapping[str, Any]) -> list[str]:
        refused = []
        self._quiet = True
        try:
            for name, value in values.items():
                control = self.controls.get(name)
                if control is None or not control.set(value):
                    refused.append(name)
        finally:
            self._quiet = False
        self._redraw = True
        self.refresh()
        return refused

    def _build(self, spec: ModelSpec) -> None:
        old = list(self.controls.values())
        self.spec = spec
        ordered = [name for name in LEADING if spec.has(name)]
        ordered += [name for name in spec.names if name not in ordered]
        self.controls = {}
        for name in ordered:
            control = build_control(spec.param(name))
            control.on_change(self._control_changed)
            self.controls[name] = control
        for control in old:
            control.close()
        self._redraw = True

    def _control_changed(self, redraw: bool) -> None:
        self._redraw = self._redraw or redraw
        if not self._quiet:
            self.refresh()

    def refresh(self) -> None:
        """Re-check every value, give each field its message, tell the listeners."""
        if self._redraw:
            self.revision += 1
            self._redraw = False
        try:
            self._checked()
            problems: list[Problem] = []
        except ValidationError as exc:
            problems = exc.problems
        by_param: dict[str, str] = {}
        for problem in problems:
            text = problem.message
            if problem.allowed and problem.message != REQUIRED:
                text += f" (allowed: {problem.allowed})"
            by_param.setdefault(problem.param, text)
        self._problems = by_param
        for listener in list(self._listeners):
            listener(self)

    def __repr__(self) -> str:
        return f"<Form {self.model}: {len(self.controls)} controls, {len(self._problems)} problems>"
