"""Vaccination coverage V2 (per vaccine and dose) and the township rule V3 on a hand-built region.

Calendar year 2025. A dose is due (应种) when its deadline — birth + schedule age + 30 days — falls in 2025; it is
received (实种) with a record of an accepted product dated from the schedule age to 31 Dec 2025.

- V1c, 城东, born 2025-03-01: deadlines in 2025 for HepB 1–3, BCG, IPV 1–2, bOPV 1, DTaP 1–3, MPSV-A 1–2 (9 m:
  due 12-01, deadline 12-31), MMR 1 and JE 1 (8 m: 11-01 → 12-01). Received all on time except MMR 1; JE 1 is
  an inactivated JE-I dose 1 (accepted) on 11-05.
- V2c, 城西, born 2024-06-15: 6 m (12-15 → deadline 2025-01-14), 8 m (2025-02-15 → 03-17), 9 m (03-15 → 04-14)
  fall in 2025: HepB 3 (2024-12-20 ✓, given last year), MPSV-A 1 (2024-12-10 — before 6 months: does not count
  ✗), MMR 1 (04-01, late but by the year end ✓), JE 1 (JE-L 02-20 ✓), MPSV-A 2 ✗.
- V3c, 林泉村, born 2023-07-10: 18 m (2025-01-10 → 02-09) and 24 m (07-10 → 08-09): DTaP 4 ✓, MMR 2 ✓, HepA 1
  (HepA-I dose 1, accepted ✓), JE 2 (JE-L 2 ✓).
- V4c, 城东, born 2019-02-10: 6 y (2025-02-10 → 03-12): DT ✓; MPSV-AC 2 only as a voided record ✗.
- V5c, 城西, born 2021-09-01, moved out 2025-03-01: bOPV 2 (4 y) falls due 10-01, after the move → not due.
- V6c, 林泉村, born 2022-01-20: MPSV-AC 1 (3 y: 2025-01-20 → 02-19) ✓ on 01-25.
- V7c, 城西, born 2023-05-05: JE 2 (2 y: 2025-05-05 → 06-04); only a JE-I dose 2 (not the accepted JE-I
  dose 3) ✗.

County (due, received): HepB.1 (1,1) HepB.2 (1,1) HepB.3 (2,2) BCG.1 (1,1) IPV.1 (1,1) IPV.2 (1,1) bOPV.1 (1,1)
bOPV.2 (0,0) DTaP.1–4 (1,1) each, DT.1 (1,1) MMR.1 (2,1) MMR.2 (1,1) JE.1 (2,2) JE.2 (2,1) MPSV-A.1 (2,1)
MPSV-A.2 (2,1) MPSV-AC.1 (1,1) MPSV-AC.2 (1,0) HepA.1 (1,1).
V3: 蒲亭 (V1c, V2c, V4c, V7c) has 17 doses with children due, of which MMR.1, JE.2, MPSV-A.1, MPSV-A.2 and
MPSV-AC.2 are below 90 % → 12 of 17, fails; 林泉 (V3c, V6c) 5 of 5, passes.
"""

from __future__ import annotations

import datetime as dt

import pytest

from gongwei.engine import catalogue, gaps, registry, worklist
from gongwei.engine.orgs import OrgTree
from gongwei.engine.programs.vaccination import passes
from gongwei.spec import catalogue as spec_catalogue
from gongwei.spec.periods import parse
from gongwei.spec.programs import vaccination
from tests.engine_fixtures_mch import COUNTY, LINQUAN_TOWN, PUTING, engine
from tests.engine_results import by_code

pytestmark = pytest.mark.django_db

EXPECTED_COUNTY = {
    "V2.HepB.1": (1, 1), "V2.HepB.2": (1, 1), "V2.HepB.3": (2, 2), "V2.BCG.1": (1, 1), "V2.IPV.1": (1, 1),
    "V2.IPV.2": (1, 1), "V2.bOPV.1": (1, 1), "V2.bOPV.2": (0, 0), "V2.DTaP.1": (1, 1), "V2.DTaP.2": (1, 1),
    "V2.DTaP.3": (1, 1), "V2.DTaP.4": (1, 1), "V2.DT.1": (1, 1), "V2.MMR.1": (1, 2), "V2.MMR.2": (1, 1),
    "V2.JE.1": (2, 2), "V2.JE.2": (1, 2), "V2.MPSV-A.1": (1, 2), "V2.MPSV-A.2": (1, 2), "V2.MPSV-AC.1": (1, 1),
    "V2.MPSV-AC.2": (0, 1), "V2.HepA.1": (1, 1),
}  # code → (numerator, denominator)


@pytest.fixture
def eng(tmp_path):
    return engine(tmp_path, ("vaccination",))


def test_one_indicator_per_vaccine_and_dose():
    codes = [c for c in spec_catalogue.indicators() if c.startswith("V2.")]
    assert sorted(codes) == sorted(EXPECTED_COUNTY)
    assert spec_catalogue.indicators()["V2.MMR.1"].name == "麻腮风疫苗第1剂次接种率"
    assert spec_catalogue.indicators()["V1"].numerator == "vaccination.has_certificate"  # V1 建证率 is computable


