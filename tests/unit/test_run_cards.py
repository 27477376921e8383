"""Run cards, the Studio's run list and the ``%%mountsea`` task cell, without a browser: the
records the page draws and the messages it sends and receives."""

from __future__ import annotations

import io
import json
import random
import warnings
from pathlib import Path
from typing import Any

import ipywidgets
import pytest
from PIL import Image

from mountsea_widgets.history import History
from mountsea_widgets.result import Result
from mountsea_widgets.run import RUN_STATUSES, Run
from mountsea_widgets.widgets import _page
from mountsea_widgets.widgets.run_card import MAX_CODE, MAX_TEXT, Card
from mountsea_widgets.widgets.run_list import RunList
from mountsea_widgets.widgets.task_cell import IMAGE_SIDE, TaskCell
from tests.helpers.emoji import emoji_in, texts_in
from tests.helpers.images import solid_png
from tests.helpers.views import PageRecorder, send

MAGENTA = (255, 0, 255)


def _completed(images: int = 2, size: tuple[int, int] = (1200, 800)) -> Run:
    run = Run("nano-banana", {"prompt": "a cat", "seed": 3})
    run.result = Result(
        task_id="t1", model="nano-banana", image_bytes=[solid_png(MAGENTA, size)] * images
    )
    run.update(status="completed", task_id="t1")
    return run


