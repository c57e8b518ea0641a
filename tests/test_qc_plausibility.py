"""Plausibility rules R-01…R-10: values just inside and just outside each warning band, adults only where the
band is an adult one, emergency levels with and without a referral."""

from __future__ import annotations

import pytest

from tests.qc_fixtures import V_EAST, build, findings, flagged, message, people, rows

pytestmark = pytest.mark.django_db

# A adult (born 1980); C child (born 2015); Y turns 18 on 2025-06-01
PEOPLE = [{"record_no": "A", "birth_date": "1980-01-01"}, {"record_no": "C", "birth_date": "2015-01-01"},
          {"record_no": "Y", "birth_date": "2007-06-01"}]
_EXAM = dict(resident="A", service_date="2025-05-05", org_unit=V_EAST, trigger="other")
EXAMS = [
    # R-01 height 130–200
    {"encounter_no": "H1", "height": "129.9"}, {"encounter_no": "H2", "height": "130"},
    {"encounter_no": "H3", "height": "200"}, {"encounter_no": "H4", "height": "200.1"},
    {"encounter_no": "H5", "height": "110", "resident": "C"},
    {"encounter_no": "H6", "height": "120", "resident": "Y", "service_date": "2025-06-01"},   # 18 that day
    {"encounter_no": "H7", "height": "120", "resident": "Y", "service_date": "2025-05-31"},   # still 17
    {"encounter_no": "H8", "height": "100", "service_date": "2024-12-31"},                   # last year
    {"encounter_no": "H9", "height": "100", "is_void": "1"},                                  # void
    # R-02 weight 30–150
    {"encounter_no": "W1", "weight": "29.9"}, {"encounter_no": "W2", "weight": "30"},
    {"encounter_no": "W3", "weight": "150"}, {"encounter_no": "W4", "weight": "150.5"},
    {"encounter_no": "W5", "weight": "20", "resident": "C"},
    # R-03 waist 55–140
    {"encounter_no": "G1", "waist": "54.9"}, {"encounter_no": "G2", "waist": "55"},
    {"encounter_no": "G3", "waist": "140"}, {"encounter_no": "G4", "waist": "140.1"},
    # R-06 pulse 50–120
    {"encounter_no": "P1", "pulse": "49"}, {"encounter_no": "P2", "pulse": "50"},
    {"encounter_no": "P3", "pulse": "120"}, {"encounter_no": "P4", "pulse": "121"},
    {"encounter_no": "P5", "pulse": "130", "resident": "C"},
    # R-05 pulse pressure 20–100, either arm
    {"encounter_no": "S1", "sbp_left": "120", "dbp_left": "101"},
    {"encounter_no": "S2", "sbp_left": "120", "dbp_left": "100"},
    {"encounter_no": "S3", "sbp_left": "180", "dbp_left": "80", "sbp_right": "170", "dbp_right": "70"},
    {"encounter_no": "S4", "sbp_left": "130", "dbp_left": "80", "sbp_right": "181", "dbp_right": "80"},
    # R-09 BMI: 90 kg at 200 cm is exactly 22.5; 70 kg at 175 cm is 22.857…
    {"encounter_no": "B1", "height": "200", "weight": "90", "bmi": "22.6"},
    {"encounter_no": "B2", "height": "200", "weight": "90", "bmi": "22.7"},
    {"encounter_no": "B3", "height": "200", "weight": "90", "bmi": "22.4"},
    {"encounter_no": "B4", "height": "200", "weight": "90", "bmi": "22.3"},
    {"encounter_no": "B5", "height": "175", "weight": "70", "bmi": "22.9"},
    {"encounter_no": "B6", "height": "120", "weight": "22", "bmi": "18.0", "resident": "C"},  # 15.28: any age
]
_FU = dict(resident="A", org_unit=V_EAST, program="hypertension", mode="1", service_date="2025-05-05")
FOLLOW_UPS = [
    # R-04 emergency BP ≥180 / ≥110 without referral
    {"encounter_no": "U1", "sbp": "180", "dbp": "100"}, {"encounter_no": "U2", "sbp": "179", "dbp": "109"},
    {"encounter_no": "U3", "sbp": "150", "dbp": "110"},
    {"encounter_no": "U4", "sbp": "185", "dbp": "100", "referral": "1"},
    # R-10 emergency glucose ≤3.9 / ≥16.7 without referral
    {"encounter_no": "L1", "program": "diabetes", "fasting_glucose": "3.9"},
    {"encounter_no": "L2", "program": "diabetes", "fasting_glucose": "4.0"},
    {"encounter_no": "L3", "program": "diabetes", "fasting_glucose": "16.6"},
    {"encounter_no": "L4", "program": "diabetes", "fasting_glucose": "16.7"},
    {"encounter_no": "L5", "program": "diabetes", "fasting_glucose": "2.0", "referral": "1"},
]
RULES = ["R-01", "R-02", "R-03", "R-04", "R-05", "R-06", "R-09", "R-10"]


def test_plausibility_bands(tmp_path):
    eng = build(tmp_path, {**people(PEOPLE), "health_examinations": rows(_EXAM, EXAMS),
                           "chronic_follow_ups": rows(_FU, FOLLOW_UPS)})
    found = findings(eng, RULES)
    assert flagged(found, "R-01") == ["H1", "H4", "H6"]
    assert flagged(found, "R-02") == ["W1", "W4"]
    assert flagged(found, "R-03") == ["G1", "G4"]
    assert flagged(found, "R-04") == ["U1", "U3"]
    assert flagged(found, "R-05") == ["S1", "S4"]
    assert flagged(found, "R-06") == ["P1", "P4"]
    assert flagged(found, "R-09") == ["B2", "B4", "B6"]
    assert flagged(found, "R-10") == ["L1", "L4"]

    assert message(found, "R-01", "H1") == "身高 129.9 cm 超出 130–200"
    assert message(found, "R-02", "W4") == "体重 150.5 kg 超出 30–150"
    assert message(found, "R-03", "G1") == "腰围 54.9 cm 超出 55–140"
    assert message(found, "R-04", "U1") == "血压 180/100 达急症水平，应有紧急转诊处理"
    assert message(found, "R-05", "S1") == "左侧脉压差 19 超出 20–100"
    assert message(found, "R-05", "S4") == "右侧脉压差 101 超出 20–100"
    assert message(found, "R-06", "P4") == "脉率 121 超出 50–120"
    assert message(found, "R-09", "B2") == "体质指数 22.7 与体重/身高² 22.5 不符"
    assert message(found, "R-09", "B6") == "体质指数 18 与体重/身高² 15.28 不符"
    assert message(found, "R-10", "L4") == "空腹血糖 16.7 达急症水平"
    assert {f["table"] for f in found if f["rule"] == "R-10"} == {"chronic_follow_ups"}
