"""Maternal indicators M1–M4 on a hand-built region; expected counts worked out by hand.

Statistical year 2025MCY = 1 Oct 2024 – 30 Sep 2025. Prenatal visit dates are LMP + 7 × weeks.

- W1, 城东: LMP 2024-09-01; registered at 10 weeks (2024-11-10); visits at 18, 22, 30, 38 weeks → 5 contacts;
  delivered 2025-06-08, discharged 06-10; home visit 06-15 (5 days); 42-day check 07-20. Also a prenatal visit
  from 2022, unlinked and before this enrollment (start 2024-11-10) → not hers for this episode.
  → M1 ✓ M2 ✓ M3 ✓ M4 ✓.
- W2, 城东: registered at 15 weeks → M1 ✗ "孕15周建册"; 20, 24, 32 weeks → 4 contacts → M4 ✗; discharged
  2025-05-10, home visit 06-20 = 41 days → M2 ✗; M3 ✗.
- W3, 城西: registered at 8 weeks, 17, 22, 30, 38 → 5; delivered 2025-09-20, discharged 09-22, no visit yet:
  the 28-day window closes 2025-10-20, after the period end → M2 pending (not in the numerator); M1 ✓ M4 ✓ M3 ✗.
- W4, 林泉村: registered at 12 weeks (< 13 ✓); 16 weeks (entered without the enrollment, dated within it →
  counts), 21, 28 and two records on the same day at 37 weeks → 5 different days ✓; delivered 2025-09-25 with
  no discharge date (window from delivery), home visit 2025-10-10 (15 days, after the period end but inside the
  window → counts). → M1 ✓ M2 ✓ M3 ✓ M4 ✓.
- W5, 城东: delivered 2024-09-15 → previous statistical year; not in 2025MCY.
- W6, 城东: pregnant (LMP 2025-06-01, registered 2025-07-20) → not delivered; worklist only.

Live births 2025: 城东 3, 城西 1, 林泉村 2 → 蒲亭 4, 林泉 2, county 6.
M1: 蒲亭 W1+W3 = 2, 林泉 1, county 3.  M2: 蒲亭 W1 = 1, 林泉 1, county 2.
M3: 蒲亭 1, 林泉 1, county 2.           M4: 蒲亭 W1+W3 = 2, 林泉 1, county 3.
"""

from __future__ import annotations

import datetime as dt

import pytest

from gongwei.engine import catalogue, gaps, registry, worklist
from gongwei.spec.periods import parse
from tests.engine_fixtures_mch import COUNTY, EAST, LINQUAN_TOWN, PUTING, WEST, engine
from tests.engine_results import by_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def eng(tmp_path):
    return engine(tmp_path, ("maternal",))


def test_statistical_year_2025(eng):
    # asking for the calendar year 2025 gives the maternal-child year 2025MCY
    for period in ("2025", "2025MCY"):
        got = by_code(eng, catalogue.evaluate(eng, parse(period), ["M1", "M2", "M3", "M4"]))
        assert got[("M1", EAST)] == (1, 3)
        assert got[("M1", WEST)] == (1, 1)
        assert got[("M1", PUTING)] == (2, 4)
        assert got[("M1", LINQUAN_TOWN)] == (1, 2)
        assert got[("M1", COUNTY)] == (3, 6)
        assert got[("M2", PUTING)] == (1, 4)
        assert got[("M2", LINQUAN_TOWN)] == (1, 2)
        assert got[("M2", COUNTY)] == (2, 6)
        assert got[("M3", PUTING)] == (1, 4)
        assert got[("M3", COUNTY)] == (2, 6)
        assert got[("M4", PUTING)] == (2, 4)
        assert got[("M4", LINQUAN_TOWN)] == (1, 2)
        assert got[("M4", COUNTY)] == (3, 6)


def test_previous_statistical_year(eng):
    # 2024MCY (1 Oct 2023 – 30 Sep 2024): only W5 delivered (2024-09-15); registered at 9 weeks → M1 ✓; one prenatal
    # contact → M4 ✗; discharged 09-17, window to 10-15 after the period end and no visit → M2 pending ✗.
    # No live-birth base for 2024 → denominators unknown (None).
    got = by_code(eng, catalogue.evaluate(eng, parse("2024MCY"), ["M1", "M2", "M3", "M4"]))
    assert got[("M1", COUNTY)] == (1, None)
    assert got[("M2", COUNTY)] == (0, None)
    assert got[("M4", COUNTY)] == (0, None)
    page = gaps.people(eng, "M2", COUNTY, parse("2024MCY"))
    assert [(p.record_no, p.reasons) for p in page.people] == [
        ("W5", [("MAT-PP-OPEN", "产后访视期限 2024-10-15 在统计期末之后，尚无访视记录")])]


