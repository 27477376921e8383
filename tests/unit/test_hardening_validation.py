"""Validation gaps: seeds beyond what JSON keeps exactly, hosts with spaces, a history given as a
path."""

from __future__ import annotations

from pathlib import Path

import pytest

import mountsea_widgets as mw
from mountsea_widgets._launch import Launcher
from mountsea_widgets.catalog import SEED_RANGE
from mountsea_widgets.errors import ValidationError

SEEDED = [model for model, spec in mw.catalog.items() if spec.has("seed")]


@pytest.mark.parametrize("model", SEEDED)
@pytest.mark.parametrize("seed", [2**70, 2**53, -(2**53)])
def test_a_seed_beyond_what_json_keeps_exactly_is_refused_naming_the_range(
    model: str, seed: int
) -> None:
    spec = mw.catalog[model]
    base = {"prompt": "a"}
    if spec.has("image_urls"):
        base["image_urls"] = ["https://example.com/a.png"]  # type: ignore[assignment]
    with pytest.raises(ValidationError) as info:
        spec.validate({**base, "seed": seed})
    assert info.value.params == ["seed"]
    assert f"from {SEED_RANGE[0]} to {SEED_RANGE[1]}" in str(info.value)


@pytest.mark.parametrize("seed", [SEED_RANGE[0], -7, 0, 2**31 - 1, SEED_RANGE[1]])
def test_every_seed_json_keeps_exactly_is_sent_as_is(seed: int) -> None:
    assert mw.catalog["nano-banana"].validate({"prompt": "a", "seed": seed})["seed"] == seed
    assert float(seed) == seed  # a reader parsing numbers as doubles gets the same seed


@pytest.mark.parametrize(
    "url",
    [
        "https://exa mple.com/a.png",
        "https://example.com\n/a.png",
        "https://example.com/a b.png",
        "https://example.com/a.png\nhttps://example.com/b.png",
        "https://exa\tmple.com/a.png",
        "https://example.com/a\x00.png",
    ],
)
def test_an_image_url_with_a_space_or_control_character_is_refused(url: str) -> None:
    with pytest.raises(ValidationError) as info:
        mw.catalog["nano-banana-edit"].validate({"prompt": "a", "image_urls": [url]})
    assert info.value.params == ["image_urls"]
    assert "space, a line break or another control character" in str(info.value)


def test_a_clean_image_url_still_passes() -> None:
    url = "https://example.com/a%20b.png?x=1"
    cleaned = mw.catalog["nano-banana-edit"].validate({"prompt": "a", "image_urls": [url]})
    assert cleaned["image_urls"] == [url]


def test_a_history_given_as_a_folder_path_is_opened_there(tmp_path: Path) -> None:
    from mountsea_widgets.history import History, open_history

    for given in (str(tmp_path / "as-text"), tmp_path / "as-path"):
        opened = open_history(given)
        assert isinstance(opened, History) and opened.folder == Path(given).resolve()
    launcher = Launcher(history=str(tmp_path / "by-launcher"))  # every entry point's path
    assert launcher.history is not None
    assert launcher.history.folder == (tmp_path / "by-launcher").resolve()


@pytest.mark.parametrize("wrong", [42, 1.5, ["a"], object()])
def test_a_history_of_another_kind_is_refused_naming_what_is_allowed(wrong: object) -> None:
    from mountsea_widgets.history import open_history

    with pytest.raises(TypeError, match=r"history must be an mw\.History, a folder path"):
        open_history(wrong)  # type: ignore[arg-type]
