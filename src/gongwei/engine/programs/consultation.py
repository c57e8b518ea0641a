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


def evaluate(eng: Engine, spec: ModuleType, period: Period, units: list[int] | None = None) -> ibis.Table:
    year_start = ibis.date(dt.date(period.start.year, 1, 1))
    c = eng.table("consultations")
    c = c.filter(~c.is_void & (c.service_date >= year_start) & (c.service_date <= ibis.date(period.end)))
    # the first visit by two aggregations rather than a window sorting a year's visits by person (a third of
    # the query at 2 M residents): the earliest day, then the lowest record number on that day
    day = c.group_by(d_resident=c.resident_id).aggregate(d_date=c.service_date.min())
    on_day = c.join(day, (c.resident_id == day.d_resident) & (c.service_date == day.d_date)).drop("d_resident", "d_date")
    lowest = on_day.group_by(l_resident=on_day.resident_id).aggregate(l_no=on_day.encounter_no.min())
    first = on_day.join(lowest, (on_day.resident_id == lowest.l_resident) & (on_day.encounter_no == lowest.l_no))
    first = first.drop("l_resident", "l_no")
    first = first.filter(first.service_date >= ibis.date(period.start))
    if units is not None:
        first = first.filter(first.org_unit_id.isin(units))
    res = eng.table("residents")
    res = res.filter((res.status != ResidentStatus.MERGED.value) & res.merged_into_id.isnull())
    people = res.select(rid="id", birth_date="birth_date")
    j = first.join(people, first.resident_id == people.rid)
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
