"""The live catalog's reading, merging and caching of hub answers (no sockets, no real time).

Realistic answers come from the simulator's in-process core (``Hub.handle``), hostile ones are
written here. Every answer is read into catalog specs by ``_live_schema`` and merged by
``_live_merge.build``, which must keep what the bundled catalog checks and refuse what it
cannot trust.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import mountsea_widgets as mw
from mountsea_widgets._live_cache import Cache
from mountsea_widgets._live_catalog import LiveCatalog
from mountsea_widgets._live_merge import CatalogDiff, build, merge_param
from mountsea_widgets._live_schema import (
    MAX_CHOICE_CHARS,
    MAX_ENUM,
    MAX_MODELS,
    MAX_PARAMS,
    MAX_TEXT_CHARS,
    LayoutError,
    ModelEntry,
    parse_input_schema,
    parse_model_detail,
    parse_model_list,
)
from mountsea_widgets.catalog import ModelSpec, ParamSpec, load_catalog
from mountsea_widgets.errors import LiveCatalogWarning, ValidationError
from mountsea_widgets.simulator import Hub, Request
from mountsea_widgets.simulator.live_models import EXTRA_MODEL, EXTRA_VALUE, with_extras

BUNDLED = load_catalog()


@pytest.fixture
def hub(request: pytest.FixtureRequest) -> Iterator[Hub]:
    """The in-process simulator core listing the extras, in the layout the test names."""
    layout = getattr(request, "param", "json-schema")
    core = Hub(prerender=False, catalog=with_extras(), models_layout=layout)
    yield core
    core.close()


def answers_of(hub: Hub) -> dict[str, Any]:
    """What a refresh fetches from ``hub``: the list and every model's detail."""
    listing = _get(hub, "/hub/v1/models", {"capability": "image"})
    details = {item["id"]: _get(hub, f"/hub/v1/models/{item['id']}") for item in listing["data"]}
    return {"list": listing, "details": details}


def _get(hub: Hub, path: str, query: dict[str, str] | None = None) -> Any:
    reply = hub.handle(Request("GET", path, query or {}))
    assert reply.status == 200, reply.body
    return json.loads(reply.body)


def _essentials(spec: ParamSpec) -> tuple[Any, ...]:
    """What validation depends on."""
    return (
        spec.name,
        spec.type,
        spec.required,
        spec.default,
        spec.enum,
        spec.minimum,
        spec.maximum,
        spec.size_rules,
        spec.unavailable,
    )


# --- both layouts read the hub's schemas without losing a rule ----------------------------------


@pytest.mark.parametrize("hub", ["json-schema", "params"], indirect=True)
def test_each_layout_reads_every_bundled_model_back_unchanged(hub: Hub) -> None:
    answers = answers_of(hub)
    models, diff = build(answers, BUNDLED.bundled, "test hub")
    for model_id, bundled in BUNDLED.bundled.items():
        merged = models[model_id]
        expected = [_essentials(p) for p in bundled.params]
        if model_id == EXTRA_VALUE[0]:
            expected = [
                _essentials(p) if p.name != EXTRA_VALUE[1] else _essentials(merged.param(p.name))
                for p in bundled.params
            ]
        assert [_essentials(p) for p in merged.params] == expected, model_id
        assert merged.mode == bundled.mode and merged.typical_seconds == bundled.typical_seconds
    assert diff.new_models == [EXTRA_MODEL]
    assert diff.new_values == {f"{EXTRA_VALUE[0]}.{EXTRA_VALUE[1]}": [EXTRA_VALUE[2]]}
    assert not diff.retired_values and not diff.new_params and not diff.changed_ranges
    assert not diff.unlisted_models and not diff.unreadable


@pytest.mark.parametrize("hub", ["json-schema", "params"], indirect=True)
def test_a_new_model_is_built_from_its_schema_and_validates_like_a_bundled_one(hub: Hub) -> None:
    models, _diff = build(answers_of(hub), BUNDLED.bundled, "test hub")
    lite = models[EXTRA_MODEL]
    assert lite.names == ["prompt", "seed", "aspect_ratio", "num_images", "fast_mode"]
    assert lite.param("prompt").required and lite.mode == "text-to-image"
    assert lite.param("aspect_ratio").enum == ("1:1", "16:9", "9:16", "2:1")
    assert lite.defaults() == {"aspect_ratio": "1:1", "num_images": 1, "fast_mode": True}
    assert lite.example_input == {"prompt": "A paper boat on a pond", "aspect_ratio": "2:1"}
    assert lite.validate({"prompt": "x", "num_images": 2}) == {"prompt": "x", "num_images": 2}
    with pytest.raises(ValidationError) as caught:
        lite.validate({"prompt": "x", "num_images": 3, "aspect_ratio": "3:1", "color": "red"})
    assert sorted(caught.value.params) == ["aspect_ratio", "color", "num_images"]


