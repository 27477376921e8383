"""The Studio against the simulator over real loopback HTTP (no kernel: handlers run in-thread)."""

from __future__ import annotations

import ast
import json
import threading
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pytest

from mountsea_widgets import simulator
from mountsea_widgets.catalog import catalog
from mountsea_widgets.history import History
from mountsea_widgets.metadata import read_metadata
from mountsea_widgets.simulator import SimulatorServer
from mountsea_widgets.widgets.studio import OFFLINE_NOTICE, Studio, studio
from mountsea_widgets.widgets.task_cell import TaskCell
from tests.helpers.simulated_client import SPEED, FastClient
from tests.helpers.widgets import walk

SECRET = "sk-test-secret-4242"


def _prompt(studio: Studio, text: str) -> None:
    studio.form.controls["prompt"].set(text)


def test_generate_shows_a_cell_at_once_then_thumbnails(make_studio: Any) -> None:
    studio = make_studio()
    _prompt(studio, "two <b>red</b> cubes")
    studio.form.controls["num_images"].set(2)
    assert not studio.generate_button.disabled

    run = studio.generate()
    cell = studio.cells[0]
    assert cell.run is run and studio.runs[0] is run
    assert "mountsea-history-cell" in cell._dom_classes
    assert studio.wait_idle(30)

    assert run.status == "completed", run.error
    assert f"mountsea-status-{run.status}" in cell.status._dom_classes
    assert "completed" in cell.status.value
    assert cell.gallery.count == 2
    thumbs = [w for w in walk(cell.gallery) if "mountsea-thumb" in w._dom_classes]
    assert len(thumbs) == 2
    assert run.result is not None
    for thumb, original in zip(thumbs, run.result.image_bytes, strict=True):
        assert thumb.format == "jpeg" and thumb.value[:2] == b"\xff\xd8"  # small JPEG
        assert len(thumb.value) < len(original)  # never the full-size PNG up front
    assert cell.progress.value == cell.progress.max and cell.progress.bar_style == "success"
    assert "&lt;b&gt;red&lt;/b&gt;" in cell.prompt.value and "<b>red</b>" not in cell.prompt.value
    assert "num_images=2" in cell.params.value
    assert run.task_id is not None and run.task_id in cell.header.value


def test_full_size_is_sent_only_when_asked(make_studio: Any) -> None:
    studio = make_studio()
    _prompt(studio, "a teapot")
    run = studio.generate()
    assert studio.wait_idle(30)
    gallery = studio.cells[0].gallery
    assert gallery.full.value == b"" and gallery.full_view.layout.display == "none"

    opener = next(w for w in walk(gallery) if "mountsea-thumb-open" in w._dom_classes)
    opener.click()
    assert run.result is not None
    assert gallery.full.value == run.result.image_bytes[0]
    assert gallery.full.format == "png" and gallery.full_view.layout.display == ""
    gallery.close_button.click()
    assert gallery.full.value == b"" and gallery.opened is None


def test_several_runs_at_once_newest_first(make_studio: Any) -> None:
    studio = make_studio()
    _prompt(studio, "first")
    first = studio.generate()
    _prompt(studio, "second")
    studio.generate_button.click()
    second = studio.runs[0]
    assert second is not first and second.prompt == "second"
    assert [c.run for c in studio.cells] == [second, first]
    assert studio.wait_idle(30)
    assert [r.status for r in studio.runs] == ["completed", "completed"]
    assert all(cell.gallery.count == 1 for cell in studio.cells)
    assert first.task_id != second.task_id


def test_a_click_from_another_thread_works(make_studio: Any) -> None:
    """JupyterLab >= 4.4 may run on_click on a subshell thread: nothing may assume the main one."""
    studio = make_studio()
    _prompt(studio, "from a subshell")
    clicker = threading.Thread(target=studio.generate_button.click)
    clicker.start()
    clicker.join(30)
    assert len(studio.runs) == 1
    assert studio.wait_idle(30)
    assert studio.runs[0].status == "completed"
    assert studio.cells[0].gallery.count == 1


def test_generate_is_off_with_the_reason_until_the_form_is_valid(make_studio: Any) -> None:
    studio = make_studio()
    assert studio.generate_button.disabled
    assert "prompt" in studio.reason.value and "is required" in studio.reason.value
    studio.generate_button.click()  # a stale page could still send a click
    assert studio.runs == []
    assert "prompt" in studio.reason.value
    _prompt(studio, "ok")
    assert not studio.generate_button.disabled and studio.reason.value == ""


