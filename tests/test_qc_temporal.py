"""Temporal rules T-01 … T-08 on a hand-built region: rows that must trigger, rows right at each threshold
that must not, and each rule's message."""

from __future__ import annotations

import datetime as dt

import pytest

from gongwei.engine.quality import Check, temporal
from gongwei.spec.periods import parse
from gongwei.spec.quality import rules
from tests.qc_signal_fixtures import T_PUTING, V_EAST, build, findings, flagged, message, resident, table

pytestmark = pytest.mark.django_db

TEMPORAL = ["T-01", "T-02", "T-03", "T-03b", "T-04", "T-05", "T-07", "T-08"]

RESIDENTS = [
    resident("A"), resident("P2"), resident("P3"), resident("P4"), resident("Q"),
    resident("B", birth="2025-03-01"),
    resident("D", status="dead", status_date="2025-06-01"),
    resident("M", status="moved_out", status_date="2025-03-01"),
    resident("L", status="lost", status_date="2025-04-01"),
]
ENROLLMENTS = [
    {"enrollment_no": "E_A", "resident": "A", "program": "hypertension", "start_date": "2024-01-01"},
    {"enrollment_no": "E_P2", "resident": "P2", "program": "hypertension", "start_date": "2024-01-01"},
    {"enrollment_no": "E_P3", "resident": "P3", "program": "hypertension", "start_date": "2025-07-10"},
    {"enrollment_no": "E_P4", "resident": "P4", "program": "hypertension", "start_date": "2025-07-10"},
    {"enrollment_no": "E_Q", "resident": "Q", "program": "diabetes", "start_date": "2025-03-01"},
]
# (encounter_no, resident, date, mode, class, referral)
_FU = [
    ("FA0", "A", "2024-12-28", "1", "1", "0"),
    ("FA1", "A", "2025-01-10", "1", "1", "0"),   # T-04: 13 days after FA0 (across the year end)
    ("FA2", "A", "2025-01-24", "1", "1", "0"),   # 14 days: not too dense
    ("FA3", "A", "2025-04-01", "1", "2", "0"),   # uncontrolled → a recheck within 2 weeks is due
    ("FA4", "A", "2025-04-05", "1", "1", "0"),   # 4 days after an uncontrolled visit: fine
    ("FA5", "A", "2025-04-07", "3", "1", "0"),   # phone: not face-to-face, ignored
    ("FA6", "A", "2025-04-15", "2", "1", "0"),   # T-04: 10 days after FA4 (the phone call does not count)
    ("FA7", "A", "2025-06-03", "1", "1", "1"),   # referral → the 2-week follow-up of the referral
    ("FA8", "A", "2025-06-07", "1", "1", "0"),   # after a referral: fine
    ("FA9", "A", "2025-09-01", "1", "3", "0"),   # adverse reaction → recheck due
    ("FA10", "A", "2025-09-05", "1", "1", "0"),  # fine
    ("F21", "P2", "2025-01-15", "1", "1", "0"), ("F22", "P2", "2025-04-20", "2", "1", "0"),
    ("F23", "P2", "2025-07-20", "1", "1", "0"), ("F24", "P2", "2025-11-05", "3", "1", "0"),  # T-05: 3 face-to-face < 4
    ("F31", "P3", "2025-08-01", "2", "1", "0"), ("F32", "P3", "2025-10-15", "2", "1", "0"),  # enrolled July: 2 ≥ 2
    ("F41", "P4", "2025-08-01", "1", "1", "0"),                                              # T-05: 1 < 2
    ("FQ1", "Q", "2025-02-28", "1", "2", "0"),   # T-02: before its enrolment (1 March); T-05: 2 < 4
    ("FQ2", "Q", "2025-03-01", "1", "1", "0"),   # the enrolment day: fine; 1 day after an uncontrolled visit
]
_ENR = {"A": "E_A", "P2": "E_P2", "P3": "E_P3", "P4": "E_P4", "Q": "E_Q"}
FOLLOW_UPS = [
    {"encounter_no": k, "resident": r, "service_date": d, "mode": m, "classification": c, "referral": ref,
     "enrollment": _ENR[r], "program": "diabetes" if r == "Q" else "hypertension", "sbp": "130", "dbp": "80"}
    for k, r, d, m, c, ref in _FU
]
EXAMS = [
    {"encounter_no": "X1", "resident": "A", "service_date": "2025-05-10", "entered_at": "2025-05-09T23:00:00+08:00"},
    # entered 00:30 Beijing time = 16:30 UTC the day before: the same local day, not in the future
    {"encounter_no": "X2", "resident": "A", "service_date": "2025-05-10", "entered_at": "2025-05-10T00:30:00+08:00"},
    {"encounter_no": "XP3", "resident": "P3", "service_date": "2025-06-01"},   # before enrolment: an exam may be
    {"encounter_no": "XD1", "resident": "D", "service_date": "2025-05-31"},
    {"encounter_no": "XD2", "resident": "D", "service_date": "2025-06-01"},    # T-03: on the death date
    {"encounter_no": "XM1", "resident": "M", "service_date": "2025-02-28"},
    {"encounter_no": "XM2", "resident": "M", "service_date": "2025-03-01"},    # T-03b: on the moving-out date
    {"encounter_no": "XL1", "resident": "L", "service_date": "2025-04-02"},    # T-03b: after loss to follow-up
    {"encounter_no": "XH1", "resident": "A", "service_date": "2025-01-28"},    # T-07: 春节
    {"encounter_no": "XH2", "resident": "A", "service_date": "2025-01-26"},    # a make-up working Sunday
    {"encounter_no": "XH3", "resident": "A", "service_date": "2025-02-05"},    # the day after the break
    {"encounter_no": "XH4", "resident": "A", "service_date": "2025-10-06"},    # T-07: 中秋 inside the 国庆 break
    {"encounter_no": "XH5", "resident": "A", "service_date": "2025-05-01"},    # 劳动节: not a listed holiday
    {"encounter_no": "XE1", "resident": "A", "service_date": "2025-07-01", "entered_at": "2025-08-01T10:00:00+08:00"},
    {"encounter_no": "XE2", "resident": "A", "service_date": "2025-07-01", "entered_at": "2025-07-31T23:59:00+08:00"},
]
OTHER = {
    "tcm_constitutions": table([{"encounter_no": "TD1", "resident": "D", "service_date": "2025-07-01"}],
                               org_unit=T_PUTING, answers="3" * 33),
    "child_checks": table([{"encounter_no": "CB1", "resident": "B", "service_date": "2025-02-28"}],  # T-02: before birth
                          org_unit=T_PUTING, age_months="0"),
    "vaccinations": table([{"encounter_no": "VB1", "resident": "B", "service_date": "2025-03-01"}],
                          org_unit=T_PUTING, vaccine="HepB", dose_no="1"),
}


