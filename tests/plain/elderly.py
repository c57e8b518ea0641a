"""Elderly health management and elderly TCM the plain way: age in completed years, then a look at each exam.

Who counts: residents aged 65+ in the records at the period end; and, for the population-base rates, residents
closed during the period who were served on or before their closing date (SERVED_THEN_CLOSED_COUNT)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from gongwei.spec import constitution
from gongwei.spec.programs import elderly, records, tcm

PROGRAMS = {"elderly": elderly, "elderly_tcm": tcm}
TABLES = ["residents", "health_examinations", "tcm_constitutions"]
CLOSED = {"dead", "moved_out", "lost", "refused"}


def age_on(birth, day) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def reference_day(period) -> dt.date:
    """The day age is counted at, read from the rulebook's AGE_REFERENCE for the year."""
    ref = elderly.AGE_REFERENCE.for_year(period.year).value
    if ref == "year_start":
        return dt.date(period.year, 1, 1)
    if ref == "period_end":
        return period.end
    return dt.date(period.year, 12, 31)


def questionnaire_complete(text) -> bool:
    """33 answers, each a digit from the rulebook's answer range."""
    text = (text or "").strip()
    low, high = constitution.MIN_ANSWER, constitution.MAX_ANSWER
    return len(text) == constitution.QUESTION_COUNT and all(c.isdigit() and low <= int(c) <= high for c in text)


def in_records_at_end(person, period) -> bool:
    if person["status"] == "merged" or person["merged_into_id"] is not None:
        return False
    if person["status"] in CLOSED and person["status_date"] <= period.end:
        return False
    return person["usual_resident"] or not records.USUAL_RESIDENTS_ONLY


def closed_in_period(person, period) -> bool:
    if person["status"] == "merged" or person["merged_into_id"] is not None:
        return False
    if person["status"] not in CLOSED or not period.start <= person["status_date"] <= period.end:
        return False
    return person["usual_resident"] or not records.USUAL_RESIDENTS_ONLY


def elderly_people(tables, period, closed_count: bool) -> tuple[dict[int, int], dict[int, dt.date], set[int]]:
    """(resident id → managing unit, resident id → last day a service counts, ids in the records at the end) for
    residents aged 65+: those in the records (served up to the period end) and, with ``closed_count``, those
    closed in the period (served up to their closing date)."""
    ref = reference_day(period)
    unit, until, on_record = {}, {}, set()
    for p in tables["residents"]:
        if age_on(p["birth_date"], ref) < elderly.MIN_AGE:
            continue
        if in_records_at_end(p, period):
            unit[p["id"]], until[p["id"]] = p["managing_unit_id"], period.end
            on_record.add(p["id"])
        elif closed_count and closed_in_period(p, period):
            unit[p["id"]], until[p["id"]] = p["managing_unit_id"], p["status_date"]
    return unit, until, on_record


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def item_recorded(exam, item) -> bool:
    filled = [not is_blank(exam[f]) and exam[f] not in item.not_done for f in item.fields]
    return any(filled) if item.any_field else all(filled)


def served(row, people, until, period) -> bool:
    rid = row["resident_id"]
    return (rid in people and not row["is_void"]
            and period.start <= row["service_date"] <= min(period.end, until[rid]))


def state(tables: dict[str, list[dict]], program: str, period) -> dict[str, Counter]:
    if program == "elderly_tcm":
        people, until, on_record = elderly_people(tables, period, tcm.SERVED_THEN_CLOSED_COUNT)
        done = set()
        for form in tables["tcm_constitutions"]:
            if (served(form, people, until, period) and questionnaire_complete(form["answers"])
                    and (form["guidance_given"] or not tcm.GUIDANCE_REQUIRED)):
                done.add(form["resident_id"])
        return {"aged_65_plus": Counter(people[r] for r in on_record), "managed": Counter(people[r] for r in done),
                "counted": Counter(people[r] for r in on_record | done)}
    people, until, on_record = elderly_people(tables, period, elderly.SERVED_THEN_CLOSED_COUNT)
    # recordable items only: an item with no field cannot be judged
    items = [item for section in elderly.PACKAGE.for_year(period.year) for item in section.items if item.fields]
    examined, complete = set(), set()
    for exam in tables["health_examinations"]:
        if not served(exam, people, until, period):
            continue
        examined.add(exam["resident_id"])
        if all(item_recorded(exam, item) for item in items):
            complete.add(exam["resident_id"])
    return {"aged_65_plus": Counter(people[r] for r in on_record),
            "examined": Counter(people[r] for r in examined),
            "examined_in_records": Counter(people[r] for r in examined & on_record),
            "standardized": Counter(people[r] for r in complete),
            "counted": Counter(people[r] for r in on_record | complete)}

