"""Temporal rules ([exam-form-2017] D): T-01 … T-08, vectorised on Ibis.

Dates of services are local (China Standard Time) calendar dates; ``entered_at`` is a UTC timestamp, so it is
turned into a local date by whole-second arithmetic (as :mod:`gongwei.engine.programs.events` does) rather than
by a backend's time-zone setting. The helpers here (local dates, the union of encounter tables, staff labels)
are shared with :mod:`gongwei.engine.quality.fabrication`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import ibis
import pyarrow as pa

from gongwei.engine.programs import chronic
from gongwei.engine.quality import ENCOUNTER_TABLES, Check, Evaluator
from gongwei.spec.programs import diabetes, hypertension
from gongwei.spec.programs.reporting import LOCAL_UTC_OFFSET_HOURS
from gongwei.spec.vocab import CLOSED_STATUSES, FACE_TO_FACE_MODES, Program, ResidentStatus

EPOCH = dt.date(1970, 1, 1)
SECONDS_PER_DAY = 86_400
OFFSET_SECONDS = LOCAL_UTC_OFFSET_HOURS * 3_600

# verbose names of the encounter models (records.models), for messages; the engine does not import Django
TABLE_ZH = {
    "health_examinations": "健康体检", "chronic_follow_ups": "慢病随访", "smi_follow_ups": "严重精神障碍随访",
    "tb_follow_ups": "肺结核随访", "newborn_visits": "新生儿访视", "child_checks": "儿童健康检查",
    "prenatal_visits": "产前检查", "postpartum_visits": "产后访视", "vaccinations": "预防接种",
    "tcm_constitutions": "老年人中医体质辨识", "child_tcm_guidance": "儿童中医药健康指导",
}
# follow-ups presuppose an enrolment: one dated before its enrolment's start is impossible (T-02). Other
# enrolled encounters (newborn visits, exams) may legitimately precede the enrolment they are filed under.
FOLLOW_UP_TABLES = ("chronic_follow_ups", "smi_follow_ups", "tb_follow_ups")
# the programs whose follow-ups have visit classes, a 2-week recheck and a yearly visit count
CLASSIFIED_PROGRAMS = {Program.HYPERTENSION.value: hypertension, Program.DIABETES.value: diabetes}


# --- shared helpers ---------------------------------------------------------------------------------------
def local_date(ts: ibis.ir.TimestampValue) -> ibis.ir.DateValue:
    """The China-Standard-Time calendar date of a UTC timestamp."""
    day = ((ts.epoch_seconds() + OFFSET_SECONDS) // SECONDS_PER_DAY).cast("int32")
    return ibis.date(EPOCH) + day.as_interval("D")


def local_minute(ts: ibis.ir.TimestampValue) -> ibis.ir.StringValue:
    """``YYYY-MM-DD HH:MM`` in China Standard Time (both backends run their sessions in UTC)."""
    return (ts + ibis.interval(hours=LOCAL_UTC_OFFSET_HOURS)).strftime("%Y-%m-%d %H:%M")


def snapshot_day(check: Check) -> dt.date:
    """The local date the snapshot was taken: "today" for the data being checked."""
    taken = dt.datetime.fromisoformat(check.eng.snapshot.taken_at)
    if taken.tzinfo is None:
        taken = taken.replace(tzinfo=dt.UTC)
    return (taken.astimezone(dt.UTC) + dt.timedelta(hours=LOCAL_UTC_OFFSET_HOURS)).date()


def base(t: ibis.Table, name: str) -> dict[str, ibis.Value]:
    """The four columns every finding carries, for an encounter row."""
    return {"table": ibis.literal(name), "record_id": t.id, "resident_id": t.resident_id,
            "org_unit_id": t.org_unit_id}


def union(parts: list[ibis.Table]) -> ibis.Table:
    return parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)


def encounters(check: Check, tables: tuple[str, ...] = ENCOUNTER_TABLES) -> ibis.Table:
    """Every in-period, non-void encounter of ``tables`` in one table: the finding columns plus
    ``provider_id``, ``service_date``, ``entered_at`` and ``table_name`` (Chinese)."""
    parts = []
    for name in tables:
        s = check.services(name)
        parts.append(s.select(**base(s, name), provider_id=s.provider_id, service_date=s.service_date,
                              entered_at=s.entered_at, table_name=ibis.literal(TABLE_ZH.get(name, name))))
    return union(parts)


def staff_labels(check: Check) -> ibis.Table:
    """``staff_id``, ``staff_unit_id`` and ``provider`` (name（工号）) of every staff account."""
    st = check.eng.table("staff")
    return st.select(staff_id=st.id, staff_unit_id=st.org_unit_id,
                     provider=st.name.concat("（", st.code, "）"))


def residents(check: Check) -> ibis.Table:
    r = check.eng.table("residents")
    return r.select(rid=r.id, birth_date=r.birth_date, status=r.status, status_date=r.status_date)


def vocab_zh(col: ibis.ir.StringValue, vocab: dict[str, str]) -> ibis.ir.StringValue:
    return ibis.cases(*[(col == code, zh) for code, zh in vocab.items()], else_=col)


# --- T-01 service date in the future ----------------------------------------------------------------------
def t01_future(check: Check) -> ibis.Table:
    today = snapshot_day(check)
    e = encounters(check)
    entered_on = local_date(e.entered_at)
    late = (e.service_date > ibis.date(today)) | (e.service_date > entered_on).fill_null(False)
    e = e.mutate(entered_on=entered_on).filter(late)
    return e.select("table", "record_id", "resident_id", "org_unit_id", "service_date", "entered_on",
                    today=ibis.date(today))


# --- T-02 service date before birth / enrolment (/ record creation) --------------------------------------
def t02_before_start(check: Check) -> ibis.Table:
    against = set(check.params.get("against", ("birth", "enrollment")))
    res = residents(check)
    hr = check.eng.table("health_records")
    hr = hr.select(hr_rid=hr.resident_id, created_on=hr.created_on)
    enr = check.eng.table("enrollments")
    enr = enr.select(eid=enr.id, enrolled_on=enr.start_date)
    parts = []
    for name in ENCOUNTER_TABLES:
        use_enrollment = "enrollment" in against and name in FOLLOW_UP_TABLES
        s = check.services(name)
        s = s.join(res, s.resident_id == res.rid)
        if "record" in against:
            s = s.left_join(hr, s.resident_id == hr.hr_rid)
        if use_enrollment:
            s = s.left_join(enr, s.enrollment_id == enr.eid)
        reasons = []
        if "birth" in against:
            reasons.append((s.birth_date, "出生日期"))
        if "record" in against:
            reasons.append((s.created_on, "建档日期"))
        if use_enrollment:
            reasons.append((s.enrolled_on, "纳入管理日期"))
        if not reasons:
            continue
        hits = [(s.service_date < ref).fill_null(False) for ref, _ in reasons]
        s = s.mutate(
            what=ibis.cases(*[(h, zh) for h, (_, zh) in zip(hits, reasons, strict=True)], else_=ibis.null("string")),
            ref_date=ibis.cases(*[(h, ref) for h, (ref, _) in zip(hits, reasons, strict=True)],
                                else_=ibis.null("date")),
        )
        s = s.filter(s.what.notnull())
        parts.append(s.select(**base(s, name), service_date=s.service_date, what=s.what, ref_date=s.ref_date))
    if not parts:
        raise ValueError(f"T-02 的参数 against={sorted(against)} 没有可比较的日期（可选 birth、record、enrollment）")
    return union(parts)


# --- T-03 / T-03b services on or after the record was closed ----------------------------------------------
def _after_closing(check: Check, statuses: list[str]) -> ibis.Table:
    res = residents(check)
    res = res.filter(res.status.isin(statuses) & res.status_date.notnull())
    e = encounters(check)
    e = e.join(res, e.resident_id == res.rid)
    e = e.filter(e.service_date >= e.status_date)
    status_zh = {s.value: s.zh for s in ResidentStatus}
    return e.select("table", "record_id", "resident_id", "org_unit_id", "service_date", "table_name",
                    "status_date", status_name=vocab_zh(e.status, status_zh))


def t03_after_death(check: Check) -> ibis.Table:
    return _after_closing(check, [ResidentStatus.DEAD.value])


def t03b_after_closing(check: Check) -> ibis.Table:
    return _after_closing(check, sorted(s.value for s in CLOSED_STATUSES if s != ResidentStatus.DEAD))


# --- T-04 face-to-face follow-ups too close together ------------------------------------------------------
def classified_follow_ups(check: Check) -> ibis.Table:
    """Non-void HTN/DM follow-ups of any date (a visit early in the period is compared with one before it)."""
    fu = check.eng.table("chronic_follow_ups")
    return fu.filter(~fu.is_void & fu.program.isin(sorted(CLASSIFIED_PROGRAMS)))


def recheck_classes(program: str) -> list[str]:
    """Visit classes after which the program's spec asks for a recheck sooner than the routine visit."""
    days = CLASSIFIED_PROGRAMS[program].NEXT_VISIT_DAYS
    return sorted(str(c) for c, d in days.items() if d < max(days.values()))