def test_gap_lists_explain_each_woman(eng):
    period = parse("2025MCY")
    m1 = gaps.people(eng, "M1", COUNTY, period)
    assert [(p.record_no, p.reasons) for p in m1.people] == [("W2", [("MAT-LATE", "未在孕13周前建册（孕15周建册）")])]
    m2 = gaps.people(eng, "M2", COUNTY, period)
    assert [(p.record_no, p.reasons) for p in m2.people] == [
        ("W2", [("MAT-PP", "产后28天内未访视")]),
        ("W3", [("MAT-PP-OPEN", "产后访视期限 2025-10-20 在统计期末之后，尚无访视记录")]),
    ]
    m3 = gaps.people(eng, "M3", COUNTY, period)
    assert {p.record_no: [c for c, _ in p.reasons] for p in m3.people} == {
        "W2": ["MAT-LATE", "MAT-PRENATAL", "MAT-PP"], "W3": ["MAT-PP-OPEN"]}
    m4 = gaps.people(eng, "M4", COUNTY, period)
    assert [(p.record_no, p.reasons) for p in m4.people] == [("W2", [("MAT-PRENATAL", "产前检查 4 次，少于 5 次")])]
    # the cohort is the episodes delivered in the period: W1–W4
    assert gaps.people(eng, "M1", COUNTY, period, part="denominator").total == 4
    assert {p.record_no for p in gaps.people(eng, "M3", COUNTY, period, part="numerator").people} == {"W1", "W4"}


def test_worklist_due_dates(eng):
    """As of 2025-11-01 (period 1 Jan – 1 Nov 2025, look-ahead to 31 Dec):

    - W2: discharged 05-10 → home visit due by 06-07, only a visit on 06-20 → overdue; 42-day check due by
      delivery 05-08 + 42 + 14 = 07-03, none → overdue.
    - W3: home visit due by 10-20 → overdue; 42-day check by 09-20 + 56 = 11-15 → upcoming.
    - W4: visited; 42-day check by 09-25 + 56 = 11-20 → upcoming.
    - W6 (LMP 2025-06-01): 2nd contact (16–20 weeks) due by LMP + 146 days = 10-25 → overdue; 3rd (21–24 weeks)
      by LMP + 174 = 11-22 → upcoming; 4th by LMP + 258 = 2026-02-14 → beyond the year.
    - W1: everything done.
    """
    work = worklist.items(eng, COUNTY, dt.date(2025, 11, 1), programs=["maternal"], include_upcoming=True).to_pylist()
    got = sorted((w["record_no"], w["service"], w["due_date"], w["status"]) for w in work)
    assert got == [
        ("W2", "check_42d", dt.date(2025, 7, 3), "overdue"),
        ("W2", "postpartum_visit", dt.date(2025, 6, 7), "overdue"),
        ("W3", "check_42d", dt.date(2025, 11, 15), "upcoming"),
        ("W3", "postpartum_visit", dt.date(2025, 10, 20), "overdue"),
        ("W4", "check_42d", dt.date(2025, 11, 20), "upcoming"),
        ("W6", "prenatal_2", dt.date(2025, 10, 25), "overdue"),
        ("W6", "prenatal_3", dt.date(2025, 11, 22), "upcoming"),
    ]


@pytest.mark.parametrize("as_of", ["2025-03-31", "2025-06-10", "2025-10-10", "2025-11-01", "2025-12-31"])
def test_worklist_agrees_with_gap_reasons(eng, as_of):
    """The postpartum visit is overdue ⇔ the M2 gap "产后28天内未访视" is set, for every as-of date
    (the state table, and the drill-down of the women delivered in the period)."""
    day = dt.date.fromisoformat(as_of)
    period = parse(as_of)
    work = worklist.items(eng, COUNTY, day, programs=["maternal"], include_upcoming=True).to_pylist()
    overdue = {w["resident_id"] for w in work if w["status"] == "overdue" and w["gap"] == "no_postpartum_visit"}
    state = eng.to_arrow(registry.state(eng, "maternal", period)).to_pylist()
    assert overdue == {r["resident_id"] for r in state if r["gap_no_postpartum_visit"]}
    page = gaps.people(eng, "M2", COUNTY, period, size=1000)
    in_gap_list = {p.resident_id for p in page.people if any(c == "MAT-PP" for c, _ in p.reasons)}
    delivered = {r["resident_id"] for r in state if r["delivered"]}
    assert overdue & delivered == in_gap_list


def test_roster_lists_women_enrolled_in_the_period(eng):
    from gongwei.engine.roster import roster

    table = roster(eng, COUNTY, dt.date(2025, 8, 1), programs=["maternal"])
    # enrolled at some time in 1 Jan – 1 Aug 2025: W1, W2, W3, W4, W6 (W5's episode ended 2024-10-27)
    assert sorted(table.column("record_no").to_pylist()) == ["W1", "W2", "W3", "W4", "W6"]