def test_the_form_builds_a_control_for_every_parameter_of_a_new_model(hub: Hub) -> None:
    from mountsea_widgets.widgets.controls import ChoiceControl, FlagControl, build_control

    models, _diff = build(answers_of(hub), BUNDLED.bundled, "test hub")
    controls = {p.name: build_control(p) for p in models[EXTRA_MODEL].params}
    assert isinstance(controls["aspect_ratio"], ChoiceControl)
    assert isinstance(controls["fast_mode"], FlagControl)
    assert controls["aspect_ratio"].set("2:1") and not controls["aspect_ratio"].set("3:1")
    for control in controls.values():
        control.close()


def test_a_detail_inside_the_hubs_wrapper_is_read() -> None:
    detail = {"id": "m", "input_schema": {"properties": {"prompt": {"type": "string"}}}}
    spec = parse_model_detail(ModelEntry("m"), {"code": 0, "data": detail})
    assert spec.names == ["prompt"]


def test_an_unknown_layout_is_refused_naming_the_model() -> None:
    entry = ModelEntry("nano-banana")
    for schema in ({"fields": "prompt;seed"}, "prompt,seed", None, 7):
        with pytest.raises(LayoutError, match="nano-banana"):
            parse_model_detail(entry, {"id": "nano-banana", "input_schema": schema})
    with pytest.raises(LayoutError, match="another model"):
        parse_model_detail(entry, {"id": "gpt-image-2", "input_schema": {"properties": {}}})
    with pytest.raises(LayoutError, match="no prompt"):
        parse_model_detail(entry, {"input_schema": {"properties": {"seed": {"type": "integer"}}}})


@pytest.mark.parametrize("hub", ["unknown"], indirect=True)
def test_a_hub_whose_schemas_cannot_be_read_gives_no_catalog(hub: Hub) -> None:
    with pytest.raises(LayoutError, match="no model's input_schema"):
        build(answers_of(hub), BUNDLED.bundled, "test hub")


# --- the model list ----------------------------------------------------------------------------


def test_the_model_list_is_read_in_its_usual_shapes() -> None:
    items = [{"id": "nano-banana", "title": "NB"}, {"model": "gpt-image-2"}, "nano-banana-2"]
    wrapped = {"code": 0, "data": {"models": items}}
    for payload in ({"data": items}, {"models": items}, {"items": items}, items, wrapped):
        assert [e.id for e in parse_model_list(payload)] == [
            "nano-banana",
            "gpt-image-2",
            "nano-banana-2",
        ]
    assert parse_model_list({"data": []}) == []
    for bad in ({"result": items}, "nano-banana", None, {"data": {"id": "x"}}):
        with pytest.raises(LayoutError):
            parse_model_list(bad)


def test_unsafe_or_foreign_models_are_skipped_and_the_list_is_bounded() -> None:
    unsafe = ["<script>alert(1)</script>", "../etc/passwd", "a b", "", "x" * 65, "-x", 12, None]
    items: list[Any] = [{"id": bad} for bad in unsafe]
    items += [{"id": "veo-3", "capability": "video"}, {"id": "ok-model", "capability": "image"}]
    assert [e.id for e in parse_model_list({"data": items})] == ["ok-model"]
    with pytest.raises(LayoutError, match="usable model id"):
        parse_model_list({"data": [{"id": "<b>"}]})
    many = [{"id": f"m{n}"} for n in range(MAX_MODELS * 3)]
    assert len(parse_model_list(many)) == MAX_MODELS


def test_texts_from_the_hub_are_one_bounded_line() -> None:
    [entry] = parse_model_list(
        [{"id": "m", "title": "A\nB\x00C\u2028D", "summary": "s" * 5000, "mode": "<i>"}]
    )
    assert entry.title == "A B C D"
    assert len(entry.summary) == MAX_TEXT_CHARS and entry.summary.endswith("…")
    assert entry.mode == ""  # not one of the two modes: inferred from the schema later


