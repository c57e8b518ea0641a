"""Vaccination coverage the plain way, from the rule text of gongwei.spec.programs.vaccination.

For each child (record not merged, not closed before the period, born by its end) and each dose of the schedule:
due (应种) when birth + schedule age + the grace days falls in the period and the record was still open that day;
received (实种) when a non-void record of an accepted product and dose number is dated from the schedule age
(minus the window's days before) to the period end.
Certificates (V1): a child still under 7 on the period start should have one from one month after birth, or —
if the child came to live here after birth — three months after arriving (the rulebook's parameters), when that
day is by the period end and the record was open on it; it has one if a non-void certificate is dated by the end.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from gongwei.spec.programs import vaccination
from tests.plain.child import CLOSED, add_months

PROGRAMS = {"vaccination": vaccination}
TABLES = ["residents", "vaccinations", "vaccination_certificates"]


def state(tables: dict[str, list[dict]], program: str, period) -> dict[str, Counter]:
    spec = PROGRAMS[program]
    doses: dict[int, list[dict]] = defaultdict(list)
    for v in tables["vaccinations"]:
        if not v["is_void"] and v["service_date"] <= period.end:
            doses[v["resident_id"]].append(v)
    counts = {f"{kind}_{d.key}": Counter() for d in spec.DOSES for kind in ("eligible", "vaccinated")}
    counts["certificate_due_child"], counts["has_certificate"] = Counter(), Counter()
    certified = {c["resident_id"] for c in tables["vaccination_certificates"]
                 if not c["is_void"] and c["service_date"] <= period.end}
    for r in tables["residents"]:
        if r["status"] == "merged" or r["merged_into_id"] is not None:
            continue
        closed_on = r["status_date"] if r["status"] in CLOSED else None
        if (closed_on is not None and closed_on < period.start) or r["birth_date"] > period.end:
            continue
        _certificate(spec, r, closed_on, certified, period, counts)
        for d in spec.DOSES:
            age_day = add_months(r["birth_date"], d.months)
            deadline = age_day + dt.timedelta(days=d.window.after_days)
            if not (period.start <= deadline <= period.end) or (closed_on is not None and closed_on < deadline):
                continue
            counts[f"eligible_{d.key}"][r["managing_unit_id"]] += 1
            earliest = age_day - dt.timedelta(days=d.window.before_days)
            if any((v["vaccine"], v["dose_no"]) in d.accepted and v["service_date"] >= earliest
                   for v in doses[r["id"]]):
                counts[f"vaccinated_{d.key}"][r["managing_unit_id"]] += 1
    return counts


def _certificate(spec, r, closed_on, certified, period, counts) -> None:
    if add_months(r["birth_date"], (spec.CERTIFICATE_MAX_AGE_YEARS + 1) * 12) <= period.start:
        return  # already 7 when the period starts
    arrived = r["residence_since"]
    if arrived is not None and arrived > r["birth_date"]:
        due = add_months(arrived, spec.CERTIFICATE_MONTHS_AFTER_ARRIVAL)
    else:
        due = add_months(r["birth_date"], spec.CERTIFICATE_MONTHS_AFTER_BIRTH)
    if due > period.end or (closed_on is not None and closed_on < due):
        return
    counts["certificate_due_child"][r["managing_unit_id"]] += 1
    if r["id"] in certified:
        counts["has_certificate"][r["managing_unit_id"]] += 1
