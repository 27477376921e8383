"""The ``%%mountsea`` and ``%mountsea_models`` magics, in IPython's own shell, against the
simulator over real loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import IPython.display
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from mountsea_widgets import magics, simulator
from mountsea_widgets.catalog import catalog
from mountsea_widgets.client import AsyncClient
from mountsea_widgets.errors import ValidationError
from mountsea_widgets.magics import ModelTable, build_input, parse_line
from mountsea_widgets.result import Result
from mountsea_widgets.widgets.task_cell import TaskCell
from tests.helpers.waiting import short_sleep


@pytest.fixture(scope="module")
def shell() -> InteractiveShell:
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "mountsea_widgets")
    return shell


@pytest.fixture
def loopback_hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[simulator.SimulatorServer]:
    with simulator.serve(speed=500) as server:
        monkeypatch.setattr(
            magics,
            "client_factory",
            lambda: AsyncClient(base_url=server.url, sleep=short_sleep),
        )
        yield server


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Everything the magic passes to IPython's display()."""
    objects: list[Any] = []
    monkeypatch.setattr(IPython.display, "display", lambda *items, **_: objects.extend(items))
    return objects


# --- parsing the line (nothing is sent) -----------------------------------------------------------


def test_values_get_the_catalog_types() -> None:
    spec, params = parse_line(
        "nano-banana-2 --seed 7 --sync_mode false --num-images=2 --aspect_ratio 16:9 "
        "--safety_tolerance 2 --limit_generations TRUE"
    )
    assert spec.id == "nano-banana-2"
    assert params == {
        "seed": 7,
        "sync_mode": False,
        "num_images": 2,
        "aspect_ratio": "16:9",
        "safety_tolerance": "2",
        "limit_generations": True,
    }


def test_image_size_takes_json_a_size_or_a_preset() -> None:
    _, params = parse_line("""gpt-image-2 --image_size '{"width":1536,"height":1024}'""")
    assert params == {"image_size": {"width": 1536, "height": 1024}}
    assert parse_line("gpt-image-2 --image_size 1536x1024")[1] == params
    assert parse_line("gpt-image-2 --image_size 1536X1024")[1] == params
    assert parse_line("gpt-image-2 --image_size square_hd")[1] == {"image_size": "square_hd"}


def test_image_urls_repeat_or_take_a_comma_list_and_keep_data_uris_whole() -> None:
    data_uri = "data:image/png;base64,iVBORw0KGgo="
    _, params = parse_line(
        f"nano-banana-edit --image_urls https://a.test/1.png,https://a.test/2.png "
        f"--image_urls {data_uri}"
    )
    assert params == {"image_urls": ["https://a.test/1.png", "https://a.test/2.png", data_uri]}


def test_a_bare_boolean_flag_switches_it_on() -> None:
    assert parse_line("nano-banana --sync_mode --seed 1")[1] == {"sync_mode": True, "seed": 1}


def test_build_input_validates_with_the_catalog() -> None:
    model, input = build_input("nano-banana --seed 3", "  a red cube \n")
    assert model == "nano-banana"
    assert input == catalog["nano-banana"].validate({"prompt": "a red cube", "seed": 3})


@pytest.mark.parametrize(
    ("line", "body", "expected"),
    [
        ("nano-banana --aspect_ratio 8:1", "a cat", "aspect_ratio: '8:1' is not allowed"),
        ("nano-banana --sed 3", "a cat", "did you mean 'seed'"),
        ("nano-banana --seed abc", "a cat", "'abc' is not an integer"),
        ("nano-banana --sync_mode maybe", "a cat", "is not true or false"),
        ("gpt-image-2 --image_size '{\"width\": 15'", "a cat", "is not valid JSON"),
        ("gpt-image-2 --image_size 100x100", "a cat", "image_size: 100x100 is not allowed"),
        ("gpt-image-2 --quality", "a cat", "quality: needs a value"),
        ("nano-banana --seed 1 --seed 2", "a cat", "seed: is given twice"),
        ("nano-banana stray", "a cat", "parameters are written --name value"),
        ("nano-banana --prompt hi", "a cat", "is the cell body"),
        ("nano-banan", "a cat", "did you mean 'nano-banana'"),
        ("", "a cat", "no model given"),
        ("nano-banana --seed '1", "a cat", "cannot read the magic line"),
        ("nano-banana", "   \n ", "the cell body is the prompt"),
    ],
)
def test_usage_errors_name_the_problem(line: str, body: str, expected: str) -> None:
    with pytest.raises((ValidationError, ValueError)) as error:
        build_input(line, body)
    assert expected in str(error.value)


# --- the magics in the shell ---------------------------------------------------------------------


