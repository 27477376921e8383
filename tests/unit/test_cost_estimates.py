"""Cost estimates: every model's price-changing parameters, the price table's rules, user price
files (and bad ones), totals and the budget guard's decisions."""

from __future__ import annotations

import dataclasses
import itertools
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import mountsea_widgets as mw
from mountsea_widgets import _cost as cost
from mountsea_widgets import _prices as prices
from mountsea_widgets.catalog import catalog
from mountsea_widgets.errors import ValidationError

# The upstream list prices the bundled table documents (see data/prices.json "sources").
NB2_BASE = 0.08
NB2_TIERS = {"0.5K": 0.75, "1K": 1.0, "2K": 1.5, "4K": 2.0}
NB2_WEB_SEARCH = 0.015
NB2_HIGH_THINKING = 0.002
PRO_BASE = 0.15
GPT_POINTS = {"low": (0.01, 0.02), "medium": (0.04, 0.11), "high": (0.15, 0.41)}
GPT_LOW_PIXELS, GPT_HIGH_PIXELS = 1024 * 768, 3840 * 2160


@pytest.fixture(autouse=True)
def builtin_prices(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts and ends on the built-in table."""
    monkeypatch.delenv("MOUNTSEA_PRICES", raising=False)
    monkeypatch.delenv("MOUNTSEA_CONFIRM_ABOVE", raising=False)
    prices.reset_prices()
    yield
    prices.reset_prices()


def amount(model: str, **params: Any) -> float | None:
    return mw.estimate_cost(model, **params).amount


# --- every model -----------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_nano_banana_is_priced_per_image(count: int) -> None:
    assert amount("nano-banana", num_images=count) == pytest.approx(0.039 * count)


@pytest.mark.parametrize(
    ("resolution", "web_search", "thinking", "count"),
    list(itertools.product(NB2_TIERS, [None, False, True], [None, "minimal", "high"], [1, 2, 4])),
)
def test_nano_banana_2_combines_tier_web_search_thinking_and_count(
    resolution: str, web_search: bool | None, thinking: str | None, count: int
) -> None:
    params: dict[str, Any] = {"resolution": resolution, "num_images": count}
    if web_search is not None:
        params["enable_web_search"] = web_search
    if thinking is not None:
        params["thinking_level"] = thinking
    per_image = NB2_BASE * NB2_TIERS[resolution]
    per_image += NB2_WEB_SEARCH if web_search else 0.0
    per_image += NB2_HIGH_THINKING if thinking == "high" else 0.0
    estimate = mw.estimate_cost("nano-banana-2", **params)
    assert estimate.amount == pytest.approx(per_image * count)
    assert estimate.images == count and estimate.known
    assert f"resolution {resolution}" in estimate.basis


def test_nano_banana_2_default_is_the_1k_tier() -> None:
    assert amount("nano-banana-2") == pytest.approx(NB2_BASE)


@pytest.mark.parametrize("resolution", ["1K", "2K"])
@pytest.mark.parametrize("count", [1, 3])
def test_nano_banana_pro_known_tiers(resolution: str, count: int) -> None:
    assert amount("nano-banana-pro", resolution=resolution, num_images=count) == pytest.approx(
        PRO_BASE * count
    )


@pytest.mark.parametrize(
    ("model", "params"),
    [
        ("nano-banana-pro", {"resolution": "4K"}),
        ("nano-banana-pro-edit", {"enable_web_search": True}),  # disabled on the text model
    ],
)
def test_nano_banana_pro_prices_not_found_are_unknown_not_guessed(
    model: str, params: dict[str, Any]
) -> None:
    estimate = mw.estimate_cost(model, **params)
    assert estimate.amount is None and not estimate.known
    assert estimate.label == "cost unknown"
    assert "no list price" in estimate.basis


@pytest.mark.parametrize("quality", ["low", "medium", "high"])
def test_gpt_image_2_documented_points(quality: str) -> None:
    low, high = GPT_POINTS[quality]
    small = {"width": 1024, "height": 768}
    large = {"width": 3840, "height": 2160}
    assert amount("gpt-image-2", quality=quality, image_size=small) == pytest.approx(low)
    assert amount("gpt-image-2", quality=quality, image_size=large) == pytest.approx(high)


@pytest.mark.parametrize("quality", ["low", "medium", "high"])
@pytest.mark.parametrize(
    "preset", [p for p in catalog.spec("gpt-image-2").param("image_size").enum or ()]
)
@pytest.mark.parametrize("count", [1, 2, 4])
def test_gpt_image_2_quality_times_preset_times_count(
    quality: str, preset: str, count: int
) -> None:
    low, high = GPT_POINTS[quality]
    estimate = mw.estimate_cost("gpt-image-2", quality=quality, image_size=preset, num_images=count)
    assert estimate.amount is not None
    assert low * count - 1e-9 <= estimate.amount <= high * count + 1e-9
    assert preset in estimate.basis and "taken as" in estimate.basis  # the assumed pixel size


def test_gpt_image_2_interpolates_by_pixels_and_grows_with_size() -> None:
    middle = (GPT_LOW_PIXELS + GPT_HIGH_PIXELS) // 2
    side = 2048, middle // 2048 // 16 * 16
    size = {"width": side[0], "height": side[1]}
    share = (side[0] * side[1] - GPT_LOW_PIXELS) / (GPT_HIGH_PIXELS - GPT_LOW_PIXELS)
    expected = 0.15 + share * (0.41 - 0.15)
    assert amount("gpt-image-2", quality="high", image_size=size) == pytest.approx(expected)
    sizes = [{"width": 1024, "height": 1024}, {"width": 2048, "height": 1152}, size]
    amounts = [
        amount("gpt-image-2", quality="high", image_size=s)
        for s in sorted(sizes, key=lambda s: s["width"] * s["height"])
    ]
    assert amounts == sorted(amounts)  # type: ignore[type-var]


def test_gpt_image_2_default_is_high_at_landscape_4_3() -> None:
    estimate = mw.estimate_cost("gpt-image-2")
    assert estimate.amount == pytest.approx(0.15)
    assert "quality high" in estimate.basis and "landscape_4_3" in estimate.basis


def test_gpt_image_2_auto_quality_is_unknown() -> None:
    assert amount("gpt-image-2", quality="auto") is None


@pytest.mark.parametrize(
    ("edit", "twin", "params"),
    [
        ("nano-banana-edit", "nano-banana", {"num_images": 2}),
        ("nano-banana-2-edit", "nano-banana-2", {"resolution": "2K", "enable_web_search": True}),
        ("nano-banana-pro-edit", "nano-banana-pro", {"resolution": "1K"}),
        ("gpt-image-2-edit", "gpt-image-2", {"quality": "medium", "image_size": "square_hd"}),
    ],
)
def test_edit_models_are_priced_as_their_twin_and_say_so(
    edit: str, twin: str, params: dict[str, Any]
) -> None:
    estimate = mw.estimate_cost(edit, **params)
    assert estimate.amount == pytest.approx(amount(twin, **params))
    assert "input image" in estimate.basis and "not counted" in estimate.basis


def test_gpt_image_2_edit_auto_size_is_unknown() -> None:
    assert amount("gpt-image-2-edit") is None  # image_size defaults to auto: pixels unknown


def test_every_catalog_model_has_an_estimate_or_says_unknown() -> None:
    for model in catalog:
        estimate = mw.estimate_cost(model)
        assert estimate.unit == "USD"
        assert "upstream list prices" in estimate.basis
        assert estimate.amount is None or estimate.amount > 0


def test_estimate_cost_checks_parameters_like_generate() -> None:
    with pytest.raises(ValidationError, match="resolution"):
        mw.estimate_cost("nano-banana-2", resolution="8K")
    with pytest.raises(ValidationError, match="qualty"):
        mw.estimate_cost("gpt-image-2", qualty="high")


def test_estimate_is_a_frozen_readable_value() -> None:
    estimate = mw.estimate_cost("nano-banana-2", num_images=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        estimate.amount = 0.0  # type: ignore[misc]
    assert repr(estimate).startswith("Estimate(0.1600 USD, ")
    assert str(estimate).startswith("≈ $0.16 (estimate: 2 × nano-banana-2")
    assert estimate.to_dict()["estimate"] is True


def test_total_adds_known_amounts_and_counts_unknown_ones() -> None:
    parts = [
        mw.estimate_cost("nano-banana"),
        mw.estimate_cost("nano-banana-2", num_images=2),
        mw.estimate_cost("nano-banana-pro", resolution="4K"),
    ]
    together = cost.total(parts)
    assert together.amount == pytest.approx(0.039 + 0.16)
    assert together.unknown == 1 and together.images == 4
    assert "1 without a known price" in together.basis
    assert together.label == "≈ $0.20 + 1 unknown"


# --- the bundled table -----------------------------------------------------------------------


def test_bundled_table_has_sources_date_and_marks_estimates() -> None:
    table = prices.builtin_table()
    assert table.unit == "USD" and table.as_of
    assert "estimate" in table.kind
    for model in catalog:
        entry = table.models[model]
        source = entry.get("source") or table.models[entry["same_as"]].get("source")
        assert source in table.sources, model


# --- user price tables -----------------------------------------------------------------------


def write(tmp_path: Path, data: Any, name: str = "prices.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), "utf-8")
    return path


def test_use_prices_overrides_one_model_and_keeps_the_others(tmp_path: Path) -> None:
    path = write(tmp_path, {"models": {"nano-banana": {"per_image": 0.05}}})
    mw.use_prices(path)
    assert amount("nano-banana") == pytest.approx(0.05)
    assert amount("nano-banana-2") == pytest.approx(NB2_BASE)
    assert str(path) in mw.estimate_cost("nano-banana").basis
    mw.reset_prices()
    assert amount("nano-banana") == pytest.approx(0.039)


def test_use_prices_takes_a_dict() -> None:
    mw.use_prices({"models": {"gpt-image-2": {"per_image": 0.2}}})
    assert amount("gpt-image-2", quality="low") == pytest.approx(0.2)


def test_environment_price_file_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, {"models": {"nano-banana-pro": {"per_image": 0.24}}})
    monkeypatch.setenv("MOUNTSEA_PRICES", str(path))
    assert amount("nano-banana-pro") == pytest.approx(0.24)


BAD_TABLES = [
    ("{not json", "not valid JSON (line 1"),
    ('["a list"]', 'must be a JSON object with "models"'),
    ({"models": {"nano-bananas": {"per_image": 0.1}}}, "models.nano-bananas: no such model"),
    (
        {"models": {"nano-banana-2": {"per_image": 0.1, "factors": {"resolutoin": {"1K": 1}}}}},
        "models.nano-banana-2.factors.resolutoin: nano-banana-2 has no parameter",
    ),
    (
        {"models": {"nano-banana": {"per_image": -0.01}}},
        "models.nano-banana.per_image: a price cannot be negative",
    ),
    (
        {
            "models": {
                "nano-banana-2": {"per_image": 0.1, "extras": {"thinking_level": {"high": -1}}}
            }
        },
        "models.nano-banana-2.extras.thinking_level.high: a price cannot be negative",
    ),
    (
        {"models": {"nano-banana": {"per_image": "cheap"}}},
        'must be a number of dollars (0 or more) or "unknown"',
    ),
    ({"models": {"nano-banana": {"price": 0.1}}}, "models.nano-banana.price: not a price field"),
    ({"models": {"nano-banana": {"same_as": "nano-banana-edit"}}}, "models.nano-banana.same_as"),
    ({"unit": "EUR", "models": {"nano-banana": {"per_image": 0.1}}}, "unit: must be 'USD'"),
]


@pytest.mark.parametrize(("data", "message"), BAD_TABLES)
def test_bad_price_file_names_file_and_entry_and_keeps_builtin(
    tmp_path: Path, data: Any, message: str
) -> None:
    path = write(tmp_path, data)
    with pytest.raises(prices.PriceFileError) as refused:
        mw.use_prices(path)
    text = str(refused.value)
    assert str(path) in text and message in text, text
    assert "built-in prices stay in use" in text
    assert amount("nano-banana") == pytest.approx(0.039)  # still the built-in table


def test_missing_price_file_says_so(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    with pytest.raises(prices.PriceFileError, match="could not be read") as refused:
        mw.use_prices(missing)
    assert str(missing) in str(refused.value) and "Errno" not in str(refused.value)


def test_bad_price_file_after_a_good_one_keeps_the_good_one(tmp_path: Path) -> None:
    mw.use_prices(write(tmp_path, {"models": {"nano-banana": {"per_image": 0.05}}}, "good.json"))
    with pytest.raises(prices.PriceFileError):
        mw.use_prices(write(tmp_path, {"models": {"nano-banana": {"per_image": -1}}}, "bad.json"))
    assert amount("nano-banana") == pytest.approx(0.05)


def test_bad_environment_price_file_warns_once_and_builtin_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, {"models": {"gpt-image-3": {"per_image": 1}}})
    monkeypatch.setenv("MOUNTSEA_PRICES", str(path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = amount("nano-banana")
        second = amount("nano-banana")
    messages = [str(w.message) for w in caught]
    assert first == second == pytest.approx(0.039)
    assert len(messages) == 1
    assert str(path) in messages[0] and "models.gpt-image-3: no such model" in messages[0]


# --- the budget guard's decision ---------------------------------------------------------------


def grid_of(amount_each: float, runs: int) -> cost.Estimate:
    return cost.total([cost.Estimate(amount_each, "USD", "test", 1) for _ in range(runs)])


def test_guard_refuses_above_the_default_threshold_without_confirm() -> None:
    with pytest.raises(cost.BudgetError) as refused:
        cost.check_budget(grid_of(0.15, 8))
    text = str(refused.value)
    assert "$1.20" in text and "$1.00" in text
    assert "confirm=True" in text and "max_cost=" in text and "nothing was submitted" in text


def test_guard_lets_small_grids_and_confirmed_ones_through() -> None:
    cost.check_budget(grid_of(0.1, 10))  # exactly $1: not above
    cost.check_budget(grid_of(0.15, 8), confirm=True)


def test_guard_threshold_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOUNTSEA_CONFIRM_ABOVE", "0.25")
    with pytest.raises(cost.BudgetError, match=r"above the \$0.25"):
        cost.check_budget(grid_of(0.1, 3))
    monkeypatch.setenv("MOUNTSEA_CONFIRM_ABOVE", "not a number")
    cost.check_budget(grid_of(0.1, 3))  # back to the $1 default


def test_guard_max_cost_allows_up_to_it_and_refuses_above() -> None:
    cost.check_budget(grid_of(0.5, 4), max_cost=2.0)
    with pytest.raises(cost.BudgetError, match=r"above max_cost=\$1.50"):
        cost.check_budget(grid_of(0.5, 4), max_cost=1.5)
    with pytest.raises(ValueError, match="max_cost must be a number"):
        cost.check_budget(grid_of(0.5, 4), max_cost=-1)


def test_guard_max_cost_cannot_vouch_for_unknown_prices() -> None:
    mixed = cost.total(
        [mw.estimate_cost("nano-banana"), mw.estimate_cost("gpt-image-2", quality="auto")]
    )
    with pytest.raises(cost.BudgetError, match="no known price"):
        cost.check_budget(mixed, max_cost=100)
