"""A hand-built region whose indicator values were worked out by hand (see each test's reasoning)."""

from __future__ import annotations

from pathlib import Path

from gongwei.engine.backends import Engine
from gongwei.engine.snapshot import Snapshot
from gongwei.records import entry
from gongwei.records.snapshot import take_snapshot
from tests.regions import ORG_UNITS, t

# Five hypertension patients (see tests/test_engine_hypertension.py for what each one tests).
RESIDENTS = t(
    record_no=["P1", "P2", "P3", "P4", "P5", "N1"],
    name=["高一", "高二", "高三", "高四", "高五", "常六"],
    sex=["1", "2", "1", "2", "1", "2"],
    birth_date=["1950-01-01", "1960-05-05", "1970-03-03", "1945-08-08", "1940-02-02", "1990-01-01"],
    managing_unit=["360426100201", "360426100201", "360426100202", "360426200201", "360426100201", "360426100201"],
    residence_type=["1"] * 6,
    status=["active", "active", "active", "active", "dead", "active"],
    status_date=["", "", "", "", "2024-12-01", ""],
)
ENROLLMENTS = t(
    enrollment_no=["E1", "E2", "E3", "E4", "E5"],
    resident=["P1", "P2", "P3", "P4", "P5"],
    program=["hypertension"] * 5,
    org_unit=["360426100201", "360426100201", "360426100202", "360426200201", "360426100201"],
    start_date=["2024-03-01", "2024-01-01", "2025-07-10", "2023-05-01", "2022-01-01"],
)
_V = [  # encounter_no, resident, date, mode, sbp, dbp
    ("V11", "P1", "2025-02-10", "1", 150, 95), ("V12", "P1", "2025-05-10", "1", 142, 88),
    ("V13", "P1", "2025-08-10", "1", 135, 85), ("V14", "P1", "2025-11-10", "1", 130, 80),
    ("V21", "P2", "2025-01-15", "1", 145, 90), ("V22", "P2", "2025-04-20", "2", 128, 82),
    ("V23", "P2", "2025-07-20", "1", 139, 89), ("V24", "P2", "2025-11-05", "3", 150, 92),
    ("V31", "P3", "2025-08-01", "2", 150, 90), ("V32", "P3", "2025-10-15", "2", 138, 88),
    ("V41", "P4", "2025-03-01", "1", 120, 70), ("V42", "P4", "2025-06-01", "1", 122, 72),
    ("V43", "P4", "2025-09-01", "1", 121, 71), ("V44", "P4", "2025-12-01", "1", 120, 70),
    ("V51", "P5", "2024-10-01", "1", 130, 80),
]
_UNIT = {"P1": "360426100201", "P2": "360426100201", "P3": "360426100202", "P4": "360426200201",
         "P5": "360426100201"}
FOLLOW_UPS = t(
    encounter_no=[v[0] for v in _V], resident=[v[1] for v in _V], service_date=[v[2] for v in _V],
    mode=[v[3] for v in _V], sbp=[v[4] for v in _V], dbp=[v[5] for v in _V],
    org_unit=[_UNIT[v[1]] for v in _V], enrollment=["E" + v[1][1] for v in _V], program=["hypertension"] * len(_V),
    classification=["1" if v[4] < 140 and v[5] < 90 else "2" for v in _V],
)
EXAMS = t(
    encounter_no=["X1", "X2", "X3", "X4"], resident=["P1", "P2", "P3", "P4"],
    service_date=["2025-06-15", "2025-03-03", "2025-09-09", "2024-06-06"],
    org_unit=["360426100201", "360426100201", "360426100202", "360426200201"],
    trigger=["hypertension"] * 4,
)
BASES = t(
    org_unit=["360426100201", "360426100202", "360426200000"], year=["2025"] * 3,
    group=["task_hypertension"] * 3, value=["10", "5", "8"], source=["assigned"] * 3,
)


def build_snapshot(root: Path) -> Snapshot:
    entry.submit({"org_units": ORG_UNITS, "residents": RESIDENTS, "enrollments": ENROLLMENTS,
                  "chronic_follow_ups": FOLLOW_UPS, "health_examinations": EXAMS, "population_bases": BASES},
                 actor="test", kind="test")
    return Snapshot.open(take_snapshot(root))


def engine(root: Path, backend: str = "duckdb") -> Engine:
    return Engine(build_snapshot(root), backend)
