"""The worklist rules of the chronic programs for ONE person, on that person's own rows.

The record page must show what is due the moment a follow-up is saved, without the whole region's state tables
(which are computed on a snapshot, so they lag the database). This module evaluates the same rules as
:func:`gongwei.engine.programs.chronic.evaluate` — cohort window, quarterly requirement (``with_requirements``),
counted visits (``effective_visits``), ``next_visit_due``, ``recheck_due`` and ``exam_due`` — in plain Python on
the handful of rows one person has, reading the same rulebook objects (``FOLLOW_UP``, ``NEXT_VISIT_DAYS``,
``CONTROL``, ``MIN_AGE``). ``tests/test_encounters.py`` checks it against the engine's state table for every
person of a region, so the two cannot drift apart unnoticed.

No Django: the caller passes plain values (the service reads them from the database).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import ModuleType

from gongwei.spec.followup import BloodPressureTarget
from gongwei.spec.periods import Period, parse

QUARTER_ENDS = ((3, 31), (6, 30), (9, 30), (12, 31))


@dataclass(frozen=True)
class Visit:
    service_date: dt.date
    mode: str
    classification: str = ""
    sbp: int | None = None
    dbp: int | None = None
    fasting_glucose: object = None
    pk: int = 0  # ties on one day: the later row is the last one, as in the engine


@dataclass(frozen=True)
class Enrolment:
    start_date: dt.date
    end_date: dt.date | None


@dataclass(frozen=True)
class DueItem:
    program: str
    service: str  # ScheduledService.key
    name: str
    due_date: dt.date
    gap: str = ""


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _measured(spec: ModuleType, v: Visit) -> bool:
    if not hasattr(spec, "CONTROL"):
        return True
    if isinstance(spec.CONTROL.for_year(2100), BloodPressureTarget):
        return v.sbp is not None and v.dbp is not None
    return v.fasting_glucose is not None


def chronic_due(spec: ModuleType, as_of: dt.date, *, enrolments: list[Enrolment], visits: list[Visit],
                exam_dates: list[dt.date], birth_date: dt.date | None = None,
                closed_on: dt.date | None = None) -> list[DueItem]:
    """The due dates of ``spec``'s SCHEDULE for one person at the end of ``as_of`` (the year to that day), by the
    engine's rules. ``closed_on``: the closing date of a closed record (a record closed before the year: none)."""
    period: Period = parse(as_of.isoformat())
    start, end = period.start, period.end
    year = end.year
    program = spec.PROGRAM.value
    start_year = getattr(spec, "START_YEAR", None)
    if start_year is not None and period.year < start_year:
        return []
    spans = [e for e in enrolments if e.start_date <= end and (e.end_date is None or e.end_date >= start)]
    if not spans or (closed_on is not None and closed_on < start):
        return []
    open_ended = dt.date(9999, 12, 31)
    enrolled_from = min(e.start_date for e in spans)
    enrolled_to = max(e.end_date or end for e in spans)
    enrolled_to_open = max(e.end_date or open_ended for e in spans)
    window_from = max(enrolled_from, start)
    window_to = min(enrolled_to, end, closed_on or end)
    year_end = dt.date(year, 12, 31)
    window_to_full = min(enrolled_to_open, year_end, closed_on or year_end)
    min_age = getattr(spec, "MIN_AGE", None)
    if min_age is not None and birth_date is not None and _age(birth_date, window_to) < min_age:
        return []
    req = spec.FOLLOW_UP.for_year(period.year)

    # visits due by each quarter end of the year (chronic.with_requirements)
    through, cumulative = [], 0
    for mm, dd in QUARTER_ENDS:
        qend = dt.date(year, mm, dd)
        cumulative += int(window_from <= qend <= window_to_full and qend >= start)
        through.append((cumulative * req.min_visits) // 4)

    in_period = [v for v in visits if start <= v.service_date <= end]
    counted = [v for v in in_period if v.mode in req.counted_modes]
    if req.needs_measurement:
        counted = [v for v in counted if getattr(v, req.needs_measurement) is not None]
    days = sorted({v.service_date for v in counted})
    if req.min_interval_days:
        kept, prev = [], None
        for d in days:  # the engine compares with the previous recorded day, kept or not
            if prev is None or prev + dt.timedelta(days=req.min_interval_days) <= d:
                kept.append(d)
            prev = d
        days = kept
    per_quarter = [sum(1 for d in days if d.year == year and (d.month - 1) // 3 == q) for q in range(4)]
    done = sum(min(n, req.per_quarter_cap) for n in per_quarter) if req.spread_by_quarter else len(days)

    due: dict[str, dt.date | None] = {}
    due["next_visit_due"] = next((dt.date(year, *QUARTER_ENDS[q]) for q in range(4) if through[q] > done), None)
    measured = sorted((v for v in in_period if _measured(spec, v)), key=lambda v: (v.service_date, v.pk))
    next_days = getattr(spec, "NEXT_VISIT_DAYS", {}) or {}
    longest = max(next_days.values()) if next_days else 0
    recheck = {str(k): d for k, d in next_days.items() if d < longest}
    due["recheck_due"] = None
    if measured and measured[-1].classification in recheck:
        last = measured[-1]
        due["recheck_due"] = last.service_date + dt.timedelta(days=recheck[last.classification])
    exams = [d for d in exam_dates if dt.date(year, 1, 1) <= d <= end]
    due["exam_due"] = year_end if not exams and req.annual_exam else None
    out = []
    for s in getattr(spec, "SCHEDULE", ()):
        d = due.get(s.due_column)
        if d is not None:
            out.append(DueItem(program, s.key, s.name, d, s.gap or ""))
    return out
