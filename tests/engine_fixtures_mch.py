"""Hand-built regions for the maternal, child and vaccination programs (expected values in each test module).

Units (tests.regions.ORG_UNITS): county 德安县 › township 蒲亭 (villages 城东 …201, 城西 …202) and township 林泉
(village 林泉村 …200201). Dates are written out; prenatal visit dates are LMP + 7 × weeks (the test docstrings
give the resulting dates).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from gongwei.engine.backends import Engine
from gongwei.engine.snapshot import Snapshot
from gongwei.records import entry
from gongwei.records.snapshot import take_snapshot
from tests.regions import ORG_UNITS, t

EAST, WEST, LINQUAN = "360426100201", "360426100202", "360426200201"
PUTING, LINQUAN_TOWN, COUNTY = "360426100000", "360426200000", "360426000000"


def _d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _plus(day: str, days: int) -> str:
    return (_d(day) + dt.timedelta(days=days)).isoformat()


def _rows(records: list[dict]) -> dict[str, list]:
    keys = list(dict.fromkeys(k for r in records for k in r))
    return {k: [r.get(k, "") for r in records] for k in keys}


# --- maternal ------------------------------------------------------------------------------------------
# (record_no, unit, lmp, registration week, other prenatal weeks, delivery, discharge, enrollment end)
_WOMEN = [
    ("W1", EAST, "2024-09-01", 10, [18, 22, 30, 38], "2025-06-08", "2025-06-10", "2025-07-20"),
    ("W2", EAST, "2024-08-01", 15, [20, 24, 32], "2025-05-08", "2025-05-10", "2025-06-19"),
    ("W3", WEST, "2024-12-20", 8, [17, 22, 30, 38], "2025-09-20", "2025-09-22", ""),
    ("W4", LINQUAN, "2024-12-18", 12, [16, 21, 28, 37, 37], "2025-09-25", "", ""),
    ("W5", EAST, "2023-12-10", 9, [], "2024-09-15", "2024-09-17", "2024-10-27"),
    ("W6", EAST, "2025-06-01", 7, [], "", "", ""),
]
UNLINKED_PRENATAL = {("W4", 16)}  # entered without the enrollment: belongs to the episode by date


def maternal_tables() -> dict:
    residents, enrollments, prenatal, postpartum, bases = [], [], [], [], []
    for no, unit, lmp, reg, weeks, delivery, discharge, end in _WOMEN:
        residents.append({"record_no": no, "name": f"孕{no}", "sex": "2", "birth_date": "1995-05-05",
                          "managing_unit": unit, "residence_type": "1"})
        start = _plus(lmp, 7 * reg)
        enrollments.append({"enrollment_no": f"E{no}", "resident": no, "program": "pregnancy", "org_unit": unit,
                            "start_date": start, "end_date": end, "end_reason": "episode_ended" if end else "",
                            "lmp_date": lmp, "delivery_date": delivery, "discharge_date": discharge})
        for i, week in enumerate([reg, *weeks]):
            prenatal.append({"encounter_no": f"PV-{no}-{i}", "resident": no, "org_unit": unit,
                             "service_date": _plus(lmp, 7 * week), "gestational_weeks": week,
                             "is_registration": "1" if i == 0 else "0",
                             "enrollment": "" if (no, week) in UNLINKED_PRENATAL else f"E{no}"})
    # W1's visit from an earlier pregnancy (2022), not linked and outside this episode: never counted
    prenatal.append({"encounter_no": "PV-W1-old", "resident": "W1", "org_unit": EAST, "service_date": "2022-05-01",
                     "gestational_weeks": 20, "is_registration": "0", "enrollment": ""})
    for no, unit, day, kind in [("W1", EAST, "2025-06-15", "home_visit"), ("W1", EAST, "2025-07-20", "check_42d"),
                                ("W2", EAST, "2025-06-20", "home_visit"), ("W4", LINQUAN, "2025-10-10", "home_visit")]:
        postpartum.append({"encounter_no": f"PP-{no}-{kind}", "resident": no, "org_unit": unit, "service_date": day,
                           "visit_type": kind, "enrollment": f"E{no}"})
    for unit, value in [(EAST, 3), (WEST, 1), (LINQUAN, 2)]:
        bases.append({"org_unit": unit, "year": 2025, "group": "live_births", "value": value, "source": "statistics"})
    return {"residents": residents, "enrollments": enrollments, "prenatal_visits": prenatal,
            "postpartum_visits": postpartum, "population_bases": bases}


# --- children ------------------------------------------------------------------------------------------
_KIDS = [  # record_no, unit, birth date, status, status date
    ("K1", EAST, "2024-11-10", "active", ""),
    ("K2", EAST, "2025-09-10", "active", ""),
    ("K3", WEST, "2025-09-20", "active", ""),
    ("K4", WEST, "2024-09-20", "active", ""),
    ("K5", LINQUAN, "2022-03-15", "active", ""),
    ("K6", EAST, "2018-11-01", "active", ""),
    ("K7", EAST, "2018-09-15", "active", ""),
    ("K8", LINQUAN, "2023-03-10", "active", ""),
    ("K9", LINQUAN, "2025-01-05", "dead", "2025-01-20"),
]
_CHECKS = [  # record_no, date, age_months, eye check, body measurements recorded (weight and height)
    ("K1", "2024-12-12", 1, False, True), ("K1", "2025-02-20", 3, False, True), ("K1", "2025-05-10", 6, False, True),
    ("K1", "2025-07-30", 8, False, True),
    ("K4", "2024-10-19", 1, False, True), ("K4", "2024-12-20", 3, False, True), ("K4", "2025-03-25", 6, False, True),
    ("K4", "2025-05-20", 8, True, True),
    ("K5", "2025-03-20", 36, False, False),
    ("K6", "2024-11-10", 72, True, True),
    ("K7", "2024-12-01", 72, True, True),
    ("K8", "2024-09-12", 18, True, True), ("K8", "2025-09-01", 30, False, True),
]
_NEWBORN = [("K1", "2024-11-20", True, False), ("K2", "2025-10-02", True, False), ("K3", "2025-09-25", True, True)]
_TCM = [("K1", "2025-05-10", 6), ("K5", "2025-03-20", 36), ("K8", "2025-03-12", 24), ("K8", "2025-09-01", 30)]


def child_tables() -> dict:
    unit = {k[0]: k[1] for k in _KIDS}
    residents = [{"record_no": no, "name": f"童{no}", "sex": "1", "birth_date": b, "managing_unit": u,
                  "residence_type": "1", "status": st, "status_date": sd} for no, u, b, st, sd in _KIDS]
    enrollments = [{"enrollment_no": f"E{no}", "resident": no, "program": "child", "org_unit": u,
                    "start_date": _plus(b, 3)} for no, u, b, _, _ in _KIDS]
    checks = [{"encounter_no": f"CC-{no}-{i}", "resident": no, "org_unit": unit[no], "service_date": day,
               "age_months": m, "eye_check": "1" if eye else "0", "enrollment": f"E{no}",
               "weight": "8.5" if measured else "", "height": "70.0" if measured else ""}
              for i, (no, day, m, eye, measured) in enumerate(_CHECKS)]
    newborn = [{"encounter_no": f"NV-{no}", "resident": no, "org_unit": unit[no], "service_date": day,
                "eye_check": "1" if eye else "0", "is_void": "1" if void else "0", "enrollment": f"E{no}"}
               for no, day, eye, void in _NEWBORN]
    tcm = [{"encounter_no": f"TG-{no}-{i}", "resident": no, "org_unit": unit[no], "service_date": day, "age_months": m}
           for i, (no, day, m) in enumerate(_TCM)]
    bases = []
    for group, values in [("children_0_6", [(EAST, 10), (WEST, 5), (LINQUAN_TOWN, 8)]),
                          ("children_under_3", [(EAST, 4), (WEST, 3), (LINQUAN, 3)]),
                          ("children_0_36m", [(EAST, 4), (WEST, 3), (LINQUAN, 3)]),
                          ("live_births", [(EAST, 3), (WEST, 1), (LINQUAN, 2)])]:
        bases += [{"org_unit": u, "year": 2025, "group": group, "value": v, "source": "statistics"} for u, v in values]
    return {"residents": residents, "enrollments": enrollments, "child_checks": checks, "newborn_visits": newborn,
            "child_tcm_guidance": tcm, "population_bases": bases}


# --- children with perfect service (test_engine_child.test_perfect_service_*) -------------------------------
# Every child received every service due for its age on the nominal day (full-month check on day 28–30); all in
# 城东, with population bases equal to the children found, so perfect service must read 100%.
_PERFECT_KIDS = [  # record_no, birth date, child checks (date, age months), TCM guidance (date, age months)
    ("P1", "2025-09-20", [], []),                                             # 10 days old: nothing due yet
    ("P2", "2025-08-15", [("2025-09-13", 1)], []),                            # full month on day 29
    ("P3", "2024-12-01", [("2024-12-30", 1), ("2025-03-01", 3), ("2025-06-01", 6), ("2025-08-01", 8)],
     [("2025-06-01", 6)]),
    ("P4", "2023-06-15", [("2024-12-15", 18), ("2025-06-15", 24)], [("2024-12-15", 18), ("2025-06-15", 24)]),
    ("P5", "2022-09-20", [("2024-09-20", 24), ("2025-03-20", 30)], [("2024-09-20", 24), ("2025-03-20", 30)]),
    ("P6", "2020-05-10", [("2025-05-10", 60)], []),
    ("P7", "2025-03-03", [("2025-04-02", 1), ("2025-06-03", 3), ("2025-09-03", 6)], [("2025-09-03", 6)]),
]
_PERFECT_NEWBORN = [("P1", "2025-09-25"), ("P2", "2025-08-20"), ("P3", "2024-12-06"), ("P7", "2025-03-08")]


def perfect_child_tables() -> dict:
    residents = [{"record_no": no, "name": f"童{no}", "sex": "2", "birth_date": b, "managing_unit": EAST,
                  "residence_type": "1", "status": "active", "status_date": ""} for no, b, _, _ in _PERFECT_KIDS]
    checks = [{"encounter_no": f"CC-{no}-{m}", "resident": no, "org_unit": EAST, "service_date": day,
               "age_months": m, "eye_check": "1", "weight": "9.0", "height": "72.0"}
              for no, _, items, _ in _PERFECT_KIDS for day, m in items]
    tcm = [{"encounter_no": f"TG-{no}-{m}", "resident": no, "org_unit": EAST, "service_date": day, "age_months": m}
           for no, _, _, items in _PERFECT_KIDS for day, m in items]
    newborn = [{"encounter_no": f"NV-{no}", "resident": no, "org_unit": EAST, "service_date": day, "eye_check": "1"}
               for no, day in _PERFECT_NEWBORN]
    # 0–6: all 7; under 3 at 30 Sep 2025: all but P5 (3 y 0 m) and P6; 0–36 months: all but P6;
    # born in 2025MCY: P1, P2, P3, P7
    bases = [{"org_unit": EAST, "year": 2025, "group": g, "value": v, "source": "statistics"}
             for g, v in [("children_0_6", 7), ("children_under_3", 5), ("children_0_36m", 6), ("live_births", 4)]]
    return {"residents": residents, "child_checks": checks, "newborn_visits": newborn, "child_tcm_guidance": tcm,
            "population_bases": bases}


# --- vaccination ---------------------------------------------------------------------------------------
_VKIDS = [  # worked through in tests/test_engine_vaccination.py
    ("V1c", EAST, "2025-03-01", "active", ""),
    ("V2c", WEST, "2024-05-10", "active", ""),
    ("V3c", LINQUAN, "2024-10-20", "active", ""),
    ("V4c", EAST, "2018-03-15", "active", ""),
    ("V5c", WEST, "2018-09-01", "active", ""),
    ("V6c", LINQUAN, "2017-06-01", "active", ""),
    ("V7c", WEST, "2021-06-01", "moved_out", "2025-03-01"),
    ("V8c", LINQUAN, "2023-12-10", "active", ""),
    ("V9c", EAST, "2022-08-01", "active", ""),
    ("V10c", LINQUAN, "2022-04-04", "active", ""),
]
_DOSES = [  # record_no, vaccine, dose, date, void
    ("V1c", "HepB", 1, "2025-03-02", False), ("V1c", "BCG", 1, "2025-06-05", False),
    ("V2c", "HepB", 1, "2024-05-10", False), ("V2c", "BCG", 1, "2024-05-11", False),
    ("V2c", "HepB", 2, "2024-06-12", False), ("V2c", "IPV", 1, "2024-07-11", False),
    ("V2c", "IPV", 2, "2024-08-12", False), ("V2c", "DTaP", 1, "2024-08-12", False),
    ("V2c", "bOPV", 1, "2024-09-12", False), ("V2c", "DTaP", 2, "2024-09-12", False),
    ("V2c", "DTaP", 3, "2024-10-12", False), ("V2c", "HepB", 3, "2024-11-12", False),
    ("V2c", "MPSV-A", 1, "2024-11-12", False), ("V2c", "JE-I", 1, "2025-01-15", False),
    ("V2c", "MMR", 1, "2025-05-20", False),
    ("V3c", "DTaP", 1, "2025-01-06", False), ("V3c", "DTaP", 2, "2025-02-21", False),
    ("V3c", "DTaP", 3, "2025-03-21", False),
    ("V4c", "DT", 1, "2024-03-20", False), ("V4c", "MPSV-AC", 2, "2024-03-20", True),
    ("V5c", "DT", 1, "2025-01-10", False), ("V5c", "MPSV-AC", 2, "2024-09-05", False),
    ("V6c", "DT", 1, "2023-06-10", False),
    ("V8c", "MPSV-A", 1, "2024-06-01", False), ("V8c", "MPSV-A", 2, "2024-09-15", False),
    ("V8c", "MMR", 2, "2025-06-12", False), ("V8c", "HepA-I", 1, "2025-06-12", False),
    ("V9c", "JE-I", 2, "2024-09-01", False),
    ("V10c", "JE-L", 2, "2024-04-10", False),
]


def vaccination_tables() -> dict:
    unit = {k[0]: k[1] for k in _VKIDS}
    residents = [{"record_no": no, "name": f"种{no}", "sex": "2", "birth_date": b, "managing_unit": u,
                  "residence_type": "1", "status": st, "status_date": sd} for no, u, b, st, sd in _VKIDS]
    doses = [{"encounter_no": f"VX-{no}-{i}", "resident": no, "org_unit": unit[no], "service_date": day,
              "vaccine": vac, "dose_no": n, "is_void": "1" if void else "0"}
             for i, (no, vac, n, day, void) in enumerate(_DOSES)]
    return {"residents": residents, "vaccinations": doses}


BUILDERS = {"maternal": maternal_tables, "child": child_tables, "vaccination": vaccination_tables,
            "child_perfect": perfect_child_tables}


def build_snapshot(root: Path, parts: tuple[str, ...] = ("maternal", "child", "vaccination")) -> Snapshot:
    batch: dict[str, list[dict]] = {}
    for part in parts:
        for name, rows in BUILDERS[part]().items():
            batch.setdefault(name, []).extend(rows)
    # live births are entered once per unit and year
    bases = {(r["org_unit"], r["year"], r["group"]): r for r in batch.get("population_bases", [])}
    if bases:
        batch["population_bases"] = list(bases.values())
    tables = {"org_units": ORG_UNITS, **{name: t(**_rows(rows)) for name, rows in batch.items()}}
    entry.submit(tables, actor="test", kind="test")
    return Snapshot.open(take_snapshot(root))


def engine(root: Path, parts: tuple[str, ...] = ("maternal", "child", "vaccination"), backend: str = "duckdb") -> Engine:
    return Engine(build_snapshot(root, parts), backend)
