"""The parameter form, driven by the catalog: every model, every parameter, no kernel needed."""

from __future__ import annotations

import html
import json
from typing import Any

import ipywidgets as widgets
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
from tests.helpers.images import solid_png
from tests.helpers.widgets import walk

ALL_PARAMS = [(model, p.name) for model, spec in catalog.items() for p in spec.params]


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


def _choices(control: ParamControl) -> list[Any]:
    """The option values a choice-like control offers."""
    if isinstance(control, ChoiceControl):
        return [value for _label, value in control.dropdown.options]
    if isinstance(control, SizeControl):
        return [value for _label, value in control.preset.options]
    if isinstance(control, TriStateControl):
        return [value for _label, value in control.choice.options]
    raise AssertionError(f"{control!r} has no choices")


def test_every_model_has_a_form() -> None:
    assert len(catalog) == 8
    for model in catalog:
        form = Form(model)
        names = catalog[model].names
        leading = [name for name in LEADING if name in names]
        assert list(form.controls) == leading + [n for n in names if n not in leading]
        assert next(iter(form.controls)) == "prompt"
        assert form.children == tuple(control.box for control in form.controls.values())


@pytest.mark.parametrize(("model", "name"), ALL_PARAMS)
def test_every_parameter_has_the_right_control_default_and_options(model: str, name: str) -> None:
    spec = catalog[model].param(name)
    form = Form(model)
    control = form.controls[name]

    assert type(control) is _expected_class(spec)
    assert control.value == spec.default
    assert control.is_default()
    box_classes = control.box._dom_classes
    assert "mountsea-param" in box_classes and f"mountsea-param-{name}" in box_classes
    if spec.enum is not None:
        choices = _choices(control)
        unset = [UNSET] if spec.default is None else []
        custom = [CUSTOM] if spec.type == "string|object" else []
        assert choices == unset + list(spec.enum) + custom
    if spec.type == "boolean" and spec.default is None:
        assert _choices(control) == [UNSET, "true", "false"]
    if spec.default is not None:
        assert form.value()[name] == spec.default
    else:
        assert name not in form.value()  # unset is left out, never sent as null or ""


@pytest.mark.parametrize(("model", "name"), ALL_PARAMS)
def test_every_parameter_has_its_description_as_a_tooltip(model: str, name: str) -> None:
    spec = catalog[model].param(name)
    control = Form(model).controls[name]
    tooltips = [
        getattr(w, "tooltip", None) or ""
        for w in walk(control.box)
        if isinstance(w, widgets.DOMWidget)
    ]
    assert any(spec.description.strip()[:40] in tip for tip in tooltips)
    assert any(spec.allowed in tip for tip in tooltips)


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
    control = form.controls["thinking_level"]
    assert isinstance(control, ChoiceControl)
    assert control.dropdown.options[0] == ("(default)", UNSET)
    assert "thinking_level" not in form.value()
    control.dropdown.value = "high"
    assert form.value()["thinking_level"] == "high"


def test_three_way_booleans_send_nothing_true_or_false() -> None:
    form = Form("nano-banana")
    toggle = form.controls["sync_mode"]
    assert isinstance(toggle, TriStateControl)
    assert "sync_mode" not in form.value()
    toggle.choice.value = "true"
    assert form.value()["sync_mode"] is True
    toggle.choice.value = "false"
    assert form.value()["sync_mode"] is False


def test_booleans_with_a_default_are_checkboxes() -> None:
    form = Form("nano-banana-2")
    flag = form.controls["limit_generations"]
    assert isinstance(flag, FlagControl) and flag.checkbox.value is True
    flag.checkbox.value = False
    assert form.value()["limit_generations"] is False


def test_num_images_out_of_range_disables_with_the_catalog_reason() -> None:
    form = Form("nano-banana")
    form.controls["prompt"].set("x")
    control = form.controls["num_images"]
    assert isinstance(control, IntegerControl)
    control.number.value = 5
    assert "above the maximum 4" in form.problems()["num_images"]
    assert "num_images" in control.error.value and control.error.layout.display == ""
    control.number.value = 0
    assert "below the minimum 1" in form.problems()["num_images"]
    control.number.value = 4
    assert form.problems() == {}
    assert control.error.layout.display == "none"


