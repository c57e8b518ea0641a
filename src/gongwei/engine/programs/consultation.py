"""First outpatient visits of residents 35+ (H5, D5); rules in :mod:`gongwei.spec.programs.consultation`.

One row per resident whose first consultation of the calendar year (earliest date, then lowest record number;
void records ignored) falls in the period, aged ``MIN_AGE`` or more that day, record not merged. The row counts
at the unit of the visit (``managing_unit_id`` = the consultation's unit):

* ``first_visit``: always true (the cohort); ``bp_measured`` / ``glucose_measured``: measured at that visit;
* ``gap_no_bp`` / ``gap_no_glucose``: not measured.

The first visit is found over every unit's consultations before ``units`` is applied, so a resident first seen
elsewhere in the year has no first visit here.
"""

from __future__ import annotations

import datetime as dt
from types import ModuleType

import ibis

from gongwei.engine.backends import Engine
from gongwei.spec.periods import Period
from gongwei.spec.programs import consultation
from gongwei.spec.vocab import ResidentStatus

PROGRAMS = {consultation.CODE: consultation}


# the first visit of each resident and calendar year, derived once with the snapshot's DuckDB copy (engine.native)
DERIVED = "consultation_first_visits"


def _first_visits(c: ibis.Table, *by: str) -> ibis.Table:
    """The first of ``c``'s visits per resident (and ``by``): the earliest day, then the lowest record number on
    that day — by two aggregations rather than a window sorting a year's visits by person (a third of the query
    at 2 M residents)."""
    day = c.group_by(d_resident=c.resident_id, **{f"d_{k}": c[k] for k in by}).aggregate(d_date=c.service_date.min())
    on = (c.resident_id == day.d_resident) & (c.service_date == day.d_date)
    for k in by:
        on = on & (c[k] == day[f"d_{k}"])
    # the visits' own columns selected by name: a drop of several would compile in an order that varies between
    # processes, and the copy's format digests this SQL
    on_day = c.join(day, on).select(*c.columns)
    lowest = on_day.group_by(l_resident=on_day.resident_id, **{f"l_{k}": on_day[k] for k in by}).aggregate(
        l_no=on_day.encounter_no.min())
    on = (on_day.resident_id == lowest.l_resident) & (on_day.encounter_no == lowest.l_no)
    for k in by:
        on = on & (on_day[k] == lowest[f"l_{k}"])
    return on_day.join(lowest, on).select(*c.columns)


def _of_people(first: ibis.Table, residents: ibis.Table) -> ibis.Table:
    """The first visits of residents whose record is not merged, with their birth date."""
    res = residents.filter((residents.status != ResidentStatus.MERGED.value) & residents.merged_into_id.isnull())
    people = res.select(rid="id", birth_date="birth_date")
    j = first.join(people, first.resident_id == people.rid)
    return j.select("resident_id", "service_date", "org_unit_id", "bp_measured", "glucose_measured", "sbp",
                    "blood_glucose", "birth_date", *(["visit_year"] if "visit_year" in j.columns else []))


def first_visits(residents: ibis.Table, consultations: ibis.Table) -> ibis.Table:
    """Per resident (record not merged) and calendar year (``visit_year``), the year's first visit with the
    resident's birth date. It depends on the snapshot's rows alone, never on the period: the year's first visit
    by a period's end is this row when its date is on or before the end, and there is none otherwise. The
    snapshot's DuckDB copy stores it as :data:`DERIVED`."""
    c = consultations.filter(~consultations.is_void)
    c = c.mutate(visit_year=c.service_date.year())
    return _of_people(_first_visits(c, "visit_year"), residents)


def evaluate(eng: Engine, spec: ModuleType, period: Period, units: list[int] | None = None) -> ibis.Table:
    derived = eng.derived(DERIVED) if spec is consultation and period.start.year == period.end.year else None
    if derived is not None:  # the same first visits, found when the snapshot's copy was written
        j = derived.filter(derived.visit_year == period.start.year).drop("visit_year")
    else:
        year_start = ibis.date(dt.date(period.start.year, 1, 1))
        c = eng.table("consultations")
        c = c.filter(~c.is_void & (c.service_date >= year_start) & (c.service_date <= ibis.date(period.end)))
        j = _of_people(_first_visits(c), eng.table("residents"))
    j = j.filter((j.service_date >= ibis.date(period.start)) & (j.service_date <= ibis.date(period.end)))
    if units is not None:
        j = j.filter(j.org_unit_id.isin(units))
    # age in whole years on the visit day: birthday reached when (month, day) ≥ the birth (month, day)
    had_birthday = (j.service_date.month() * 100 + j.service_date.day()) >= (j.birth_date.month() * 100
                                                                              + j.birth_date.day())
    age = j.service_date.year() - j.birth_date.year() - ibis.cases((had_birthday, 0), else_=1)
    j = j.filter(age >= spec.MIN_AGE)
    bp = j.bp_measured.fill_null(False)
    glucose = j.glucose_measured.fill_null(False)
    if spec.RECORDED_VALUE_COUNTS:
        bp = bp | j.sbp.notnull()
        glucose = glucose | j.blood_glucose.notnull()
    return j.select(
        resident_id=j.resident_id,
        managing_unit_id=j.org_unit_id,
        first_visit_date=j.service_date,
        first_visit=ibis.literal(True),
        bp_measured=bp,
        glucose_measured=glucose,
        gap_no_bp=~bp,
        gap_no_glucose=~glucose,
    )
