"""Resident health records (R1–R5) the plain way: one loop over the basic-information forms."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from gongwei.spec.programs import records
from tests.plain.elderly import reference_day

PROGRAMS = {"records": records}
TABLES = ["residents", "health_records", "enrollments", *records.DYNAMIC_USE_SERVICES]
CLOSED = {"dead", "moved_out", "lost", "refused"}


def blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def served_between(tables, names, first: dt.date, last: dt.date) -> set[int]:
    return {row["resident_id"] for name in names for row in tables[name]
            if not row["is_void"] and first <= row["service_date"] <= last}


def state(tables: dict[str, list[dict]], program: str, period) -> dict[str, Counter]:
    spec = PROGRAMS[program]
    std = spec.STANDARD.for_year(period.year)
    residents = {r["id"]: r for r in tables["residents"]}
    used = served_between(tables, spec.DYNAMIC_USE_SERVICES,
                          period.end - dt.timedelta(days=spec.DYNAMIC_USE_DAYS - 1), period.end)
    examined = served_between(tables, ["health_examinations"],
                              period.end - dt.timedelta(days=std.exam_window_days - 1), period.end)
    patients = {e["resident_id"] for e in tables["enrollments"] if e["program"] in std.key_programs
                and e["start_date"] <= period.end and (e["end_date"] is None or e["end_date"] >= period.start)}
    ref = reference_day(period)
    counts = {f: Counter() for f in ("recorded", "recorded_person", "electronic", "standardized", "in_use", "valid")}
    rows = []
    for form in tables["health_records"]:
        person = residents[form["resident_id"]]
        if form["created_on"] > period.end:
            continue
        if person["status"] in CLOSED and person["status_date"] <= period.end:
            continue
        if spec.USUAL_RESIDENTS_ONLY and not person["usual_resident"]:
            continue
        rows.append((form, person))
    # exact duplicates: a later active record with an identity key already seen (when snapshots carry one)
    duplicates = set()
    if rows and "id_key" in rows[0][1]:
        first_of: dict[str, tuple] = {}
        for _form, person in sorted(rows, key=lambda fp: (fp[0]["created_on"], fp[1]["id"])):
            key = person["id_key"]
            merged = person["status"] == "merged" or person["merged_into_id"] is not None
            if merged or blank(key):
                continue
            if key in first_of:
                duplicates.add(person["id"])
            else:
                first_of[key] = person["id"]
    for form, person in rows:
        unit = person["managing_unit_id"]
        counts["recorded"][unit] += 1
        if form["is_electronic"]:
            counts["electronic"][unit] += 1
        if person["id"] in used:
            counts["in_use"][unit] += 1
        duplicate = person["status"] == "merged" or person["merged_into_id"] is not None or person["id"] in duplicates
        if not duplicate:
            counts["valid"][unit] += 1
            counts["recorded_person"][unit] += 1  # R1 counts each person once: their one non-duplicate record
        complete = True
        for name in std.required_fields:
            if name == "id_number":
                complete &= person["id_status"] != "missing"
            elif name in person:
                complete &= not blank(person[name])
            elif name in form:
                complete &= not blank(form[name])
            # anything else (the phone) is not in the snapshot and cannot be checked
        if std.exam_for_key_populations:
            key_person = age_on(person["birth_date"], ref) >= std.key_min_age or person["id"] in patients
            if key_person and person["id"] not in examined:
                complete = False
        if std.electronic and not form["is_electronic"]:
            complete = False
        if std.exclude_duplicates and duplicate:
            complete = False
        if complete:
            counts["standardized"][unit] += 1
    return counts