def test_service_and_42_day_closure_rates_2025(eng):
    """M5 服务率 and M6 产后42天随访结案率 ([pingliang-2020q2]: "管理孕产妇（未结案+已结案且结案时间为2020年）… 有效管理 … 服务率
    56.4%；按产后42天随访结案的产妇数来看 … 46.52%" [pingliang-2020q2]), over the calendar year 2025 (not the statistical year).

    Managed = episodes enrolled at some time in 2025: W1, W2, W6 (城东), W3 (城西), W4 (林泉村); W5's ended in 2024.
    Effectively managed = registered and nothing due by 31 Dec left undone:
    - W1: all five contacts, home visit 06-15, 42-day check 07-20 → ✓.
    - W2: home-visit window closed 06-07 (only a visit on 06-20) and the 42-day check window closed 07-03 with no
      check → ✗. (Her 37–40-week contact, due by LMP + 286 days = 2025-05-14, is not asked: she gave birth 05-08.)
    - W3: no home visit (window closed 10-20), no 42-day check (window closed 11-15) → ✗.
    - W4: visited 10-10, but no 42-day check by 11-20 → ✗.
    - W6 (LMP 2025-06-01): the 16–20-week contact was due by 10-25 and the 21–24-week one by 11-22, neither done → ✗.
    → M5 城东 1/3, 城西 0/1, 林泉 0/1, county 1/5.
    Closed at 42 days = closed in 2025 after a 42-day check: W1 (closed 07-20, check 07-20) ✓; W2 closed 06-19 without
    a check ✗; W3, W4, W6 still open → M6 城东 1/3, county 1/5."""
    got = by_code(eng, catalogue.evaluate(eng, parse("2025"), ["M5", "M6"]))
    assert got[("M5", EAST)] == (1, 3)
    assert got[("M5", WEST)] == (0, 1)
    assert got[("M5", LINQUAN_TOWN)] == (0, 1)
    assert got[("M5", PUTING)] == (1, 4)
    assert got[("M5", COUNTY)] == (1, 5)
    assert got[("M6", EAST)] == (1, 3)
    assert got[("M6", COUNTY)] == (1, 5)

    m5 = gaps.people(eng, "M5", COUNTY, parse("2025"))
    assert {p.record_no: p.reasons for p in m5.people} == {
        "W2": [("MAT-PP-OVERDUE", "产后访视期限 2025-06-07 已过，未访视"),
               ("MAT-42D-OVERDUE", "产后42天健康检查期限 2025-07-03 已过，未检查")],
        "W3": [("MAT-PP-OVERDUE", "产后访视期限 2025-10-20 已过，未访视"),
               ("MAT-42D-OVERDUE", "产后42天健康检查期限 2025-11-15 已过，未检查")],
        "W4": [("MAT-42D-OVERDUE", "产后42天健康检查期限 2025-11-20 已过，未检查")],
        "W6": [("MAT-PN-OVERDUE", "到期未做：第2次产前检查（孕16～20周）、第3次产前检查（孕21～24周）")],
    }
    m6 = gaps.people(eng, "M6", COUNTY, parse("2025"))
    assert {p.record_no: [c for c, _ in p.reasons] for p in m6.people} == {
        "W2": ["MAT-CLOSE-NO42D"], "W3": ["MAT-OPEN"], "W4": ["MAT-OPEN"], "W6": ["MAT-OPEN"]}


def test_service_rate_counts_only_what_was_due_by_the_period_end(eng):
    """As of 30 Jun 2025 (1 Jan – 30 Jun): managed W1, W2 (城东), W3 (城西, from 02-14), W4 (林泉村, from 03-12);
    W6 enrolls 07-20. W1's home visit (due by 07-08) and 42-day check (by 08-03) are not due yet → ✓; W2's home-visit
    window closed 06-07 → ✗ (her 42-day check, due by 07-03, is not due yet); W3 and W4 are pregnant with every
    contact due so far done (W3's 21–24-week contact due 06-12 done 05-23; W4's due 06-10 done 05-14) → ✓.
    → M5 county 3/4, 城东 1/2. No episode closed after a 42-day check (W2 closed 06-19 without one) → M6 0/4."""
    got = by_code(eng, catalogue.evaluate(eng, parse("2025-06-30"), ["M5", "M6"]))
    assert got[("M5", COUNTY)] == (3, 4)
    assert got[("M5", EAST)] == (1, 2)
    assert got[("M6", COUNTY)] == (0, 4)


def test_roster_names_the_program_in_chinese(eng, capsys):
    """The command-line roster names each program as the form does (孕产妇健康管理), never by its engine code."""
    from gongwei.cli.main import main

    assert main(["roster", "--org", COUNTY, "--as-of", "2025-08-01", "--programs", "maternal",
                 "--snapshot", str(eng.snapshot.folder)]) == 0
    out = capsys.readouterr().out
    assert out.count("孕产妇健康管理") == 5 and "maternal" not in out
