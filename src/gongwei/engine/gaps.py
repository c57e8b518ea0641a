"""Drill-down: for an indicator × unit × period, the people in the denominator, the numerator and the gap,
each gap person with the reasons in plain Chinese (from the rulebook's GAP_REASONS)."""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis

from gongwei.engine import registry
from gongwei.engine.backends import Engine
from gongwei.engine.orgs import OrgTree
from gongwei.spec import catalogue as spec_catalogue
from gongwei.spec.periods import Period

PARTS = ("gap", "numerator", "denominator")


@dataclass
class Person:
    resident_id: int
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
           size: int = 50, tree: OrgTree | None = None) -> Page:
    if part not in PARTS:
        raise ValueError(f"part 应为 {', '.join(PARTS)} 之一")
    ind = spec_catalogue.indicators().get(code)
    if ind is None:
        raise KeyError(f"指标代码 {code} 不存在")
    tree = tree or OrgTree.load(eng.snapshot)
    unit = tree.by_code(unit_code)
    cohort_flag = ind.cohort_flag
    if cohort_flag is None:
        return Page(code, unit_code, period.code, part, 0, page, size, [],
                    note="该指标的分母为人口基数或任务数，缺口人员不在档案中，无法逐人列出")
    _, spec = registry.evaluators()[ind.program_code]
    state = registry.state(eng, ind.program_code, period, units=tree.subtree(unit))
    num, den = state[ind.numerator_flag], state[cohort_flag]
    selected = {"gap": den & ~num, "numerator": den & num, "denominator": den}[part]
    chosen = state.filter(selected)
    total = int(eng.to_arrow(chosen.count().as_table()).column(0)[0].as_py())
    reason_keys = [k for k in getattr(spec, "FLAG_REASONS", {}).get(ind.numerator_flag, ())]
    residents = eng.table("residents").select(rid="id", record_no="record_no", name="name")
    rows = chosen.join(residents, chosen.resident_id == residents.rid)
    rows = rows.order_by([rows.managing_unit_id, rows.record_no]).limit(size, offset=(page - 1) * size)
    data = eng.to_arrow(rows).to_pylist()
    out = []
    for r in data:
        reasons = []
        if part == "gap":
            for key in reason_keys:
                if r.get(f"gap_{key}"):
                    reason = spec.GAP_REASONS[key]
                    reasons.append((reason.code, reason.render(r)))
        unit_id = r["managing_unit_id"]
        out.append(Person(r["resident_id"], r["record_no"], r["name"], tree.code[unit_id], tree.name[unit_id], reasons))
    return Page(code, unit_code, period.code, part, total, page, size, out)


__all__ = ["people", "Page", "Person", "PARTS", "ibis"]
