"""COPD indicators COPD1 (managed vs task number) and COPD2 (standardized) on a hand-built region
(tests/engine_fixtures_chronic2.py); counts worked out by hand.

Rule (configurable, spec unverified — [copd-2024]): N = 4 face-to-face follow-ups a year, pro-rated by
covered quarters, and one health exam in the year; the program exists from 2024.
- K1, 城东村 (蒲亭): enrolled 2024; visits Feb (clinic), May (clinic), Aug (home), Nov (clinic); exam April.
  → managed, standardized.
- K2, 城西村 (蒲亭): enrolled 15 April 2025 → covers Q2, Q3, Q4 → needs 4×3/4 = 3; home Jun, **phone** Sep,
  clinic Dec → 2 face-to-face < 3 → not standardized; exam October.
- K3, 林泉村 (林泉): enrolled 2023, moved out 30 June 2025 (enrolment and record closed) → covers Q1 and Q2 →
  needs 2; clinic Feb, home May; exam March → standardized.
- K4, 城东村: enrolled 2024; one clinic visit in January; no exam → not standardized (1 < 4, no exam).
So 蒲亭: managed 3, standardized 1 (K1); 林泉: 1, 1 (K3); county: 4, 2.
Task numbers (task_copd) 2025: 蒲亭 4 (township entry), 林泉 2 → county 6.
2023: the program did not exist yet → nobody managed although K3 was enrolled in January 2023.
"""

from __future__ import annotations

import datetime as dt

import pytest

from gongwei.engine import catalogue, gaps, worklist
from gongwei.spec import catalogue as spec_catalogue
from gongwei.spec.periods import parse
from tests.engine_fixtures_chronic2 import COUNTY, TOWNSHIP_1, TOWNSHIP_2, engine
from tests.engine_results import by_code

pytestmark = pytest.mark.django_db


def test_year_2025(tmp_path):
    eng = engine(tmp_path)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025"), ["COPD1", "COPD2"]))
    assert got[("COPD1", TOWNSHIP_1)] == (3, 4)
    assert got[("COPD1", TOWNSHIP_2)] == (1, 2)
    assert got[("COPD1", COUNTY)] == (4, 6)
    assert got[("COPD2", TOWNSHIP_1)] == (1, 3)
    assert got[("COPD2", TOWNSHIP_2)] == (1, 1)
    assert got[("COPD2", COUNTY)] == (2, 4)


def test_second_quarter_and_before_the_program_existed(tmp_path):
    """Q2: K1 Feb+May ✓; K2 (covers Q2 only → 1) Jun ✓; K3 Feb+May ✓; K4 Jan only ✗; exams not yet required
    → 3 of 4. 2023: COPD was not a program yet → 0 managed."""
    eng = engine(tmp_path)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025Q2"), ["COPD2"]))
    assert got[("COPD2", COUNTY)] == (3, 4)
    got = by_code(eng, catalogue.evaluate(eng, parse("2023"), ["COPD1", "COPD2"]))
    assert got[("COPD2", COUNTY)] == (0, 0)
    assert got[("COPD1", COUNTY)][0] == 0


def test_count_target_applies_to_the_city_only():
    """Seed 004's 1913 people is a count for Baotou city as a whole, not for each unit below it."""
    book = spec_catalogue.targets()
    city = book.resolve("COPD1", 2024, "150200000000")
    assert city is not None and (city.value, city.unit) == (1913, "count")
    assert book.resolve("COPD1", 2024, "150202000000") is None


def test_gap_list_explains_each_person(tmp_path):
    eng = engine(tmp_path)
    page = gaps.people(eng, "COPD2", COUNTY, parse("2025"))
    assert {p.record_no: p.reasons for p in page.people} == {
        "K2": [("COPD-VISITS", "本期面对面随访 2 次，少于应随访 3 次")],
        "K4": [("COPD-VISITS", "本期面对面随访 1 次，少于应随访 4 次"), ("COPD-EXAM", "本年未做健康体检")],
    }


def test_worklist_agrees_with_gap_reasons(tmp_path):
    """Overdue for a COPD service linked to a gap ⇔ that gap reason is set for the as-of period."""
    eng = engine(tmp_path)
    codes = {"COPD-VISITS": "visits_below_required", "COPD-EXAM": "no_annual_exam"}
    seen = set()
    for as_of in (dt.date(2025, 3, 31), dt.date(2025, 6, 30), dt.date(2025, 9, 30), dt.date(2025, 12, 31)):
        work = worklist.items(eng, COUNTY, as_of, programs=["copd"], include_upcoming=True).to_pylist()
        overdue = {(w["record_no"], w["gap"]) for w in work if w["status"] == "overdue" and w["gap"]}
        page = gaps.people(eng, "COPD2", COUNTY, parse(as_of.isoformat()), size=1000)
        reasons = {(p.record_no, codes[c]) for p in page.people for c, _ in p.reasons}
        assert overdue == reasons, as_of
        seen |= overdue
    # K4 from Q2 on (1 visit), K2 at 30 Sept (Jun only, the Sep visit was by phone) and at the year end
    assert seen == {("K4", "visits_below_required"), ("K2", "visits_below_required"), ("K4", "no_annual_exam")}
