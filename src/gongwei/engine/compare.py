"""Comparison: against target, against the previous period (较上期), ranking of sibling units, lagging units,
and a year-end forecast at the current pace with the extra people per week a unit needs.

A unit is measured against the target of its own region for the year of the period evaluated
(:meth:`gongwei.spec.rules.TargetBook.resolve` with the unit's own code), never a target borrowed from another
province; where there is none, the figure has ``target = None`` and every output says 无目标 (:data:`NO_TARGET`).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import pyarrow as pa

from gongwei.engine.orgs import OrgTree
from gongwei.spec import catalogue as spec_catalogue
from gongwei.spec.periods import Period, PeriodKind
from gongwei.spec.rules import Comparator, Target


@dataclass
class Figure:
    indicator: str
    name: str
    unit_id: int
    unit_code: str
    unit_name: str
    numerator: int
    denominator: int | None
    rate: float | None
    target: Target | None = None
    met: bool | None = None
    shortfall: float | None = None  # target − rate, in rate units, when not met
    previous_rate: float | None = None
    change: float | None = None  # rate − previous rate (percentage points / 100)
    rank: int | None = None  # among siblings, 1 = best
    siblings: int | None = None
    forecast_rate: float | None = None
    extra_per_week: int | None = None  # people per week needed to reach the target by year end
    lagging_children: list[str] = field(default_factory=list)


NO_TARGET = "无目标"


def target_text(target: Target | None) -> str:
    """The target as bulletins print it: "≥90.00%", "≥1913人", or 无目标."""
    if target is None:
        return NO_TARGET
    if target.unit == "count":
        return f"{target.comparator.value}{target.value:g}人"
    return f"{target.comparator.value}{target.value * 100:.2f}%"


def _rate(num: int, den: int | None) -> float | None:
    return num / den if den else None


def _meets(value: float, target: Target) -> bool:
    return {
        Comparator.GE: value >= target.value, Comparator.GT: value > target.value,
        Comparator.LE: value <= target.value, Comparator.LT: value < target.value,
    }[target.comparator]


def figures(results: pa.Table, tree: OrgTree, period: Period, *, previous: pa.Table | None = None,
            units: list[int] | None = None) -> list[Figure]:
    """Turn engine results into bulletin figures for ``units`` (default: all)."""
    catalogue = spec_catalogue.indicators()
    book = spec_catalogue.targets()
    values = {(r["indicator"], r["org_unit_id"]): r for r in results.to_pylist()}
    prev = {(r["indicator"], r["org_unit_id"]): r for r in previous.to_pylist()} if previous is not None else {}
    out: list[Figure] = []
    wanted = set(units) if units is not None else set(tree.ids)
    for (code, unit), r in values.items():
        if unit not in wanted:
            continue
        ind = catalogue[code]
        rate = _rate(r["numerator"], r["denominator"])
        f = Figure(code, ind.name, unit, tree.code[unit], tree.name[unit], r["numerator"], r["denominator"], rate)
        # the unit's own code: a township under 包头市 gets Baotou's target, a unit elsewhere gets only its own
        # region's or a national one; the year is the evaluated period's (a 2025MCY period → 2025's target)
        f.target = book.resolve(code, period.year, tree.code[unit])
        if f.target is not None and rate is not None and f.target.unit == "rate":
            f.met = _meets(rate, f.target)
            if not f.met:
                f.shortfall = f.target.value - rate
        elif f.target is not None and f.target.unit == "count":
            f.met = _meets(r["numerator"], f.target)
        p = prev.get((code, unit))
        if p is not None:
            f.previous_rate = _rate(p["numerator"], p["denominator"])
            if rate is not None and f.previous_rate is not None:
                f.change = rate - f.previous_rate
        _forecast(f, period)
        out.append(f)
    _rank(out, tree)
    return out


def _forecast(f: Figure, period: Period) -> None:
    """Linear pace: the numerator grows at its average rate so far until 31 December."""
    if period.kind not in (PeriodKind.AS_OF, PeriodKind.QUARTER_TO_DATE) or not f.denominator:
        return
    elapsed = period.fraction_of_year
    if elapsed <= 0:
        return
    projected = f.numerator / elapsed
    f.forecast_rate = projected / f.denominator
    if f.target is not None and f.target.unit == "rate" and f.target.comparator in (Comparator.GE, Comparator.GT):
        needed = math.ceil(f.target.value * f.denominator) - f.numerator
        year_end = dt.date(period.end.year, 12, 31)
        weeks = max((year_end - period.end).days / 7, 1 / 7)
        f.extra_per_week = max(0, math.ceil(needed / weeks))


def _rank(figs: list[Figure], tree: OrgTree) -> None:
    by_parent: dict[tuple[str, int | None], list[Figure]] = {}
    for f in figs:
        by_parent.setdefault((f.indicator, tree.parent[f.unit_id]), []).append(f)
    for (_code, _parent), group in by_parent.items():
        # Standard competition ranking (1, 2, 2, 4): units with the same rate share a rank. Sorted by the float
        # rate (equal fractions divide to the same float), ties told by exact cross-multiplication of neighbours —
        # 1/3 and 2/6 tie; Fraction objects cost a third of a dashboard's time.
        ranked = sorted((f for f in group if f.rate is not None), key=lambda f: f.rate, reverse=True)
        previous, rank = None, 0
        for i, f in enumerate(ranked, start=1):
            if previous is None or f.numerator * previous.denominator != previous.numerator * f.denominator:
                rank = i
            previous = f
            f.rank, f.siblings = rank, len(ranked)
    index = {(f.indicator, f.unit_id): f for f in figs}
    for f in figs:
        kids = [index.get((f.indicator, k)) for k in tree.children(f.unit_id)]
        f.lagging_children = [k.unit_name for k in sorted((k for k in kids if k is not None and k.met is False),
                                                          key=lambda k: k.rate or 0)]
