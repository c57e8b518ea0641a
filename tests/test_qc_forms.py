"""C-06 用药情况填写不规范 on a hand-built region: which follow-ups' medication sections are judged, what each entry
lacks, and the message. Seed 001 (长上卫字〔2024〕30号) names the fault; the 3rd-edition follow-up form asks, per
drug, 药物名称 and 用法用量 "每日 次 每次 mg" ([exam-form-2017])."""

from __future__ import annotations

import pytest

from tests.qc_signal_fixtures import V_EAST, build, findings, flagged, message, resident, table

pytestmark = pytest.mark.django_db

# (key, program, adherence, medication[, void]); adherence 1 规律, 2 间断, 3 不服药
MEDICATION = [
    ("M01", "hypertension", "1", "氨氯地平片 每日1次 每次5mg"),                 # name, frequency, dose: fine
    ("M02", "hypertension", "1", "按医嘱服药"),                                # boilerplate, no drug
    ("M03", "hypertension", "1", ""),                                         # takes drugs, none written
    ("M04", "hypertension", "3", "无"),                                       # 不服药 and "无": consistent
    ("M05", "hypertension", "", ""),                                          # no adherence: C-04's business
    ("M06", "hypertension", "1", "氨氯地平片 每日1次 每次5mg；二甲双胍"),       # 2nd entry: no dose, no frequency
    ("M07", "hypertension", "1", "每日1次 每次5mg"),                           # dose and frequency of no drug
    ("M08", "hypertension", "2", "硝苯地平缓释片 10mg bid"),                    # bid is a frequency
    ("M09", "hypertension", "1", "氨氯地平 5mg"),                              # no times per day
    ("M10", "diabetes", "1", "二甲双胍 每日3次"),                               # "3次" is no dose
    ("M11", "copd", "1", "按医嘱服药"),                                        # COPD is not checked
    ("M12", "hypertension", "1", "厄贝沙坦片 每日1次 每次150mg、氨氯地平片 每日1次 每次5mg"),  # two full entries
    ("M13", "diabetes", "2", "服药"),                                          # boilerplate
    ("M14", "hypertension", "1", "无"),                                        # 规律 yet "无"
    ("M15", "hypertension", "1", "按医嘱服药", "1"),                           # void: not a service
    ("M16", "hypertension", "1", "氨氯地平片 每日1次 每次5mg；同前"),           # "同前" is no drug
    ("M17", "diabetes", "1", "格列美脲 2mg qd"),                                # qd is a frequency
]


def medication_tables() -> dict:
    rows = [{"encounter_no": r[0], "resident": "MED" + r[0], "program": r[1], "adherence": r[2],
             "medication": r[3], "is_void": r[4] if len(r) > 4 else "0"} for r in MEDICATION]
    return {"residents": table([resident(r["resident"]) for r in rows]),
            "chronic_follow_ups": table(rows, org_unit=V_EAST, service_date="2025-06-01", mode="1", sbp="130",
                                        dbp="80", classification="1")}


def test_c06_medication_entries(tmp_path):
    eng = build(tmp_path, medication_tables())
    found = findings(eng, ["C-06"])
    # flagged: the boilerplate texts (M02, M13), drugs taken but none written (M03 blank, M14 "无"), and the
    # entries lacking a part (M06, M07, M09, M10, M16); M01, M08, M12, M17 are complete, M04 says 不服药 and 无,
    # M05 has no adherence (C-04), M11 is COPD and M15 void
    assert flagged(eng, found, "C-06") == ["M02", "M03", "M06", "M07", "M09", "M10", "M13", "M14", "M16"]
    assert message(eng, found, "C-06", "M02") == "用药情况“按医嘱服药”：只写了笼统的服药说法，未写药物名称"
    assert message(eng, found, "C-06", "M03") == "用药情况“（空）”：服药依从性为规律或间断，但未写所服药物"
    assert message(eng, found, "C-06", "M14") == "用药情况“无”：服药依从性为规律或间断，但未写所服药物"
    assert message(eng, found, "C-06", "M06") == \
        "用药情况“氨氯地平片 每日1次 每次5mg；二甲双胍”：未写每次剂量、未写每日次数"
    assert message(eng, found, "C-06", "M07") == "用药情况“每日1次 每次5mg”：有药物未写名称"
    assert message(eng, found, "C-06", "M09") == "用药情况“氨氯地平 5mg”：未写每日次数"
    assert message(eng, found, "C-06", "M10") == "用药情况“二甲双胍 每日3次”：未写每次剂量"
    # "同前" names no drug and has neither dose nor frequency
    assert message(eng, found, "C-06", "M16") == \
        "用药情况“氨氯地平片 每日1次 每次5mg；同前”：有药物未写名称、未写每次剂量、未写每日次数"


