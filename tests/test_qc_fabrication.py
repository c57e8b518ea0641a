"""Fabrication signals F-01 … F-11 on hand-built regions (one per rule group, so one group's rows cannot
trigger another's rule): rows that must trigger, rows right at each threshold that must not, and messages.
The last test runs both rule families on DuckDB and PySpark and compares the findings."""

from __future__ import annotations

import pyarrow as pa
import pytest

from gongwei.engine.quality import Check, fabrication
from gongwei.spec.periods import parse
from gongwei.spec.quality import rules
from tests import test_qc_forms, test_qc_temporal
from tests.qc_signal_fixtures import (
    T_LINQUAN,
    T_PUTING,
    V_EAST,
    V_LIN,
    V_WEST,
    build,
    findings,
    flagged,
    message,
    natural_keys,
    resident,
    table,
)

pytestmark = pytest.mark.django_db

FABRICATION = ["F-01", "F-02", "F-03", "F-03b", "F-04", "F-05", "F-10", "F-10b", "F-11"]
SIX = ("height", "weight", "waist", "sbp_left", "dbp_left", "pulse")


def _exam(key: str, who: str, date: str, values: tuple, unit: str = T_PUTING) -> dict:
    return {"encounter_no": key, "resident": who, "service_date": date, "org_unit": unit,
            **{f: ("" if v is None else str(v)) for f, v in zip(SIX, values, strict=True)}}


# --- F-01 ---------------------------------------------------------------------------------------------------
LOOKALIKE_EXAMS = [
    _exam("LA", "L1", "2025-03-01", (165.0, 60.0, 80.0, 130, 80, 72)),
    _exam("LB", "L2", "2025-03-02", (165.0, 60.0, 80.0, 130, 82, 75)),    # 4 of 6 equal to LA
    _exam("LC", "L3", "2025-03-03", (165.0, 60.0, 80.0, 131, 81, 70)),    # 3 of 6 with LA and LB
    _exam("LE1", "L4", "2025-04-01", (172.0, 66.0, 88.0, 140, 90, 80)),
    _exam("LE2", "L4", "2025-09-01", (172.0, 66.0, 88.0, 140, 90, 80)),   # the same person twice
    _exam("LF", "L5", "2025-03-01", (165.0, 60.0, 80.0, 130, 80, 72), T_LINQUAN),  # another township
    _exam("LG", "L6", "2024-11-01", (165.0, 60.0, 80.0, 130, 80, 72)),    # another year
    _exam("LI", "L7", "2025-05-01", (158.0, 52.5, 77.5, 120, 70, 66)),
    _exam("LJ", "L8", "2025-05-02", (158.0, 52.5, 77.5, 120, 70, 68)),    # 5 of 6 equal to LI
    _exam("LK", "L9", "2025-06-01", (170.0, 70.0, 85.0, None, None, 70)),
    _exam("LL", "L10", "2025-06-02", (170.0, 70.0, 85.0, None, None, 71)),  # 3 equal, blanks never agree
]


def lookalike_tables() -> dict:
    return {"residents": table([resident(f"L{i}") for i in range(1, 11)]),
            "health_examinations": table(LOOKALIKE_EXAMS, trigger="elderly")}


def test_f01_lookalike_exams(tmp_path):
    eng = build(tmp_path, lookalike_tables())
    found = findings(eng, ["F-01"])
    assert flagged(eng, found, "F-01") == ["LA", "LB", "LI", "LJ"]
    assert message(eng, found, "F-01", "LB") == "与同机构同年度另 1 人的体检 身高、体重、腰围、左侧收缩压 完全相同"
    assert message(eng, found, "F-01", "LJ") == \
        "与同机构同年度另 1 人的体检 身高、体重、腰围、左侧收缩压、左侧舒张压 完全相同"
    # the maternal-child year (Oct 2024 – Sep 2025) holds LG too, but in another calendar year
    found = findings(eng, ["F-01"], "2025MCY")
    assert flagged(eng, found, "F-01") == ["LA", "LB", "LI", "LJ"]


def test_f01_per_doctor(tmp_path):
    # scope "provider_year": LB is another doctor's, so LA no longer matches it — but LF (the same doctor in
    # another township) now does
    exams = [{**e, "provider": "S2" if e["encounter_no"] == "LB" else "S1"} for e in LOOKALIKE_EXAMS]
    eng = build(tmp_path, {**lookalike_tables(), "health_examinations": table(exams, trigger="elderly")})
    rule = rules()["F-01"]
    check = Check(eng, parse("2025"), rule, {**rule.params_for(2025), "scope": "provider_year"})
    got = fabrication.f01_lookalike_exams(check).to_pyarrow().to_pylist()
    keys = natural_keys(eng, "health_examinations")
    assert sorted(keys[r["record_id"]] for r in got) == ["LA", "LF", "LI", "LJ"]
    assert {r["scope_zh"] for r in got} == {"同一医生"}


