"""Catalog tests, driven by the bundled models.json (every model, every parameter)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

import mountsea_widgets as mw
from mountsea_widgets.catalog import MAX_IMAGE_URLS, ModelSpec, ParamSpec
from mountsea_widgets.errors import ValidationError

DATA = json.loads(resources.files("mountsea_widgets").joinpath("data/models.json").read_text())
SHARED = Path(__file__).resolve().parents[3] / "shared" / "mountsea-models.json"

MODEL_IDS = [m["id"] for m in DATA["models"]]
PARAMS = [(m["id"], p["name"]) for m in DATA["models"] for p in m["params"]]
PARAMS_WITH_DEFAULT = [(m, n) for m, n in PARAMS if mw.catalog[m].param(n).default is not None]
PARAMS_WITH_LIMITS = [
    (m, n)
    for m, n in PARAMS
    if mw.catalog[m].param(n).enum is not None or mw.catalog[m].param(n).minimum is not None
]
EDIT_URL = "https://example.com/source.png"


def base_input(spec: ModelSpec) -> dict[str, Any]:
    """The smallest valid input: the required parameters."""
    value: dict[str, Any] = {"prompt": "a red cube"}
    if spec.has("image_urls"):
        value["image_urls"] = [EDIT_URL]
    return value


def wrong_type(param: ParamSpec) -> Any:
    return {
        "integer": "three",
        "boolean": "yes",
        "string": 12.5,
        "string|object": 42,
        "array<string>": 7,
        "url": 7,
    }[param.type]


def test_eight_models_in_reference_order() -> None:
    assert list(mw.catalog) == MODEL_IDS
    assert sorted(mw.catalog) == sorted(
        [
            "nano-banana",
            "nano-banana-2",
            "nano-banana-pro",
            "gpt-image-2",
            "nano-banana-edit",
            "nano-banana-2-edit",
            "nano-banana-pro-edit",
            "gpt-image-2-edit",
        ]
    )
    assert mw.catalog.text_to_image == MODEL_IDS[:4]
    assert all(mw.catalog[m].is_edit for m in mw.catalog.edit)


@pytest.mark.skipif(not SHARED.exists(), reason="shared reference data not beside the project")
def test_bundled_data_is_the_shared_reference() -> None:
    assert json.loads(SHARED.read_text()) == DATA


# The hub reference page's defaults for the four text-to-image models, typed out from it.
REFERENCE_DEFAULTS = {
    "nano-banana": {
        "num_images": 1,
        "aspect_ratio": "1:1",
        "output_format": "png",
        "safety_tolerance": "4",
    },
    "nano-banana-2": {
        "num_images": 1,
        "resolution": "1K",
        "aspect_ratio": "auto",
        "output_format": "png",
        "safety_tolerance": "4",
        "limit_generations": True,
    },
    "nano-banana-pro": {
        "num_images": 1,
        "resolution": "1K",
        "aspect_ratio": "1:1",
        "output_format": "png",
        "safety_tolerance": "4",
    },
    "gpt-image-2": {
        "quality": "high",
        "image_size": "landscape_4_3",
        "num_images": 1,
        "output_format": "png",
    },
}


@pytest.mark.parametrize("model", list(REFERENCE_DEFAULTS))
def test_text_to_image_defaults_match_reference_page(model: str) -> None:
    assert mw.catalog[model].defaults() == REFERENCE_DEFAULTS[model]


def test_gpt_image_2_has_no_seed() -> None:
    assert not mw.catalog["gpt-image-2"].has("seed")
    with pytest.raises(ValidationError) as info:
        mw.catalog["gpt-image-2"].validate({"prompt": "x", "seed": 3})
    assert info.value.params == ["seed"]


@pytest.mark.parametrize(("model", "name"), PARAMS_WITH_DEFAULT)
def test_param_default_validates(model: str, name: str) -> None:
    spec = mw.catalog[model]
    param = spec.param(name)
    cleaned = spec.validate({**base_input(spec), name: param.default})
    assert cleaned[name] == param.default


@pytest.mark.parametrize(("model", "name"), PARAMS)
def test_every_allowed_value_validates(model: str, name: str) -> None:
    spec = mw.catalog[model]
    param = spec.param(name)
    if param.unavailable:
        assert spec.validate({**base_input(spec), name: False})[name] is False
        return
    values: list[Any]
    if param.enum is not None:
        values = list(param.enum)
    elif param.type == "integer" and param.minimum is not None and param.maximum is not None:
        if param.maximum - param.minimum <= 1000:
            values = list(range(param.minimum, param.maximum + 1))
        else:  # a seed's range: both ends and values between
            values = [param.minimum, -1, 0, 1, 42, 2**31 - 1, param.maximum]
    elif param.type == "integer":
        values = [0, 1, 42, 2**31 - 1]
    elif param.type == "boolean":
        values = [True, False]
    elif param.type == "array<string>":
        values = [[EDIT_URL], [EDIT_URL] * MAX_IMAGE_URLS, ["data:image/png;base64,iVBORw0KGgo="]]
    elif param.type == "url":
        values = [EDIT_URL]
    else:
        values = ["a lighthouse at dusk"]
    for value in values:
        assert spec.validate({**base_input(spec), name: value})[name] == value


@pytest.mark.parametrize(("model", "name"), PARAMS)
def test_wrong_type_is_rejected_naming_the_param(model: str, name: str) -> None:
    spec = mw.catalog[model]
    param = spec.param(name)
    with pytest.raises(ValidationError) as info:
        spec.validate({**base_input(spec), name: wrong_type(param)})
    assert info.value.params == [name]
    assert name in str(info.value)


@pytest.mark.parametrize(("model", "name"), PARAMS_WITH_LIMITS)
def test_out_of_set_or_range_is_rejected(model: str, name: str) -> None:
    spec = mw.catalog[model]
    param = spec.param(name)
    if param.enum is not None:
        bad: Any = "not-a-choice"
    else:
        assert param.minimum is not None
        bad = param.minimum - 1
    with pytest.raises(ValidationError) as info:
        spec.validate({**base_input(spec), name: bad})
    problem = info.value.problems[0]
    assert problem.param == name
    assert problem.value == bad
    assert problem.allowed, "the error must say what is allowed"
    if param.enum is not None:
        assert all(choice in str(info.value) for choice in param.enum)


@pytest.mark.parametrize(
    ("width", "height", "ok"),
    [
        (1024, 640, True),  # exactly the minimum pixel count
        (1024, 624, False),  # below the minimum pixel count
        (3840, 2160, True),  # exactly the maximum pixel count and edge
        (3856, 2160, False),  # edge over 3840
        (3840, 1280, True),  # exactly 3:1
        (3840, 1264, False),  # beyond 3:1
        (1000, 1000, False),  # not multiples of 16
        (1536, 1024, True),
    ],
)
@pytest.mark.parametrize("model", ["gpt-image-2", "gpt-image-2-edit"])
def test_gpt_image_size_boundaries(model: str, width: int, height: int, ok: bool) -> None:
    spec = mw.catalog[model]
    value = {**base_input(spec), "image_size": {"width": width, "height": height}}
    if ok:
        assert spec.validate(value)["image_size"] == {"width": width, "height": height}
    else:
        with pytest.raises(ValidationError) as info:
            spec.validate(value)
        assert info.value.params == ["image_size"]
        assert f"{width}x{height}" in str(info.value)


@pytest.mark.parametrize(
    "size",
    [
        {"width": 1024},
        {"width": 1024, "height": 1024, "depth": 3},
        {"width": "1024", "height": 640},
    ],
)
def test_malformed_custom_size_rejected(size: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as info:
        mw.catalog["gpt-image-2"].validate({"prompt": "x", "image_size": size})
    assert info.value.params == ["image_size"]


def test_all_problems_reported_at_once_with_suggestion() -> None:
    with pytest.raises(ValidationError) as info:
        mw.catalog["nano-banana"].validate(
            {"sede": 3, "aspect_ratio": "7:3", "num_images": 9, "output_format": "gif"}
        )
    error = info.value
    assert error.params == ["sede", "aspect_ratio", "num_images", "output_format", "prompt"]
    assert "did you mean 'seed'" in str(error)
    assert "'7:3'" in str(error) and "21:9" in str(error)
    assert "above the maximum 4" in str(error)


def test_unset_values_are_omitted() -> None:
    cleaned = mw.catalog["nano-banana-2"].validate(
        {"prompt": "x", "seed": None, "system_prompt": "  ", "thinking_level": ""}
    )
    assert cleaned == {"prompt": "x"}


def test_blank_prompt_is_required() -> None:
    with pytest.raises(ValidationError) as info:
        mw.catalog["nano-banana"].validate({"prompt": "   "})
    assert info.value.params == ["prompt"]


def test_safety_tolerance_int_becomes_string() -> None:
    cleaned = mw.catalog["nano-banana"].validate({"prompt": "x", "safety_tolerance": 4})
    assert cleaned["safety_tolerance"] == "4"
    with pytest.raises(ValidationError):
        mw.catalog["nano-banana"].validate({"prompt": "x", "safety_tolerance": 7})


def test_booleans_are_not_integers() -> None:
    with pytest.raises(ValidationError) as info:
        mw.catalog["nano-banana"].validate({"prompt": "x", "seed": True, "num_images": False})
    assert info.value.params == ["seed", "num_images"]


def test_pro_web_search_marked_unavailable() -> None:
    spec = mw.catalog["nano-banana-pro"]
    assert spec.param("enable_web_search").unavailable
    assert "disabled on this platform" in spec.param("enable_web_search").unavailable
    with pytest.raises(ValidationError) as info:
        spec.validate({"prompt": "x", "enable_web_search": True})
    assert "disabled on this platform" in str(info.value)
    assert not mw.catalog["nano-banana-2"].param("enable_web_search").unavailable


def test_edit_models_need_image_urls_and_cap_them() -> None:
    spec = mw.catalog["nano-banana-edit"]
    with pytest.raises(ValidationError) as info:
        spec.validate({"prompt": "x"})
    assert info.value.params == ["image_urls"]
    with pytest.raises(ValidationError) as info:
        spec.validate({"prompt": "x", "image_urls": [EDIT_URL] * (MAX_IMAGE_URLS + 1)})
    assert f"at most {MAX_IMAGE_URLS}" in str(info.value)
    for bad in (["file:///etc/passwd"], ["javascript:alert(1)"], [], ["ftp://x/y.png"]):
        with pytest.raises(ValidationError):
            spec.validate({"prompt": "x", "image_urls": bad})


def test_unknown_model_names_model() -> None:
    with pytest.raises(ValidationError) as info:
        mw.catalog.spec("nano-bananna")
    assert info.value.params == ["model"]
    assert "did you mean 'nano-banana'" in str(info.value)
    with pytest.raises(KeyError):
        mw.catalog["dall-e"]


def test_input_schema_lists_every_param() -> None:
    for spec in mw.catalog.values():
        schema = spec.input_schema()
        assert list(schema["properties"]) == spec.names
        assert "prompt" in schema["required"]