# --- L-11 --------------------------------------------------------------------------------------------------
def _answers(item32: int, length: int = 33) -> str:
    """Every item answered 3 except item 32 (腹部肥满)."""
    return ("3" * 31 + str(item32) + "3")[:length]


# (key, [(exam date, waist)], questionnaire date, item 32 answer[, answers length])
# item 32 from the waist [tcm-constitution]: < 80 → 1, 80–85 → 2, 85.1–90 → 3, 90.1–105 → 4, > 105 → 5
WAISTS = [
    ("K1", [("2025-05-01", "79.9")], "2025-05-01", 1),                        # < 80 → 1: agrees
    ("K2", [("2025-05-01", "80.0")], "2025-05-01", 1),                        # 80 → 2: flagged
    ("K3", [("2025-05-01", "85.0")], "2025-05-01", 2),                        # 85 is still band 2: agrees
    ("K4", [("2025-05-01", "85.5")], "2025-05-01", 2),                        # 85.5 → 3: flagged
    ("K5", [("2025-03-01", "88.0"), ("2025-09-01", "95.0")], "2025-08-01", 4),  # agrees with the September exam
    ("K6", [("2025-03-01", "88.0"), ("2025-09-01", "95.0")], "2025-08-01", 5),  # agrees with neither: flagged
    ("K7", [("2024-05-01", "100.0")], "2025-05-01", 1),                       # no exam in 2025: not judged
    ("K8", [("2025-05-01", "100.0")], "2025-05-01", 1, 32),                   # incomplete questionnaire
    ("K9", [("2025-05-01", "105.0")], "2025-05-01", 5),                       # 105 → 4: flagged
    ("K10", [("2025-05-01", "105.1")], "2025-05-01", 5),                      # > 105 → 5: agrees
]


def waist_tables() -> dict:
    exams, forms = [], []
    for key, measured, on, item32, *length in WAISTS:
        who = "TCM" + key
        exams += [{"encounter_no": f"{key}X{i}", "resident": who, "service_date": d, "waist": w}
                  for i, (d, w) in enumerate(measured)]
        forms.append({"encounter_no": key, "resident": who, "service_date": on,
                      "answers": _answers(item32, *length)})
    return {"residents": table([resident("TCM" + r[0]) for r in WAISTS]),
            "health_examinations": table(exams, org_unit=V_EAST, trigger="elderly"),
            "tcm_constitutions": table(forms, org_unit=V_EAST)}


def test_l11_tcm_item_32_against_the_waist(tmp_path):
    eng = build(tmp_path, waist_tables())
    found = findings(eng, ["L-11"])
    assert flagged(eng, found, "L-11") == ["K2", "K4", "K6", "K9"]
    assert message(eng, found, "L-11", "K2") == "第32题（腹部肥满）答 1 分，而当年体检腰围 80 cm（2025-05-01）应计 2 分"
    assert message(eng, found, "L-11", "K4") == "第32题（腹部肥满）答 2 分，而当年体检腰围 85.5 cm（2025-05-01）应计 3 分"
    # K6: the September exam (31 days from the questionnaire) is nearer than the March one (153 days)
    assert message(eng, found, "L-11", "K6") == "第32题（腹部肥满）答 5 分，而当年体检腰围 95 cm（2025-09-01）应计 4 分"
    assert message(eng, found, "L-11", "K9") == "第32题（腹部肥满）答 5 分，而当年体检腰围 105 cm（2025-05-01）应计 4 分"


def test_waist_bands_agree_with_the_rulebook(tmp_path):
    """The engine's banding is the rulebook's (spec.constitution.waist_item_score) at every tenth from 70 to 110."""
    from decimal import Decimal

    import ibis
    import pyarrow as pa

    from gongwei.engine.quality.forms import waist_item_score
    from gongwei.spec.constitution import waist_item_score as rulebook

    waists = [Decimal(700 + i) / 10 for i in range(401)]  # decimal(4, 1), as the snapshot stores the waist
    t = ibis.memtable(pa.table({"waist": pa.array(waists, pa.decimal128(4, 1))}))
    got = ibis.duckdb.connect().to_pyarrow(t.select(s=waist_item_score(t.waist))).column("s").to_pylist()
    assert got == [rulebook(float(w)) for w in waists]


