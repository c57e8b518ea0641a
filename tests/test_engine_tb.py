"""Tuberculosis T1–T2 on a hand-built region (tests/engine_fixtures_chronic2.py); counts worked out by hand.

Rules: an episode is a TB enrolment, its start the notification date. T1 = managed / notified in the period,
managed = the first home visit (第一次入户随访) is recorded by the period end; it is due 3 days (72 h) after the
notification. T2 = regular / completed in the period, regular = over all the episode's follow-ups doses taken
× 100 ≥ doses due × 90.

- TB1, 城东村 (蒲亭), family-supervised: notified 10 Mar 2025, first visit 12 Mar (on time); completed 6 Sep.
  Doses due 10+10+39+61+60 = 180, taken 10+9+38+56+55 = 168; 16800 ≥ 16200 → regular.
- TB2, 城东村, staff-supervised: notified 1 Apr 2025, first visit 7 Apr (late: due 4 Apr, still managed);
  completed 28 Sep. Due 30+31+115 = 176, taken 25+25+100 = 150; 15000 < 15840 → not regular.
- TB3, 城西村 (蒲亭): notified 29 Dec 2025, no visit yet; the first visit is due 1 Jan 2026 → pending, not managed.
- TB4, 林泉村 (林泉): notified 2 Jun 2025, never visited → first visit overdue since 5 Jun; not managed.
- TB5, 林泉村, staff-supervised: notified 1 Oct 2024 (not in 2025's T1), completed 30 Mar 2025. Due
  31+30+32+30+28+30 = 181, taken 31+30+30+27+28+30 = 176 (the 1 Feb visit has no enrolment link and counts by
  date); 17600 ≥ 16290 → regular.
- TB6, 城东村: notified 5 Jan 2025, first visit 6 Jan; completed 4 Jul; no dose counts recorded → not regular.
T1 2025: notified 蒲亭 4 (TB1, TB2, TB3, TB6), 林泉 1 (TB4); managed 3 (TB1, TB2, TB6), 0 → county 3 of 5.
T2 2025: completed 蒲亭 3 (TB1, TB2, TB6), 林泉 1 (TB5); regular TB1 | TB5 → 蒲亭 1 of 3, 林泉 1 of 1, county 2 of 4.
"""

from __future__ import annotations

import datetime as dt

import pytest

from gongwei.engine import catalogue, gaps, registry, worklist
from gongwei.spec.periods import parse
from tests.engine_fixtures_chronic2 import COUNTY, TOWNSHIP_1, TOWNSHIP_2, engine
from tests.engine_results import by_code

pytestmark = pytest.mark.django_db


def test_year_2025(tmp_path):
    eng = engine(tmp_path)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025"), ["T1", "T2"]))
    assert got[("T1", TOWNSHIP_1)] == (3, 4)
    assert got[("T1", TOWNSHIP_2)] == (0, 1)
    assert got[("T1", COUNTY)] == (3, 5)
    assert got[("T2", TOWNSHIP_1)] == (1, 3)
    assert got[("T2", TOWNSHIP_2)] == (1, 1)
    assert got[("T2", COUNTY)] == (2, 4)


def test_second_quarter(tmp_path):
    """至第二季度: notified TB1, TB2, TB4, TB6 → managed TB1, TB2, TB6 (TB4 overdue) → 3 of 4. Completed by 30 Jun:
    only TB5 (TB6 ends 4 Jul) → regular 1 of 1."""
    eng = engine(tmp_path)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025Q2"), ["T1", "T2"]))
    assert got[("T1", COUNTY)] == (3, 4)
    assert got[("T2", COUNTY)] == (1, 1)


def test_gap_lists_explain_each_person(tmp_path):
    eng = engine(tmp_path)
    t1 = gaps.people(eng, "T1", COUNTY, parse("2025"))
    assert {p.record_no: p.reasons for p in t1.people} == {
        "TB3": [("TB-72H-DUE", "2025-12-29 通知管理，第一次入户随访尚未完成（72小时期限未到）")],
        "TB4": [("TB-72H", "2025-06-02 通知管理，已超过72小时仍未进行第一次入户随访")],
    }
    t2 = gaps.people(eng, "T2", COUNTY, parse("2025"))
    assert {p.record_no: p.reasons for p in t2.people} == {
        "TB2": [("TB-DOSES", "全疗程实际服药 150 次，应服药 176 次，未达到 90%")],
        "TB6": [("TB-NODOSE", "全疗程无应服药/实际服药次数记录")],
    }


def test_late_first_visit_is_kept_in_the_state(tmp_path):
    """TB2's first visit (7 Apr) came after the 72 h deadline (4 Apr): managed, but flagged late."""
    eng = engine(tmp_path)
    state = eng.to_arrow(registry.state(eng, "tb", parse("2025"))).to_pylist()
    late = {r["resident_id"] for r in state if r["first_visit_late"]}
    records = {r["id"]: r["record_no"] for r in eng.to_arrow(eng.table("residents")).to_pylist()}
    assert {records[i] for i in late} == {"TB2"}


