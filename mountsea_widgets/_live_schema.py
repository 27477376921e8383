"""Reading the hub's model list and ``input_schema`` answers into catalog specs, defensively.

Nothing from the server is trusted: every answer is plain JSON data checked here before it
becomes a :class:`~mountsea_widgets.catalog.ModelSpec`. Two layouts of ``input_schema`` are read:

- a JSON-Schema-like object: ``{"type": "object", "properties": {name: {"type", "enum",
  "default", "minimum", "maximum", "description", "oneOf"}}, "required": [...]}``;
- a ``params`` list like the bundled ``data/models.json``: ``{"params": [{"name", "type",
  "required", "default", "enum", "range": {"min", "max"}, "description"}]}`` (also a bare list).

Any other layout raises :class:`LayoutError` (the caller keeps the bundled catalog). Model ids
and parameter names must be short and of a safe character set; texts are cut to a bounded
length and stripped of control characters; lists and numbers are bounded. A parameter of a
type no control can show (e.g. a float) is left out, so the hub's default applies; a model
with such a *required* parameter is refused.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .catalog import SEED_RANGE, TYPICAL_SECONDS, ModelSpec, ParamSpec, SizeRules

#: A model id: letters, digits, dot, dash and underscore, starting with a letter or digit.
MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
#: A parameter name: an identifier of at most 64 characters.
PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
#: Most models read from one list, parameters from one schema, choices from one enum.
MAX_MODELS = 200
MAX_PARAMS = 64
MAX_ENUM = 100
#: Longest enum value, title and description kept (longer texts are cut).
MAX_CHOICE_CHARS = 64
MAX_TITLE_CHARS = 120
MAX_TEXT_CHARS = 500
#: Integer bounds and defaults beyond this are not believed (the JSON-safe integer range).
MAX_INTEGER = 2**53 - 1
#: Expected seconds a hub may announce for a model (outside: the catalog's own default).
SECONDS_RANGE = (0.5, 3600.0)

_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_MODES = ("text-to-image", "image-to-image")


class LayoutError(ValueError):
    """The hub's answer is not in a layout this version can read (the message says how)."""


@dataclass(frozen=True)
class ModelEntry:
    """One model of the hub's list: its id and the descriptive fields that were usable."""

    id: str
    title: str = ""
    vendor: str = ""
    mode: str = ""
    summary: str = ""


def clean_text(value: Any, limit: int = MAX_TEXT_CHARS) -> str:
    """``value`` as a single line of at most ``limit`` characters ("" when not a string)."""
    if not isinstance(value, str):
        return ""
    text = _CONTROL_CHARS.sub(" ", value).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def valid_model_id(value: Any) -> str | None:
    """``value`` when it is a safe model id, else None."""
    return value if isinstance(value, str) and MODEL_ID.match(value) else None


def parse_model_list(payload: Any) -> list[ModelEntry]:
    """The models of a ``GET /hub/v1/models?capability=image`` answer.

    Accepted: ``{"data": [...]}``, ``{"models": [...]}``, ``{"items": [...]}`` or a bare list
    (also inside a ``{"code": 0, "data": {...}}`` wrapper, as the hub wraps other answers),
    whose items are ids or objects with ``id`` (or ``model``). Items of another capability, or
    with an unsafe id, are skipped; an answer with no readable list raises :class:`LayoutError`.
    """
    items: Any = payload
    for _level in range(2):  # the list itself, or the list inside a wrapper
        if not isinstance(items, Mapping):
            break
        items = next((items[key] for key in ("data", "models", "items") if key in items), None)
    if not isinstance(items, list):
        raise LayoutError("the model list is neither a list nor an object with a 'data' list")
    entries: dict[str, ModelEntry] = {}
    for item in items[: MAX_MODELS * 2]:
        entry = _entry(item)
        if entry is not None and entry.id not in entries:
            entries[entry.id] = entry
        if len(entries) >= MAX_MODELS:
            break
    if items and not entries:
        raise LayoutError("no item of the model list has a usable model id")
    return list(entries.values())


