"""Family-doctor contracts (F1–F4) on tests/engine_fixtures_population.py.

People in the records at the end of 2025 (usual residents, not merged): 城东 A1–A4, 城西 B1–B4, 林泉村 C1–C3
(C3's basic-information form dates from 2026, but she is registered) → 11.
Contracts in force at some time in 2025: A1 (2025), A3 (to 28 Feb 2025), B1 (from 1 Jun), B3 (from 1 Feb),
C1 (2025), C3 (from 1 Mar) → 6. A4's contract was cancelled on its first day, so it never was in force.
Key populations found in the records: children ≤ 6 B3, B4; 65+ A1, A2, B1, B2, C1; pregnant C3; managed
hypertension A1, C2; disabled C1 → 9 people (A3 and A4 in none).
"""

from __future__ import annotations

import datetime as dt

import pytest

from gongwei.engine import catalogue, gaps, worklist
from gongwei.spec.periods import parse
from gongwei.spec.programs import family_doctor
from gongwei.spec.rules import ByYear
from tests.engine_fixtures_population import COUNTY, T_LINQUAN, V_EAST, V_LIN, V_WEST, engine
from tests.engine_results import by_code

pytestmark = pytest.mark.django_db


def test_signing_2025(tmp_path):
    """F1: 城东 A1, A3 → 2/10; 城西 B1, B3 → 2/8; 林泉 C1, C3 → 2/6; county 6/24.
    F2: 城东 A1 of A1, A2 → 1/2; 城西 B1, B3 of B1–B4 → 2/4; 林泉 C1, C3 of C1–C3 → 2/3; county 5/9.
    F3: contracts ending in 2025: A1 (31 Dec, renewed from 1 Jan 2026), A3 (28 Feb, not), C1 (31 Dec, not)
    → 1/3. F4 divides by the group's population base where one exists (as F1 divides by the resident
    population;  F1/F4 [rpt-jkda]): 65+ signed A1, B1, C1 over the aged-65+ bases 4 + 3 + 2 →
    county 3/9, 城东 1/4; children signed B3 over the 0–6 bases 1 + 2 + 1 → county 1/4, 城西 1/2. Groups without
    a base divide by the members found in the records: hypertension A1 of A1, C2 → 1/2; pregnant C3 → 1/1;
    disabled C1 → 1/1; no diabetes, TB or SMI patients → 0/0."""
    eng = engine(tmp_path)
    codes = ["F1", "F2", "F3", "F4-ELDERLY", "F4-HTN", "F4-CHILD", "F4-MATERNAL", "F4-DISABLED", "F4-DM", "F4-TB",
             "F4-SMI"]
    got = by_code(eng, catalogue.evaluate(eng, parse("2025"), codes))
    assert got[("F1", V_EAST)] == (2, 10)
    assert got[("F1", V_WEST)] == (2, 8)
    assert got[("F1", V_LIN)] == (2, 6)
    assert got[("F1", COUNTY)] == (6, 24)
    assert got[("F2", V_EAST)] == (1, 2)
    assert got[("F2", V_WEST)] == (2, 4)
    assert got[("F2", V_LIN)] == (2, 3)
    assert got[("F2", COUNTY)] == (5, 9)
    assert got[("F3", COUNTY)] == (1, 3)
    assert got[("F3", T_LINQUAN)] == (0, 1)
    assert got[("F4-ELDERLY", COUNTY)] == (3, 9)
    assert got[("F4-ELDERLY", V_EAST)] == (1, 4)
    assert got[("F4-HTN", COUNTY)] == (1, 2)
    assert got[("F4-CHILD", COUNTY)] == (1, 4)
    assert got[("F4-CHILD", V_WEST)] == (1, 2)
    assert got[("F4-MATERNAL", COUNTY)] == (1, 1)
    assert got[("F4-DISABLED", COUNTY)] == (1, 1)
    assert got[("F4-DM", COUNTY)] == got[("F4-TB", COUNTY)] == got[("F4-SMI", COUNTY)] == (0, 0)


def test_signed_at_period_end(tmp_path, monkeypatch):
    """Counting contracts in force on 31 Dec 2025 instead: A3's ended in February → F1 county 5/24."""
    monkeypatch.setattr(family_doctor, "SIGNED_AT", ByYear({2016: family_doctor.SignedAt.PERIOD_END}))
    eng = engine(tmp_path)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025"), ["F1"]))
    assert got[("F1", COUNTY)] == (5, 24)
    assert got[("F1", V_EAST)] == (1, 10)


