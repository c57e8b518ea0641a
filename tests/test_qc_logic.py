"""Logic rules L-01 (sex vs maternal services), L-02 (age vs program), L-06/L-07 (visit class vs measurement) and
L-08 ("有" without details), with ages right at each program's bounds."""

from __future__ import annotations

import pytest

from gongwei.spec.followup import BloodPressureTarget
from gongwei.spec.programs import hypertension
from gongwei.spec.rules import ByYear
from tests.qc_fixtures import V_EAST, build, findings, flagged, message, people, rows

pytestmark = pytest.mark.django_db

_PREG = dict(org_unit=V_EAST, gestational_weeks="12")
_POST = dict(org_unit=V_EAST, visit_type="home_visit")


def test_sex_vs_maternal_services(tmp_path):
    eng = build(tmp_path, {
        **people([{"record_no": "M", "sex": "1"}, {"record_no": "F", "sex": "2"}]),
        "prenatal_visits": rows(_PREG, [
            {"encounter_no": "PV1", "resident": "M", "service_date": "2025-03-01"},
            {"encounter_no": "PV2", "resident": "F", "service_date": "2025-03-01"},
            {"encounter_no": "PV3", "resident": "M", "service_date": "2025-04-01", "is_void": "1"},
            {"encounter_no": "PV4", "resident": "M", "service_date": "2024-12-31"},
        ]),
        "postpartum_visits": rows(_POST, [
            {"encounter_no": "PP1", "resident": "M", "service_date": "2025-09-01"},
            {"encounter_no": "PP2", "resident": "F", "service_date": "2025-09-01"},
        ]),
    })
    found = findings(eng, ["L-01"])
    assert flagged(found, "L-01") == ["PP1", "PV1"]
    assert message(found, "L-01", "PV1") == "男性居民有孕产妇服务记录"
    assert {f["number"]: f["table"] for f in found} == {"PV1": "prenatal_visits", "PP1": "postpartum_visits"}


_ENR = dict(org_unit=V_EAST, start_date="2025-06-01")


def test_age_vs_program(tmp_path):
    """Ages on the start date 2025-06-01: born 1990-06-01 is 35, born 1990-06-02 is 34. The elderly program counts
    the age reached in the year: born 1960 is 65 in 2025 even on 2 January."""
    eng = build(tmp_path, {
        **people([
            {"record_no": "A35", "birth_date": "1990-06-01"}, {"record_no": "A34", "birth_date": "1990-06-02"},
            {"record_no": "O65", "birth_date": "1960-12-31"}, {"record_no": "O64", "birth_date": "1961-01-01"},
            {"record_no": "K6", "birth_date": "2018-06-02"}, {"record_no": "K7", "birth_date": "2018-06-01"},
            {"record_no": "W30", "sex": "2", "birth_date": "1995-01-01"}, {"record_no": "M30", "birth_date": "1995-01-01"},
            {"record_no": "W49", "sex": "2", "birth_date": "1976-06-01"},
            {"record_no": "W50", "sex": "2", "birth_date": "1975-06-01"},
            {"record_no": "W15", "sex": "2", "birth_date": "2010-06-01"},
            {"record_no": "W14", "sex": "2", "birth_date": "2010-06-02"},
        ]),
        "enrollments": rows(_ENR, [
            {"enrollment_no": "EH35", "resident": "A35", "program": "hypertension"},
            {"enrollment_no": "EH34", "resident": "A34", "program": "hypertension"},
            {"enrollment_no": "ED34", "resident": "A34", "program": "diabetes"},
            {"enrollment_no": "EH34-OLD", "resident": "A34", "program": "hypertension", "start_date": "2020-01-01",
             "end_date": "2024-12-31"},                                                # not active in 2025
            {"enrollment_no": "EL65", "resident": "O65", "program": "elderly", "start_date": "2025-01-02"},
            {"enrollment_no": "EL64", "resident": "O64", "program": "elderly", "start_date": "2025-12-31"},
            {"enrollment_no": "EC6", "resident": "K6", "program": "child"},
            {"enrollment_no": "EC7", "resident": "K7", "program": "child"},
            {"enrollment_no": "EP-W30", "resident": "W30", "program": "pregnancy"},
            {"enrollment_no": "EP-M30", "resident": "M30", "program": "pregnancy"},
            {"enrollment_no": "EP-W49", "resident": "W49", "program": "pregnancy"},
            {"enrollment_no": "EP-W50", "resident": "W50", "program": "pregnancy"},
            {"enrollment_no": "EP-W15", "resident": "W15", "program": "pregnancy"},
            {"enrollment_no": "EP-W14", "resident": "W14", "program": "pregnancy"},
            {"enrollment_no": "ES", "resident": "K7", "program": "smi"},               # no age rule
        ]),
    })
    found = findings(eng, ["L-02"])
    assert flagged(found, "L-02") == ["EC7", "ED34", "EH34", "EL64", "EP-M30", "EP-W14", "EP-W50"]
    assert message(found, "L-02", "EH34") == "高血压患者健康管理纳入时年龄 34 岁，不符合 35 岁及以上"
    assert message(found, "L-02", "EL64") == "老年人健康管理纳入时年龄 64 岁，不符合 65 岁及以上（按纳入当年年底计）"
    assert message(found, "L-02", "EC7") == "0～6岁儿童健康管理纳入时年龄 7 岁，不符合 0–6 岁"
    assert message(found, "L-02", "EP-M30") == "孕产妇健康管理纳入时年龄 30 岁，不符合 15–49 岁女性"
    assert {f["table"] for f in found} == {"enrollments"}


