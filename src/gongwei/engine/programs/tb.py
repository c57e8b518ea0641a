"""Pulmonary tuberculosis (肺结核): per-person state for T1–T2, first-visit and supervision due dates.

Episodes are TB enrolments overlapping the period (start = notification date), for residents not merged and not
closed before the period. A follow-up belongs to an episode through its ``enrollment`` link, or — without a
link — when it is the same resident's and falls between the episode's start and end. Per episode:

* **notified**: notified within the period (T1's denominator).
* **managed**: notified, and the first home visit (``FIRST_VISIT_TYPE``) is recorded by the period end (and on
  time, when ``MANAGED_REQUIRES_TIMELY_FIRST_VISIT`` says so for the year).
* **tracked**: notified within the period or still open at its end; for these the first visit is due
  ``first_visit_max_days(year)`` after notification — overdue (gap ``first_visit_overdue``) once that day is within
  the period, pending before.
* **completed**: closed with ``end_reason = COMPLETED`` within the period (T2's denominator).
* **open_case** (T3's denominator): notified by the period end and not closed at it; **open_followed**: with a
  follow-up record of the episode in the period (or the last ``OPEN_CASE_FOLLOW_UP_DAYS`` days up to its end).
* **regular**: completed, and over all the episode's follow-ups (the whole course, whatever their date)
  doses taken × 100 ≥ doses due × ``REGULAR_MEDICATION_PERCENT``, with doses due > 0.
* Open episodes with a first visit: the next supervised visit is due ``INTENSIVE_VISIT_DAYS`` after the last
  one when the supervisor is in ``TEN_DAY_SUPERVISORS``, the last visit is not recorded as continuation phase
  and that day is still within ``INTENSIVE_PHASE_DAYS`` of notification; otherwise ``MONTHLY_VISIT_DAYS``.
  Without a closing assessment, it is due ``TREATMENT_DAYS`` after notification.

A person's row aggregates their episodes (any episode for flags, sums of completed episodes for dose counts,
earliest due date).
"""

from __future__ import annotations

from types import ModuleType

import ibis

from gongwei.engine.backends import Engine
from gongwei.engine.programs import chronic
from gongwei.spec.periods import Period
from gongwei.spec.programs import tb as tb_spec

PROGRAMS = {"tb": tb_spec}


