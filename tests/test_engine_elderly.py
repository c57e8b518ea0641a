"""Elderly health management (E1–E3) and elderly TCM (TCM1) on tests/engine_fixtures_population.py.

Cohort for 2025 (65+ at 31 Dec 2025 = born on or before 1960-12-31, in the records at the period end, usual
residents, not merged): 城东 A1, A2 (turns 65 on 31 Dec); 城西 B1, B2; 林泉村 C1 → 5. Not in it: A5 (merged),
A6 (died 1 Mar 2025), A7 (not a usual resident). Bases aged 65+: 城东 4, 城西 3, 林泉村 2 → county 9.

Exams in 2025: A1 complete (10 May), A2 without blood routine and with ECG "9 未检查" (1 Mar), B1 complete
(10 Oct), C1 complete (4 Apr); B2 none (only 1 Nov 2024); A6 complete (10 Feb, before her death on 1 Mar).
"Complete" = every recordable item of the 3rd-edition package (spec.programs.elderly.PACKAGE).
TCM in 2025: A1 and C1 complete with guidance; A2 32 answers; B1 complete, no guidance; B2 none; A6 a complete
form dated 5 Mar, after her death.

Served, then closed (issue 8 item 7; 3rd-edition 考核指标 counts 年内接受健康管理人数 against the year's 65+
residents [spec2017-elderly]): A6's February exam counts in E1/E2 for 2025 (a population-base rate); a service dated after
the closing date does not (T-A6); E3 (a rate over the records at the period end) leaves A6 out of both parts.
"""

from __future__ import annotations

import datetime as dt

import pytest

from gongwei.engine import catalogue, gaps, worklist
from gongwei.spec.periods import parse
from gongwei.spec.programs import elderly
from gongwei.spec.rules import ByYear
from tests.engine_fixtures_population import COUNTY, T_PUTING, V_EAST, V_LIN, V_WEST, engine
from tests.engine_results import by_code

pytestmark = pytest.mark.django_db


def test_elderly_2025(tmp_path):
    """E1 = E2 (3rd-edition note: exam + guidance + complete form = the full PACKAGE): A1, B1, C1 and A6 (served
    10 Feb, died 1 Mar) → 城东 A1, A6 2/4; 城西 B1 1/3; 林泉 C1 1/2; 蒲亭 3/7; county 4/9. A2 is examined but
    her exam lacks blood routine and ECG, so she is in neither numerator (before this rule E1 counted her).
    E3 (examined / 65+ in the records at the period end): A1, A2, B1, C1; A6 is not in the records →
    城东 2/2, 城西 1/2, county 4/5.
    TCM1 (complete questionnaire and guidance): A1, C1; A6's form is dated after her death → county 2/9,
    城东 1/4, 城西 0/3."""
    eng = engine(tmp_path)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025"), ["E1", "E2", "E3", "TCM1"]))
    for code in ("E1", "E2"):
        assert got[(code, V_EAST)] == (2, 4)
        assert got[(code, V_WEST)] == (1, 3)
        assert got[(code, V_LIN)] == (1, 2)
        assert got[(code, T_PUTING)] == (3, 7)
        assert got[(code, COUNTY)] == (4, 9)
    assert got[("E3", V_EAST)] == (2, 2)
    assert got[("E3", V_WEST)] == (1, 2)
    assert got[("E3", COUNTY)] == (4, 5)
    assert got[("TCM1", V_EAST)] == (1, 4)
    assert got[("TCM1", V_WEST)] == (0, 3)
    assert got[("TCM1", COUNTY)] == (2, 9)


def test_served_then_closed_counts(tmp_path, monkeypatch):
    """The drill-down of E1 lists A6 among the numerator (and so the people counted), not as a gap. With the
    rule switched off (SERVED_THEN_CLOSED_COUNT = False) E1 and E2 for 城东 drop to A1 alone: 1/4, county 3/9.
    A6's TCM form (5 Mar, after her death on 1 Mar) counts either way for nothing."""
    eng = engine(tmp_path / "a")
    num = gaps.people(eng, "E1", COUNTY, parse("2025"), part="numerator", size=100)
    assert sorted(p.record_no for p in num.people) == ["A1", "A6", "B1", "C1"]
    assert gaps.people(eng, "E1", COUNTY, parse("2025"), part="denominator").total == 6  # the 5 + A6
    assert "A6" not in {p.record_no for p in gaps.people(eng, "E3", COUNTY, parse("2025"), part="denominator").people}
    tcm_den = gaps.people(eng, "TCM1", COUNTY, parse("2025"), part="denominator", size=100)
    assert sorted(p.record_no for p in tcm_den.people) == ["A1", "A2", "B1", "B2", "C1"]
    monkeypatch.setattr(elderly, "SERVED_THEN_CLOSED_COUNT", False)
    eng = engine(tmp_path / "b")
    got = by_code(eng, catalogue.evaluate(eng, parse("2025"), ["E1", "E2"]))
    assert got[("E1", V_EAST)] == got[("E2", V_EAST)] == (1, 4)
    assert got[("E1", COUNTY)] == (3, 9)