def _entry(item: Any) -> ModelEntry | None:
    if isinstance(item, str):
        model_id = valid_model_id(item)
        return ModelEntry(model_id) if model_id else None
    if not isinstance(item, Mapping):
        return None
    capability = item.get("capability")
    if capability not in (None, "image"):
        return None
    model_id = valid_model_id(item.get("id", item.get("model")))
    if model_id is None:
        return None
    mode = item.get("mode")
    return ModelEntry(
        id=model_id,
        title=clean_text(item.get("title") or item.get("name"), MAX_TITLE_CHARS),
        vendor=clean_text(item.get("vendor"), MAX_TITLE_CHARS),
        mode=mode if mode in _MODES else "",
        summary=clean_text(item.get("summary") or item.get("description")),
    )


# --- one model's detail -------------------------------------------------------------------------


def parse_model_detail(
    entry: ModelEntry, payload: Any, bundled: ModelSpec | None = None
) -> ModelSpec:
    """The spec of one model from its ``GET /hub/v1/models/{model}`` answer.

    ``bundled`` is the bundled spec of the same id, if any: its size rules, unavailable marks
    and typical time are kept (the hub's schema does not carry them). Raises
    :class:`LayoutError` when ``input_schema`` is in no layout this module reads.
    """
    if isinstance(payload, Mapping) and "input_schema" not in payload:
        wrapped = payload.get("data")  # the {"code": 0, "data": {...}} wrapper
        payload = wrapped if isinstance(wrapped, Mapping) else payload
    if not isinstance(payload, Mapping):
        raise LayoutError(f"the answer for {entry.id} is not a JSON object")
    answered = payload.get("id", payload.get("model", entry.id))
    if answered != entry.id:
        raise LayoutError(f"the answer for {entry.id} describes another model")
    schema = payload.get("input_schema", payload.get("inputSchema"))
    params = parse_input_schema(entry.id, schema, bundled)
    if not any(p.name == "prompt" for p in params):
        raise LayoutError(f"the input_schema of {entry.id} has no prompt parameter")
    detail_entry = _entry({**payload, "id": entry.id})
    mode = entry.mode or (detail_entry.mode if detail_entry else "")
    if not mode:
        mode = bundled.mode if bundled else _mode_of(params)
    title = entry.title or (detail_entry.title if detail_entry else "")
    summary = entry.summary or (detail_entry.summary if detail_entry else "")
    vendor = entry.vendor or (detail_entry.vendor if detail_entry else "")
    return ModelSpec(
        id=entry.id,
        title=title or (bundled.title if bundled else entry.id),
        vendor=vendor or (bundled.vendor if bundled else ""),
        mode=mode,
        summary=summary or (bundled.summary if bundled else ""),
        params=tuple(params),
        example_input=_example(payload.get("example"), params),
        doc_status="live: read from the hub's model endpoint",
        typical_seconds=_seconds(payload.get("typical_seconds"), entry.id, bundled),
    )


def _mode_of(params: Sequence[ParamSpec]) -> str:
    needs_images = any(p.name == "image_urls" and p.required for p in params)
    return "image-to-image" if needs_images else "text-to-image"


def _seconds(value: Any, model_id: str, bundled: ModelSpec | None) -> float:
    if bundled is not None:
        return bundled.typical_seconds
    low, high = SECONDS_RANGE
    if isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high:
        return float(value)
    return TYPICAL_SECONDS.get(model_id, 10.0)


def _example(value: Any, params: Sequence[ParamSpec]) -> dict[str, Any] | None:
    """The hub's example input, kept only when every value passes its parameter's check."""
    if not isinstance(value, Mapping) or len(value) > MAX_PARAMS:
        return None
    by_name = {p.name: p for p in params}
    example: dict[str, Any] = {}
    for name, item in value.items():
        spec = by_name.get(name) if isinstance(name, str) else None
        if spec is None:
            return None
        clean, reason = spec.check(item)
        if reason is not None:
            return None
        example[name] = clean
    return example