def test_gap_lists(tmp_path):
    eng = engine(tmp_path)
    f1 = gaps.people(eng, "F1", COUNTY, parse("2025"))
    assert {p.record_no for p in f1.people} == {"A2", "A4", "B2", "B4", "C2"}
    assert all(p.reasons == [("FD-NONE", "未签约")] for p in f1.people)
    htn = gaps.people(eng, "F4-HTN", COUNTY, parse("2025"))
    assert [(p.record_no, p.reasons) for p in htn.people] == [("C2", [("FD-NONE", "未签约")])]
    f3 = gaps.people(eng, "F3", COUNTY, parse("2025"))
    assert {p.record_no: p.reasons for p in f3.people} == {
        "A3": [("FD-RENEW", "签约于 2025-02-28 到期，未续签")],
        "C1": [("FD-RENEW", "签约于 2025-12-31 到期，未续签")],
    }
    assert gaps.people(eng, "F3", COUNTY, parse("2025"), part="numerator").people[0].record_no == "A1"


def test_worklist_agrees_with_renewal_gaps(tmp_path):
    """Overdue renewal ⇔ "到期未续签" for the as-of period. On 31 Mar A3 (ended 28 Feb) is overdue and C1's
    renewal is upcoming (due 31 Dec); on 31 Dec both are overdue; A1 renewed and is never listed."""
    eng = engine(tmp_path)
    for as_of in (dt.date(2025, 1, 31), dt.date(2025, 3, 31), dt.date(2025, 12, 31)):
        work = worklist.items(eng, COUNTY, as_of, programs=["family_doctor"], include_upcoming=True).to_pylist()
        overdue = {w["record_no"] for w in work if w["status"] == "overdue" and w["gap"] == "not_renewed"}
        page = gaps.people(eng, "F3", COUNTY, parse(as_of.isoformat()), size=1000)
        assert overdue == {p.record_no for p in page.people}, as_of
    work = worklist.items(eng, COUNTY, dt.date(2025, 3, 31), programs=["family_doctor"], include_upcoming=True)
    assert sorted((w["record_no"], w["due_date"], w["status"]) for w in work.to_pylist()) == [
        ("A3", dt.date(2025, 2, 28), "overdue"), ("C1", dt.date(2025, 12, 31), "upcoming")]


def test_fulfilment_2025(tmp_path):
    """F5 履约率 = signed residents with a service record on a day a counted contract was in force in the period
    ("年度履约人数偏少" [shangdang-2023]; [fd-guideline-2022]: fulfilment as service events per contract).
    Signed in 2025: A1 (exam and TCM 10 May, contract 2025 → ✓), A3 (contract to 28 Feb 2025, last service
    1 Jun 2024 → ✗), B1 (contract from 1 Jun, exam 10 Oct → ✓), B3 (vaccination 1 Jun, contract from 1 Feb → ✓),
    C1 (exam 4 Apr → ✓), C3 (no service → ✗). A4's exam (1 Aug) does not count: her contract was cancelled on its
    first day, she is not signed. → 城东 1/2, 城西 2/2, 林泉 1/2, county 4/6."""
    eng = engine(tmp_path)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025"), ["F5"]))
    assert got[("F5", V_EAST)] == (1, 2)
    assert got[("F5", V_WEST)] == (2, 2)
    assert got[("F5", V_LIN)] == (1, 2)
    assert got[("F5", COUNTY)] == (4, 6)
    page = gaps.people(eng, "F5", COUNTY, parse("2025"))
    assert {p.record_no: p.reasons for p in page.people} == {
        "A3": [("FD-UNFULFILLED", "签约有效期内（统计期内）无服务记录，未履约")],
        "C3": [("FD-UNFULFILLED", "签约有效期内（统计期内）无服务记录，未履约")],
    }


def test_fulfilment_counts_only_services_in_the_period(tmp_path):
    """As of 30 Jun 2025 (1 Jan – 30 Jun): signed A1, A3, B1 (from 1 Jun), B3, C1, C3 → 6; fulfilled A1 (10 May),
    B3 (1 Jun), C1 (4 Apr); B1's exam of 10 Oct is after the period end → 3/6."""
    eng = engine(tmp_path)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025-06-30"), ["F5"]))
    assert got[("F5", COUNTY)] == (3, 6)