def test_age_reference_date_is_configurable(tmp_path, monkeypatch):
    """With 1 January as the reference date, A2 (born 31 Dec 1960) is 64 and leaves the cohort: E3 for 城东
    becomes 1/1 and the county 3/4 (A1, B1, C1 examined; B2 not)."""
    monkeypatch.setattr(elderly, "AGE_REFERENCE", ByYear({2009: elderly.AgeReference.YEAR_START}))
    eng = engine(tmp_path)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025"), ["E3"]))
    assert got[("E3", V_EAST)] == (1, 1)
    assert got[("E3", COUNTY)] == (3, 4)


def test_progress_to_first_quarter(tmp_path):
    """至第一季度 (1 Jan – 31 Mar 2025): the cohort is the same five (A6 died 1 Mar, within the period, so she is
    not in the records at its end); only A2 has been examined (1 Mar) → E3 county 1/5, 城东 1/2. The others
    are pending, not missing: the exam is due by 31 Dec. E1 to Q1 counts A6 alone (complete exam 10 Feb, served
    then closed; A2's exam is incomplete) against the year's base → county 1/9."""
    eng = engine(tmp_path)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025Q1"), ["E3", "E1"]))
    assert got[("E3", COUNTY)] == (1, 5)
    assert got[("E3", V_EAST)] == (1, 2)
    assert got[("E1", COUNTY)] == (1, 9)
    page = gaps.people(eng, "E3", COUNTY, parse("2025Q1"))
    assert {p.record_no: p.reasons for p in page.people} == {
        r: [("ELD-PENDING", "本年尚未做健康体检（应于 2025-12-31 前完成）")] for r in ("A1", "B1", "B2", "C1")}


def test_gap_lists_explain_each_person(tmp_path):
    eng = engine(tmp_path)
    e2 = gaps.people(eng, "E2", COUNTY, parse("2025"))
    assert e2.total == 2
    assert {p.record_no: p.reasons for p in e2.people} == {
        "A2": [("ELD-TESTS", "体检缺少辅助检查：血常规、心电图")],
        "B2": [("ELD-EXAM", "本年未做健康体检")],
    }
    e1 = gaps.people(eng, "E1", COUNTY, parse("2025"))  # E1 follows the same package since the 3rd-edition note
    assert {p.record_no: p.reasons for p in e1.people} == {p.record_no: p.reasons for p in e2.people}
    e3 = gaps.people(eng, "E3", COUNTY, parse("2025"))
    assert [(p.record_no, p.reasons) for p in e3.people] == [("B2", [("ELD-EXAM", "本年未做健康体检")])]
    assert gaps.people(eng, "E3", COUNTY, parse("2025"), part="denominator").total == 5
    tcm = gaps.people(eng, "TCM1", COUNTY, parse("2025"))
    assert {p.record_no: p.reasons for p in tcm.people} == {
        "A2": [("TCM-FORM", "中医体质辨识问卷不完整（应答 33 题，每题 1～5 分）")],
        "B1": [("TCM-GUIDE", "已做体质辨识，未进行中医药保健指导")],
        "B2": [("TCM-NONE", "本年未做中医体质辨识")],
    }


def test_missing_sections_are_configurable(tmp_path, monkeypatch):
    """A package without the ECG still fails A2, now only on 血常规; dropping the tests section altogether
    makes A2 standardized (E2 county 5/9: A1, A2, B1, C1, A6)."""
    sections = elderly.PACKAGE.for_year(2025)
    tests = next(s for s in sections if s.key == "tests")
    fewer = elderly.ExamSection("tests", tuple(i for i in tests.items if i.label != "心电图"))
    monkeypatch.setattr(elderly, "PACKAGE", ByYear({2017: tuple(fewer if s.key == "tests" else s for s in sections)}))
    eng = engine(tmp_path / "a")
    page = gaps.people(eng, "E2", V_EAST, parse("2025"))
    assert [(p.record_no, p.reasons) for p in page.people] == [("A2", [("ELD-TESTS", "体检缺少辅助检查：血常规")])]
    monkeypatch.setattr(elderly, "PACKAGE", ByYear({2017: tuple(s for s in sections if s.key != "tests")}))
    eng = engine(tmp_path / "b")
    assert by_code(eng, catalogue.evaluate(eng, parse("2025"), ["E2"]))[("E2", COUNTY)] == (5, 9)


