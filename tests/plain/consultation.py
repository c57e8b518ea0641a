"""First outpatient visits of residents 35+ the plain way (rulebook: gongwei.spec.programs.consultation).

For each resident, sort this year's non-void consultations up to the period end by (date, number); the first one
is the first visit. It counts when it lies in the period, the resident is not merged and was at least MIN_AGE on
that day, at the unit of the visit; measured = the box ticked, or (when the rulebook says so) a value recorded.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from gongwei.spec.programs import consultation

PROGRAMS = {"consultation": consultation}
TABLES = ["residents", "consultations"]


def _age(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def state(tables: dict[str, list[dict]], program: str, period) -> dict[str, Counter]:
    spec = consultation
    residents = {r["id"]: r for r in tables["residents"]}
    visits: dict[int, list[dict]] = defaultdict(list)
    for c in tables["consultations"]:
        if not c["is_void"] and dt.date(period.start.year, 1, 1) <= c["service_date"] <= period.end:
            visits[c["resident_id"]].append(c)
    counts = {f: Counter() for f in ("first_visit", "bp_measured", "glucose_measured")}
    for rid, mine in visits.items():
        first = min(mine, key=lambda c: (c["service_date"], c["encounter_no"]))
        r = residents[rid]
        if first["service_date"] < period.start or r["status"] == "merged" or r["merged_into_id"] is not None:
            continue
        if _age(r["birth_date"], first["service_date"]) < spec.MIN_AGE:
            continue
        unit = first["org_unit_id"]
        counts["first_visit"][unit] += 1
        recorded = spec.RECORDED_VALUE_COUNTS
        if first["bp_measured"] or (recorded and first["sbp"] is not None):
            counts["bp_measured"][unit] += 1
        if first["glucose_measured"] or (recorded and first["blood_glucose"] is not None):
            counts["glucose_measured"][unit] += 1
    return counts
