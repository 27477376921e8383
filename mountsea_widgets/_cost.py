"""Cost estimates: what a run, a grid or a session is expected to cost, and from what.

``mw.estimate_cost(model, **params)`` prices one run from the price table in use (see
:mod:`._prices`): an :class:`Estimate` with the amount (None when no price is known), its unit
and its basis in words. The hub bills only tasks that end ``completed``; an estimate is what a
completed run of these parameters is expected to cost at the upstream list prices, not what the
hub charges.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._prices import UNKNOWN, PriceTable, confirm_above, price_table
from .catalog import catalog

__all__ = ["BudgetError", "Estimate", "check_budget", "estimate_cost", "estimate_input", "total"]


@dataclass(frozen=True)
class Estimate:
    """An estimated cost: ``amount`` in ``unit`` (None: unknown) and the ``basis`` in words.

    ``images`` is how many images it covers; ``unknown`` how many runs (of a total) had no
    known price, so their cost is not in ``amount``.
    """

    amount: float | None
    unit: str
    basis: str
    images: int = 1
    unknown: int = 0

    @property
    def known(self) -> bool:
        """True when every part has a known price."""
        return self.amount is not None and self.unknown == 0

    @property
    def label(self) -> str:
        """A short label, e.g. ``≈ $0.16`` or ``cost unknown`` (for a button's side)."""
        if self.amount is None:
            return "cost unknown"
        text = f"≈ {money(self.amount, self.unit)}"
        if self.unknown:
            text += f" + {self.unknown} unknown"
        return text

    def to_dict(self) -> dict[str, Any]:
        """The estimate as JSON-friendly data (journal, CSV, image metadata)."""
        return {
            "amount": None if self.amount is None else round(self.amount, 6),
            "unit": self.unit,
            "basis": self.basis,
            "images": self.images,
            "unknown": self.unknown,
            "estimate": True,
        }

    def __str__(self) -> str:
        return f"{self.label} (estimate: {self.basis})"

    def __repr__(self) -> str:
        amount = "unknown" if self.amount is None else f"{self.amount:.4f}"
        return f"Estimate({amount} {self.unit}, {self.basis!r})"


class BudgetError(ValueError):
    """A grid's estimate is above the budget guard's threshold (or ``max_cost``)."""


def money(amount: float, unit: str = "USD") -> str:
    """``$0.16`` for dollars (more digits for small amounts), ``0.16 <unit>`` otherwise."""
    digits = 3 if 0 < amount < 0.1 else 2
    text = f"{amount:.{digits}f}"
    return f"${text}" if unit == "USD" else f"{text} {unit}"


def _key(value: Any) -> str:
    return "true" if value is True else "false" if value is False else str(value)


def _pixels(size: Any, presets: Mapping[str, Any]) -> tuple[int | None, str]:
    if isinstance(size, Mapping) and {"width", "height"} <= set(size):
        return int(size["width"]) * int(size["height"]), f"{size['width']}×{size['height']}"
    preset = presets.get(str(size))
    if isinstance(preset, list):
        return preset[0] * preset[1], f"{size} (taken as {preset[0]}×{preset[1]})"
    return None, str(size)


def _per_image(model: str, input: Mapping[str, Any], table: PriceTable) -> tuple[float | None, str]:
    """One image's price and the basis, or (None, why unknown)."""
    entry = table.entry(model)
    if entry is None:
        return None, f"no list price for {model}"
    spec = catalog.spec(model)
    values = {**spec.defaults(), **{k: v for k, v in input.items() if v is not None}}
    rule = entry.get("by_pixels")
    parts: list[str] = []
    if isinstance(rule, Mapping):
        tier = values.get(rule["tier"])
        points = rule["points"].get(_key(tier), UNKNOWN)
        pixels, size_text = _pixels(values.get(rule["size"]), rule.get("presets", {}))
        if points == UNKNOWN:
            return None, f"no list price for {model} at {rule['tier']} {tier}"
        if pixels is None:
            return None, f"no list price for {model} at {rule['size']} {size_text}"
        (low_px, low), (high_px, high) = points
        share = min(1.0, max(0.0, (pixels - low_px) / (high_px - low_px)))
        price = float(low + share * (high - low))
        parts.append(f"{model} {rule['tier']} {tier}, {size_text}")
    else:
        base = entry.get("per_image", UNKNOWN)
        if base == UNKNOWN:
            return None, f"no list price for {model}"
        price = float(base)
        parts.append(model)
        for param, table_values in (entry.get("factors") or {}).items():
            if param not in values:
                continue
            factor = table_values.get(_key(values[param]), UNKNOWN)
            if factor == UNKNOWN:
                return None, f"no list price for {model} at {param} {_key(values[param])}"
            price *= float(factor)
            parts.append(f"{param} {_key(values[param])} ×{factor:g}")
    for param, table_values in (entry.get("extras") or {}).items():
        if param not in values:
            continue
        extra = table_values.get(_key(values[param]), UNKNOWN)
        if extra == UNKNOWN:
            return None, f"no list price for {param} {_key(values[param])} on {model}"
        if extra:
            price += float(extra)
            parts.append(f"{param} {_key(values[param])} +{money(float(extra), table.unit)}")
    basis = ", ".join(parts) + f" at {money(price, table.unit)} per image"
    if entry.get("note"):
        basis += f" ({entry['note']})"
    return price, basis


def estimate_input(model: str, input: Mapping[str, Any]) -> Estimate:
    """The estimate for one run of ``model`` with ``input`` (already validated, or a form's
    values: anything not set takes the model's default)."""
    table = price_table()
    count = input.get("num_images")
    images = count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else 1
    price, basis = _per_image(model, input, table)
    source = f"{table.kind}, {table.origin}, as of {table.as_of}"
    if price is None:
        return Estimate(None, table.unit, f"{basis}; {source}", images=images, unknown=1)
    times = f"{images} × " if images != 1 else ""
    return Estimate(price * images, table.unit, f"{times}{basis}; {source}", images=images)


def estimate_cost(model: str, prompt: str | None = None, **params: Any) -> Estimate:
    """Estimate what one run of ``model`` with ``params`` costs (nothing is sent).

    >>> mw.estimate_cost("nano-banana-2", resolution="2K", num_images=2)
    Estimate(0.2400 USD, ...)

    ``params`` are checked as :func:`mw.generate` checks them (a wrong name or value raises
    :class:`~mountsea_widgets.errors.ValidationError`). The amount is an estimate from upstream
    list prices (see ``estimate.basis``), or None where no price is known.
    """
    spec = catalog.spec(model)
    given = dict(params)
    if "prompt" in spec.names:
        given["prompt"] = prompt or "price estimate"
    if spec.has("image_urls") and "image_urls" not in given:
        given["image_urls"] = ["https://example.com/image.png"]  # only its presence is checked
    return estimate_input(model, spec.validate(given))


def total(estimates: Iterable[Estimate], what: str = "runs") -> Estimate:
    """The sum of ``estimates``: known amounts added, unknown ones counted."""
    items = list(estimates)
    unit = items[0].unit if items else price_table().unit
    known = [item.amount for item in items if item.amount is not None]
    unknown = sum(item.unknown for item in items)
    images = sum(item.images for item in items)
    amount = float(sum(known)) if known or not items else None
    basis = f"{len(items)} {what}, {images} images"
    if unknown:
        basis += f"; {unknown} without a known price, not counted"
    return Estimate(amount, unit, basis, images=images, unknown=unknown)


def check_budget(
    estimate: Estimate,
    *,
    confirm: bool = False,
    max_cost: float | None = None,
    threshold: float | None = None,
    what: str = "this grid",
) -> None:
    """Refuse, before anything is sent, a batch of runs whose ``estimate`` is over budget.

    With ``max_cost``: the estimate must be known and at most ``max_cost``. Otherwise, above
    ``threshold`` (default ``MOUNTSEA_CONFIRM_ABOVE``, else $1) ``confirm=True`` is needed.
    Raises :class:`BudgetError` saying the estimate and how to go on.
    """
    shown = estimate.label.removeprefix("≈ ")
    if max_cost is not None:
        if isinstance(max_cost, bool) or not isinstance(max_cost, int | float) or max_cost < 0:
            raise ValueError(f"max_cost must be a number of dollars (0 or more), got {max_cost!r}")
        if estimate.amount is not None and estimate.amount > max_cost:
            raise BudgetError(
                f"{what.capitalize()} is estimated at {shown}, above max_cost="
                f"{money(float(max_cost), estimate.unit)}; nothing was submitted. Raise max_cost, "
                "or make the grid smaller."
            )
        if estimate.unknown:
            raise BudgetError(
                f"{what.capitalize()} is estimated at {shown}: {estimate.unknown} of its runs "
                "have no known price, so it cannot be held to max_cost; nothing was submitted. "
                "Pass confirm=True instead of max_cost to run it anyway."
            )
        return
    limit = confirm_above() if threshold is None else threshold
    if confirm or estimate.amount is None or estimate.amount <= limit:
        return
    in_grid = ', confirm="ask" to confirm in the grid,' if what == "this grid" else ""
    raise BudgetError(
        f"{what.capitalize()} is estimated at {shown} ({estimate.basis}), above the "
        f"{money(limit, estimate.unit)} that needs confirming; nothing was submitted. Pass "
        f"confirm=True to run it{in_grid} or max_cost=<dollars> to allow up to that amount "
        "(the threshold is set by MOUNTSEA_CONFIRM_ABOVE)."
    )
