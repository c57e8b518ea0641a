"""Severe mental disorders P1–P4 on a hand-built region (tests/engine_fixtures_chronic2.py); counts worked out by hand.

Rules: registered = enrolled in the period (record open); P1 = ≥ 4 follow-ups *with a risk grade* (any mode,
pro-rated by covered quarters) and, after every unstable / basically-stable follow-up, another follow-up within
14 days (when that deadline is inside the period); P2 = ≥ 1 follow-up; P3 = a health exam this year;
P4 at the last follow-up: on medication / on medication with regular adherence (P4a, P4b over registered),
class stable (P4c over followed-up). A follow-up without a class takes the class of its risk grade.

- S1, 城东村 (蒲亭): 4 follow-ups Feb/May(phone)/Aug/Nov, all grade 0 stable, on medication, regular; exam July.
  → registered, P1 ✓, P2 ✓, P3 ✓, on med ✓, regular ✓, stable ✓.
- S2, 城东村: 20 Jan unstable (g3) → 1 Feb basically stable (12 days ✓) → next 25 Feb, 24 days later ✗ (deadline
  15 Feb); then May (phone), Sep 9 stable, on medication, adherence 间断; no exam.
  → 5 graded follow-ups but 1 missed 2-week follow-up → P1 ✗; P2 ✓; P3 ✗; on med ✓; regular ✗; stable ✓.
- S3, 城西村 (蒲亭): enrolled 20 May 2025 → covers Q2–Q4 → needs 3. 1 Jun grade 2, no class → basically stable,
  deadline 15 Jun, followed 12 Jun (class stable, **no risk grade** → not counted for P1) ✓; Sep 15 g0; 20 Dec g4
  unstable, not on medication (its 14-day deadline is in 2026 → not checked); exam Aug.
  → 3 graded ≥ 3 → P1 ✓; P2 ✓; P3 ✓; on med ✗; regular ✗; stable ✗ (unstable).
- S4, 林泉村 (林泉): no follow-up in 2025; exam Feb. → P1 ✗ (0 < 4); P2 ✗; P3 ✓; on med ✗; regular ✗;
  not in P4c's denominator.
- S5, 林泉村: Mar/Jun/Sep grade 0 stable; 9 Dec **no grade, no class**, on medication, regular; no exam.
  → 3 graded < 4 → P1 ✗; P2 ✓; P3 ✗; on med ✓; regular ✓; stable ✗ (unclassified).
- S6, 城东村: died 1 Dec 2024 → not registered.
County (蒲亭 | 林泉): registered 5 (3 | 2); P1 2 (2 | 0); P2 4 (3 | 1); P3 3 (2 | 1); P4a 3 (2 | 1);
P4b 2 (1 | 1); P4c 2 of 4 followed-up (2 of 3 | 0 of 1).
"""

from __future__ import annotations

import datetime as dt

import pytest

from gongwei.engine import catalogue, gaps, worklist
from gongwei.spec.periods import parse
from tests.engine_fixtures_chronic2 import COUNTY, EAST, TOWNSHIP_1, TOWNSHIP_2, engine
from tests.engine_results import by_code

pytestmark = pytest.mark.django_db
CODES = ["P1", "P2", "P3", "P4a", "P4b", "P4c"]


def test_year_2025(tmp_path):
    eng = engine(tmp_path)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025"), CODES))
    expected = {
        "P1": ((2, 3), (0, 2), (2, 5)),
        "P2": ((3, 3), (1, 2), (4, 5)),
        "P3": ((2, 3), (1, 2), (3, 5)),
        "P4a": ((2, 3), (1, 2), (3, 5)),
        "P4b": ((1, 3), (1, 2), (2, 5)),
        "P4c": ((2, 3), (0, 1), (2, 4)),
    }
    for code, (t1, t2, county) in expected.items():
        assert (got[(code, TOWNSHIP_1)], got[(code, TOWNSHIP_2)], got[(code, COUNTY)]) == (t1, t2, county), code


def test_second_quarter(tmp_path):
    """至第二季度: required 2 (S3: covers Q2 only → 1). S1 Feb+May ✓; S2 4 graded but the 1 Feb → 25 Feb gap ✗;
    S3 1 Jun graded, its 15 Jun deadline met on 12 Jun ✓; S4 0 ✗; S5 Mar+Jun ✓ → P1 3 of 5.
    Exams so far: only S4 (Feb) → P3 1 of 5."""
    eng = engine(tmp_path)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025Q2"), ["P1", "P3"]))
    assert got[("P1", COUNTY)] == (3, 5)
    assert got[("P3", COUNTY)] == (1, 5)


def test_gap_lists_explain_each_person(tmp_path):
    eng = engine(tmp_path)
    year = parse("2025")

    def reasons(code, period=year):
        return {p.record_no: p.reasons for p in gaps.people(eng, code, COUNTY, period).people}

    assert reasons("P1") == {
        "S2": [("SMI-2W", "病情不稳定或基本稳定的随访后 1 次未在2周内再次随访")],
        "S4": [("SMI-VISITS", "本期有危险性评估的随访 0 次，少于应随访 4 次")],
        "S5": [("SMI-VISITS", "本期有危险性评估的随访 3 次，少于应随访 4 次")],
    }
    assert reasons("P2") == {"S4": [("SMI-NOFU", "本期无随访记录")]}
    assert reasons("P3") == {"S2": [("SMI-EXAM", "本年未做健康体检")], "S5": [("SMI-EXAM", "本年未做健康体检")]}
    assert reasons("P3", parse("2025Q2"))["S1"] == [("SMI-EXAM-YTD", "本年尚未做健康体检")]
    assert reasons("P4a") == {"S3": [("SMI-NOMED", "末次随访未服药")], "S4": [("SMI-NOFU", "本期无随访记录")]}
    assert reasons("P4b") == {
        "S2": [("SMI-IRREG", "末次随访服药不规律（依从性非“规律”）")],
        "S3": [("SMI-NOMED", "末次随访未服药")],
        "S4": [("SMI-NOFU", "本期无随访记录")],
    }
    assert reasons("P4c") == {
        "S3": [("SMI-UNSTABLE", "末次随访病情不稳定")],
        "S5": [("SMI-NOCLASS", "末次随访未评估病情（无分类、无危险性评估）")],
    }


