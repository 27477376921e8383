"""Merging the hub's live models over the bundled catalog, and what differs (``diff()``).

A new model is added; a new enum value or a wider range is accepted; a value the hub no longer
lists stays accepted with a note; what only the bundled catalog knows (size rules, disabled
parameters) is kept; a parameter whose type disagrees keeps the bundled rules.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ._live_schema import MAX_ENUM, LayoutError, ModelEntry, parse_model_detail, parse_model_list
from .catalog import ModelSpec, ParamSpec


@dataclass
class CatalogDiff:
    """What differs between the bundled catalog and the live one (``mw.catalog.diff()``).

    Every name and value in it came from the hub: shown as text, and HTML-escaped in
    ``_repr_html_``.
    """

    source: str = "bundled catalog only (no live catalog fetched)"
    #: Models only the hub lists (usable now).
    new_models: list[str] = field(default_factory=list)
    #: Bundled models the hub does not list (still usable).
    unlisted_models: list[str] = field(default_factory=list)
    #: Parameters only the hub lists, by model.
    new_params: dict[str, list[str]] = field(default_factory=dict)
    #: Values the hub added, by ``"model.param"``.
    new_values: dict[str, list[str]] = field(default_factory=dict)
    #: Values the hub no longer lists (still accepted, with a note), by ``"model.param"``.
    retired_values: dict[str, list[str]] = field(default_factory=dict)
    #: Ranges the hub widened, by ``"model.param"``: ``"1-4 -> 1-6"``.
    changed_ranges: dict[str, str] = field(default_factory=dict)
    #: Models the hub lists whose schema could not be read or fetched (kept as bundled).
    unreadable: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when the live catalog adds or retires nothing."""
        return not (
            self.new_models
            or self.unlisted_models
            or self.new_params
            or self.new_values
            or self.retired_values
            or self.changed_ranges
        )

    def lines(self) -> list[str]:
        """The differences, one sentence each."""
        out = [f"Source: {self.source}"]
        out += [f"new model: {m}" for m in self.new_models]
        out += [f"not listed by the hub (still usable): {m}" for m in self.unlisted_models]
        out += [f"new parameters of {m}: {', '.join(p)}" for m, p in self.new_params.items()]
        out += [f"new values of {k}: {', '.join(v)}" for k, v in self.new_values.items()]
        out += [
            f"no longer listed by the hub (still accepted): {k} = {', '.join(v)}"
            for k, v in self.retired_values.items()
        ]
        out += [f"range of {k}: {v}" for k, v in self.changed_ranges.items()]
        out += [f"schema not read (kept as bundled): {m}" for m in self.unreadable]
        if self.empty and len(out) == 1:
            out.append("no differences")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def __repr__(self) -> str:
        return f"<CatalogDiff {len(self.new_models)} new models, {len(self.new_values)} new values>"

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(line)}</li>" for line in self.lines())
        return f"<ul class='mountsea-catalog-diff'>{items}</ul>"


def merge_param(bundled: ParamSpec, live: ParamSpec) -> tuple[ParamSpec, list[str], list[str]]:
    """The bundled parameter widened by the live one: ``(spec, new values, retired values)``.

    Types that disagree keep the bundled spec (its rules are the ones we can check).
    """
    if bundled.type != live.type:
        return bundled, [], []
    merged = bundled
    added: list[str] = []
    retired: list[str] = []
    if bundled.enum is not None and live.enum is not None:
        added = [v for v in live.enum if v not in bundled.enum]
        retired = [v for v in bundled.enum if v not in live.enum]
        choices = (*bundled.enum, *added)[: MAX_ENUM * 2]
        note = bundled.note
        if retired:
            extra = f"The hub no longer lists {', '.join(retired)} (still accepted here)."
            note = f"{note} {extra}".strip()
        merged = replace(merged, enum=tuple(choices), note=note)
    low = _lowest(bundled.minimum, live.minimum)
    high = _highest(bundled.maximum, live.maximum)
    if (low, high) != (bundled.minimum, bundled.maximum):
        merged = replace(merged, minimum=low, maximum=high)
    return merged, added, retired


def _lowest(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else min(a, b)


def _highest(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else max(a, b)


def merge_model(bundled: ModelSpec, live: ModelSpec, diff: CatalogDiff) -> ModelSpec:
    """``bundled`` with the live model's new parameters and values (recorded in ``diff``)."""
    params: list[ParamSpec] = []
    live_names = set(live.names)
    for spec in bundled.params:
        if spec.name not in live_names:
            params.append(spec)
            continue
        merged, added, retired = merge_param(spec, live.param(spec.name))
        key = f"{bundled.id}.{spec.name}"
        if added:
            diff.new_values[key] = added
        if retired:
            diff.retired_values[key] = retired
        if (merged.minimum, merged.maximum) != (spec.minimum, spec.maximum):
            diff.changed_ranges[key] = (
                f"{spec.minimum}-{spec.maximum} -> {merged.minimum}-{merged.maximum}"
            )
        params.append(merged)
    new = [p for p in live.params if not bundled.has(p.name)]
    if new:
        diff.new_params[bundled.id] = [p.name for p in new]
    return replace(bundled, params=(*params, *new), _by_name={})


def build(
    answers: Mapping[str, Any], bundled: Mapping[str, ModelSpec], source: str
) -> tuple[dict[str, ModelSpec], CatalogDiff]:
    """The merged models and the diff from the hub's raw ``answers``.

    Raises :class:`LayoutError` when the model list cannot be read at all.
    """
    entries: list[ModelEntry] = parse_model_list(answers.get("list"))
    raw_details = answers.get("details")
    details: Mapping[str, Any] = raw_details if isinstance(raw_details, Mapping) else {}
    diff = CatalogDiff(source=source)
    models: dict[str, ModelSpec] = {}
    for entry in entries:
        known = bundled.get(entry.id)
        try:
            live = parse_model_detail(entry, details.get(entry.id), known)
        except LayoutError:
            diff.unreadable.append(entry.id)
            continue
        if known is None:
            models[entry.id] = live
            diff.new_models.append(entry.id)
        else:
            models[entry.id] = merge_model(known, live, diff)
    listed = {entry.id for entry in entries}
    diff.unlisted_models = [m for m in bundled if m not in listed]
    if entries and not models:
        raise LayoutError("no model's input_schema could be read")
    return models, diff
