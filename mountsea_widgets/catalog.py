"""Model catalog: every hub image model's parameters, defaults and rules, and input validation.

The data comes from ``data/models.json`` (a bundled copy of the hub reference data). The
client, the simulator and the widgets all read this one catalog, so a rule lives in one place.

>>> import mountsea_widgets as mw
>>> spec = mw.catalog["gpt-image-2"]
>>> spec.validate({"prompt": "a poster", "image_size": {"width": 1536, "height": 1024}})
{'prompt': 'a poster', 'image_size': {'width': 1536, 'height': 1024}}
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Protocol

from .errors import Problem, ValidationError

#: Most reference images an edit model accepts from us. The hub documents no limit; Google's
#: models take up to 14 references and the older Mountsea endpoint allowed 10 MB per URL, so we
#: cap at 10 to fail early and clearly rather than be refused (or billed) by the provider.
MAX_IMAGE_URLS = 10
#: Longest data: URI we send in ``image_urls`` (about 10 MB of image once decoded).
MAX_DATA_URI_CHARS = 14_000_000
#: Most data: URI characters in one request's ``image_urls`` together (about 20 MB of images):
#: the whole JSON body travels in one POST, and the hub documents no body limit.
MAX_DATA_URI_TOTAL_CHARS = 26_700_000

#: How long a run of each model usually takes, in seconds. Not documented by the hub: these are
#: our working estimates (upstream latency reports); they drive progress bars and poll timing,
#: and are refined from measured durations once the history knows better.
TYPICAL_SECONDS: dict[str, float] = {
    "nano-banana": 6.0,
    "nano-banana-2": 10.0,
    "nano-banana-pro": 20.0,
    "gpt-image-2": 35.0,
    "nano-banana-edit": 8.0,
    "nano-banana-2-edit": 12.0,
    "nano-banana-pro-edit": 24.0,
    "gpt-image-2-edit": 40.0,
}

#: Parameters the reference page marks as unusable, with the reason shown to users.
_UNAVAILABLE: dict[tuple[str, str], str] = {
    ("nano-banana-pro", "enable_web_search"): "disabled on this platform (hub reference page)",
}

_DATA_URI = re.compile(r"^data:image/[a-z0-9.+-]+(;[a-z0-9=.+-]+)*;base64,", re.IGNORECASE)


@dataclass(frozen=True)
class SizeRules:
    """Rules for a custom ``{"width", "height"}`` image size (gpt-image-2 family)."""

    multiple_of: int = 16
    max_edge: int = 3840
    max_ratio: float = 3.0
    min_pixels: int = 655_360
    max_pixels: int = 8_294_400

    def check(self, width: int, height: int) -> list[str]:
        """Every rule the size breaks, as sentences (empty when the size is valid)."""
        broken: list[str] = []
        if width <= 0 or height <= 0:
            return ["width and height must be positive"]
        if width % self.multiple_of or height % self.multiple_of:
            broken.append(f"width and height must be multiples of {self.multiple_of}")
        if max(width, height) > self.max_edge:
            broken.append(f"the longest edge must be at most {self.max_edge} px")
        if max(width, height) > self.max_ratio * min(width, height):
            broken.append(f"the long/short edge ratio must be at most {self.max_ratio:g}:1")
        pixels = width * height
        if not self.min_pixels <= pixels <= self.max_pixels:
            broken.append(
                f"width x height must be between {self.min_pixels:,} and {self.max_pixels:,}"
                f" pixels (got {pixels:,})"
            )
        return broken

    def describe(self) -> str:
        """One line stating all the rules, for tooltips and error messages."""
        return (
            f"{{width, height}} multiples of {self.multiple_of}, longest edge <= {self.max_edge},"
            f" ratio <= {self.max_ratio:g}:1, {self.min_pixels:,}-{self.max_pixels:,} pixels"
        )


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of one model.

    ``type`` is one of ``integer``, ``string``, ``boolean``, ``string|object`` (a preset name or a
    ``{"width", "height"}`` size) and ``array<string>`` (URLs). ``default`` is ``None`` where the
    reference gives none; ``unavailable`` holds a reason when the hub disables the parameter.
    """

    name: str
    type: str
    required: bool = False
    default: Any = None
    enum: tuple[str, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None
    size_rules: SizeRules | None = None
    description: str = ""
    note: str = ""
    source: str = ""
    unavailable: str | None = None

    @property
    def allowed(self) -> str:
        """What values are allowed, in words (used in errors and tooltips)."""
        if self.type == "string|object":
            presets = ", ".join(self.enum or ())
            rules = self.size_rules.describe() if self.size_rules else "{width, height}"
            return f"a preset ({presets}) or {rules}"
        if self.enum is not None:
            return "one of " + ", ".join(self.enum)
        if self.type == "integer":
            if self.minimum is not None and self.maximum is not None:
                return f"an integer from {self.minimum} to {self.maximum}"
            if self.minimum is not None:
                return f"an integer >= {self.minimum}"
            return "an integer"
        if self.type == "boolean":
            return "true or false"
        if self.type == "array<string>":
            return (
                f"a list of 1 to {MAX_IMAGE_URLS} http(s) URLs or data:image URIs; data URIs up"
                f" to about {_megabytes(MAX_DATA_URI_CHARS)} MB of image each,"
                f" {_megabytes(MAX_DATA_URI_TOTAL_CHARS)} MB in all"
            )
        return "a string"

    def check(self, value: Any) -> tuple[Any, str | None]:
        """Normalise ``value`` for this parameter: ``(clean_value, None)`` or ``(None, reason)``."""
        checker = _CHECKERS[self.type]
        return checker(self, value)


@dataclass(frozen=True)
class ModelSpec:
    """One hub model: identity, parameters in the reference order, and validation."""

    id: str
    title: str
    vendor: str
    mode: str
    summary: str
    params: tuple[ParamSpec, ...]
    example_input: Mapping[str, Any] | None = None
    doc_status: str = ""
    typical_seconds: float = 10.0
    _by_name: dict[str, ParamSpec] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_name.update({p.name: p for p in self.params})

    @property
    def is_edit(self) -> bool:
        """True for image-to-image (edit) models, which need ``image_urls``."""
        return self.mode == "image-to-image"

    @property
    def names(self) -> list[str]:
        """Parameter names in the reference order."""
        return [p.name for p in self.params]

    def has(self, name: str) -> bool:
        """Whether this model takes a parameter called ``name``."""
        return name in self._by_name

    def param(self, name: str) -> ParamSpec:
        """The spec of parameter ``name`` (KeyError with a suggestion if it does not exist)."""
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"{self.id} has no parameter {name!r}{self._suggest(name)}") from None

    def defaults(self) -> dict[str, Any]:
        """The documented defaults (only parameters that have one), in reference order."""
        return {p.name: p.default for p in self.params if p.default is not None}

    def validate(self, input: Mapping[str, Any]) -> dict[str, Any]:
        """Check ``input`` against every rule and return the cleaned dict to send.

        Unset values (``None``, blank strings) are dropped; ``safety_tolerance`` given as an int
        becomes its string. Raises :class:`ValidationError` listing *every* problem at once.
        """
        if not isinstance(input, Mapping):
            raise ValidationError(
                self.id, [Problem("input", f"must be a dict, got {type(input).__name__}")]
            )
        problems: list[Problem] = []
        clean: dict[str, Any] = {}
        for name, value in input.items():
            spec = self._by_name.get(name)
            if spec is None:
                problems.append(
                    Problem(
                        str(name),
                        f"unknown parameter for {self.id}{self._suggest(str(name))}",
                        value,
                        "one of " + ", ".join(self.names),
                    )
                )
                continue
            if _is_unset(value):
                continue
            if spec.unavailable and value is not False:
                problems.append(Problem(name, f"not available: {spec.unavailable}", value))
                continue
            cleaned, reason = spec.check(value)
            if reason is not None:
                problems.append(Problem(name, reason, value, spec.allowed))
            else:
                clean[name] = cleaned
        for spec in self.params:
            if spec.required and spec.name not in clean and not _named_problem(problems, spec):
                problems.append(Problem(spec.name, "is required", None, spec.allowed))
        if problems:
            raise ValidationError(self.id, problems)
        return clean

    def input_schema(self) -> dict[str, Any]:
        """A JSON-Schema description of the input (served by the simulator's model endpoint)."""
        properties: dict[str, Any] = {}
        for p in self.params:
            properties[p.name] = _json_schema(p)
        return {
            "type": "object",
            "properties": properties,
            "required": [p.name for p in self.params if p.required],
            "additionalProperties": False,
        }

    def _suggest(self, name: str) -> str:
        close = difflib.get_close_matches(name, self.names, n=1, cutoff=0.6)
        return f"; did you mean {close[0]!r}?" if close else ""


