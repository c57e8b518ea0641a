"""Maternal health management: one row per pregnancy episode (rules in :mod:`gongwei.spec.programs.maternal`).

Rows: episodes (enrollments of the pregnancy program) delivered in the period or enrolled at some time in it,
of women whose record is not merged and was not closed before the period. A visit belongs to an episode when it
is linked to the enrollment, or unlinked and dated within the enrollment (start to end).

Due dates for the worklist (``*_due``) are deadlines: the last day of a gestational-week range (from the last
menstrual period), the end of the postpartum-visit window (from discharge) and of the 42-day-check window;
like the child program, only deadlines from the period start to the end of its calendar year are shown.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from types import ModuleType

import ibis

from gongwei.engine.backends import Engine
from gongwei.engine.programs.child import horizon
from gongwei.engine.programs.records import missing_list
from gongwei.spec.periods import Period
from gongwei.spec.programs import maternal
from gongwei.spec.vocab import CLOSED_STATUSES, PostpartumVisitType, ResidentStatus

PROGRAMS = {maternal.CODE: maternal}

OPEN_END = dt.date(9999, 12, 31)


def _episodes(eng: Engine, spec: ModuleType, period: Period, units: list[int] | None) -> ibis.Table:
    start, end = ibis.date(period.start), ibis.date(period.end)
    enr = eng.table("enrollments")
    enr = enr.filter(enr.program == spec.PROGRAM.value)
    delivered = enr.delivery_date.notnull() & (enr.delivery_date >= start) & (enr.delivery_date <= end)
    enrolled = (enr.start_date <= end) & (enr.end_date.isnull() | (enr.end_date >= start))
    enr = enr.filter(delivered | enrolled).mutate(enrolled=enrolled)
    res = eng.table("residents")
    if units is not None:
        res = res.filter(res.managing_unit_id.isin(units))
    closed = res.status.isin([s.value for s in CLOSED_STATUSES])
    res = res.filter((res.status != ResidentStatus.MERGED.value) & res.merged_into_id.isnull()
                     & ~(closed & (res.status_date < start)))
    res = res.select(rid=res.id, managing_unit_id=res.managing_unit_id,
                     closed_on=ibis.cases((closed, res.status_date), else_=ibis.null("date")))
    ep = enr.join(res, enr.resident_id == res.rid)
    return ep.select(
        episode_id=ep.id, resident_id=ep.resident_id, managing_unit_id=ep.managing_unit_id, closed_on=ep.closed_on,
        enrolled=ep.enrolled, start_date=ep.start_date, end_date=ep.end_date, lmp_date=ep.lmp_date,
        delivery_date=ep.delivery_date, discharge_date=ep.discharge_date,
    )


def _of_episode(visits: ibis.Table, ep: ibis.Table) -> ibis.Table:
    """Visits (with ``enrollment_id``, ``service_date``) joined to the episode they belong to."""
    spans = ep.select("episode_id", er="resident_id", span_from="start_date", span_to="end_date",
                      delivery_date="delivery_date", discharge_date="discharge_date")
    j = visits.join(spans, visits.resident_id == spans.er)
    linked = j.enrollment_id == j.episode_id
    unlinked = j.enrollment_id.isnull() & (j.service_date >= j.span_from) \
        & (j.service_date <= j.span_to.fill_null(ibis.date(OPEN_END)))
    return j.filter(linked | unlinked)


def evaluate(eng: Engine, spec: ModuleType, period: Period, units: list[int] | None = None) -> ibis.Table:
    start, end, last = ibis.date(period.start), ibis.date(period.end), ibis.date(horizon(period))
    ep = _episodes(eng, spec, period, units)

    pv = eng.table("prenatal_visits")
    pv = pv.filter(~pv.is_void).select("resident_id", "enrollment_id", "service_date", "gestational_weeks",
                                       "is_registration")
    pv = _of_episode(pv, ep)
    pv = pv.filter(pv.delivery_date.isnull() | (pv.service_date <= pv.delivery_date))
    weeks = pv.gestational_weeks
    agg = {
        "registration_weeks": ibis.cases((pv.is_registration, weeks), else_=ibis.null("int64")).min(),
        "prenatal_visits": pv.service_date.nunique(),
        "registered": pv.is_registration.cast("int64").max(),
    }
    for c in spec.PRENATAL_CONTACTS[1:]:
        agg[f"{c.key}_done"] = ((weeks >= c.first_week) & (weeks <= c.last_week)).cast("int64").max()
    prenatal = pv.group_by("episode_id").aggregate(**agg)

    pp = eng.table("postpartum_visits")
    pp = pp.filter(~pp.is_void).select("resident_id", "enrollment_id", "service_date", "visit_type")
    pp = _of_episode(pp, ep)
    anchor = pp.discharge_date.fill_null(pp.delivery_date)
    visit_ok = pp.visit_type.isin(list(spec.POSTPARTUM_VISIT_TYPES)) & (pp.service_date >= anchor) \
        & (pp.service_date <= anchor + ibis.interval(days=spec.POSTPARTUM_VISIT_WITHIN_DAYS))
    check_ok = (pp.visit_type == PostpartumVisitType.CHECK_42D.value) & (pp.service_date >= pp.delivery_date)
    postpartum = pp.group_by("episode_id").aggregate(pp_visit=visit_ok.cast("int64").max(),
                                                     pp_check=check_ok.cast("int64").max(),
                                                     check_42d_on=pp.service_date.min(where=check_ok))

    s = ep.left_join(prenatal, "episode_id").select(~ibis.selectors.endswith("_right"))
    s = s.left_join(postpartum, "episode_id").select(~ibis.selectors.endswith("_right"))
    s = s.mutate(prenatal_visits=s.prenatal_visits.fill_null(0))
    delivered_by_end = s.delivery_date.notnull() & (s.delivery_date <= end)
    delivered = delivered_by_end & (s.delivery_date >= start)
    visited = s.pp_visit.fill_null(0) == 1
    pp_deadline = s.discharge_date.fill_null(s.delivery_date) + ibis.interval(days=spec.POSTPARTUM_VISIT_WITHIN_DAYS)
    check_deadline = s.delivery_date + ibis.interval(
        days=spec.POSTPARTUM_CHECK_DAY + spec.POSTPARTUM_CHECK_WINDOW.after_days)
    s = s.mutate(postpartum_visit_deadline=pp_deadline, check_42d_deadline=check_deadline)

    def alive(deadline: ibis.ir.DateValue) -> ibis.ir.BooleanValue:
        return s.closed_on.isnull() | (deadline <= s.closed_on)

    def due(open_: ibis.ir.BooleanValue, deadline: ibis.ir.DateValue) -> ibis.ir.DateValue:
        return ibis.cases((open_ & (deadline >= start) & (deadline <= last) & alive(deadline), deadline),
                          else_=ibis.null("date"))

    early = s.registration_weeks.notnull() & (s.registration_weeks < spec.EARLY_REGISTRATION_BEFORE_WEEKS)
    pp_open = delivered_by_end & ~visited
    check_open = delivered_by_end & (s.pp_check.fill_null(0) == 0)
    dues = {}
    prenatal_overdue = []  # (label, overdue at the period end) per contact, for M5
    for c in spec.PRENATAL_CONTACTS:
        deadline = s.lmp_date + ibis.interval(days=c.deadline_days)
        done = (s.registered if c is spec.PRENATAL_CONTACTS[0] else s[f"{c.key}_done"]).fill_null(0) == 1
        pregnant = (s.delivery_date.isnull() | (s.delivery_date > deadline)) \
            & (s.end_date.isnull() | (s.end_date >= deadline))
        open_ = s.lmp_date.notnull() & ~done & pregnant
        dues[f"{c.key}_due"] = due(open_, deadline)
        prenatal_overdue.append((c.name, (open_ & (deadline <= end) & alive(deadline)).fill_null(False)))
    overdue_text, overdue_count = missing_list(prenatal_overdue)
    registered = s.registered.fill_null(0) == 1
    pp_overdue = pp_open & (pp_deadline <= end) & alive(pp_deadline)
    check_overdue = check_open & (check_deadline <= end) & alive(check_deadline)
    closed_in_period = s.end_date.notnull() & (s.end_date >= start) & (s.end_date <= end)
    closed_42d = closed_in_period & s.check_42d_on.notnull() & (s.check_42d_on <= s.end_date)
    s = s.mutate(
        delivered=delivered,
        managed=s.enrolled,
        early_registered=delivered & early,
        prenatal_5=delivered & (s.prenatal_visits >= spec.MIN_PRENATAL_VISITS),
        postpartum_visited=delivered & visited,
        gap_no_registration=s.registration_weeks.isnull(),
        gap_late_registration=(s.registration_weeks >= spec.EARLY_REGISTRATION_BEFORE_WEEKS).fill_null(False),
        gap_prenatal_below=s.prenatal_visits < spec.MIN_PRENATAL_VISITS,
        gap_no_postpartum_visit=pp_open & (pp_deadline >= start) & (pp_deadline <= end) & alive(pp_deadline),
        gap_postpartum_pending=pp_open & (pp_deadline > end) & alive(pp_deadline),
        gap_closed=s.closed_on.notnull() & (s.closed_on <= end),
        postpartum_visit_due=due(pp_open, pp_deadline),
        check_42d_due=due(check_open, check_deadline),
        # M5 (服务率): managed, registered, and nothing due by the period end left undone
        effectively_managed=s.enrolled & registered & (overdue_count == 0) & ~pp_overdue.fill_null(False)
        & ~check_overdue.fill_null(False),
        # M6: closed (结案) in the period after the 42-day postpartum check
        closed_42d=s.enrolled & closed_42d,
        prenatal_overdue=overdue_text,
        gap_unregistered=~registered,
        gap_prenatal_overdue=overdue_count > 0,
        gap_postpartum_overdue=pp_overdue.fill_null(False),
        gap_check_42d_overdue=check_overdue.fill_null(False),
        gap_not_closed=~closed_in_period,
        gap_closed_without_check=closed_in_period & ~closed_42d,
        **dues,
    )
    return s.mutate(system_managed=functools.reduce(operator.and_, [s[f] for f in spec.SYSTEM_MANAGEMENT]))
