"""Completeness rules ([exam-form-2017] A): blank items on the 个人基本信息表 (C-01), the health examination
(C-03; for residents aged 65+ the elderly exam package that E1/E2 use) and the chronic-disease follow-up (C-04). Each finding lists every blank item of its form, in the
order the rule names them, so one finding is one form to complete.

Only blanks (空项) are found: the forms carry no skip-logic answers whose violation (漏项) could be told apart.
C-02 (phone format) is evaluated with the other resident-level rules in :mod:`.identity`.
"""

from __future__ import annotations

import ibis

from gongwei.engine.programs.elderly import item_missing
from gongwei.engine.programs.records import (
    _field_missing,
    blank,
    blank_in,
    missing_list,
    residents_in_records,
)
from gongwei.engine.quality import Check
from gongwei.engine.quality.identity import encounter_findings
from gongwei.spec.programs import elderly as elderly_spec
from gongwei.spec.programs import records as records_spec
from gongwei.spec.vocab import FACE_TO_FACE_MODES

# form labels (健康体检表, 随访服务记录表) of the fields the rules may name; a field configured without a label
# here is shown by its name
LABELS = {
    "sbp_left": "左侧收缩压", "dbp_left": "左侧舒张压", "sbp_right": "右侧收缩压", "dbp_right": "右侧舒张压",
    "height": "身高", "weight": "体重", "waist": "腰围", "bmi": "体质指数", "pulse": "脉率", "temperature": "体温",
    "respiration": "呼吸频率", "adl_score": "生活自理能力评估", "cognition": "认知功能", "affect": "情感状态",
    "mode": "随访方式", "sbp": "收缩压", "dbp": "舒张压", "adherence": "服药依从性", "classification": "此次随访分类",
    "next_visit_date": "下次随访日期", "provider": "随访医生签名", "medication": "用药情况",
    "fasting_glucose": "空腹血糖", "symptoms": "症状",
}


def _column(t: ibis.Table, field: str, rule: str) -> ibis.ir.Value:
    for name in (field, field + "_id"):  # references are stored as <field>_id
        if name in t.columns:
            return t[name]
    raise ValueError(f"质控规则 {rule} 配置的项目“{field}”不在数据中")


def _blanks(t: ibis.Table, fields: object, rule: str, when: ibis.ir.BooleanValue | None = None):
    out = []
    for f in fields:  # type: ignore[attr-defined]
        # a field the snapshot's DuckDB copy judged when it was written is read from there (engine.native)
        missing = blank_in(t, f) if f in t.columns else blank(_column(t, f, rule))
        out.append((LABELS.get(f, f), missing if when is None else when & missing))
    return out


def _flag_missing(t: ibis.Table, table: str, checks: list) -> ibis.Table:
    text, count = missing_list(checks)
    t = t.mutate(missing=text, missing_count=count)
    t = t.filter(t.missing_count > 0)
    return encounter_findings(t, table, missing=t.missing)


def basic_info_missing(check: Check) -> ibis.Table:
    """C-01: the required basic-information fields of the records standard (:data:`~gongwei.spec.programs.
    records.STANDARD`, the same list R3 uses), for forms in the records at the period end. Fields the snapshot
    cannot show (no presence flag) are not judged."""
    res = residents_in_records(check.eng, check.period)
    hr = check.eng.table("health_records")
    std = records_spec.STANDARD.for_year(check.period.year)
    checks = []
    for f in std.required_fields:
        missing = _field_missing(res, hr, f)
        if missing is not None:
            checks.append((records_spec.FIELD_LABELS.get(f, f), missing))
    text, count = missing_list(checks)
    rows = res.join(hr, res.id == hr.resident_id).select(
        table=ibis.literal("health_records"), record_id=res.id, resident_id=res.id,
        org_unit_id=res.managing_unit_id, missing=text, missing_count=count, created_on=hr.created_on)
    return rows.filter((rows.missing_count > 0) & (rows.created_on <= check.end)).drop("missing_count", "created_on")


def exam_missing(check: Check) -> ibis.Table:
    """C-03: key items of an examination in the period. Under ``elderly_age`` (at the elderly program's reference
    date, :func:`~gongwei.spec.programs.elderly.born_by`) the ``required`` fields; from it the elderly exam
    package of the period's year — :data:`gongwei.spec.programs.elderly.PACKAGE`, the definition E1/E2 use, by the same
    :func:`~gongwei.engine.programs.elderly.item_missing` — plus any ``required`` field the package leaves out."""
    ex = check.services("health_examinations")
    people = check.eng.table("residents").select(person_id="id", birth_date="birth_date")
    ex = ex.join(people, ex.resident_id == people.person_id)
    # the elderly program's age rule (65+ at its reference date, by default 31 December of the year)
    elderly = ex.birth_date <= ibis.date(elderly_spec.born_by(check.period, int(check.params["elderly_age"])))
    items = elderly_spec.recordable_items(check.period.year) if check.params["elderly_package"] else ()
    in_package = {f for _, item in items for f in item.fields}
    checks = []
    for f in check.params["required"]:  # type: ignore[attr-defined]
        missing = blank(_column(ex, f, check.rule.code))
        checks.append((LABELS.get(f, f), missing & ~elderly if f in in_package else missing))
    checks += [(item.label, elderly & item_missing(ex, item)) for _, item in items]
    return _flag_missing(ex, "health_examinations", checks)


def follow_up_missing(check: Check) -> ibis.Table:
    """C-04: the items evaluators check on a hypertension or diabetes follow-up in the period. Blood pressure
    (``face_to_face_required``) is owed only by clinic and home visits: it cannot be measured by phone."""
    fu = check.services("chronic_follow_ups")
    fu = fu.filter(fu.program.isin(list(check.params["programs"])))  # type: ignore[call-overload]
    face_to_face = fu.mode.isin(sorted(m.value for m in FACE_TO_FACE_MODES))
    checks = _blanks(fu, check.params["required"], check.rule.code)
    checks += _blanks(fu, check.params["face_to_face_required"], check.rule.code, face_to_face)
    return _flag_missing(fu, "chronic_follow_ups", checks)


EVALUATORS = {
    "C-01": basic_info_missing,
    "C-03": exam_missing,
    "C-04": follow_up_missing,
}