def test_worklist_agrees_with_gap_reasons(tmp_path):
    """Overdue follow-up ⇔ SMI-VISITS in P1's gap list; overdue annual exam ⇔ SMI-EXAM in P3's."""
    eng = engine(tmp_path)
    seen = set()
    for as_of in (dt.date(2025, 3, 31), dt.date(2025, 6, 30), dt.date(2025, 8, 15), dt.date(2025, 12, 31)):
        period = parse(as_of.isoformat())
        work = worklist.items(eng, COUNTY, as_of, programs=["smi"], include_upcoming=True).to_pylist()
        overdue = {(w["record_no"], w["gap"]) for w in work if w["status"] == "overdue" and w["gap"]}
        linked = {("P1", "SMI-VISITS"): "visits_below_required", ("P3", "SMI-EXAM"): "no_annual_exam"}
        reasons = {(p.record_no, key) for (code, reason), key in linked.items()
                   for p in gaps.people(eng, code, COUNTY, period, size=1000).people
                   if any(c == reason for c, _ in p.reasons)}
        assert overdue == reasons, as_of
        seen |= overdue
    assert seen == {("S4", "visits_below_required"), ("S5", "visits_below_required"),
                    ("S2", "no_annual_exam"), ("S5", "no_annual_exam")}


def test_worklist_class_based_follow_up(tmp_path):
    """20 Feb 2025, 城东村: S2's last follow-up (1 Feb) was basically stable → next within 14 days → due 15 Feb,
    5 days overdue; S1's last (10 Feb) was stable → next at 3 months (11 May), upcoming."""
    eng = engine(tmp_path)
    work = worklist.items(eng, EAST, dt.date(2025, 2, 20), programs=["smi"], include_upcoming=True).to_pylist()
    class_visits = sorted((w["record_no"], w["due_date"], w["status"], w["days_overdue"])
                          for w in work if w["service"] == "class_visit")
    assert class_visits == [("S1", dt.date(2025, 5, 11), "upcoming", 0), ("S2", dt.date(2025, 2, 15), "overdue", 5)]


def _engine_with_s5_in_hospital(root):
    """The same region, but S5's last 2025 follow-up (SF54, 9 Dec) records that S5 no longer lives at home."""
    import pyarrow as pa

    from gongwei.engine.backends import Engine
    from gongwei.engine.snapshot import Snapshot
    from gongwei.records import entry
    from gongwei.records.snapshot import take_snapshot
    from tests import engine_fixtures_chronic2 as fx

    fu = fx.SMI_FOLLOW_UPS
    at_home = ["0" if no == "SF54" else "1" for no in fu.column("encounter_no").to_pylist()]
    fu = fu.append_column("living_at_home", pa.array(at_home, pa.string()))
    result = entry.submit({"org_units": fx.ORG_UNITS, "residents": fx.RESIDENTS, "enrollments": fx.ENROLLMENTS,
                           "smi_follow_ups": fu, "health_examinations": fx.EXAMS}, actor="test", kind="test")
    assert not result.issues, result.issues[:3]
    return Engine(Snapshot.open(take_snapshot(root)), "duckdb")


def test_living_at_home_denominators(tmp_path):
    """P2 and P3 count only home-living registered patients (在册居家); P1 and P4 all registered ones.
    2025: S5's last follow-up (9 Dec) says not at home → out of P2/P3; S4 has no follow-up → presumed at home.
    P2: S1 S2 S3 of S1–S4 → 3/4 (蒲亭 3/3, 林泉 0/1: S4 unvisited). P3: S1 S3 S4 → 3/4 (蒲亭 2/3, 林泉 1/1).
    P1 stays 2/5 and P4a 3/5. 至第二季度 S5's last follow-up (6 Jun) says at home → P2 4/5 as before."""
    eng = _engine_with_s5_in_hospital(tmp_path)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025"), ["P1", "P2", "P3", "P4a"]))
    assert (got[("P2", TOWNSHIP_1)], got[("P2", TOWNSHIP_2)], got[("P2", COUNTY)]) == ((3, 3), (0, 1), (3, 4))
    assert (got[("P3", TOWNSHIP_1)], got[("P3", TOWNSHIP_2)], got[("P3", COUNTY)]) == ((2, 3), (1, 1), (3, 4))
    assert got[("P1", COUNTY)] == (2, 5)
    assert got[("P4a", COUNTY)] == (3, 5)
    q2 = by_code(eng, catalogue.evaluate(eng, parse("2025Q2"), ["P2"]))
    assert q2[("P2", COUNTY)] == (4, 5)
    assert {p.record_no for p in gaps.people(eng, "P2", COUNTY, parse("2025"), part="denominator").people} == \
        {"S1", "S2", "S3", "S4"}
