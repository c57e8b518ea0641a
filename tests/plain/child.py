"""Children the plain way, from the rule text of gongwei.spec.programs.child: walk each child's schedule.

A child counts when the record is not merged and was not closed before the period, born by its end. Ages and
due dates use calendar months (a month added to 31 Jan gives the last day of February). A scheduled check or TCM
guidance at m months is *done* when a record lies between 15 days before and 15 days after the day the child
turns m months (the window is read from the rulebook; the full-month check instead from day 28 to day 30 after
birth), and *required* when that window's last day is inside the period and the record was still open on it.

A child's schedule is kept when no required item was missed; a child with nothing required counts too when its
record is still open at the period end (the rulebook's NOTHING_DUE_COUNTS). C2/C5 count children with a child
check in the period that has a weight or a height written down, or with nothing required and an open record.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import Counter, defaultdict

from gongwei.spec.programs import child

PROGRAMS = {"child": child}
TABLES = ["residents", "child_checks", "newborn_visits", "child_tcm_guidance"]
FLAGS = ("managed", "born", "in_0_6", "under_3", "in_0_36m", "newborn_visited", "checked", "eye_checked",
         "system_managed", "system_managed_u3", "tcm_managed")
CLOSED = {"dead", "moved_out", "lost", "refused"}


def add_months(day: dt.date, months: int) -> dt.date:
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _dates(rows: list[dict]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = defaultdict(list)
    for r in rows:
        if not r["is_void"]:
            out[r["resident_id"]].append(r)
    return out


def _due_and_done(child_: tuple, items, records: list[dict], period) -> list[bool]:
    """One entry per item whose window closes in the period (record still open then): was it done in time?"""
    birth, closed_on = child_
    due = []
    for item in items:
        if item.days is not None:
            turns = birth + dt.timedelta(days=item.days)
        else:
            turns = add_months(birth, item.months)
        first = turns - dt.timedelta(days=item.window.before_days)
        last = turns + dt.timedelta(days=item.window.after_days)
        if period.start <= last <= period.end and (closed_on is None or last <= closed_on):
            due.append(any(first <= x["service_date"] <= last for x in records))
    return due


def _kept(due: list[bool], still_open: bool) -> bool:
    if len(due) == 0:
        return child.NOTHING_DUE_COUNTS and still_open
    return all(due)


def state(tables: dict[str, list[dict]], program: str, period) -> dict[str, Counter]:
    spec = PROGRAMS[program]
    checks = _dates(tables["child_checks"])
    newborn = _dates(tables["newborn_visits"])
    tcm = _dates(tables["child_tcm_guidance"])
    counts = {f: Counter() for f in FLAGS}
    for r in tables["residents"]:
        if r["status"] == "merged" or r["merged_into_id"] is not None:
            continue
        closed_on = r["status_date"] if r["status"] in CLOSED else None
        if closed_on is not None and closed_on < period.start:
            continue
        birth = r["birth_date"]
        seven = add_months(birth, 12 * (spec.MAX_AGE_YEARS + 1))
        if birth > period.end or seven <= period.start:
            continue
        rid, unit = r["id"], r["managing_unit_id"]
        flags = {
            "in_0_6": seven > period.end,
            "under_3": add_months(birth, 12 * spec.UNDER_YEARS_SYSTEM) > period.end,
            "in_0_36m": add_months(birth, spec.TCM_MAX_MONTHS + 1) > period.end,
            "born": birth >= period.start,
        }
        flags["managed"] = flags["in_0_6"]

        still_open = closed_on is None or closed_on > period.end
        child_ = (birth, closed_on)
        contacts = [c for c in checks[rid] + newborn[rid] if period.start <= c["service_date"] <= period.end]
        measured = [c for c in checks[rid] if period.start <= c["service_date"] <= period.end
                    and any(c[m] is not None for m in spec.BODY_MEASUREMENTS)]
        nothing_due = len(_due_and_done(child_, spec.CHECKS, checks[rid], period)) == 0
        flags["checked"] = flags["in_0_6"] and (len(measured) >= 1 or (nothing_due and _kept([], still_open)))
        flags["eye_checked"] = flags["in_0_6"] and sum(1 for c in contacts if c["eye_check"]) >= spec.EYE_CHECKS_REQUIRED
        last_newborn_day = birth + dt.timedelta(days=spec.NEWBORN_VISIT_WITHIN_DAYS)
        flags["newborn_visited"] = flags["born"] and any(birth <= v["service_date"] <= last_newborn_day
                                                         for v in newborn[rid])

        four_two_two = [i for i in spec.CHECKS if i.months in spec.FOUR_TWO_TWO_MONTHS]
        flags["system_managed"] = flags["in_0_6"] and _kept(
            _due_and_done(child_, spec.CHECKS, checks[rid], period), still_open)
        flags["system_managed_u3"] = flags["under_3"] and _kept(
            _due_and_done(child_, four_two_two, checks[rid], period), still_open)
        flags["tcm_managed"] = flags["in_0_36m"] and _kept(_due_and_done(child_, spec.TCM_ITEMS, tcm[rid], period),
                                                           still_open)
        for f, v in flags.items():
            if v:
                counts[f][unit] += 1
    return counts
