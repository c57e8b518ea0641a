"""Elderly health management (E1–E3) and elderly TCM health management (TCM1).

One state row per resident aged 65+ found in the records (:func:`cohort`), at the resident's managing unit, and
one per resident closed during the period who was served before closing (:func:`people_served_by`).
Semantics are in :mod:`gongwei.spec.programs.elderly` and :mod:`gongwei.spec.programs.tcm`.
"""

from __future__ import annotations

from types import ModuleType

import ibis

from gongwei.engine.backends import Engine
from gongwei.engine.programs.records import (
    blank,
    closed_expr,
    merged_expr,
    missing_list,
    residents_in_records,
)
from gongwei.spec.periods import Period
from gongwei.spec.programs import elderly, tcm
from gongwei.spec.programs import records as records_spec

PROGRAMS = {"elderly": elderly, "elderly_tcm": tcm}


def cohort(eng: Engine, period: Period, units: list[int] | None = None) -> ibis.Table:
    """Residents found in the records who are 65+ by the elderly program's age rule."""
    res = residents_in_records(eng, period, units)
    res = res.filter(res.birth_date <= ibis.date(elderly.born_by(period, elderly.MIN_AGE)))
    return res.select(resident_id="id", managing_unit_id="managing_unit_id", aged_65_plus=ibis.literal(True))


def people_served_by(eng: Engine, period: Period, units: list[int] | None, closed_count: bool) -> ibis.Table:
    """The cohort with ``served_until`` = the period end, and (with ``closed_count``) the residents aged 65+ closed
    during the period (not merged, usual residents when the rulebook counts only those), with ``served_until`` =
    their closing date and ``aged_65_plus`` false: a service in the period up to that date still counts."""
    people = cohort(eng, period, units).mutate(served_until=ibis.date(period.end))
    if not closed_count:
        return people
    res = eng.table("residents")
    if units is not None:
        res = res.filter(res.managing_unit_id.isin(units))
    keep = (~merged_expr(res) & closed_expr(res) & (res.status_date >= ibis.date(period.start))
            & (res.status_date <= ibis.date(period.end))
            & (res.birth_date <= ibis.date(elderly.born_by(period, elderly.MIN_AGE))))
    if records_spec.USUAL_RESIDENTS_ONLY:
        keep = keep & res.usual_resident
    closed = res.filter(keep).select(resident_id="id", managing_unit_id="managing_unit_id",
                                     aged_65_plus=ibis.literal(False), served_until="status_date")
    return people.union(closed)


def _served(t: ibis.Table, people: ibis.Table, period: Period) -> ibis.Table:
    """Non-void rows of a service table dated in the period, on or before the person's ``served_until``."""
    t = t.filter(~t.is_void & (t.service_date >= ibis.date(period.start)) & (t.service_date <= ibis.date(period.end)))
    p = people.select("resident_id", until="served_until")
    t = t.join(p, "resident_id")
    return t.filter(t.service_date <= t.until).drop("until")


def _year_over(period: Period) -> bool:
    """The year's service can be missed only once it is due."""
    return period.end >= elderly.due_date(period.year)


def evaluate(eng: Engine, spec: ModuleType, period: Period, units: list[int] | None = None) -> ibis.Table:
    if spec is tcm:
        return _tcm(eng, period, units)
    return _elderly(eng, period, units)


def item_missing(x: ibis.Table, item: elderly.ExamItem) -> ibis.ir.BooleanValue:
    """An item of the package is missing on an exam row (blank, or a "not done" value); shared with QC rule C-03
    so that the two read one definition. Only for recordable items."""

    def missing(name: str) -> ibis.ir.BooleanValue:
        col = x[name]
        out = blank(col)
        if item.not_done:
            out = out | col.isin(list(item.not_done)).fill_null(False)
        return out

    parts = [missing(f) for f in item.fields]
    combined = parts[0]
    for p in parts[1:]:
        combined = (combined & p) if item.any_field else (combined | p)
    return combined


