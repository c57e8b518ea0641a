"""Follow-up programs with a yearly visit requirement: hypertension, type-2 diabetes, COPD.

Semantics of :class:`gongwei.spec.followup.FollowUpRequirement`, evaluated per person:

* **managed** (已管理): enrolled at some time in the period, record not merged, not closed before it (people
  closed during the period or later still count for the period they were served in), and — for a program with
  ``MIN_AGE`` — that age reached by the end of their management in the period (birth date unknown: kept).
* **required visits**: ``floor(min_visits × covered quarters ÷ 4)``, where a quarter is covered when the person
  was enrolled on its last day and that day is within the period. A full year needs 4; "至第二季度" needs 2;
  a patient enrolled in July needs 2 by December (the rule and its source: FollowUpRequirement).
* **counted visits** (``visits_done``, 有效随访): follow-ups in ``counted_modes`` (with ``needs_measurement``
  recorded), one per day, at most ``per_quarter_cap`` a calendar quarter with ``spread_by_quarter``, and only
  ``min_interval_days`` after the previous such visit when that is set. ``visits_recorded`` is the raw count.
* **standardized** (规范管理): counted visits ≥ required; with ``per_quarter``, one in every covered
  quarter; with ``annual_exam``, a health examination in the year — required only for full-year periods
  (a progress report cannot demand the year's exam yet).
* **controlled** (控制): the last follow-up in the period with a measurement meets the control target
  (:class:`~gongwei.spec.followup.BloodPressureTarget` for the year and the snapshot's region, the elderly SBP
  limit by age on the day of that visit; or :class:`~gongwei.spec.followup.GlucoseTarget`, compared in whole
  tenths of mmol/L), and the patient is not lost to follow-up (``LOST_TO_FOLLOW_UP``: no follow-up of any kind
  in the last N months of their management in the period). A program without ``CONTROL`` (COPD) has no
  controlled people.
* **followed_twice** (随访率（至少2次随访）, with ``FOLLOW_UP_RATE``): at least N follow-up days in the period.
* A program with ``START_YEAR`` (COPD, 2024) has nobody managed in earlier periods.

The cohort and quarter helpers are shared with the SMI evaluator (:mod:`gongwei.engine.programs.smi`).
"""

from __future__ import annotations

import datetime as dt
from types import ModuleType

import ibis

from gongwei.engine.backends import Engine
from gongwei.engine.programs.records import blank_in
from gongwei.spec.followup import BloodPressureTarget, FollowUpRequirement, GlucoseTarget, UncontrolledAnswer
from gongwei.spec.periods import Period
from gongwei.spec.programs import copd, diabetes, hypertension
from gongwei.spec.vocab import CLOSED_STATUSES, FollowUpClass, ResidentStatus

PROGRAMS = {"hypertension": hypertension, "diabetes": diabetes, "copd": copd}

QUARTER_ENDS = ((3, 31), (6, 30), (9, 30), (12, 31))
QUARTER_STARTS = ((1, 1), (4, 1), (7, 1), (10, 1))
QUARTERS = (1, 2, 3, 4)


def residents(eng: Engine, period: Period, units: list[int] | None) -> ibis.Table:
    """Residents who can be counted in ``period``: not merged, not closed before it (``closed_on`` = the closing
    date of a record closed later), managed by one of ``units`` when given."""
    res = eng.table("residents")
    if units is not None:
        res = res.filter(res.managing_unit_id.isin(units))
    closed = res.status.isin([s.value for s in CLOSED_STATUSES])
    res = res.filter((res.status != ResidentStatus.MERGED.value) & res.merged_into_id.isnull()
                     & ~(closed & (res.status_date < ibis.date(period.start))))
    return res.mutate(closed_on=ibis.cases((closed, res.status_date), else_=ibis.null("date")))


