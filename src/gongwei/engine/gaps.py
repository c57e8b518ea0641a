"""Drill-down: for an indicator × unit × period, the people in the denominator, the numerator and the gap,
each gap person with the reasons in plain Chinese (from the rulebook's GAP_REASONS).

Reads the materialised state table (engine.materialize), so a village's list is a filtered Parquet read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from gongwei.engine import registry
from gongwei.engine.backends import Engine
from gongwei.engine.catalogue import effective_period
from gongwei.engine.materialize import load_state
from gongwei.engine.orgs import OrgTree
from gongwei.spec import catalogue as spec_catalogue
from gongwei.spec.periods import Period

PARTS = ("gap", "numerator", "denominator")


@dataclass
class Person:
    resident_id: int | None
    record_no: str
    name: str
    unit_code: str
    unit_name: str
    reasons: list[tuple[str, str]] = field(default_factory=list)  # (code, Chinese message)


@dataclass
class Page:
    indicator: str
    unit_code: str
    period: str
    part: str
    total: int
    page: int
    size: int
    people: list[Person]
    note: str = ""


def people(eng: Engine, code: str, unit_code: str, period: Period, *, part: str = "gap", page: int = 1,
           size: int = 50, tree: OrgTree | None = None, reason: str | None = None) -> Page:
    """``reason``: a gap reason code (HTN-VISITS): only the gap people with that reason (the filter of a page)."""
    if part not in PARTS:
        raise ValueError(f"part 应为 {', '.join(PARTS)} 之一")
    ind = spec_catalogue.indicators().get(code)
    if ind is None:
        raise KeyError(f"指标代码 {code} 不存在")
    period = effective_period(ind, period, unit_code)  # the period this unit's figure is counted over
    tree = tree or OrgTree.load(eng.snapshot)
    unit = tree.by_code(unit_code)
    cohort_flag = ind.cohort_flag
    if cohort_flag is None:
        return Page(code, unit_code, period.code, part, 0, page, size, [],
                    note="该指标的分母为人口基数或任务数，缺口人员不在档案中，无法逐人列出")
    _, spec = registry.evaluators()[ind.program_code]
    state = load_state(eng, ind.program_code, period, tree.subtree(unit))
    num = pc.fill_null(state.column(ind.numerator_flag), False)
    den = pc.fill_null(state.column(cohort_flag), False)
    mask = {"gap": pc.and_(den, pc.invert(num)), "numerator": pc.and_(den, num), "denominator": den}[part]
    reason_keys = list(getattr(spec, "FLAG_REASONS", {}).get(ind.numerator_flag, ()))
    if reason is not None:
        keys = [k for k in reason_keys if spec.GAP_REASONS[k].code == reason]
        if part != "gap" or not keys:
            raise ValueError(f"原因代码 {reason} 不适用于指标 {code} 的{part}")
        mask = pc.and_(mask, pc.fill_null(state.column(f"gap_{keys[0]}"), False))
    chosen = state.filter(mask)
    total = chosen.num_rows
    rows = chosen.slice((page - 1) * size, size).to_pylist()  # already sorted by unit, record number
    out = []
    for r in rows:
        reasons = []
        if part == "gap":
            for key in reason_keys:
                if r.get(f"gap_{key}"):
                    reason = spec.GAP_REASONS[key]
                    reasons.append((reason.code, reason.render(r)))
        unit_id = r["managing_unit_id"]
        out.append(Person(r.get("resident_id"), r.get("record_no") or "", r.get("name") or "", tree.code[unit_id],
                          tree.name[unit_id], reasons))
    return Page(code, unit_code, period.code, part, total, page, size, out)


__all__ = ["people", "Page", "Person", "PARTS", "pa"]
