"""Tuberculosis the plain way (rulebook: gongwei.spec.programs.tb, [spec2017-tb]).

Each TB enrolment overlapping the period is a course, notified on its start date, for a resident neither merged nor
closed before the period. T1: notified within the period; managed when a first home visit of the course is dated no
later than the period end (and, when the rulebook asks for timely visits that year, no later than the notification
date + hours // 24 days). T3: courses notified by the period end and still open at it; followed when a follow-up
of the course is dated within the period (or the rulebook's last N days up to its end). T2: course closed as completed within the period; regular when, summed over all its
follow-ups, doses taken are at least 90% of doses due (and some doses were due). A follow-up belongs to the course
it is linked to, or, unlinked, to the resident's course whose dates contain it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from gongwei.spec.programs import tb

PROGRAMS = {"tb": tb}
TABLES = ["residents", "enrollments", "tb_follow_ups"]
CLOSED = ("dead", "moved_out", "lost", "refused")


def state(tables: dict[str, list[dict]], program: str, period) -> dict[str, Counter]:
    counts = {f: Counter() for f in ("notified", "managed", "completed", "regular", "open_case", "open_followed")}
    on_time_days = tb.FIRST_VISIT_WITHIN_HOURS.for_year(period.year) // 24
    timely_only = tb.MANAGED_REQUIRES_TIMELY_FIRST_VISIT.for_year(period.year)
    window = tb.OPEN_CASE_FOLLOW_UP_DAYS
    follow_from = period.start if window is None else period.end - dt.timedelta(days=window - 1)
    residents = {r["id"]: r for r in tables["residents"]}
    courses = [e for e in tables["enrollments"] if e["program"] == program
               and e["start_date"] <= period.end and (e["end_date"] is None or e["end_date"] >= period.start)]
    by_resident = defaultdict(list)
    for c in courses:
        by_resident[c["resident_id"]].append(c)
    visits = defaultdict(list)  # course id → follow-ups
    for v in tables["tb_follow_ups"]:
        if v["is_void"]:
            continue
        for c in by_resident.get(v["resident_id"], []):
            if v["enrollment_id"] == c["id"] or (
                    v["enrollment_id"] is None and c["start_date"] <= v["service_date"]
                    and (c["end_date"] is None or v["service_date"] <= c["end_date"])):
                visits[c["id"]].append(v)
    for rid, mine in by_resident.items():
        r = residents.get(rid)
        if r is None or r["status"] == "merged" or r["merged_into_id"] is not None:
            continue
        if r["status"] in CLOSED and r["status_date"] < period.start:
            continue
        unit = r["managing_unit_id"]
        flags = set()
        for c in mine:
            if period.start <= c["start_date"] <= period.end:
                flags.add("notified")
                last_ok = c["start_date"] + dt.timedelta(days=on_time_days) if timely_only else period.end
                if any(v["visit_type"] == "first" and v["service_date"] <= min(period.end, last_ok)
                       for v in visits[c["id"]]):
                    flags.add("managed")
            if c["start_date"] <= period.end and (c["end_date"] is None or c["end_date"] > period.end):
                flags.add("open_case")
                if any(follow_from <= v["service_date"] <= period.end for v in visits[c["id"]]):
                    flags.add("open_followed")
            if c["end_reason"] == "completed" and period.start <= c["end_date"] <= period.end:
                flags.add("completed")
                due = sum(v["doses_due"] or 0 for v in visits[c["id"]])
                taken = sum(v["doses_taken"] or 0 for v in visits[c["id"]])
                if due > 0 and taken * 100 >= due * tb.REGULAR_MEDICATION_PERCENT:
                    flags.add("regular")
        for f in flags:
            counts[f][unit] += 1
    return counts
