"""Completeness rules C-01 (个人基本信息表), C-03 (健康体检表) and C-04 (慢病随访表), on hand-built forms."""

from __future__ import annotations

import pytest

from gongwei.spec.programs import elderly
from gongwei.spec.rules import ByYear
from tests.qc_fixtures import V_EAST, build, findings, flagged, idn, message, people, rows

pytestmark = pytest.mark.django_db


def test_basic_information_blanks(tmp_path):
    """Required fields follow the records standard (R3's list); the identity number is judged by its status and
    the phone by its presence flag."""
    eng = build(tmp_path, people([
        {"record_no": "K1", "id_number": idn("19800101")},                                   # complete
        {"record_no": "K2", "phone": " ", "blood_abo": "", "education": ""},                  # also no number
        {"record_no": "K3", "id_number": idn("19800101", "013"), "ethnicity": ""},
        {"record_no": "K4", "record": False},                                                # no form: nothing to fill
        {"record_no": "K5", "blood_abo": "", "created_on": "2026-01-05"},                    # recorded after the period
        {"record_no": "K6", "blood_abo": "", "status": "dead", "status_date": "2025-05-01"},  # closed in the period
        {"record_no": "K7", "id_type": "03", "id_number": "E1234567"},                        # passport: filled
    ]))
    found = findings(eng, ["C-01"])
    assert flagged(found, "C-01") == ["K2", "K3"]
    assert message(found, "C-01", "K2") == "个人基本信息表缺项：身份证号、本人电话、ABO血型、文化程度"
    assert message(found, "C-01", "K3") == "个人基本信息表缺项：民族"
    assert {f["table"] for f in found} == {"health_records"}


_EXAM = dict(org_unit=V_EAST, trigger="other", sbp_left="130", dbp_left="80", sbp_right="132", dbp_right="82",
             height="165", weight="60", waist="80")
# the rest of the 3rd-edition elderly package (spec.programs.elderly.PACKAGE). Lab panels are recorded by one
# result each (血常规 by hemoglobin, 尿常规 by urine protein, 肝功能 by ALT, 肾功能 by creatinine, 血脂 by TC:
# "any one result" [B]); guidance only in 危险因素控制 (the guidance block's other box [B])
_ELDERLY_DONE = dict(self_rated_health="1", adl_score="0", symptoms="1", exercise_frequency="2", smoking_status="1",
                     drinking_frequency="1", cognition="1", affect="1", temperature="36.5", pulse="72",
                     respiration="18", hemoglobin="135", urine_protein="-", alt="20", creatinine="80",
                     fasting_glucose="5.6", total_cholesterol="4.80", ecg="1", abdominal_ultrasound="1",
                     health_evaluation="1", health_guidance="", risk_factor_control="3")


def test_examination_blanks(tmp_path):
    """Under 65 the ``required`` fields (both arms' BP, height, weight, waist); from 65 (at the elderly program's
    reference date, 31 Dec 2025: born on or before 1960-12-31) the whole elderly exam package that E1/E2 use (issue 8 item 6; 国家基本公共卫生
    服务规范（第三版）老年人健康管理服务规范 服务内容 [spec2017-elderly]), each missing item named once, in package order.

    X1 complete, X2 three blanks (under 65); X3 an elderly exam holding only the general fields → every other
    recordable package item (饮食习惯, 脏器功能 and 查体 have no field yet and are not judged); X4 the same form
    for someone 64 all year → nothing; X5 void, X6 last year → not judged; X7 the full package → nothing;
    X8 affect, right-arm SBP and weight blank and ECG "9 未检查" → 情感状态、右侧血压、体重、心电图 (the right-arm
    blanks are named once, as the package item); X9 no guidance in either box → 健康指导."""
    eng = build(tmp_path, {
        **people([
            {"record_no": "A", "birth_date": "1985-01-01"},
            {"record_no": "E65", "birth_date": "1960-12-31"},
            {"record_no": "E64", "birth_date": "1961-01-01"},
        ]),
        "health_examinations": rows(_EXAM, [
            {"encounter_no": "X1", "resident": "A", "service_date": "2025-04-01"},
            {"encounter_no": "X2", "resident": "A", "service_date": "2025-05-01", "sbp_right": "", "dbp_right": "",
             "waist": ""},
            {"encounter_no": "X3", "resident": "E65", "service_date": "2025-03-01"},  # 64 that day, 65 this year
            {"encounter_no": "X4", "resident": "E64", "service_date": "2025-03-01"},
            {"encounter_no": "X5", "resident": "A", "service_date": "2025-06-01", "height": "", "is_void": "1"},
            {"encounter_no": "X6", "resident": "A", "service_date": "2024-12-31", "height": ""},
            {"encounter_no": "X7", "resident": "E65", "service_date": "2025-09-01", **_ELDERLY_DONE},
            {"encounter_no": "X8", "resident": "E65", "service_date": "2025-10-01", **_ELDERLY_DONE, "affect": "",
             "sbp_right": "", "weight": "", "ecg": "9"},
            {"encounter_no": "X9", "resident": "E65", "service_date": "2025-11-01", **_ELDERLY_DONE,
             "risk_factor_control": ""},
        ]),
    })
    found = findings(eng, ["C-03"])
    assert flagged(found, "C-03") == ["X2", "X3", "X8", "X9"]
    assert message(found, "C-03", "X2") == "体检缺少：右侧收缩压、右侧舒张压、腰围"
    assert message(found, "C-03", "X3") == (
        "体检缺少：健康状态自我评估、生活自理能力评估、症状、体育锻炼、吸烟情况、饮酒情况、认知功能、情感状态、"
        "体温、脉率、呼吸频率、血常规、尿常规、肝功能、肾功能、空腹血糖、血脂、心电图、腹部B超、健康评价、健康指导")
    assert message(found, "C-03", "X8") == "体检缺少：情感状态、右侧血压、体重、心电图"
    assert message(found, "C-03", "X9") == "体检缺少：健康指导"