def parse_input_schema(
    model_id: str, schema: Any, bundled: ModelSpec | None = None
) -> list[ParamSpec]:
    """The parameters an ``input_schema`` describes, in its order (see the module docs)."""
    if isinstance(schema, Mapping) and isinstance(schema.get("properties"), Mapping):
        return _from_json_schema(model_id, schema, bundled)
    raw_params = schema.get("params") if isinstance(schema, Mapping) else schema
    if isinstance(raw_params, list):
        return _from_params(model_id, raw_params, bundled)
    raise LayoutError(
        f"the input_schema of {model_id} has neither 'properties' (JSON Schema) nor a 'params' list"
    )


def _from_json_schema(
    model_id: str, schema: Mapping[str, Any], bundled: ModelSpec | None
) -> list[ParamSpec]:
    properties: Mapping[str, Any] = schema["properties"]
    required_list = schema.get("required")
    required = set(required_list) if isinstance(required_list, list) else set()
    raws = []
    for name, prop in list(properties.items())[: MAX_PARAMS + 1]:
        if not isinstance(prop, Mapping):
            raise LayoutError(f"{model_id}: property {clean_text(name, 64)!r} is not an object")
        raws.append({**prop, "name": name, "required": name in required})
    return _params(model_id, raws, bundled, _json_schema_param)


def _from_params(
    model_id: str, raw_params: list[Any], bundled: ModelSpec | None
) -> list[ParamSpec]:
    raws = []
    for raw in raw_params[: MAX_PARAMS + 1]:
        if not isinstance(raw, Mapping):
            raise LayoutError(f"{model_id}: an item of 'params' is not an object")
        raws.append(raw)
    return _params(model_id, raws, bundled, _params_param)


def _params(
    model_id: str,
    raws: Sequence[Mapping[str, Any]],
    bundled: ModelSpec | None,
    reader: Callable[[Mapping[str, Any]], ParamSpec | None],
) -> list[ParamSpec]:
    if len(raws) > MAX_PARAMS:
        raise LayoutError(f"{model_id}: more than {MAX_PARAMS} parameters")
    params: dict[str, ParamSpec] = {}
    for raw in raws:
        name = raw.get("name")
        if not isinstance(name, str) or not PARAM_NAME.match(name):
            raise LayoutError(f"{model_id}: a parameter name is missing or not a safe name")
        spec = reader(raw)
        if spec is None:
            if raw.get("required") is True:
                raise LayoutError(
                    f"{model_id}: required parameter {name!r} has a type we cannot send"
                )
            continue  # left out: the hub's own default applies
        known = bundled.param(name) if bundled is not None and bundled.has(name) else None
        params[name] = _with_bundled_extras(spec, known)
    return list(params.values())


def _with_bundled_extras(spec: ParamSpec, bundled: ParamSpec | None) -> ParamSpec:
    """What only the bundled catalog knows (size rules, unavailable, seed range, notes)."""
    if bundled is None or bundled.type != spec.type:
        if spec.type == "integer" and spec.name == "seed" and spec.minimum is None:
            return replace(spec, minimum=SEED_RANGE[0], maximum=SEED_RANGE[1])
        return spec
    return replace(
        spec,
        size_rules=spec.size_rules if spec.size_rules != SizeRules() else bundled.size_rules,
        unavailable=bundled.unavailable,
        note=bundled.note,
        source=bundled.source,
        description=spec.description or bundled.description,
        minimum=spec.minimum if spec.minimum is not None else bundled.minimum,
        maximum=spec.maximum if spec.maximum is not None else bundled.maximum,
    )


def _base(raw: Mapping[str, Any]) -> ParamSpec:
    """What every parameter has: its name, whether it is required, its description."""
    return ParamSpec(
        name=raw["name"],
        type="string",
        required=raw.get("required") is True,
        description=clean_text(raw.get("description")),
        source="hub",
    )


def _text(base: ParamSpec, enum: tuple[str, ...] | None, default: Any) -> ParamSpec | None:
    kind = "url" if enum is None and base.name.endswith("_url") else "string"
    return _built(replace(base, type=kind, enum=enum), default)


