"""Follow-up programs with a yearly visit requirement: hypertension, type-2 diabetes, COPD.

Semantics of :class:`gongwei.spec.followup.FollowUpRequirement`, evaluated per person:

* **managed** (已管理): enrolled at some time in the period, record not merged, not closed before it.
* **required visits**: ``min_visits × covered quarters ÷ 4`` (integer division), where a quarter is
  covered when the person was enrolled on its last day and that day is within the period. A full year
  needs 4; "至第二季度" needs 2; a patient enrolled in July needs 2 by December.
* **standardized** (规范管理): counted-mode visits ≥ required; with ``per_quarter``, one in every covered
  quarter; with ``annual_exam``, a health examination in the year — required only for full-year periods
  (a progress report cannot demand the year's exam yet).
* **controlled** (控制): the last follow-up in the period with a measurement meets the control target.
"""

from __future__ import annotations

import datetime as dt
from types import ModuleType

import ibis

from gongwei.engine.backends import Engine
from gongwei.spec.followup import BloodPressureTarget
from gongwei.spec.periods import Period
from gongwei.spec.programs import hypertension
from gongwei.spec.vocab import CLOSED_STATUSES, ResidentStatus

PROGRAMS = {"hypertension": hypertension}

QUARTER_ENDS = ((3, 31), (6, 30), (9, 30), (12, 31))
QUARTER_STARTS = ((1, 1), (4, 1), (7, 1), (10, 1))


def _cohort(eng: Engine, program: str, period: Period, units: list[int] | None) -> ibis.Table:
    start, end = ibis.date(period.start), ibis.date(period.end)
    enr = eng.table("enrollments")
    enr = enr.filter((enr.program == program) & (enr.start_date <= end)
                     & (enr.end_date.isnull() | (enr.end_date >= start)))
    open_ended = ibis.date(dt.date(9999, 12, 31))
    per_person = enr.group_by("resident_id").aggregate(
        enrolled_from=enr.start_date.min(),
        enrolled_to=enr.end_date.fill_null(end).max(),
        enrolled_to_open=enr.end_date.fill_null(open_ended).max(),
    )
    res = eng.table("residents")
    if units is not None:
        res = res.filter(res.managing_unit_id.isin(units))
    closed = res.status.isin([s.value for s in CLOSED_STATUSES])
    res = res.filter((res.status != ResidentStatus.MERGED.value) & res.merged_into_id.isnull()
                     & ~(closed & (res.status_date < start)))
    res = res.mutate(closed_on=ibis.cases((closed, res.status_date), else_=ibis.null("date")))
    cohort = per_person.join(res, per_person.resident_id == res.id)
    window_from = ibis.greatest(cohort.enrolled_from, start)
    window_to = ibis.least(cohort.enrolled_to, end, cohort.closed_on.fill_null(end))
    # for due dates beyond the period end: enrolment as far as it is known, within the year
    year_end = ibis.date(dt.date(period.end.year, 12, 31))
    enrolled_to_full = ibis.least(cohort.enrolled_to_open, year_end, cohort.closed_on.fill_null(year_end))
    return cohort.select(
        resident_id=cohort.resident_id,
        managing_unit_id=cohort.managing_unit_id,
        birth_date=cohort.birth_date,
        window_from=window_from,
        window_to=window_to,
        window_to_full=enrolled_to_full,
    )