def test_a_failing_run_shows_its_error_in_its_cell(make_studio: Any) -> None:
    with simulator.serve(speed=SPEED, faults="task_failed=1.0") as failing:
        studio = make_studio(url=failing.url)
        _prompt(studio, "doomed")
        run = studio.generate()
        assert studio.wait_idle(30)
    cell = studio.cells[0]
    assert run.status == "failed"
    assert cell.error.layout.display == ""
    assert "SIMULATED_FAILURE" in cell.error.value
    assert "mountsea-status-failed" in cell.status._dom_classes
    assert cell.progress.bar_style == "danger"
    assert cell.gallery.count == 0 and cell.save_button.disabled


def test_cancel_button_stops_a_run_and_warns_about_billing(make_studio: Any) -> None:
    with simulator.serve(speed=0.001) as slow:
        studio = make_studio(url=slow.url)
        _prompt(studio, "forever")
        run = studio.generate()
        submitted = threading.Event()
        run.observe(lambda r: submitted.set() if r.task_id else None)
        if run.task_id:
            submitted.set()
        assert submitted.wait(30)
        cell = studio.cells[0]
        first = cell.status.value
        # The cell ticks on its own while the run waits: elapsed time and progress move.
        assert run.wait(0) is False
        ticked = threading.Event()
        # At least 0.1 s: the cell shows tenths, and answers now come back within ms.
        run.observe(lambda r: ticked.set() if r.elapsed_s >= 0.1 else None)
        assert ticked.wait(30)  # observers run in order: the cell has rendered this tick
        assert cell.status.value != first and cell.progress.value > 0
        assert "/ ~6 s" in cell.status.value
        assert cell.cancel_button.layout.display == ""
        cell.cancel_button.click()
        assert studio.wait_idle(30)
    assert run.status == "cancelled"
    assert "may still finish (and bill)" in cell.error.value
    assert cell.cancel_button.layout.display == "none"


def test_reuse_loads_model_and_parameters(make_studio: Any) -> None:
    studio = make_studio("nano-banana-2")
    _prompt(studio, "reuse me")
    studio.form.controls["aspect_ratio"].set("4:1")
    studio.form.controls["thinking_level"].set("high")
    studio.generate()
    assert studio.wait_idle(30)
    studio.model_select.value = "gpt-image-2"
    _prompt(studio, "something else")

    reuse = next(w for w in walk(studio.cells[0]) if "mountsea-reuse" in w._dom_classes)
    reuse.click()
    assert studio.model_select.value == "nano-banana-2"
    assert studio.form.model == "nano-banana-2"
    assert studio.form.value() == studio.runs[0].input


def test_save_writes_to_the_output_folder_and_shows_paths(
    make_studio: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    studio = make_studio()
    assert studio.save_folder.value == "mountsea-output"
    _prompt(studio, "save me")
    studio.form.controls["num_images"].set(2)
    run = studio.generate()
    assert studio.wait_idle(30)
    cell = studio.cells[0]
    cell.save_button.click()
    folder = tmp_path / "mountsea-output"
    files = sorted(folder.iterdir())
    assert len(files) == 2 and cell.saved_paths == [folder / f.name for f in files]
    for file in files:
        assert str(file) in cell.note.value
        assert read_metadata(file)["task_id"] == run.task_id
    studio.save_folder.value = str(tmp_path / "elsewhere")
    cell.save()
    assert len(list((tmp_path / "elsewhere").iterdir())) == 2


def test_code_shows_a_valid_generate_call(make_studio: Any) -> None:
    studio = make_studio("gpt-image-2")
    _prompt(studio, 'it\'s a "quoted" poster')
    size = studio.form.controls["image_size"]
    size.set({"width": 2048, "height": 1152})
    run = studio.generate()
    cell = studio.cells[0]
    cell.code_button.click()
    assert cell.code.layout.display == ""
    code = cell.code_text()
    tree = ast.parse(code)
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call))
    assert ast.literal_eval(call.args[0]) == "gpt-image-2"
    assert ast.literal_eval(call.args[1]) == run.input["prompt"]
    assert {k.arg: ast.literal_eval(k.value) for k in call.keywords} == {
        k: v for k, v in run.input.items() if k != "prompt"
    }
    assert "&quot;quoted&quot;" in cell.code.value  # escaped in the HTML
    cell.code_button.click()
    assert cell.code.layout.display == "none"