def test_cell_magic_generates_and_returns_the_result(
    shell: InteractiveShell, loopback_hub: simulator.SimulatorServer, shown: list[Any]
) -> None:
    result = shell.run_cell_magic(
        "mountsea", "nano-banana --seed 7 --aspect_ratio 16:9", "a red cube"
    )
    assert isinstance(result, Result)
    assert result.input == {"prompt": "a red cube", "seed": 7, "aspect_ratio": "16:9"}
    assert result.simulated and result.image_bytes
    assert loopback_hub.stats.submitted == 1
    cells = [item for item in shown if isinstance(item, TaskCell)]
    assert len(cells) == 1
    assert cells[0].run.status == "completed" and cells[0].run.result is result


def test_out_holds_the_result(
    shell: InteractiveShell, loopback_hub: simulator.SimulatorServer, shown: list[Any]
) -> None:
    outcome = shell.run_cell(
        "%%mountsea gpt-image-2 --quality low\na blue sphere", store_history=True
    )
    assert outcome.success
    assert isinstance(outcome.result, Result)
    assert shell.user_ns["_"] is outcome.result
    assert outcome.result.input == {"prompt": "a blue sphere", "quality": "low"}


def test_a_bad_value_is_a_usage_error_without_traceback_and_sends_nothing(
    shell: InteractiveShell,
    loopback_hub: simulator.SimulatorServer,
    shown: list[Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(UsageError, match=r"aspect_ratio: '8:1' is not allowed \(allowed: one of"):
        shell.run_cell_magic("mountsea", "nano-banana --aspect_ratio 8:1", "a cat")
    outcome = shell.run_cell("%%mountsea nano-banana --sed 1\na cat")
    assert isinstance(outcome.error_in_exec, UsageError)
    printed = capsys.readouterr()
    text = printed.out + printed.err
    assert "did you mean 'seed'" in text
    assert "Traceback" not in text
    assert loopback_hub.stats.requests.total() == 0
    assert shown == []


def test_a_failed_generation_is_reported_and_returns_none(
    shell: InteractiveShell,
    monkeypatch: pytest.MonkeyPatch,
    shown: list[Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    with simulator.serve(speed=500, faults="task_failed=1") as failing:
        monkeypatch.setattr(
            magics, "client_factory", lambda: AsyncClient(base_url=failing.url, sleep=short_sleep)
        )
        result = shell.run_cell_magic("mountsea", "nano-banana", "a cat")
    assert result is None
    assert "nano-banana run failed" in capsys.readouterr().err
    cell = next(item for item in shown if isinstance(item, TaskCell))
    assert cell.run.status == "failed" and "SIMULATED_FAILURE" in (cell.run.error or "")


def test_without_a_client_factory_the_offline_simulator_answers_and_says_so(
    shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch, shown: list[Any]
) -> None:
    monkeypatch.setattr(magics, "client_factory", None)
    monkeypatch.setenv("MOUNTSEA_SIMULATOR_SPEED", "500")
    result = shell.run_cell_magic("mountsea", "nano-banana --seed 1", "a cat")
    assert isinstance(result, Result) and result.simulated
    notices = [item for item in shown if isinstance(item, IPython.display.HTML)]
    assert notices and "offline simulator" in notices[0].data


def test_models_magic_lists_every_parameter(shell: InteractiveShell) -> None:
    table = shell.run_line_magic("mountsea_models", "")
    assert isinstance(table, ModelTable)
    rows = table.rows()
    assert len(rows) == sum(len(spec.params) for spec in catalog.values())
    assert ("gpt-image-2", "quality", "string", '"high"', "one of auto, low, medium, high") in rows
    assert ("nano-banana", "num_images", "integer", "1", "an integer from 1 to 4") in rows
    page = table._repr_html_()
    assert page.count("<tr>") == len(rows) + 1
    assert "<code>aspect_ratio</code>" in page
    assert "resolution" in repr(table)


def test_models_magic_for_one_model_and_an_unknown_one(shell: InteractiveShell) -> None:
    table = shell.run_line_magic("mountsea_models", "gpt-image-2")
    assert {row[0] for row in table.rows()} == {"gpt-image-2"}
    with pytest.raises(UsageError, match="did you mean 'gpt-image-2'"):
        shell.run_line_magic("mountsea_models", "gpt-image2")


def test_model_table_escapes_html() -> None:
    spec = catalog["nano-banana"]
    hostile = type(spec)(
        id="<img src=x onerror=alert(1)>",
        title="x",
        vendor="x",
        mode="text-to-image",
        summary="",
        params=spec.params,
    )
    page = ModelTable((hostile,))._repr_html_()
    assert "<img" not in page and "&lt;img" in page
