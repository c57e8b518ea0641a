"""Builders for the temporal and fabrication rule tests (tests/test_qc_temporal.py, test_qc_fabrication.py):
tables from row dicts, a snapshot through the entry layer, and findings keyed by natural numbers
(encounter_no, enrollment_no, staff code, record_no)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from gongwei.engine.backends import Engine
from gongwei.engine.quality import evaluate
from gongwei.engine.snapshot import Snapshot
from gongwei.records import entry
from gongwei.records.snapshot import take_snapshot
from gongwei.spec.periods import parse
from tests.regions import ORG_UNITS, t

V_EAST, V_WEST, V_LIN = "360426100201", "360426100202", "360426200201"
T_PUTING, T_LINQUAN = "360426100000", "360426200000"

STAFF = t(code=["S1", "S2", "S3", "S4", "S5"], org_unit=[V_EAST, T_PUTING, V_LIN, V_WEST, V_EAST],
          role=["village_doctor", "township_staff", "village_doctor", "village_doctor", "village_doctor"],
          name=["村医甲", "公卫乙", "村医丙", "村医丁", "村医戊"])

NATURAL_KEY = {"residents": "record_no", "health_records": "resident_id", "enrollments": "enrollment_no",
               "staff": "code"}


def table(rows: list[dict], **defaults: object) -> pa.Table:
    """A string table from row dicts; ``defaults`` fill the keys a row leaves out."""
    keys: list[str] = list(defaults)
    for r in rows:
        keys += [k for k in r if k not in keys]
    return t(**{k: [r.get(k, defaults.get(k)) for r in rows] for k in keys})


def resident(record_no: str, birth: str = "1950-01-01", unit: str = V_EAST, **kw: object) -> dict:
    return {"record_no": record_no, "name": "某" + record_no, "sex": "1", "birth_date": birth,
            "managing_unit": unit, "residence_type": "1", **kw}


def build(tmp_path: Path, tables: dict[str, pa.Table], backend: str = "duckdb") -> Engine:
    result = entry.submit({"org_units": ORG_UNITS, "staff": STAFF, **tables}, actor="test", kind="test")
    assert not result.issues, result.issues[:5]
    return Engine(Snapshot.open(take_snapshot(tmp_path)), backend)


def findings(eng: Engine, codes: list[str], period: str = "2025") -> pa.Table:
    return evaluate(eng, parse(period), codes)


def natural_keys(eng: Engine, name: str) -> dict[int, str]:
    """id → natural key of a snapshot table."""
    col = NATURAL_KEY.get(name, "encounter_no")
    if name == "health_records":
        name, col = "residents", "record_no"
    data = pq.read_table(eng.snapshot.path(name), columns=["id", col])
    return dict(zip(data.column("id").to_pylist(), data.column(col).to_pylist(), strict=True))


def flagged(eng: Engine, found: pa.Table, rule: str) -> list[str]:
    """Natural keys of the rows ``rule`` flagged, sorted."""
    rows = [r for r in found.to_pylist() if r["rule"] == rule]
    cache: dict[str, dict[int, str]] = {}
    out = []
    for r in rows:
        if r["table"] not in cache:
            cache[r["table"]] = natural_keys(eng, r["table"])
        out.append(cache[r["table"]][r["record_id"]])
    return sorted(out)


def message(eng: Engine, found: pa.Table, rule: str, key: str) -> str:
    rows = [r for r in found.to_pylist() if r["rule"] == rule]
    for r in rows:
        if natural_keys(eng, r["table"])[r["record_id"]] == key:
            return r["message"]
    raise AssertionError(f"{rule} did not flag {key}")