# --- parameters ------------------------------------------------------------------------------


def _schema(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": {"prompt": {"type": "string"}, **properties}}


def test_unsafe_parameter_names_refuse_the_schema() -> None:
    for name in ("on click", "<img>", "a.b", "x" * 65, "1st", ""):
        with pytest.raises(LayoutError, match="safe name"):
            parse_input_schema("m", _schema(**{name: {"type": "string"}}))


def test_too_many_parameters_refuse_the_schema() -> None:
    props = {f"p{n}": {"type": "boolean"} for n in range(MAX_PARAMS + 1)}
    with pytest.raises(LayoutError, match="more than"):
        parse_input_schema("m", _schema(**props))


def test_types_the_catalog_cannot_check_are_left_out_unless_required() -> None:
    params = parse_input_schema(
        "m",
        _schema(
            strength={"type": "number", "default": 0.5},
            tags={"type": "array", "items": {"type": "string"}},
            style={"type": "string", "enum": ["a"] * 3 + [{"x": 1}]},
            loud={"type": "string", "enum": [f"v{n}" for n in range(MAX_ENUM + 1)]},
            long={"type": "string", "enum": ["y" * (MAX_CHOICE_CHARS + 1)]},
        ),
    )
    assert [p.name for p in params] == ["prompt"]  # never guessed to be free text
    required = {**_schema(strength={"type": "number"}), "required": ["prompt", "strength"]}
    with pytest.raises(LayoutError, match="strength"):
        parse_input_schema("m", required)


def test_defaults_and_ranges_are_believed_only_when_they_make_sense() -> None:
    params = {
        p.name: p
        for p in parse_input_schema(
            "m",
            _schema(
                steps={"type": "integer", "minimum": 1, "maximum": 50, "default": 99},
                count={"type": "integer", "minimum": 9, "maximum": 1, "default": 3},
                huge={"type": "integer", "maximum": 10**30, "minimum": float("nan")},
                mode={"type": "string", "enum": ["a", "b"], "default": "c"},
                fast={"type": "boolean", "default": "yes"},
                seed={"type": "integer"},
            ),
        )
    }
    assert (params["steps"].minimum, params["steps"].maximum, params["steps"].default) == (
        1,
        50,
        None,
    )
    assert (params["count"].minimum, params["count"].maximum, params["count"].default) == (
        None,
        None,
        3,
    )
    assert (params["huge"].minimum, params["huge"].maximum) == (None, None)
    assert params["mode"].default is None and params["fast"].default is None
    assert params["seed"].minimum == -(2**53 - 1)  # the catalog's JSON-safe seed range


def test_an_example_is_kept_only_when_every_value_passes() -> None:
    entry = ModelEntry("m")
    schema = _schema(n={"type": "integer", "minimum": 1, "maximum": 2})
    good = parse_model_detail(entry, {"input_schema": schema, "example": {"prompt": "p", "n": 2}})
    bad = parse_model_detail(entry, {"input_schema": schema, "example": {"prompt": "p", "n": 9}})
    odd = parse_model_detail(entry, {"input_schema": schema, "example": {"x": 1}})
    assert good.example_input == {"prompt": "p", "n": 2}
    assert bad.example_input is None and odd.example_input is None


def test_a_hub_given_duration_is_bounded() -> None:
    entry = ModelEntry("m")
    schema = _schema()
    details = [{"input_schema": schema, "typical_seconds": v} for v in (12, 10**9, -1, "5", True)]
    seconds = [parse_model_detail(entry, detail).typical_seconds for detail in details]
    assert seconds == [12.0, 10.0, 10.0, 10.0, 10.0]


# --- merging over the bundled catalog -------------------------------------------------------------


def test_new_values_are_added_and_values_no_longer_listed_are_kept_with_a_note() -> None:
    bundled = BUNDLED["nano-banana"].param("aspect_ratio")
    live = ParamSpec("aspect_ratio", "string", enum=("1:1", "16:9", "2:1"))
    merged, added, retired = merge_param(bundled, live)
    assert added == ["2:1"]
    assert "21:9" in retired and "1:1" not in retired
    assert merged.enum == (*(bundled.enum or ()), "2:1")
    assert "no longer lists" in merged.note and "21:9" in merged.note
    assert merged.check("21:9") == ("21:9", None) and merged.check("2:1") == ("2:1", None)


def test_a_type_that_disagrees_keeps_the_bundled_rules() -> None:
    bundled = BUNDLED["nano-banana"].param("num_images")
    live = ParamSpec("num_images", "string", enum=("one", "two"))
    assert merge_param(bundled, live) == (bundled, [], [])


def test_a_wider_range_is_accepted_and_reported() -> None:
    nb = BUNDLED.bundled["nano-banana"]
    detail = {
        "input_schema": {
            "type": "object",
            "properties": {
                **nb.input_schema()["properties"],
                "num_images": {"type": "integer", "minimum": 1, "maximum": 8, "default": 1},
                "style": {"type": "string", "enum": ["photo", "ink"]},
            },
            "required": ["prompt"],
        }
    }
    answers = {"list": {"data": [{"id": "nano-banana"}]}, "details": {"nano-banana": detail}}
    models, diff = build(answers, BUNDLED.bundled, "test hub")
    assert models["nano-banana"].param("num_images").maximum == 8
    assert diff.changed_ranges == {"nano-banana.num_images": "1-4 -> 1-8"}
    assert diff.new_params == {"nano-banana": ["style"]}
    assert "gpt-image-2" in diff.unlisted_models  # not listed by this hub, still usable
    assert "gpt-image-2" not in models  # so the bundled spec stays in use


def test_the_diff_is_text_and_its_html_is_escaped() -> None:
    diff = CatalogDiff(source="live catalog of http://hub", new_models=["m2"])
    diff.new_values["m.style"] = ["<img src=x onerror=alert(1)>"]
    shown = diff._repr_html_()
    assert "<img" not in shown and "&lt;img src=x onerror=alert(1)&gt;" in shown
    assert "new model: m2" in str(diff)
    assert str(CatalogDiff()).endswith("no differences")


def test_a_value_no_longer_listed_warns_once_when_sent() -> None:
    source = LiveCatalog(Cache(Path("/nonexistent")))
    source._retired = {("nano-banana", "aspect_ratio"): {"21:9"}}
    with pytest.warns(LiveCatalogWarning, match="no longer listed") as caught:
        source.warn_retired("nano-banana", {"aspect_ratio": "21:9"})
        source.warn_retired("nano-banana", {"aspect_ratio": "21:9"})
        source.warn_retired("nano-banana", {"aspect_ratio": "1:1"})
    assert len(caught) == 1


# --- the catalog object --------------------------------------------------------------------------


def test_installing_live_models_keeps_the_bundled_ones_apart() -> None:
    catalog = load_catalog()
    extra = ModelSpec("m2", "M2", "", "text-to-image", "", (ParamSpec("prompt", "string"),))
    catalog.install({"m2": extra})
    assert list(catalog)[-1] == "m2" and "m2" not in catalog.bundled
    assert catalog.text_to_image[-1] == "m2"
    catalog.install({})
    assert list(catalog) == list(BUNDLED) and "m2" not in catalog


def test_the_package_catalog_works_without_any_fetch() -> None:
    assert mw.catalog.spec("nano-banana").defaults()["aspect_ratio"] == "1:1"
    assert str(mw.catalog.diff()).startswith("Source: bundled catalog only")


# --- the disk cache ------------------------------------------------------------------------------


class Clock:
    """Seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_the_cache_expires_and_keeps_hubs_apart(tmp_path: Path) -> None:
    clock = Clock()
    cache = Cache(tmp_path / "catalog", ttl_s=60, clock=clock)
    answers = {"list": {"data": []}, "details": {}}
    assert cache.load("http://hub") is None
    assert cache.save("http://hub", answers, None)
    assert cache.load("http://hub") == answers
    assert cache.load("http://other") is None
    clock.now += 60
    assert cache.load("http://hub") == answers
    clock.now += 1
    assert cache.load("http://hub") is None  # expired
    clock.now -= 3600
    assert cache.load("http://hub") is None  # written "in the future": not believed


def test_the_cache_never_holds_the_key_and_survives_bad_files(tmp_path: Path) -> None:
    cache = Cache(tmp_path, clock=Clock())
    echoed = {"list": {"data": [{"id": "m", "summary": "key sk-secret-123 seen"}]}}
    assert not cache.save("http://hub", echoed, "sk-secret-123")
    assert not cache.path("http://hub").exists()
    for text in ("not json", "[]", '{"base_url": "http://hub", "fetched_at": "x"}'):
        cache.path("http://hub").write_text(text)
        assert cache.load("http://hub") is None
