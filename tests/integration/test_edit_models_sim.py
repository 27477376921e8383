"""Edit models end to end over real loopback HTTP: images given from Python, from a history
cell's "Use as input" and from the magic reach the simulator, which edits the first input
image into its result when it can see it (a data: URI, or one of its own result URLs)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import mountsea_widgets as mw
from mountsea_widgets import magics
from mountsea_widgets._images import parse_data_uri, to_data_uri
from mountsea_widgets.catalog import TYPICAL_SECONDS
from mountsea_widgets.client import AsyncClient, Client
from mountsea_widgets.history import History
from mountsea_widgets.result import Result
from mountsea_widgets.run import run_from_entry
from mountsea_widgets.simulator import SimulatorServer
from mountsea_widgets.widgets.controls import UrlListControl
from mountsea_widgets.widgets.run_card import Card
from mountsea_widgets.widgets.studio import EDIT_MODEL_OF, Studio
from tests.helpers.images import solid_png
from tests.helpers.studios import studio_maker
from tests.helpers.views import send

SPEED = 200.0
#: A colour the simulator never paints by itself: seeing it in a result means the edited input.
MAGENTA = (255, 0, 255)
DURATIONS = {model: seconds / SPEED for model, seconds in TYPICAL_SECONDS.items()}


def _magenta_pixels(data: bytes) -> int:
    """Pixels of the magenta input, even tinted by the instruction ("make it blue")."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    colors = image.getcolors(maxcolors=image.width * image.height) or []
    return sum(count for count, (r, g, b) in colors if r > 150 and b > 150 and g < 90)


def _sent(hub: SimulatorServer, result: Result) -> list[str]:
    """The image_urls the simulator received for ``result``'s task."""
    return list(hub.hub.task(result.task_id).input["image_urls"])


def _client(hub: SimulatorServer) -> Client:
    return Client(base_url=hub.url, durations=DURATIONS)


def _async_client(hub: SimulatorServer) -> AsyncClient:
    return AsyncClient(base_url=hub.url, durations=DURATIONS)


# --- from Python ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["pil", "path", "bytes"])
def test_an_image_from_python_arrives_as_a_data_uri_and_is_seen(
    loopback_hub: SimulatorServer, tmp_path: Path, kind: str
) -> None:
    data = solid_png(MAGENTA, (96, 64))
    file = tmp_path / "source.png"
    file.write_bytes(data)
    given: Any = {"pil": Image.open(file), "path": file, "bytes": data}[kind]
    with _client(loopback_hub) as client:
        result = client.generate("nano-banana-edit", "make it blue", image_urls=[given])
    (sent,) = _sent(loopback_hub, result)
    assert sent.startswith("data:image/png;base64,")
    assert Image.open(io.BytesIO(parse_data_uri(sent)[0])).size == (96, 64)
    assert result.input["image_urls"] == [sent]  # the Result records what was sent
    assert loopback_hub.hub.task(result.task_id).source is not None  # the simulator could see it
    assert _magenta_pixels(result.image_bytes[0]) > 100  # and edited it


def test_a_url_is_sent_as_given_and_a_simulated_result_can_be_edited(
    loopback_hub: SimulatorServer,
) -> None:
    with _client(loopback_hub) as client:
        first = client.generate(
            "nano-banana-edit", "a frame", image_urls=[solid_png(MAGENTA, (96, 64))]
        )
        url = first.urls[0]
        assert url.startswith(loopback_hub.url + "/files/")
        second = client.generate("nano-banana-edit", "again", image_urls=[url])
    assert _sent(loopback_hub, second) == [url]
    assert loopback_hub.hub.task(second.task_id).source is not None
    assert _magenta_pixels(second.image_bytes[0]) > 0  # the edit of an edit


def test_mw_generate_mixes_pil_path_bytes_and_urls(
    loopback_hub: SimulatorServer, tmp_path: Path
) -> None:
    file = tmp_path / "b.png"
    file.write_bytes(solid_png(MAGENTA, (40, 40)))
    client = _async_client(loopback_hub)
    result = mw.generate(
        "nano-banana-2-edit",
        "combine them",
        client=client,
        image_urls=[
            Image.new("RGB", (30, 30), MAGENTA),
            file,
            solid_png(MAGENTA, (20, 20)),
            loopback_hub.url,
        ],
    )
    asyncio.run(client.close())
    sent = _sent(loopback_hub, result)
    assert [item[:15] for item in sent[:3]] == ["data:image/png;"] * 3
    assert sent[3] == loopback_hub.url
    assert result.input["image_urls"] == sent


# --- from a history cell: "Use as input" ---------------------------------------------------------


@pytest.fixture
def make_studio(loopback_hub: SimulatorServer) -> Iterator[Any]:
    """Studios with no history unless given one, on a client that knows the fast durations."""

    def client(base_url: str, api_key: str | None) -> AsyncClient:
        return AsyncClient(base_url=base_url, api_key=api_key, durations=DURATIONS)

    with studio_maker(loopback_hub.url, False, client=client) as make:
        yield make


def _generate(studio: Studio, prompt: str, **params: Any) -> Any:
    studio.form.controls["prompt"].set(prompt)
    for name, value in params.items():
        assert studio.form.controls[name].set(value), name
    run = studio.generate()
    assert studio.wait_idle(30)
    assert run.status == "completed", run.error
    return run


