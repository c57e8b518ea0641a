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
FLAGS = ("managed", "delivered", "early_registered", "prenatal_5", "postpartum_visited", "system_managed",
         "effectively_managed", "closed_42d")


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
        flags.update(_service_rates(spec, e, woman, before_birth,
                                    [v for v in postpartum[e["resident_id"]] if _belongs(v, e)], enrolled, period))
        unit = woman["managing_unit_id"]
        for f, on in flags.items():
            if on:
                counts[f][unit] += 1
    return counts


def _service_rates(spec, e, woman, before_birth, pp_visits, enrolled, period) -> dict[str, bool]:
    """M5: managed, registered, and every service whose deadline passed by the period end (while she was still
    in the records) was done. M6: closed in the period with a 42-day check on or before the closing day."""
    if not enrolled:
        return {"effectively_managed": False, "closed_42d": False}
    closed_on = woman["status_date"] if woman["status"] in CLOSED else None

    def owed(deadline) -> bool:  # due by the period end, and she was still in the records then
        return deadline <= period.end and (closed_on is None or deadline <= closed_on)

    delivery, lmp = e["delivery_date"], e["lmp_date"]
    registered = any(v["is_registration"] for v in before_birth)
    ok = registered
    if lmp is not None:
        for i, c in enumerate(spec.PRENATAL_CONTACTS):
            deadline = lmp + dt.timedelta(days=(c.last_week + 1) * 7 - 1)
            still_pregnant = (delivery is None or delivery > deadline) and (
                e["end_date"] is None or e["end_date"] >= deadline)
            if i == 0:
                done = registered
            else:
                done = any(c.first_week <= v["gestational_weeks"] <= c.last_week for v in before_birth
                           if v["gestational_weeks"] is not None)
            if still_pregnant and not done and owed(deadline):
                ok = False
    checks = [v["service_date"] for v in pp_visits if v["visit_type"] == "check_42d"
              and delivery is not None and v["service_date"] >= delivery]
    if delivery is not None and delivery <= period.end:
        home_from = e["discharge_date"] or delivery
        home_to = home_from + dt.timedelta(days=spec.POSTPARTUM_VISIT_WITHIN_DAYS)
        visited = any(v["visit_type"] in spec.POSTPARTUM_VISIT_TYPES and home_from <= v["service_date"] <= home_to
                      for v in pp_visits)
        if not visited and owed(home_to):
            ok = False
        check_by = delivery + dt.timedelta(days=spec.POSTPARTUM_CHECK_DAY + spec.POSTPARTUM_CHECK_WINDOW.after_days)
        if not checks and owed(check_by):
            ok = False
    end = e["end_date"]
    closed = end is not None and period.start <= end <= period.end
    return {"effectively_managed": ok, "closed_42d": closed and any(day <= end for day in checks)}
