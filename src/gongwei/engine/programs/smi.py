"""Severe mental disorders (严重精神障碍): per-person state for P1–P4.

Per person registered in the period (the chronic cohort rule: enrolled at some time in the period, record not
merged, not closed before it):

* **managed** (P2): at least one follow-up in the period, any mode.
* **standardized** (P1): follow-ups in the counted modes *with a risk grade* ≥ the pro-rated requirement
  (quarters covered, as for the chronic programs), and no **missed class-based follow-up**: after a follow-up
  whose class is in ``INTERVAL_CHECKED_CLASSES`` the next follow-up (any) comes within ``NEXT_VISIT_DAYS`` of it,
  whenever that deadline falls within the period and the enrolment. A follow-up's class is the recorded one,
  else the class of its risk grade (``CLASS_BY_RISK_GRADE``).
* **examined** (P3): a health examination (any kind) from 1 January to the period end.
* **at_home** (在册居家, P2/P3 denominators): registered, and the last follow-up of the period does not record
  the patient as living elsewhere (no follow-up → at home); **managed_at_home** / **examined_at_home**: managed /
  examined and at home.
* **on_medication** / **regular_medication** / **stable** (P4): at the last follow-up of the period (latest date,
  then latest id): on medication; on medication with adherence ``REGULAR_ADHERENCE``; class stable.
"""

from __future__ import annotations

import datetime as dt
from types import ModuleType

import ibis

from gongwei.engine.backends import Engine
from gongwei.engine.programs import chronic
from gongwei.spec.periods import Period
from gongwei.spec.programs import smi as smi_spec
from gongwei.spec.vocab import SmiClass

PROGRAMS = {"smi": smi_spec}


def _class(fu: ibis.Table, spec: ModuleType) -> ibis.ir.StringValue:
    recorded = fu.classification.fill_null("")
    return ibis.cases(
        (recorded != "", recorded),
        *[(fu.risk_grade == grade, str(cls)) for grade, cls in sorted(spec.CLASS_BY_RISK_GRADE.items())],
        else_=ibis.null("string"),
    )


def _days_after(cls: ibis.ir.StringValue, date: ibis.ir.DateValue, days: dict) -> ibis.ir.DateValue:
    return ibis.cases(*[(cls == str(c), date + ibis.interval(days=d)) for c, d in days.items()],
                      else_=ibis.null("date"))


def evaluate(eng: Engine, spec: ModuleType, period: Period, units: list[int] | None = None) -> ibis.Table:
    program = spec.PROGRAM.value
    req = spec.FOLLOW_UP.for_year(period.year)
    start, end = ibis.date(period.start), ibis.date(period.end)
    people = chronic.with_requirements(chronic.cohort(eng, program, period, units), req, period)

    fu = eng.table("smi_follow_ups")
    fu = fu.filter(~fu.is_void & (fu.service_date >= start) & (fu.service_date <= end))
    fu = fu.join(people.select("resident_id", "window_to"), "resident_id")
    fu = fu.mutate(cls=_class(fu, spec))

    counted = fu.filter(fu.mode.isin(sorted(req.counted_modes)))
    if spec.REQUIRE_RISK_GRADE:
        counted = counted.filter(counted.risk_grade.notnull())
    visits = chronic.visit_counts(counted, period)
    any_visits = fu.group_by("resident_id").aggregate(follow_ups=fu.count())

    # class-based intervals: a checked follow-up whose deadline (within the period and the enrolment) passed
    # without a later follow-up
    checked_days = {c: spec.NEXT_VISIT_DAYS[c] for c in spec.INTERVAL_CHECKED_CLASSES}
    checked = fu.mutate(deadline=_days_after(fu.cls, fu.service_date, checked_days))
    checked = checked.filter(checked.deadline.notnull() & (checked.deadline <= checked.window_to))
    checked = checked.select(cid="id", c_resident="resident_id", c_date="service_date", deadline="deadline")
    later = fu.select(l_id="id", l_resident="resident_id", l_date="service_date")
    pairs = checked.left_join(later, [checked.c_resident == later.l_resident, later.l_date > checked.c_date,
                                      later.l_date <= checked.deadline])
    per_visit = pairs.group_by(["cid", "c_resident"]).aggregate(followed=pairs.l_id.count())
    missed = per_visit.group_by(resident_id=per_visit.c_resident).aggregate(
        rechecks_missed=(per_visit.followed == 0).cast("int64").sum())

    ranked = fu.mutate(rn=ibis.row_number().over(group_by=fu.resident_id,
                                                 order_by=[ibis.desc(fu.service_date), ibis.desc(fu.id)]))
    last = ranked.filter(ranked.rn == 0).select(
        resident_id="resident_id", last_date="service_date", last_class="cls", last_risk_grade="risk_grade",
        last_on_medication="on_medication", last_adherence="adherence", last_at_home="living_at_home")

    s = chronic.left(people, visits)
    s = chronic.left(s, any_visits)
    s = chronic.left(s, missed)
    s = chronic.left(s, last)
    s = chronic.left(s, chronic.exam_counts(eng, period))
    s = s.mutate(
        visits_done=s.visits_done.fill_null(0),
        follow_ups=s.follow_ups.fill_null(0),
        rechecks_missed=s.rechecks_missed.fill_null(0),
        exams_done=s.exams_done.fill_null(0),
        **{f"visits_q{q}": s[f"visits_q{q}"].fill_null(0) for q in chronic.QUARTERS},
    )
    gaps = chronic.visit_gaps(s, req, period)
    gaps.pop("gap_no_annual_exam")  # the exam is P3, not part of P1
    s = s.mutate(**gaps, gap_recheck_missed=s.rechecks_missed > 0)
    managed = s.follow_ups > 0
    on_med = managed & s.last_on_medication.fill_null(False)
    regular = on_med & (s.last_adherence.fill_null("") == str(spec.REGULAR_ADHERENCE))
    examined = s.exams_done > 0
    year_over = chronic.full_year(period)
    at_home = s.last_at_home.fill_null(True)
    s = s.mutate(
        registered=ibis.literal(True),
        at_home=at_home,
        managed_at_home=managed & at_home,
        examined_at_home=examined & at_home,
        managed=managed,
        standardized=~(s.gap_visits_below_required | s.gap_recheck_missed | s.gap_no_visit_q1 | s.gap_no_visit_q2
                       | s.gap_no_visit_q3 | s.gap_no_visit_q4),
        examined=examined,
        on_medication=on_med,
        regular_medication=regular,
        stable=managed & (s.last_class.fill_null("") == str(SmiClass.STABLE)),
        gap_no_follow_up=~managed,
        gap_no_annual_exam=~examined & ibis.literal(year_over),
        gap_no_exam_yet=~examined & ibis.literal(not year_over),
        gap_not_on_medication=managed & ~on_med,
        gap_not_regular=on_med & ~regular,
        gap_last_unstable=managed & (s.last_class.fill_null("") == str(SmiClass.UNSTABLE)),
        gap_last_basically_stable=managed & (s.last_class.fill_null("") == str(SmiClass.BASICALLY_STABLE)),
        gap_last_unclassified=managed & s.last_class.isnull(),
    )
    year_end = ibis.date(dt.date(period.end.year, 12, 31))
    return s.mutate(
        next_visit_due=chronic.next_visit_due(s, period),
        class_visit_due=_days_after(s.last_class, s.last_date, spec.NEXT_VISIT_DAYS),
        exam_due=ibis.cases((s.exams_done == 0, year_end), else_=ibis.null("date")),
    )