def test_worklist_agrees_with_gap_reasons(tmp_path):
    """Overdue first home visit ⇔ TB-72H in T1's gap list (4 Jun: TB4's deadline 5 Jun not reached yet)."""
    eng = engine(tmp_path)
    seen = set()
    for as_of in (dt.date(2025, 3, 12), dt.date(2025, 6, 4), dt.date(2025, 6, 10), dt.date(2025, 12, 31)):
        work = worklist.items(eng, COUNTY, as_of, programs=["tb"], include_upcoming=True).to_pylist()
        overdue = {w["record_no"] for w in work if w["status"] == "overdue" and w["gap"] == "first_visit_overdue"}
        page = gaps.people(eng, "T1", COUNTY, parse(as_of.isoformat()), size=1000)
        late = {p.record_no for p in page.people if any(c == "TB-72H" for c, _ in p.reasons)}
        assert overdue == late, as_of
        seen |= overdue
    assert seen == {"TB4"}


def test_worklist_due_dates(tmp_path):
    eng = engine(tmp_path)
    # 25 Mar: TB1 (family, intensive phase) last seen 22 Mar → next in 10 days (1 Apr, within the week); TB5
    # (staff-supervised, still open until 30 Mar) last seen 1 Mar → monthly → 31 Mar, and its closing assessment
    # (done 31 Mar, after the as-of date) falls due 180 days after notification, 30 Mar; TB6 (family) last seen
    # 6 Jan → due 16 Jan, overdue. Closing assessments 180 days after notification (TB1 6 Sep, TB6 4 Jul).
    work = worklist.items(eng, COUNTY, dt.date(2025, 3, 25), programs=["tb"], include_upcoming=True).to_pylist()
    got = sorted((w["record_no"], w["service"], w["due_date"], w["status"]) for w in work)
    assert got == [
        ("TB1", "closing", dt.date(2025, 9, 6), "upcoming"),
        ("TB1", "follow_up", dt.date(2025, 4, 1), "due_soon"),
        ("TB5", "closing", dt.date(2025, 3, 30), "due_soon"),
        ("TB5", "follow_up", dt.date(2025, 3, 31), "due_soon"),
        ("TB6", "closing", dt.date(2025, 7, 4), "upcoming"),
        ("TB6", "follow_up", dt.date(2025, 1, 16), "overdue"),
    ]
    # 10 Jun: TB1's last visit (10 May) is in the continuation phase → monthly (9 Jun, 1 day overdue); TB2
    # (staff-supervised) last 7 Jun → 7 Jul; TB4's first visit overdue since 5 Jun.
    work = worklist.items(eng, COUNTY, dt.date(2025, 6, 10), programs=["tb"], include_upcoming=True).to_pylist()
    due = {(w["record_no"], w["service"]): (w["due_date"], w["days_overdue"]) for w in work}
    assert due[("TB1", "follow_up")] == (dt.date(2025, 6, 9), 1)
    assert due[("TB2", "follow_up")] == (dt.date(2025, 7, 7), 0)
    assert due[("TB4", "first_visit")] == (dt.date(2025, 6, 5), 5)


def test_worklist_keeps_an_open_episode_across_the_year_end(tmp_path):
    """5 Jan 2026: TB3 (notified 29 Dec 2025) is not in 2026's T1 denominator, but the first visit it still lacks
    is listed as overdue (due 1 Jan 2026) — the state's gap flag agrees."""
    eng = engine(tmp_path)
    work = worklist.items(eng, COUNTY, dt.date(2026, 1, 5), programs=["tb"]).to_pylist()
    first = {(w["record_no"], w["due_date"], w["status"]) for w in work if w["service"] == "first_visit"}
    assert first == {("TB3", dt.date(2026, 1, 1), "overdue"), ("TB4", dt.date(2025, 6, 5), "overdue")}
    state = eng.to_arrow(registry.state(eng, "tb", parse("2026-01-05"))).to_pylist()
    assert sum(r["gap_first_visit_overdue"] for r in state) == 2
    assert sum(r["notified"] for r in state) == 0


@pytest.mark.sqlite_only  # the Spark backend on a snapshot: once, not per database (docs/testing.md)
def test_duckdb_and_pyspark_agree(tmp_path):
    """Diabetes, COPD, SMI and TB: indicators and full state tables are identical on both backends (one period)."""
    from gongwei.engine.backends import Engine
    from gongwei.spec import catalogue as spec_catalogue

    duck = engine(tmp_path)
    spark = Engine(duck.snapshot, "pyspark")
    period = parse("2025")
    codes = [c for c, ind in spec_catalogue.indicators().items() if ind.program_code in ("diabetes", "copd", "smi", "tb")]
    order = [("indicator", "ascending"), ("org_unit_id", "ascending")]
    a = catalogue.evaluate(duck, period, codes).sort_by(order)
    b = catalogue.evaluate(spark, period, codes).sort_by(order)
    assert a.to_pylist() == b.to_pylist()
    for program in ("diabetes", "copd", "smi", "tb"):
        rows = [sorted(e.to_arrow(registry.state(e, program, period)).to_pylist(), key=lambda r: r["resident_id"])
                for e in (duck, spark)]
        assert rows[0] == rows[1], program


