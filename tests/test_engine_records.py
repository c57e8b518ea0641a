"""Resident health records (R1–R5) on the hand-built region of tests/engine_fixtures_population.py.

Records at the end of 2025 (``recorded``): A1–A5 in 城东村 (A5 merged into A1 is still a record row, but R1
counts people: A5 is A1), B1–B4 in 城西村 (B4 is a second record of B3's person), C1–C2 in 林泉村. Not counted: A6 (died 1 Mar 2025), A7 (not a usual resident), C3 (record
created 5 Jan 2026). Usual-resident population bases: 城东 10, 城西 8, 林泉村 6 → 蒲亭 18, county 24.
"""

from __future__ import annotations

import dataclasses

import pyarrow.parquet as pq
import pytest

from gongwei.engine import catalogue, gaps
from gongwei.engine.backends import Engine
from gongwei.engine.programs.records import HOLDERS_COLUMN, ID_KEY_COLUMN, unchecked_fields
from gongwei.engine.snapshot import Snapshot
from gongwei.spec.periods import parse
from gongwei.spec.programs import records as records_spec
from gongwei.spec.rules import ByYear
from tests.engine_fixtures_population import (
    COUNTY,
    T_LINQUAN,
    T_PUTING,
    V_EAST,
    V_LIN,
    V_WEST,
    engine,
)
from tests.engine_results import by_code

pytestmark = pytest.mark.django_db
CODES = ["R1", "R2", "R3", "R4", "R5"]


def test_records_2025(tmp_path):
    """R1 counts people with a record, not records ( R1 "people with a record" [rpt-jkda]):
    城东 A1–A5 are 4 people (A5 was merged into A1), 城西 B1–B4 are 3 (B4 carries B3's identity number and was
    created later: the same person), 林泉村 C1, C2 → 城东 4/10, 蒲亭 7/18, county 9/24.
    R2: all electronic but A4 → 城东 4, county 10.
    R3: electronic, required fields filled, not a duplicate: 城东 A1 and A3 (A2 lacks ID number, blood type and
    education; A4 paper; A5 merged) → 2; 城西 B1–B3 → 3 (B4 carries B3's identity number, which the
    snapshot's id_key reveals: a duplicate); 林泉 2 → county 7.
    R4: a service from 1 Jan to 31 Dec 2025: A1, A2, A4 exams (城东 3 of 5); B1 exam, B3 vaccination (城西 2 of 4;
    B2's exam was in 2024, B4 has none); C1 exam, C2 follow-up (林泉 2 of 2) → county 7 of 11.
    R5: records minus the merged A5 and the same-number duplicate B4 → 城东 4, 城西 3, county 9."""
    eng = engine(tmp_path)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025"), CODES))
    assert got[("R1", V_EAST)] == (4, 10)
    assert got[("R1", V_WEST)] == (3, 8)
    assert got[("R1", T_PUTING)] == (7, 18)
    assert got[("R1", COUNTY)] == (9, 24)
    assert got[("R2", V_EAST)] == (4, 10)
    assert got[("R2", COUNTY)] == (10, 24)
    assert got[("R3", V_EAST)] == (2, 10)
    assert got[("R3", V_WEST)] == (3, 8)
    assert got[("R3", COUNTY)] == (7, 24)
    assert got[("R4", V_EAST)] == (3, 5)
    assert got[("R4", V_WEST)] == (2, 4)
    assert got[("R4", V_LIN)] == (2, 2)
    assert got[("R4", COUNTY)] == (7, 11)
    assert got[("R5", V_EAST)] == (4, 10)
    assert got[("R5", V_WEST)] == (3, 8)
    assert got[("R5", COUNTY)] == (9, 24)
    assert got[("R1", T_LINQUAN)] == (2, 6)


def test_records_earlier_period(tmp_path):
    """At 31 Jan 2025 A6 is alive (died 1 Mar) → 城东 has 6 records of 5 people (A5 is A1's duplicate, merged in
    the snapshot) → R1 5; the 365-day window for R4 runs from
    2 Feb 2024: A3's exam (1 Jun 2024) counts, A1/A2/A4 have none yet, A6 none → 城东 R4 = 1 of 6.
    Bases exist only for 2025 (the period's year), so R1 keeps 10 as the denominator."""
    eng = engine(tmp_path)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025-01-31"), ["R1", "R4"]))
    assert got[("R1", V_EAST)] == (5, 10)
    assert got[("R4", V_EAST)] == (1, 6)
    # 城西: B2's exam (1 Nov 2024) now lies in the window → B2 in use; B1/B3/B4 not yet → 1 of 4
    assert got[("R4", V_WEST)] == (1, 4)