def t04_too_dense(check: Check) -> ibis.Table:
    min_days = int(check.params["min_days"])
    fu = classified_follow_ups(check)
    fu = fu.filter(fu.mode.isin(sorted(FACE_TO_FACE_MODES)))
    w = ibis.window(group_by=[fu.resident_id, fu.program], order_by=[fu.service_date, fu.id])
    fu = fu.mutate(previous_date=fu.service_date.lag().over(w), previous_class=fu.classification.lag().over(w),
                   previous_referral=fu.referral.lag().over(w))
    fu = fu.mutate(days=fu.service_date.delta(fu.previous_date, unit="day"))
    recheck = ibis.cases(*[(fu.program == p, fu.previous_class.isin(recheck_classes(p))) for p in CLASSIFIED_PROGRAMS],
                         else_=False)
    fu = fu.filter(check.in_period(fu) & fu.previous_date.notnull() & (fu.days < min_days)
                   & ~recheck.fill_null(False) & ~fu.previous_referral.fill_null(False))
    return fu.select(**base(fu, "chronic_follow_ups"), service_date=fu.service_date, previous_date=fu.previous_date,
                     days=fu.days)


# --- T-05 too few face-to-face follow-ups in the period ---------------------------------------------------
def t05_too_sparse(check: Check) -> ibis.Table:
    """Per managed HTN/DM patient and program: face-to-face visits below ``min_visits`` pro-rated by the
    quarters the patient was enrolled in the period (the H2/D2 rule of :mod:`gongwei.engine.programs.chronic`)."""
    period, eng = check.period, check.eng
    start, end = ibis.date(period.start), ibis.date(period.end)
    parts = []
    for program, spec in CLASSIFIED_PROGRAMS.items():
        req = dataclasses.replace(spec.FOLLOW_UP.for_year(period.year), min_visits=int(check.params["min_visits"]))
        people = chronic.with_requirements(chronic.cohort(eng, program, period, None), req, period)
        fu = eng.table("chronic_follow_ups")
        fu = fu.filter((fu.program == program) & ~fu.is_void & check.in_period(fu)
                       & fu.mode.isin(sorted(req.counted_modes)))
        visits = fu.group_by(vid="resident_id").aggregate(visits=fu.count())
        s = people.left_join(visits, people.resident_id == visits.vid)
        s = s.mutate(visits=s.visits.fill_null(0))
        s = s.filter(s.visits < s.visits_required)
        # the finding sits on the patient's latest enrolment in the program that overlaps the period
        enr = eng.table("enrollments")
        enr = enr.filter((enr.program == program) & (enr.start_date <= end)
                         & (enr.end_date.isnull() | (enr.end_date >= start)))
        enr = enr.mutate(rn=ibis.row_number().over(group_by=enr.resident_id,
                                                   order_by=[ibis.desc(enr.start_date), ibis.desc(enr.id)]))
        enr = enr.filter(enr.rn == 0).select(eid=enr.id, e_rid=enr.resident_id, e_unit=enr.org_unit_id)
        s = s.join(enr, s.resident_id == enr.e_rid)
        parts.append(s.select(table=ibis.literal("enrollments"), record_id=s.eid, resident_id=s.resident_id,
                              org_unit_id=s.e_unit, program=ibis.literal(Program(program).zh),
                              visits=s.visits.cast("int64"), required=s.visits_required.cast("int64")))
    return union(parts)


