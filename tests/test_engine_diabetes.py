"""Type-2 diabetes indicators D1–D4 on a hand-built region (tests/engine_fixtures_chronic2.py); counts worked out by hand.

Patients (2025; rule: ≥ 4 face-to-face follow-ups with a fasting glucose, one a quarter at most counted, pro-rated
by covered quarters, + a health exam in the year; control = last follow-up with a fasting glucose < 7.0 mmol/L):
- D1, 城东村 (蒲亭): enrolled 2024; clinic visits Feb/May/Aug/Nov (FPG 8.1, 7.4, 6.8, 6.9); exam June.
  → managed, standardized, controlled (6.9 < 7.0).
- D2, 城东村: enrolled 2023; clinic Jan (6.5), home Apr (6.2), clinic Jul (6.6), **phone** Nov (7.0); exam March.
  → managed; 3 face-to-face < 4 → not standardized; last measured visit (phone, Nov) 7.0 is not < 7.0 → not
  controlled (the threshold itself is uncontrolled).
- D3, 城西村 (蒲亭): enrolled 10 July 2025 → covers Q3 and Q4 → needs 4×2/4 = 2; home visits Aug (8.0, class
  控制不满意) and Oct (6.9); exam Sept. → managed, standardized, controlled.
- D4, 林泉村 (林泉): enrolled 2022; clinic visits Mar/Jun/Sep (6.0) and Dec **without glucose**; exam only in 2024.
  → managed; no 2025 exam and 3 visits with glucose < 4 → not standardized; last *measured* visit Sep 6.0, and
  the December visit means the patient is not lost → controlled.
- D5, 城东村: moved out 30 Nov 2024 → closed before the period → not counted.
- D6, 林泉村: enrolled 2024; one clinic visit in March without glucose; no exam. → managed; 0 < 4 counted visits
  and no exam → not standardized (two reasons); no glucose recorded → not controlled.
So 蒲亭: managed 3, standardized 2 (D1, D3), controlled 2 (D1, D3); 林泉: 2, 0, 1 (D4); county: 5, 2, 3.
Task numbers (task_diabetes) 2025: 城东 6 + 城西 2 → 蒲亭 8; 林泉 5 (township entry) → county 13.
"""

from __future__ import annotations

import datetime as dt

import pytest

from gongwei.engine import catalogue, gaps, worklist
from gongwei.spec.periods import parse
from tests.engine_fixtures_chronic2 import COUNTY, TOWNSHIP_1, TOWNSHIP_2, WEST, engine
from tests.engine_results import by_code

pytestmark = pytest.mark.django_db


def test_year_2025(tmp_path):
    eng = engine(tmp_path)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025"), ["D1", "D2", "D3", "D4"]))
    assert got[("D2", TOWNSHIP_1)] == (2, 3)
    assert got[("D2", TOWNSHIP_2)] == (0, 2)
    assert got[("D2", COUNTY)] == (2, 5)
    assert got[("D3", TOWNSHIP_1)] == (2, 3)
    assert got[("D3", TOWNSHIP_2)] == (1, 2)
    assert got[("D3", COUNTY)] == (3, 5)
    assert got[("D1", TOWNSHIP_1)] == (3, 8)
    assert got[("D1", TOWNSHIP_2)] == (2, 5)
    assert got[("D4", COUNTY)] == (5, 13)
    assert got[("D2", WEST)] == (1, 1)  # 城西村: D3 only


def test_second_quarter(tmp_path):
    """至第二季度 (1 Jan – 30 Jun): D3 not yet enrolled. Required 4×2/4 = 2, exam not yet required.
    D1 Feb+May = 2 ✓; D2 Jan+Apr = 2 ✓; D4 Mar+Jun = 2 ✓; D6 Mar = 1 ✗ → standardized 3 of 4.
    Control at Q2: D1 last May 7.4 ✗; D2 Apr 6.2 ✓; D4 Jun 6.0 ✓; D6 no glucose ✗ → 2 of 4."""
    eng = engine(tmp_path)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025Q2"), ["D2", "D3"]))
    assert got[("D2", TOWNSHIP_1)] == (2, 2)
    assert got[("D2", TOWNSHIP_2)] == (1, 2)
    assert got[("D2", COUNTY)] == (3, 4)
    assert got[("D3", COUNTY)] == (2, 4)


