"""Family-doctor contracts the plain way: per person, walk their contracts and enrolments."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from gongwei.spec.programs import family_doctor
from tests.plain.elderly import age_on, in_records_at_end, reference_day

PROGRAMS = {"family_doctor": family_doctor}
TABLES = ["residents", "health_records", "contracts", "enrollments", *family_doctor.FULFILMENT_SERVICES]


def last_day_in_force(c) -> dt.date:
    if c["cancelled_on"] is not None:
        return min(c["end_date"], c["cancelled_on"] - dt.timedelta(days=1))
    return c["end_date"]


def state(tables: dict[str, list[dict]], program: str, period) -> dict[str, Counter]:
    spec = PROGRAMS[program]
    rules = spec.KEY_GROUPS.for_year(period.year)
    at_end = spec.SIGNED_AT.for_year(period.year) is spec.SignedAt.PERIOD_END
    ref = reference_day(period)
    contracts = defaultdict(list)
    for c in tables["contracts"]:
        contracts[c["resident_id"]].append(c)
    programs = defaultdict(set)
    for e in tables["enrollments"]:
        if e["start_date"] <= period.end and (e["end_date"] is None or e["end_date"] >= period.start):
            programs[e["resident_id"]].add(e["program"])
    disabled = {f["resident_id"] for f in tables["health_records"]
                if f["disability"] and f["disability"].strip() and f["disability"] not in spec.NO_DISABILITY_CODES}
    service_days = defaultdict(list)  # resident → dates of (non-void) services in the period
    for name in spec.FULFILMENT_SERVICES:
        for v in tables[name]:
            if not v["is_void"] and period.start <= v["service_date"] <= period.end:
                service_days[v["resident_id"]].append(v["service_date"])
    counts = defaultdict(Counter)
    for p in tables["residents"]:
        if not in_records_at_end(p, period):
            continue
        rid, unit = p["id"], p["managing_unit_id"]
        counts["in_records"][unit] += 1
        mine = contracts.get(rid, [])
        if at_end:
            counted = [c for c in mine if c["start_date"] <= period.end <= last_day_in_force(c)]
        else:
            counted = [c for c in mine
                       if max(c["start_date"], period.start) <= min(last_day_in_force(c), period.end)]
        signed = bool(counted)
        counts["signed"][unit] += signed
        # 履约: a service on a day one of the counted contracts was in force
        counts["fulfilled"][unit] += any(c["start_date"] <= day <= last_day_in_force(c)
                                         for c in counted for day in service_days.get(rid, []))
        key = False
        for rule in rules:
            if rule.programs:
                member = bool(programs.get(rid, set()) & set(rule.programs))
            elif rule.disability:
                member = rid in disabled
            else:
                age = age_on(p["birth_date"], ref)
                member = p["birth_date"] <= period.end
                if rule.min_age is not None:
                    member = member and age >= rule.min_age
                if rule.max_age is not None:
                    member = member and age <= rule.max_age
            counts[f"in_{rule.group.value}"][unit] += member
            counts[f"signed_{rule.group.value}"][unit] += member and signed
            key = key or member
        counts["key_member"][unit] += key
        counts["key_signed"][unit] += key and signed
        # renewals: contracts that ran to their end in the period, the person still registered at that end
        closed_on = p["status_date"] if p["status"] in ("dead", "moved_out", "lost", "refused") else None
        ending = [c for c in mine if period.start <= c["end_date"] <= period.end
                  and (c["cancelled_on"] is None or c["cancelled_on"] > c["end_date"])
                  and (closed_on is None or closed_on > c["end_date"])]
        if ending:
            counts["expiring"][unit] += 1
            grace = dt.timedelta(days=spec.RENEWAL_GRACE_DAYS)
            if all(any(c["start_date"] < n["start_date"] <= c["end_date"] + grace for n in mine) for c in ending):
                counts["renewed"][unit] += 1
    return {k: Counter({u: n for u, n in v.items() if n}) for k, v in counts.items()}