def cohort(eng: Engine, program: str, period: Period, units: list[int] | None,
           min_age: int | None = None) -> ibis.Table:
    """People enrolled in ``program`` at some time in ``period`` (record not merged, not closed before it),
    with their enrolment window clipped to the period (``window_from``/``window_to``) and to the year
    (``window_to_full``, for due dates beyond the period end); with ``min_age``, only those of that age on
    ``window_to`` (or of unknown birth date)."""
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
    res = residents(eng, period, units)
    joined = per_person.join(res, per_person.resident_id == res.id)
    window_from = ibis.greatest(joined.enrolled_from, start)
    window_to = ibis.least(joined.enrolled_to, end, joined.closed_on.fill_null(end))
    # for due dates beyond the period end: enrolment as far as it is known, within the year
    year_end = ibis.date(dt.date(period.end.year, 12, 31))
    enrolled_to_full = ibis.least(joined.enrolled_to_open, year_end, joined.closed_on.fill_null(year_end))
    out = joined.select(
        resident_id=joined.resident_id,
        managing_unit_id=joined.managing_unit_id,
        birth_date=joined.birth_date,
        window_from=window_from,
        window_to=window_to,
        window_to_full=enrolled_to_full,
    )
    if min_age is not None:
        out = out.filter((age_years(out.birth_date, out.window_to) >= min_age).fill_null(True))
    return out


def age_years(birth: ibis.ir.DateValue, on: ibis.ir.DateValue) -> ibis.ir.IntegerValue:
    """Completed years of age on ``on`` (date parts only: portable across backends)."""
    before_birthday = (on.month() * 100 + on.day()) < (birth.month() * 100 + birth.day())
    return (on.year() - birth.year()) - before_birthday.cast("int64")


def region_code(eng: Engine) -> str:
    """The code of the snapshot's root unit: the region whose rule overrides apply."""
    return eng.region_code()