def test_remove_drops_the_cell_and_the_history_entry(make_studio: Any, history: History) -> None:
    studio = make_studio()
    _prompt(studio, "keep")
    keep = studio.generate()
    _prompt(studio, "drop")
    drop = studio.generate()
    assert studio.wait_idle(30)
    assert drop.run_id in history
    studio.cells[0].remove_button.click()
    assert studio.runs == [keep]
    assert drop.run_id not in history and keep.run_id in history


def test_past_runs_come_back_from_the_history(make_studio: Any, history: History) -> None:
    first = make_studio()
    _prompt(first, "remember me")
    run = first.generate()
    assert first.wait_idle(30)

    second = make_studio()
    assert second._past_loading is not None
    second._past_loading.result(30)
    assert [r.run_id for r in second.runs] == [run.run_id]
    cell = second.cells[0]
    assert cell.run.status == "completed" and cell.gallery.count == 1
    assert "remember me" in cell.prompt.value


def test_offline_banner_and_no_key_anywhere(
    make_studio: Any, loopback_hub: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    studio = make_studio(api_key=SECRET)
    assert "Mountsea hub at http://127.0.0.1" in studio.banner.value
    _prompt(studio, "simulated")
    studio.generate()
    assert studio.wait_idle(30)
    assert OFFLINE_NOTICE in studio.banner.value  # the answers said "simulated"
    assert "mountsea-banner" in studio.banner._dom_classes

    states = json.dumps(
        [w.get_state() for w in walk(studio) if isinstance(w, widgets.Widget)], default=str
    )
    assert SECRET not in states
    assert SECRET not in repr(studio) and SECRET not in repr(studio.cells[0])


def test_default_client_is_the_embedded_simulator_and_says_so(
    monkeypatch: pytest.MonkeyPatch, history: History
) -> None:
    monkeypatch.delenv("MOUNTSEA_API_KEY", raising=False)
    monkeypatch.delenv("MOUNTSEA_BASE_URL", raising=False)
    made = studio("nano-banana-pro", history=history)
    try:
        assert made.offline is True
        assert OFFLINE_NOTICE in made.banner.value
        assert made.client.base_url == simulator.embedded().url
        assert made.model_select.value == "nano-banana-pro"
        assert "offline simulator" in repr(made)
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


def test_model_select_offers_every_model_and_switches_the_form(make_studio: Any) -> None:
    studio = make_studio()
    assert [value for _label, value in studio.model_select.options] == list(catalog)
    _prompt(studio, "kept")
    studio.model_select.value = "gpt-image-2-edit"
    assert studio.form.model == "gpt-image-2-edit"
    assert "image_urls" in studio.form.controls and "seed" not in studio.form.controls
    assert studio.form.value()["prompt"] == "kept"
    assert studio.generate_button.disabled  # image_urls is required now
    assert "image_urls" in studio.reason.value


def test_css_classes_for_browser_tests(make_studio: Any) -> None:
    studio = make_studio()
    classes = {c for w in walk(studio) for c in getattr(w, "_dom_classes", ())}
    assert {
        "mountsea-studio",
        "mountsea-banner",
        "mountsea-model",
        "mountsea-form",
        "mountsea-generate",
        "mountsea-generate-reason",
        "mountsea-history",
        "mountsea-save-folder",
        "mountsea-param-prompt",
    } <= classes
    _prompt(studio, "classes")
    studio.generate()
    assert studio.wait_idle(30)
    cell: TaskCell = studio.cells[0]
    classes = {c for w in walk(cell) for c in getattr(w, "_dom_classes", ())}
    assert {
        "mountsea-history-cell",
        "mountsea-status",
        "mountsea-progress",
        "mountsea-thumb",
        "mountsea-thumb-open",
        "mountsea-reuse",
        "mountsea-save",
        "mountsea-code-button",
        "mountsea-remove",
        "mountsea-cancel",
    } <= classes


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
    cell = studio.cells[0]
    assert (cell.run.run_id, cell.run.task_id) == ("crashed1", task_id)
    assert studio.resumed == [cell.run] and cell.run.future is not None  # no click needed

    assert studio.wait_idle(30)
    assert cell.run.status == "completed", cell.run.error
    assert cell.gallery.count == 1
    assert loopback_hub.stats.submitted == submitted_before
    assert history.get("crashed1").status == "completed"
    assert cell.resume_button.layout.display == "none"