def _tables() -> dict:
    return {
        "residents": table(RESIDENTS),
        "enrollments": table(ENROLLMENTS, org_unit=V_EAST),
        "chronic_follow_ups": table(FOLLOW_UPS, org_unit=V_EAST, provider="S1"),
        "health_examinations": table(EXAMS, org_unit=T_PUTING, trigger="elderly"),
        **OTHER,
    }


@pytest.fixture
def eng(tmp_path):
    return build(tmp_path, _tables())


def test_temporal_rules(eng):
    found = findings(eng, TEMPORAL)
    assert flagged(eng, found, "T-01") == ["X1"]
    assert flagged(eng, found, "T-02") == ["CB1", "FQ1"]
    assert flagged(eng, found, "T-03") == ["TD1", "XD2"]
    assert flagged(eng, found, "T-03b") == ["XL1", "XM2"]
    assert flagged(eng, found, "T-04") == ["FA1", "FA6"]
    assert flagged(eng, found, "T-05") == ["E_P2", "E_P4", "E_Q"]
    assert flagged(eng, found, "T-07") == ["XH1", "XH4"]
    assert flagged(eng, found, "T-08") == ["XE1"]


def test_temporal_messages(eng):
    found = findings(eng, TEMPORAL)
    assert message(eng, found, "T-01", "X1") == "服务日期 2025-05-10 晚于录入日期或今天"
    assert message(eng, found, "T-02", "CB1") == "服务日期 2025-02-28 早于出生日期 2025-03-01"
    assert message(eng, found, "T-02", "FQ1") == "服务日期 2025-02-28 早于纳入管理日期 2025-03-01"
    assert message(eng, found, "T-03", "TD1") == "死亡日期 2025-06-01 之后仍有老年人中医体质辨识（2025-07-01）"
    assert message(eng, found, "T-03b", "XL1") == "档案于 2025-04-01 失访后仍有健康体检（2025-04-02）"
    assert message(eng, found, "T-03b", "XM2") == "档案于 2025-03-01 迁出后仍有健康体检（2025-03-01）"
    assert message(eng, found, "T-04", "FA6") == \
        "与上次面对面随访（2025-04-05）间隔 10 天（少于 14 天），且上次随访无需两周内复查、未转诊"
    assert message(eng, found, "T-05", "E_P4") == \
        "本期高血压患者健康管理面对面随访 1 次，少于应随访的 2 次（全年 4 次，按在管季度折算）"
    assert message(eng, found, "T-05", "E_Q") == \
        "本期2型糖尿病患者健康管理面对面随访 2 次，少于应随访的 4 次（全年 4 次，按在管季度折算）"
    assert message(eng, found, "T-07", "XH1") == "服务日期 2025-01-28 为法定节假日（春节）"
    assert message(eng, found, "T-07", "XH4") == "服务日期 2025-10-06 为法定节假日（国庆节）"
    assert message(eng, found, "T-08", "XE1") == "录入时间比服务日期晚 31 天"