def with_requirements(people: ibis.Table, req: FollowUpRequirement, period: Period) -> ibis.Table:
    """Add ``covered_q1..4``, ``visits_required`` and ``required_through_q1..4`` (visits due by each quarter end
    of the year, for due dates)."""
    year = period.end.year
    start = ibis.date(period.start)
    covered = {}
    for q, (mm, dd) in zip(QUARTERS, QUARTER_ENDS, strict=True):
        qend = dt.date(year, mm, dd)
        if qend > period.end or qend < period.start:
            covered[q] = ibis.literal(False)
        else:
            covered[q] = (people.window_from <= ibis.date(qend)) & (people.window_to >= ibis.date(qend))
    people = people.mutate(**{f"covered_q{q}": c for q, c in covered.items()})
    n_covered = sum(people[f"covered_q{q}"].cast("int64") for q in covered)
    people = people.mutate(visits_required=(n_covered * req.min_visits) // 4)
    # the same quarter rule extended to the whole year gives the date each required visit falls due
    cumulative = ibis.literal(0)
    through = {}
    for q, (mm, dd) in zip(QUARTERS, QUARTER_ENDS, strict=True):
        qend = ibis.date(dt.date(year, mm, dd))
        in_window = (people.window_from <= qend) & (people.window_to_full >= qend) & (qend >= start)
        cumulative = cumulative + in_window.cast("int64")
        through[q] = (cumulative * req.min_visits) // 4
    return people.mutate(**{f"required_through_q{q}": v for q, v in through.items()})


def visit_counts(counted: ibis.Table, period: Period) -> ibis.Table:
    """Per person: ``visits_done`` and ``visits_q1..4`` among the ``counted`` follow-ups."""
    year = period.end.year
    agg = {"visits_done": counted.count()}
    for q, (mm, dd) in zip(QUARTERS, QUARTER_STARTS, strict=True):
        qs, qe = dt.date(year, mm, dd), dt.date(year, *QUARTER_ENDS[q - 1])
        agg[f"visits_q{q}"] = ((counted.service_date >= ibis.date(qs)) & (counted.service_date <= ibis.date(qe))).cast("int64").sum()
    return counted.group_by("resident_id").aggregate(**agg)


def effective_visits(counted: ibis.Table, req: FollowUpRequirement, period: Period) -> ibis.Table:
    """Per person: ``visits_done`` (counted visits, see the module docstring), ``visits_recorded`` and
    ``visits_q1..4`` (visit days in each quarter of the period's year)."""
    days = counted.select("resident_id", "service_date").distinct()
    if req.min_interval_days:
        prev = days.service_date.lag().over(ibis.window(group_by=days.resident_id, order_by=days.service_date))
        days = days.mutate(prev_date=prev)
        days = days.filter(days.prev_date.isnull()
                           | (days.prev_date + ibis.interval(days=req.min_interval_days) <= days.service_date))
    year = period.end.year
    agg = {"visits_recorded": days.count()}
    for q, (mm, dd) in zip(QUARTERS, QUARTER_STARTS, strict=True):
        qs, qe = dt.date(year, mm, dd), dt.date(year, *QUARTER_ENDS[q - 1])
        in_q = (days.service_date >= ibis.date(qs)) & (days.service_date <= ibis.date(qe))
        agg[f"visits_q{q}"] = in_q.cast("int64").sum()
    per = days.group_by("resident_id").aggregate(**agg)
    if req.spread_by_quarter:
        done = sum(ibis.least(per[f"visits_q{q}"], req.per_quarter_cap) for q in QUARTERS)
    else:
        done = per.visits_recorded
    return per.mutate(visits_done=done)


def exam_counts(eng: Engine, period: Period) -> ibis.Table:
    """Per person: ``exams_done`` — health examinations (any kind) from 1 January of the period's year to its end."""
    year = period.end.year
    exams = eng.table("health_examinations")
    exams = exams.filter(~exams.is_void & (exams.service_date >= ibis.date(dt.date(year, 1, 1)))
                         & (exams.service_date <= ibis.date(period.end)))
    return exams.group_by("resident_id").aggregate(exams_done=exams.count())


def left(s: ibis.Table, other: ibis.Table) -> ibis.Table:
    return left_on(s, other, "resident_id")


def left_on(s: ibis.Table, other: ibis.Table, key: str) -> ibis.Table:
    """Left join on ``key``, keeping one copy of it."""
    return s.left_join(other, key).select(~ibis.selectors.endswith("_right"))


def visit_gaps(s: ibis.Table, req: FollowUpRequirement, period: Period) -> dict[str, ibis.ir.BooleanValue]:
    """``gap_visits_below_required``, ``gap_no_visit_q1..4`` and ``gap_no_annual_exam`` (the year's exam can only
    be missed once the year is over)."""
    exam_required = req.annual_exam and full_year(period)
    gaps = {
        "gap_visits_below_required": s.visits_done < s.visits_required,
        "gap_no_annual_exam": (s.exams_done == 0) if exam_required else ibis.literal(False),
    }
    for q in QUARTERS:
        gaps[f"gap_no_visit_q{q}"] = (s[f"covered_q{q}"] & (s[f"visits_q{q}"] == 0)) if req.per_quarter \
            else ibis.literal(False)
    return gaps


def full_year(period: Period) -> bool:
    return period.end == dt.date(period.end.year, 12, 31)


def next_visit_due(s: ibis.Table, period: Period) -> ibis.ir.DateValue:
    """The end of the first quarter by which more visits are required than were done (null: none missing)."""
    year = period.end.year
    return ibis.cases(
        *[(s[f"required_through_q{q}"] > s.visits_done, ibis.date(dt.date(year, *QUARTER_ENDS[q - 1])))
          for q in QUARTERS],
        else_=ibis.null("date"),
    )


def exam_due(s: ibis.Table, req: FollowUpRequirement, period: Period) -> ibis.ir.DateValue:
    return ibis.cases(((s.exams_done == 0) & ibis.literal(req.annual_exam), ibis.date(dt.date(period.end.year, 12, 31))),
                      else_=ibis.null("date"))


def evaluate(eng: Engine, spec: ModuleType, period: Period, units: list[int] | None = None) -> ibis.Table:
    """The per-person state table of a chronic program for ``period`` (optionally for some units only)."""
    program = spec.PROGRAM.value
    start_year = getattr(spec, "START_YEAR", None)
    in_force = start_year is None or period.year >= start_year
    req = spec.FOLLOW_UP.for_year(period.year if in_force else start_year)
    control = None
    if hasattr(spec, "control_for") and in_force:
        control = spec.control_for(period.year, region_code(eng))
    elif hasattr(spec, "CONTROL") and in_force:
        control = spec.CONTROL.for_year(period.year)
    lost = spec.LOST_TO_FOLLOW_UP.for_year(period.year) if hasattr(spec, "LOST_TO_FOLLOW_UP") else None
    rate = spec.FOLLOW_UP_RATE.for_year(period.year) if hasattr(spec, "FOLLOW_UP_RATE") else None
    answer = spec.UNCONTROLLED_ANSWER.for_year(period.year) if hasattr(spec, "UNCONTROLLED_ANSWER") else None
    people = cohort(eng, program, period, units, min_age=getattr(spec, "MIN_AGE", None))
    if not in_force:
        people = people.filter(ibis.literal(False))
    start, end = ibis.date(period.start), ibis.date(period.end)
    people = with_requirements(people, req, period)

    fu = eng.table("chronic_follow_ups")
    # not joined with the cohort here: every per-person aggregate below is left-joined onto it, and a joined table
    # that four aggregates read is materialised first (a fifth of the hypertension query at 2 M residents)
    fu = fu.filter((fu.program == program) & ~fu.is_void & (fu.service_date >= start) & (fu.service_date <= end))
    counted = fu.filter(fu.mode.isin(sorted(req.counted_modes)))
    if req.needs_measurement:
        counted = counted.filter(counted[req.needs_measurement].notnull())
    visits = effective_visits(counted, req, period)
    any_agg = {"last_follow_up": fu.service_date.max()}
    if rate is not None:
        rate_day = ibis.cases((fu.mode.isin(sorted(rate.counted_modes)), fu.service_date), else_=ibis.null("date"))
        any_agg["follow_up_days"] = rate_day.nunique()
    any_visit = fu.group_by("resident_id").aggregate(**any_agg)

    # last follow-up with a measurement (any mode): the basis of the control rate
    measured = fu.filter(_measured(fu, spec))
    ranked = measured.mutate(rn=ibis.row_number().over(group_by=measured.resident_id,
                                                       order_by=[ibis.desc(measured.service_date), ibis.desc(measured.id)]))
    last = ranked.filter(ranked.rn == 0).select(
        resident_id="resident_id", last_date="service_date", last_sbp="sbp", last_dbp="dbp",
        last_glucose="fasting_glucose", last_class="classification", last_next_visit="next_visit_date")

    s = left(left(left(left(people, visits), any_visit), last), exam_counts(eng, period))
    if answer is not None:
        s = left(s, _uncontrolled_answers(fu, answer))
    s = s.mutate(
        visits_done=s.visits_done.fill_null(0),
        visits_recorded=s.visits_recorded.fill_null(0),
        exams_done=s.exams_done.fill_null(0),
        **{f"visits_q{q}": s[f"visits_q{q}"].fill_null(0) for q in QUARTERS},
    )
    s = s.mutate(**visit_gaps(s, req, period))
    standardized = ~(s.gap_visits_below_required | s.gap_no_annual_exam
                     | s.gap_no_visit_q1 | s.gap_no_visit_q2 | s.gap_no_visit_q3 | s.gap_no_visit_q4)
    if control is not None:
        controlled_now = _controlled(s, control)
        no_measurement = s.last_date.isnull()
        uncontrolled = s.last_date.notnull() & ~controlled_now.fill_null(False)
    else:
        no_measurement = uncontrolled = ibis.literal(False)
    if control is not None and lost is not None:
        # months before the end of management in the period with no follow-up of any kind → 失访
        lost_now = s.last_follow_up.notnull() & (s.last_follow_up + ibis.interval(months=lost.months) < s.window_to)
    else:
        lost_now = ibis.literal(False)
    s = s.mutate(
        managed=ibis.literal(True),
        standardized=standardized,
        gap_no_measurement=no_measurement,
        gap_last_uncontrolled=uncontrolled,
        gap_lost_to_follow_up=lost_now,
        lost_months=ibis.literal(lost.months if lost is not None else 0),
    )
    s = s.mutate(controlled=~(s.gap_no_measurement | s.gap_last_uncontrolled | s.gap_lost_to_follow_up)
                 & ibis.literal(control is not None))
    if rate is not None:
        s = s.mutate(follow_up_days=s.follow_up_days.fill_null(0))
        s = s.mutate(follow_ups_needed=ibis.literal(rate.min_visits),
                     followed_twice=s.follow_up_days >= rate.min_visits,
                     gap_fewer_than_two_visits=s.follow_up_days < rate.min_visits)
    if answer is not None:
        s = s.mutate(unanswered_visits=s.unanswered_visits.fill_null(0),
                     uncontrolled_seen=s.uncontrolled_visits.fill_null(0) > 0)
        s = s.mutate(uncontrolled_guided=s.uncontrolled_seen & (s.unanswered_visits == 0),
                     gap_uncontrolled_unguided=s.uncontrolled_seen & (s.unanswered_visits > 0))
    days = spec.NEXT_VISIT_DAYS
    recheck_days = {str(k): d for k, d in days.items() if d < max(days.values())} if days else {}
    recheck_due = ibis.cases(
        *[(s.last_class == code, s.last_date + ibis.interval(days=d)) for code, d in recheck_days.items()],
        else_=ibis.null("date"),
    ) if recheck_days else ibis.null("date")
    return s.mutate(next_visit_due=next_visit_due(s, period), recheck_due=recheck_due,
                    exam_due=exam_due(s, req, period))


def _uncontrolled_answers(fu: ibis.Table, answer: UncontrolledAnswer) -> ibis.Table:
    """Per patient: follow-ups in the period classed 控制不满意, and how many of them show no answer on the form."""
    unc = fu.filter(fu.classification == FollowUpClass.UNCONTROLLED.value)
    recheck = unc.next_visit_date.notnull() & (
        unc.next_visit_date.delta(unc.service_date, unit="day") <= answer.max_next_days)
    # records.blank trims only a text that starts with whitespace (trimming every uncontrolled visit's guidance
    # was a sixth of the hypertension query), and the snapshot's DuckDB copy holds its answer per visit
    answered = (~blank_in(unc, "guidance") | unc.medication_adjusted.fill_null(False)
                | unc.referral.fill_null(False) | recheck.fill_null(False))
    return unc.group_by("resident_id").aggregate(uncontrolled_visits=unc.count(),
                                                 unanswered_visits=(~answered).cast("int64").sum())


def _measured(fu: ibis.Table, spec: ModuleType) -> ibis.ir.BooleanValue:
    if not hasattr(spec, "CONTROL"):
        return ibis.literal(True)
    control = spec.CONTROL.for_year(2100)
    if isinstance(control, BloodPressureTarget):
        return fu.sbp.notnull() & fu.dbp.notnull()
    return fu.fasting_glucose.notnull()


def _controlled(s: ibis.Table, control: BloodPressureTarget | GlucoseTarget) -> ibis.ir.BooleanValue:
    if isinstance(control, BloodPressureTarget):
        sbp_limit = ibis.literal(control.sbp)
        if control.elderly_age is not None and control.elderly_sbp is not None:
            # the age the village doctor saw: completed years on the day of the measured visit (as QC rule L-06)
            elderly = (age_years(s.birth_date, s.last_date) >= control.elderly_age).fill_null(False)
            sbp_limit = ibis.cases((elderly, control.elderly_sbp), else_=control.sbp)
        return (s.last_sbp < sbp_limit) & (s.last_dbp < control.dbp)
    if isinstance(control, GlucoseTarget):
        # glucose is recorded with one decimal: compare whole tenths of mmol/L, never floats (ADR 007)
        return (s.last_glucose * 10).round().cast("int64") < control.fasting_glucose_tenths
    raise TypeError(f"unknown control target {control!r}")