def test_seed_blank_is_random_text_is_an_error_and_the_dice_fill_it() -> None:
    form = Form("nano-banana")
    form.controls["prompt"].set("x")
    seed = form.controls["seed"]
    assert isinstance(seed, OptionalIntegerControl)
    assert "seed" not in form.value()
    seed.text.value = "12abc"
    assert "not a whole number" in form.problems()["seed"]
    with pytest.raises(ValidationError) as caught:
        form.validate()
    assert caught.value.params == ["seed"]
    seed.dice.click()
    assert form.problems() == {}
    assert isinstance(form.value()["seed"], int)
    assert "mountsea-seed-random" in seed.dice._dom_classes


def test_image_urls_is_one_url_per_line() -> None:
    form = Form("nano-banana-edit")
    form.controls["prompt"].set("make it blue")
    urls = form.controls["image_urls"]
    assert isinstance(urls, UrlListControl) and isinstance(urls.text, widgets.Textarea)
    urls.text.value = "https://example.com/a.png\n\n  https://example.com/b.jpg  \n"
    assert form.value()["image_urls"] == ["https://example.com/a.png", "https://example.com/b.jpg"]
    assert form.problems() == {}
    urls.text.value = "ftp://example.com/a.png"
    assert "image_urls" in form.problems()


def test_prompts_are_textareas() -> None:
    form = Form("nano-banana-pro")
    assert isinstance(form.controls["prompt"].text, widgets.Textarea)  # type: ignore[attr-defined]
    assert isinstance(form.controls["system_prompt"].text, widgets.Textarea)  # type: ignore[attr-defined]
    assert list(form.controls)[:2] == ["prompt", "system_prompt"]


def test_enable_web_search_is_disabled_on_nano_banana_pro_with_the_reason() -> None:
    form = Form("nano-banana-pro")
    control = form.controls["enable_web_search"]
    reason = catalog["nano-banana-pro"].param("enable_web_search").unavailable
    assert reason
    assert isinstance(control, TriStateControl) and control.choice.disabled
    assert html.escape(reason) in control.note.value and control.note.layout.display == ""
    assert "enable_web_search" not in form.value()
    assert control.set(True) is False  # refused: the catalog says it is unavailable
    # Elsewhere it is an ordinary control.
    assert not Form("nano-banana-2").controls["enable_web_search"].choice.disabled  # type: ignore[attr-defined]


# --- gpt-image-2 image_size -------------------------------------------------------------------


def _size_form() -> tuple[Form, SizeControl]:
    form = Form("gpt-image-2")
    form.controls["prompt"].set("a poster")
    control = form.controls["image_size"]
    assert isinstance(control, SizeControl)
    return form, control


def test_image_size_presets_and_custom() -> None:
    form, size = _size_form()
    assert size.preset.value == "landscape_4_3" and form.value()["image_size"] == "landscape_4_3"
    assert size.custom.layout.display == "none"
    size.preset.value = CUSTOM
    assert size.custom.layout.display == ""
    assert form.value()["image_size"] == {"width": 1536, "height": 1024}
    assert form.problems() == {}
    assert "1536 × 1024" in size.note.value
    assert "mountsea-size-control" in size.row._dom_classes


@pytest.mark.parametrize(
    ("width", "height", "reason"),
    [
        (1000, 1024, "multiples of 16"),
        (4096, 2048, "at most 3840"),
        (3840, 1024, "ratio must be at most 3:1"),
        (512, 512, "between 655,360 and 8,294,400"),
        (0, 1024, "must be positive"),
    ],
)
def test_invalid_custom_sizes_disable_generate_with_the_reason(
    width: int, height: int, reason: str
) -> None:
    from mountsea_widgets.widgets.studio import Studio

    studio = Studio("gpt-image-2", client=_NoClient(), history=False)
    studio.form.controls["prompt"].set("a poster")
    size = studio.form.controls["image_size"]
    assert isinstance(size, SizeControl)
    size.preset.value = CUSTOM
    assert not studio.generate_button.disabled
    size.width.value = width
    size.height.value = height

    assert studio.generate_button.disabled
    assert reason in studio.form.problems()["image_size"]
    assert html.escape(reason) in size.error.value  # shown under the control itself
    assert "mountsea-error" in size.error._dom_classes
    assert html.escape(reason) in studio.reason.value
    size.preset.value = "square_hd"
    assert not studio.generate_button.disabled
    studio.close()


