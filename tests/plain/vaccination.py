"""Vaccination coverage the plain way, from the rule text of gongwei.spec.programs.vaccination.

The period is counted against the schedule edition in force in its year (``NIP``; the earliest edition for
earlier years). For each child (record not merged, not closed before the period, born by its end) and each dose of
that edition: due (应种) when the child reaches the deadline age (birth + ``by_months`` months + ``by_days`` days)
in the period and the record was still open that day; received (实种) when a non-void record dated by the period
end is an accepted product and dose number — or one of ``accepted_before`` dated before the edition took effect —
and is dated from the schedule age of the edition in force on the record's own date up to the day before the
deadline age.
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


def _edition(spec, year: int):
    """The edition in force in ``year``: the one with the latest start year ≤ it, else the earliest."""
    years = sorted(spec.NIP.values)
    in_force = [y for y in years if y <= year]
    return spec.NIP.values[in_force[-1] if in_force else years[0]]


def state(tables: dict[str, list[dict]], program: str, period) -> dict[str, Counter]:
    spec = PROGRAMS[program]
    edition = _edition(spec, period.year)
    effective = dt.date(edition.year, 1, 1)
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
        for d in edition.doses:
            deadline = add_months(r["birth_date"], d.by_months) + dt.timedelta(days=d.by_days)
            if not (period.start <= deadline <= period.end) or (closed_on is not None and closed_on < deadline):
                continue
            counts[f"eligible_{d.key}"][r["managing_unit_id"]] += 1
            for v in doses[r["id"]]:
                product = (v["vaccine"], v["dose_no"])
                if not (product in d.accepted or (product in d.accepted_before and v["service_date"] < effective)):
                    continue
                then = _edition(spec, v["service_date"].year)
                same = next((x for x in then.doses if x.code == d.code), d)
                if add_months(r["birth_date"], same.months) <= v["service_date"] < deadline:
                    counts[f"vaccinated_{d.key}"][r["managing_unit_id"]] += 1
                    break
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
