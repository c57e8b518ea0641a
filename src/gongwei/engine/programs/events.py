"""Unit-level programs: health education, notifiable-disease reporting, supervision assistance.

State rows are institutions, report cards or supervision records rather than people: ``resident_id`` is
null (or the patient of a report card) and ``managing_unit_id`` is the unit that keeps the record, so the
catalogue's roll-up counts each row once at its unit. Semantics are in :mod:`gongwei.spec.programs.education`,
:mod:`~gongwei.spec.programs.reporting` and :mod:`~gongwei.spec.programs.supervision`.
"""

from __future__ import annotations

import datetime as dt
from types import ModuleType

import ibis

from gongwei.engine.backends import Engine
from gongwei.spec.periods import Period
from gongwei.spec.programs import education, reporting, supervision
from gongwei.spec.vocab import SupervisionCategory, SupervisionKind

PROGRAMS = {"education": education, "reporting": reporting, "supervision": supervision}

SECONDS_PER_HOUR = 3600
SECONDS_PER_DAY = 86_400
EPOCH = dt.date(1970, 1, 1)


def evaluate(eng: Engine, spec: ModuleType, period: Period, units: list[int] | None = None) -> ibis.Table:
    if spec is education:
        return _education(eng, period, units)
    if spec is reporting:
        return _reporting(eng, period, units)
    if spec is supervision:
        return _supervision(eng, period, units)
    raise KeyError(spec.__name__)


def _institutions(eng: Engine, kinds: list[str], units: list[int] | None) -> ibis.Table:
    org = eng.table("org_units")
    org = org.filter(org.is_active & org.kind.isin(kinds))
    if units is not None:
        org = org.filter(org.id.isin(units))
    return org


# --- health education ------------------------------------------------------------------------------
def _education(eng: Engine, period: Period, units: list[int] | None) -> ibis.Table:
    minimums = education.MINIMUMS.for_year(period.year)
    org = _institutions(eng, sorted(education.INSTITUTION_CLASS), units)
    klass = ibis.cases(*[(org.kind == kind, c.value) for kind, c in education.INSTITUTION_CLASS.items()],
                       else_=ibis.null("string"))
    org = org.select(unit_id="id", institution_class=klass)
    a = eng.table("health_education_activities")
    a = a.filter((a.activity_date >= ibis.date(period.start)) & (a.activity_date <= ibis.date(period.end)))
    counts = a.group_by(a_unit="org_unit_id").aggregate(
        **{f"{k}_count": (a.kind == k).cast("int64").sum() for k in education.KINDS})
    s = org.left_join(counts, org.unit_id == counts.a_unit).drop("a_unit")
    cols = {"resident_id": ibis.null("int64"), "managing_unit_id": s.unit_id, "institution_class": s.institution_class}
    for k in education.KINDS:
        req = ibis.cases(*[(s.institution_class == c.value, education.required(m[k], period))
                           for c, m in minimums.items() if k in m], else_=0)
        count = s[f"{k}_count"].fill_null(0)
        cols[f"{k}_count"] = count
        cols[f"{k}_required"] = req
        cols[f"{k}_due"] = req > 0
        cols[f"{k}_met"] = (req > 0) & (count >= req)
        cols[f"gap_{k}_below"] = (req > 0) & (count < req)
    return s.select(**cols)


# --- notifiable-disease reporting ------------------------------------------------------------------
def _epoch(d: dt.date) -> int:
    """Seconds since the epoch (UTC) of local midnight starting ``d``."""
    return (d - EPOCH).days * SECONDS_PER_DAY - reporting.LOCAL_UTC_OFFSET_HOURS * SECONDS_PER_HOUR


def _reporting(eng: Engine, period: Period, units: list[int] | None) -> ibis.Table:
    return ibis.union(_cards(eng, period, units), _events(eng, period, units))


