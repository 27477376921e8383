"""The parameter form: exactly the selected model's controls, validated by the catalog.

>>> from mountsea_widgets.widgets.form import Form
>>> form = Form("nano-banana")
>>> form.controls["prompt"].set("a red cube")
True
>>> form.value()["aspect_ratio"]
'1:1'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets

from ..catalog import ModelSpec, catalog
from ..errors import Problem, ValidationError
from .controls import ParamControl, build_control

#: Parameters shown first, in this order, when the model has them; the rest follow in the
#: reference order. What to draw is the first question, how to draw it the second.
LEADING = ("prompt", "system_prompt", "image_urls", "mask_url")
#: Kept when switching model even if equal to the old default (they have no defaults).
ALWAYS_CARRIED = ("prompt", "system_prompt", "image_urls", "seed")

FormListener = Callable[["Form"], None]


class Form(widgets.VBox):
    """Controls for one model's parameters, rebuilt (keeping what still fits) on model change.

    ``value()`` is the input to send (unset parameters left out); ``problems()`` lists what is
    wrong, by parameter, using the catalog's own ``validate``; each problem is also shown under
    its control.
    """

    def __init__(self, model: str = "nano-banana", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_class("mountsea-form")
        self.spec: ModelSpec = catalog.spec(model)
        self.controls: dict[str, ParamControl] = {}
        self._listeners: list[FormListener] = []
        self._quiet = False
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
        """The cleaned input to send; raises :class:`ValidationError` naming every problem."""
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
        """Call ``listener(form)`` after every change (values or model)."""
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
        self.children = [control.box for control in self.controls.values()]
        for control in old:
            control.close()

    def _control_changed(self) -> None:
        if not self._quiet:
            self.refresh()

    def refresh(self) -> None:
        """Re-check every value, show each problem under its control, tell the listeners."""
        try:
            self.validate()
            problems: list[Problem] = []
        except ValidationError as exc:
            problems = exc.problems
        by_param: dict[str, str] = {}
        for problem in problems:
            text = problem.message
            if problem.allowed and problem.message != "is required":
                text += f" (allowed: {problem.allowed})"
            by_param.setdefault(problem.param, text)
        self._problems = by_param
        for name, control in self.controls.items():
            message = by_param.get(name)
            # "is required" on an empty prompt is not an error yet: it disables Generate, and
            # the Generate button says why, without shouting at a form that was just opened.
            control.show_error(None if message == "is required" else message)
        for listener in list(self._listeners):
            listener(self)

    def __repr__(self) -> str:
        return f"<Form {self.model}: {len(self.controls)} controls, {len(self._problems)} problems>"