def test_second_quarter_pro_rates_visits(eng):
    # 至第二季度: P2 Jan + Apr = 2 ≥ 2; P3/P4 not yet enrolled; Q (from 1 March) 2 ≥ 2; A many
    found = findings(eng, ["T-05"], "2025Q2")
    assert flagged(eng, found, "T-05") == []


def test_service_dated_after_the_snapshot_is_in_the_future(tmp_path):
    today = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)).date()
    later, earlier = today + dt.timedelta(days=2), today - dt.timedelta(days=1)
    eng = build(tmp_path, {
        "residents": table([resident("A")]),
        "health_examinations": table([
            {"encounter_no": "XF", "service_date": later.isoformat()},
            {"encounter_no": "XT", "service_date": earlier.isoformat()},
        ], resident="A", org_unit=T_PUTING, trigger="elderly"),
    })
    found = findings(eng, ["T-01"], later.isoformat())
    assert flagged(eng, found, "T-01") == ["XF"]


def test_record_creation_date_can_be_checked_too(tmp_path):
    # off by default (backfilled services predate the record); a province may switch it on
    eng = build(tmp_path, {
        "residents": table([resident("A")]),
        "health_records": table([{"resident": "A", "created_on": "2025-05-01", "created_by_unit": T_PUTING}]),
        "health_examinations": table([{"encounter_no": "XR1", "service_date": "2025-04-30"},
                                      {"encounter_no": "XR2", "service_date": "2025-05-01"}],
                                     resident="A", org_unit=T_PUTING, trigger="elderly"),
    })
    rule = rules()["T-02"]
    assert flagged(eng, findings(eng, ["T-02"]), "T-02") == []
    check = Check(eng, parse("2025"), rule, {**rule.params_for(2025), "against": ("birth", "record")})
    got = temporal.t02_before_start(check).to_pyarrow().to_pylist()
    assert [(r["what"], str(r["ref_date"])) for r in got] == [("建档日期", "2025-05-01")]