def evaluate(eng: Engine, spec: ModuleType, period: Period, units: list[int] | None = None) -> ibis.Table:
    start, end = ibis.date(period.start), ibis.date(period.end)
    enr = eng.table("enrollments")
    enr = enr.filter((enr.program == spec.PROGRAM.value) & (enr.start_date <= end)
                     & (enr.end_date.isnull() | (enr.end_date >= start)))
    res = chronic.residents(eng, period, units)
    ep = enr.join(res, enr.resident_id == res.id).select(
        episode_id=enr.id, resident_id=enr.resident_id, managing_unit_id=res.managing_unit_id,
        notified_on=enr.start_date, ended_on=enr.end_date, end_reason=enr.end_reason.fill_null(""),
        supervisor=enr.tb_supervisor.fill_null(""))

    fu = eng.table("tb_follow_ups")
    fu = fu.filter(~fu.is_void).select(
        f_id="id", f_resident="resident_id", f_enrollment="enrollment_id", f_date="service_date",
        f_type="visit_type", f_phase=fu.phase.fill_null(""), f_due="doses_due", f_taken="doses_taken")
    span = ep.select("episode_id", "resident_id", "notified_on", "ended_on")
    linked = (fu.f_enrollment == span.episode_id) | (
        fu.f_enrollment.isnull() & (fu.f_date >= span.notified_on)
        & (span.ended_on.isnull() | (fu.f_date <= span.ended_on)))
    visits = span.join(fu, [span.resident_id == fu.f_resident, linked])
    so_far = visits.f_date <= end
    window_days = spec.OPEN_CASE_FOLLOW_UP_DAYS
    follow_from = start if window_days is None else end - ibis.interval(days=window_days - 1)
    per_episode = visits.group_by("episode_id").aggregate(
        followed_in_window=(so_far & (visits.f_date >= follow_from)).any(),
        first_visit_on=ibis.cases((so_far & (visits.f_type == str(spec.FIRST_VISIT_TYPE)), visits.f_date),
                                  else_=ibis.null("date")).min(),
        closing_done=(so_far & (visits.f_type == str(spec.CLOSING_VISIT_TYPE))).any(),
        course_doses_due=visits.f_due.sum(),
        course_doses_taken=visits.f_taken.sum(),
    )
    current = visits.filter(so_far)
    ranked = current.mutate(rn=ibis.row_number().over(group_by=current.episode_id,
                                                      order_by=[ibis.desc(current.f_date), ibis.desc(current.f_id)]))
    last = ranked.filter(ranked.rn == 0).select(episode_id="episode_id", last_visit_on="f_date", last_phase="f_phase")

    e = chronic.left_on(ep, per_episode, "episode_id")
    e = chronic.left_on(e, last, "episode_id")
    notified = (e.notified_on >= start) & (e.notified_on <= end)
    open_at_end = e.ended_on.isnull() | (e.ended_on > end)
    no_first = e.first_visit_on.isnull()
    deadline = e.notified_on + ibis.interval(days=spec.first_visit_max_days(period.year))
    late = ~no_first & (e.first_visit_on > deadline)
    timely_only = spec.MANAGED_REQUIRES_TIMELY_FIRST_VISIT.for_year(period.year)
    open_case = (e.notified_on <= end) & open_at_end
    followed = e.followed_in_window.fill_null(False)
    tracked = notified | open_at_end
    completed = (e.end_reason == str(spec.COMPLETED)) & (e.ended_on >= start) & (e.ended_on <= end)
    doses_due = e.course_doses_due.fill_null(0)
    doses_taken = e.course_doses_taken.fill_null(0)
    regular = completed & (doses_due > 0) & (doses_taken * 100 >= doses_due * spec.REGULAR_MEDICATION_PERCENT)
    ten_days = (e.supervisor.isin([str(s) for s in spec.TEN_DAY_SUPERVISORS])
                & (e.last_phase.fill_null("") != str(spec.CONTINUATION))
                & (e.last_visit_on + ibis.interval(days=spec.INTENSIVE_VISIT_DAYS)
                   <= e.notified_on + ibis.interval(days=spec.INTENSIVE_PHASE_DAYS)))
    next_visit = ibis.cases(
        (ten_days, e.last_visit_on + ibis.interval(days=spec.INTENSIVE_VISIT_DAYS)),
        else_=e.last_visit_on + ibis.interval(days=spec.MONTHLY_VISIT_DAYS))
    e = e.mutate(
        notified=notified,
        managed=notified & ~no_first & (~late if timely_only else ibis.literal(True)),
        completed=completed,
        regular=regular,
        open_case=open_case,
        open_followed=open_case & followed,
        first_visit_late=late,
        gap_first_visit_late=notified & late & ibis.literal(timely_only),
        gap_open_not_followed=open_case & ~followed,
        gap_first_visit_overdue=tracked & no_first & (deadline <= end),
        gap_first_visit_pending=tracked & no_first & (deadline > end),
        gap_no_dose_records=completed & (doses_due == 0),
        gap_doses_below=completed & (doses_due > 0) & ~regular,
        pending_notified_on=ibis.cases((tracked & no_first, e.notified_on), else_=ibis.null("date")),
        completed_doses_due=ibis.cases((completed, doses_due), else_=0),
        completed_doses_taken=ibis.cases((completed, doses_taken), else_=0),
        first_visit_due=ibis.cases((tracked & no_first, deadline), else_=ibis.null("date")),
        next_visit_due=ibis.cases((open_at_end & ~no_first, next_visit), else_=ibis.null("date")),
        closing_due=ibis.cases((open_at_end & ~e.closing_done.fill_null(False),
                                e.notified_on + ibis.interval(days=spec.TREATMENT_DAYS)), else_=ibis.null("date")),
    )
    flags = ("notified", "managed", "completed", "regular", "open_case", "open_followed", "first_visit_late",
             "gap_first_visit_overdue", "gap_first_visit_pending", "gap_first_visit_late", "gap_no_dose_records",
             "gap_doses_below", "gap_open_not_followed")
    s = e.group_by(["resident_id", "managing_unit_id"]).aggregate(
        **{f: e[f].any() for f in flags},
        notified_on=ibis.coalesce(e.pending_notified_on.max(), e.notified_on.max()),
        doses_due=e.completed_doses_due.sum(),
        doses_taken=e.completed_doses_taken.sum(),
        first_visit_due=e.first_visit_due.min(),
        next_visit_due=e.next_visit_due.min(),
        closing_due=e.closing_due.min(),
    )
    return s
