"""The headless form as its page talks to it: state(), receive(), attach(), detach(), handlers().

The page sends the inputs' values as it holds them (strings, booleans); Python parses them,
asks the catalog, and answers with a message per field.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from mountsea_widgets.widgets._view import View
from mountsea_widgets.widgets.form import Form
from tests.helpers.images import solid_png
from tests.helpers.views import PageRecorder, send

PNG = solid_png((10, 200, 30), (40, 30))


def messages(form: Form) -> dict[str, str]:
    """Each field's message, the fields without one left out."""
    return {f["name"]: f["message"] for f in form.state()["fields"] if f["message"]}


def field(form: Form, name: str) -> dict[str, Any]:
    (found,) = [f for f in form.state()["fields"] if f["name"] == name]
    return found


# --- state() ------------------------------------------------------------------------------------


def test_state_is_json_with_a_revision_the_model_and_every_field() -> None:
    form = Form("gpt-image-2-edit")
    state = json.loads(json.dumps(form.state()))
    assert state == form.state()
    assert set(state) == {"revision", "model", "fields"}
    assert state["model"] == "gpt-image-2-edit" and isinstance(state["revision"], int)
    common = {"name", "kind", "label", "tooltip", "required", "value", "message", "note"}
    for drawn in state["fields"]:
        assert common | {"disabled"} <= set(drawn), drawn["name"]
    kinds = {f["name"]: f["kind"] for f in state["fields"]}
    assert kinds["prompt"] == "text" and kinds["image_urls"] == "images"
    assert kinds["image_size"] == "size" and kinds["output_format"] == "enum"


def test_the_revision_moves_when_the_page_must_redraw_and_only_then() -> None:
    form = Form("nano-banana")
    start = form.state()["revision"]
    form.receive({"prompt": "a fox", "seed": "7"})
    assert form.state()["revision"] == start  # the page keeps what the person types
    form.controls["prompt"].set("set from Python")
    set_from_python = form.state()["revision"]
    assert set_from_python > start
    form.set_model("nano-banana-2")
    switched = form.state()["revision"]
    assert switched > set_from_python
    form.load("nano-banana-2", {"prompt": "reused"})
    assert form.state()["revision"] > switched
    assert field(form, "prompt")["value"] == "reused"


# --- receive(): a message per field as the person types -----------------------------------------


def test_a_bad_value_gets_a_message_on_its_field_only_and_fixing_it_clears_it() -> None:
    form = Form("nano-banana")
    heard: list[dict[str, str]] = []
    form.on_change(lambda f: heard.append(f.problems()))
    assert form.receive({"prompt": "a fox", "seed": "12abc", "num_images": "1"})
    assert messages(form) == {"seed": "'12abc' is not a whole number (leave it blank for random)"}
    assert heard and "seed" in heard[-1]  # the listeners heard it
    form.receive({"prompt": "a fox", "seed": "12", "num_images": "9"})
    assert list(messages(form)) == ["num_images"]
    assert "above the maximum 4" in messages(form)["num_images"]
    form.receive({"prompt": "a fox", "seed": "12", "num_images": "2"})
    assert messages(form) == {} and form.value()["num_images"] == 2 and form.value()["seed"] == 12


def test_an_untouched_required_field_says_nothing_until_touched() -> None:
    form = Form("nano-banana")
    assert "prompt" in form.problems()  # Generate stays off ...
    assert messages(form) == {}  # ... but a form just opened does not shout
    form.receive({"seed": "3"})  # another field typed in: the prompt is still untouched
    assert messages(form) == {}
    form.receive({"prompt": "x"})
    form.receive({"prompt": ""})  # typed, then cleared
    assert messages(form) == {"prompt": "Prompt is required"}


def test_touch_all_and_validate_show_every_missing_required_value() -> None:
    form = Form("nano-banana-edit")
    form.touch_all()
    assert set(messages(form)) == {"prompt", "image_urls"}
    other = Form("nano-banana-edit")
    with pytest.raises(Exception, match="prompt"):
        other.validate()  # pressing Generate
    assert set(messages(other)) == {"prompt", "image_urls"}


def test_values_the_page_holds_unchanged_touch_nothing() -> None:
    form = Form("nano-banana")
    heard: list[Form] = []
    form.on_change(heard.append)
    as_shown = {f["name"]: f["value"] for f in form.state()["fields"]}
    assert form.receive(as_shown) is False
    assert heard == [] and not any(c.touched for c in form.controls.values())