# the same six values at two villages of 蒲亭镇, at a village of 林泉乡 and at 蒲亭镇's own health centre
T_SAME = (160.0, 55.0, 78.0, 125, 78, 70)
WIDE_EXAMS = [
    _exam("TA", "W1", "2025-04-01", T_SAME, V_EAST),
    _exam("TB", "W2", "2025-04-02", T_SAME, V_WEST),                            # 蒲亭镇, another village
    _exam("TC", "W3", "2025-04-03", T_SAME, V_LIN),                             # 林泉乡, the same county
    _exam("TD", "W4", "2025-04-04", (170.0, 65.0, 85.0, 135, 85, 75), T_PUTING),  # the township centre itself
    _exam("TE", "W5", "2025-04-05", (170.0, 65.0, 85.0, 135, 85, 76), V_EAST),    # 5 of 6 with TD
]


def _f01(eng, scope: str) -> dict[str, str]:
    rule = rules()["F-01"]
    check = Check(eng, parse("2025"), rule, {**rule.params_for(2025), "scope": scope})
    got = fabrication.f01_lookalike_exams(check).to_pyarrow().to_pylist()
    keys = natural_keys(eng, "health_examinations")
    return {keys[r["record_id"]]: f"{r['scope_zh']} {r['other_count']} {r['equal_fields']}" for r in got}


def wide_tables() -> dict:
    return {"residents": table([resident(f"W{i}") for i in range(1, 6)]),
            "health_examinations": table(WIDE_EXAMS, trigger="elderly")}


def test_f01_township_and_county_scopes(tmp_path):
    eng = build(tmp_path, wide_tables())
    six = "身高、体重、腰围、左侧收缩压、左侧舒张压、脉率"
    # per unit: every exam is at its own unit (TA and TE share 城东村 but agree on nothing)
    assert _f01(eng, "org_unit_year") == {}
    # per township (tests/regions.py: 城东村 and 城西村 are under 蒲亭镇, 林泉村 under 林泉乡): TA = TB in 蒲亭镇;
    # TD, served by the township centre, is in 蒲亭镇 too and matches TE on 5 of 6 (pulse 75 ≠ 76); TC is alone
    assert _f01(eng, "township_year") == {
        "TA": f"同乡镇 1 {six}", "TB": f"同乡镇 1 {six}",
        "TD": "同乡镇 1 身高、体重、腰围、左侧收缩压、左侧舒张压", "TE": "同乡镇 1 身高、体重、腰围、左侧收缩压、左侧舒张压"}
    # per county (德安县 holds both townships): TC joins TA and TB, each of the three has 2 others
    county = _f01(eng, "county_year")
    assert sorted(county) == ["TA", "TB", "TC", "TD", "TE"]
    assert county["TC"] == f"同县（区） 2 {six}"
    # the message names the scope
    rule = rules()["F-01"]
    assert rule.message.format(scope_zh="同乡镇", other_count=1, equal_fields="身高") == "与同乡镇同年度另 1 人的体检 身高 完全相同"


def test_f01_rejects_an_unknown_scope(tmp_path):
    eng = build(tmp_path, {"residents": table([resident("W1")]), "health_examinations": table(WIDE_EXAMS[:1], trigger="elderly")})
    with pytest.raises(ValueError, match="scope"):
        _f01(eng, "province_year")


# --- F-02 ---------------------------------------------------------------------------------------------------
def _fu(key: str, who: str, date: str, sbp: object, dbp: object, weight: object, **kw: object) -> dict:
    return {"encounter_no": key, "resident": who, "service_date": date, "sbp": sbp, "dbp": dbp, "weight": weight,
            **kw}


COPIED = [
    *[_fu(f"C1{i}", "C1", d, 130, 80, 60.0) for i, d in enumerate(["2025-01-10", "2025-04-10", "2025-07-10",
                                                                    "2025-10-10"])],  # a run of 4
    _fu("C21", "C2", "2025-01-10", 130, 80, 60.0), _fu("C22", "C2", "2025-04-10", 130, 80, 60.0),
    _fu("C23", "C2", "2025-07-10", 132, 80, 60.0), _fu("C24", "C2", "2025-10-10", 130, 80, 60.0),
    _fu("C25", "C2", "2025-12-10", 130, 80, 60.0),                                      # runs of 2, 1, 2
    *[_fu(f"C3{i}", "C3", d, 130, 80, None) for i, d in enumerate(["2025-01-10", "2025-04-10", "2025-07-10"])],
    _fu("C41", "C4", "2024-11-01", 128, 76, 58.5), _fu("C42", "C4", "2025-02-01", 128, 76, 58.5),
    _fu("C43", "C4", "2025-05-01", 128, 76, 58.5), _fu("C44", "C4", "2025-08-01", 128, 78, 58.5),
]