def _integer(base: ParamSpec, low: Any, high: Any, default: Any) -> ParamSpec | None:
    return _built(replace(base, type="integer", minimum=_bound(low), maximum=_bound(high)), default)


def _json_schema_param(raw: Mapping[str, Any]) -> ParamSpec | None:
    """One property of a JSON-Schema-like ``input_schema``."""
    base = _base(raw)
    kind = raw.get("type")
    default = raw.get("default")
    variants = raw.get("oneOf", raw.get("anyOf"))
    if isinstance(variants, list):
        return _size_param(base, variants, default)
    if raw.get("enum") is not None and _enum(raw.get("enum")) is None:
        return None  # choices we cannot read: never guessed to be free text
    if kind == "string":
        return _text(base, _enum(raw.get("enum")), default)
    if kind == "integer":
        return _integer(base, raw.get("minimum"), raw.get("maximum"), default)
    if kind == "boolean":
        return _built(replace(base, type="boolean"), default)
    if kind == "array":
        items = raw.get("items")
        if isinstance(items, Mapping) and items.get("type") == "string":
            return _url_list(base)
    return None


def _url_list(base: ParamSpec) -> ParamSpec | None:
    # The one list the catalog can check is a list of image URLs.
    return replace(base, type="array<string>") if base.name == "image_urls" else None


def _size_param(base: ParamSpec, variants: list[Any], default: Any) -> ParamSpec | None:
    """A ``oneOf`` of a preset name and a ``{width, height}`` object: an image size."""
    presets: tuple[str, ...] | None = None
    sized = False
    for variant in variants[:4]:
        if not isinstance(variant, Mapping):
            return None
        if variant.get("type") == "string":
            presets = _enum(variant.get("enum"))
        elif variant.get("type") == "object":
            props = variant.get("properties")
            sized = isinstance(props, Mapping) and {"width", "height"} <= set(props)
    if presets is None or not sized:
        return None
    return _built(
        replace(base, type="string|object", enum=presets, size_rules=SizeRules()), default
    )


def _params_param(raw: Mapping[str, Any]) -> ParamSpec | None:
    """One item of a ``params`` list (the bundled ``models.json`` layout)."""
    base = _base(raw)
    kind = raw.get("type")
    default = raw.get("default")
    enum = _enum(raw.get("enum"))
    if raw.get("enum") is not None and enum is None:
        return None  # choices we cannot read: never guessed to be free text
    given = raw.get("range")
    rng: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    if kind == "string":
        return _text(base, enum, default)
    if kind == "integer":
        return _integer(base, rng.get("min"), rng.get("max"), default)
    if kind == "boolean":
        return _built(replace(base, type="boolean"), default)
    if kind == "array<string>":
        return _url_list(base)
    if kind == "string|object" and enum is not None:
        return _size_param(base, [{"type": "string", "enum": list(enum)}, _SIZE_OBJECT], default)
    return None


_SIZE_OBJECT = {"type": "object", "properties": {"width": {}, "height": {}}}


def _enum(value: Any) -> tuple[str, ...] | None:
    """An enum's choices as strings; None when there is none or it is not a usable list."""
    if not isinstance(value, list) or not value or len(value) > MAX_ENUM:
        return None
    choices: list[str] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, str | int):
            return None
        text = str(item)
        if not text or len(text) > MAX_CHOICE_CHARS or _CONTROL_CHARS.search(text):
            return None
        if text not in choices:
            choices.append(text)
    return tuple(choices)


def _bound(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
        return None
    number = int(value)
    return number if -MAX_INTEGER <= number <= MAX_INTEGER else None


def _built(spec: ParamSpec, default: Any) -> ParamSpec | None:
    """``spec`` with the hub's default, when the default passes the parameter's own check."""
    if spec.minimum is not None and spec.maximum is not None and spec.minimum > spec.maximum:
        spec = replace(spec, minimum=None, maximum=None)  # a range that allows nothing is noise
    if default is None:
        return spec
    clean, reason = spec.check(default)
    return replace(spec, default=clean) if reason is None else spec
