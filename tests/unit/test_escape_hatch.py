"""strict=False: a value the catalog refuses is sent all the same, said, and journalled.

One layer at a time: the check itself, the client's submit (through the simulator's
in-process transport, no sockets), the run and its journal record, the comparison plan.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import pytest

import mountsea_widgets as mw
from mountsea_widgets import simulator
from mountsea_widgets._launch import Launcher
from mountsea_widgets._run_journal import RunJournal
from mountsea_widgets._unchecked import UncheckedValueWarning, check_input
from mountsea_widgets.catalog import catalog, load_catalog
from mountsea_widgets.comparison import REJECTED, plan
from mountsea_widgets.errors import BadRequestError, ValidationError
from mountsea_widgets.history import History
from mountsea_widgets.history._layout import JOURNAL_NAME
from mountsea_widgets.run import run_from_entry
from mountsea_widgets.simulator import Hub, ManualClock

MODEL = "nano-banana"
#: An aspect ratio the bundled catalog does not list (a hub might add it).
NEW_RATIO = "5:1"


def _broader_catalog() -> mw.Catalog:
    """The bundled catalog, with NEW_RATIO added to nano-banana's aspect ratios: a hub that
    knows more than this copy of the reference data."""
    text = (Path(mw.__file__).parent / "data" / "models.json").read_text("utf-8")
    data = json.loads(text)
    (model,) = [m for m in data["models"] if m["id"] == MODEL]
    (ratio,) = [p for p in model["params"] if p["name"] == "aspect_ratio"]
    ratio["enum"] = [*ratio["enum"], NEW_RATIO]
    return load_catalog(data)


def _journal(history: History) -> list[dict[str, Any]]:
    lines = (history.folder / JOURNAL_NAME).read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


# --- the check -------------------------------------------------------------------------------


def test_strict_is_the_catalog_s_own_validation() -> None:
    spec = catalog[MODEL]
    with pytest.raises(ValidationError) as strict:
        check_input(spec, {"prompt": "a cube", "aspect_ratio": NEW_RATIO})
    with pytest.raises(ValidationError) as validated:
        spec.validate({"prompt": "a cube", "aspect_ratio": NEW_RATIO})
    assert str(strict.value) == str(validated.value)
    assert strict.value.params == ["aspect_ratio"]


def test_not_strict_keeps_the_refused_value_and_cleans_the_rest() -> None:
    given = {"prompt": "a cube", "aspect_ratio": NEW_RATIO, "safety_tolerance": 4, "seed": None}
    checked = check_input(catalog[MODEL], given, strict=False)
    # The refused value as given; the others as validate() cleans them (4 -> "4", None out);
    # in the caller's order.
    assert checked.input == {"prompt": "a cube", "aspect_ratio": NEW_RATIO, "safety_tolerance": "4"}
    assert list(checked.input) == ["prompt", "aspect_ratio", "safety_tolerance"]
    assert checked.names == ["aspect_ratio"]
    (message,) = checked.messages(MODEL)
    assert "aspect_ratio" in message and repr(NEW_RATIO) in message and "strict=False" in message
    assert "1:1" in message  # what the catalog allows


def test_a_valid_input_has_nothing_unchecked_even_when_not_strict() -> None:
    checked = check_input(catalog[MODEL], {"prompt": "a cube", "seed": 3}, strict=False)
    assert checked.input == {"prompt": "a cube", "seed": 3}
    assert checked.unchecked == ()


def test_not_strict_sends_a_parameter_the_catalog_does_not_know() -> None:
    checked = check_input(catalog[MODEL], {"prompt": "a", "style_strength": 0.4}, strict=False)
    assert checked.input == {"prompt": "a", "style_strength": 0.4}
    assert checked.names == ["style_strength"]


def test_an_unknown_parameter_left_unset_is_dropped_as_known_ones_are() -> None:
    given = {"prompt": "a", "style_strength": None, "mood": " ", "seed": None}
    checked = check_input(catalog[MODEL], given, strict=False)
    assert checked.input == {"prompt": "a"}
    assert checked.unchecked == ()


def test_a_required_parameter_sent_unchecked_is_not_reported_missing() -> None:
    spec = catalog["nano-banana-edit"]
    checked = check_input(spec, {"prompt": "edit", "image_urls": ["ftp://x/y.png"]}, strict=False)
    assert checked.input == {"prompt": "edit", "image_urls": ["ftp://x/y.png"]}
    assert checked.names == ["image_urls"]


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("aspect_ratio", "16:9\ud800", "not valid Unicode"),
        ("aspect_ratio", math.nan, "JSON cannot carry it"),
        ("aspect_ratio", object(), "JSON cannot carry it"),
        ("extra", {"nested": ["\udfff"]}, "not valid Unicode"),
        ("api_key", "sk-something", "credential"),
        ("X-Api-Key", "sk-something", "credential"),
    ],
)
def test_what_no_request_can_carry_stays_refused(name: str, value: Any, why: str) -> None:
    with pytest.raises(ValidationError) as refused:
        check_input(catalog[MODEL], {"prompt": "a cube", name: value}, strict=False)
    assert refused.value.params == [name]
    assert "not sent even with strict=False" in str(refused.value)
    assert why in str(refused.value)


def test_a_missing_prompt_stays_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        check_input(catalog[MODEL], {"aspect_ratio": NEW_RATIO}, strict=False)
    assert refused.value.params == ["prompt"]  # the ratio alone would have been sent


def test_strict_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match="strict must be True or False"):
        check_input(catalog[MODEL], {"prompt": "a"}, strict="no")  # type: ignore[arg-type]


# --- the client -------------------------------------------------------------------------------


def _client(hub: Hub) -> mw.Client:
    return mw.Client(base_url="http://hub.test", transport=simulator.transport(hub))


def test_client_submit_refuses_before_sending_by_default() -> None:
    hub = Hub(clock=ManualClock(), prerender=False, catalog=_broader_catalog())
    with _client(hub) as client, pytest.raises(ValidationError):
        client.submit(MODEL, {"prompt": "a cube", "aspect_ratio": NEW_RATIO})
    assert hub.stats.requests == {}  # nothing reached the hub


def test_client_submit_not_strict_sends_it_and_warns_at_the_caller() -> None:
    hub = Hub(clock=ManualClock(), prerender=False, catalog=_broader_catalog())
    with _client(hub) as client, pytest.warns(UncheckedValueWarning) as caught:
        task_id = client.submit(
            MODEL, {"prompt": "a cube", "aspect_ratio": NEW_RATIO}, strict=False
        )
    assert hub.task(task_id).input["aspect_ratio"] == NEW_RATIO  # what the hub received
    (warning,) = caught.list
    assert "aspect_ratio" in str(warning.message)
    assert warning.filename == __file__  # the user's own line, not the package's


def test_the_hub_s_refusal_comes_back_typed_and_naming_the_parameter() -> None:
    hub = Hub(clock=ManualClock(), prerender=False)  # the bundled catalog: refuses NEW_RATIO
    with (
        _client(hub) as client,
        pytest.warns(UncheckedValueWarning),
        pytest.raises(BadRequestError) as refused,
    ):
        client.submit(MODEL, {"prompt": "a cube", "aspect_ratio": NEW_RATIO}, strict=False)
    assert refused.value.status_code == 422
    assert "aspect_ratio" in str(refused.value)
    assert hub.stats.rejections == 1  # it was sent, and the hub said no


def test_warnings_can_be_silenced_by_their_category() -> None:
    hub = Hub(clock=ManualClock(), prerender=False, catalog=_broader_catalog())
    with _client(hub) as client, warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=mw.UncheckedValueWarning)
        client.submit(MODEL, {"prompt": "a", "aspect_ratio": NEW_RATIO}, strict=False)


# --- the run and its journal -------------------------------------------------------------------


def test_a_run_sent_unchecked_says_so_and_its_start_record_lists_it(tmp_path: Path) -> None:
    history = History(tmp_path / "history")
    checked = check_input(
        catalog[MODEL], {"prompt": "a cube", "aspect_ratio": NEW_RATIO}, strict=False
    )
    run = Launcher.new_run(MODEL, checked.input, unchecked=checked.unchecked)
    assert run.unchecked == ("aspect_ratio",)
    assert len(run.warnings) == 1 and "aspect_ratio" in run.warnings[0]
    RunJournal(run, history).started()

    (record,) = _journal(history)
    assert record["op"] == "start" and record["unchecked"] == ["aspect_ratio"]
    entry = history.get(run.run_id)
    assert entry.unchecked == ["aspect_ratio"]
    assert run_from_entry(entry).unchecked == ("aspect_ratio",)


def test_a_checked_run_s_start_record_is_as_before(tmp_path: Path) -> None:
    """Only the optional field differs: a reader that knows nothing of it reads the same."""
    history = History(tmp_path / "history")
    plain = Launcher.new_run(MODEL, {"prompt": "a cube"})
    unchecked = Launcher.new_run(
        MODEL,
        {"prompt": "a cube", "aspect_ratio": NEW_RATIO},
        unchecked=check_input(
            catalog[MODEL], {"prompt": "a", "aspect_ratio": NEW_RATIO}, strict=False
        ).unchecked,
    )
    RunJournal(plain, history).started()
    RunJournal(unchecked, history).started()
    first, second = _journal(history)
    assert "unchecked" not in first
    assert set(second) - set(first) == {"unchecked"}
    assert history.get(plain.run_id).unchecked == []


def test_an_unknown_unchecked_field_shape_is_skipped(tmp_path: Path) -> None:
    """A hand-edited or future record: the history takes the names it can read, no more."""
    history = History(tmp_path / "history")
    line = {"v": 1, "op": "start", "run_id": "r1", "model": MODEL, "input": {"prompt": "a"}}
    bad = {**line, "run_id": "r2", "unchecked": "aspect_ratio"}
    mixed = {**line, "run_id": "r3", "unchecked": ["aspect_ratio", 7]}
    text = "".join(json.dumps(record) + "\n" for record in (line, bad, mixed))
    (history.folder / JOURNAL_NAME).write_text(text, "utf-8")
    fresh = History(history.folder)
    assert [fresh.get(r).unchecked for r in ("r1", "r2", "r3")] == [[], [], ["aspect_ratio"]]


# --- comparisons ---------------------------------------------------------------------------------


def test_a_comparison_cell_is_rejected_by_default_and_runs_unchecked_when_not_strict() -> None:
    vary = {"aspect_ratio": ["1:1", NEW_RATIO]}
    strict = plan("a cube", models=[MODEL], vary=vary)
    assert [cell.kind for cell in strict.cells] == ["run", REJECTED]

    loose = plan("a cube", models=[MODEL], vary=vary, strict=False)
    assert [cell.kind for cell in loose.cells] == ["run", "run"]
    checked_cell, unchecked_cell = loose.cells
    assert checked_cell.run is not None and checked_cell.run.unchecked == ()
    assert unchecked_cell.run is not None and unchecked_cell.run.unchecked == ("aspect_ratio",)
    assert unchecked_cell.input == {"prompt": "a cube", "aspect_ratio": NEW_RATIO}
    assert "aspect_ratio sent unchecked" in unchecked_cell.note


def test_the_code_of_a_run_sent_unchecked_says_strict_false() -> None:
    from mountsea_widgets.run import generation_code

    code = generation_code(MODEL, {"prompt": "a cube", "aspect_ratio": NEW_RATIO}, ["aspect_ratio"])
    assert "strict" not in generation_code(MODEL, {"prompt": "a cube"})
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def record(*args: Any, **kwargs: Any) -> None:
        calls.append((args, kwargs))

    # The code as Python reads it, with the call recorded instead of made.
    exec(compile(code.replace("mw.generate(", "record("), "<code>", "exec"), {"record": record})
    assert calls == [((MODEL, "a cube"), {"aspect_ratio": NEW_RATIO, "strict": False})]