def _models() -> set[str]:
    """The ids of every widget model alive in this process."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return set(ipywidgets.Widget.widgets)


class _Named:
    def __init__(self, run_id: str) -> None:
        self.run_id = run_id


# --- the run list -------------------------------------------------------------------------------


def test_the_run_list_finds_every_run_by_position_through_adds_and_removals() -> None:
    chooser = random.Random(7)
    runs = RunList(lambda _entry: pytest.fail("no entry to make"))
    reference: list[str] = []
    for number in range(3000):
        runs.add(_Named(str(number)))  # type: ignore[arg-type]
        reference.insert(0, str(number))
        if chooser.random() < 0.3:
            gone = chooser.choice(reference)
            reference.remove(gone)
            assert runs.remove(gone)
    assert len(runs) == len(reference)
    for position in range(0, len(reference), 37):
        assert runs.ids(position, position + 10) == reference[position : position + 10]
        assert runs.position(reference[position]) == position
    assert runs.ids(len(reference), len(reference) + 5) == []
    assert not runs.remove("never listed")


def test_runs_read_from_the_history_go_below_the_runs_started_meanwhile(tmp_path: Path) -> None:
    history = History(tmp_path / "history")
    for number in range(5):
        history.start(f"old-{number}", "nano-banana", {"prompt": f"old {number}"}, 1.0)
        history.finished(f"old-{number}", "failed", "x", 1.0)
    made: list[str] = []

    def make(entry: Any) -> Card:
        made.append(entry.run_id)
        return Card(Run(entry.model, entry.input, run_id=entry.run_id))

    runs = RunList(make)
    runs.add(Card(Run("nano-banana", {"prompt": "new"}, run_id="new")))
    runs.put_older(history.entries())
    assert runs.ids(0, 10) == ["new", "old-4", "old-3", "old-2", "old-1", "old-0"]
    assert made == []  # nothing is built until it is asked for
    assert [card.run_id for card in runs.cards(1, 3)] == ["old-4", "old-3"]
    assert made == ["old-4", "old-3"]
    assert runs.card("old-4") is runs.card("old-4")  # made once


# --- records ------------------------------------------------------------------------------------


def test_a_record_is_bounded_text_without_bytes() -> None:
    uri = "data:image/png;base64," + "A" * 200_000
    run = Run("nano-banana-edit", {"prompt": "p" * 5_000, "image_urls": [uri] * 3})
    card = Card(run)
    card.toggle_code()
    record = card.record()
    text = json.dumps(record)
    assert len(record["prompt"]) <= MAX_TEXT and len(record["code"]) <= MAX_CODE
    assert len(text) < 16_000 and "A" * 500 not in text
    assert "data:image/png;base64,… (" in record["code"]
    assert record["params"] == [["image_urls", record["params"][0][1]]]
    assert len(record["params"][0][1]) <= 80


def test_a_card_offers_only_what_it_can_do() -> None:
    going = Card(Run("nano-banana", {"prompt": "x"}))
    assert going.actions() == ["code"]  # no Reuse, Remove, ... without a view behind them
    done = Card(_completed(), on_reuse=lambda _r: None, on_use_input=lambda _r, _ref: None)
    assert done.actions() == ["reuse", "use-input", "save", "code"]


# --- the task cell ------------------------------------------------------------------------------


def test_the_task_cell_is_one_model() -> None:
    before = _models()
    cell = TaskCell(_completed())
    try:
        assert len(_models() - before) <= 2  # the view and its Layout
    finally:
        cell.close()


def test_the_task_cell_follows_its_run_and_sends_bounded_images() -> None:
    run = Run("nano-banana", {"prompt": "a <script>alert(1)</script> cat"})
    cell = TaskCell(run)
    page = PageRecorder(cell)
    assert cell.record["status"] == "submitting" and "cancel" not in cell.record["actions"]
    run.update(status="processing", task_id="task-9")
    assert cell.record["status"] == "processing" and cell.record["task"] == "task-9"
    run.result = Result(
        task_id="task-9", model="nano-banana", image_bytes=[solid_png(MAGENTA, (2000, 1000))]
    )
    run.update(status="completed")
    assert cell.record["final"] and cell.record["images"] == 1
    cell.send_images()
    (content, buffers) = [(c, b) for c, b in page.messages if c["type"] == "images"][-1]
    assert content["thumbs"] == [0]
    with Image.open(io.BytesIO(buffers[0])) as image:
        assert image.format == "JPEG" and max(image.size) <= IMAGE_SIDE
    assert len(buffers[0]) < 64_000
    fallback = cell.fallback_html()
    assert "<script>" not in fallback and "&lt;script&gt;" in fallback
    assert "data:image/jpeg;base64," in fallback
    cell.close()


def test_the_task_cell_buttons(tmp_path: Path) -> None:
    cell = TaskCell(_completed(), save_folder=tmp_path / "out")
    send(cell, "action", action="code")
    assert cell.record["code"] == cell.code_text()
    send(cell, "action", action="save")
    assert len(list((tmp_path / "out").iterdir())) == 2
    assert str(tmp_path / "out") in cell.record["note"]
    send(cell, "action", action="reuse")  # no Studio behind the cell: not offered
    assert "does nothing" in cell.record["note"]
    assert "reuse" not in cell.record["actions"] and "use-input" not in cell.record["actions"]
    cell.close()


def test_no_emoji_in_a_task_cell_in_any_status() -> None:
    for status in RUN_STATUSES:
        run = Run("nano-banana", {"prompt": "a cat", "seed": 3})
        if status == "completed":
            run.result = Result(
                task_id="t1",
                model="nano-banana",
                image_bytes=[solid_png(MAGENTA, (64, 64)), solid_png(MAGENTA, (64, 64))],
            )
        run.update(status=status, task_id="t1", error=None if status == "completed" else "boom")
        cell = TaskCell(run, on_reuse=lambda _r: None, on_use_input=lambda _r, _ref: None)
        cell.toggle_code()
        if status == "completed":
            assert cell.record["images"] == 2 and "use-input" in cell.record["actions"]
        found = {text: emoji_in(text) for text in texts_in(cell.record) if emoji_in(text)}
        assert found == {}, status
        cell.close()
    for name in ("card.js", "studio.js", "task.js", "studio.css"):
        assert emoji_in(_page._read(name)) == [], name


def test_the_page_code_puts_text_in_as_text() -> None:
    """No view script writes HTML from strings: text goes in through textContent (h())."""
    for name in ("card.js", "studio.js", "task.js"):
        script = _page._read(name)
        assert "innerHTML" not in script and "insertAdjacentHTML" not in script, name
        assert "outerHTML" not in script and "document.write" not in script, name
