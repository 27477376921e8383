"""The parameter form, driven by the catalog: every model, every parameter, no kernel needed.

The form is headless: what the page shows is ``form.state()``, what the person types arrives
through ``form.receive(...)`` (the page sends the inputs' values as it holds them).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mountsea_widgets.catalog import ParamSpec, catalog
from mountsea_widgets.errors import ValidationError
from mountsea_widgets.widgets.controls import (
    UNSET,
    ChoiceControl,
    FlagControl,
    IntegerControl,
    OptionalIntegerControl,
    ParamControl,
    TextControl,
    TriStateControl,
    UrlListControl,
    build_control,
)
from mountsea_widgets.widgets.form import LEADING, Form
from mountsea_widgets.widgets.size_control import CUSTOM, SizeControl
from tests.helpers.emoji import emoji_in, texts_in
from tests.helpers.images import solid_png

ALL_PARAMS = [(model, p.name) for model, spec in catalog.items() for p in spec.params]
WIDGETS = Path(__file__).resolve().parents[2] / "mountsea_widgets" / "widgets"


def _expected_class(spec: ParamSpec) -> type[ParamControl]:
    if spec.type == "string|object":
        return SizeControl
    if spec.type == "array<string>":
        return UrlListControl
    if spec.type == "boolean":
        return FlagControl if spec.default is not None else TriStateControl
    if spec.type == "integer":
        return IntegerControl if spec.default is not None else OptionalIntegerControl
    if spec.enum is not None:
        return ChoiceControl
    return TextControl


def field(form: Form, name: str) -> dict[str, Any]:
    """The field ``name`` as the page gets it."""
    (found,) = [f for f in form.state()["fields"] if f["name"] == name]
    return found


def _choices(form: Form, name: str) -> list[Any]:
    """The option values a choice-like field offers."""
    return [value for _label, value in field(form, name)["options"]]


def test_the_form_and_its_controls_never_import_ipywidgets() -> None:
    for name in ("form", "controls", "control_base", "size_control", "image_list_control"):
        source = (WIDGETS / f"{name}.py").read_text("utf-8")
        assert "import ipywidgets" not in source and "from ipywidgets" not in source, name


def test_every_model_has_a_form() -> None:
    assert len(catalog) == 8
    for model in catalog:
        form = Form(model)
        names = catalog[model].names
        leading = [name for name in LEADING if name in names]
        assert list(form.controls) == leading + [n for n in names if n not in leading]
        assert next(iter(form.controls)) == "prompt"
        state = form.state()
        assert state["model"] == model
        assert [f["name"] for f in state["fields"]] == list(form.controls)
        json.dumps(state)  # JSON-able as it is


@pytest.mark.parametrize(("model", "name"), ALL_PARAMS)
def test_every_parameter_has_the_right_control_default_and_options(model: str, name: str) -> None:
    spec = catalog[model].param(name)
    form = Form(model)
    control = form.controls[name]

    assert type(control) is _expected_class(spec)
    assert control.value == spec.default
    assert control.is_default()
    drawn = field(form, name)
    assert drawn["name"] == name and drawn["kind"] == control.kind
    assert drawn["required"] is spec.required
    if spec.enum is not None:
        unset = [UNSET] if spec.default is None else []
        custom = [CUSTOM] if spec.type == "string|object" else []
        assert _choices(form, name) == unset + list(spec.enum) + custom
    if spec.type == "boolean" and spec.default is None:
        assert _choices(form, name) == [UNSET, "true", "false"]
    if spec.default is not None:
        assert form.value()[name] == spec.default
    else:
        assert name not in form.value()  # unset is left out, never sent as null or ""


@pytest.mark.parametrize(("model", "name"), ALL_PARAMS)
def test_every_parameter_has_its_description_as_a_tooltip(model: str, name: str) -> None:
    spec = catalog[model].param(name)
    drawn = field(Form(model), name)
    assert spec.description.strip()[:40] in drawn["tooltip"]
    assert spec.allowed in drawn["tooltip"]
    assert drawn["tooltip"].startswith(f"{name}: ")  # the API name, for those who look


def test_labels_are_words_and_the_name_stays_in_the_field() -> None:
    form = Form("nano-banana-edit")
    assert field(form, "aspect_ratio")["label"] == "Aspect ratio"
    assert field(form, "image_urls")["label"] == "Reference images"
    assert field(form, "prompt")["label"] == "Prompt"


@pytest.mark.parametrize("model", list(catalog))
def test_defaults_plus_a_prompt_validate(model: str) -> None:
    form = Form(model)
    assert "prompt" in form.problems()
    form.controls["prompt"].set("a lighthouse")
    if catalog[model].is_edit:
        assert form.problems() == {"image_urls": "is required"}
        form.controls["image_urls"].set(["https://example.com/a.png"])
    assert form.problems() == {}
    assert form.validate() == catalog[model].validate(form.value())


def test_optional_enum_without_default_has_an_unset_choice() -> None:
    form = Form("nano-banana-2")
    assert isinstance(form.controls["thinking_level"], ChoiceControl)
    assert field(form, "thinking_level")["options"][0] == ["(default)", UNSET]
    assert "thinking_level" not in form.value()
    form.receive({"thinking_level": "high"})
    assert form.value()["thinking_level"] == "high"


def test_three_way_booleans_send_nothing_true_or_false() -> None:
    form = Form("nano-banana")
    assert isinstance(form.controls["sync_mode"], TriStateControl)
    assert "sync_mode" not in form.value()
    form.receive({"sync_mode": "true"})
    assert form.value()["sync_mode"] is True
    form.receive({"sync_mode": "false"})
    assert form.value()["sync_mode"] is False
    form.receive({"sync_mode": ""})
    assert "sync_mode" not in form.value()


def test_booleans_with_a_default_are_checkboxes() -> None:
    form = Form("nano-banana-2")
    assert isinstance(form.controls["limit_generations"], FlagControl)
    assert field(form, "limit_generations") | {"kind": "flag", "value": True} == field(
        form, "limit_generations"
    )
    form.receive({"limit_generations": False})
    assert form.value()["limit_generations"] is False


def test_num_images_out_of_range_shows_the_catalog_reason() -> None:
    form = Form("nano-banana")
    form.controls["prompt"].set("x")
    assert isinstance(form.controls["num_images"], IntegerControl)
    drawn = field(form, "num_images")
    assert (drawn["min"], drawn["max"], drawn["step"]) == (1, 4, 1)
    form.receive({"num_images": "5"})
    assert "above the maximum 4" in form.problems()["num_images"]
    assert "above the maximum 4" in field(form, "num_images")["message"]
    form.receive({"num_images": "0"})
    assert "below the minimum 1" in form.problems()["num_images"]
    form.receive({"num_images": "4"})
    assert form.problems() == {}
    assert field(form, "num_images")["message"] == ""


def test_seed_blank_is_random_text_is_an_error_and_the_dice_fill_it() -> None:
    form = Form("nano-banana")
    form.controls["prompt"].set("x")
    seed = form.controls["seed"]
    assert isinstance(seed, OptionalIntegerControl)
    assert "seed" not in form.value()
    assert field(form, "seed")["placeholder"] == "random"
    form.receive({"seed": "12abc"})
    assert "not a whole number" in form.problems()["seed"]
    with pytest.raises(ValidationError) as caught:
        form.validate()
    assert caught.value.params == ["seed"]
    drawn = field(form, "seed")
    assert drawn["random"] is True and drawn["random_max"] == 2**31 - 1
    revision = form.state()["revision"]
    seed.roll()
    assert form.problems() == {}
    assert isinstance(form.value()["seed"], int)
    assert form.state()["revision"] > revision  # the page shows the number picked


def test_image_urls_is_one_url_per_line() -> None:
    form = Form("nano-banana-edit")
    form.controls["prompt"].set("make it blue")
    assert isinstance(form.controls["image_urls"], UrlListControl)
    assert field(form, "image_urls")["kind"] == "images"
    form.receive({"image_urls": "https://example.com/a.png\n\n  https://example.com/b.jpg  \n"})
    assert form.value()["image_urls"] == ["https://example.com/a.png", "https://example.com/b.jpg"]
    assert form.problems() == {}
    form.receive({"image_urls": "ftp://example.com/a.png"})
    assert "image_urls" in form.problems()


def test_prompts_are_multiline() -> None:
    form = Form("nano-banana-pro")
    assert field(form, "prompt")["multiline"] and field(form, "system_prompt")["multiline"]
    assert list(form.controls)[:2] == ["prompt", "system_prompt"]
    assert not field(Form("gpt-image-2-edit"), "mask_url")["multiline"]  # a one-line URL


def test_enable_web_search_is_disabled_on_nano_banana_pro_with_the_reason() -> None:
    form = Form("nano-banana-pro")
    control = form.controls["enable_web_search"]
    reason = catalog["nano-banana-pro"].param("enable_web_search").unavailable
    assert reason
    assert isinstance(control, TriStateControl)
    drawn = field(form, "enable_web_search")
    assert drawn["disabled"] is True and reason in drawn["note"]
    assert "enable_web_search" not in form.value()
    assert control.set(True) is False  # refused: the catalog says it is unavailable
    form.receive({"enable_web_search": "true"})  # a page that let it through anyway
    assert "enable_web_search" not in form.value()
    # Elsewhere it is an ordinary control.
    assert field(Form("nano-banana-2"), "enable_web_search")["disabled"] is False


# --- gpt-image-2 image_size -------------------------------------------------------------------


def _size_form() -> tuple[Form, SizeControl]:
    form = Form("gpt-image-2")
    form.controls["prompt"].set("a poster")
    control = form.controls["image_size"]
    assert isinstance(control, SizeControl)
    return form, control


def _size(preset: str, width: Any = "1536", height: Any = "1024") -> dict[str, Any]:
    return {"image_size": {"preset": preset, "width": str(width), "height": str(height)}}


def test_image_size_presets_and_custom() -> None:
    form, size = _size_form()
    assert size.preset == "landscape_4_3" and form.value()["image_size"] == "landscape_4_3"
    assert field(form, "image_size")["custom"] is False
    form.receive(_size(CUSTOM))
    drawn = field(form, "image_size")
    assert drawn["custom"] is True and drawn["kind"] == "size"
    assert drawn["value"] == {"preset": CUSTOM, "width": "1536", "height": "1024"}
    assert form.value()["image_size"] == {"width": 1536, "height": 1024}
    assert form.problems() == {}
    assert "1536 × 1024" in drawn["note"]
    assert "multiples of 16" in drawn["rules"]


@pytest.mark.parametrize(
    ("width", "height", "reason"),
    [
        (1000, 1024, "multiples of 16"),
        (4096, 2048, "at most 3840"),
        (3840, 1024, "ratio must be at most 3:1"),
        (512, 512, "between 655,360 and 8,294,400"),
        (0, 1024, "must be positive"),
        ("wide", 1024, "whole numbers"),
    ],
)
def test_invalid_custom_sizes_are_refused_with_the_reason_on_the_field(
    width: Any, height: int, reason: str
) -> None:
    form, _size_control = _size_form()
    form.receive(_size(CUSTOM))
    assert form.valid
    form.receive(_size(CUSTOM, width, height))

    assert not form.valid
    assert reason in form.problems()["image_size"]
    drawn = field(form, "image_size")
    assert reason in drawn["message"] and drawn["note"] == ""
    assert all(f["message"] == "" for f in form.state()["fields"] if f["name"] != "image_size")
    form.receive(_size("square_hd", width, height))
    assert form.valid and field(form, "image_size")["message"] == ""


# --- switching model ----------------------------------------------------------------------------


def test_switching_model_keeps_what_fits_and_resets_the_rest() -> None:
    form = Form("nano-banana")
    form.controls["prompt"].set("a fox")
    form.controls["seed"].set(42)
    form.controls["aspect_ratio"].set("16:9")
    form.controls["safety_tolerance"].set("2")
    form.controls["output_format"].set("webp")

    form.set_model("nano-banana-2")
    value = form.value()
    assert value["prompt"] == "a fox" and value["seed"] == 42
    assert value["aspect_ratio"] == "16:9"  # chosen by the user and valid here
    assert value["safety_tolerance"] == "2" and value["output_format"] == "webp"
    assert value["resolution"] == "1K"  # new parameter: its default
    assert value["limit_generations"] is True

    form.set_model("gpt-image-2")
    value = form.value()
    assert value["prompt"] == "a fox"
    assert "seed" not in value and "aspect_ratio" not in value  # no such parameters
    assert value["output_format"] == "webp"
    assert value["image_size"] == "landscape_4_3"


def test_switching_model_resets_values_the_new_model_refuses() -> None:
    form = Form("nano-banana-2")
    form.controls["prompt"].set("a banner")
    form.controls["aspect_ratio"].set("8:1")  # only the -2 models have 8:1
    form.controls["resolution"].set("0.5K")  # nano-banana-pro has no 0.5K
    form.set_model("nano-banana-pro")
    value = form.value()
    assert value["aspect_ratio"] == "1:1"  # back to nano-banana-pro's default
    assert value["resolution"] == "1K"
    assert form.problems() == {}


def test_untouched_values_take_the_new_models_defaults() -> None:
    form = Form("nano-banana")  # aspect_ratio default 1:1
    form.set_model("nano-banana-2")  # aspect_ratio default auto
    assert form.value()["aspect_ratio"] == "auto"


def test_switching_keeps_a_custom_size_between_gpt_models() -> None:
    form, _size_control = _size_form()
    form.receive(_size(CUSTOM, 2048, 1152))
    form.set_model("gpt-image-2-edit")
    assert form.value()["image_size"] == {"width": 2048, "height": 1152}
    assert field(form, "image_size")["custom"] is True


def test_load_shows_exactly_an_input_and_names_what_it_refused() -> None:
    form = Form("nano-banana")
    form.controls["output_format"].set("jpeg")
    refused = form.load(
        "nano-banana-2", {"prompt": "again", "thinking_level": "high", "bogus": 1, "num_images": 7}
    )
    assert sorted(refused) == ["bogus", "num_images"]
    value = form.value()
    assert value["thinking_level"] == "high"
    assert value["output_format"] == "png"  # not in the input: back to the default
    assert value["num_images"] == 1


def test_old_controls_are_let_go_on_switch() -> None:
    form = Form("nano-banana")
    old = form.controls["aspect_ratio"]
    heard: list[Form] = []
    form.set_model("gpt-image-2")
    form.on_change(heard.append)
    assert old not in form.controls.values()
    old.set("16:9")  # someone still holding it changes nothing in the form
    assert heard == [] and "aspect_ratio" not in form.value()


def test_error_text_is_kept_as_text_for_the_page() -> None:
    """A message carries what the person typed as plain text: the page sets it as text."""
    form = Form("nano-banana")
    form.receive({"seed": "<img src=x onerror=alert(1)>"})
    assert "<img src=x onerror=alert(1)>" in field(form, "seed")["message"]
    script = (WIDGETS / "static" / "form.js").read_text("utf-8")
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script
    assert "outerHTML" not in script


def test_every_control_type_has_a_builder() -> None:
    types = {p.type for spec in catalog.values() for p in spec.params}
    for spec in catalog.values():
        for param in spec.params:
            assert isinstance(build_control(param), ParamControl)
    assert types <= {"integer", "string", "boolean", "string|object", "array<string>", "url"}
    with pytest.raises(TypeError, match="no control"):
        build_control(ParamSpec(name="odd", type="matrix"))


# --- image_urls: URLs typed, image files attached ------------------------------------------------


MAGENTA = (255, 0, 255)
#: The size of the attached test images unless a test says otherwise.
UPLOAD_SIZE = (32, 24)


def _edit_form() -> tuple[Form, UrlListControl]:
    form = Form("nano-banana-edit")
    form.controls["prompt"].set("make it blue")
    control = form.controls["image_urls"]
    assert isinstance(control, UrlListControl)
    return form, control


def _chips(form: Form) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = field(form, "image_urls")["items"]
    return items


def test_an_attached_file_becomes_a_data_uri_chip() -> None:
    from mountsea_widgets._images import parse_data_uri

    form, _control = _edit_form()
    drawn = field(form, "image_urls")
    assert drawn["accept"] == "image/*" and "add image file" in drawn["attach_label"]
    form.receive({"image_urls": "https://example.com/a.png"})
    assert form.attach("image_urls", "red.png", solid_png(MAGENTA, UPLOAD_SIZE)) is None
    assert form.attach("image_urls", "blue.png", solid_png((0, 0, 255), UPLOAD_SIZE)) is None

    value = form.value()["image_urls"]
    assert value[0] == "https://example.com/a.png"
    assert [parse_data_uri(uri) for uri in value[1:]] == [
        (solid_png(MAGENTA, UPLOAD_SIZE), "image/png"),
        (solid_png((0, 0, 255), UPLOAD_SIZE), "image/png"),
    ]
    assert form.problems() == {}
    assert field(form, "image_urls")["value"] == "https://example.com/a.png"  # URLs only
    chips = _chips(form)
    assert [chip["position"] for chip in chips] == [2, 3]
    assert chips[0]["label"].startswith("red.png · ") and chips[0]["label"].endswith(" KB")
    assert "PNG 32×24" in chips[0]["title"] and chips[0]["title"].startswith("#2 ")
    assert chips[1]["label"].startswith("blue.png")


def test_the_page_never_holds_the_data_uri() -> None:
    form, _control = _edit_form()
    form.attach("image_urls", "red.png", solid_png(MAGENTA, (200, 200)))
    uri = form.value()["image_urls"][0]
    payload = uri.split(",", 1)[1]
    state = json.dumps(form.state())
    assert payload[:200] not in state and ";base64," not in state


def test_removing_a_chip_drops_its_image_and_renumbers_the_rest() -> None:
    form, control = _edit_form()
    form.attach("image_urls", "one.png", solid_png(MAGENTA, UPLOAD_SIZE))
    form.attach("image_urls", "two.png", solid_png((0, 255, 0), UPLOAD_SIZE))
    form.detach("image_urls", 0)
    assert len(form.value()["image_urls"]) == 1
    assert _chips(form)[0]["title"].startswith("#1 in image_urls: two.png")
    form.detach("image_urls", 0)
    assert "image_urls" not in form.value()
    assert form.problems() == {"image_urls": "is required"}
    assert field(form, "image_urls")["message"] == "Reference images is required"
    form.detach("image_urls", 3)  # a chip the page still showed: nothing happens
    assert control.attachments == []


def test_bytes_that_are_not_an_image_are_refused_naming_the_file() -> None:
    form, control = _edit_form()
    problem = form.attach("image_urls", "notes.txt", b"just some text")
    assert problem is not None and "notes.txt was not added" in problem
    assert "not an image" in problem
    assert form.attach("image_urls", "ok.png", solid_png(MAGENTA, UPLOAD_SIZE)) is None
    assert len(control.attachments) == 1 and control.attachments[0].name == "ok.png"
    form.attach("image_urls", "notes.txt", b"just some text")
    assert "notes.txt was not added" in field(form, "image_urls")["message"]
    form.attach("image_urls", "fine.png", solid_png(MAGENTA, UPLOAD_SIZE))
    assert field(form, "image_urls")["message"] == ""


def test_an_upload_too_big_to_send_inline_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from mountsea_widgets.widgets import image_list_control

    form, control = _edit_form()
    monkeypatch.setattr(image_list_control, "MAX_DATA_URI_CHARS", 100)
    problem = form.attach("image_urls", "large.png", solid_png(MAGENTA, UPLOAD_SIZE))
    assert problem is not None and "large.png was not added" in problem
    assert "http(s) URL" in problem
    assert control.attachments == [] and "image_urls" not in form.value()


def test_a_pasted_data_uri_moves_into_a_chip() -> None:
    from mountsea_widgets._images import to_data_uri

    form, control = _edit_form()
    uri = to_data_uri(solid_png(MAGENTA, UPLOAD_SIZE))
    revision = form.state()["revision"]
    form.receive({"image_urls": f"https://example.com/a.png\n{uri}\nhttps://example.com/b.png"})
    assert control.text == "https://example.com/a.png\nhttps://example.com/b.png"
    assert form.value()["image_urls"] == [
        "https://example.com/a.png",
        "https://example.com/b.png",
        uri,
    ]
    assert _chips(form)[0]["position"] == 3
    assert form.state()["revision"] > revision  # the page's text box drops the pasted line


def test_a_line_that_is_not_a_url_is_named_by_its_line_number() -> None:
    form, _control = _edit_form()
    form.receive({"image_urls": "https://example.com/a.png\n/home/me/cat.png"})
    problem = form.problems()["image_urls"]
    assert "line 2 ('/home/me/cat.png') is not an http(s) URL" in problem
    assert "add image file" in problem
    assert "line 2" in field(form, "image_urls")["message"]


def test_eleven_images_in_the_form_are_refused_naming_image_urls() -> None:
    form, _control = _edit_form()
    form.receive({"image_urls": "\n".join(f"https://example.com/{n}.png" for n in range(10))})
    assert form.problems() == {}
    form.attach("image_urls", "one-too-many.png", solid_png(MAGENTA, UPLOAD_SIZE))
    assert "11 images given; at most 10" in form.problems()["image_urls"]


def test_set_load_and_model_switch_keep_attachments_with_their_names() -> None:
    from mountsea_widgets._images import to_data_uri

    form, control = _edit_form()
    form.attach("image_urls", "kept.png", solid_png(MAGENTA, UPLOAD_SIZE))
    uri = control.attachments[0].uri
    control.append("https://example.com/x.png")
    form.set_model("gpt-image-2-edit")
    moved = form.controls["image_urls"]
    assert isinstance(moved, UrlListControl)
    assert form.value()["image_urls"] == ["https://example.com/x.png", uri]
    assert moved.attachments[0].name == "kept.png"
    assert _chips(form)[0]["label"].startswith("kept.png")
    other = to_data_uri(solid_png((1, 2, 3), UPLOAD_SIZE))
    # URLs are listed first, then attached images (what the chips' numbers show).
    assert (
        form.load("nano-banana-edit", {"prompt": "p", "image_urls": [other, "https://e.x/1"]}) == []
    )
    assert form.value()["image_urls"] == ["https://e.x/1", other]
    assert form.load("nano-banana-edit", {"prompt": "p", "image_urls": [other]}) == []
    loaded = form.controls["image_urls"]
    assert isinstance(loaded, UrlListControl)
    assert loaded.text == "" and [a.uri for a in loaded.attachments] == [other]
    loaded.reset()
    assert loaded.attachments == [] and _chips(form) == []


# --- what a person sees: no emoji glyphs ----------------------------------------------------------


def test_the_emoji_check_finds_emoji() -> None:
    assert emoji_in("🎲 random ✅ ⏳ ⚙️ ⤢") == ["🎲", "✅", "⏳", "⚙", "\ufe0f", "⤢"]
    assert emoji_in("text → image · 1536 × 1024 … — ok") == []


@pytest.mark.parametrize("model", list(catalog))
def test_no_emoji_in_any_form(model: str) -> None:
    form = Form(model)
    form.controls["prompt"].set("a cat")
    form.receive({"seed": "abc", "num_images": "9"})
    form.touch_all()
    if "image_urls" in form.controls:
        form.attach("image_urls", "cat.png", solid_png(MAGENTA, UPLOAD_SIZE))
        form.attach("image_urls", "bad.txt", b"nope")
    if "image_size" in form.controls:
        form.controls["image_size"].set({"width": 1536, "height": 1024})
    found = {text: emoji_in(text) for text in texts_in(form.state()) if emoji_in(text)}
    assert found == {}
    script = (WIDGETS / "static" / "form.js").read_text("utf-8")
    assert emoji_in(script) == []


@pytest.mark.parametrize(
    ("model", "name"),
    [(m, p.name) for m, s in catalog.items() for p in s.params if p.type == "boolean"],
)
def test_booleans_are_a_checkbox_or_a_default_on_off_choice(model: str, name: str) -> None:
    form = Form(model)
    control = form.controls[name]
    drawn = field(form, name)
    if isinstance(control, TriStateControl):
        assert drawn["kind"] == "tristate"
        assert [label for label, _value in drawn["options"]] == ["(default)", "on", "off"]
    else:
        assert drawn["kind"] == "flag" and isinstance(drawn["value"], bool)
