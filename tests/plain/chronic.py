"""Hypertension, type-2 diabetes and COPD the plain way: loops over people and visits.

Managed: enrolled in the period, record not merged, not closed before the period, and (with MIN_AGE) that old on
the last day of their management in the period. Required visits: FOLLOW_UP.min_visits for each quarter whose last
day they were managed on, divided by 4, rounded down. A visit counts when its mode is counted and (diabetes) its
fasting glucose is recorded; one per day; with a minimum interval only when that many days after the previous such
day; with the quarter spread at most ceil(min_visits / 4) in one quarter.
Control: hypertension's last measured BP below the target of the year and region (SBP limit from the elderly age on
that visit's day); diabetes' last recorded fasting glucose below the target (compared as decimals, the way it is
written on the form); not controlled when the last follow-up of any kind is more than LOST_TO_FOLLOW_UP months
before the end of management in the period. COPD has no control rule and exists from its start year.
Followed twice: at least FOLLOW_UP_RATE.min_visits distinct follow-up days in the period.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal

from gongwei.spec.programs import copd, diabetes, hypertension

PROGRAMS = {"hypertension": hypertension, "diabetes": diabetes, "copd": copd}
TABLES = ["residents", "enrollments", "chronic_follow_ups", "health_examinations", "org_units"]
QUARTER_ENDS = [(3, 31), (6, 30), (9, 30), (12, 31)]


def _age(birth: dt.date | None, on: dt.date) -> int | None:
    if birth is None:
        return None
    return on.year - birth.year - (1 if (on.month, on.day) < (birth.month, birth.day) else 0)


def _plus_months(d: dt.date, months: int) -> dt.date:
    m = d.month - 1 + months
    y, m = d.year + m // 12, m % 12 + 1
    return dt.date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def _quarter(d: dt.date) -> int:
    return (d.month - 1) // 3 + 1


def _bp_target(year: int, region: str):
    matching = [p for p in hypertension.REGIONAL_CONTROL if region.startswith(p)]
    if matching:
        return hypertension.REGIONAL_CONTROL[max(matching, key=len)].for_year(year)
    return hypertension.CONTROL.for_year(year)


def state(tables: dict[str, list[dict]], program: str, period) -> dict[str, Counter]:
    spec = PROGRAMS[program]
    counts = {"managed": Counter(), "standardized": Counter()}
    control = None
    if hasattr(spec, "CONTROL"):
        roots = [o["code"] for o in tables["org_units"] if o["parent_id"] is None]
        region = roots[0] if roots else ""
        control = _bp_target(period.year, region) if program == "hypertension" else spec.CONTROL.for_year(period.year)
        counts["controlled"] = Counter()
    rate = spec.FOLLOW_UP_RATE.for_year(period.year) if hasattr(spec, "FOLLOW_UP_RATE") else None
    if rate is not None:
        counts["followed_twice"] = Counter()
    answer = spec.UNCONTROLLED_ANSWER.for_year(period.year) if hasattr(spec, "UNCONTROLLED_ANSWER") else None
    if answer is not None:
        counts["uncontrolled_seen"] = Counter()
        counts["uncontrolled_guided"] = Counter()
    if getattr(spec, "START_YEAR", None) and period.year < spec.START_YEAR:
        return counts
    req = spec.FOLLOW_UP.for_year(period.year)
    lost_months = spec.LOST_TO_FOLLOW_UP.for_year(period.year).months if hasattr(spec, "LOST_TO_FOLLOW_UP") else None
    min_age = getattr(spec, "MIN_AGE", None)
    year = period.end.year
    residents = {r["id"]: r for r in tables["residents"]}
    spans: dict[int, list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
    for e in tables["enrollments"]:
        if e["program"] == program:
            spans[e["resident_id"]].append((e["start_date"], e["end_date"]))
    visits: dict[int, list[dict]] = defaultdict(list)
    for v in tables["chronic_follow_ups"]:
        if v["program"] == program and not v["is_void"] and period.start <= v["service_date"] <= period.end:
            visits[v["resident_id"]].append(v)
    examined = {x["resident_id"] for x in tables["health_examinations"]
                if not x["is_void"] and dt.date(year, 1, 1) <= x["service_date"] <= period.end}
    for rid, person_spans in spans.items():
        r = residents.get(rid)
        if r is None or r["status"] == "merged" or r["merged_into_id"] is not None:
            continue
        in_period = [(s, e) for s, e in person_spans if s <= period.end and (e is None or e >= period.start)]
        if not in_period:
            continue
        closed_on = r["status_date"] if r["status"] in ("dead", "moved_out", "lost", "refused") else None
        if closed_on is not None and closed_on < period.start:
            continue
        first = max(min(s for s, _ in in_period), period.start)
        last = min(max((e or period.end) for _, e in in_period), period.end)
        if closed_on is not None:
            last = min(last, closed_on)
        age_at_end = _age(r["birth_date"], last)
        if min_age is not None and age_at_end is not None and age_at_end < min_age:
            continue
        unit = r["managing_unit_id"]
        counts["managed"][unit] += 1
        covered = 0
        for mm, dd in QUARTER_ENDS:
            qend = dt.date(year, mm, dd)
            if period.start <= qend <= period.end and first <= qend <= last:
                covered += 1
        required = covered * req.min_visits // 4
        mine = visits.get(rid, [])

        days = sorted({v["service_date"] for v in mine if v["mode"] in req.counted_modes
                       and (req.needs_measurement is None or v[req.needs_measurement] is not None)})
        if req.min_interval_days:
            days = [d for i, d in enumerate(days)
                    if i == 0 or d >= days[i - 1] + dt.timedelta(days=req.min_interval_days)]
        if req.spread_by_quarter:
            per_q = Counter(_quarter(d) for d in days)
            cap = -(-req.min_visits // 4)
            done = sum(min(n, cap) for n in per_q.values())
        else:
            done = len(days)
        ok = done >= required
        if req.annual_exam and period.end == dt.date(year, 12, 31) and rid not in examined:
            ok = False
        if ok:
            counts["standardized"][unit] += 1

        follow_up_days = {v["service_date"] for v in mine if rate is not None and v["mode"] in rate.counted_modes}
        if rate is not None and len(follow_up_days) >= rate.min_visits:
            counts["followed_twice"][unit] += 1
        if answer is not None:
            uncontrolled = [v for v in mine if v["classification"] == "2"]  # 控制不满意
            if uncontrolled:
                counts["uncontrolled_seen"][unit] += 1
                if all((v["guidance"] or "").strip() or v["medication_adjusted"] or v["referral"]
                       or (v["next_visit_date"] is not None
                           and (v["next_visit_date"] - v["service_date"]).days <= answer.max_next_days)
                       for v in uncontrolled):
                    counts["uncontrolled_guided"][unit] += 1
        if control is None:
            continue
        if lost_months is not None and mine and _plus_months(max(v["service_date"] for v in mine), lost_months) < last:
            continue  # 失访: not controlled
        if program == "diabetes":
            measured = [v for v in mine if v["fasting_glucose"] is not None]
        else:
            measured = [v for v in mine if v["sbp"] is not None and v["dbp"] is not None]
        if measured:
            latest = max(measured, key=lambda v: (v["service_date"], v["id"]))
            if program == "diabetes":
                ok = Decimal(str(latest["fasting_glucose"])) < control.fasting_glucose
            else:
                sbp_limit = control.sbp
                age = _age(r["birth_date"], latest["service_date"])
                if control.elderly_age is not None and age is not None and age >= control.elderly_age:
                    sbp_limit = control.elderly_sbp
                ok = latest["sbp"] < sbp_limit and latest["dbp"] < control.dbp
            if ok:
                counts["controlled"][unit] += 1
    return counts
