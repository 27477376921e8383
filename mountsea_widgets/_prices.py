"""The price table: estimated list prices per model and per price-changing parameter.

The bundled table is ``data/prices.json``: US dollars per image, taken from the list prices of
the upstream endpoints the hub mirrors (the hub bills in credits and publishes no per-model
table). Every value is an estimate; a value written ``"unknown"`` was not found anywhere.

A model's entry holds one of:

* ``per_image`` (a price or ``"unknown"``), with optional ``factors`` (``{param: {value:
  multiplier}}``) and ``extras`` (``{param: {value: dollars added per image}}``);
* ``by_pixels``: a price per ``tier`` value (e.g. ``quality``) interpolated by the pixel count
  of the ``size`` parameter between two ``points`` ``[[pixels, price], [pixels, price]]``, with
  the pixel sizes of named ``presets``;
* ``same_as``: another model's entry (an edit model priced as its text-to-image twin).

Values are matched by their JSON text for booleans (``"true"``/``"false"``) and as given for
strings. A user table (``MOUNTSEA_PRICES`` names a JSON file, or :func:`use_prices`) has the same
shape; each model it names replaces that model's built-in entry. A user table that is not valid
is refused as a whole, with a message naming the file and the entry, and the built-in table
stays in use.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from .catalog import catalog

__all__ = ["PriceFileError", "PriceTable", "price_table", "reset_prices", "use_prices"]

log = logging.getLogger(__name__)

UNKNOWN = "unknown"
_ENTRY_KEYS = {"per_image", "factors", "extras", "by_pixels", "same_as", "source", "note"}
_BY_PIXELS_KEYS = {"tier", "size", "points", "presets"}


class PriceFileError(ValueError):
    """A price table that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class PriceTable:
    """A checked price table: ``models`` maps model ids to their entries; ``origin`` says
    where it came from (the bundled file, or the user's file over it)."""

    unit: str
    as_of: str
    kind: str
    sources: Mapping[str, str]
    models: Mapping[str, Mapping[str, Any]]
    origin: str

    def entry(self, model: str) -> Mapping[str, Any] | None:
        """``model``'s entry with ``same_as`` followed (None when the table has none)."""
        entry = self.models.get(model)
        if entry is None or "same_as" not in entry:
            return entry
        target = self.models.get(str(entry["same_as"]))
        if target is None or "same_as" in target:
            return None
        return {**target, **{key: value for key, value in entry.items() if key != "same_as"}}


# --- checking ---------------------------------------------------------------------------------


def _is_price(value: Any) -> bool:
    return value == UNKNOWN or (
        isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
    )


def _price_problem(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
        return f"a price cannot be negative (got {value})"
    return f'must be a number of dollars (0 or more) or "unknown", got {json.dumps(value)}'


def _check_values(where: str, model: str, table: Any, problems: list[str]) -> None:
    """``{param: {value: price}}`` for ``model``: known parameters, valid prices."""
    if not isinstance(table, Mapping):
        problems.append(f"{where}: must be an object of parameter names")
        return
    spec = catalog.spec(model)
    for param, values in table.items():
        if not spec.has(param):
            problems.append(
                f"{where}.{param}: {model} has no parameter {param!r} (it has "
                f"{', '.join(spec.names)})"
            )
            continue
        if not isinstance(values, Mapping):
            problems.append(f"{where}.{param}: must be an object of values and prices")
            continue
        for value, price in values.items():
            if not _is_price(price):
                problems.append(f"{where}.{param}.{value}: {_price_problem(price)}")


def _check_points(where: str, points: Any, problems: list[str]) -> None:
    if not isinstance(points, Mapping):
        problems.append(f"{where}: must be an object of tier values")
        return
    for tier, pair in points.items():
        if pair == UNKNOWN:
            continue
        ok = (
            isinstance(pair, list)
            and len(pair) == 2
            and all(isinstance(p, list) and len(p) == 2 for p in pair)
        )
        if not ok:
            problems.append(
                f'{where}.{tier}: must be [[pixels, price], [pixels, price]] or "unknown"'
            )
            continue
        (low_px, low), (high_px, high) = pair
        for price in (low, high):
            if not _is_price(price) or price == UNKNOWN:
                problems.append(f"{where}.{tier}: {_price_problem(price)}")
        numbers = [low_px, high_px]
        if not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in numbers):
            problems.append(f"{where}.{tier}: pixel counts must be positive integers")
        elif not low_px < high_px:
            problems.append(f"{where}.{tier}: the first pixel count must be the smaller")


