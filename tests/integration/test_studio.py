"""The Studio against the simulator over real loopback HTTP (no kernel: page messages are
delivered in-thread, the way the comm would)."""

from __future__ import annotations

import ast
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from mountsea_widgets import simulator
from mountsea_widgets.catalog import catalog
from mountsea_widgets.history import History
from mountsea_widgets.metadata import read_metadata
from mountsea_widgets.simulator import SimulatorServer
from mountsea_widgets.widgets.studio import OFFLINE_NOTICE, Studio, studio
from tests.helpers.simulated_client import SPEED, FastClient
from tests.helpers.studios import ask_rows, card_thumbs, record_of
from tests.helpers.views import PageRecorder, send

SECRET = "sk-test-secret-4242"


def _prompt(studio: Studio, text: str) -> None:
    studio.form.controls["prompt"].set(text)


def _act(studio: Studio, action: str, run: Any, **content: Any) -> None:
    send(studio, "action", action=action, run_id=run.run_id, **content)


def test_generate_shows_a_card_at_once_then_thumbnails(make_studio: Any) -> None:
    studio = make_studio()
    page = PageRecorder(studio)
    _prompt(studio, "two <b>red</b> cubes")
    studio.form.controls["num_images"].set(2)
    assert studio.can_generate

    run = studio.generate()
    card = studio.cards[0]
    assert card.run is run and studio.runs[0] is run
    assert studio.run_count == 1 and studio.recent[0]["id"] == run.run_id  # at once
    assert studio.wait_idle(30)

    assert run.status == "completed", run.error
    record = record_of(studio, run)
    assert record["status"] == "completed" and record["progress"] == 1.0
    assert record["images"] == 2
    # The page heard the end with the thumbnails: small JPEGs, never the full-size PNGs.
    (ended,) = [(c, b) for c, b in page.messages if c["type"] == "run" and c["record"]["final"]]
    assert len(ended[1]) == 2 and ended[0]["record"]["thumbs"] == [0, 1]
    thumbs = card_thumbs(studio, run.run_id)
    assert run.result is not None
    for thumb, original in zip(thumbs, run.result.image_bytes, strict=True):
        assert thumb is not None and thumb[:2] == b"\xff\xd8"  # small JPEG
        assert len(thumb) < len(original)
    assert record["prompt"] == "two <b>red</b> cubes"  # text: the page never parses it
    assert ["num_images", "2"] in record["params"]
    assert run.task_id is not None and record["task"] == run.task_id
    assert studio.recent[0]["status"] == "completed"  # the saved window is current too


def test_full_size_is_sent_only_when_asked(make_studio: Any) -> None:
    studio = make_studio()
    page = PageRecorder(studio)
    _prompt(studio, "a teapot")
    run = studio.generate()
    assert studio.wait_idle(30)
    assert page.of_type("full") == []
    assert all(len(b) <= 2 and all(len(x) < 60_000 for x in b) for _c, b in page.messages)

    send(studio, "full", run_id=run.run_id, index=0)
    assert studio.wait_loaded(30)
    (answer,) = [(c, b) for c, b in page.messages if c["type"] == "full"]
    assert run.result is not None
    assert answer[1] == [run.result.image_bytes[0]]
    assert answer[0]["mime"] == "image/png" and "image 1" in answer[0]["caption"]


def test_several_runs_at_once_newest_first(make_studio: Any) -> None:
    studio = make_studio()
    _prompt(studio, "first")
    first = studio.generate()
    _prompt(studio, "second")
    send(studio, "generate")
    second = studio.runs[0]
    assert second is not first and second.prompt == "second"
    assert [c.run for c in studio.cards] == [second, first]
    assert [r["id"] for r in studio.recent] == [second.run_id, first.run_id]
    assert studio.wait_idle(30)
    assert [r.status for r in studio.runs] == ["completed", "completed"]
    assert all(row.record["images"] == 1 and len(row.thumbs) == 1 for row in ask_rows(studio))
    assert first.task_id != second.task_id


