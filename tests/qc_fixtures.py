"""Builders for the data-quality rule tests (tests/test_qc_*.py): residents with a complete 个人基本信息表 by
default, encounters with only the columns a test names, a snapshot, and findings keyed by the numbers a
village doctor would look up (record_no for residents and records, encounter_no / enrollment_no otherwise)."""

from __future__ import annotations

from pathlib import Path

from gongwei.engine.backends import Engine
from gongwei.engine.quality import evaluate
from gongwei.engine.snapshot import Snapshot
from gongwei.records import entry
from gongwei.records.snapshot import take_snapshot
from gongwei.spec.periods import parse
from tests.regions import ORG_UNITS, t

V_EAST, V_WEST, V_LIN = "360426100201", "360426100202", "360426200201"
T_PUTING = "360426100000"

_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def idn(birth: str, seq: str = "011", region: str = "360426") -> str:
    """A valid 18-digit number (GB 11643 check character); ``birth`` is YYYYMMDD, odd ``seq`` = male."""
    body = region + birth + seq
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _W, strict=True)) % 11]


RESIDENT_DEFAULTS = dict(
    name="某某", sex="1", birth_date="1980-01-01", managing_unit=V_EAST, residence_type="1", id_type="01",
    id_number="", phone="", status="active", status_date="", merged_into="", household="", usual_resident="1",
    ethnicity="01",
)
RECORD_DEFAULTS = dict(
    created_on="2020-01-01", created_by_unit=T_PUTING, is_electronic="1", blood_abo="1", blood_rh="1",
    education="5", occupation="4", marital_status="2", payment_methods="2", drug_allergy="1", exposure="1",
    past_history="1", family_history="1", disability="1",
)


def people(rows: list[dict], *, records: bool = True) -> dict:
    """``residents`` (and ``health_records`` unless a row says ``record=False``) from row dicts; keys of
    :data:`RECORD_DEFAULTS` go to the record, the rest to the resident. Everyone gets a distinct phone
    unless the row names one."""
    res_rows, hr_rows = [], []
    for i, row in enumerate(rows):
        r = {**RESIDENT_DEFAULTS, "phone": f"139{i:08d}"}
        h = dict(RECORD_DEFAULTS)
        for k, v in row.items():
            if k == "record":
                continue
            (h if k in RECORD_DEFAULTS else r)[k] = v
        res_rows.append(r)
        if records and row.get("record", True):
            hr_rows.append({"resident": r["record_no"], **h})
    out = {"residents": _table(res_rows)}
    if hr_rows:
        out["health_records"] = _table(hr_rows)
    return out


def rows(defaults: dict, items: list[dict]) -> object:
    """An exchange table from row dicts over ``defaults`` (every row has every column)."""
    return _table([{**defaults, **item} for item in items])


def _table(items: list[dict]):
    cols = list(dict.fromkeys(k for item in items for k in item))
    return t(**{c: [item.get(c, "") for item in items] for c in cols})


def build(root: Path, tables: dict, backend: str = "duckdb") -> Engine:
    result = entry.submit({"org_units": ORG_UNITS, **tables}, actor="test", kind="test")
    assert not result.issues, result.issues[:5]
    return Engine(Snapshot.open(take_snapshot(root)), backend)


_KEYS = {"residents": "record_no", "enrollments": "enrollment_no"}


def findings(eng: Engine, codes: list[str], period: str = "2025") -> list[dict]:
    """Findings as dicts, each with ``number``: the flagged row's natural key."""
    out = evaluate(eng, parse(period), codes).to_pylist()
    names: dict[str, dict[int, str]] = {}
    for f in out:
        table = f["table"]
        if table in ("residents", "health_records"):
            f["number"] = f["record_no"]
            continue
        if table not in names:
            key = _KEYS.get(table, "encounter_no")
            data = eng.table(table).select("id", key).to_pyarrow().to_pylist()
            names[table] = {r["id"]: r[key] for r in data}
        f["number"] = names[table][f["record_id"]]
    return out


def flagged(found: list[dict], rule: str) -> list[str]:
    return sorted(f["number"] for f in found if f["rule"] == rule)


def message(found: list[dict], rule: str, number: str) -> str:
    (msg,) = [f["message"] for f in found if f["rule"] == rule and f["number"] == number]
    return msg