# --- T-07 services on statutory holidays ------------------------------------------------------------------
def holiday_table(years: range, names: tuple[str, ...]) -> pa.Table:
    """Days of the named statutory holidays (chinesecalendar's English names) with their Chinese name.

    A break counts as a whole: in 2025 the National Day break (1–8 October) includes 中秋 on the 6th, which
    the calendar names Mid-autumn Festival; every day of a run of consecutive named holidays takes the name
    of the listed holiday in it. Years the installed calendar does not cover yet are left out."""
    import chinese_calendar
    from chinese_calendar.constants import Holiday

    zh = {h.value: h.chinese for h in Holiday}
    named: list[tuple[dt.date, str]] = []
    for year in years:
        d = dt.date(year, 1, 1)
        while d.year == year:  # loops over the days of a year, never over services
            try:
                on_holiday, name = chinese_calendar.get_holiday_detail(d)
            except NotImplementedError:
                break
            if on_holiday and name:
                named.append((d, name))
            d += dt.timedelta(days=1)
    days, labels = [], []
    run: list[tuple[dt.date, str]] = []
    for i, (d, name) in enumerate(named):
        run.append((d, name))
        if i + 1 == len(named) or named[i + 1][0] != d + dt.timedelta(days=1):
            listed = [n for _, n in run if n in names]
            if listed:
                days += [x for x, _ in run]
                labels += [zh.get(listed[0], listed[0])] * len(run)
            run = []
    return pa.table({"h_date": pa.array(days, pa.date32()), "holiday": pa.array(labels, pa.string())})