def test_year_2025(eng):
    results = catalogue.evaluate(eng, parse("2025"), list(EXPECTED_COUNTY))
    got = by_code(eng, results)
    assert {code: got[(code, COUNTY)] for code in EXPECTED_COUNTY} == EXPECTED_COUNTY
    assert got[("V2.MMR.1", PUTING)] == (1, 2)
    assert got[("V2.JE.2", PUTING)] == (0, 1)
    assert got[("V2.JE.2", LINQUAN_TOWN)] == (1, 1)
    assert got[("V2.MPSV-AC.1", LINQUAN_TOWN)] == (1, 1)

    tree = OrgTree.load(eng.snapshot)
    v3 = {tree.code[r["org_unit_id"]]: (r["numerator"], r["denominator"], r["passed"])
          for r in passes(results, tree).to_pylist()}
    assert v3 == {PUTING: (12, 17, False), LINQUAN_TOWN: (5, 5, True)}
    county = {r["org_unit_id"]: r for r in passes(results).to_pylist()}[tree.by_code(COUNTY)]
    assert (county["numerator"], county["denominator"], county["passed"]) == (16, 21, False)


def test_gap_lists_name_the_missing_dose(eng):
    period = parse("2025")
    page = gaps.people(eng, "V2.MMR.1", COUNTY, period)
    assert [(p.record_no, p.reasons) for p in page.people] == [
        ("V1c", [("VAC-MMR-1", "麻腮风第1剂未接种（应于8月龄接种）")])]
    je2 = gaps.people(eng, "V2.JE.2", COUNTY, period)
    assert [(p.record_no, p.reasons) for p in je2.people] == [("V7c", [("VAC-JE-2", "乙脑疫苗第2剂未接种（应于2岁接种）")])]
    a1 = gaps.people(eng, "V2.MPSV-A.1", COUNTY, period)
    assert [(p.record_no, [m for _, m in p.reasons]) for p in a1.people] == [
        ("V2c", ["A群流脑多糖疫苗第1剂未接种（应于6月龄接种）"])]
    ac2 = gaps.people(eng, "V2.MPSV-AC.2", COUNTY, period)
    assert [(p.record_no, [m for _, m in p.reasons]) for p in ac2.people] == [
        ("V4c", ["A群C群流脑多糖疫苗第2剂未接种（应于6岁接种）"])]
    assert gaps.people(eng, "V2.bOPV.2", COUNTY, period, part="denominator").total == 0  # V5c moved out first


def test_worklist_due_dates(eng):
    """As of 2025-06-30 (period 1 Jan – 30 Jun; records after 30 June do not count yet; look-ahead to 31 Dec):

    overdue: V2c MPSV-A 1 (deadline 01-14) and 2 (04-14), V4c MPSV-AC 2 (03-12), V7c JE 2 (06-04);
    upcoming: V1c bOPV 1 and DTaP 2 (4 m: 07-01 → 07-31), DTaP 3 (08-31), HepB 3 and MPSV-A 1 (10-01), MMR 1
    and JE 1 (12-01), MPSV-A 2 (12-31); V3c JE 2 (07-10 → 08-09). V1c's 3-month doses (deadline 07-01) were
    given 06-02. V2c's 18-month doses fall due in 2026; V5c moved out before bOPV 2.
    """
    work = worklist.items(eng, COUNTY, dt.date(2025, 6, 30), programs=["vaccination"],
                          include_upcoming=True).to_pylist()
    # certificates (V1) are checked in tests/test_engine_records8.py; this region records none
    got = sorted((w["record_no"], w["service"], w["due_date"], w["status"]) for w in work if w["service"] != "certificate")
    up, late = "upcoming", "overdue"
    assert got == [
        ("V1c", "bopv_1", dt.date(2025, 7, 31), up), ("V1c", "dtap_2", dt.date(2025, 7, 31), up),
        ("V1c", "dtap_3", dt.date(2025, 8, 31), up), ("V1c", "hepb_3", dt.date(2025, 10, 1), up),
        ("V1c", "je_1", dt.date(2025, 12, 1), up), ("V1c", "mmr_1", dt.date(2025, 12, 1), up),
        ("V1c", "mpsv_a_1", dt.date(2025, 10, 1), up), ("V1c", "mpsv_a_2", dt.date(2025, 12, 31), up),
        ("V2c", "mpsv_a_1", dt.date(2025, 1, 14), late), ("V2c", "mpsv_a_2", dt.date(2025, 4, 14), late),
        ("V3c", "je_2", dt.date(2025, 8, 9), up),
        ("V4c", "mpsv_ac_2", dt.date(2025, 3, 12), late),
        ("V7c", "je_2", dt.date(2025, 6, 4), late),
    ]
    assert {w["service_name"] for w in work if w["service"] == "je_2"} == {"乙脑疫苗第2剂（2岁）"}


@pytest.mark.parametrize("as_of", ["2025-02-15", "2025-06-30", "2025-12-31"])
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
