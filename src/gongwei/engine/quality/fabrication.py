"""Fabrication signals ([exam-form-2017] E; [pingliang-2020q2]): F-01 … F-11, vectorised on Ibis.

Record-level signals flag the encounter concerned. Signals about a doctor's habits (terminal digits,
throughput, boilerplate symptoms) flag the doctor's staff account: ``table`` = ``"staff"``, ``record_id`` = the
staff id, no resident, the staff member's unit — one finding per doctor and period, since a finding is
identified by (rule, table, record).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import ibis

from gongwei.engine.orgs import OrgTree
from gongwei.engine.quality import Check, Evaluator
from gongwei.engine.quality.temporal import (
    base,
    classified_follow_ups,
    encounters,
    local_minute,
    staff_labels,
    union,
)
from gongwei.spec.vocab import FollowUpClass, OrgLevel

UNCONTROLLED = FollowUpClass.UNCONTROLLED.value
# 症状 code 1 = 无症状 on the HTN/DM follow-up forms ([exam-form-2017])
NO_SYMPTOMS = "1"
FIELD_ZH = {
    "height": "身高", "weight": "体重", "waist": "腰围", "sbp_left": "左侧收缩压", "dbp_left": "左侧舒张压",
    "sbp_right": "右侧收缩压", "dbp_right": "右侧舒张压", "pulse": "脉率", "heart_rate": "心率", "bmi": "体质指数",
    "temperature": "体温", "respiration": "呼吸频率", "sbp": "收缩压", "dbp": "舒张压",
}
# F-01 scopes: a column of the exam, or an org level whose unit above the serving unit groups the exams.
# Look-alike exams are often spread over one township's villages ([pingliang-2020q2] names townships: "华亭市东华镇、
# 安口镇、山寨乡数据雷同较多", besides a village), which a per-village scope would split apart.
SCOPES = {"org_unit_year": ("org_unit_id", "同机构"), "provider_year": ("provider_id", "同一医生"),
          "township_year": (OrgLevel.TOWNSHIP.value, "同乡镇"), "county_year": (OrgLevel.COUNTY.value, "同县（区）")}


def _percent(x: ibis.ir.NumericValue) -> ibis.ir.FloatingValue:
    return (x * 1000).round().cast("float64") / 10


def _empty_text(col: ibis.ir.StringValue) -> ibis.ir.BooleanValue:
    return col.isnull() | (col.strip() == "")


def _on_staff(check: Check, per_doctor: ibis.Table, values: Callable[[ibis.Table], dict]) -> ibis.Table:
    """Findings on staff accounts from a table keyed by ``pid``. The null resident is a column of the input, not
    a literal of the final projection: the runner joins residents on it, and Ibis cannot join on a literal
    projected out of a join."""
    per_doctor = per_doctor.mutate(resident_id=ibis.null("int64"))
    st = staff_labels(check)
    out = per_doctor.join(st, per_doctor.pid == st.staff_id)
    return out.select(table=ibis.literal("staff"), record_id=out.pid, resident_id=out.resident_id,
                      org_unit_id=out.staff_unit_id, provider=out.provider, **values(out))


# --- F-01 look-alike exams --------------------------------------------------------------------------------
def _unit_above(check: Check, level: str) -> ibis.Table:
    """``unit_id`` → ``scope_unit_id``: each unit's ancestor at ``level`` (itself when it is at that level). A
    unit above the level (a county hospital under a township scope) is its own scope. The tree is small, so
    the pairs are made in memory and handed to the backend."""
    tree = OrgTree.load(check.eng.snapshot)
    units, scopes = [], []
    for i in tree.ids:
        at_level = [a for a in tree.ancestors(i) if tree.level[a] == level]
        units.append(i)
        scopes.append(at_level[0] if at_level else i)
    return ibis.memtable({"unit_id": units, "scope_unit_id": scopes},
                         schema={"unit_id": "int64", "scope_unit_id": "int64"})


def f01_lookalike_exams(check: Check) -> ibis.Table:
    """Exams of different residents in one scope and year that agree on ≥ ``min_equal`` of ``fields``. The
    scope is the serving unit, the doctor, or the township or county above the serving unit (:data:`SCOPES`).
    Two exams agree on ≥ k fields exactly when they agree on some k-subset, so each k-subset is one
    GROUP BY over the exams (15 for 4 of 6): linear in the number of exams, no pairs are formed — a wider
    scope only changes the grouping key. Every exam of a group with two or more residents is flagged — which
    one was copied cannot be told from the data.

    ``other_count`` is the largest number of other residents sharing one k-subset with the exam;
    ``equal_fields`` the fields of all its agreeing subsets (exact when one other exam matches)."""
    fields = list(check.params["fields"])
    k = int(check.params["min_equal"])
    scope = str(check.params.get("scope", "org_unit_year"))
    if scope not in SCOPES:
        raise ValueError(f"F-01 的参数 scope={scope!r} 无效（可选：{'、'.join(SCOPES)}）")
    scope_col, scope_zh = SCOPES[scope]
    ex = check.services("health_examinations")
    ex = ex.select("id", "resident_id", "org_unit_id", "provider_id", *fields, year=ex.service_date.year())
    if scope_col not in ex.columns:  # an org level: group by the unit above the serving unit
        above = _unit_above(check, scope_col)
        ex = ex.join(above, ex.org_unit_id == above.unit_id).drop("unit_id")
        scope_col = "scope_unit_id"
    ex = ex.filter(ex[scope_col].notnull())
    hits = []
    for combo in itertools.combinations(fields, k):
        sub = ex.filter(ibis.and_(*[ex[f].notnull() for f in combo]))
        keys = [scope_col, "year", *combo]
        groups = sub.group_by(keys).aggregate(people=sub.resident_id.nunique())
        groups = groups.filter(groups.people >= 2)
        joined = sub.join(groups, keys)
        hits.append(joined.select(
            hid=joined.id, others=(joined.people - 1).cast("int64"),
            **{f"has_{i}": ibis.literal(int(f in combo)) for i, f in enumerate(fields)}))
    h = union(hits)
    per_exam = h.group_by("hid").aggregate(
        other_count=h.others.max(), **{f"has_{i}": h[f"has_{i}"].max() for i in range(len(fields))})
    listed = ibis.literal("").concat(*[
        ibis.cases((per_exam[f"has_{i}"] == 1, FIELD_ZH.get(f, f) + "、"), else_="") for i, f in enumerate(fields)])
    per_exam = per_exam.mutate(equal_fields=listed.substr(0, listed.length() - 1))
    out = ex.join(per_exam, ex.id == per_exam.hid)
    return out.select(**base(out, "health_examinations"), other_count=out.other_count,
                      equal_fields=out.equal_fields, scope_zh=ibis.literal(scope_zh))


# --- F-02 follow-up values copied forward -----------------------------------------------------------------
def f02_copy_forward(check: Check) -> ibis.Table:
    """Runs of consecutive follow-ups (per patient and program) with identical ``fields``; a run of at least
    ``consecutive`` visits is flagged once, on its last visit, when that visit is in the period."""
    fields = list(check.params["fields"])
    n = int(check.params["consecutive"])
    fu = check.eng.table("chronic_follow_ups")
    fu = fu.filter(~fu.is_void)
    w = ibis.window(group_by=[fu.resident_id, fu.program], order_by=[fu.service_date, fu.id])
    complete = ibis.and_(*[fu[f].notnull() for f in fields])
    same = ibis.and_(*[fu[f] == fu[f].lag().over(w) for f in fields]) & complete & complete.lag().over(w)
    fu = fu.mutate(new_run=ibis.cases((same.fill_null(False), 0), else_=1))
    upto = ibis.cumulative_window(group_by=[fu.resident_id, fu.program], order_by=[fu.service_date, fu.id])
    fu = fu.mutate(run=fu.new_run.sum().over(upto))
    runs = ibis.window(group_by=[fu.resident_id, fu.program, fu.run])
    fu = fu.mutate(run_length=fu.id.count().over(runs))
    # run ids grow with (date, id), so the last visit of a run is the one with the latest date, then largest id
    fu = fu.mutate(pos=ibis.row_number().over(group_by=[fu.resident_id, fu.program, fu.run],
                                               order_by=[ibis.desc(fu.service_date), ibis.desc(fu.id)]))
    fu = fu.filter((fu.pos == 0) & (fu.run_length >= n) & complete & check.in_period(fu))
    return fu.select(**base(fu, "chronic_follow_ups"), count=fu.run_length.cast("int64"),
                     **{f: fu[f] for f in fields})


# --- F-03 / F-03b left–right arm SBP gap ------------------------------------------------------------------
def f03_arm_gap(check: Check) -> ibis.Table:
    """Exams whose left and right systolic pressures differ by more than ``gap``. F-03 (> 10) includes the
    exams F-03b (> 20) flags again: [pingliang-2020q2] counts every gap above 10 in one figure."""
    ex = check.services("health_examinations")
    ex = ex.filter(ex.sbp_left.notnull() & ex.sbp_right.notnull())
    ex = ex.mutate(gap_value=(ex.sbp_left - ex.sbp_right).abs())
    ex = ex.filter(ex.gap_value > float(check.params["gap"]))
    return ex.select(**base(ex, "health_examinations"), sbp_left=ex.sbp_left, sbp_right=ex.sbp_right,
                     gap_value=ex.gap_value)


# --- F-04 terminal-digit preference -----------------------------------------------------------------------
def f04_terminal_digits(check: Check) -> ibis.Table:
    digits = sorted(int(d) for d in check.params["digits"])
    fu = check.services("chronic_follow_ups")
    fu = fu.filter(fu.provider_id.notnull())
    readings = union([fu.select(pid=fu.provider_id, value=fu[c].cast("int64")) for c in ("sbp", "dbp")])
    readings = readings.filter(readings.value.notnull())
    agg = readings.group_by("pid").aggregate(
        n=readings.count(), preferred=(readings.value % 10).isin(digits).cast("int64").sum())
    agg = agg.mutate(share=agg.preferred / agg.n)
    agg = agg.filter((agg.n >= int(check.params["min_readings"])) & (agg.share > float(check.params["max_share"])))
    digit_set = "/".join(str(d) for d in digits)
    return _on_staff(check, agg, lambda o: {"share": _percent(o.share), "n": o.n.cast("int64"),
                                            "digit_set": ibis.literal(digit_set)})


# --- F-05 throughput --------------------------------------------------------------------------------------
def f05_throughput(check: Check) -> ibis.Table:
    """Per doctor: the busiest service day and the densest burst of entries (a sliding window of
    ``window_minutes`` over entry times); flagged when either exceeds its cap."""
    max_day, max_window = int(check.params["max_per_day"]), int(check.params["max_in_window"])
    minutes = int(check.params["window_minutes"])
    e = encounters(check)
    e = e.filter(e.provider_id.notnull())
    daily = e.group_by(pid="provider_id", day="service_date").aggregate(day_count=e.count())
    daily = daily.mutate(rn=ibis.row_number().over(group_by=daily.pid,
                                                   order_by=[ibis.desc(daily.day_count), daily.day]))
    busiest = daily.filter(daily.rn == 0).drop("rn")
    timed = e.filter(e.entered_at.notnull())
    second = timed.entered_at.epoch_seconds()
    w = ibis.range_window(preceding=minutes * 60, following=0, group_by=timed.provider_id, order_by=second)
    timed = timed.mutate(window_count=timed.record_id.count().over(w), window_from=timed.entered_at.min().over(w))
    timed = timed.mutate(rn=ibis.row_number().over(group_by=timed.provider_id,
                                                   order_by=[ibis.desc(timed.window_count), timed.window_from]))
    burst = timed.filter(timed.rn == 0).select(bid=timed.provider_id, window_count=timed.window_count,
                                               window_start=local_minute(timed.window_from))
    s = busiest.left_join(burst, busiest.pid == burst.bid)
    s = s.mutate(window_count=s.window_count.fill_null(0))
    s = s.filter((s.day_count > max_day) | (s.window_count > max_window))
    return _on_staff(check, s, lambda o: {"day": o.day, "day_count": o.day_count.cast("int64"),
                                          "window_count": o.window_count.cast("int64"),
                                          "window_start": o.window_start})


# --- F-10 / F-10b uncontrolled without guidance or referral -----------------------------------------------
def f10_uncontrolled_unguided(check: Check) -> ibis.Table:
    """控制不满意 with no guidance text, no drug change, no referral and no next visit within
    ``max_next_days`` — nothing on the form answers the uncontrolled reading ([pingliang-2020q2])."""
    max_next = int(check.params["max_next_days"])
    fu = classified_follow_ups(check)
    fu = fu.filter(check.in_period(fu) & (fu.classification == UNCONTROLLED))
    no_recheck = fu.next_visit_date.isnull() | (fu.next_visit_date.delta(fu.service_date, unit="day") > max_next)
    fu = fu.filter(_empty_text(fu.guidance) & ~fu.medication_adjusted.fill_null(False)
                   & ~fu.referral.fill_null(False) & no_recheck)
    return fu.select(**base(fu, "chronic_follow_ups"), service_date=fu.service_date, sbp=fu.sbp, dbp=fu.dbp,
                     fasting_glucose=fu.fasting_glucose, next_visit_date=fu.next_visit_date)


def f10b_consecutive_uncontrolled(check: Check) -> ibis.Table:
    fu = classified_follow_ups(check)
    w = ibis.window(group_by=[fu.resident_id, fu.program], order_by=[fu.service_date, fu.id])
    fu = fu.mutate(previous_date=fu.service_date.lag().over(w), previous_class=fu.classification.lag().over(w))
    fu = fu.filter(check.in_period(fu) & (fu.classification == UNCONTROLLED)
                   & (fu.previous_class == UNCONTROLLED).fill_null(False) & ~fu.referral.fill_null(False))
    return fu.select(**base(fu, "chronic_follow_ups"), previous_date=fu.previous_date, service_date=fu.service_date)


# --- F-11 boilerplate symptoms ----------------------------------------------------------------------------
def f11_symptom_boilerplate(check: Check) -> ibis.Table:
    """A doctor's most common symptom set (order-insensitive, other than 无症状) ticked for more than
    ``max_share`` of the doctor's patients, among doctors with at least ``min_patients`` patients."""
    fu = check.services("chronic_follow_ups")
    fu = fu.filter(fu.provider_id.notnull())
    fu = fu.mutate(symptom_set=fu.symptoms.fill_null("").replace(" ", "").split(",").sort().join(","))
    patients = fu.group_by(pid="provider_id").aggregate(patients=fu.resident_id.nunique())
    ticked = fu.filter((fu.symptom_set != "") & (fu.symptom_set != NO_SYMPTOMS))
    sets = ticked.group_by(sid="provider_id", symptoms="symptom_set").aggregate(with_set=ticked.resident_id.nunique())
    sets = sets.mutate(rn=ibis.row_number().over(group_by=sets.sid,
                                                 order_by=[ibis.desc(sets.with_set), sets.symptoms]))
    top = sets.filter(sets.rn == 0)
    s = patients.join(top, patients.pid == top.sid)
    s = s.mutate(share=s.with_set / s.patients)
    s = s.filter((s.patients >= int(check.params["min_patients"])) & (s.share > float(check.params["max_share"])))
    return _on_staff(check, s, lambda o: {"symptoms": o.symptoms, "share": _percent(o.share),
                                          "patients": o.patients.cast("int64")})


EVALUATORS: dict[str, Evaluator] = {
    "F-01": f01_lookalike_exams,
    "F-02": f02_copy_forward,
    "F-03": f03_arm_gap,
    "F-03b": f03_arm_gap,
    "F-04": f04_terminal_digits,
    "F-05": f05_throughput,
    "F-10": f10_uncontrolled_unguided,
    "F-10b": f10b_consecutive_uncontrolled,
    "F-11": f11_symptom_boilerplate,
}