def copy_tables() -> dict:
    return {"residents": table([resident(f"C{i}") for i in range(1, 5)]),
            "enrollments": table([{"enrollment_no": f"EC{i}", "resident": f"C{i}"} for i in range(1, 5)],
                                 program="hypertension", org_unit=V_EAST, start_date="2024-01-01"),
            "chronic_follow_ups": table([{**r, "enrollment": "E" + r["resident"]} for r in COPIED],
                                        org_unit=V_EAST, program="hypertension", mode="1", classification="1",
                                        guidance="维持治疗")}


def test_f02_copy_forward(tmp_path):
    eng = build(tmp_path, copy_tables())
    found = findings(eng, ["F-02"])
    assert flagged(eng, found, "F-02") == ["C13", "C43"]
    assert message(eng, found, "F-02", "C13") == "连续 4 次随访血压、体重完全相同"
    assert message(eng, found, "F-02", "C43") == "连续 3 次随访血压、体重完全相同"


# --- F-03 / F-03b ---------------------------------------------------------------------------------------------
# (key, left SBP, right SBP): gaps of 10, 11, 20, 21 and 0 mmHg
GAPS = [("G10", 130, 140), ("G11", 130, 141), ("G20", 150, 130), ("G21", 151, 130), ("G00", 120, 120)]


def gap_tables() -> dict:
    return {"residents": table([resident("G")]),
            "health_examinations": table([{"encounter_no": k, "sbp_left": str(a), "sbp_right": str(b)}
                                          for k, a, b in GAPS], resident="G", org_unit=T_PUTING,
                                         service_date="2025-05-05", trigger="elderly", dbp_left="70")}


def test_f03_left_right_arm_gap(tmp_path):
    eng = build(tmp_path, gap_tables())
    found = findings(eng, ["F-03", "F-03b"])
    # [pingliang-2020q2] (平卫函发〔2020〕367号): "左右侧血压差大于10mmhg的体检记录人数为7749人，特别是左右侧血压差大于20mmhg的要
    # 隔天重测" — one figure for every gap above 10, the > 20 ones a subset of it. So F-03 takes 11, 20 and 21
    # (10 is not above 10); F-03b only 21 (20 is not above 20); 0 neither.
    assert flagged(eng, found, "F-03") == ["G11", "G20", "G21"]
    assert flagged(eng, found, "F-03b") == ["G21"]
    assert message(eng, found, "F-03", "G11") == "左右侧收缩压相差 11 mmHg（>10）"
    assert message(eng, found, "F-03", "G21") == "左右侧收缩压相差 21 mmHg（>10）"
    assert message(eng, found, "F-03b", "G21") == "左右侧收缩压相差 21 mmHg（>20），应隔天复测"


# --- F-04 -----------------------------------------------------------------------------------------------------
def _readings(doctor: str, values: list[tuple[int, int]]) -> list[dict]:
    return [_fu(f"D{doctor}{i}", f"D{doctor}{i}", "2025-06-01", s, d, 60.0, provider=doctor)
            for i, (s, d) in enumerate(values)]


DIGITS = [
    *_readings("S1", [(130, 80)] * 13 + [(133, 81)] * 2),   # 26 of 30 end in 0/5 → 86.7 %
    *_readings("S3", [(130, 80)] * 9 + [(133, 81)] * 6),    # 18 of 30 = 60 %: not above
    *_readings("S2", [(130, 80)] * 14),                     # 28 readings < 30
]


def digit_tables() -> dict:
    return {"residents": table([resident(r["resident"]) for r in DIGITS]),
            "chronic_follow_ups": table(DIGITS, org_unit=V_EAST, program="hypertension", mode="1")}


def test_f04_terminal_digit_preference(tmp_path):
    eng = build(tmp_path, digit_tables())
    found = findings(eng, ["F-04"])
    assert flagged(eng, found, "F-04") == ["S1"]
    assert message(eng, found, "F-04", "S1") == "医生 村医甲（S1） 的血压读数尾数为 0/5 的占 86.7%（30 个读数）"
    row = found.filter(pa.compute.equal(found.column("rule"), "F-04")).to_pylist()[0]
    assert row["resident_id"] is None and row["table"] == "staff"


