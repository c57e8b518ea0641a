"""Elderly health management and elderly TCM the plain way: age in completed years, then a look at each exam."""

from __future__ import annotations

from collections import Counter

from gongwei.spec import constitution
from gongwei.spec.programs import elderly, records, tcm

PROGRAMS = {"elderly": elderly, "elderly_tcm": tcm}
TABLES = ["residents", "health_examinations", "tcm_constitutions"]
CLOSED = {"dead", "moved_out", "lost", "refused"}


def age_on(birth, day) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def in_records_at_end(person, period) -> bool:
    if person["status"] == "merged" or person["merged_into_id"] is not None:
        return False
    if person["status"] in CLOSED and person["status_date"] <= period.end:
        return False
    return person["usual_resident"] or not records.USUAL_RESIDENTS_ONLY


def elderly_people(tables, period) -> dict[int, int]:
    """resident id → managing unit, for residents in the records aged 65+ at the reference date."""
    ref = elderly.reference_date(period)
    return {p["id"]: p["managing_unit_id"] for p in tables["residents"]
            if in_records_at_end(p, period) and age_on(p["birth_date"], ref) >= elderly.MIN_AGE}


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def item_recorded(exam, item) -> bool:
    filled = [not is_blank(exam[f]) and exam[f] not in item.not_done for f in item.fields]
    return any(filled) if item.any_field else all(filled)


def state(tables: dict[str, list[dict]], program: str, period) -> dict[str, Counter]:
    people = elderly_people(tables, period)
    if program == "elderly_tcm":
        done = set()
        for form in tables["tcm_constitutions"]:
            if (form["resident_id"] in people and not form["is_void"]
                    and period.start <= form["service_date"] <= period.end
                    and constitution.is_complete(form["answers"])
                    and (form["guidance_given"] or not tcm.GUIDANCE_REQUIRED)):
                done.add(form["resident_id"])
        return {"aged_65_plus": Counter(people.values()), "managed": Counter(people[r] for r in done)}
    package = elderly.PACKAGE.for_year(period.year)
    examined, complete = set(), set()
    for exam in tables["health_examinations"]:
        rid = exam["resident_id"]
        if rid not in people or exam["is_void"] or not period.start <= exam["service_date"] <= period.end:
            continue
        examined.add(rid)
        if all(item_recorded(exam, item) for section in package for item in section.items):
            complete.add(rid)
    return {"aged_65_plus": Counter(people.values()), "examined": Counter(people[r] for r in examined),
            "standardized": Counter(people[r] for r in complete)}
