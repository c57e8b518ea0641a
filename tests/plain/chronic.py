"""Hypertension, type-2 diabetes and COPD the plain way: loops over people and visits.

Control: hypertension's last measured BP below the target; diabetes' last recorded fasting glucose below the target
(compared as decimals, the way it is written on the form); COPD has no control rule and exists from its start year.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal

from gongwei.spec.programs import copd, diabetes, hypertension

PROGRAMS = {"hypertension": hypertension, "diabetes": diabetes, "copd": copd}
TABLES = ["residents", "enrollments", "chronic_follow_ups", "health_examinations"]
QUARTER_ENDS = [(3, 31), (6, 30), (9, 30), (12, 31)]


def state(tables: dict[str, list[dict]], program: str, period) -> dict[str, Counter]:
    spec = PROGRAMS[program]
    counts = {"managed": Counter(), "standardized": Counter()}
    control = None
    if hasattr(spec, "CONTROL"):
        control = spec.CONTROL.for_year(period.year)
        counts["controlled"] = Counter()
    if getattr(spec, "START_YEAR", None) and period.year < spec.START_YEAR:
        return counts
    req = spec.FOLLOW_UP.for_year(period.year)
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
        unit = r["managing_unit_id"]
        counts["managed"][unit] += 1
        first = max(min(s for s, _ in in_period), period.start)
        last = min(max((e or period.end) for _, e in in_period), period.end)
        if closed_on is not None:
            last = min(last, closed_on)
        covered = 0
        for mm, dd in QUARTER_ENDS:
            qend = dt.date(year, mm, dd)
            if period.start <= qend <= period.end and first <= qend <= last:
                covered += 1
        required = covered * req.min_visits // 4
        mine = visits.get(rid, [])
        done = sum(1 for v in mine if v["mode"] in req.counted_modes)
        ok = done >= required
        if req.annual_exam and period.end == dt.date(year, 12, 31) and rid not in examined:
            ok = False
        if ok:
            counts["standardized"][unit] += 1
        if control is None:
            continue
        if program == "diabetes":
            measured = [v for v in mine if v["fasting_glucose"] is not None]
        else:
            measured = [v for v in mine if v["sbp"] is not None and v["dbp"] is not None]
        if measured:
            latest = max(measured, key=lambda v: (v["service_date"], v["id"]))
            if program == "diabetes":
                ok = Decimal(str(latest["fasting_glucose"])) < control.fasting_glucose
            else:
                ok = latest["sbp"] < control.sbp and latest["dbp"] < control.dbp
            if ok:
                counts["controlled"][unit] += 1
    return counts