class LiveSource(Protocol):
    """What :meth:`Catalog.refresh` and :meth:`Catalog.diff` hand their work to (the live
    catalog module attaches one; the catalog itself never talks to the network)."""

    def refresh(self, catalog: Catalog, client: Any) -> Any:
        """Fetch the hub's models and schemas and merge them over ``catalog``'s bundled ones."""

    def diff(self, catalog: Catalog) -> Any:
        """What differs between the bundled models and the live ones."""


class Catalog(Mapping[str, ModelSpec]):
    """All hub image models by id, iterated in the reference order (text-to-image first).

    The bundled models are kept apart (:attr:`bundled`); a live catalog fetched from the hub
    (:meth:`refresh`) is merged over them with :meth:`install`, and :meth:`diff` says what
    differs.
    """

    def __init__(self, models: list[ModelSpec]) -> None:
        self._models = {m.id: m for m in models}
        self._bundled = dict(self._models)
        self._live_source: LiveSource | None = None

    @property
    def bundled(self) -> Mapping[str, ModelSpec]:
        """The models as bundled with the package (before any live catalog was merged)."""
        return dict(self._bundled)

    def install(self, models: Mapping[str, ModelSpec]) -> None:
        """Use ``models`` (bundled ones replaced, new ones added after them); an empty mapping
        goes back to the bundled catalog. Called by the live catalog, not by users."""
        merged = dict(self._bundled)
        merged.update(models)
        self._models = merged

    def attach_live_source(self, source: LiveSource) -> None:
        """Where :meth:`refresh` and :meth:`diff` are carried out (set once, at import)."""
        self._live_source = source

    def refresh(self, client: Any = None) -> Any:
        """Fetch the hub's model list and every model's ``input_schema`` now, and merge them
        over the bundled catalog; returns :meth:`diff`. ``client``: an ``mw.Client`` or
        ``mw.AsyncClient`` naming the hub (default: the configured one). A hub that does not
        answer in time, or answers in a layout this version cannot read, leaves the bundled
        catalog in use with one warning."""
        return self._source().refresh(self, client)

    def diff(self) -> Any:
        """What differs between the bundled catalog and the live one last fetched: new models,
        new parameters, new enum values, and values the hub no longer lists."""
        return self._source().diff(self)

    def _source(self) -> LiveSource:
        if self._live_source is None:
            raise RuntimeError(
                "this catalog has no live source; use mountsea_widgets.catalog (mw.catalog)"
            )
        return self._live_source

    def __getitem__(self, model_id: str) -> ModelSpec:
        try:
            return self._models[model_id]
        except KeyError:
            close = difflib.get_close_matches(str(model_id), list(self._models), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise KeyError(
                f"unknown model {model_id!r}{hint} (models: {', '.join(self._models)})"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._models)

    def __len__(self) -> int:
        return len(self._models)

    def __repr__(self) -> str:
        return f"Catalog({list(self._models)})"

    @property
    def text_to_image(self) -> list[str]:
        """Ids of the text-to-image models."""
        return [m.id for m in self._models.values() if not m.is_edit]

    @property
    def edit(self) -> list[str]:
        """Ids of the image-to-image (edit) models."""
        return [m.id for m in self._models.values() if m.is_edit]

    def spec(self, model_id: str) -> ModelSpec:
        """Same as ``catalog[model_id]``, but raises :class:`ValidationError` for unknown ids."""
        if model_id in self._models:
            return self._models[model_id]
        close = difflib.get_close_matches(str(model_id), list(self._models), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValidationError(
            str(model_id),
            [Problem("model", f"unknown model{hint}", model_id, ", ".join(self._models))],
        )


# --- per-type checks --------------------------------------------------------------------------


def _is_unset(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _named_problem(problems: list[Problem], spec: ParamSpec) -> bool:
    return any(p.param == spec.name for p in problems)


def _check_integer(spec: ParamSpec, value: Any) -> tuple[Any, str | None]:
    # bool is an int subclass in Python; True as a seed is a bug, not a 1.
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer() and math.isfinite(value):
            value = int(value)
        else:
            return None, f"{value!r} is not an integer"
    if spec.minimum is not None and value < spec.minimum:
        return None, f"{value} is below the minimum {spec.minimum}"
    if spec.maximum is not None and value > spec.maximum:
        return None, f"{value} is above the maximum {spec.maximum}"
    return value, None


def _check_boolean(spec: ParamSpec, value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, bool):
        return None, f"{value!r} is not true or false"
    return value, None


def _check_string(spec: ParamSpec, value: Any) -> tuple[Any, str | None]:
    # Documented leniency: enums of digit strings (safety_tolerance) accept the int, e.g. 4 → "4".
    if (
        spec.enum is not None
        and isinstance(value, int)
        and not isinstance(value, bool)
        and str(value) in spec.enum
    ):
        return str(value), None
    if not isinstance(value, str):
        return None, f"{value!r} is not a string"
    if spec.enum is not None and value not in spec.enum:
        return None, f"{value!r} is not allowed"
    unsendable = _not_utf8(value)
    if unsendable:
        return None, unsendable
    return value, None


def _not_utf8(text: str) -> str | None:
    """Why ``text`` cannot be sent as UTF-8 JSON (a lone surrogate, e.g. from a bad paste)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (
            f"contains a character that is not valid Unicode text (an unpaired surrogate at "
            f"position {exc.start}) and cannot be sent as UTF-8"
        )
    return None


def _check_size(spec: ParamSpec, value: Any) -> tuple[Any, str | None]:
    if isinstance(value, str):
        if spec.enum is not None and value not in spec.enum:
            return None, f"{value!r} is not a preset"
        return value, None
    if not isinstance(value, Mapping):
        return None, f"{value!r} is neither a preset name nor a {{width, height}} dict"
    extra = sorted(set(value) - {"width", "height"})
    if extra or "width" not in value or "height" not in value:
        return None, f"a custom size needs exactly 'width' and 'height' (got {sorted(value)})"
    width, height = value["width"], value["height"]
    for side, number in (("width", width), ("height", height)):
        if isinstance(number, bool) or not isinstance(number, int):
            return None, f"{side} {number!r} is not an integer"
    rules = spec.size_rules or SizeRules()
    broken = rules.check(width, height)
    if broken:
        return None, f"{width}x{height} is not allowed: " + "; ".join(broken)
    return {"width": width, "height": height}, None


def _check_urls(spec: ParamSpec, value: Any) -> tuple[Any, str | None]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        return None, f"{type(value).__name__} is not a list of URLs"
    if not value:
        return None, "needs at least one image URL"
    if len(value) > MAX_IMAGE_URLS:
        return None, f"{len(value)} images given; at most {MAX_IMAGE_URLS} are accepted"
    inline = 0
    for index, url in enumerate(value):
        if not isinstance(url, str):
            return None, f"item {index} is not a string"
        unsendable = _not_utf8(url)
        if unsendable:
            return None, f"item {index} {unsendable}"
        if _DATA_URI.match(url):
            if len(url) > MAX_DATA_URI_CHARS:
                return None, (
                    f"item {index} is a data URI of {len(url):,} characters; at most"
                    f" {MAX_DATA_URI_CHARS:,} (about {_megabytes(MAX_DATA_URI_CHARS)} MB of image)"
                    " each: send a smaller image (e.g. JPEG) or an http(s) URL"
                )
            inline += len(url)
            continue
        if not re.match(r"^https?://[^\s/]+", url, re.IGNORECASE):
            return None, f"item {index} ({url[:60]!r}) is not an http(s) URL or data:image URI"
        if re.search(r"[\s\x00-\x1f\x7f]", url):
            return None, (
                f"item {index} ({url[:60]!r}) holds a space, a line break or another control "
                "character, which a URL cannot (write a space in a path as %20; put one URL "
                "per item)"
            )
    if inline > MAX_DATA_URI_TOTAL_CHARS:
        return None, (
            f"the data URIs add up to {inline:,} characters; at most"
            f" {MAX_DATA_URI_TOTAL_CHARS:,} (about {_megabytes(MAX_DATA_URI_TOTAL_CHARS)} MB of"
            " images) per request: send some images as http(s) URLs"
        )
    return list(value), None


def _megabytes(data_uri_chars: int) -> int:
    """About how many MB of image ``data_uri_chars`` base64 characters carry."""
    return round(data_uri_chars * 3 / 4 / 1_000_000)


def _check_url(spec: ParamSpec, value: Any) -> tuple[Any, str | None]:
    urls, reason = _check_urls(spec, [value] if isinstance(value, str) else value)
    if reason is not None or not isinstance(value, str):
        return None, reason or f"{value!r} is not a URL"
    return urls[0], None


_CHECKERS: dict[str, Any] = {
    "integer": _check_integer,
    "boolean": _check_boolean,
    "string": _check_string,
    "string|object": _check_size,
    "array<string>": _check_urls,
    "url": _check_url,
}


def _json_schema(p: ParamSpec) -> dict[str, Any]:
    base: dict[str, Any] = {"description": p.description}
    if p.default is not None:
        base["default"] = p.default
    if p.type == "integer":
        base["type"] = "integer"
        if p.minimum is not None:
            base["minimum"] = p.minimum
        if p.maximum is not None:
            base["maximum"] = p.maximum
    elif p.type == "boolean":
        base["type"] = "boolean"
    elif p.type in ("string", "url"):
        base["type"] = "string"
        if p.enum is not None:
            base["enum"] = list(p.enum)
    elif p.type == "string|object":
        rules = p.size_rules or SizeRules()
        base["oneOf"] = [
            {"type": "string", "enum": list(p.enum or ())},
            {
                "type": "object",
                "properties": {
                    "width": {"type": "integer", "multipleOf": rules.multiple_of},
                    "height": {"type": "integer", "multipleOf": rules.multiple_of},
                },
                "required": ["width", "height"],
                "description": rules.describe(),
            },
        ]
    elif p.type == "array<string>":
        base["type"] = "array"
        base["items"] = {"type": "string"}
        base["minItems"] = 1
        base["maxItems"] = MAX_IMAGE_URLS
    if p.unavailable:
        base["x-unavailable"] = p.unavailable
    return base


# --- loading ------------------------------------------------------------------------------------

#: The seeds accepted where the hub documents no range: the integers every JSON reader keeps
#: exactly, -(2**53 - 1) to 2**53 - 1 (a gateway parsing numbers as doubles would silently turn
#: a larger seed into another one, and the image would not be reproducible).
SEED_RANGE = (-(2**53 - 1), 2**53 - 1)


def _param_from_json(model_id: str, raw: Mapping[str, Any]) -> ParamSpec:
    rng = raw.get("range") or {}
    ptype = raw["type"]
    size_rules = None
    minimum = maximum = None
    if ptype == "string|object":
        ratio = str(rng.get("max_aspect_ratio", "3:1")).split(":")
        size_rules = SizeRules(
            multiple_of=int(rng.get("multiple_of", 16)),
            max_edge=int(rng.get("max_edge_px", 3840)),
            max_ratio=float(ratio[0]) / float(ratio[1]),
            min_pixels=int(rng.get("min_total_pixels", 655_360)),
            max_pixels=int(rng.get("max_total_pixels", 8_294_400)),
        )
    elif "min" in rng or "max" in rng:
        minimum, maximum = rng.get("min"), rng.get("max")
    elif ptype == "integer" and raw["name"] == "seed":
        minimum, maximum = SEED_RANGE  # the hub documents none: see SEED_RANGE
    if ptype == "string" and raw["name"].endswith("_url"):
        ptype = "url"  # mask_url: one URL, checked like image_urls' items
    enum = raw.get("enum")
    return ParamSpec(
        name=raw["name"],
        type=ptype,
        required=bool(raw.get("required")),
        default=raw.get("default"),
        enum=tuple(enum) if enum is not None else None,
        minimum=minimum,
        maximum=maximum,
        size_rules=size_rules,
        description=raw.get("description", ""),
        note=raw.get("note", ""),
        source=raw.get("source", ""),
        unavailable=_UNAVAILABLE.get((model_id, raw["name"])),
    )


def load_catalog(data: Mapping[str, Any] | None = None) -> Catalog:
    """Build a :class:`Catalog` from the bundled ``models.json`` (or from ``data``)."""
    if data is None:
        text = resources.files(__package__).joinpath("data/models.json").read_text("utf-8")
        data = json.loads(text)
    models = []
    for raw in data["models"]:
        models.append(
            ModelSpec(
                id=raw["id"],
                title=raw.get("title", raw["id"]),
                vendor=raw.get("vendor", ""),
                mode=raw.get("mode", "text-to-image"),
                summary=raw.get("summary", ""),
                params=tuple(_param_from_json(raw["id"], p) for p in raw["params"]),
                example_input=raw.get("example_input"),
                doc_status=raw.get("doc_status", ""),
                typical_seconds=TYPICAL_SECONDS.get(raw["id"], 10.0),
            )
        )
    return Catalog(models)


#: The catalog of every hub image model (``mw.catalog``).
catalog: Catalog = load_catalog()
