"""A hand-built region for diabetes, COPD, severe mental disorders and tuberculosis; the expected counts are worked
out by hand in each test module's docstring (tests/test_engine_diabetes.py, _copd, _smi, _tb).

Villages: 城东村 360426100201 and 城西村 360426100202 (township 蒲亭 360426100000); 林泉村 360426200201
(township 林泉 360426200000); county 德安县 360426000000.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from gongwei.engine.backends import Engine
from gongwei.engine.snapshot import Snapshot
from gongwei.records import entry
from gongwei.records.snapshot import take_snapshot
from tests.regions import ORG_UNITS, t

EAST, WEST, LINQUAN = "360426100201", "360426100202", "360426200201"
TOWNSHIP_1, TOWNSHIP_2, COUNTY = "360426100000", "360426200000", "360426000000"

# record_no, name, sex, birth, village, status, status_date
_R = [
    # diabetes
    ("D1", "糖一", "1", "1955-01-01", EAST, "active", ""),
    ("D2", "糖二", "2", "1962-05-05", EAST, "active", ""),
    ("D3", "糖三", "1", "1970-03-03", WEST, "active", ""),
    ("D4", "糖四", "2", "1948-08-08", LINQUAN, "active", ""),
    ("D5", "糖五", "1", "1950-02-02", EAST, "moved_out", "2024-11-30"),
    ("D6", "糖六", "2", "1958-06-06", LINQUAN, "active", ""),
    # COPD
    ("K1", "肺一", "1", "1950-01-01", EAST, "active", ""),
    ("K2", "肺二", "1", "1956-04-04", WEST, "active", ""),
    ("K3", "肺三", "2", "1945-07-07", LINQUAN, "moved_out", "2025-06-30"),
    ("K4", "肺四", "1", "1960-09-09", EAST, "active", ""),
    # severe mental disorders
    ("S1", "精一", "1", "1980-01-01", EAST, "active", ""),
    ("S2", "精二", "2", "1975-02-02", EAST, "active", ""),
    ("S3", "精三", "1", "1990-03-03", WEST, "active", ""),
    ("S4", "精四", "2", "1968-04-04", LINQUAN, "active", ""),
    ("S5", "精五", "1", "1985-05-05", LINQUAN, "active", ""),
    ("S6", "精六", "2", "1970-06-06", EAST, "dead", "2024-12-01"),
    # tuberculosis
    ("TB1", "核一", "1", "1988-01-01", EAST, "active", ""),
    ("TB2", "核二", "2", "1972-02-02", EAST, "active", ""),
    ("TB3", "核三", "1", "1995-03-03", WEST, "active", ""),
    ("TB4", "核四", "2", "1966-04-04", LINQUAN, "active", ""),
    ("TB5", "核五", "1", "1959-05-05", LINQUAN, "active", ""),
    ("TB6", "核六", "2", "1983-06-06", EAST, "active", ""),
]
UNIT = {r[0]: r[4] for r in _R}
RESIDENTS = t(
    record_no=[r[0] for r in _R], name=[r[1] for r in _R], sex=[r[2] for r in _R], birth_date=[r[3] for r in _R],
    managing_unit=[r[4] for r in _R], residence_type=["1"] * len(_R), status=[r[5] for r in _R],
    status_date=[r[6] for r in _R],
)

# enrollment_no, resident, program, start, end, end_reason, tb_supervisor
_E = [
    ("ED1", "D1", "diabetes", "2024-02-01", "", "", ""),
    ("ED2", "D2", "diabetes", "2023-06-01", "", "", ""),
    ("ED3", "D3", "diabetes", "2025-07-10", "", "", ""),
    ("ED4", "D4", "diabetes", "2022-03-01", "", "", ""),
    ("ED5", "D5", "diabetes", "2023-01-01", "2024-11-30", "moved_out", ""),
    ("ED6", "D6", "diabetes", "2024-09-01", "", "", ""),
    ("EK1", "K1", "copd", "2024-05-01", "", "", ""),
    ("EK2", "K2", "copd", "2025-04-15", "", "", ""),
    ("EK3", "K3", "copd", "2023-01-01", "2025-06-30", "moved_out", ""),
    ("EK4", "K4", "copd", "2024-10-01", "", "", ""),
    ("ES1", "S1", "smi", "2020-01-01", "", "", ""),
    ("ES2", "S2", "smi", "2021-01-01", "", "", ""),
    ("ES3", "S3", "smi", "2025-05-20", "", "", ""),
    ("ES4", "S4", "smi", "2019-01-01", "", "", ""),
    ("ES5", "S5", "smi", "2022-01-01", "", "", ""),
    ("ES6", "S6", "smi", "2020-01-01", "", "", ""),
    ("ET1", "TB1", "tb", "2025-03-10", "2025-09-06", "completed", "family"),
    ("ET2", "TB2", "tb", "2025-04-01", "2025-09-28", "completed", "medical"),
    ("ET3", "TB3", "tb", "2025-12-29", "", "", "family"),
    ("ET4", "TB4", "tb", "2025-06-02", "", "", "family"),
    ("ET5", "TB5", "tb", "2024-10-01", "2025-03-30", "completed", "medical"),
    ("ET6", "TB6", "tb", "2025-01-05", "2025-07-04", "completed", "family"),
]
ENROLLMENTS = t(
    enrollment_no=[e[0] for e in _E], resident=[e[1] for e in _E], program=[e[2] for e in _E],
    org_unit=[UNIT[e[1]] for e in _E], start_date=[e[3] for e in _E], end_date=[e[4] for e in _E],
    end_reason=[e[5] for e in _E], tb_supervisor=[e[6] for e in _E],
    diagnosis=["schizophrenia" if e[2] == "smi" else "" for e in _E],
)

# chronic follow-ups: encounter_no, resident, program, date, mode, fasting glucose, classification, CAT score
_C = [
    ("CD11", "D1", "diabetes", "2025-02-10", "1", "8.1", "2", None),
    ("CD12", "D1", "diabetes", "2025-05-10", "1", "7.4", "2", None),
    ("CD13", "D1", "diabetes", "2025-08-10", "1", "6.8", "1", None),
    ("CD14", "D1", "diabetes", "2025-11-10", "1", "6.9", "1", None),
    ("CD21", "D2", "diabetes", "2025-01-15", "1", "6.5", "1", None),
    ("CD22", "D2", "diabetes", "2025-04-20", "2", "6.2", "1", None),
    ("CD23", "D2", "diabetes", "2025-07-20", "1", "6.6", "1", None),
    ("CD24", "D2", "diabetes", "2025-11-05", "3", "7.0", "2", None),
    ("CD31", "D3", "diabetes", "2025-08-01", "2", "8.0", "2", None),
    ("CD32", "D3", "diabetes", "2025-10-15", "2", "6.9", "1", None),
    ("CD41", "D4", "diabetes", "2025-03-01", "1", "6.0", "1", None),
    ("CD42", "D4", "diabetes", "2025-06-01", "1", "6.0", "1", None),
    ("CD43", "D4", "diabetes", "2025-09-01", "1", "6.0", "1", None),
    ("CD44", "D4", "diabetes", "2025-12-01", "1", None, "", None),
    ("CD51", "D5", "diabetes", "2024-10-01", "1", "6.1", "1", None),
    ("CD61", "D6", "diabetes", "2025-03-15", "1", None, "", None),
    ("CK11", "K1", "copd", "2025-02-12", "1", None, "", 12),
    ("CK12", "K1", "copd", "2025-05-12", "1", None, "", 11),
    ("CK13", "K1", "copd", "2025-08-12", "2", None, "", 10),
    ("CK14", "K1", "copd", "2025-11-12", "1", None, "", 10),
    ("CK21", "K2", "copd", "2025-06-01", "2", None, "", 20),
    ("CK22", "K2", "copd", "2025-09-01", "3", None, "", 18),
    ("CK23", "K2", "copd", "2025-12-01", "1", None, "", 17),
    ("CK31", "K3", "copd", "2025-02-01", "1", None, "", 25),
    ("CK32", "K3", "copd", "2025-05-01", "2", None, "", 24),
    ("CK41", "K4", "copd", "2025-01-20", "1", None, "", 15),
]
CHRONIC_FOLLOW_UPS = t(
    encounter_no=[c[0] for c in _C], resident=[c[1] for c in _C], program=[c[2] for c in _C],
    service_date=[c[3] for c in _C], mode=[c[4] for c in _C], fasting_glucose=[c[5] for c in _C],
    classification=[c[6] for c in _C], cat_score=[c[7] for c in _C], org_unit=[UNIT[c[1]] for c in _C],
    enrollment=["E" + c[1] for c in _C],
)

# SMI follow-ups: encounter_no, resident, date, mode, risk grade, class, on medication, adherence
_S = [
    ("SF11", "S1", "2025-02-10", "1", 0, "stable", "1", "1"),
    ("SF12", "S1", "2025-05-10", "3", 0, "stable", "1", "1"),
    ("SF13", "S1", "2025-08-10", "2", 0, "stable", "1", "1"),
    ("SF14", "S1", "2025-11-10", "1", 0, "stable", "1", "1"),
    ("SF21", "S2", "2025-01-20", "1", 3, "unstable", "1", "2"),
    ("SF22", "S2", "2025-02-01", "1", 1, "basically_stable", "1", "2"),
    ("SF23", "S2", "2025-02-25", "2", 0, "stable", "1", "1"),
    ("SF24", "S2", "2025-05-05", "3", 0, "stable", "1", "1"),
    ("SF25", "S2", "2025-09-09", "1", 0, "stable", "1", "2"),
    ("SF31", "S3", "2025-06-01", "2", 2, "", "1", "1"),
    ("SF32", "S3", "2025-06-12", "1", None, "stable", "1", "1"),
    ("SF33", "S3", "2025-09-15", "1", 0, "stable", "1", "1"),
    ("SF34", "S3", "2025-12-20", "2", 4, "unstable", "0", "3"),
    ("SF51", "S5", "2025-03-03", "1", 0, "stable", "1", "1"),
    ("SF52", "S5", "2025-06-06", "1", 0, "stable", "1", "1"),
    ("SF53", "S5", "2025-09-09", "1", 0, "stable", "1", "1"),
    ("SF54", "S5", "2025-12-09", "1", None, "", "1", "1"),
    ("SF61", "S6", "2024-10-10", "1", 0, "stable", "1", "1"),
]
SMI_FOLLOW_UPS = t(
    encounter_no=[s[0] for s in _S], resident=[s[1] for s in _S], service_date=[s[2] for s in _S],
    mode=[s[3] for s in _S], risk_grade=[s[4] for s in _S], classification=[s[5] for s in _S],
    on_medication=[s[6] for s in _S], adherence=[s[7] for s in _S], org_unit=[UNIT[s[1]] for s in _S],
    enrollment=["E" + s[1] for s in _S],
)

# TB follow-ups: encounter_no, resident, linked enrollment, date, visit type, mode, phase, doses due, doses taken
_T = [
    ("TF10", "TB1", "ET1", "2025-03-12", "first", "2", "intensive", 0, 0),
    ("TF11", "TB1", "ET1", "2025-03-22", "follow_up", "2", "intensive", 10, 10),
    ("TF12", "TB1", "ET1", "2025-04-01", "follow_up", "2", "intensive", 10, 9),
    ("TF13", "TB1", "ET1", "2025-05-10", "follow_up", "1", "continuation", 39, 38),
    ("TF14", "TB1", "ET1", "2025-07-10", "follow_up", "1", "continuation", 61, 56),
    ("TF15", "TB1", "ET1", "2025-09-08", "closing", "2", "continuation", 60, 55),
    ("TF20", "TB2", "ET2", "2025-04-07", "first", "2", "intensive", 0, 0),
    ("TF21", "TB2", "ET2", "2025-05-07", "follow_up", "1", "intensive", 30, 25),
    ("TF22", "TB2", "ET2", "2025-06-07", "follow_up", "1", "continuation", 31, 25),
    ("TF23", "TB2", "ET2", "2025-09-30", "closing", "1", "continuation", 115, 100),
    ("TF50", "TB5", "ET5", "2024-10-02", "first", "2", "intensive", 0, 0),
    ("TF51", "TB5", "ET5", "2024-11-01", "follow_up", "1", "intensive", 31, 31),
    ("TF52", "TB5", "ET5", "2024-12-01", "follow_up", "1", "continuation", 30, 30),
    ("TF53", "TB5", "ET5", "2025-01-02", "follow_up", "1", "continuation", 32, 30),
    ("TF54", "TB5", "", "2025-02-01", "follow_up", "1", "continuation", 30, 27),
    ("TF55", "TB5", "ET5", "2025-03-01", "follow_up", "1", "continuation", 28, 28),
    ("TF56", "TB5", "ET5", "2025-03-31", "closing", "1", "continuation", 30, 30),
    ("TF60", "TB6", "ET6", "2025-01-06", "first", "2", "intensive", None, None),
    ("TF61", "TB6", "ET6", "2025-07-05", "closing", "1", "continuation", None, None),
]
TB_FOLLOW_UPS = t(
    encounter_no=[x[0] for x in _T], resident=[x[1] for x in _T], enrollment=[x[2] for x in _T],
    service_date=[x[3] for x in _T], visit_type=[x[4] for x in _T], mode=[x[5] for x in _T],
    phase=[x[6] for x in _T], doses_due=[x[7] for x in _T], doses_taken=[x[8] for x in _T],
    org_unit=[UNIT[x[1]] for x in _T],
)

# health examinations: encounter_no, resident, date, trigger
_X = [
    ("XD1", "D1", "2025-06-15", "diabetes"), ("XD2", "D2", "2025-03-03", "diabetes"),
    ("XD3", "D3", "2025-09-09", "diabetes"), ("XD4", "D4", "2024-06-06", "diabetes"),
    ("XK1", "K1", "2025-04-04", "other"), ("XK2", "K2", "2025-10-10", "other"), ("XK3", "K3", "2025-03-20", "elderly"),
    ("XS1", "S1", "2025-07-07", "smi"), ("XS3", "S3", "2025-08-08", "smi"), ("XS4", "S4", "2025-02-02", "smi"),
]
EXAMS = t(
    encounter_no=[x[0] for x in _X], resident=[x[1] for x in _X], service_date=[x[2] for x in _X],
    trigger=[x[3] for x in _X], org_unit=[UNIT[x[1]] for x in _X],
)

# task numbers 2025: diabetes 城东 6 + 城西 2 (→ 蒲亭 8), 林泉 township 5; COPD 蒲亭 township 4, 林泉 township 2
BASES = t(
    org_unit=[EAST, WEST, TOWNSHIP_2, TOWNSHIP_1, TOWNSHIP_2], year=["2025"] * 5,
    group=["task_diabetes", "task_diabetes", "task_diabetes", "task_copd", "task_copd"],
    value=["6", "2", "5", "4", "2"], source=["assigned"] * 5,
)


def build_snapshot(root: Path) -> Snapshot:
    entry.submit({"org_units": ORG_UNITS, "residents": RESIDENTS, "enrollments": ENROLLMENTS,
                  "chronic_follow_ups": CHRONIC_FOLLOW_UPS, "smi_follow_ups": SMI_FOLLOW_UPS,
                  "tb_follow_ups": TB_FOLLOW_UPS, "health_examinations": EXAMS, "population_bases": BASES},
                 actor="test", kind="test")
    return Snapshot.open(take_snapshot(root))


def engine(root: Path, backend: str = "duckdb") -> Engine:
    return Engine(build_snapshot(root), backend)


def chronic_region(root: Path, people: list[tuple], visits: list[tuple], exams: list[tuple] = (),
                   program: str = "hypertension", backend: str = "duckdb",
                   follow_up_columns: dict[str, list] | None = None) -> Engine:
    """A small region for one chronic rule at a time, all in 城东村.

    ``people``: (record_no, birth_date, enrolment start, status, status_date) — each enrolled in ``program``;
    ``visits``: (encounter_no, record_no, date, mode, sbp, dbp, fasting_glucose) — blank measurements as "";
    ``exams``: (encounter_no, record_no, date); ``follow_up_columns``: more follow-up columns, one value per visit
    (e.g. classification, guidance)."""
    residents = t(
        record_no=[p[0] for p in people], name=[f"患者{p[0]}" for p in people], sex=["1"] * len(people),
        birth_date=[p[1] for p in people], managing_unit=[EAST] * len(people), residence_type=["1"] * len(people),
        status=[p[3] for p in people], status_date=[p[4] for p in people],
    )
    enrollments = t(
        enrollment_no=["E" + p[0] for p in people], resident=[p[0] for p in people], program=[program] * len(people),
        org_unit=[EAST] * len(people), start_date=[p[2] for p in people],
    )
    follow_ups = t(
        encounter_no=[v[0] for v in visits], resident=[v[1] for v in visits], program=[program] * len(visits),
        service_date=[v[2] for v in visits], mode=[v[3] for v in visits], sbp=[str(v[4]) for v in visits],
        dbp=[str(v[5]) for v in visits], fasting_glucose=[str(v[6]) for v in visits],
        classification=["1"] * len(visits), org_unit=[EAST] * len(visits), enrollment=["E" + v[1] for v in visits],
    )
    for name, values in (follow_up_columns or {}).items():
        column = pa.array([None if x is None else str(x) for x in values], pa.string())
        follow_ups = (follow_ups.set_column(follow_ups.column_names.index(name), name, column)
                      if name in follow_ups.column_names else follow_ups.append_column(name, column))
    tables = {"org_units": ORG_UNITS, "residents": residents, "enrollments": enrollments,
              "chronic_follow_ups": follow_ups}
    if exams:
        tables["health_examinations"] = t(
            encounter_no=[x[0] for x in exams], resident=[x[1] for x in exams], service_date=[x[2] for x in exams],
            trigger=[program] * len(exams), org_unit=[EAST] * len(exams))
    result = entry.submit(tables, actor="test", kind="test")
    assert not result.issues, result.issues[:5]
    return Engine(Snapshot.open(take_snapshot(root)), backend)
