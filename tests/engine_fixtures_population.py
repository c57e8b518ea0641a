"""A hand-built region for the population and unit-level programs (records, elderly, elderly TCM, family
doctor, health education, reporting, supervision). Every expected count in the tests was worked out by hand
from the table below; the reasoning is in each test's docstring.

Period 2025; age reference 31 Dec 2025, so "65+" = born on or before 1960-12-31.

城东村 360426100201 (township 蒲亭 360426100000)
  A1 王老一 1950-03-01  record complete, electronic; exam 2025-05-10 complete; TCM 2025-05-10 complete + guidance;
                        HTN enrolled 2024; contract 2025 (1 Jan–31 Dec) renewed by a 2026 contract
  A2 李老二 1960-12-31  turns 65 on the last day of 2025; no ID number, blood type and education blank;
                        exam 2025-03-01 without blood routine and with ECG "9 未检查"; TCM form with 32 answers
  A3 张三   1990-05-05  record complete; last service 2024-06-01; contract 2024-03-01–2025-02-28, not renewed
  A4 赵四   1985-08-08  paper record (not electronic); exam 2025-08-01; a contract cancelled on its first day
  A5 孙五   1950-03-01  duplicate of A1, merged into A1 on 2025-06-01
  A6 周六   1940-01-01  died 2025-03-01; exam 2025-02-10 complete (served, then closed); TCM form dated
                        2025-03-05, after her death
  A7 吴七   1955-05-05  not a usual resident (lives here < 6 months)
城西村 360426100202 (township 蒲亭)
  B1 钱老七 1958-01-01  exam 2025-10-10 complete; TCM complete but no guidance; contract 2025-06-01–2026-05-31
  B2 吴老八 1945-07-07  exam only in 2024 (2024-11-01); no TCM; no contract
  B3 郑小九 2020-06-01  child; vaccination 2025-06-01; contract 2025-02-01–2026-01-31
  B4 郑小九 2020-06-01  second active record of B3 (same ID number, created later); no services, no contract
林泉村 360426200201 (township 林泉 360426200000)
  C1 冯老十 1952-02-02  disabled (残疾情况 5); exam 2025-04-04 complete; TCM complete + guidance;
                        contract 2025 (1 Jan–31 Dec), not renewed
  C2 陈十一 1970-01-01  HTN enrolled 2023; follow-up 2025-05-05; no contract
  C3 褚十二 1998-09-09  pregnant (enrolled 2025-02-01); record created 2026-01-05; contract 2025-03-01–2026-02-28
Population bases 2025 (villages only): resident population 10 / 8 / 6; aged 65+ 4 / 3 / 2; children 0–6 1 / 2 / 1.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from gongwei.engine.backends import Engine
from gongwei.engine.snapshot import Snapshot
from gongwei.records import entry
from gongwei.records.snapshot import take_snapshot
from tests.regions import ORG_UNITS, t

V_EAST, V_WEST, V_LIN = "360426100201", "360426100202", "360426200201"
T_PUTING, T_LINQUAN, COUNTY = "360426100000", "360426200000", "360426000000"

# record_no, name, sex, birth, unit, id_number, usual, status, status_date, merged_into
_PEOPLE = [
    ("A1", "王老一", "1", "1950-03-01", V_EAST, "360426195003010018", "1", "active", "", ""),
    ("A2", "李老二", "2", "1960-12-31", V_EAST, "", "1", "active", "", ""),
    ("A3", "张三", "1", "1990-05-05", V_EAST, "", "1", "active", "", ""),
    ("A4", "赵四", "2", "1985-08-08", V_EAST, "", "1", "active", "", ""),
    ("A5", "孙五", "1", "1950-03-01", V_EAST, "360426195003010018", "1", "merged", "2025-06-01", "A1"),
    ("A6", "周六", "1", "1940-01-01", V_EAST, "", "1", "dead", "2025-03-01", ""),
    ("A7", "吴七", "1", "1955-05-05", V_EAST, "", "0", "active", "", ""),
    ("B1", "钱老七", "1", "1958-01-01", V_WEST, "", "1", "active", "", ""),
    ("B2", "吴老八", "2", "1945-07-07", V_WEST, "", "1", "active", "", ""),
    ("B3", "郑小九", "1", "2020-06-01", V_WEST, "360426202006010011", "1", "active", "", ""),
    ("B4", "郑小九", "1", "2020-06-01", V_WEST, "360426202006010011", "1", "active", "", ""),
    ("C1", "冯老十", "1", "1952-02-02", V_LIN, "", "1", "active", "", ""),
    ("C2", "陈十一", "2", "1970-01-01", V_LIN, "", "1", "active", "", ""),
    ("C3", "褚十二", "2", "1998-09-09", V_LIN, "", "1", "active", "", ""),
]
# identity numbers that pass validation are only needed where tests use them; the rest stay blank except
# A2 (the one whose blank number is a gap reason): everyone but A2 gets a foreign passport number so that
# "身份证号" counts as filled
_ID_TYPE = {r[0]: ("01" if r[5] or r[0] == "A2" else "03") for r in _PEOPLE}
_ID_NUMBER = {r[0]: (r[5] or ("" if r[0] == "A2" else f"E{1000 + i}")) for i, r in enumerate(_PEOPLE)}

RESIDENTS = t(
    record_no=[p[0] for p in _PEOPLE], name=[p[1] for p in _PEOPLE], sex=[p[2] for p in _PEOPLE],
    birth_date=[p[3] for p in _PEOPLE], managing_unit=[p[4] for p in _PEOPLE],
    id_type=[_ID_TYPE[p[0]] for p in _PEOPLE], id_number=[_ID_NUMBER[p[0]] for p in _PEOPLE],
    usual_resident=[p[6] for p in _PEOPLE], status=[p[7] for p in _PEOPLE], status_date=[p[8] for p in _PEOPLE],
    merged_into=[p[9] for p in _PEOPLE], residence_type=["1"] * len(_PEOPLE), ethnicity=["01"] * len(_PEOPLE),
    # everyone has a phone (the snapshot keeps only its presence, shape and a keyed hash)
    phone=[f"1390000{1000 + i}" for i in range(len(_PEOPLE))],
)

_HR = ["A1", "A2", "A3", "A4", "A5", "A6", "A7", "B1", "B2", "B3", "B4", "C1", "C2", "C3"]
_CREATED = {"B3": "2021-01-01", "B4": "2024-01-01", "C3": "2026-01-05"}
HEALTH_RECORDS = t(
    resident=_HR, created_on=[_CREATED.get(r, "2020-01-01") for r in _HR],
    created_by_unit=[T_LINQUAN if r.startswith("C") else T_PUTING for r in _HR],
    is_electronic=["0" if r == "A4" else "1" for r in _HR],
    blood_abo=["" if r == "A2" else "1" for r in _HR], education=["" if r == "A2" else "5" for r in _HR],
    occupation=["4"] * len(_HR), marital_status=["2"] * len(_HR), payment_methods=["2"] * len(_HR),
    drug_allergy=["1"] * len(_HR), exposure=["1"] * len(_HR), past_history=["1"] * len(_HR),
    family_history=["1"] * len(_HR), disability=["5" if r == "C1" else "1" for r in _HR],
)

ENROLLMENTS = t(
    enrollment_no=["EH-A1", "EH-C2", "EP-C3"], resident=["A1", "C2", "C3"],
    program=["hypertension", "hypertension", "pregnancy"], org_unit=[V_EAST, V_LIN, V_LIN],
    start_date=["2024-01-01", "2023-01-01", "2025-02-01"],
)

_COMPLETE_EXAM = dict(
    self_rated_health="1", adl_score="0", exercise_frequency="2", smoking_status="1", drinking_frequency="1",
    symptoms="1", cognition="1", affect="1", sbp_right="134", dbp_right="82",  # the 3rd-edition package (E1/E2)
    temperature="36.5", pulse="72", respiration="18", sbp_left="132", dbp_left="80", height="165", weight="62",
    waist="84", hemoglobin="135", wbc="6.1", platelets="210", urine_protein="-", urine_glucose="-", alt="20",
    ast="22", total_bilirubin="12.0", creatinine="80", urea="5.2", fasting_glucose="5.6",
    total_cholesterol="4.80", triglycerides="1.40", ldl="2.80", hdl="1.30", ecg="1", abdominal_ultrasound="1",
    health_evaluation="1", health_guidance="1",
)
# encounter_no, resident, date, overrides of the complete exam
_EXAMS = [
    ("X-A1", "A1", "2025-05-10", {}),
    ("X-A2", "A2", "2025-03-01", {"hemoglobin": "", "wbc": "", "platelets": "", "ecg": "9"}),
    ("X-A3", "A3", "2024-06-01", {}),
    ("X-A4", "A4", "2025-08-01", {}),
    ("X-B1", "B1", "2025-10-10", {}),
    ("X-B2", "B2", "2024-11-01", {}),
    ("X-C1", "C1", "2025-04-04", {}),
    ("X-A6", "A6", "2025-02-10", {}),  # before A6's death on 1 Mar: served, then closed
]
_UNIT_OF = {p[0]: p[4] for p in _PEOPLE}
HEALTH_EXAMINATIONS = t(
    encounter_no=[x[0] for x in _EXAMS], resident=[x[1] for x in _EXAMS], service_date=[x[2] for x in _EXAMS],
    org_unit=[_UNIT_OF[x[1]] for x in _EXAMS], trigger=["elderly"] * len(_EXAMS),
    **{f: [x[3].get(f, v) for x in _EXAMS] for f, v in _COMPLETE_EXAM.items()},
)

FULL_ANSWERS = "123451234512345123451234512345123"
# T-A6 is dated after A6's death (1 Mar): a service after closing, which counts for nothing
TCM_CONSTITUTIONS = t(
    encounter_no=["T-A1", "T-A2", "T-B1", "T-C1", "T-A6"], resident=["A1", "A2", "B1", "C1", "A6"],
    service_date=["2025-05-10", "2025-03-01", "2025-10-10", "2025-04-04", "2025-03-05"],
    org_unit=[V_EAST, V_EAST, V_WEST, V_LIN, V_EAST],
    answers=[FULL_ANSWERS, FULL_ANSWERS[:32], FULL_ANSWERS, FULL_ANSWERS, FULL_ANSWERS],
    guidance_given=["1", "1", "0", "1", "1"],
)
VACCINATIONS = t(encounter_no=["VAC-B3"], resident=["B3"], service_date=["2025-06-01"], org_unit=[V_WEST],
                 vaccine=["MMR"], dose_no=["2"])
CHRONIC_FOLLOW_UPS = t(encounter_no=["F-C2"], resident=["C2"], service_date=["2025-05-05"], org_unit=[V_LIN],
                       enrollment=["EH-C2"], program=["hypertension"], mode=["1"], sbp=["130"], dbp=["80"],
                       classification=["1"])

TEAMS = t(code=["TEAM-PT", "TEAM-LQ"], name=["蒲亭家庭医生团队", "林泉家庭医生团队"], org_unit=[T_PUTING, T_LINQUAN])
# contract_no, resident, team, start, end, cancelled_on, is_renewal
_CONTRACTS = [
    ("Q-A1", "A1", "TEAM-PT", "2025-01-01", "2025-12-31", "", "0"),
    ("Q-A1b", "A1", "TEAM-PT", "2026-01-01", "2026-12-31", "", "1"),
    ("Q-A3", "A3", "TEAM-PT", "2024-03-01", "2025-02-28", "", "0"),
    ("Q-A4", "A4", "TEAM-PT", "2025-01-01", "2025-12-31", "2025-01-01", "0"),
    ("Q-B1", "B1", "TEAM-PT", "2025-06-01", "2026-05-31", "", "0"),
    ("Q-B3", "B3", "TEAM-PT", "2025-02-01", "2026-01-31", "", "0"),
    ("Q-C1", "C1", "TEAM-LQ", "2025-01-01", "2025-12-31", "", "0"),
    ("Q-C3", "C3", "TEAM-LQ", "2025-03-01", "2026-02-28", "", "0"),
]
CONTRACTS = t(contract_no=[c[0] for c in _CONTRACTS], resident=[c[1] for c in _CONTRACTS],
              team=[c[2] for c in _CONTRACTS], start_date=[c[3] for c in _CONTRACTS],
              end_date=[c[4] for c in _CONTRACTS], cancelled_on=[c[5] for c in _CONTRACTS],
              is_renewal=[c[6] for c in _CONTRACTS])


def _activities() -> list[tuple[str, str, str]]:
    """(unit, kind, date): activity i of a kind falls on the 10th of month 1 + i (so the first six are in
    January–June)."""
    plan = {
        V_EAST: {"printed": 12, "board": 6, "lecture": 6},
        V_WEST: {"printed": 12, "board": 5, "lecture": 6},
        T_PUTING: {"printed": 12, "audio_visual": 6, "board": 6, "lecture": 11, "consultation": 9},
    }
    out = []
    for unit, kinds in plan.items():
        for kind, n in kinds.items():
            out += [(unit, kind, dt.date(2025, 1 + i, 10).isoformat()) for i in range(n)]
    out.append((T_LINQUAN, "lecture", "2024-12-10"))  # last year: never counted in 2025
    return out


_ACT = _activities()
EDUCATION = t(activity_no=[f"HE{i:03d}" for i in range(len(_ACT))], org_unit=[a[0] for a in _ACT],
              kind=[a[1] for a in _ACT], activity_date=[a[2] for a in _ACT], topic=["合理膳食"] * len(_ACT))

# report_no, unit, resident, class, diagnosed_at, reported_at (local time, +08:00)
_CARDS = [
    ("K1", T_PUTING, "A3", "B", "2025-03-01 10:00:00+08:00", "2025-03-01 20:00:00+08:00"),
    ("K2", T_PUTING, "A4", "A", "2025-04-01 08:00:00+08:00", "2025-04-01 11:00:00+08:00"),
    ("K3", T_PUTING, "B3", "C", "2025-05-10 09:00:00+08:00", ""),
    ("K4", T_LINQUAN, "C2", "B_as_A", "2025-12-31 23:00:00+08:00", ""),
    ("K5", T_LINQUAN, "", "B", "2025-01-01 07:00:00+08:00", "2025-01-01 09:00:00+08:00"),
    ("K6", T_LINQUAN, "", "C", "2024-12-31 22:00:00+08:00", "2025-01-01 08:00:00+08:00"),
]
REPORTS = t(report_no=[c[0] for c in _CARDS], org_unit=[c[1] for c in _CARDS], resident=[c[2] for c in _CARDS],
            disease=["病种"] * len(_CARDS), disease_class=[c[3] for c in _CARDS],
            diagnosed_at=[c[4] for c in _CARDS], reported_at=[c[5] for c in _CARDS])


def _supervision() -> list[tuple[str, str, str, str, str, str]]:
    """(unit, date, category, kind, clue_found, reported)."""
    out = []
    for cat in ("food", "water", "school", "illegal_practice", "family_planning"):
        out.append((T_PUTING, "2025-03-15", cat, "patrol", "0", "0"))
        if cat != "school":
            out.append((T_PUTING, "2025-09-15", cat, "patrol", "0", "0"))
    out[0] = (T_PUTING, "2025-03-15", "food", "patrol", "1", "1")       # clue found and reported
    out[3] = (T_PUTING, "2025-09-15", "water", "patrol", "1", "0")      # clue found, not reported
    out += [(T_LINQUAN, "2025-02-15", "food", "patrol", "0", "0"), (T_LINQUAN, "2025-08-15", "food", "patrol", "0", "0")]
    return out


_SV = _supervision()
SUPERVISION = t(report_no=[f"SV{i:03d}" for i in range(len(_SV))], org_unit=[s[0] for s in _SV],
                report_date=[s[1] for s in _SV], category=[s[2] for s in _SV], kind=[s[3] for s in _SV],
                clue_found=[s[4] for s in _SV], reported=[s[5] for s in _SV])

BASES = t(
    org_unit=[V_EAST, V_WEST, V_LIN] * 3, year=["2025"] * 9,
    group=["resident_population"] * 3 + ["aged_65_plus"] * 3 + ["children_0_6"] * 3,
    value=["10", "8", "6", "4", "3", "2", "1", "2", "1"], source=["statistics"] * 9,
)

MY_CODES = ("R1", "R2", "R3", "R4", "R5", "E1", "E2", "E3", "TCM1", "F1", "F2", "F3", "F4-CHILD", "F4-ELDERLY",
            "F4-MATERNAL", "F4-HTN", "F4-DM", "F4-TB", "F4-SMI", "F4-DISABLED", "F5", "HE1", "HE2", "HE3", "HE4", "HE5",
            "ID1", "ID2", "SV1", "SV2")
MY_PROGRAMS = ("records", "elderly", "elderly_tcm", "family_doctor", "education", "reporting", "supervision")


def build_snapshot(root: Path) -> Snapshot:
    result = entry.submit({
        "org_units": ORG_UNITS, "teams": TEAMS, "residents": RESIDENTS, "health_records": HEALTH_RECORDS,
        "enrollments": ENROLLMENTS, "health_examinations": HEALTH_EXAMINATIONS, "chronic_follow_ups": CHRONIC_FOLLOW_UPS,
        "vaccinations": VACCINATIONS, "tcm_constitutions": TCM_CONSTITUTIONS, "contracts": CONTRACTS,
        "health_education_activities": EDUCATION, "infectious_disease_reports": REPORTS,
        "supervision_reports": SUPERVISION, "population_bases": BASES,
    }, actor="test", kind="test")
    assert not result.issues, result.issues[:5]
    return Snapshot.open(take_snapshot(root))


def engine(root: Path, backend: str = "duckdb") -> Engine:
    return Engine(build_snapshot(root), backend)