def evaluate(eng: Engine, spec: ModuleType, period: Period, units: list[int] | None = None) -> ibis.Table:
    """The per-person state table of a chronic program for ``period`` (optionally for some units only)."""
    program = spec.PROGRAM.value
    req = spec.FOLLOW_UP.for_year(period.year)
    year = period.end.year
    cohort = _cohort(eng, program, period, units)
    start, end = ibis.date(period.start), ibis.date(period.end)

    # quarters covered: enrolled on the quarter's last day, which lies within the period
    covered = {}
    for q, (mm, dd) in enumerate(QUARTER_ENDS, start=1):
        qend = dt.date(year, mm, dd)
        if qend > period.end or qend < period.start:
            covered[q] = ibis.literal(False)
        else:
            covered[q] = (cohort.window_from <= ibis.date(qend)) & (cohort.window_to >= ibis.date(qend))
    cohort = cohort.mutate(**{f"covered_q{q}": c for q, c in covered.items()})
    n_covered = sum(cohort[f"covered_q{q}"].cast("int64") for q in covered)
    cohort = cohort.mutate(visits_required=(n_covered * req.min_visits) // 4)
    # the same quarter rule extended to the whole year gives the date each required visit falls due
    cumulative = ibis.literal(0)
    through = {}
    for q, (mm, dd) in enumerate(QUARTER_ENDS, start=1):
        qend = ibis.date(dt.date(year, mm, dd))
        in_window = (cohort.window_from <= qend) & (cohort.window_to_full >= qend) & (qend >= start)
        cumulative = cumulative + in_window.cast("int64")
        through[q] = (cumulative * req.min_visits) // 4
    cohort = cohort.mutate(**{f"required_through_q{q}": v for q, v in through.items()})

    fu = eng.table("chronic_follow_ups")
    fu = fu.filter((fu.program == program) & ~fu.is_void & (fu.service_date >= start) & (fu.service_date <= end))
    fu = fu.join(cohort.select("resident_id", "window_from", "window_to"), "resident_id")
    counted = fu.filter(fu.mode.isin(sorted(req.counted_modes)))
    agg = {"visits_done": counted.count()}
    for q, (mm, dd) in enumerate(QUARTER_STARTS, start=1):
        qs, qe = dt.date(year, mm, dd), dt.date(year, *QUARTER_ENDS[q - 1])
        agg[f"visits_q{q}"] = ((counted.service_date >= ibis.date(qs)) & (counted.service_date <= ibis.date(qe))).cast("int64").sum()
    visits = counted.group_by("resident_id").aggregate(**agg)

    # last follow-up with a measurement (any mode): the basis of the control rate
    measured = fu.filter(_measured(fu, spec))
    ranked = measured.mutate(rn=ibis.row_number().over(group_by=measured.resident_id,
                                                       order_by=[ibis.desc(measured.service_date), ibis.desc(measured.id)]))
    last = ranked.filter(ranked.rn == 0).select(
        resident_id="resident_id", last_date="service_date", last_sbp="sbp", last_dbp="dbp",
        last_glucose="fasting_glucose", last_class="classification", last_next_visit="next_visit_date")

    exams = eng.table("health_examinations")
    exams = exams.filter(~exams.is_void & (exams.service_date >= ibis.date(dt.date(year, 1, 1)))
                         & (exams.service_date <= end))
    exam_people = exams.group_by("resident_id").aggregate(exams_done=exams.count())

    s = cohort.left_join(visits, "resident_id").select(~ibis.selectors.endswith("_right"))
    s = s.left_join(last, "resident_id").select(~ibis.selectors.endswith("_right"))
    s = s.left_join(exam_people, "resident_id").select(~ibis.selectors.endswith("_right"))
    s = s.mutate(
        visits_done=s.visits_done.fill_null(0),
        exams_done=s.exams_done.fill_null(0),
        **{f"visits_q{q}": s[f"visits_q{q}"].fill_null(0) for q in covered},
    )
    # the year's exam can only be missed once the year is over
    exam_required = req.annual_exam and period.end == dt.date(year, 12, 31)
    gaps = {
        "gap_visits_below_required": s.visits_done < s.visits_required,
        "gap_no_annual_exam": (s.exams_done == 0) if exam_required else ibis.literal(False),
    }
    for q in covered:
        gaps[f"gap_no_visit_q{q}"] = (s[f"covered_q{q}"] & (s[f"visits_q{q}"] == 0)) if req.per_quarter \
            else ibis.literal(False)
    s = s.mutate(**gaps)
    standardized = ~(s.gap_visits_below_required | s.gap_no_annual_exam
                     | s.gap_no_visit_q1 | s.gap_no_visit_q2 | s.gap_no_visit_q3 | s.gap_no_visit_q4)
    controlled_now = _controlled(s, spec, period)
    s = s.mutate(
        managed=ibis.literal(True),
        standardized=standardized,
        gap_no_measurement=s.last_date.isnull(),
        gap_last_uncontrolled=s.last_date.notnull() & ~controlled_now.fill_null(False),
    )
    s = s.mutate(controlled=~(s.gap_no_measurement | s.gap_last_uncontrolled))
    next_due = ibis.cases(
        *[(s[f"required_through_q{q}"] > s.visits_done, ibis.date(dt.date(year, *QUARTER_ENDS[q - 1])))
          for q in range(1, 5)],
        else_=ibis.null("date"),
    )
    recheck_days = {str(k): d for k, d in spec.NEXT_VISIT_DAYS.items() if d < max(spec.NEXT_VISIT_DAYS.values())}
    recheck_due = ibis.cases(
        *[(s.last_class == code, s.last_date + ibis.interval(days=days)) for code, days in recheck_days.items()],
        else_=ibis.null("date"),
    )
    exam_due = ibis.cases(((s.exams_done == 0) & ibis.literal(req.annual_exam), ibis.date(dt.date(year, 12, 31))),
                          else_=ibis.null("date"))
    return s.mutate(next_visit_due=next_due, recheck_due=recheck_due, exam_due=exam_due)


def _measured(fu: ibis.Table, spec: ModuleType) -> ibis.ir.BooleanValue:
    control = spec.CONTROL.for_year(2100)
    if isinstance(control, BloodPressureTarget):
        return fu.sbp.notnull() & fu.dbp.notnull()
    return fu.fasting_glucose.notnull()


def _controlled(s: ibis.Table, spec: ModuleType, period: Period) -> ibis.ir.BooleanValue:
    control = spec.CONTROL.for_year(period.year)
    if isinstance(control, BloodPressureTarget):
        sbp_limit = ibis.literal(control.sbp)
        if control.elderly_age is not None and control.elderly_sbp is not None:
            cutoff = period.end.replace(year=period.end.year - control.elderly_age)
            sbp_limit = ibis.cases((s.birth_date <= ibis.date(cutoff), control.elderly_sbp), else_=control.sbp)
        return (s.last_sbp < sbp_limit) & (s.last_dbp < control.dbp)
    return s.last_glucose < control.fasting_glucose