def _elderly(eng: Engine, period: Period, units: list[int] | None) -> ibis.Table:
    package = {section.key: section for section in elderly.PACKAGE.for_year(period.year)}
    people = people_served_by(eng, period, units, elderly.SERVED_THEN_CLOSED_COUNT)
    x = _served(eng.table("health_examinations"), people, period)
    per_exam = {}
    total = ibis.literal(0)
    for key in elderly.SECTION_KEYS:
        section = package.get(key)
        checks = [(item.label, item_missing(x, item)) for item in section.items if item.recordable] if section else []
        text, count = missing_list(checks)
        per_exam[f"missing_{key}"] = text
        per_exam[f"missing_{key}_n"] = count
        total = total + count
    x = x.select("resident_id", "service_date", "id", missing_total=total, **per_exam)
    ranked = x.mutate(rn=ibis.row_number().over(group_by=x.resident_id,
                                                order_by=[x.missing_total, ibis.desc(x.service_date), ibis.desc(x.id)]))
    counts = x.group_by("resident_id").aggregate(exams_done=x.count())
    best = ranked.filter(ranked.rn == 0).drop("rn", "service_date", "id")
    s = people.left_join(counts, "resident_id").select(~ibis.selectors.endswith("_right"))
    s = s.left_join(best, "resident_id").select(~ibis.selectors.endswith("_right"))
    s = s.mutate(exams_done=s.exams_done.fill_null(0))
    # a closed resident stays only when served in the period before closing
    s = s.filter(s.aged_65_plus | (s.exams_done > 0)).drop("served_until")
    examined = s.exams_done > 0
    over = _year_over(period)
    due_date = ibis.date(elderly.due_date(period.year))
    gaps = {
        "gap_no_exam": ~examined & ibis.literal(over),
        "gap_exam_pending": ~examined & ibis.literal(not over),
    }
    for key in elderly.SECTION_KEYS:
        gaps[f"gap_missing_{key}"] = examined & (s[f"missing_{key}_n"].fill_null(0) > 0)
    s = s.mutate(**gaps)
    standardized = examined & (s.missing_total.fill_null(0) == 0)
    return s.mutate(
        examined=examined,
        examined_in_records=examined & s.aged_65_plus,
        standardized=standardized,
        counted=s.aged_65_plus | standardized,
        exam_due=ibis.cases((~examined, due_date), else_=ibis.null("date")),
    )


def _tcm(eng: Engine, period: Period, units: list[int] | None) -> ibis.Table:
    people = people_served_by(eng, period, units, tcm.SERVED_THEN_CLOSED_COUNT)
    f = _served(eng.table("tcm_constitutions"), people, period)
    lo, hi = tcm.ANSWER_RANGE
    valid = f.answers.fill_null("").re_search(f"^[{lo}-{hi}]{{{tcm.QUESTION_COUNT}}}$")
    done = valid & f.guidance_given if tcm.GUIDANCE_REQUIRED else valid
    agg = f.group_by("resident_id").aggregate(
        forms=f.count(), valid_forms=valid.cast("int64").sum(), done_forms=done.cast("int64").sum())
    s = people.left_join(agg, "resident_id").select(~ibis.selectors.endswith("_right"))
    s = s.mutate(forms=s.forms.fill_null(0), valid_forms=s.valid_forms.fill_null(0),
                 done_forms=s.done_forms.fill_null(0))
    # a closed resident stays only when served in the period before closing
    s = s.filter(s.aged_65_plus | (s.forms > 0)).drop("served_until")
    over = _year_over(period)
    none = s.forms == 0
    managed = s.done_forms > 0
    return s.mutate(
        managed=managed,
        counted=s.aged_65_plus | managed,
        gap_no_tcm=none & ibis.literal(over),
        gap_tcm_pending=none & ibis.literal(not over),
        gap_incomplete=(s.forms > 0) & (s.valid_forms == 0),
        gap_no_guidance=(s.valid_forms > 0) & (s.done_forms == 0),
        tcm_due=ibis.cases((none, ibis.date(elderly.due_date(period.year))), else_=ibis.null("date")),
    )