def t07_holiday(check: Check) -> ibis.Table:
    names = tuple(check.params["holidays"])
    days = holiday_table(range(check.period.start.year, check.period.end.year + 1), names)
    e = encounters(check)
    if not days.num_rows:
        return e.filter(ibis.literal(False)).select("table", "record_id", "resident_id", "org_unit_id",
                                                     "service_date", holiday=ibis.literal(""))
    h = ibis.memtable(days)
    e = e.join(h, e.service_date == h.h_date)
    return e.select("table", "record_id", "resident_id", "org_unit_id", "service_date", "holiday")


# --- T-08 entered long after the service ------------------------------------------------------------------
def t08_backfill(check: Check) -> ibis.Table:
    max_days = int(check.params["max_days"])
    e = encounters(check)
    e = e.mutate(entered_on=local_date(e.entered_at))
    e = e.mutate(days=e.entered_on.delta(e.service_date, unit="day"))
    e = e.filter(e.days > max_days)
    return e.select("table", "record_id", "resident_id", "org_unit_id", "service_date", "entered_on", "days")


EVALUATORS: dict[str, Evaluator] = {
    "T-01": t01_future,
    "T-02": t02_before_start,
    "T-03": t03_after_death,
    "T-03b": t03b_after_closing,
    "T-04": t04_too_dense,
    "T-05": t05_too_sparse,
    "T-07": t07_holiday,
    "T-08": t08_backfill,
}