# --- F-05 -----------------------------------------------------------------------------------------------------
def _burst(doctor: str, date: str, n: int, start: str, step_s: int, extra: list[str] = ()) -> list[dict]:
    h, m = (int(x) for x in start.split(":"))
    times = [h * 3600 + m * 60 + i * step_s for i in range(n)]
    stamps = [f"{date}T{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}+08:00" for s in times] + list(extra)
    return [{"encounter_no": f"V{doctor}{i}", "resident": f"V{doctor}", "service_date": date, "provider": doctor,
             "entered_at": ts} for i, ts in enumerate(stamps)]


THROUGHPUT = [
    *_burst("S1", "2025-03-03", 41, "08:00", 300),    # 41 services in a day (3 per 10 minutes)
    *_burst("S3", "2025-03-04", 40, "08:00", 60),     # 40 in a day, 11 per 10 minutes: neither cap exceeded
    *_burst("S2", "2025-04-01", 21, "09:00", 30),     # 21 entries in 10 minutes (09:00:00 – 09:10:00)
    *_burst("S4", "2025-04-02", 20, "09:00", 30, ["2025-04-02T09:10:01+08:00"]),  # at most 20 in any 10 minutes
]


def throughput_tables() -> dict:
    return {"residents": table([resident(f"V{s}") for s in ("S1", "S2", "S3", "S4")]),
            "vaccinations": table(THROUGHPUT, org_unit=T_PUTING, vaccine="HepB", dose_no="1")}


def test_f05_throughput(tmp_path):
    eng = build(tmp_path, throughput_tables())
    found = findings(eng, ["F-05"])
    assert flagged(eng, found, "F-05") == ["S1", "S2"]
    assert message(eng, found, "F-05", "S1") == (
        "账号 村医甲（S1） 单日服务最多 41 条（2025-03-03），10 分钟内录入最多 3 条（2025-03-03 08:00 起）；"
        "上限为每日 40 条、10 分钟 20 条")
    assert message(eng, found, "F-05", "S2") == (
        "账号 公卫乙（S2） 单日服务最多 21 条（2025-04-01），10 分钟内录入最多 21 条（2025-04-01 09:00 起）；"
        "上限为每日 40 条、10 分钟 20 条")


# --- F-10 / F-10b ---------------------------------------------------------------------------------------------
UNGUIDED = [  # (key, resident, program, date, class, guidance, adjusted, referral, next visit)
    ("U1", "U1", "hypertension", "2025-03-01", "2", "", "0", "0", "2025-06-01"),
    ("U2", "U2", "hypertension", "2025-03-01", "2", "", "0", "0", "2025-03-16"),    # 15 days
    ("U3", "U3", "hypertension", "2025-03-01", "2", "", "0", "0", "2025-03-15"),    # 14 days: a recheck
    ("U4", "U4", "hypertension", "2025-03-01", "2", "低盐饮食", "0", "0", "2025-06-01"),
    ("U5", "U5", "hypertension", "2025-03-01", "2", "", "1", "0", "2025-06-01"),
    ("U6", "U6", "hypertension", "2025-03-01", "2", "", "0", "1", "2025-06-01"),
    ("U7", "U7", "hypertension", "2025-03-01", "1", "", "0", "0", "2025-06-01"),    # controlled
    ("U8", "U8", "hypertension", "2025-03-01", "2", " ", "0", "0", ""),             # blank text, no next date
    ("U9", "U9", "diabetes", "2025-03-01", "2", "", "0", "0", "2025-06-01"),
    ("W1", "W", "hypertension", "2025-01-10", "2", "调整用药", "1", "0", "2025-01-24"),
    ("W2", "W", "hypertension", "2025-04-10", "2", "调整用药", "1", "0", "2025-04-24"),  # F-10b: 2nd in a row
    ("W3", "W", "hypertension", "2025-07-10", "2", "调整用药", "1", "1", "2025-07-24"),  # 3rd, referred
    ("W4", "W", "hypertension", "2025-10-10", "1", "维持治疗", "0", "0", "2026-01-10"),
    ("V1", "V", "diabetes", "2024-12-20", "2", "调整用药", "1", "0", "2025-01-03"),
    ("V2", "V", "diabetes", "2025-01-15", "2", "调整用药", "1", "0", "2025-01-29"),    # F-10b: after last year's
    ("Z1", "Z", "hypertension", "2025-01-10", "2", "调整用药", "1", "0", "2025-01-24"),
    ("Z2", "Z", "hypertension", "2025-02-10", "1", "维持治疗", "0", "0", "2025-05-10"),
    ("Z3", "Z", "hypertension", "2025-05-10", "2", "调整用药", "1", "0", "2025-05-24"),  # not consecutive
]