def test_gap_lists_explain_records(tmp_path):
    eng = engine(tmp_path)
    page = gaps.people(eng, "R3", V_EAST, parse("2025"))
    reasons = {p.record_no: p.reasons for p in page.people}
    assert reasons == {
        "A2": [("REC-FIELDS", "个人基本信息表缺项：身份证号、ABO血型、文化程度")],
        "A4": [("REC-PAPER", "仅有纸质档案，未建电子档案")],
        "A5": [("REC-MERGED", "重复档案，已合并至其他档案")],
    }
    r2 = gaps.people(eng, "R2", COUNTY, parse("2025"))
    assert [(p.record_no, p.reasons) for p in r2.people] == [("A4", [("REC-PAPER", "仅有纸质档案，未建电子档案")])]
    r4 = gaps.people(eng, "R4", COUNTY, parse("2025"))
    assert {p.record_no: p.reasons for p in r4.people} == {
        "A3": [("REC-IDLE", "近一年无服务记录")],
        "A5": [("REC-MERGED", "重复档案，已合并至其他档案"), ("REC-IDLE", "近一年无服务记录")],
        "B2": [("REC-IDLE", "近一年无服务记录")],
        "B4": [("REC-IDLE", "近一年无服务记录")],
    }
    r5 = gaps.people(eng, "R5", COUNTY, parse("2025"))
    assert [p.record_no for p in r5.people] == ["A5", "B4"]
    # R1's drill-down: of the 11 record rows, the two not counted as people are the duplicates
    r1 = gaps.people(eng, "R1", COUNTY, parse("2025"))
    assert {p.record_no: p.reasons for p in r1.people} == {
        "A5": [("REC-MERGED", "重复档案，已合并至其他档案")],
        "B4": [("REC-DUPID", "与其他在档档案身份证号相同（重复档案）")],
    }
    assert gaps.people(eng, "R1", COUNTY, parse("2025"), part="denominator").total == 11


def test_identity_key_finds_same_number_duplicates(tmp_path):
    """The snapshot writes a keyed hash of the normalised identity number (id_key): B4 — a second active
    record with B3's number, created later — is a duplicate; B3, the earlier one, is not. A1 and A5 share a
    number too, but A5 is already merged and A1 is the only active record with it. Without the column only
    merged records are known duplicates: R5 for 城西 goes back to 4."""
    eng = engine(tmp_path)
    page = gaps.people(eng, "R5", V_WEST, parse("2025"))
    assert [(p.record_no, p.reasons) for p in page.people] == \
        [("B4", [("REC-DUPID", "与其他在档档案身份证号相同（重复档案）")])]
    path = eng.snapshot.path("residents")
    pq.write_table(pq.read_table(path).drop_columns([ID_KEY_COLUMN]), path)
    eng = Engine(Snapshot.open(eng.snapshot.folder), "duckdb")
    got = by_code(eng, catalogue.evaluate(eng, parse("2025"), ["R3", "R5"]))
    assert got[("R5", V_WEST)] == (4, 8)
    assert got[("R3", V_WEST)] == (4, 8)


def test_key_population_exam_option(tmp_path, monkeypatch):
    """With exam_for_key_populations, people aged 65+ (A1, A2, B1, B2, C1) and patients enrolled in 2025
    (A1 and C2 with hypertension) also need an exam within the year: B2 (exam 2024) and C2 (none) lose
    R3 → county 7 − 2 = 5; their reason is "重点人群近一年无健康体检"."""
    std = dataclasses.replace(records_spec.STANDARD.for_year(2025), exam_for_key_populations=True)
    monkeypatch.setattr(records_spec, "STANDARD", ByYear({2017: std}))
    eng = engine(tmp_path)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025"), ["R3"]))
    assert got[("R3", COUNTY)] == (5, 24)
    page = gaps.people(eng, "R3", COUNTY, parse("2025"))
    reasons = {p.record_no: p.reasons for p in page.people}
    assert reasons["B2"] == [("REC-EXAM", "重点人群近一年无健康体检")]
    assert reasons["C2"] == [("REC-EXAM", "重点人群近一年无健康体检")]