class _NoClient:
    """Stands in for an AsyncClient where no request is ever made."""

    base_url = "http://hub.invalid"

    async def submit(self, model: str, input: Any) -> str:
        raise AssertionError("no request expected")

    async def close(self) -> None:
        return None


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
    form, size = _size_form()
    size.preset.value = CUSTOM
    size.width.value = 2048
    size.height.value = 1152
    form.set_model("gpt-image-2-edit")
    assert form.value()["image_size"] == {"width": 2048, "height": 1152}
    assert form.controls["image_size"].custom.layout.display == ""  # type: ignore[attr-defined]


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


def test_old_controls_are_closed_on_switch() -> None:
    form = Form("nano-banana")
    old = form.controls["aspect_ratio"].dropdown  # type: ignore[attr-defined]
    assert old.comm is not None
    form.set_model("gpt-image-2")
    assert old.comm is None


def test_error_text_is_escaped() -> None:
    form = Form("nano-banana")
    seed = form.controls["seed"]
    seed.text.value = "<img src=x onerror=alert(1)>"  # type: ignore[attr-defined]
    assert "<img" not in seed.error.value
    assert "&lt;img" in seed.error.value


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


def _upload(control: UrlListControl, *files: tuple[str, bytes]) -> None:
    """What the browser sends when files are chosen in the FileUpload widget (a comm update)."""
    control.upload.set_state(
        {
            "value": [
                {
                    "name": name,
                    "type": "image/png",
                    "size": len(data),
                    "content": memoryview(data),
                    "last_modified": 1_700_000_000_000,
                }
                for name, data in files
            ]
        }
    )


def _edit_form() -> tuple[Form, UrlListControl]:
    form = Form("nano-banana-edit")
    form.controls["prompt"].set("make it blue")
    control = form.controls["image_urls"]
    assert isinstance(control, UrlListControl)
    return form, control


def test_an_uploaded_file_becomes_a_data_uri_chip() -> None:
    from mountsea_widgets._images import parse_data_uri

    form, control = _edit_form()
    assert isinstance(control.upload, widgets.FileUpload)
    assert control.upload.accept == "image/*" and control.upload.multiple
    assert "add image file" in control.upload.description
    control.text.value = "https://example.com/a.png"
    _upload(
        control,
        ("red.png", solid_png(MAGENTA, UPLOAD_SIZE)),
        ("blue.png", solid_png((0, 0, 255), UPLOAD_SIZE)),
    )

    value = form.value()["image_urls"]
    assert value[0] == "https://example.com/a.png"
    assert [parse_data_uri(uri) for uri in value[1:]] == [
        (solid_png(MAGENTA, UPLOAD_SIZE), "image/png"),
        (solid_png((0, 0, 255), UPLOAD_SIZE), "image/png"),
    ]
    assert form.problems() == {}
    assert control.text.value == "https://example.com/a.png"  # the box keeps URLs only
    assert control.upload.value == ()  # cleared: the bytes do not stay in the widget state
    chips = control.chips.children
    assert len(chips) == 2 and all("mountsea-attachment" in c._dom_classes for c in chips)
    labels = [a.label.value for a in control.attachments]
    assert labels[0].startswith("#2 red.png") and "PNG 32×24" in labels[0]
    assert labels[1].startswith("#3 blue.png")


def test_the_page_never_holds_the_data_uri() -> None:
    form, control = _edit_form()
    _upload(control, ("red.png", solid_png(MAGENTA, (200, 200))))
    uri = form.value()["image_urls"][0]
    payload = uri.split(",", 1)[1]
    states = json.dumps([w.get_state() for w in walk(form)], default=repr)
    assert payload[:200] not in states


def test_removing_a_chip_drops_its_image_and_renumbers_the_rest() -> None:
    form, control = _edit_form()
    _upload(
        control,
        ("one.png", solid_png(MAGENTA, UPLOAD_SIZE)),
        ("two.png", solid_png((0, 255, 0), UPLOAD_SIZE)),
    )
    first = control.attachments[0]
    assert "mountsea-attachment-remove" in first.remove_button._dom_classes
    assert first.remove_button.icon == "times"
    first.remove_button.click()
    assert first.chip.comm is None  # closed
    assert len(form.value()["image_urls"]) == 1
    assert control.attachments[0].label.value.startswith("#1 two.png")
    control.attachments[0].remove_button.click()
    assert "image_urls" not in form.value()
    assert form.problems() == {"image_urls": "is required"}