def guidance_tables() -> dict:
    cols = ("encounter_no", "resident", "program", "service_date", "classification", "guidance",
            "medication_adjusted", "referral", "next_visit_date")
    rows = [dict(zip(cols, r, strict=True)) for r in UNGUIDED]
    people = sorted({r["resident"] for r in rows})
    return {"residents": table([resident(p) for p in people]),
            "chronic_follow_ups": table(rows, org_unit=V_EAST, mode="1", sbp="150", dbp="95")}


def test_f10_uncontrolled_without_guidance(tmp_path):
    eng = build(tmp_path, guidance_tables())
    found = findings(eng, ["F-10", "F-10b"])
    assert flagged(eng, found, "F-10") == ["U1", "U2", "U8", "U9"]
    assert flagged(eng, found, "F-10b") == ["V2", "W2"]
    assert message(eng, found, "F-10", "U1") == "随访分类为控制不满意，但无健康指导、用药调整、转诊或 14 天内复诊安排"
    assert message(eng, found, "F-10b", "V2") == "连续两次随访控制不满意（2024-12-20、2025-01-15），未转诊"


# --- F-11 -----------------------------------------------------------------------------------------------------
def _patients(doctor: str, sets: list[str]) -> list[dict]:
    return [_fu(f"Y{doctor}{i}", f"Y{doctor}{i}", "2025-06-01", 130, 80, 60.0, provider=doctor, symptoms=s)
            for i, s in enumerate(sets)]


SYMPTOMS = [
    *_patients("S5", ["2,4"] * 10 + ["4,2"] * 9 + ["1"]),   # 19 of 20 tick 头痛头晕+眼花耳鸣: 95 %
    *_patients("S3", ["2"] * 18 + ["3"] * 2),               # 90 %: not above
    *_patients("S2", ["2"] * 19),                            # 19 patients < 20
    *_patients("S4", ["1"] * 20),                            # 无症状 is no boilerplate
]


def symptom_tables() -> dict:
    return {"residents": table([resident(r["resident"]) for r in SYMPTOMS]),
            "chronic_follow_ups": table(SYMPTOMS, org_unit=V_EAST, program="hypertension", mode="1")}


def test_f11_symptom_boilerplate(tmp_path):
    eng = build(tmp_path, symptom_tables())
    found = findings(eng, ["F-11"])
    assert flagged(eng, found, "F-11") == ["S5"]
    assert message(eng, found, "F-11", "S5") == "医生 村医戊（S5） 的 20 名患者中 95% 勾选相同症状（代码 2,4）"


# --- both families on both backends ---------------------------------------------------------------------------
def _merged(*groups: dict) -> dict:
    out: dict[str, list[pa.Table]] = {}
    for g in groups:
        for name, tbl in g.items():
            out.setdefault(name, []).append(tbl)
    return {name: pa.concat_tables(parts, promote_options="default") for name, parts in out.items()}


@pytest.mark.sqlite_only  # the Spark backend on a snapshot: once, not per database (docs/testing.md)
def test_duckdb_and_pyspark_agree(tmp_path):
    from gongwei.engine.backends import Engine

    tables = _merged(test_qc_temporal._tables(), lookalike_tables(), wide_tables(), copy_tables(), gap_tables(),
                     digit_tables(), throughput_tables(), guidance_tables(), symptom_tables(),
                     test_qc_forms.medication_tables(), test_qc_forms.waist_tables(),
                     test_qc_forms.constitution_tables())
    duck = build(tmp_path, tables)
    spark = Engine(duck.snapshot, "pyspark")
    # C-06 splits entries apart, L-11 bands waists and L-12 scores questionnaires on both backends alike
    codes = test_qc_temporal.TEMPORAL + FABRICATION + ["C-06", "L-11", "L-12"]
    got = {}
    for name, eng in (("duckdb", duck), ("pyspark", spark)):
        found = findings(eng, codes)
        got[name] = sorted(zip(found.column("rule").to_pylist(), found.column("record_id").to_pylist(),
                               found.column("message").to_pylist(), strict=True))
    assert got["duckdb"] == got["pyspark"]
    assert {r for r, _, _ in got["duckdb"]} == set(codes)
    # the wider F-01 scopes group by a unit above the serving unit, on both backends alike
    for scope in ("township_year", "county_year"):
        assert _f01(spark, scope) == _f01(duck, scope)