def test_open_case_follow_up_rate(tmp_path):
    """T3 未结案肺结核患者随访率 ([pingliang-2020q2]: "管理肺结核患者（未结案）600人，随访344人，随访率为57.33%" [pingliang-2020q2]):
    open cases = notified by the period end and not closed at it; followed = a follow-up record (any type) in
    the period.

    2025: open at 31 Dec are TB3 (城西, notified 29 Dec) and TB4 (林泉村); TB1, TB2, TB5, TB6 were closed in the
    year. Neither has a follow-up → 蒲亭 0 of 1, 林泉 0 of 1, county 0 of 2.
    2025Q2 (1 Jan – 30 Jun): open at 30 Jun are TB1 (ends 6 Sep), TB2 (28 Sep), TB6 (4 Jul), all 城东村, and TB4;
    TB5 closed 30 Mar, TB3 not notified yet. TB1 (12 Mar …), TB2 (7 Apr …), TB6 (6 Jan) have follow-ups in the
    period, TB4 none → 蒲亭 3 of 3, 林泉 0 of 1, county 3 of 4."""
    eng = engine(tmp_path)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025"), ["T3"]))
    assert got[("T3", TOWNSHIP_1)] == (0, 1)
    assert got[("T3", TOWNSHIP_2)] == (0, 1)
    assert got[("T3", COUNTY)] == (0, 2)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025Q2"), ["T3"]))
    assert got[("T3", TOWNSHIP_1)] == (3, 3)
    assert got[("T3", TOWNSHIP_2)] == (0, 1)
    assert got[("T3", COUNTY)] == (3, 4)
    page = gaps.people(eng, "T3", COUNTY, parse("2025Q2"))
    assert [(p.record_no, p.reasons) for p in page.people] == [("TB4", [("TB-OPEN-NOFU", "未结案，统计期内无随访记录")])]


def test_open_case_follow_up_window_is_a_parameter(tmp_path, monkeypatch):
    """With a 30-day window (the specification's "at least monthly" record) at 30 Jun 2025 the window is 1–30 Jun:
    TB1's visits are 10 May and 10 Jul, TB6's 6 Jan and 5 Jul → not followed; TB2 was seen 7 Jun → 1 of 4."""
    from gongwei.spec.programs import tb as tb_spec

    monkeypatch.setattr(tb_spec, "OPEN_CASE_FOLLOW_UP_DAYS", 30)
    eng = engine(tmp_path)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025Q2"), ["T3"]))
    assert got[("T3", COUNTY)] == (1, 4)


def test_first_visit_hours_and_timeliness_are_parameters(tmp_path, monkeypatch):
    """72 h comes from the 3rd edition ("通知单后…72小时内访视患者" [spec2017-tb]); both the hours (by year) and whether
    T1 counts only timely first visits are parameters.

    Counting only timely visits in 2025 (72 h = notification + 3 days): TB1 (10 → 12 Mar) and TB6 (5 → 6 Jan)
    on time, TB2 (1 → 7 Apr) late → T1 蒲亭 2 of 4, county 2 of 5; TB2's reason is TB-72H-LATE.
    With 24 h from 2025 instead: TB1's visit two days after notification is late too, TB6's the next day is
    not → first_visit_late = {TB1, TB2}, and T1 (timely only) county 1 of 5."""
    from gongwei.spec.programs import tb as tb_spec
    from gongwei.spec.rules import ByYear

    monkeypatch.setattr(tb_spec, "MANAGED_REQUIRES_TIMELY_FIRST_VISIT", ByYear({2017: True}))
    eng = engine(tmp_path)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025"), ["T1"]))
    assert got[("T1", TOWNSHIP_1)] == (2, 4)
    assert got[("T1", COUNTY)] == (2, 5)
    reasons = {p.record_no: p.reasons for p in gaps.people(eng, "T1", COUNTY, parse("2025")).people}
    assert reasons["TB2"] == [("TB-72H-LATE", "第一次入户随访晚于通知后72小时")]

    monkeypatch.setattr(tb_spec, "FIRST_VISIT_WITHIN_HOURS", ByYear({2017: 72, 2025: 24}))
    eng.states.clear()  # state tables are cached per engine
    got = by_code(eng, catalogue.evaluate(eng, parse("2025"), ["T1"]))
    assert got[("T1", COUNTY)] == (1, 5)
    state = eng.to_arrow(registry.state(eng, "tb", parse("2025"))).to_pylist()
    records = {r["id"]: r["record_no"] for r in eng.to_arrow(eng.table("residents")).to_pylist()}
    assert {records[r["resident_id"]] for r in state if r["first_visit_late"]} == {"TB1", "TB2"}