def test_worklist_agrees_with_gap_reasons(tmp_path):
    """Overdue for the yearly exam or TCM service ⇔ "本年未做健康体检" / "本年未做中医体质辨识" for the as-of
    period. Before 31 Dec nobody is overdue; on 31 Dec B2 is overdue for both (A2 had a TCM visit with an
    incomplete form: a correction, not a due service)."""
    eng = engine(tmp_path)
    links = {("elderly", "no_exam"): ("E1", "ELD-EXAM"), ("elderly_tcm", "no_tcm"): ("TCM1", "TCM-NONE")}
    for as_of in (dt.date(2025, 3, 31), dt.date(2025, 9, 30), dt.date(2025, 12, 31)):
        work = worklist.items(eng, COUNTY, as_of, programs=["elderly", "elderly_tcm"], include_upcoming=True).to_pylist()
        for (program, gap), (code, reason_code) in links.items():
            overdue = {w["record_no"] for w in work
                       if w["program"] == program and w["status"] == "overdue" and w["gap"] == gap}
            page = gaps.people(eng, code, COUNTY, parse(as_of.isoformat()), size=1000)
            flagged = {p.record_no for p in page.people if any(c == reason_code for c, _ in p.reasons)}
            assert overdue == flagged, (as_of, program)
    work = worklist.items(eng, COUNTY, dt.date(2025, 12, 31), programs=["elderly", "elderly_tcm"]).to_pylist()
    assert sorted((w["program"], w["record_no"], w["due_date"], w["status"]) for w in work) == [
        ("elderly", "B2", dt.date(2025, 12, 31), "overdue"), ("elderly_tcm", "B2", dt.date(2025, 12, 31), "overdue")]
    upcoming = worklist.items(eng, COUNTY, dt.date(2025, 3, 31), programs=["elderly"], include_upcoming=True).to_pylist()
    assert sorted(w["record_no"] for w in upcoming) == ["A1", "B1", "B2", "C1"]
    assert {w["status"] for w in upcoming} == {"upcoming"}


def test_qc_c03_reads_the_same_package(tmp_path):
    """One definition of a complete elderly exam (issue 8 item 6): QC rule C-03 flags, among 2025's exams, exactly
    the one E2 finds incomplete — A2's (no blood routine, ECG "9 未检查") — naming the same two items. A4's exam
    (under 65, general fields filled) and A6's (complete) are not flagged; X-A3 and X-B2 are from 2024."""
    from gongwei.engine.quality import evaluate

    eng = engine(tmp_path)
    found = evaluate(eng, parse("2025"), ["C-03"]).to_pylist()
    numbers = {r["id"]: r["encounter_no"] for r in eng.table("health_examinations").select("id", "encounter_no")
               .to_pyarrow().to_pylist()}
    assert [(numbers[f["record_id"]], f["message"]) for f in found] == [("X-A2", "体检缺少：血常规、心电图")]
    e2 = gaps.people(eng, "E2", COUNTY, parse("2025"))
    assert ("A2", [("ELD-TESTS", "体检缺少辅助检查：血常规、心电图")]) in [(p.record_no, p.reasons) for p in e2.people]


def test_changing_the_package_changes_e2_and_c03_alike(tmp_path, monkeypatch):
    """A year's package without the ECG: A2's exam now lacks only 血常规 — for E2's gap and for C-03's finding."""
    sections = elderly.PACKAGE.for_year(2025)
    tests = next(s for s in sections if s.key == "tests")
    fewer = elderly.ExamSection("tests", tuple(i for i in tests.items if i.label != "心电图"))
    monkeypatch.setattr(elderly, "PACKAGE", ByYear({2017: tuple(fewer if s.key == "tests" else s for s in sections)}))
    from gongwei.engine.quality import evaluate

    eng = engine(tmp_path)
    assert [f["message"] for f in evaluate(eng, parse("2025"), ["C-03"]).to_pylist()] == ["体检缺少：血常规"]
    e2 = gaps.people(eng, "E2", V_EAST, parse("2025"))
    assert [(p.record_no, p.reasons) for p in e2.people] == [("A2", [("ELD-TESTS", "体检缺少辅助检查：血常规")])]
