"""The Studio as one view: few widget models whatever the history, bounded state, rows paged by
messages, and work per added or removed run that does not grow with the history."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import ipywidgets
import pytest

from mountsea_widgets.history import History
from mountsea_widgets.simulator import SimulatorServer
from mountsea_widgets.widgets import studio as studio_module
from mountsea_widgets.widgets.studio import FALLBACK_RUNS, MAX_ROWS, RECENT, Studio
from tests.helpers.studios import ask_rows, record_of
from tests.helpers.views import PageRecorder, send
from tests.helpers.waiting import eventually
from tests.integration.test_recovery import write_history

SECRET = "sk-view-secret-9191"


def _models() -> set[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return set(ipywidgets.Widget.widgets)


def _prompt(studio: Studio, text: str) -> None:
    studio.form.controls["prompt"].set(text)


def test_a_studio_is_at_most_ten_widget_models_whatever_its_history(
    make_studio: Any, tmp_path: Path
) -> None:
    history = write_history(tmp_path / "fifty", 50)
    before = _models()
    studio = make_studio(history=history)
    assert studio.wait_loaded(60)
    ask_rows(studio, 0, 50)
    _prompt(studio, "one more")
    studio.generate()
    assert studio.wait_idle(30)
    assert studio.run_count == 51
    assert len(_models() - before) <= 10


def test_state_stays_bounded_with_a_long_history(make_studio: Any, tmp_path: Path) -> None:
    history = write_history(tmp_path / "big", 2000)
    studio = make_studio(history=history)
    assert studio.wait_loaded(60)
    assert studio.run_count == 2000 and len(studio.recent) == RECENT
    state = json.dumps(studio.get_state(), default=str)
    assert len(state) < 100_000  # what a saved notebook keeps: no rows beyond the window
    assert "data:image" not in state  # no image bytes in traits


def test_rows_are_paged_and_bounded(make_studio: Any, tmp_path: Path) -> None:
    history = write_history(tmp_path / "h", 300)
    studio = make_studio(history=history)
    assert studio.wait_loaded(60)
    page = PageRecorder(studio)
    send(studio, "rows", start=0, stop=10_000, have=[])
    assert studio.wait_loaded(60)
    (answer,) = page.of_type("rows")
    assert len(answer["rows"]) == MAX_ROWS  # however much is asked for
    assert answer["version"] == studio.list_version
    # Malformed requests are ignored, never answered with everything.
    for bad in ({"start": -5, "stop": 3}, {"start": "0", "stop": 3}, {"start": 9, "stop": 2}):
        send(studio, "rows", **bad)
    assert studio.wait_loaded(30) and len(page.of_type("rows")) == 1
    rows = ask_rows(studio, 290, 310)
    assert [row.record["id"] for row in rows] == [f"run-{n:04d}" for n in range(9, -1, -1)]
    assert all(len(json.dumps(row.record)) < 2_000 for row in rows)
    assert all(row.thumbs and len(row.thumbs[0] or b"") < 16_000 for row in rows)


def test_adding_or_removing_a_run_does_work_that_does_not_grow_with_the_history(
    make_studio: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Records built per change: the same for a 200-run and a 2,000-run history."""
    counts: dict[int, list[int]] = {}
    for size in (200, 2000):
        history = write_history(tmp_path / f"h{size}", size)
        studio = make_studio(history=history)
        assert studio.wait_loaded(60)
        built: list[str] = []
        original = studio._record

        def counting(card: Any, built: list[str] = built, original: Any = original) -> Any:
            built.append(card.run_id)
            return original(card)

        monkeypatch.setattr(studio, "_record", counting)
        page = PageRecorder(studio)
        _prompt(studio, "added")
        run = studio.generate()
        assert studio.wait_idle(30)
        added = len(built)
        send(studio, "action", action="remove", run_id=run.run_id)
        removed = len(built) - added
        counts[size] = [added, removed, len(json.dumps([c for c, _ in page.messages]))]
        assert studio.run_count == size
    # How many live updates a run gets depends on how fast it goes, not on the history: a bound
    # far below the smaller history's size shows the work does not grow with it.
    for size, (added, removed, _sent) in counts.items():
        assert added <= 4 * RECENT < 200, size  # a few rewrites of the newest window, at most
        assert removed <= RECENT, size
    assert counts[2000][2] < 2 * counts[200][2] + 10_000


