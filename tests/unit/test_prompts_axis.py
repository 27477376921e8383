"""Prompts as an axis: prompt lists, templates with placeholders, two varied axes, prompt files.

Layout and validation are checked on the plan (nothing is sent); runs go through the real
client into the simulator's in-process transport.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import mountsea_widgets as mw
from mountsea_widgets import simulator
from mountsea_widgets.client import AsyncClient
from mountsea_widgets.comparison import (
    NOT_APPLICABLE,
    REJECTED,
    Prompt,
    PromptFileError,
    compare,
    placeholders,
    plan,
    read_csv,
    read_prompts,
)
from mountsea_widgets.simulator.hub import ROUTE_SUBMIT
from tests.helpers.waiting import short_sleep


@pytest.fixture
def inprocess_hub() -> Iterator[simulator.Hub]:
    hub = simulator.Hub(speed=500, prerender=False)
    yield hub
    hub.close()


@pytest.fixture
def client(inprocess_hub: simulator.Hub) -> AsyncClient:
    return AsyncClient(
        base_url="http://hub.test", transport=simulator.transport(inprocess_hub), sleep=short_sleep
    )


def _sent_prompts(hub: simulator.Hub) -> list[str]:
    return [str(hub.task(task_id).input["prompt"]) for task_id in hub.task_ids]


# --- a list of prompts --------------------------------------------------------------------------


def test_prompts_give_each_prompt_a_block_of_rows_and_columns_stay_the_compared_values() -> None:
    layout = plan(
        prompts=["a red cube", "a blue sphere"],
        models=["nano-banana", "gpt-image-2"],
        vary={"aspect_ratio": ["1:1", "16:9"]},
    )
    assert layout.shape == (4, 2)
    assert layout.row_labels == [
        "a red cube\nnano-banana",
        "a red cube\ngpt-image-2",
        "a blue sphere\nnano-banana",
        "a blue sphere\ngpt-image-2",
    ]
    assert layout.column_labels == ["aspect_ratio = 1:1", "aspect_ratio = 16:9"]
    assert layout.prompt == "2 prompts"
    assert layout.prompts == ["a red cube", "a blue sphere"]
    third = layout.cell(2, 1)
    assert third.input == {"prompt": "a blue sphere", "aspect_ratio": "16:9"}
    assert third.record()["prompt"] == "a blue sphere"


def test_a_long_prompt_is_shortened_in_its_label_and_kept_whole_in_the_records() -> None:
    long = "a very detailed painting of a lighthouse on a cliff at dusk, waves, gulls"
    layout = plan(prompts=[long, "a cat"], models=["nano-banana"])
    label = layout.row_labels[0]
    assert label.endswith("\nnano-banana")
    assert len(label.split("\n")[0]) == 48 and label.split("\n")[0].endswith("…")
    assert layout.cells[0].record()["prompt"] == long
    assert layout.cells[0].input == {"prompt": long}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prompt": "a", "prompts": ["b"]}, "not both"),
        ({"prompts": []}, "prompts must not be empty"),
        ({"prompts": "prompts.txt"}, "mw.read_prompts"),
        ({"prompts": ["fine", "  "]}, "prompts[1] must be a non-empty string"),
        ({"prompts": ["a", 3]}, "prompts[1]"),
        ({"prompt": "a", "vary": {"prompt": ["b"]}}, "prompts=[...]"),
    ],
)
def test_bad_prompt_lists_are_refused_naming_the_parameter(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError) as error:
        plan(models=["nano-banana"], **kwargs)  # type: ignore[arg-type]
    assert message in str(error.value)


def test_every_prompt_is_sent_once_per_model(
    inprocess_hub: simulator.Hub, client: AsyncClient
) -> None:
    comparison = compare(
        prompts=["a red cube", "a blue sphere", "a green cone"],
        models=["nano-banana", "nano-banana-2"],
        seeds=[7],
        client=client,
        history=False,
    ).wait(60)
    assert comparison.counts() == {"completed": 6}
    assert sorted(_sent_prompts(inprocess_hub)) == sorted(
        ["a red cube", "a blue sphere", "a green cone"] * 2
    )
    assert [r["prompt"] for r in comparison.records()] == [
        "a red cube",
        "a red cube",
        "a blue sphere",
        "a blue sphere",
        "a green cone",
        "a green cone",
    ]
    assert comparison.prompts == ["a red cube", "a blue sphere", "a green cone"]


# --- templates and two axes ---------------------------------------------------------------------


def test_a_template_fills_two_placeholders_first_in_columns_then_in_rows() -> None:
    layout = plan(
        "a {animal} in {style}",
        models=["nano-banana"],
        vary={"animal": ["fox", "owl", "cat"], "style": ["ink", "oil paint"]},
    )
    assert layout.shape == (2, 3)
    assert layout.prompt == "a {animal} in {style}"
    assert layout.column_labels == ["animal = fox", "animal = owl", "animal = cat"]
    assert layout.row_labels == ["nano-banana\nstyle = ink", "nano-banana\nstyle = oil paint"]
    assert [cell.input["prompt"] for cell in layout.cells if cell.input] == [
        "a fox in ink",
        "a owl in ink",
        "a cat in ink",
        "a fox in oil paint",
        "a owl in oil paint",
        "a cat in oil paint",
    ]
    record = layout.cell(1, 2).record()
    assert (record["param"], record["value"]) == ("animal", "cat")
    assert (record["y_param"], record["y_value"]) == ("style", "oil paint")
    assert record["params"] == {"prompt": "a cat in oil paint"}


def test_a_placeholder_and_a_parameter_vary_together() -> None:
    layout = plan(
        "a {animal}, studio photo",
        models=["nano-banana", "gpt-image-2"],
        vary={"quality": ["low", "high"], "animal": ["fox", "owl"]},
    )
    assert layout.column_labels == ["quality = low", "quality = high"]
    assert layout.row_labels == [
        "nano-banana\nanimal = fox",
        "nano-banana\nanimal = owl",
        "gpt-image-2\nanimal = fox",
        "gpt-image-2\nanimal = owl",
    ]
    # nano-banana has no quality: its cells are n/a; gpt-image-2 gets both.
    assert {cell.status for cell in layout.cells[:4]} == {NOT_APPLICABLE}
    assert layout.cell(3, 1).input == {"prompt": "a owl, studio photo", "quality": "high"}


def test_two_parameters_vary_as_columns_and_rows() -> None:
    layout = plan(
        "a cat",
        models=["nano-banana-2"],
        vary={"aspect_ratio": ["1:1", "3:2"], "resolution": ["1K", "2K", "4K"]},
    )
    assert layout.shape == (3, 2)
    assert layout.cell(2, 1).input == {"prompt": "a cat", "aspect_ratio": "3:2", "resolution": "4K"}


def test_templates_apply_to_every_prompt_of_a_list() -> None:
    layout = plan(
        prompts=["a {color} cube", "a {color} sphere"],
        models=["nano-banana"],
        vary={"color": ["red", "blue"]},
    )
    assert [cell.input["prompt"] for cell in layout.cells if cell.input] == [
        "a red cube",
        "a blue cube",
        "a red sphere",
        "a blue sphere",
    ]


def test_braces_are_literal_unless_vary_names_the_placeholder() -> None:
    assert plan("a {json} sign", models=["nano-banana"]).cells[0].input == {
        "prompt": "a {json} sign"
    }
    layout = plan("{{logo}} of a {animal}", models=["nano-banana"], vary={"animal": ["fox"]})
    assert layout.cells[0].input == {"prompt": "{logo} of a fox"}
    assert placeholders("{{x}} {a} {b} {a}") == ["a", "b"]


@pytest.mark.parametrize(
    ("template", "vary", "message"),
    [
        ("a {animal} in {style}", {"animal": ["fox"]}, "placeholder {style}"),
        ("a {animal}", {"animl": ["fox"]}, "nor a placeholder of the prompt (animal)"),
        (
            "a {a}",
            {"a": ["x"], "quality": ["low"], "aspect_ratio": ["1:1"], "seed": [1]},
            "one to three entries",
        ),
    ],
)
def test_templates_with_missing_or_misspelt_placeholders_are_refused(
    template: str, vary: dict[str, list[str]], message: str
) -> None:
    with pytest.raises(ValueError) as error:
        plan(template, models=["gpt-image-2"], vary=vary)
    assert message in str(error.value)


def test_a_template_comparison_runs_and_its_csv_round_trips(
    inprocess_hub: simulator.Hub, client: AsyncClient, tmp_path: Path
) -> None:
    comparison = compare(
        "a {animal}",
        models=["gpt-image-2"],
        vary={"animal": ["fox", "owl"], "quality": ["low", "high"]},
        client=client,
        history=False,
    ).wait(60)
    assert comparison.counts() == {"completed": 4}
    assert sorted(_sent_prompts(inprocess_hub)) == ["a fox", "a fox", "a owl", "a owl"]
    back = read_csv(comparison.to_csv(tmp_path / "grid.csv"))
    for original, read in zip(comparison.records(), back, strict=True):
        for name in ("prompt", "param", "value", "y_param", "y_value", "model", "status"):
            assert read[name] == original[name], name


# --- prompt files ------------------------------------------------------------------------------


def test_a_txt_file_gives_one_prompt_per_line_with_its_row(tmp_path: Path) -> None:
    path = tmp_path / "prompts.txt"
    path.write_text("a red cube\n  a blue sphere  \n", encoding="utf-8")
    prompts = read_prompts(path)
    assert prompts == ["a red cube", "a blue sphere"]
    assert isinstance(prompts[1], Prompt) and prompts[1].source == "prompts.txt, row 2"
    assert mw.read_prompts is read_prompts


def test_a_csv_file_reads_the_chosen_column_and_row_parameters(tmp_path: Path) -> None:
    path = tmp_path / "parti.csv"
    path.write_text(
        'Prompt,Category,aspect_ratio\n"a cat, sitting",Animals,16:9\na dog,Animals,\n',
        encoding="utf-8",
    )
    prompts = read_prompts(path, column="Prompt", params=["aspect_ratio"])
    assert prompts == ["a cat, sitting", "a dog"]
    assert prompts[0].params == {"aspect_ratio": "16:9"} and prompts[1].params == {}
    layout = plan(prompts=prompts, models=["nano-banana"], params={"aspect_ratio": "1:1"})
    assert [cell.input for cell in layout.cells] == [
        {"prompt": "a cat, sitting", "aspect_ratio": "16:9"},  # the row's own value wins
        {"prompt": "a dog", "aspect_ratio": "1:1"},
    ]
    assert layout.prompt == "2 prompts from parti.csv"
    # The column named "prompt" is the default; so is a file's only column.
    (tmp_path / "one.csv").write_text("text\nan owl\n", encoding="utf-8")
    assert read_prompts(tmp_path / "one.csv") == ["an owl"]


def test_a_jsonl_file_reads_the_chosen_key(tmp_path: Path) -> None:
    path = tmp_path / "draw.jsonl"
    path.write_text('{"text": "a fox", "seed": 3}\n"a plain string"\n', encoding="utf-8")
    with pytest.raises(PromptFileError) as error:
        read_prompts(path)
    assert "draw.jsonl, row 1: no key 'prompt'" in str(error.value)
    assert "'text', 'seed'" in str(error.value)
    path.write_text('{"text": "a fox", "seed": 3}\n{"text": "an owl"}\n', encoding="utf-8")
    prompts = read_prompts(path, column="text", params=["seed"])
    assert prompts == ["a fox", "an owl"]
    assert [p.params for p in prompts] == [{"seed": 3}, {}]


@pytest.mark.parametrize(
    ("name", "content", "kwargs", "row", "parameter", "words"),
    [
        ("p.csv", b"prompt,x\na,1\n", {"column": "text"}, 1, "column", "no column 'text'"),
        ("p.csv", b"a,b\n1,2\n", {}, 1, "column", "choose the prompt column"),
        ("p.csv", b"prompt\na\n\nb\n", {}, 3, "prompt", "row 3: the prompt is empty"),
        ("p.txt", b"a\n\nb\n", {}, 2, "prompt", "skip_empty=True"),
        ("p.txt", b"fine\ncaf\xe9 au lait\n", {}, 2, "encoding", "not utf-8 text"),
        ("p.jsonl", b'{"prompt": "a"}\n{oops\n', {}, 2, "prompts", "not a JSON value"),
        ("p.jsonl", b'{"prompt": 3}\n', {}, 1, "column", "must be text"),
        ("p.csv", b"prompt\na\n", {"params": ["colour"]}, 1, "params", "no column 'colour'"),
        ("p.txt", b"a\n", {"column": "x"}, None, "column", "has no columns"),
    ],
)
def test_bad_prompt_files_name_the_file_the_row_and_the_parameter(
    tmp_path: Path,
    name: str,
    content: bytes,
    kwargs: dict[str, object],
    row: int | None,
    parameter: str,
    words: str,
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(PromptFileError) as error:
        read_prompts(path, **kwargs)  # type: ignore[arg-type]
    message = str(error.value)
    assert message.startswith(name)
    assert words in message
    assert (error.value.file, error.value.row, error.value.parameter) == (name, row, parameter)
    assert "Error" not in message and "errno" not in message.lower()


def test_empty_lines_can_be_left_out_and_a_latin_1_file_read_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "p.txt"
    path.write_bytes(b"a\n\ncaf\xe9\n")
    assert read_prompts(path, skip_empty=True, encoding="latin-1") == ["a", "café"]
    assert [p.row for p in read_prompts(path, skip_empty=True, encoding="latin-1")] == [1, 3]


def test_unknown_file_types_and_missing_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(PromptFileError, match=r"must end in \.txt, \.csv, \.jsonl"):
        read_prompts(tmp_path / "p.xlsx")
    with pytest.raises(PromptFileError, match="no such prompt file"):
        read_prompts(tmp_path / "absent.txt")


def test_rows_a_model_refuses_are_named_before_anything_is_sent(
    inprocess_hub: simulator.Hub, client: AsyncClient, tmp_path: Path
) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(
        "prompt,aspect_ratio,quality\na cat,1:1,low\na dog,8:1,low\nan owl,1:1,best\n",
        encoding="utf-8",
    )
    prompts = read_prompts(path, params=["aspect_ratio", "quality"])
    with pytest.raises(PromptFileError) as error:
        compare(prompts=prompts, models=["nano-banana", "gpt-image-2"], client=client)
    message = str(error.value)
    assert "nothing was sent" in message
    assert "rows.csv, row 3: nano-banana refuses aspect_ratio" in message
    assert "rows.csv, row 4: gpt-image-2 refuses quality" in message
    assert "row 2" not in message
    assert (error.value.file, error.value.row, error.value.parameter) == (
        "rows.csv",
        3,
        "aspect_ratio",
    )
    assert inprocess_hub.stats.requests[ROUTE_SUBMIT] == 0


def test_a_value_varied_in_code_is_still_a_rejected_cell_not_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "p.txt"
    path.write_text("a cat\n", encoding="utf-8")
    layout = plan(
        prompts=read_prompts(path), models=["nano-banana"], vary={"aspect_ratio": ["1:1", "9:1"]}
    )
    assert [cell.status for cell in layout.cells] == ["queued", REJECTED]


def test_a_row_parameter_no_model_has_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("prompt,qualty\na cat,low\n", encoding="utf-8")
    with pytest.raises(PromptFileError) as error:
        plan(prompts=read_prompts(path, params=["qualty"]), models=["gpt-image-2"])
    assert str(error.value).startswith("p.csv: column 'qualty'")
    assert "did you mean 'quality'" in str(error.value)
    assert error.value.parameter == "qualty"
