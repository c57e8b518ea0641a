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


# --- one small region where every rule of the identity, completeness, plausibility and logic families fires
# at least once (and most of its rows pass): the DuckDB = PySpark agreement test
MY_RULES = ["ID-01", "ID-02", "ID-03", "ID-04", "ID-06", "ID-07", "ID-08", "ID-09", "C-02", "F-06",
            "C-01", "C-03", "C-04", "R-01", "R-02", "R-03", "R-04", "R-05", "R-06", "R-09", "R-10",
            "L-01", "L-02", "L-06", "L-07", "L-08"]


def every_rule_region() -> dict:
    good = idn("19800101", "011")
    shared = "13911112222"
    tables = people([
        {"record_no": "Z01", "phone": "12812345678", "blood_abo": ""},
        {"record_no": "Z02", "id_number": "123"},
        {"record_no": "Z03", "id_number": good[:17] + ("0" if good[17] != "0" else "1")},
        {"record_no": "Z04", "id_number": idn("19800230")},
        {"record_no": "Z05", "id_number": idn("19800101", region="369999")},
        {"record_no": "Z06", "id_number": idn("19810101"), "birth_date": "1980-01-01"},
        {"record_no": "Z07", "id_number": "11010519491231002X", "birth_date": "1949-12-31", "sex": "2"},
        {"record_no": "Z08", "id_number": good, "created_on": "2019-01-01"},
        {"record_no": "Z09", "id_number": good, "created_on": "2020-01-01", "phone": shared},
        {"record_no": "Z10", "id_number": idn("19800101", "013"), "phone": shared},
        {"record_no": "Z11", "id_number": idn("19800101", "015"), "phone": shared},
        {"record_no": "Z12", "id_number": idn("19800101", "017"), "phone": shared},
        {"record_no": "Z13", "id_number": idn("19950101", "019"), "birth_date": "1995-01-01"},
        {"record_no": "Z14", "id_number": idn("19600101", "022"), "birth_date": "1960-01-01", "sex": "2"},
    ])
    tables["health_examinations"] = rows(dict(resident="Z14", org_unit=V_EAST, trigger="elderly", adl_score="0",
                                              cognition="1", affect="1"), [
        {"encounter_no": "X1", "service_date": "2025-03-03", "height": "129", "weight": "29", "waist": "50",
         "pulse": "130", "sbp_left": "120", "dbp_left": "105", "bmi": "20"},
        {"encounter_no": "X2", "service_date": "2025-09-09", "height": "160", "weight": "60", "waist": "80",
         "pulse": "70", "sbp_left": "130", "dbp_left": "80", "sbp_right": "132", "dbp_right": "82", "bmi": "23.4"},
    ])
    tables["chronic_follow_ups"] = rows(dict(resident="Z14", org_unit=V_EAST, mode="1", adherence="1",
                                             next_visit_date="2025-12-01", classification="1"), [
        {"encounter_no": "U1", "program": "hypertension", "service_date": "2025-04-04", "sbp": "185", "dbp": "100"},
        {"encounter_no": "U2", "program": "hypertension", "service_date": "2025-07-04", "sbp": "130", "dbp": "80",
         "next_visit_date": "", "adverse_reaction": "1"},
        {"encounter_no": "U3", "program": "diabetes", "service_date": "2025-05-05", "sbp": "130", "dbp": "80",
         "fasting_glucose": "17.0"},
        {"encounter_no": "U4", "program": "diabetes", "service_date": "2025-08-05", "sbp": "130", "dbp": "80",
         "fasting_glucose": "6.1"},
    ])
    tables["enrollments"] = rows(dict(org_unit=V_EAST, start_date="2025-02-01"), [
        {"enrollment_no": "E1", "resident": "Z13", "program": "hypertension"},
        {"enrollment_no": "E2", "resident": "Z14", "program": "hypertension"},
        {"enrollment_no": "E3", "resident": "Z10", "program": "pregnancy"},
    ])
    tables["prenatal_visits"] = rows(dict(org_unit=V_EAST, gestational_weeks="12"), [
        {"encounter_no": "PV1", "resident": "Z10", "service_date": "2025-03-01"},
        {"encounter_no": "PV2", "resident": "Z14", "service_date": "2025-03-01"},
    ])
    return tables