def test_required_fields_are_configurable(tmp_path, monkeypatch):
    """Dropping 文化程度 and ABO血型 from the list leaves A2 short of the ID number only."""
    fields = tuple(f for f in records_spec.STANDARD.for_year(2025).required_fields if f not in ("education", "blood_abo"))
    std = dataclasses.replace(records_spec.STANDARD.for_year(2025), required_fields=fields)
    monkeypatch.setattr(records_spec, "STANDARD", ByYear({2017: std}))
    eng = engine(tmp_path)
    page = gaps.people(eng, "R3", V_EAST, parse("2025"))
    assert {p.record_no: p.reasons for p in page.people}["A2"] == [("REC-FIELDS", "个人基本信息表缺项：身份证号")]


def test_fields_the_snapshot_cannot_show(tmp_path):
    """Phones are left out of snapshots (privacy) but a phone_present flag is written, so every required
    field can be checked; identity numbers are judged from id_status."""
    eng = engine(tmp_path)
    assert unchecked_fields(eng, 2025) == ()
    res = eng.table("residents").to_pyarrow()
    assert "phone" not in res.column_names and "id_number" not in res.column_names
    assert {"phone_present", "phone_key", "phone_shape", "id_key", "id_masked"} <= set(res.column_names)
    rows = {r["record_no"]: r for r in res.to_pylist()}
    assert rows["A1"]["id_key"] == rows["A5"]["id_key"] is not None  # same number → same key
    assert rows["A1"]["id_masked"] == "360426********0018"
    assert rows["A2"]["id_key"] is None and rows["A2"]["id_masked"] == ""
    assert rows["A1"]["phone_shape"] == "13999999999"


def _rewrite_holders(eng, holders) -> Engine:
    """The snapshot's residents with ``id_key_holders`` replaced (None: the column dropped, as in a format /1
    snapshot), opened again."""
    import pyarrow as pa

    path = eng.snapshot.path("residents")
    table = pq.read_table(path)
    if HOLDERS_COLUMN in table.column_names:
        table = table.drop_columns([HOLDERS_COLUMN])
    if holders is not None:
        table = table.append_column(HOLDERS_COLUMN, pa.array(holders(table), pa.int32()))
    pq.write_table(table, path)
    return Engine(Snapshot.open(eng.snapshot.folder), "duckdb")


def test_key_holders_written_with_the_snapshot_decide_nothing_but_where_to_look(tmp_path):
    """Snapshot format /2 writes, per resident, how many records hold its identity key (ADR 028): A1 and A5 share a
    number (2 each), B3 and B4 too (2 each), everyone else with a number holds it alone (1), A2 has none (null).
    The engine ranks only the residents whose key is shown on two records or more, so the figures are those of
    grouping every key (the column dropped, as in a /1 snapshot), in every period — and the same again when the
    column overstates (every key "shared": the ranking itself finds B4 alone). Understated (every key held once),
    the engine believes it and B4 is no longer found: R5 for 城西 is then 4 of 8, as without a key at all
    (test_identity_key_finds_same_number_duplicates) — the column is what the query reads."""
    eng = engine(tmp_path)
    rows = {r["record_no"]: r[HOLDERS_COLUMN] for r in eng.table("residents").to_pyarrow().to_pylist()}
    assert rows["A1"] == rows["A5"] == rows["B3"] == rows["B4"] == 2
    assert rows["A2"] is None and rows["B1"] == 1
    periods = [parse(p) for p in ("2025", "2024", "2025Q1", "2025-01-31")]
    written = [catalogue.evaluate(eng, p, CODES).to_pylist() for p in periods]
    assert by_code(eng, catalogue.evaluate(eng, parse("2025"), ["R5"]))[("R5", V_WEST)] == (3, 8)

    eng = _rewrite_holders(eng, None)
    assert [catalogue.evaluate(eng, p, CODES).to_pylist() for p in periods] == written
    eng = _rewrite_holders(eng, lambda t: [2] * t.num_rows)
    assert [catalogue.evaluate(eng, p, CODES).to_pylist() for p in periods] == written
    eng = _rewrite_holders(eng, lambda t: [1] * t.num_rows)
    assert by_code(eng, catalogue.evaluate(eng, parse("2025"), ["R5"]))[("R5", V_WEST)] == (4, 8)