def test_a_click_from_another_thread_works(make_studio: Any) -> None:
    """JupyterLab >= 4.4 may deliver comm messages on a subshell thread: nothing may assume
    the main one."""
    studio = make_studio()
    _prompt(studio, "from a subshell")
    clicker = threading.Thread(target=lambda: send(studio, "generate"))
    clicker.start()
    clicker.join(30)
    assert len(studio.runs) == 1
    assert studio.wait_idle(30)
    assert studio.runs[0].status == "completed"
    assert len(card_thumbs(studio, studio.runs[0].run_id)) == 1


def test_generate_is_off_with_the_reason_until_the_form_is_valid(make_studio: Any) -> None:
    studio = make_studio()
    assert not studio.can_generate
    assert "prompt" in studio.reason and "is required" in studio.reason
    send(studio, "generate")  # a stale page could still send a click
    assert studio.runs == []
    assert "prompt" in studio.reason
    prompt = next(f for f in studio.form_state["fields"] if f["name"] == "prompt")
    assert "required" in prompt["message"]  # Generate pressed: the field says it too
    _prompt(studio, "ok")
    assert studio.can_generate and studio.reason == ""


def test_the_page_types_the_prompt_and_generates(make_studio: Any) -> None:
    studio = make_studio()
    revision = studio.form_state["revision"]
    send(studio, "form", values={"prompt": "typed in the page"}, revision=revision)
    assert studio.can_generate and studio.form_state["revision"] == revision
    send(studio, "generate")
    assert [run.prompt for run in studio.runs] == ["typed in the page"]
    assert studio.wait_idle(30)


def test_a_failing_run_shows_its_error_on_its_card(make_studio: Any) -> None:
    with simulator.serve(speed=SPEED, faults="task_failed=1.0") as failing:
        studio = make_studio(url=failing.url)
        _prompt(studio, "doomed")
        run = studio.generate()
        assert studio.wait_idle(30)
    record = record_of(studio, run)
    assert run.status == "failed" and record["status"] == "failed"
    assert "SIMULATED_FAILURE" in record["error"]
    assert record["images"] == 0 and "save" not in record["actions"]
    assert record["progress"] < 1.0


def test_cancel_stops_a_run_and_warns_about_billing(make_studio: Any) -> None:
    with simulator.serve(speed=0.001) as slow:
        studio = make_studio(url=slow.url)
        page = PageRecorder(studio)
        _prompt(studio, "forever")
        run = studio.generate()
        submitted = threading.Event()
        run.observe(lambda r: submitted.set() if r.task_id else None)
        if run.task_id:
            submitted.set()
        assert submitted.wait(30)
        first = record_of(studio, run)["timing"]
        # The card ticks on its own while the run waits: elapsed time and progress move.
        assert run.wait(0) is False
        ticked = threading.Event()
        run.observe(lambda r: ticked.set() if r.elapsed_s >= 0.3 else None)
        assert ticked.wait(30)
        record = record_of(studio, run)
        assert record["timing"] != first and record["progress"] > 0
        assert "/ ~6 s" in record["timing"]
        assert "cancel" in record["actions"]
        heard = threading.Event()  # the page hears the ticks too (a few times a second)
        run.observe(lambda r: heard.set() if len(_timings(page, r.run_id)) >= 3 else None)
        assert heard.wait(30)
        _act(studio, "cancel", run)
        assert studio.wait_idle(30)
    assert run.status == "cancelled"
    record = record_of(studio, run)
    assert "may still finish (and bill)" in record["error"]
    assert "cancel" not in record["actions"]


def _timings(page: PageRecorder, run_id: str) -> set[str]:
    return {c["record"]["timing"] for c in page.of_type("run") if c["record"]["id"] == run_id}


def test_reuse_loads_model_and_parameters(make_studio: Any) -> None:
    studio = make_studio("nano-banana-2")
    _prompt(studio, "reuse me")
    studio.form.controls["aspect_ratio"].set("4:1")
    studio.form.controls["thinking_level"].set("high")
    studio.generate()
    assert studio.wait_idle(30)
    send(studio, "model", model="gpt-image-2")
    assert studio.form.model == "gpt-image-2"
    _prompt(studio, "something else")
    revision = studio.form_state["revision"]

    _act(studio, "reuse", studio.runs[0])
    assert studio.model == "nano-banana-2"
    assert studio.form.model == "nano-banana-2"
    assert studio.form.value() == studio.runs[0].input
    assert studio.form_state["revision"] > revision  # the page redraws the inputs
    prompt = next(f for f in studio.form_state["fields"] if f["name"] == "prompt")
    assert prompt["value"] == "reuse me"