def test_examination_blanks_follow_the_elderly_age_rule(tmp_path, monkeypatch):
    """C-03 counts age as the elderly program does: with 1 January as its reference date, E65 (born 31 Dec 1960)
    is 64 in 2025, so only the ``required`` fields are owed — X3 passes, X8 lacks 右侧收缩压 and 体重 (its blank
    affect and ECG "9" are no longer owed), X9 passes (guidance is a package item)."""
    monkeypatch.setattr(elderly, "AGE_REFERENCE", ByYear({2009: elderly.AgeReference.YEAR_START}))
    eng = build(tmp_path, {
        **people([{"record_no": "E65", "birth_date": "1960-12-31"}]),
        "health_examinations": rows(_EXAM, [
            {"encounter_no": "X3", "resident": "E65", "service_date": "2025-03-01"},
            {"encounter_no": "X8", "resident": "E65", "service_date": "2025-10-01", **_ELDERLY_DONE, "affect": "",
             "sbp_right": "", "weight": "", "ecg": "9"},
            {"encounter_no": "X9", "resident": "E65", "service_date": "2025-11-01", **_ELDERLY_DONE,
             "risk_factor_control": ""},
        ]),
    })
    found = findings(eng, ["C-03"])
    assert flagged(found, "C-03") == ["X8"]
    assert message(found, "C-03", "X8") == "体检缺少：右侧收缩压、体重"


_FU = dict(org_unit=V_EAST, program="hypertension", mode="1", sbp="130", dbp="80", adherence="1",
           classification="1", next_visit_date="2025-06-01", provider="DOC1")


def test_follow_up_blanks(tmp_path):
    """Blood pressure is owed by clinic and home visits, not phone calls; COPD follow-ups are not checked."""
    staff = rows({"org_unit": V_EAST, "role": "village_doctor"}, [{"code": "DOC1", "name": "医一"}])
    eng = build(tmp_path, {
        "staff": staff,
        **people([{"record_no": "H"}]),
        "chronic_follow_ups": rows(_FU, [
            {"encounter_no": "F1", "resident": "H", "service_date": "2025-03-01"},
            {"encounter_no": "F2", "resident": "H", "service_date": "2025-04-01", "mode": "3", "sbp": "", "dbp": ""},
            {"encounter_no": "F3", "resident": "H", "service_date": "2025-05-01", "mode": "2", "sbp": "", "dbp": ""},
            {"encounter_no": "F4", "resident": "H", "service_date": "2025-06-01", "program": "diabetes",
             "adherence": "", "classification": "", "next_visit_date": "", "provider": ""},
            {"encounter_no": "F5", "resident": "H", "service_date": "2025-07-01", "program": "copd",
             "classification": "", "provider": ""},
            {"encounter_no": "F6", "resident": "H", "service_date": "2024-12-01", "program": "diabetes",
             "provider": ""},
            {"encounter_no": "F7", "resident": "H", "service_date": "2025-08-01", "mode": "3", "provider": "",
             "sbp": "", "dbp": ""},
        ]),
    })
    found = findings(eng, ["C-04"])
    assert flagged(found, "C-04") == ["F3", "F4", "F7"]
    assert message(found, "C-04", "F3") == "随访缺少：收缩压、舒张压"
    assert message(found, "C-04", "F4") == "随访缺少：服药依从性、此次随访分类、下次随访日期、随访医生签名"
    assert message(found, "C-04", "F7") == "随访缺少：随访医生签名"