def test_bytes_that_are_not_an_image_show_a_clear_error_and_add_nothing() -> None:
    _form, control = _edit_form()
    _upload(control, ("notes.txt", b"just some text"), ("ok.png", solid_png(MAGENTA, UPLOAD_SIZE)))
    assert len(control.attachments) == 1 and control.attachments[0].name == "ok.png"
    assert control.upload_error.layout.display == ""
    assert "notes.txt was not added" in control.upload_error.value
    assert "not an image" in control.upload_error.value
    assert "mountsea-upload-error" in control.upload_error._dom_classes
    _upload(control, ("fine.png", solid_png(MAGENTA, UPLOAD_SIZE)))
    assert control.upload_error.layout.display == "none"


def test_an_upload_too_big_to_send_inline_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from mountsea_widgets.widgets import image_list_control

    form, control = _edit_form()
    monkeypatch.setattr(image_list_control, "MAX_DATA_URI_CHARS", 100)
    problem = control.attach(solid_png(MAGENTA, UPLOAD_SIZE), "large.png")
    assert problem is not None and "large.png was not added" in problem
    assert "http(s) URL" in problem
    assert control.attachments == [] and "image_urls" not in form.value()


def test_a_pasted_data_uri_moves_into_a_chip() -> None:
    from mountsea_widgets._images import to_data_uri

    form, control = _edit_form()
    uri = to_data_uri(solid_png(MAGENTA, UPLOAD_SIZE))
    control.text.value = f"https://example.com/a.png\n{uri}\nhttps://example.com/b.png"
    assert control.text.value == "https://example.com/a.png\nhttps://example.com/b.png"
    assert form.value()["image_urls"] == [
        "https://example.com/a.png",
        "https://example.com/b.png",
        uri,
    ]
    assert control.attachments[0].label.value.startswith("#3 ")


def test_a_line_that_is_not_a_url_is_named_by_its_line_number() -> None:
    form, control = _edit_form()
    control.text.value = "https://example.com/a.png\n/home/me/cat.png"
    problem = form.problems()["image_urls"]
    assert "line 2 ('/home/me/cat.png') is not an http(s) URL" in problem
    assert "add image file" in problem
    assert "line 2" in control.error.value and control.error.layout.display == ""


def test_eleven_images_in_the_form_are_refused_naming_image_urls() -> None:
    form, control = _edit_form()
    control.text.value = "\n".join(f"https://example.com/{n}.png" for n in range(10))
    assert form.problems() == {}
    control.attach(solid_png(MAGENTA, UPLOAD_SIZE), "one-too-many.png")
    assert "11 images given; at most 10" in form.problems()["image_urls"]


def test_set_load_and_model_switch_keep_attachments_with_their_names() -> None:
    from mountsea_widgets._images import to_data_uri

    form, control = _edit_form()
    control.attach(solid_png(MAGENTA, UPLOAD_SIZE), "kept.png")
    uri = control.attachments[0].uri
    control.append("https://example.com/x.png")
    form.set_model("gpt-image-2-edit")
    moved = form.controls["image_urls"]
    assert isinstance(moved, UrlListControl)
    assert form.value()["image_urls"] == ["https://example.com/x.png", uri]
    assert moved.attachments[0].name == "kept.png"
    other = to_data_uri(solid_png((1, 2, 3), UPLOAD_SIZE))
    # URLs are listed first, then attached images (what the chips' numbers show).
    assert (
        form.load("nano-banana-edit", {"prompt": "p", "image_urls": [other, "https://e.x/1"]}) == []
    )
    assert form.value()["image_urls"] == ["https://e.x/1", other]
    assert form.load("nano-banana-edit", {"prompt": "p", "image_urls": [other]}) == []
    loaded = form.controls["image_urls"]
    assert isinstance(loaded, UrlListControl)
    assert loaded.text.value == "" and [a.uri for a in loaded.attachments] == [other]
    loaded.reset()
    assert loaded.attachments == [] and loaded.chips.children == ()


# --- what a person sees: no emoji glyphs, aligned controls ----------------------------------------

#: Code points drawn from an emoji font (or missing entirely without one): pictographs,
#: dingbats and symbols, technical symbols (hourglasses, play/stop), arrows like ⤢, variation
#: selectors and the zero-width joiner.
EMOJI_RANGES = (
    (0x1F000, 0x1FAFF),
    (0x2600, 0x27BF),
    (0x2300, 0x23FF),
    (0x2B00, 0x2BFF),
    (0x2900, 0x297F),
    (0xFE00, 0xFE0F),
    (0x200D, 0x200D),
)