def test_save_writes_to_the_output_folder_and_shows_paths(
    make_studio: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    studio = make_studio()
    assert studio.save_folder == "mountsea-output"
    _prompt(studio, "save me")
    studio.form.controls["num_images"].set(2)
    run = studio.generate()
    assert studio.wait_idle(30)
    card = studio.cards[0]
    _act(studio, "save", run)
    folder = tmp_path / "mountsea-output"
    files = sorted(folder.iterdir())
    assert len(files) == 2 and card.saved_paths == [folder / f.name for f in files]
    note = record_of(studio, run)["note"]
    for file in files:
        assert str(file) in note
        assert read_metadata(file)["task_id"] == run.task_id
    studio.save_folder = str(tmp_path / "elsewhere")  # as the page sets the field
    card.save()
    assert len(list((tmp_path / "elsewhere").iterdir())) == 2


def test_code_shows_a_valid_generate_call(make_studio: Any) -> None:
    studio = make_studio("gpt-image-2")
    _prompt(studio, 'it\'s a "quoted" poster')
    size = studio.form.controls["image_size"]
    size.set({"width": 2048, "height": 1152})
    run = studio.generate()
    card = studio.cards[0]
    _act(studio, "code", run)
    record = record_of(studio, run)
    code = card.code_text()
    assert record["code"] == code  # shown as text: the page never parses it
    tree = ast.parse(code)
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call))
    assert ast.literal_eval(call.args[0]) == "gpt-image-2"
    assert ast.literal_eval(call.args[1]) == run.input["prompt"]
    assert {k.arg: ast.literal_eval(k.value) for k in call.keywords} == {
        k: v for k, v in run.input.items() if k != "prompt"
    }
    _act(studio, "code", run)
    assert "code" not in record_of(studio, run)
    assert studio.wait_idle(30)


def test_remove_drops_the_card_and_the_history_entry(make_studio: Any, history: History) -> None:
    studio = make_studio()
    _prompt(studio, "keep")
    keep = studio.generate()
    _prompt(studio, "drop")
    drop = studio.generate()
    assert studio.wait_idle(30)
    assert drop.run_id in history
    version = studio.list_version
    _act(studio, "remove", drop)
    assert studio.runs == [keep]
    assert drop.run_id not in history and keep.run_id in history
    assert studio.run_count == 1 and studio.list_version == version + 1
    assert [r["id"] for r in studio.recent] == [keep.run_id]


def test_past_runs_come_back_from_the_history(make_studio: Any, history: History) -> None:
    first = make_studio()
    _prompt(first, "remember me")
    run = first.generate()
    assert first.wait_idle(30)

    second = make_studio()
    assert second._past_loading is not None
    second._past_loading.result(30)
    assert [r.run_id for r in second.runs] == [run.run_id]
    (row,) = ask_rows(second)
    assert row.record["status"] == "completed" and len(row.thumbs) == 1
    assert row.record["prompt"] == "remember me"
    assert second.recent[0]["prompt"] == "remember me" and second.run_count == 1


