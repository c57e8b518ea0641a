"""Severe mental disorders the plain way (rulebook: gongwei.spec.programs.smi, [spec2017-smi]).

For every patient registered in the period (enrolled at some time in it, record neither merged nor closed before
it): P2 managed = any follow-up in the period; P1 standardized = follow-ups with a risk grade in the counted modes
reach 4 × (quarter ends inside both the period and the enrolment) / 4, and after each unstable or basically-stable
follow-up another follow-up comes within the class's interval whenever that deadline is inside the period and the
enrolment; P3 examined = a health exam from 1 January; P4 from the latest follow-up (date, then id).
At home (P2/P3 denominators): the latest follow-up of the period says the patient lives at home, or there is none.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from gongwei.spec.programs import smi

PROGRAMS = {"smi": smi}
TABLES = ["residents", "enrollments", "smi_follow_ups", "health_examinations"]
CLOSED = ("dead", "moved_out", "lost", "refused")
FLAGS = ("registered", "managed", "standardized", "examined", "on_medication", "regular_medication", "stable",
         "at_home", "managed_at_home", "examined_at_home")


def _class_of(visit: dict) -> str | None:
    if visit["classification"]:
        return visit["classification"]
    grade = visit["risk_grade"]
    return None if grade is None else str(smi.CLASS_BY_RISK_GRADE[grade])


def state(tables: dict[str, list[dict]], program: str, period) -> dict[str, Counter]:
    req = smi.FOLLOW_UP.for_year(period.year)
    year = period.end.year
    counts = {f: Counter() for f in FLAGS}
    residents = {r["id"]: r for r in tables["residents"]}
    spans: dict[int, list] = defaultdict(list)
    for e in tables["enrollments"]:
        if e["program"] == program:
            spans[e["resident_id"]].append((e["start_date"], e["end_date"]))
    visits: dict[int, list[dict]] = defaultdict(list)
    for v in tables["smi_follow_ups"]:
        if not v["is_void"] and period.start <= v["service_date"] <= period.end:
            visits[v["resident_id"]].append(v)
    examined = {x["resident_id"] for x in tables["health_examinations"]
                if not x["is_void"] and dt.date(year, 1, 1) <= x["service_date"] <= period.end}
    checked = {str(c): smi.NEXT_VISIT_DAYS[c] for c in smi.INTERVAL_CHECKED_CLASSES}
    for rid, person_spans in spans.items():
        r = residents.get(rid)
        if r is None or r["status"] == "merged" or r["merged_into_id"] is not None:
            continue
        current = [(s, e) for s, e in person_spans if s <= period.end and (e is None or e >= period.start)]
        if not current:
            continue
        closed_on = r["status_date"] if r["status"] in CLOSED else None
        if closed_on is not None and closed_on < period.start:
            continue
        unit = r["managing_unit_id"]
        counts["registered"][unit] += 1
        enrolled_from = max(min(s for s, _ in current), period.start)
        enrolled_to = min(max(e or period.end for _, e in current), period.end)
        if closed_on is not None:
            enrolled_to = min(enrolled_to, closed_on)
        quarters = sum(1 for m, d in ((3, 31), (6, 30), (9, 30), (12, 31))
                       if period.start <= dt.date(year, m, d) <= period.end
                       and enrolled_from <= dt.date(year, m, d) <= enrolled_to)
        mine = sorted(visits.get(rid, []), key=lambda v: (v["service_date"], v["id"]))
        graded = [v for v in mine if v["mode"] in req.counted_modes
                  and (v["risk_grade"] is not None or not smi.REQUIRE_RISK_GRADE)]
        ok = len(graded) >= quarters * req.min_visits // 4
        for v in mine:
            days = checked.get(_class_of(v) or "")
            if days is None:
                continue
            deadline = v["service_date"] + dt.timedelta(days=days)
            if deadline > enrolled_to:
                continue
            if not any(v["service_date"] < w["service_date"] <= deadline for w in mine):
                ok = False
        if ok:
            counts["standardized"][unit] += 1
        at_home = not mine or mine[-1]["living_at_home"]
        if at_home:
            counts["at_home"][unit] += 1
        if rid in examined:
            counts["examined"][unit] += 1
            if at_home:
                counts["examined_at_home"][unit] += 1
        if not mine:
            continue
        if at_home:
            counts["managed_at_home"][unit] += 1
        counts["managed"][unit] += 1
        last = mine[-1]
        if last["on_medication"]:
            counts["on_medication"][unit] += 1
            if last["adherence"] == str(smi.REGULAR_ADHERENCE):
                counts["regular_medication"][unit] += 1
        if _class_of(last) == "stable":
            counts["stable"][unit] += 1
    return counts