def _check_presets(where: str, presets: Any, problems: list[str]) -> None:
    if not isinstance(presets, Mapping):
        problems.append(f"{where}: must be an object of preset names")
        return
    for name, size in presets.items():
        ok = size == UNKNOWN or (
            isinstance(size, list)
            and len(size) == 2
            and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in size)
        )
        if not ok:
            problems.append(f'{where}.{name}: must be [width, height] in pixels or "unknown"')


def _check_entry(model: str, entry: Any, models: Mapping[str, Any], problems: list[str]) -> None:
    where = f"models.{model}"
    if model not in catalog:
        problems.append(f"{where}: no such model (known: {', '.join(catalog)})")
        return
    if not isinstance(entry, Mapping):
        problems.append(f"{where}: must be an object")
        return
    for key in entry:
        if key not in _ENTRY_KEYS:
            allowed = ", ".join(sorted(_ENTRY_KEYS))
            problems.append(f"{where}.{key}: not a price field (allowed: {allowed})")
    kinds = [key for key in ("per_image", "by_pixels", "same_as") if key in entry]
    if len(kinds) != 1:
        problems.append(f"{where}: needs exactly one of per_image, by_pixels or same_as")
        return
    if "same_as" in entry:
        target = entry["same_as"]
        if (
            not isinstance(target, str)
            or target == model
            or not isinstance(models.get(target), Mapping)
            or "same_as" in models[target]
        ):
            problems.append(
                f"{where}.same_as: must name another model of the table that has its own prices"
            )
        return
    if "per_image" in entry and not _is_price(entry["per_image"]):
        problems.append(f"{where}.per_image: {_price_problem(entry['per_image'])}")
    for part in ("factors", "extras"):
        if part in entry:
            _check_values(f"{where}.{part}", model, entry[part], problems)
    if "by_pixels" in entry:
        rule = entry["by_pixels"]
        if not isinstance(rule, Mapping) or set(rule) - _BY_PIXELS_KEYS or "points" not in rule:
            problems.append(f"{where}.by_pixels: needs tier, size, points (and presets)")
            return
        spec = catalog.spec(model)
        for key in ("tier", "size"):
            if not (isinstance(rule.get(key), str) and spec.has(rule[key])):
                problems.append(f"{where}.by_pixels.{key}: must name a parameter of {model}")
        _check_points(f"{where}.by_pixels.points", rule["points"], problems)
        _check_presets(f"{where}.by_pixels.presets", rule.get("presets", {}), problems)


