"""Vaccination coverage V2 (per vaccine and dose) and the township rule V3 on a hand-built region.

Rules (gongwei.spec.programs.vaccination): a period is counted against the schedule edition in force in its year —
国家免疫规划疫苗儿童免疫程序及说明（2021年版）until 2024; from 2025 the DTaP change of 《关于国家免疫规划百白破
疫苗和白破疫苗免疫程序调整相关工作的通知》(DTaP at 2, 4, 6, 18 months and 6 years; no DT). As the immunisation
information system counts: a child is due (应种) for a dose when it reaches the dose's deadline age in the period
(the 2021 说明's completion ages: HepB 1 within 24 h → birth + 2 days; BCG < 3 m; the primary series, MMR 1, JE 1
< 12 m; MPSV-A < 18 m; MMR 2, HepA 1, DTaP 4 < 24 m; JE 2 < 3 y; MPSV-AC 1 < 4 y; bOPV 2 < 5 y; DT / DTaP 5,
MPSV-AC 2 < 7 y); received (实种) when an accepted record is dated from the schedule age of the edition in force on
the record's day up to the day before the deadline. Late doses do not count.

Calendar 2025 (2025 edition):
- V1c, 城东, born 2025-03-01: HepB 1 on 03-02 (deadline 03-03) ✓; BCG on 06-05, after the 3-month deadline 06-01 ✗.
  Its 12-month doses fall due in 2026.
- V2c, 城西, born 2024-05-10 (12-month deadline 2025-05-10, 18-month 2025-11-10), vaccinated on time in 2024 under
  the 2021 ages: HepB 2, HepB 3, IPV 1–2, bOPV 1, DTaP 1–3 ✓. **Straddles the change**: DTaP 1 at 3 m and DTaP 3
  at 5 m (2024-10-12) were on time then; under the 2025 ages (2 m, 6 m) the 5-month dose would be early — it
  counts because the 2021 edition was in force on its day. JE 1 via JE-I dose 1 (accepted) ✓; MMR 1 on 05-20,
  ten days after the deadline ✗ (late). MPSV-A 1 ✓, MPSV-A 2 none ✗.
- V3c, 林泉村, born 2024-10-20 (**born before the change, vaccinated after**): BCG deadline 2025-01-20 ✗; 12-month
  deadline 2025-10-20: DTaP 1 on 2025-01-06 (2 m under the 2025 edition; it would have been early under 2021's
  3 m) ✓, DTaP 2 ✓, DTaP 3 on 03-21 at 5 months — early under the 2025 edition's 6 months ✗; HepB 2–3, IPV 1–2,
  bOPV 1, MMR 1, JE 1 none ✗.
- V4c, 城东, born 2018-03-15, 7 y on 2025-03-15: DTaP 5 — its DT dose of 2024-03-20 (the 6-year dose then) counts
  ✓; MPSV-AC 2 only as a voided record ✗.
- V5c, 城西, born 2018-09-01, 7 y on 2025-09-01: DT on 2025-01-10, after DT left the schedule → not DTaP 5 ✗;
  MPSV-AC 2 on 2024-09-05 ✓.
- V6c (born 2017) has nothing due in 2025. V7c, born 2021-06-01, moved out 2025-03-01 before its MPSV-AC 1
  deadline (4 y, 2025-06-01) → not due.
- V8c, 林泉村, born 2023-12-10: 18-month deadline 2025-06-10: MPSV-A 1 on 2024-06-01 — before 6 months ✗,
  MPSV-A 2 ✓; 24-month deadline 2025-12-10: MMR 2 ✓, HepA 1 via HepA-I dose 1 ✓, DTaP 4 none ✗.
- V9c, 城东, born 2022-08-01: JE 2 (3 y, 2025-08-01) only as JE-I dose 2 (JE-I dose 3 is accepted) ✗.
- V10c, 林泉村, born 2022-04-04: JE 2 (2025-04-04) via JE-L 2 ✓.

V3 (every dose with children due ≥ 90 %): 蒲亭 (V1c, V2c, V4c, V5c, V7c, V9c) has 17 doses due; BCG 0/1, DTaP 5
1/2, MMR 1 0/1, JE 2 0/1, MPSV-A 2 0/1 and MPSV-AC 2 1/2 fall short → 11 of 17, fails. 林泉 (V3c, V8c, V10c) has
17 doses due, reaches 6 (DTaP 1, DTaP 2, MPSV-A 2, MMR 2, HepA 1, JE 2), fails.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from gongwei.engine import catalogue, gaps, registry, worklist
from gongwei.engine.backends import Engine
from gongwei.engine.orgs import OrgTree
from gongwei.engine.programs.vaccination import passes
from gongwei.spec import catalogue as spec_catalogue
from gongwei.spec.periods import parse
from gongwei.spec.programs import vaccination
from tests.engine_fixtures_mch import COUNTY, LINQUAN_TOWN, PUTING, engine
from tests.engine_results import by_code

pytestmark = pytest.mark.django_db

EXPECTED_2025 = {
    "V2.HepB.1": (1, 1), "V2.HepB.2": (1, 2), "V2.HepB.3": (1, 2), "V2.BCG.1": (0, 2), "V2.IPV.1": (1, 2),
    "V2.IPV.2": (1, 2), "V2.bOPV.1": (1, 2), "V2.bOPV.2": (0, 0), "V2.DTaP.1": (2, 2), "V2.DTaP.2": (2, 2),
    "V2.DTaP.3": (1, 2), "V2.DTaP.4": (0, 1), "V2.DTaP.5": (1, 2), "V2.DT.1": (0, 0), "V2.MMR.1": (0, 2),
    "V2.MMR.2": (1, 1), "V2.JE.1": (1, 2), "V2.JE.2": (1, 2), "V2.MPSV-A.1": (1, 2), "V2.MPSV-A.2": (1, 2),
    "V2.MPSV-AC.1": (0, 0), "V2.MPSV-AC.2": (1, 2), "V2.HepA.1": (1, 1),
}  # code → (numerator, denominator), county

# Calendar 2024 (2021 edition: DTaP at 3, 4, 5, 18 months, DT at 6 years; no DTaP 5):
# - V2c: HepB 1 (deadline 2024-05-12) ✓ and BCG (08-10) ✓. V3c: HepB 1 (deadline 2024-10-22) ✗.
# - V6c, 7 y on 2024-06-01: DT on 2023-06-10 (from 6 y) ✓; MPSV-AC 2 ✗. V7c: JE 2 (3 y, 2024-06-01; still
#   living there) ✗.
# - V8c, 12 months on 2024-12-10: BCG (2024-03-10) ✗ and every 12-month dose ✗ (its records are MPSV-A only).
# - V9c: 18 months on 2024-02-01: MPSV-A 1–2 ✗; V9c and V10c reach 24 months in 2024: MMR 2, HepA 1, DTaP 4 ✗.
EXPECTED_2024 = {
    "V2.HepB.1": (1, 2), "V2.HepB.2": (0, 1), "V2.HepB.3": (0, 1), "V2.BCG.1": (1, 2), "V2.IPV.1": (0, 1),
    "V2.IPV.2": (0, 1), "V2.bOPV.1": (0, 1), "V2.bOPV.2": (0, 0), "V2.DTaP.1": (0, 1), "V2.DTaP.2": (0, 1),
    "V2.DTaP.3": (0, 1), "V2.DTaP.4": (0, 2), "V2.DTaP.5": (0, 0), "V2.DT.1": (1, 1), "V2.MMR.1": (0, 1),
    "V2.MMR.2": (0, 2), "V2.JE.1": (0, 1), "V2.JE.2": (0, 1), "V2.MPSV-A.1": (0, 1), "V2.MPSV-A.2": (0, 1),
    "V2.MPSV-AC.1": (0, 0), "V2.MPSV-AC.2": (0, 1), "V2.HepA.1": (0, 2),
}


@pytest.fixture
def eng(tmp_path):
    return engine(tmp_path, ("vaccination",))


def test_schedule_by_year():
    """The DTaP change: 2021 edition until 2024, 2025 edition from 2025 (both the in-force rule and the doses)."""
    ages = {y: {d.code: d.months for d in vaccination.schedule_for(y).doses if d.vaccine in ("DTaP", "DT")}
            for y in (2020, 2024, 2025, 2030)}
    old = {"V2.DTaP.1": 3, "V2.DTaP.2": 4, "V2.DTaP.3": 5, "V2.DTaP.4": 18, "V2.DT.1": 72}
    new = {"V2.DTaP.1": 2, "V2.DTaP.2": 4, "V2.DTaP.3": 6, "V2.DTaP.4": 18, "V2.DTaP.5": 72}
    assert ages == {2020: old, 2024: old, 2025: new, 2030: new}
    # everything else is unchanged between the editions
    rest = [{d.code: (d.months, d.by_months, d.accepted) for d in vaccination.schedule_for(y).doses
             if d.vaccine not in ("DTaP", "DT")} for y in (2024, 2025)]
    assert rest[0] == rest[1]


def test_one_indicator_per_vaccine_and_dose():
    codes = [c for c in spec_catalogue.indicators() if c.startswith("V2.")]
    assert sorted(codes) == sorted(EXPECTED_2025)
    assert spec_catalogue.indicators()["V2.MMR.1"].name == "麻腮风疫苗第1剂次接种率"
    assert spec_catalogue.indicators()["V2.DTaP.5"].name == "百白破疫苗第5剂次接种率"
    assert spec_catalogue.indicators()["V1"].numerator == "vaccination.has_certificate"  # V1 建证率 is computable


def test_year_2025(eng):
    results = catalogue.evaluate(eng, parse("2025"), list(EXPECTED_2025))
    got = by_code(eng, results)
    assert {code: got[(code, COUNTY)] for code in EXPECTED_2025} == EXPECTED_2025
    assert got[("V2.DTaP.3", PUTING)] == (1, 1)  # V2c, the 5-month dose of 2024
    assert got[("V2.DTaP.3", LINQUAN_TOWN)] == (0, 1)  # V3c, the 5-month dose of 2025
    assert got[("V2.DTaP.5", PUTING)] == (1, 2)
    assert got[("V2.JE.2", LINQUAN_TOWN)] == (1, 1)

    tree = OrgTree.load(eng.snapshot)
    v3 = {tree.code[r["org_unit_id"]]: (r["numerator"], r["denominator"], r["passed"])
          for r in passes(results, tree).to_pylist()}
    assert v3 == {PUTING: (11, 17, False), LINQUAN_TOWN: (6, 17, False)}
    # county: 20 doses with children due (all but bOPV 2, DT 1, MPSV-AC 1); at ≥ 90 % only HepB 1, DTaP 1,
    # DTaP 2, MMR 2 and HepA 1
    county = {r["org_unit_id"]: r for r in passes(results).to_pylist()}[tree.by_code(COUNTY)]
    assert (county["numerator"], county["denominator"], county["passed"]) == (5, 20, False)


def test_year_2024_counts_against_the_2021_edition(eng):
    got = by_code(eng, catalogue.evaluate(eng, parse("2024"), list(EXPECTED_2024)))
    assert {code: got[(code, COUNTY)] for code in EXPECTED_2024} == EXPECTED_2024


def test_v3_rate_is_compared_exactly():
    """9 of 10 is exactly 90 % and passes; 8 of 9 (88.9 %) does not; doses nobody is due for are ignored."""
    results = pa.table({"indicator": ["V2.MMR.1", "V2.JE.1", "V2.DT.1", "V2.MMR.1", "V2.JE.1", "H2"],
                        "org_unit_id": [1, 1, 1, 2, 2, 2], "numerator": [9, 3, 0, 9, 8, 0],
                        "denominator": [10, 3, 0, 10, 9, 5]})
    got = {r["org_unit_id"]: (r["numerator"], r["denominator"], r["passed"]) for r in passes(results).to_pylist()}
    assert got == {1: (2, 2, True), 2: (1, 2, False)}


def test_gap_lists_name_the_missing_dose(eng):
    period = parse("2025")
    page = gaps.people(eng, "V2.MMR.1", COUNTY, period)
    assert [(p.record_no, p.reasons) for p in page.people] == [
        ("V2c", [("VAC-MMR-1", "麻腮风第1剂未在12月龄前接种")]), ("V3c", [("VAC-MMR-1", "麻腮风第1剂未在12月龄前接种")])]
    dtap5 = gaps.people(eng, "V2.DTaP.5", COUNTY, period)
    assert [(p.record_no, p.reasons) for p in dtap5.people] == [("V5c", [("VAC-DTaP-5", "百白破第5剂未在7岁前接种")])]
    bcg = gaps.people(eng, "V2.BCG.1", COUNTY, period)
    assert [(p.record_no, [m for _, m in p.reasons]) for p in bcg.people] == [
        ("V1c", ["卡介苗第1剂未在3月龄前接种"]), ("V3c", ["卡介苗第1剂未在3月龄前接种"])]
    assert gaps.people(eng, "V2.MPSV-AC.1", COUNTY, period, part="denominator").total == 0  # V7c moved out first
    assert gaps.people(eng, "V2.DT.1", COUNTY, period, part="denominator").total == 0  # not in the 2025 schedule


def test_worklist_due_dates(eng):
    """As of 2025-06-30 (records up to 30 June; look-ahead to 31 Dec); the due date is the deadline age:

    overdue: V1c BCG (06-01), V2c MMR 1 (05-10), V3c BCG (01-20), V4c MPSV-AC 2 (03-15), V8c MPSV-A 1 (06-10);
    upcoming: V2c MPSV-A 2 (11-10); V3c's 12-month doses not yet given (10-20): HepB 2–3, IPV 1–2, bOPV 1,
    DTaP 3, MMR 1, JE 1; V5c DTaP 5 (09-01); V8c DTaP 4 (12-10); V9c JE 2 (08-01).
    """
    work = worklist.items(eng, COUNTY, dt.date(2025, 6, 30), programs=["vaccination"],
                          include_upcoming=True).to_pylist()
    # certificates (V1) are checked in tests/test_engine_records8.py; this region records none
    got = sorted((w["record_no"], w["service"], w["due_date"], w["status"]) for w in work if w["service"] != "certificate")
    up, late = "upcoming", "overdue"
    oct20 = dt.date(2025, 10, 20)
    assert got == sorted([
        ("V1c", "bcg_1", dt.date(2025, 6, 1), late),
        ("V2c", "mmr_1", dt.date(2025, 5, 10), late), ("V2c", "mpsv_a_2", dt.date(2025, 11, 10), up),
        ("V3c", "bcg_1", dt.date(2025, 1, 20), late),
        *(("V3c", key, oct20, up) for key in ("hepb_2", "hepb_3", "ipv_1", "ipv_2", "bopv_1", "dtap_3", "mmr_1",
                                               "je_1")),
        ("V4c", "mpsv_ac_2", dt.date(2025, 3, 15), late),
        ("V5c", "dtap_5", dt.date(2025, 9, 1), up),
        ("V8c", "mpsv_a_1", dt.date(2025, 6, 10), late), ("V8c", "dtap_4", dt.date(2025, 12, 10), up),
        ("V9c", "je_2", dt.date(2025, 8, 1), up),
    ])
    assert {w["service_name"] for w in work if w["service"] == "je_2"} == {"乙脑疫苗第2剂（2岁）"}


@pytest.mark.parametrize("as_of", ["2024-12-31", "2025-02-15", "2025-06-30", "2025-12-31"])
def test_worklist_agrees_with_gap_reasons(eng, as_of):
    day = dt.date.fromisoformat(as_of)
    period = parse(as_of)
    work = worklist.items(eng, COUNTY, day, programs=["vaccination"], include_upcoming=True).to_pylist()
    overdue = {(w["record_no"], w["gap"]) for w in work if w["status"] == "overdue" and w["gap"]}
    reasons = set()
    for d in vaccination.DOSES:
        for p in gaps.people(eng, d.code, COUNTY, period, size=1000).people:
            reasons |= {(p.record_no, f"missing_{d.key}") for _ in p.reasons}
    reasons |= {(p.record_no, "no_certificate") for p in gaps.people(eng, "V1", COUNTY, period, size=1000).people}
    assert overdue == reasons
    state = eng.to_arrow(registry.state(eng, "vaccination", period)).to_pylist()
    gap_columns = [f"gap_missing_{d.key}" for d in vaccination.DOSES] + ["gap_no_certificate"]
    assert len(overdue) == sum(r[c] for r in state for c in gap_columns)


@pytest.mark.sqlite_only  # the Spark backend on a snapshot: once, not per database (docs/testing.md)
def test_duckdb_and_pyspark_agree_across_the_change(eng):
    """Both editions (2024, 2025) give the same counts and state rows on DuckDB and PySpark."""
    spark = Engine(eng.snapshot, "pyspark")
    order = [("indicator", "ascending"), ("org_unit_id", "ascending")]
    for period in ("2024", "2025"):
        a = catalogue.evaluate(eng, parse(period), list(EXPECTED_2025)).sort_by(order).to_pylist()
        b = catalogue.evaluate(spark, parse(period), list(EXPECTED_2025)).sort_by(order).to_pylist()
        assert a == b and sum(r["numerator"] for r in a) > 0
        rows = [sorted(e.to_arrow(registry.state(e, "vaccination", parse(period))).to_pylist(),
                       key=lambda r: r["resident_id"]) for e in (eng, spark)]
        assert rows[0] == rows[1], period


@pytest.mark.parametrize("period_code", ["2024", "2025", "2025-06-30"])
def test_plain_oracle_agrees_on_the_hand_built_region(eng, period_code):
    """tests/plain/vaccination.py, written from the rule text, gives the engine's per-unit counts here too."""
    from tests import plain
    from tests.plain import vaccination as plain_vaccination

    period = parse(period_code)
    tables = plain.load_tables(eng.snapshot.folder, plain_vaccination.TABLES)
    expected = plain_vaccination.state(tables, "vaccination", period)
    got = catalogue.flag_counts(eng, "vaccination", period, sorted(expected)).to_pylist()
    for flag in sorted(expected):
        assert {r["managing_unit_id"]: r[flag] for r in got if r[flag]} == dict(expected[flag]), flag
    assert sum(sum(c.values()) for c in expected.values()) > 0