def test_offline_banner_and_no_key_anywhere(
    make_studio: Any, loopback_hub: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    studio = make_studio(api_key=SECRET)
    page = PageRecorder(studio)
    assert "Mountsea hub at http://127.0.0.1" in studio.banner
    _prompt(studio, "simulated")
    run = studio.generate()
    assert studio.wait_idle(30)
    assert OFFLINE_NOTICE in studio.banner  # the answers said "simulated"
    assert studio.banner_kind == "offline"
    ask_rows(studio)
    _act(studio, "code", run)

    state = json.dumps(studio.get_state(), default=str)
    messages = json.dumps([content for content, _ in page.messages], default=str)
    for text in (state, messages, studio.fallback_html(), repr(studio), repr(studio.cards[0])):
        assert SECRET not in text


def test_default_client_is_the_embedded_simulator_and_says_so(
    monkeypatch: pytest.MonkeyPatch, history: History
) -> None:
    monkeypatch.delenv("MOUNTSEA_API_KEY", raising=False)
    monkeypatch.delenv("MOUNTSEA_BASE_URL", raising=False)
    made = studio("nano-banana-pro", history=history)
    try:
        assert made.offline is True
        assert OFFLINE_NOTICE in made.banner
        assert made.client.base_url == simulator.embedded().url
        assert made.model == "nano-banana-pro"
        assert "offline simulator" in repr(made) and "offline simulator" in made.describe()
    finally:
        made.close()


def test_a_sync_client_it_cannot_twin_is_refused_clearly() -> None:
    import httpx

    from mountsea_widgets.client import Client

    own = httpx.MockTransport(lambda request: httpx.Response(500))
    with pytest.raises(TypeError, match="AsyncClient"):
        Studio(client=Client(base_url="http://127.0.0.1:9", transport=own), history=False)


def test_a_blocking_client_generates_through_its_twin(loopback_hub: SimulatorServer) -> None:
    from mountsea_widgets.client import Client

    blocking = Client(base_url=loopback_hub.url)
    made = Studio(client=blocking, history=False)
    try:
        _prompt(made, "a red cube")
        run = made.generate()
        assert made.wait_idle(30)
        assert run.status == "completed", run.error
        assert made.client is not blocking and made.client.base_url == blocking.base_url
    finally:
        made.close()
        blocking.close()


def test_model_picker_offers_every_model_and_switches_the_form(make_studio: Any) -> None:
    studio = make_studio()
    assert [value for _label, value in studio.models] == list(catalog)
    _prompt(studio, "kept")
    send(studio, "model", model="gpt-image-2-edit")
    assert studio.model == studio.form.model == "gpt-image-2-edit"
    assert studio.form_state["model"] == "gpt-image-2-edit"
    assert "image_urls" in studio.form.controls and "seed" not in studio.form.controls
    assert studio.form.value()["prompt"] == "kept"
    assert not studio.can_generate  # image_urls is required now
    assert "image_urls" in studio.reason
    send(studio, "model", model="no-such-model")
    assert studio.model == "gpt-image-2-edit" and "no-such-model" in studio.reason


def test_the_page_module_carries_the_hooks_browser_tests_use() -> None:
    """The stable hooks (views.md) are in the page code the Studio ships."""
    module = Studio._esm
    for hook in (
        "mw-root mw-studio",
        "mw-model",
        "mw-form",
        "mw-generate",
        "mw-history",
        "mw-card",
        "mw-card-prompt",
        "mw-thumb",
        "mw-export",
        "data-action",
        "renderForm",
    ):
        assert hook in module, hook
    for action in ("cancel", "resume", "reuse", "use-input", "save", "code", "remove", "select"):
        assert f'"{action}"' in module or f"{action}:" in module, action
    assert "innerHTML" not in module


def test_an_unfinished_run_from_the_history_is_resumed_on_opening(
    make_studio: Any, loopback_hub: SimulatorServer, history: History
) -> None:
    """A task id journalled before a crash is polled again at once, never submitted twice."""
    import asyncio

    client = FastClient(base_url=loopback_hub.url)
    task_id = asyncio.run(client.submit("nano-banana", {"prompt": "before the crash"}))
    history.start("crashed1", "nano-banana", {"prompt": "before the crash"}, 1.0)
    history.submitted("crashed1", task_id)
    submitted_before = loopback_hub.stats.submitted

    studio = make_studio()
    assert studio._past_loading is not None
    studio._past_loading.result(30)
    card = studio.cards[0]
    assert (card.run.run_id, card.run.task_id) == ("crashed1", task_id)
    assert studio.resumed == [card.run] and card.run.future is not None  # no click needed

    assert studio.wait_idle(30)
    assert card.run.status == "completed", card.run.error
    assert len(card_thumbs(studio, "crashed1")) == 1
    assert loopback_hub.stats.submitted == submitted_before
    assert history.get("crashed1").status == "completed"
    assert "resume" not in record_of(studio, "crashed1")["actions"]