def parse_table(data: Any, origin: str, base: PriceTable | None = None) -> PriceTable:
    """A checked :class:`PriceTable` from ``data`` (its models over ``base``'s, if given).

    Raises :class:`PriceFileError` naming ``origin`` and every bad entry.
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("models"), Mapping):
        raise PriceFileError(
            f'The price table {origin} is not usable: it must be a JSON object with "models" '
            "(model id → entry); the built-in prices stay in use."
        )
    models: dict[str, Any] = dict(base.models) if base is not None else {}
    models.update(data["models"])
    problems: list[str] = []
    for model, entry in data["models"].items():
        _check_entry(str(model), entry, models, problems)
    if problems:
        more = f"; and {len(problems) - 8} more" if len(problems) > 8 else ""
        shown = "; ".join(problems[:8]) + more
        raise PriceFileError(
            f"The price table {origin} is not usable ({shown}); the built-in prices stay in use."
        )
    unit = data.get("unit", base.unit if base else "USD")
    if base is not None and unit != base.unit:
        raise PriceFileError(
            f"The price table {origin} is not usable (unit: must be {base.unit!r}, as the "
            f"built-in table, got {unit!r}); the built-in prices stay in use."
        )
    sources = dict(base.sources) if base else {}
    if isinstance(data.get("sources"), Mapping):
        sources.update({str(k): str(v) for k, v in data["sources"].items()})
    return PriceTable(
        unit=str(unit),
        as_of=str(data.get("as_of", base.as_of if base else UNKNOWN)),
        kind=str(data.get("kind", "user prices" if base else "estimate")),
        sources=sources,
        models=models,
        origin=origin if base is None else f"{origin} over {base.origin}",
    )


def builtin_table() -> PriceTable:
    """The bundled table (``data/prices.json``)."""
    text = resources.files(__package__).joinpath("data/prices.json").read_text("utf-8")
    return parse_table(json.loads(text), "built-in prices (data/prices.json)")


def load_file(path: str | Path, base: PriceTable) -> PriceTable:
    """``path``'s table over ``base``; :class:`PriceFileError` when it cannot be used."""
    shown = str(path)
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        reason = exc.strerror or "it cannot be read"
        raise PriceFileError(
            f"The price file {shown} could not be read ({reason.lower()}); the built-in prices "
            "stay in use."
        ) from None
    except UnicodeDecodeError:
        raise PriceFileError(
            f"The price file {shown} is not UTF-8 text; the built-in prices stay in use."
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PriceFileError(
            f"The price file {shown} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg.lower()}); the built-in prices stay in use."
        ) from None
    return parse_table(data, f"file {shown}", base)


# --- the table in use -------------------------------------------------------------------------

#: Estimated dollars above which a grid needs confirming (``MOUNTSEA_CONFIRM_ABOVE`` changes it).
DEFAULT_CONFIRM_ABOVE = 1.0


def prices_path() -> str | None:
    """The user's price file: ``MOUNTSEA_PRICES``, or None.

    Read here rather than in ``_config`` so that pricing never imports the configuration
    (which starts the simulator, which prices its tasks).
    """
    return os.environ.get("MOUNTSEA_PRICES") or None


def confirm_above() -> float:
    """Estimated dollars above which a grid needs confirming: ``MOUNTSEA_CONFIRM_ABOVE`` when
    it is a number of 0 or more, else :data:`DEFAULT_CONFIRM_ABOVE`."""
    text = os.environ.get("MOUNTSEA_CONFIRM_ABOVE")
    try:
        value = float(text) if text else DEFAULT_CONFIRM_ABOVE
    except ValueError:
        return DEFAULT_CONFIRM_ABOVE
    return value if value >= 0 else DEFAULT_CONFIRM_ABOVE


_lock = threading.Lock()
_state: dict[str, PriceTable | None] = {"builtin": None, "chosen": None, "env": None}
_env_seen: dict[str, str | None] = {"path": None}


def _builtin() -> PriceTable:
    table = _state["builtin"]
    if table is None:
        table = _state["builtin"] = builtin_table()
    return table


def price_table() -> PriceTable:
    """The table in use: one set by :func:`use_prices`, else ``MOUNTSEA_PRICES``'s file over the
    built-in one, else the built-in one. A bad file is reported once (a warning) and skipped."""
    with _lock:
        chosen = _state["chosen"]
        if chosen is not None:
            return chosen
        path = prices_path()
        if path is None:
            return _builtin()
        if path != _env_seen["path"]:
            _env_seen["path"] = path
            try:
                _state["env"] = load_file(path, _builtin())
            except PriceFileError as exc:
                _state["env"] = None
                warnings.warn(str(exc), UserWarning, stacklevel=2)
                log.warning("%s", exc)
        return _state["env"] or _builtin()


def use_prices(prices: str | Path | Mapping[str, Any]) -> PriceTable:
    """Use ``prices`` (a JSON file's path, or a dict of the same shape) over the built-in table.

    Each model it names replaces that model's built-in entry. Raises :class:`PriceFileError`
    (naming the file and the entry) when the table cannot be used; the previous table then
    stays in use. Returns the table now in use.
    """
    base = _builtin()
    if isinstance(prices, Mapping):
        table = parse_table(prices, "given to use_prices()", base)
    else:
        table = load_file(prices, base)
    with _lock:
        _state["chosen"] = table
    return table


def reset_prices() -> None:
    """Go back to the built-in table (and ``MOUNTSEA_PRICES``, read again)."""
    with _lock:
        _state["chosen"] = None
        _state["env"] = None
        _env_seen["path"] = None
