"""What the simulator's model endpoints serve: ``input_schema`` layouts and extra models.

The real hub may add a model or a value before this package's bundled catalog knows it. To
test the live catalog end to end, a simulator can serve a catalog with extras
(:func:`with_extras`: the model :data:`EXTRA_MODEL` and the value :data:`EXTRA_VALUE`), which it
also accepts on submit, and answer ``GET /hub/v1/models/{model}`` in either layout the client
reads (``models_layout="json-schema"``, the default, or ``"params"``, the bundled
``models.json`` one) or in one it cannot read (``"unknown"``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..catalog import Catalog, ModelSpec, ParamSpec
from ..catalog import catalog as default_catalog

#: Layouts of ``input_schema`` the simulator can serve.
LAYOUTS = ("json-schema", "params", "unknown")
#: The model only an extended simulator lists.
EXTRA_MODEL = "nano-banana-lite"
#: ``(model, parameter, value)``: the enum value only an extended simulator accepts.
EXTRA_VALUE = ("nano-banana", "aspect_ratio", "2:1")
#: ``(model, parameter, value)``: a bundled value ``with_extras(retire=True)`` no longer lists.
RETIRED_VALUE = ("nano-banana", "output_format", "webp")


def extra_model() -> ModelSpec:
    """A small text-to-image model the bundled catalog does not know."""
    return ModelSpec(
        id=EXTRA_MODEL,
        title="Nano Banana Lite (simulated newcomer)",
        vendor="Google",
        mode="text-to-image",
        summary="A model only the simulator's live catalog lists.",
        params=(
            ParamSpec("prompt", "string", required=True, description="Text prompt."),
            ParamSpec("seed", "integer", minimum=0, maximum=2**31 - 1, description="Seed."),
            ParamSpec(
                "aspect_ratio",
                "string",
                default="1:1",
                enum=("1:1", "16:9", "9:16", "2:1"),
                description="Aspect ratio of the image.",
            ),
            ParamSpec(
                "num_images", "integer", default=1, minimum=1, maximum=2, description="Images."
            ),
            ParamSpec("fast_mode", "boolean", default=True, description="Trade detail for speed."),
        ),
        example_input={"prompt": "A paper boat on a pond", "aspect_ratio": "2:1"},
        typical_seconds=4.0,
    )


def with_extras(
    base: Catalog = default_catalog, *, model: bool = True, value: bool = True, retire: bool = False
) -> Catalog:
    """``base`` (bundled models) plus :data:`EXTRA_MODEL` and/or :data:`EXTRA_VALUE`, and
    without :data:`RETIRED_VALUE` when ``retire`` (listed nowhere, refused on submit)."""
    models = [base.bundled[m] for m in base.bundled]
    if value:
        models = _with_enum(models, EXTRA_VALUE, lambda enum, v: (*enum, v))
    if retire:
        models = _with_enum(models, RETIRED_VALUE, lambda enum, v: tuple(e for e in enum if e != v))
    if model:
        models.append(extra_model())
    return Catalog(models)


def _with_enum(
    models: list[ModelSpec],
    where: tuple[str, str, str],
    change: Callable[[tuple[str, ...], str], tuple[str, ...]],
) -> list[ModelSpec]:
    """``models`` with the enum of ``where``'s parameter changed by ``change(enum, value)``."""
    model_id, name, value = where
    changed = []
    for spec in models:
        if spec.id == model_id:
            params = tuple(
                replace(p, enum=change(p.enum or (), value)) if p.name == name else p
                for p in spec.params
            )
            spec = replace(spec, params=params, _by_name={})
        changed.append(spec)
    return changed


def input_schema(spec: ModelSpec, layout: str) -> Any:
    """``spec``'s input in ``layout`` (one of :data:`LAYOUTS`)."""
    if layout == "json-schema":
        return spec.input_schema()
    if layout == "params":
        return {"params": [_param(p) for p in spec.params]}
    if layout == "unknown":
        return {"fields": ";".join(spec.names), "version": 7}
    raise ValueError(f"models_layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")


def _param(p: ParamSpec) -> dict[str, Any]:
    """One parameter as in the bundled ``models.json``."""
    rng: dict[str, Any] | None = None
    if p.minimum is not None or p.maximum is not None:
        rng = {"min": p.minimum, "max": p.maximum}
    return {
        "name": p.name,
        "type": "string" if p.type == "url" else p.type,
        "required": p.required,
        "default": p.default,
        "enum": list(p.enum) if p.enum is not None else None,
        "range": rng,
        "description": p.description,
    }