def test_values_for_an_older_revision_are_ignored() -> None:
    form = Form("nano-banana")
    old = form.state()["revision"]
    form.load("nano-banana", {"prompt": "reused prompt"})
    assert form.receive({"prompt": "typed before the reuse"}, revision=old) is False
    assert form.value()["prompt"] == "reused prompt"
    assert form.receive({"prompt": "typed after"}, revision=form.state()["revision"])
    assert form.value()["prompt"] == "typed after"


def test_unknown_names_and_odd_types_from_the_page_are_handled() -> None:
    form = Form("nano-banana")
    form.receive({"no_such": "x", "num_images": 3, "sync_mode": True, "seed": None})
    assert form.value()["num_images"] == 3 and form.value()["sync_mode"] is True
    assert "seed" not in form.value() and "no_such" not in form.value()
    form.receive({"num_images": True})  # a boolean is never a number here
    assert "num_images" in messages(form)


def test_an_enum_value_the_catalog_does_not_know_gets_the_catalogs_message() -> None:
    form = Form("nano-banana")
    form.receive({"aspect_ratio": "7:3"})
    assert "aspect_ratio" in messages(form) and "1:1" in messages(form)["aspect_ratio"]


# --- attach() / detach() ----------------------------------------------------------------------


def test_attach_adds_a_chip_and_detach_removes_it_by_index() -> None:
    form = Form("nano-banana-edit")
    assert form.attach("image_urls", "photo.png", PNG) is None
    assert form.attach("image_urls", "second.png", PNG) is None
    items = field(form, "image_urls")["items"]
    assert [item["label"].split(" · ")[0] for item in items] == ["photo.png", "second.png"]
    assert items[0]["label"].endswith(" KB")
    form.detach("image_urls", 0)
    assert [i["label"].split(" · ")[0] for i in field(form, "image_urls")["items"]] == [
        "second.png"
    ]


def test_attach_refusals_name_the_file_in_plain_words() -> None:
    form = Form("nano-banana-edit")
    refusal = form.attach("image_urls", "notes.txt", b"hello")
    assert refusal is not None and refusal.startswith("notes.txt was not added")
    assert "Error" not in refusal and "errno" not in refusal.lower()
    plain = Form("nano-banana").attach("image_urls", "photo.png", PNG)
    assert plain == "photo.png was not added: nano-banana takes no reference images"


# --- handlers(): the page's messages ------------------------------------------------------------


class _FormView(View):
    """The smallest view holding a form, as the Studio will."""

    def __init__(self, model: str) -> None:
        super().__init__()
        self.form = Form(model)
        self.states: list[dict[str, Any]] = []
        for kind, handler in self.form.handlers().items():
            self.on_page(kind, handler)
        self.form.on_change(lambda form: self.states.append(form.state()))


def test_handlers_cover_the_three_page_messages() -> None:
    assert set(Form().handlers()) == {"form", "attach", "detach"}


def test_the_page_messages_reach_the_form_through_a_view() -> None:
    view = _FormView("nano-banana-edit")
    recorder = PageRecorder(view)
    revision = view.form.state()["revision"]
    send(view, "form", values={"prompt": "make it blue", "seed": "x"}, revision=revision)
    assert view.form.value()["prompt"] == "make it blue"
    assert "seed" in messages(view.form) and view.states[-1]["fields"][0]["value"] == "make it blue"

    send(view, "attach", buffers=[PNG], field="image_urls", name="cat.png", mime="image/png")
    assert len(view.form.value()["image_urls"]) == 1
    assert field(view.form, "image_urls")["items"][0]["label"].startswith("cat.png")
    send(view, "attach", field="image_urls", name="empty.png", mime="image/png")  # no buffer
    assert "empty.png was not added" in messages(view.form)["image_urls"]
    send(view, "detach", field="image_urls", index=0)
    assert "image_urls" not in view.form.value()
    send(view, "detach", field="image_urls", index="zero")  # ignored, not a failure
    assert recorder.of_type("problem") == []
    view.close()


def test_a_file_too_big_for_the_page_to_send_is_refused_without_its_bytes() -> None:
    view = _FormView("nano-banana-edit")
    limit = field(view.form, "image_urls")["max_file_bytes"]
    send(view, "attach", field="image_urls", name="huge.png", mime="image/png", size=limit + 1)
    message = messages(view.form)["image_urls"]
    assert "huge.png was not added" in message and "http(s) URL" in message
    assert "image_urls" not in view.form.value()
    view.close()