def test_constitution_scoring_in_the_engine_is_the_rulebooks():
    """forms.identified_constitutions (Ibis) gives spec.constitution.identified (plain Python) on 300 random
    questionnaires and on hand-worked edge cases [tcm-constitution]: all 1s (平和质 1 + 4×5 = 21 with items 2, 4, 5, 13
    reversed, every biased sum 4 < 8 → 是), all 3s (every biased sum 12 ≥ 11 → 是; 平和质 15 < 17 → 否), all 2s
    (biased 8 → 否; 平和质 18 → 是), and all 2s but item 3 = 3 (气虚质 2 + 3 + 2 + 2 = 9 → 倾向是, so 平和质 18
    with every biased sum < 10 → 基本是)."""
    import ibis
    import numpy as np
    import pyarrow as pa

    from gongwei.engine.quality.forms import identified_constitutions
    from gongwei.spec import constitution

    rng = np.random.default_rng(8)
    texts = ["".join(map(str, rng.integers(1, 6, 33))) for _ in range(300)]
    texts += ["1" * 33, "3" * 33, "2" * 33, "22" + "3" + "2" * 30]
    t = ibis.memtable(pa.table({"answers": texts}))
    got = ibis.duckdb.connect().to_pyarrow(t.select(c=identified_constitutions(t.answers))).column("c").to_pylist()
    want = [",".join(s.constitution.value for s in constitution.identified(x)) for x in texts]
    assert got == want
    biased = ",".join(c.value for c in constitution.BIASED)
    assert got[300:] == ["balanced", biased, "balanced", "qi_deficiency,balanced"]


# --- L-12 --------------------------------------------------------------------------------------------------
# Answers whose score is worked out by hand (ZYYXH/T157-2009, spec.constitution): every item 1 except the 气虚质
# items 2, 3, 4, 14, answered 4. 气虚质 sums to 16 ≥ 11 → 是; every other biased constitution sums to 4 → 否;
# 平和质 = item 1 (1) + reversed items 2, 4 (6 − 4 = 2 each), 5, 13 (6 − 1 = 5 each) = 15 < 17 → 否.
def _answers_for(high: dict[int, int], rest: int = 1) -> str:
    return "".join(str(high.get(i, rest)) for i in range(1, 34))


_QI = {2: 4, 3: 4, 4: 4, 14: 4}
# (key, answers, recorded result); "" = not recorded
RESULTS = [
    ("R1", _answers_for(_QI), "qi_deficiency"),                      # agrees
    ("R2", _answers_for(_QI), "balanced"),                           # scored 气虚质, recorded 平和质: flagged
    ("R3", _answers_for(_QI), ""),                                   # no recorded result: not judged
    ("R4", _answers_for(_QI), "qi_deficiency,yang_deficiency"),      # one too many: flagged
    ("R5", _answers_for(_QI)[:32], "balanced"),                      # incomplete questionnaire: not judged
]


def constitution_tables() -> dict:
    return {"residents": table([resident("TCM" + r[0]) for r in RESULTS]),
            "tcm_constitutions": table([{"encounter_no": k, "resident": "TCM" + k, "service_date": "2025-05-01",
                                         "answers": a, "recorded_result": rec} for k, a, rec in RESULTS],
                                       org_unit=V_EAST)}


def test_l12_recorded_constitution_against_the_answers(tmp_path):
    from gongwei.spec import constitution

    # the hand reasoning above, checked against the rulebook's own scoring
    assert [s.constitution.value for s in constitution.identified(_answers_for(_QI))] == ["qi_deficiency"]
    eng = build(tmp_path, constitution_tables())
    found = findings(eng, ["L-12"])
    assert flagged(eng, found, "L-12") == ["R2", "R4"]
    assert message(eng, found, "L-12", "R2") == "记录的体质辨识结果为“平和质”，而 33 题答案计分为“气虚质”"
    assert message(eng, found, "L-12", "R4") == "记录的体质辨识结果为“气虚质、阳虚质”，而 33 题答案计分为“气虚质”"
