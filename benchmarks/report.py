"""Figures with their targets, and the final table."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One measured number and its target (``passed`` is None for a reference figure)."""

    section: str
    name: str
    value: float
    unit: str
    target: str = ""
    passed: bool | None = None
    note: str = ""

    @property
    def shown(self) -> str:
        """The value with its unit, rounded for reading."""
        if self.value != self.value:  # NaN: the figure could not be measured
            return f"n/a {self.unit}"
        if self.unit == "x":
            return f"{self.value:.2f}x"
        if abs(self.value) >= 100 or self.value == int(self.value):
            return f"{self.value:.0f} {self.unit}"
        return f"{self.value:.1f} {self.unit}"

    @property
    def verdict(self) -> str:
        """PASS, FAIL, or "info" for a reference figure."""
        if self.passed is None:
            return "info"
        return "PASS" if self.passed else "FAIL"


def at_most(
    section: str, name: str, value: float, unit: str, limit: float, note: str = ""
) -> Figure:
    """A figure whose target is ``value <= limit``."""
    shown_limit = f"{limit:.2f}x" if unit == "x" else f"{limit:g} {unit}"
    return Figure(section, name, value, unit, f"<= {shown_limit}", value <= limit, note)


def info(section: str, name: str, value: float, unit: str, note: str = "") -> Figure:
    """A reference figure printed for comparison, without a target."""
    return Figure(section, name, value, unit, "", None, note)


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` quantile (0..1) of ``values``, interpolated between neighbours."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    points = statistics.quantiles(ordered, n=1000, method="inclusive")
    index = min(max(round(share * 1000) - 1, 0), len(points) - 1)
    return points[index]


def table(figures: Sequence[Figure]) -> str:
    """The final table: one line per figure, PASS/FAIL beside each target."""
    header = ("section", "figure", "measured", "target", "")
    rows = [(f.section, f.name, f.shown, f.target, f.verdict) for f in figures]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def notes(figures: Sequence[Figure]) -> str:
    """The notes attached to figures, one per line."""
    return "\n".join(f"- {f.name}: {f.note}" for f in figures if f.note)


Printer = Callable[[str], None]