_FU = dict(org_unit=V_EAST, program="hypertension", mode="1", classification="1", service_date="2025-05-05")


def _follow_up_region(tmp_path):
    return build(tmp_path, {
        **people([{"record_no": "P", "birth_date": "1960-01-01"}, {"record_no": "Y", "birth_date": "1961-05-06"}]),
        "chronic_follow_ups": rows(_FU, [
            # L-06: 控制满意 needs < 140/90
            {"encounter_no": "C1", "resident": "Y", "sbp": "139", "dbp": "89"},
            {"encounter_no": "C2", "resident": "Y", "sbp": "140", "dbp": "80"},
            {"encounter_no": "C3", "resident": "Y", "sbp": "130", "dbp": "90"},
            {"encounter_no": "C4", "resident": "Y", "sbp": "150", "dbp": "95", "classification": "2"},
            {"encounter_no": "C5", "resident": "Y", "mode": "3"},                          # phone, no BP
            {"encounter_no": "C6", "resident": "Y", "sbp": "150", "dbp": "95", "program": "diabetes"},
            {"encounter_no": "C7", "resident": "P", "sbp": "145", "dbp": "85"},            # 65 that day
            {"encounter_no": "C8", "resident": "Y", "sbp": "145", "dbp": "85"},            # 63 that day
            {"encounter_no": "C9", "resident": "P", "sbp": "150", "dbp": "85"},            # 65 that day
            # L-07: 控制满意 needs fasting glucose < 7.0
            {"encounter_no": "G1", "resident": "P", "program": "diabetes", "fasting_glucose": "6.9"},
            {"encounter_no": "G2", "resident": "P", "program": "diabetes", "fasting_glucose": "7.0"},
            {"encounter_no": "G3", "resident": "P", "program": "diabetes", "fasting_glucose": "7.1",
             "classification": "2"},
            {"encounter_no": "G4", "resident": "P", "program": "diabetes"},
            # L-08
            {"encounter_no": "N1", "resident": "P", "classification": "3", "adverse_reaction": "1"},
            {"encounter_no": "N2", "resident": "P", "classification": "3", "adverse_reaction": "1",
             "adverse_reaction_text": "干咳"},
            {"encounter_no": "N3", "resident": "P", "classification": "2", "referral": "1",
             "referral_reason": "血压控制不佳"},
            {"encounter_no": "N4", "resident": "P", "classification": "3", "referral": "1", "adverse_reaction": "1"},
            {"encounter_no": "N5", "resident": "P", "classification": "2", "referral": "1",
             "referral_reason": "血压控制不佳", "referral_institution": "县医院心内科"},
            {"encounter_no": "N6", "resident": "P", "classification": "2", "referral": "0"},
        ]),
    })