def _emoji_in(text: str) -> list[str]:
    return [ch for ch in text if any(lo <= ord(ch) <= hi for lo, hi in EMOJI_RANGES)]


def _texts(widget: Any) -> list[str]:
    """Every text a person can see or hover over in ``widget`` and its children."""
    texts = []
    for each in walk(widget):
        for trait in ("description", "placeholder", "tooltip", "value"):
            value = getattr(each, trait, None)
            if isinstance(value, str):
                texts.append(value)
        texts += [str(label) for label in getattr(each, "_options_labels", ())]
    return texts


def test_the_emoji_check_finds_emoji() -> None:
    assert _emoji_in("🎲 random ✅ ⏳ ⚙️ ⤢") == ["🎲", "✅", "⏳", "⚙", "\ufe0f", "⤢"]
    assert _emoji_in("text → image · 1536 × 1024 … — ok") == []


@pytest.mark.parametrize("model", list(catalog))
def test_no_emoji_in_any_form(model: str) -> None:
    form = Form(model)
    form.controls["prompt"].set("a cat")
    for control in form.controls.values():
        control.show_error("something is wrong")  # the error label too
    if "image_urls" in form.controls:
        urls = form.controls["image_urls"]
        assert isinstance(urls, UrlListControl)
        urls.attach(solid_png(MAGENTA, UPLOAD_SIZE), "cat.png")
        urls.attach(b"nope", "bad.txt")
    if "image_size" in form.controls:
        form.controls["image_size"].set({"width": 1536, "height": 1024})
    found = {text: _emoji_in(text) for text in _texts(form) if _emoji_in(text)}
    assert found == {}


def test_no_emoji_in_a_task_cell_in_any_status() -> None:
    from mountsea_widgets.result import Result
    from mountsea_widgets.run import RUN_STATUSES, Run
    from mountsea_widgets.widgets.task_cell import TaskCell

    for status in RUN_STATUSES:
        run = Run("nano-banana", {"prompt": "a cat", "seed": 3})
        if status == "completed":
            run.result = Result(
                task_id="t1",
                model="nano-banana",
                image_bytes=[solid_png(MAGENTA, UPLOAD_SIZE), solid_png(MAGENTA, UPLOAD_SIZE)],
            )
        run.update(status=status, task_id="t1", error=None if status == "completed" else "boom")
        cell = TaskCell(run, on_reuse=lambda _r: None, on_use_input=lambda _ref: None)
        cell.toggle_code()
        if status == "completed":
            assert cell.gallery.count == 2
            cell.gallery.show_full(0)
            assert cell.use_input_button.layout.display == ""
        found = {text: _emoji_in(text) for text in _texts(cell) if _emoji_in(text)}
        assert found == {}, status
        assert 'class="fa fa-' in cell.status.value  # an icon from the Font Awesome font
        cell.close()


def test_seed_dice_uses_an_icon() -> None:
    seed = Form("nano-banana").controls["seed"]
    assert isinstance(seed, OptionalIntegerControl)
    assert seed.dice.icon == "dice" and seed.dice.description == "random"


@pytest.mark.parametrize(
    ("model", "name"),
    [(m, p.name) for m, s in catalog.items() for p in s.params if p.type == "boolean"],
)
def test_booleans_line_up_with_the_other_controls(model: str, name: str) -> None:
    """One row, the name in the same 150px column as every other control's description."""
    from mountsea_widgets.widgets.control_base import LABEL_WIDTH

    control = Form(model).controls[name]
    (row,) = control.widgets()
    assert isinstance(row, widgets.Dropdown | widgets.Checkbox)  # never ToggleButtons
    assert row.description == name
    assert row.style.description_width == LABEL_WIDTH
    if isinstance(control, TriStateControl):
        assert [label for label, _value in control.choice.options] == [
            "(default)",
            "true",
            "false",
        ]


def test_no_emoji_anywhere_in_the_studio_across_models() -> None:
    from mountsea_widgets.widgets.studio import Studio

    studio = Studio("nano-banana", client=_NoClient(), history=False)  # type: ignore[arg-type]
    try:
        for model in catalog:
            studio.model_select.value = model
            found = {text: _emoji_in(text) for text in _texts(studio) if _emoji_in(text)}
            assert found == {}, model
    finally:
        studio.close()
