"""Health education, reporting and supervision the plain way: loops over institutions, cards and records."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from gongwei.spec.programs import education, reporting, supervision

PROGRAMS = {"education": education, "reporting": reporting, "supervision": supervision}
TABLES = ["org_units", "health_education_activities", "infectious_disease_reports", "supervision_reports",
          "emergency_event_reports"]


def state(tables: dict[str, list[dict]], program: str, period) -> dict[str, Counter]:
    return {"education": _education, "reporting": _reporting, "supervision": _supervision}[program](tables, period)


def months_completed(period) -> int:
    """Whole months of the period's year completed by its last day (31 Dec → 12, 30 Jun → 6, 15 Jun → 5)."""
    end = period.end
    last_day_of_month = (end + dt.timedelta(days=1)).day == 1
    return end.month if last_day_of_month else end.month - 1


def required_so_far(per_year: int, period) -> int:
    """A yearly minimum owed by the period end: whole activities only, rounded down."""
    return per_year * months_completed(period) // 12


def _education(tables, period) -> dict[str, Counter]:
    minimums = education.MINIMUMS.for_year(period.year)
    held = defaultdict(Counter)
    for a in tables["health_education_activities"]:
        if period.start <= a["activity_date"] <= period.end:
            held[a["org_unit_id"]][a["kind"]] += 1
    counts = defaultdict(Counter)
    for unit in tables["org_units"]:
        klass = education.INSTITUTION_CLASS.get(unit["kind"])
        if klass is None or not unit["is_active"]:
            continue
        for kind, minimum in minimums[klass].items():
            need = required_so_far(minimum, period)
            if need > 0:
                counts[f"{kind}_due"][unit["id"]] += 1
                if held[unit["id"]][kind] >= need:
                    counts[f"{kind}_met"][unit["id"]] += 1
    return {f"{k}_{w}": counts[f"{k}_{w}"] for k in education.KINDS for w in ("due", "met")}


def _reporting(tables, period) -> dict[str, Counter]:
    local = dt.timedelta(hours=reporting.LOCAL_UTC_OFFSET_HOURS)
    hours = reporting.DEADLINE_HOURS.for_year(period.year)
    counts = {f: Counter() for f in ("registered", "reported", "on_time", "event_found", "event_reported",
                                     "event_on_time", "any_registered", "any_reported")}
    for card in tables["infectious_disease_reports"]:
        diagnosed = card["diagnosed_at"]
        if not period.start <= (diagnosed + local).date() <= period.end:
            continue
        unit = card["org_unit_id"]
        counts["registered"][unit] += 1
        counts["any_registered"][unit] += 1
        if card["reported_at"] is None:
            continue
        counts["reported"][unit] += 1
        counts["any_reported"][unit] += 1
        if card["reported_at"] - diagnosed <= dt.timedelta(hours=hours[card["disease_class"]]):
            counts["on_time"][unit] += 1
    # public-health emergencies: found in the period (local date), reported, reported within the event deadline
    event_hours = reporting.EVENT_DEADLINE_HOURS.for_year(period.year)
    for event in tables["emergency_event_reports"]:
        found = event["found_at"]
        if not period.start <= (found + local).date() <= period.end:
            continue
        unit = event["org_unit_id"]
        counts["event_found"][unit] += 1
        counts["any_registered"][unit] += 1
        if event["reported_at"] is None:
            continue
        counts["event_reported"][unit] += 1
        counts["any_reported"][unit] += 1
        if event["reported_at"] - found <= dt.timedelta(hours=event_hours):
            counts["event_on_time"][unit] += 1
    return counts


def _supervision(tables, period) -> dict[str, Counter]:
    need = required_so_far(supervision.PATROLS_PER_YEAR.for_year(period.year), period)
    counts = {f: Counter() for f in ("clue_found", "clue_reported", "patrol_due", "patrol_met")}
    patrols = Counter()
    for r in tables["supervision_reports"]:
        if not period.start <= r["report_date"] <= period.end:
            continue
        if r["clue_found"]:
            counts["clue_found"][r["org_unit_id"]] += 1
            if r["reported"]:
                counts["clue_reported"][r["org_unit_id"]] += 1
        if r["kind"] == "patrol":
            patrols[(r["org_unit_id"], r["category"])] += 1
    for unit in tables["org_units"]:
        if unit["kind"] not in supervision.SUPERVISING_KINDS or not unit["is_active"] or need == 0:
            continue
        for category in supervision.CATEGORIES:
            counts["patrol_due"][unit["id"]] += 1
            if patrols[(unit["id"], category)] >= need:
                counts["patrol_met"][unit["id"]] += 1
    return counts