def test_visit_class_and_details(tmp_path):
    eng = _follow_up_region(tmp_path)
    found = findings(eng, ["L-06", "L-07", "L-08"])
    # 控制满意 needs < 140/90, and SBP < 150 from 65 on the visit date (hypertension.CONTROL, 3rd edition):
    # C7 (65, 145/85) is controlled; C9 (65, 150/85) is not; C8 (63, 145/85) is not.
    assert flagged(found, "L-06") == ["C2", "C3", "C8", "C9"]
    assert message(found, "L-06", "C9") == "随访分类为控制满意，但血压 150/85 ≥ 150/90"
    assert flagged(found, "L-07") == ["G2"]
    assert flagged(found, "L-08") == ["N1", "N3", "N4"]
    assert message(found, "L-06", "C2") == "随访分类为控制满意，但血压 140/80 ≥ 140/90"
    assert message(found, "L-07", "G2") == "随访分类为控制满意，但空腹血糖 7 ≥ 7"
    assert message(found, "L-08", "N1") == "药物不良反应为“有”但未填写具体表现"
    assert message(found, "L-08", "N3") == "转诊未填写机构及科别"
    assert message(found, "L-08", "N4") == "药物不良反应为“有”但未填写具体表现；转诊未填写原因；转诊未填写机构及科别"


def test_region_counting_every_age_against_140(tmp_path, monkeypatch):
    """A province (code prefix 36, the fixture's root 江西省) that counts every age against 140/90 overrides the
    rulebook's target: the 65-year-old's 145/85 (C7) is then flagged too."""
    monkeypatch.setattr(hypertension, "REGIONAL_CONTROL", {"36": ByYear({2017: BloodPressureTarget(sbp=140, dbp=90)})})
    found = findings(_follow_up_region(tmp_path), ["L-06"])
    assert flagged(found, "L-06") == ["C2", "C3", "C7", "C8", "C9"]
    assert message(found, "L-06", "C7") == "随访分类为控制满意，但血压 145/85 ≥ 140/90"


def test_visit_class_and_control_rate_agree(tmp_path, monkeypatch):
    """H3 and L-06 read one target, so a last visit classed 控制满意 is controlled in H3 exactly when L-06 does
    not flag it. A65 is 65 on 5 Nov 2025 (born 1 Jan 1960), A64 turns 65 the day after; both 145/85, 控制满意.
    Default (SBP < 150 from 65): A65 controlled, not flagged; A64 not controlled, flagged.
    Region 36 at 140/90 for every age: neither controlled, both flagged."""
    from gongwei.engine import registry
    from gongwei.spec.periods import parse

    def build_region(root):
        return build(root, {
            **people([{"record_no": "A65", "birth_date": "1960-01-01"}, {"record_no": "A64", "birth_date": "1960-11-06"}]),
            "enrollments": rows(_ENR, [{"enrollment_no": "E65", "resident": "A65", "program": "hypertension"},
                                       {"enrollment_no": "E64", "resident": "A64", "program": "hypertension"}]),
            "chronic_follow_ups": rows({**_FU, "service_date": "2025-11-05", "sbp": "145", "dbp": "85"}, [
                {"encounter_no": "F65", "resident": "A65"}, {"encounter_no": "F64", "resident": "A64"}]),
        })

    def both(eng):
        state = registry.state(eng, "hypertension", parse("2025")).to_pyarrow().to_pylist()
        records = {r["id"]: r["record_no"]
                   for r in eng.table("residents").select("id", "record_no").to_pyarrow().to_pylist()}
        controlled = sorted(records[r["resident_id"]] for r in state if r["controlled"])
        return controlled, flagged(findings(eng, ["L-06"]), "L-06")

    assert both(build_region(tmp_path / "a")) == (["A65"], ["F64"])
    monkeypatch.setattr(hypertension, "REGIONAL_CONTROL", {"36": ByYear({2017: BloodPressureTarget(sbp=140, dbp=90)})})
    assert both(build_region(tmp_path / "b")) == ([], ["F64", "F65"])


@pytest.mark.sqlite_only  # the Spark backend on a snapshot: once, not per database (docs/testing.md)
def test_duckdb_and_pyspark_agree_on_every_rule(tmp_path):
    """The identity, completeness, plausibility and logic families give the same findings on both backends;
    the region makes every one of them fire."""
    from gongwei.engine.backends import Engine
    from gongwei.engine.quality import evaluate
    from gongwei.spec.periods import parse
    from tests.qc_fixtures import MY_RULES, every_rule_region

    duck = build(tmp_path, every_rule_region())
    spark = Engine(duck.snapshot, "pyspark")

    def hits(eng):
        out = evaluate(eng, parse("2025"), MY_RULES)
        return sorted(zip(out.column("rule").to_pylist(), out.column("record_id").to_pylist(),
                          out.column("message").to_pylist(), strict=True))

    on_duckdb = hits(duck)
    assert {rule for rule, _, _ in on_duckdb} == set(MY_RULES)
    assert hits(spark) == on_duckdb