def test_bytes_to_the_page_per_finished_run_stay_under_64_kb(
    make_studio: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Messages, the ``recent`` window's rewrites and the fallback output's rewrites, all
    counted, over a history longer than the window."""
    import IPython.display

    rewrites: list[int] = []
    monkeypatch.setattr(IPython.display, "display", lambda *_args, **_kwargs: None)
    monkeypatch.setattr(
        IPython.display,
        "update_display",
        lambda data, raw=False, display_id=None: rewrites.append(len(json.dumps(data))),
    )
    studio = make_studio(history=write_history(tmp_path / "h", 60))
    assert studio.wait_loaded(60)
    studio._ipython_display_()  # the widget and its fallback output, as a notebook shows them
    page = PageRecorder(studio)
    sizes: list[int] = []
    studio.observe(lambda change: sizes.append(len(json.dumps(change["new"]))), names="recent")
    _prompt(studio, "a lighthouse")
    studio.form.controls["num_images"].set(4)
    run = studio.generate()
    assert studio.wait_idle(30) and run.status == "completed"
    eventually(lambda: bool(rewrites) and studio._fallback_timer is None, what="the fallback")
    sent = sum(
        len(json.dumps(content)) + sum(len(b) for b in buffers)
        for content, buffers in page.messages
    )
    assert len(rewrites) == 1  # once for the run's burst of changes
    assert len(sizes) <= 2  # the window: when the run was added, and once it ended
    assert sent + sum(sizes) + sum(rewrites) <= 64_000, (sent, sizes, rewrites)
    assert studio.recent[0]["id"] == run.run_id and studio.recent[0]["status"] == "completed"

    # Changes the saved copy does not show rewrite nothing (selection, totals, credits).
    send(studio, "action", action="select", run_id=run.run_id, on=True)
    assert studio.refresh_credits() is None or studio.wait_loaded(30)
    studio._refresh_size()
    assert studio.wait_idle(30) and studio._fallback_timer is None and len(rewrites) == 1
    assert studio.recent[0]["selected"]  # what a notebook saved now keeps is current


def test_remove_reuse_and_export_through_page_messages(
    make_studio: Any, history: History, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    studio = make_studio("nano-banana-2")
    runs = []
    for prompt in ("first", "second", "third"):
        _prompt(studio, prompt)
        runs.append(studio.generate())
    assert studio.wait_idle(30)
    first, second, third = runs
    send(studio, "action", action="remove", run_id=second.run_id)
    assert [r["id"] for r in studio.recent] == [third.run_id, first.run_id]
    assert second.run_id not in history
    send(studio, "model", model="gpt-image-2")
    send(studio, "action", action="reuse", run_id=first.run_id)
    assert studio.model == "nano-banana-2" and studio.form.value()["prompt"] == "first"
    send(studio, "action", action="select", run_id=first.run_id, on=True)
    studio.export_folder = "out"
    send(studio, "export")
    index = json.loads((tmp_path / "out" / "index.json").read_text())
    assert [row["run_id"] for row in index["runs"]] == [first.run_id]
    send(studio, "action", action="nonsense", run_id=first.run_id)
    assert "no action" in studio.reason
    send(studio, "action", action="reuse", run_id="no-such-run")
    assert "no longer" in studio.reason


def test_the_fallback_shows_the_latest_runs_escaped_and_small(make_studio: Any) -> None:
    studio = make_studio(api_key=SECRET)
    for number in range(10):
        _prompt(studio, f"<b>run {number}</b>")
        studio.generate()
    assert studio.wait_idle(60)
    fallback = studio.fallback_html()
    assert FALLBACK_RUNS == 6
    assert fallback.count("data:image/jpeg;base64,") == 6  # the latest 6 runs only
    assert "&lt;b&gt;run 9&lt;/b&gt;" in fallback and "<b>run" not in fallback
    assert "run 4&lt;" in fallback and "run 3&lt;" not in fallback  # older runs left out
    assert len(fallback) <= 16_000
    assert SECRET not in fallback and SECRET not in studio.describe()
    assert "runs" not in studio.describe()  # no count that goes stale


def test_the_key_is_in_no_trait_and_no_message(
    make_studio: Any, loopback_hub: SimulatorServer, tmp_path: Path
) -> None:
    studio = make_studio(api_key=SECRET)
    page = PageRecorder(studio)
    _prompt(studio, "secret-free")
    run = studio.generate()
    assert studio.wait_idle(30)
    ask_rows(studio)
    send(studio, "action", action="code", run_id=run.run_id)
    send(studio, "full", run_id=run.run_id, index=0)
    assert studio.wait_loaded(30)
    everything = json.dumps([studio.get_state(), [c for c, _ in page.messages]], default=str)
    assert SECRET not in everything
    assert all(SECRET.encode() not in b for _c, buffers in page.messages for b in buffers)
    assert SECRET not in record_of(studio, run)["code"]


def test_a_failing_handler_says_so_on_the_view(
    make_studio: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    studio = make_studio()

    def broken(_self: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(studio_module.Studio, "export_selected", broken)
    send(studio, "export")
    assert "Export failed" in studio.history_message and studio.history_error