def _image_urls(studio: Studio) -> UrlListControl:
    control = studio.form.controls["image_urls"]
    assert isinstance(control, UrlListControl)
    return control


@pytest.mark.parametrize(
    "model", ["nano-banana", "nano-banana-2", "nano-banana-pro", "gpt-image-2"]
)
def test_use_as_input_switches_to_the_edit_model_with_the_url(
    make_studio: Any, loopback_hub: SimulatorServer, model: str
) -> None:
    studio = make_studio(model)
    run = _generate(studio, "a lighthouse")
    record = studio.recent[0]
    assert record["id"] == run.run_id and "use-input" in record["actions"]

    send(studio, "action", action="use-input", run_id=run.run_id, index=0)
    assert EDIT_MODEL_OF[model] == f"{model}-edit"
    assert studio.model == studio.form.model == f"{model}-edit"
    assert studio.form.value()["image_urls"] == [run.result.urls[0]]
    assert run.result.urls[0].startswith(loopback_hub.url)  # the provider's http(s) URL
    assert studio.form.value()["prompt"] == "a lighthouse"
    assert studio.can_generate

    if model == "nano-banana":  # and the edit really uses it
        studio.form.controls["prompt"].set("make it night")
        edit = studio.generate()
        assert studio.wait_idle(30) and edit.status == "completed", edit.error
        assert loopback_hub.hub.task(edit.task_id).source is not None


def test_use_as_input_on_an_edit_model_appends(make_studio: Any) -> None:
    studio = make_studio("nano-banana-edit")
    first = _generate(studio, "edit", image_urls=[to_data_uri(solid_png(MAGENTA, (96, 64)))])
    send(studio, "action", action="use-input", run_id=first.run_id, index=0)
    assert studio.form.model == "nano-banana-edit"
    control = _image_urls(studio)
    assert control.urls() == [first.result.urls[0]]
    assert len(control.attachments) == 1  # the data URI it had before is still there


def test_a_sync_mode_result_goes_in_as_a_data_uri_of_the_chosen_image(make_studio: Any) -> None:
    studio = make_studio("nano-banana")
    run = _generate(studio, "two cubes", sync_mode=True, num_images=2)
    assert all(url.startswith("data:") for url in run.result.urls)  # no URL to give
    send(studio, "action", action="use-input", run_id=run.run_id, index=1)  # the second one

    assert studio.form.model == "nano-banana-edit"
    control = _image_urls(studio)
    assert control.text == ""  # no URL: an attachment chip instead
    (attachment,) = control.attachments
    assert attachment.uri == to_data_uri(run.result.image_bytes[1])
    assert studio.form.value()["image_urls"] == [attachment.uri]


def test_a_run_read_back_from_the_history_goes_in_as_a_data_uri(
    make_studio: Any, tmp_path: Path
) -> None:
    """A run rebuilt from the journal (another session) has only its files: sent inline."""
    history = History(tmp_path / "history")
    done = _generate(make_studio("nano-banana", history=history), "remember me")
    run = run_from_entry(history.get(done.run_id))
    assert run.result is None and run.files  # only the kept files
    later = make_studio("nano-banana-pro")
    card = Card(run, on_use_input=lambda run, ref: later.use_as_input(ref, model=run.model))
    assert "use-input" in card.record()["actions"]
    reference = card.use_as_input(0)
    assert reference is not None and reference.startswith("data:image/")
    assert later.form.value()["image_urls"] == [reference]
    assert parse_data_uri(reference)[0] == run.files[0].read_bytes()
    # The run's own model's edit twin, not the form's (nano-banana-pro-edit).
    assert later.model == later.form.model == "nano-banana-edit"
    control = _image_urls(later)
    assert control.attachments[0].name == "nano-banana image 1"


def test_use_as_input_picks_the_edit_twin_of_the_runs_model(make_studio: Any) -> None:
    studio = make_studio("gpt-image-2")
    run = _generate(studio, "a poster")
    send(studio, "model", model="nano-banana-pro")  # the form moved on meanwhile
    send(studio, "action", action="use-input", run_id=run.run_id, index=0)
    assert studio.form.model == "gpt-image-2-edit"
    assert studio.form.value()["image_urls"] == [run.result.urls[0]]
    assert studio.form.value()["prompt"] == "a poster"
    studio.use_as_input(run.result.urls[0])  # from code: the form's model decides
    assert studio.form.model == "gpt-image-2-edit"


# --- from the magic ------------------------------------------------------------------------------


def test_the_magic_sends_a_local_file_as_a_data_uri(
    loopback_hub: SimulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    (tmp_path / "source.png").write_bytes(solid_png(MAGENTA, (96, 64)))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(magics, "client_factory", lambda: _async_client(loopback_hub))
    monkeypatch.setattr("IPython.display.display", lambda *_items, **_kw: None)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "mountsea_widgets")
    result = shell.run_cell_magic(
        "mountsea", "nano-banana-edit --image_urls source.png", "make it blue"
    )
    assert isinstance(result, Result)
    (sent,) = _sent(loopback_hub, result)
    assert parse_data_uri(sent) == (solid_png(MAGENTA, (96, 64)), "image/png")
    assert _magenta_pixels(result.image_bytes[0]) > 100