def _timeliness(s: ibis.Table, period: Period, found: str, reported: str) -> dict[str, ibis.Expr]:
    """On-time, delay, gap and due-date columns of reports with ``deadline_hours`` after ``found`` (a flag
    ``reported`` says whether a report exists)."""
    offset = reporting.LOCAL_UTC_OFFSET_HOURS * SECONDS_PER_HOUR
    passed = (s.deadline_epoch < _epoch(period.end + dt.timedelta(days=1))).fill_null(True)
    on_time = (s[reported] & (s.delay_seconds <= s.deadline_hours * SECONDS_PER_HOUR)).fill_null(False)
    due_day = ((s.deadline_epoch + offset) // SECONDS_PER_DAY).cast("int32")
    return {
        "on_time": s[found] & on_time,
        "delay_hours": ((s.delay_seconds + SECONDS_PER_HOUR - 1) // SECONDS_PER_HOUR).cast("int64"),
        "missing": s[found] & ~s[reported] & passed,
        "pending": s[found] & ~s[reported] & ~passed,
        "late": s[reported] & ~on_time,
        "due": ibis.cases((s[found] & ~s[reported], ibis.date(EPOCH) + due_day.as_interval("D")),
                          else_=ibis.null("date")),
    }


def _in_period(ts: ibis.ir.TimestampValue, period: Period) -> ibis.ir.BooleanValue:
    sec = ts.epoch_seconds()
    return (sec >= _epoch(period.start)) & (sec < _epoch(period.end + dt.timedelta(days=1)))


def _cards(eng: Engine, period: Period, units: list[int] | None) -> ibis.Table:
    deadlines = reporting.DEADLINE_HOURS.for_year(period.year)
    r = eng.table("infectious_disease_reports")
    if units is not None:
        r = r.filter(r.org_unit_id.isin(units))
    r = r.filter(_in_period(r.diagnosed_at, period))
    diag = r.diagnosed_at.epoch_seconds()
    hours = ibis.cases(*[(r.disease_class == cls, h) for cls, h in deadlines.items()],
                       else_=ibis.null("int64")).cast("int64")
    s = r.select(
        resident_id=r.resident_id,
        managing_unit_id=r.org_unit_id,
        disease_class=r.disease_class,
        event_type=ibis.null("string"),
        registered=ibis.literal(True),
        reported=r.reported_at.notnull(),
        deadline_hours=hours,
        deadline_epoch=(diag + hours * SECONDS_PER_HOUR).cast("int64"),
        delay_seconds=(r.reported_at.epoch_seconds() - diag).cast("int64"),
    )
    t = _timeliness(s, period, "registered", "reported")
    no = ibis.literal(False)
    return s.mutate(
        on_time=t["on_time"], delay_hours=t["delay_hours"],
        gap_not_reported=t["missing"], gap_report_pending=t["pending"], gap_late=t["late"], report_due=t["due"],
        event_found=no, event_reported=no, event_on_time=no,
        gap_event_not_reported=no, gap_event_pending=no, gap_event_late=no, event_report_due=ibis.null("date"),
        any_registered=ibis.literal(True), any_reported=s.reported,
    ).select(*REPORT_COLUMNS)


def _events(eng: Engine, period: Period, units: list[int] | None) -> ibis.Table:
    hours = reporting.EVENT_DEADLINE_HOURS.for_year(period.year)
    e = eng.table("emergency_event_reports")
    if units is not None:
        e = e.filter(e.org_unit_id.isin(units))
    e = e.filter(_in_period(e.found_at, period))
    found = e.found_at.epoch_seconds()
    s = e.select(
        resident_id=ibis.null("int64"),
        managing_unit_id=e.org_unit_id,
        disease_class=ibis.null("string"),
        event_type=e.event_type,
        event_found=ibis.literal(True),
        event_reported=e.reported_at.notnull(),
        deadline_hours=ibis.literal(hours).cast("int64"),
        deadline_epoch=(found + hours * SECONDS_PER_HOUR).cast("int64"),
        delay_seconds=(e.reported_at.epoch_seconds() - found).cast("int64"),
    )
    t = _timeliness(s, period, "event_found", "event_reported")
    no = ibis.literal(False)
    s = s.mutate(
        registered=no, reported=no, on_time=no, delay_hours=t["delay_hours"],
        gap_not_reported=no, gap_report_pending=no, gap_late=no, report_due=ibis.null("date"),
        event_on_time=t["on_time"],
        gap_event_not_reported=t["missing"], gap_event_pending=t["pending"], gap_event_late=t["late"],
        event_report_due=t["due"], any_registered=ibis.literal(True), any_reported=s.event_reported,
    )
    return s.select(*REPORT_COLUMNS)


# card rows and event rows share these columns, in this order (for the union)
REPORT_COLUMNS = (
    "resident_id", "managing_unit_id", "disease_class", "event_type", "registered", "reported", "deadline_hours",
    "deadline_epoch", "delay_seconds", "on_time", "delay_hours", "gap_not_reported", "gap_report_pending",
    "gap_late", "report_due", "event_found", "event_reported", "event_on_time", "gap_event_not_reported",
    "gap_event_pending", "gap_event_late", "event_report_due", "any_registered", "any_reported",
)


# --- supervision assistance ------------------------------------------------------------------------
def _supervision(eng: Engine, period: Period, units: list[int] | None) -> ibis.Table:
    r = eng.table("supervision_reports")
    if units is not None:
        r = r.filter(r.org_unit_id.isin(units))
    r = r.filter((r.report_date >= ibis.date(period.start)) & (r.report_date <= ibis.date(period.end)))
    zh = {c.value: c.zh for c in SupervisionCategory}

    def category_zh(col: ibis.ir.StringValue) -> ibis.ir.StringValue:
        return ibis.cases(*[(col == code, label) for code, label in zh.items()], else_=col)

    clues = r.filter(r.clue_found)
    clue_rows = clues.select(
        resident_id=ibis.null("int64"), managing_unit_id=clues.org_unit_id, category=clues.category,
        category_zh=category_zh(clues.category),
        clue_found=ibis.literal(True), clue_reported=clues.reported,
        patrol_due=ibis.literal(False), patrol_met=ibis.literal(False),
        patrols=ibis.literal(0).cast("int64"), patrols_required=ibis.literal(0).cast("int64"),
        gap_clue_not_reported=~clues.reported, gap_patrols_below=ibis.literal(False),
    )
    required = supervision.patrols_required(period)
    patrols = r.filter(r.kind == SupervisionKind.PATROL.value)
    counts = patrols.group_by(p_unit="org_unit_id", p_cat="category").aggregate(n=patrols.count())
    org = _institutions(eng, list(supervision.SUPERVISING_KINDS), units)
    areas = ibis.union(*[org.select(a_unit="id", a_cat=ibis.literal(c)) for c in supervision.CATEGORIES])
    a = areas.left_join(counts, (areas.a_unit == counts.p_unit) & (areas.a_cat == counts.p_cat))
    n = a.n.fill_null(0).cast("int64")
    area_rows = a.select(
        resident_id=ibis.null("int64"), managing_unit_id=a.a_unit, category=a.a_cat, category_zh=category_zh(a.a_cat),
        clue_found=ibis.literal(False), clue_reported=ibis.literal(False),
        patrol_due=ibis.literal(required > 0), patrol_met=ibis.literal(required > 0) & (n >= required),
        patrols=n, patrols_required=ibis.literal(required).cast("int64"),
        gap_clue_not_reported=ibis.literal(False), gap_patrols_below=ibis.literal(required > 0) & (n < required),
    )
    return ibis.union(clue_rows, area_rows)