def test_gap_list_explains_each_person(tmp_path):
    eng = engine(tmp_path)
    page = gaps.people(eng, "D2", COUNTY, parse("2025"))
    assert page.total == 3
    by_record = {p.record_no: p.reasons for p in page.people}
    # a visit counts only with its fasting glucose ("每年提供4次免费空腹血糖检测，至少进行4次面对面随访" [dm-fpg-4]):
    # D4's December visit has none → 3 counted; D6's one March visit has none → 0 counted.
    assert by_record == {
        "D2": [("DM-VISITS", "本期有效面对面随访（测空腹血糖）3 次，少于应随访 4 次")],
        "D4": [("DM-VISITS", "本期有效面对面随访（测空腹血糖）3 次，少于应随访 4 次"), ("DM-EXAM", "本年未做健康体检")],
        "D6": [("DM-VISITS", "本期有效面对面随访（测空腹血糖）0 次，少于应随访 4 次"), ("DM-EXAM", "本年未做健康体检")],
    }
    control = gaps.people(eng, "D3", COUNTY, parse("2025"))
    assert {p.record_no: p.reasons for p in control.people} == {
        "D2": [("DM-FPG", "末次随访空腹血糖 7.0 mmol/L 未控制")],
        # D6's only follow-up (15 March) is more than 3 months before 31 Dec → also lost to follow-up (失访)
        "D6": [("DM-NOFPG", "本期随访无空腹血糖记录"),
               ("DM-LOST", "末次随访 2025-03-15 后超过 3 个月未随访，按失访计为未控制")],
    }
    assert gaps.people(eng, "D2", COUNTY, parse("2025"), part="numerator").total == 2
    assert "无法逐人列出" in gaps.people(eng, "D1", COUNTY, parse("2025")).note


def test_worklist_agrees_with_gap_reasons(tmp_path):
    """Overdue for a diabetes service linked to a gap ⇔ that gap reason is set for the as-of period."""
    eng = engine(tmp_path)
    codes = {"DM-VISITS": "visits_below_required", "DM-EXAM": "no_annual_exam"}
    seen = set()
    for as_of in (dt.date(2025, 3, 31), dt.date(2025, 6, 30), dt.date(2025, 8, 15), dt.date(2025, 12, 31)):
        work = worklist.items(eng, COUNTY, as_of, programs=["diabetes"], include_upcoming=True).to_pylist()
        overdue = {(w["record_no"], w["gap"]) for w in work if w["status"] == "overdue" and w["gap"]}
        page = gaps.people(eng, "D2", COUNTY, parse(as_of.isoformat()), size=1000)
        reasons = {(p.record_no, codes[c]) for p in page.people for c, _ in p.reasons}
        assert overdue == reasons, as_of
        seen |= overdue
    # 31 March: D6's March visit has no glucose → 0 of 1 → behind; D2 and D4 (visits: D4's December visit has
    # no glucose) and D4, D6 (exam) at the year end
    assert seen == {("D6", "visits_below_required"), ("D2", "visits_below_required"), ("D4", "visits_below_required"),
                    ("D4", "no_annual_exam"), ("D6", "no_annual_exam")}


def test_worklist_due_dates(tmp_path):
    eng = engine(tmp_path)
    # 15 Aug 2025, 城西村: D3 (enrolled 10 July) has one visit (1 Aug) of the one required through Q3 → the next
    # falls due at Q4's end; the 1 Aug visit was 控制不满意 → recheck 14 days later, due (overdue) on 15 Aug;
    # the exam (done 9 Sept) is still to come → due at the year end.
    work = worklist.items(eng, WEST, dt.date(2025, 8, 15), programs=["diabetes"], include_upcoming=True).to_pylist()
    assert sorted((w["service"], w["record_no"], w["due_date"], w["status"]) for w in work) == [
        ("annual_exam", "D3", dt.date(2025, 12, 31), "upcoming"),
        ("follow_up", "D3", dt.date(2025, 12, 31), "upcoming"),
        ("recheck", "D3", dt.date(2025, 8, 15), "overdue"),
    ]
    # 20 Nov 2025: D2's last glucose (phone visit 5 Nov, 7.0, 控制不满意) → recheck due 19 Nov, 1 day overdue
    work = worklist.items(eng, COUNTY, dt.date(2025, 11, 20), programs=["diabetes"]).to_pylist()
    recheck = [(w["record_no"], w["due_date"], w["days_overdue"]) for w in work if w["service"] == "recheck"]
    assert recheck == [("D2", dt.date(2025, 11, 19), 1)]


def test_follow_up_rate_at_least_two_visits_by_the_second_quarter(tmp_path):
    """D6 随访率（至少2次随访） ([pingliang-2020q2]: 第二季度…为95.26%): follow-up days of any mode (glucose or not) by 30 June.
    D1 Feb+May ✓; D2 Jan+Apr ✓; D4 Mar+Jun ✓; D6 March only ✗; D3 not yet enrolled → 3 of 4 (林泉 1 of 2)."""
    eng = engine(tmp_path)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025Q2"), ["D6"]))
    assert got[("D6", COUNTY)] == (3, 4)
    assert got[("D6", TOWNSHIP_2)] == (1, 2)
