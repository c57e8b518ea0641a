"""Maternal indicators the plain way, from the rule text of gongwei.spec.programs.maternal: loop over episodes.

An episode (pregnancy enrollment) is looked at when it was delivered in the period or enrolled at some time in it,
for a woman whose record is not merged and was not closed before the period. Its visits are those linked to it,
plus the woman's unlinked visits dated between the enrollment's start and end.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from gongwei.spec.programs import maternal
from tests.plain.child import CLOSED

PROGRAMS = {"maternal": maternal}
TABLES = ["residents", "enrollments", "prenatal_visits", "postpartum_visits"]
FLAGS = ("managed", "delivered", "early_registered", "prenatal_5", "postpartum_visited", "system_managed")


def _belongs(visit: dict, episode: dict) -> bool:
    if visit["enrollment_id"] is not None:
        return visit["enrollment_id"] == episode["id"]
    return episode["start_date"] <= visit["service_date"] and (
        episode["end_date"] is None or visit["service_date"] <= episode["end_date"])


def state(tables: dict[str, list[dict]], program: str, period) -> dict[str, Counter]:
    spec = PROGRAMS[program]
    residents = {r["id"]: r for r in tables["residents"]}
    prenatal, postpartum = defaultdict(list), defaultdict(list)
    for v in tables["prenatal_visits"]:
        if not v["is_void"]:
            prenatal[v["resident_id"]].append(v)
    for v in tables["postpartum_visits"]:
        if not v["is_void"]:
            postpartum[v["resident_id"]].append(v)
    counts = {f: Counter() for f in FLAGS}
    for e in tables["enrollments"]:
        if e["program"] != spec.PROGRAM.value:
            continue
        woman = residents[e["resident_id"]]
        if woman["status"] == "merged" or woman["merged_into_id"] is not None:
            continue
        if woman["status"] in CLOSED and woman["status_date"] < period.start:
            continue
        delivery = e["delivery_date"]
        delivered = delivery is not None and period.start <= delivery <= period.end
        enrolled = e["start_date"] <= period.end and (e["end_date"] is None or e["end_date"] >= period.start)
        if not (delivered or enrolled):
            continue

        before_birth = [v for v in prenatal[e["resident_id"]]
                        if _belongs(v, e) and (delivery is None or v["service_date"] <= delivery)]
        reg_weeks = [v["gestational_weeks"] for v in before_birth if v["is_registration"]]
        flags = {
            "managed": enrolled,
            "delivered": delivered,
            "early_registered": delivered and bool(reg_weeks) and min(reg_weeks) < spec.EARLY_REGISTRATION_BEFORE_WEEKS,
            "prenatal_5": delivered and len({v["service_date"] for v in before_birth}) >= spec.MIN_PRENATAL_VISITS,
        }
        if delivered:
            home_from = e["discharge_date"] or delivery
            home_to = home_from + dt.timedelta(days=spec.POSTPARTUM_VISIT_WITHIN_DAYS)
            flags["postpartum_visited"] = any(
                _belongs(v, e) and v["visit_type"] in spec.POSTPARTUM_VISIT_TYPES and home_from <= v["service_date"] <= home_to
                for v in postpartum[e["resident_id"]])
        else:
            flags["postpartum_visited"] = False
        flags["system_managed"] = flags["early_registered"] and flags["prenatal_5"] and flags["postpartum_visited"]
        unit = woman["managing_unit_id"]
        for f, on in flags.items():
            if on:
                counts[f][unit] += 1
    return counts
