"""Child indicators C1–C6 and TCM2 on a hand-built region; expected counts worked out by hand.

Statistical year 2025MCY = 1 Oct 2024 – 30 Sep 2025; ages at the period end. Each scheduled item (check or TCM
guidance at m months) is due on birth + m months and counts when done from 15 days before to 15 days after; the
full-month check counts only from day 28 to day 30 after birth (国家基本公共卫生服务规范（第三版）"出生后28～30天"
[child-schedule-county]). An item is *required* in the period when its window closes (the deadline) inside it. A child with nothing
required counts as served while its record is open ("按照月龄接受服务的儿童数 / 应管理的儿童数": the base keeps
every child, so a child with nothing due for its age must not lower the rate). C2/C5 count checks with a weight or
height recorded (体格检查), not newborn visits.

- K1, 城东, born 2024-11-10 (in the period): newborn visit 11-20 (10 days, eye check ✓). Checks 1 m 12-12 ✗ (day
  32: the full-month window is 12-08 – 12-10; the old ±15-day window would have taken it), 3 m 02-20 ✓ (+10 d),
  6 m 05-10 ✓, 8 m 07-30 ✗ (due 07-10, window closed 07-25); 12 m window closes 11-25 → not yet required. TCM 6 m
  on 05-10 ✓. → C1 ✓ C2 ✓ C6 ✓; C3 ✗ (full month and 8 m missed), C4 ✗ (8 m missed); TCM2 ✓.
- K2, 城东, born 2025-09-10: newborn visit 10-02 — after the period end but within 28 days → C1 ✓; no contact in
  the period → C6 ✗; nothing due yet (full month 10-08 – 10-10) → C2 ✓ C3 ✓ C4 ✓ TCM2 ✓.
- K3, 城西, born 2025-09-20: only a voided newborn visit; the 28-day window closes 10-18 → C1 pending ✗; nothing
  due → C2 ✓ C3 ✓ C4 ✓ TCM2 ✓; C6 ✗.
- K4, 城西, born 2024-09-20 (before the period → not in C1): checks 1 m 10-19 (day 29), 3 m 12-20, 6 m 03-25,
  8 m 05-20 (eye ✓) all in their windows; 12 m closes 10-05 → not required → C2 ✓ C3 ✓ C4 ✓ C6 ✓; TCM 6 m
  (closes 2025-04-04) missing → TCM2 ✗.
- K5, 林泉村, born 2022-03-15 (3 y 6 m at the end: not under 3, not 0–36 m): 36 m check 03-20 ✓ (30 m closed
  2024-09-30, before the period) → C3 ✓; but no weight or height recorded and a check was due → C2 ✗; no eye
  check → C6 ✗.
- K6, 城东, born 2018-11-01 (6 y 11 m): 72 m check 2024-11-10 with eye check → C2 ✓ C3 ✓ C6 ✓.
- K7, 城东, born 2018-09-15: 7 on 2025-09-15 → not 0–6 at the period end; counted nowhere.
- K8, 林泉村, born 2023-03-10 (2 y 6 m): 24 m check (closes 03-25) missing; 30 m on 09-01 ✓ (no eye check);
  18 m check 2024-09-12 before the period. TCM 24 m 03-12 ✓ and 30 m 09-01 ✓. → C2 ✓ C3 ✗ C4 ✗ C6 ✗ TCM2 ✓.
- K9, 林泉村, born 2025-01-05, died 2025-01-20: newborn visit window closes 02-02 after the death → not required;
  nothing due, but the record closed in the period, so it is not excused: C1–C4, TCM2 ✗ (reasons: nothing due
  but no longer managed at the period end; record closed).

Bases 2025: live births 城东 3, 城西 1, 林泉村 2 (蒲亭 4, county 6); 0–6: 城东 10, 城西 5, 林泉乡 8 (county 23);
under 3 and 0–36 m: 城东 4, 城西 3, 林泉村 3 (蒲亭 7, county 10).
C1: 蒲亭 K1+K2 = 2, 林泉 0.
C2 = C5: 城东 K1, K2, K6 = 3; 城西 K3, K4 = 2 → 蒲亭 5; 林泉 K8 = 1; county 6.
C3: 蒲亭 K2, K3, K4, K6 = 4; 林泉 K5 = 1; county 5.
C4: 城东 K2 = 1, 城西 K3, K4 = 2 → 蒲亭 3; 林泉 0; county 3.
C6: 蒲亭 K1, K4, K6 = 3; 林泉 0.
TCM2: 蒲亭 K1, K2, K3 = 3; 林泉 K8 = 1; county 4.
"""

from __future__ import annotations

import datetime as dt

import pytest

from gongwei.engine import catalogue, gaps, registry, worklist
from gongwei.spec.periods import parse
from gongwei.spec.programs import child
from tests.engine_fixtures_mch import COUNTY, EAST, LINQUAN_TOWN, PUTING, WEST, engine
from tests.engine_results import by_code

pytestmark = pytest.mark.django_db

CODES = ["C1", "C2", "C3", "C4", "C5", "C6", "TCM2"]


@pytest.fixture
def eng(tmp_path):
    return engine(tmp_path, ("child",))


def test_statistical_year_2025(eng):
    got = by_code(eng, catalogue.evaluate(eng, parse("2025"), CODES))
    assert got[("C1", EAST)] == (2, 3)
    assert got[("C1", WEST)] == (0, 1)
    assert got[("C1", PUTING)] == (2, 4)
    assert got[("C1", LINQUAN_TOWN)] == (0, 2)
    assert got[("C1", COUNTY)] == (2, 6)
    for code in ("C2", "C5"):
        assert got[(code, EAST)] == (3, 10)
        assert got[(code, WEST)] == (2, 5)
        assert got[(code, PUTING)] == (5, 15)
        assert got[(code, LINQUAN_TOWN)] == (1, 8)
        assert got[(code, COUNTY)] == (6, 23)
    assert got[("C3", PUTING)] == (4, 15)
    assert got[("C3", LINQUAN_TOWN)] == (1, 8)
    assert got[("C3", COUNTY)] == (5, 23)
    assert got[("C4", EAST)] == (1, 4)
    assert got[("C4", WEST)] == (2, 3)
    assert got[("C4", PUTING)] == (3, 7)
    assert got[("C4", LINQUAN_TOWN)] == (0, 3)
    assert got[("C4", COUNTY)] == (3, 10)
    assert got[("C6", PUTING)] == (3, 15)
    assert got[("C6", LINQUAN_TOWN)] == (0, 8)
    assert got[("C6", COUNTY)] == (3, 23)
    assert got[("TCM2", PUTING)] == (3, 7)
    assert got[("TCM2", LINQUAN_TOWN)] == (1, 3)
    assert got[("TCM2", COUNTY)] == (4, 10)


def test_cohorts_follow_age_at_the_period_end(eng):
    period = parse("2025MCY")
    people = {code: {p.record_no for p in gaps.people(eng, code, COUNTY, period, part="denominator").people}
              for code in ("C1", "C2", "C4", "TCM2")}
    assert people["C1"] == {"K1", "K2", "K3", "K9"}                       # born in the period
    assert people["C2"] == {"K1", "K2", "K3", "K4", "K5", "K6", "K8", "K9"}  # K7 turned 7
    assert people["C4"] == {"K1", "K2", "K3", "K4", "K8", "K9"}           # K5 is 3 y 6 m
    assert people["TCM2"] == people["C4"]


def test_gap_lists_explain_each_child(eng):
    period = parse("2025MCY")
    closed = ("CH-CLOSED", "档案已于 2025-01-20 关闭，此后到期的服务不再要求")
    c1 = gaps.people(eng, "C1", COUNTY, period)
    assert [(p.record_no, p.reasons) for p in c1.people] == [
        ("K3", [("CH-NEWBORN-OPEN", "新生儿访视期限 2025-10-18 在统计期末之后，尚无访视记录")]),
        ("K9", [closed]),
    ]
    c3 = gaps.people(eng, "C3", COUNTY, period)
    assert {p.record_no: p.reasons for p in c3.people} == {
        "K1": [("CH-CHECK-1", "缺少满月体检"), ("CH-CHECK-8", "缺少8月龄体检")],
        "K8": [("CH-CHECK-24", "缺少24月龄体检")],
        "K9": [("CH-NODUE", "本期无到期的体检；无到期服务的儿童仅在期末仍在管时按月龄计入"), closed],
    }
    c4 = gaps.people(eng, "C4", COUNTY, period)
    assert {p.record_no: [c for c, _ in p.reasons] for p in c4.people} == {
        "K1": ["CH-CHECK-8"], "K8": ["CH-CHECK-24"], "K9": ["CH-NODUE-422", "CH-CLOSED"]}
    c2 = gaps.people(eng, "C2", COUNTY, period)
    no_exam = "本期无体格检查记录（记录体重或身长/身高的儿童健康检查）"
    assert {p.record_no: [m for _, m in p.reasons] for p in c2.people} == {
        "K5": [no_exam], "K9": [no_exam, "本期无到期的体检；无到期服务的儿童仅在期末仍在管时按月龄计入", closed[1]]}
    c6 = gaps.people(eng, "C6", COUNTY, period)
    assert {p.record_no for p in c6.people} == {"K2", "K3", "K5", "K8", "K9"}
    assert ("CH-EYE", "本期无眼保健和视力检查") in {p.record_no: p for p in c6.people}["K5"].reasons
    tcm = gaps.people(eng, "TCM2", COUNTY, period)
    assert {p.record_no: [c for c, _ in p.reasons] for p in tcm.people} == {
        "K4": ["CH-TCM-6"], "K9": ["CH-TCM-NODUE", "CH-CLOSED"]}


def test_nothing_due_yet_counts_as_served(eng):
    """K2 (born 2025-09-10) and K3 (born 2025-09-20) have nothing due in 2025MCY: the full-month check falls after
    30 Sep, and nothing else is due before 3 months (C4) or 6 months (TCM2). They are in each numerator list (so
    they do not lower the rate); K9 also had nothing due but died on 2025-01-20, so it is not excused."""
    period = parse("2025MCY")
    for code, served in [("C2", {"K1", "K2", "K3", "K4", "K6", "K8"}), ("C3", {"K2", "K3", "K4", "K5", "K6"}),
                         ("C4", {"K2", "K3", "K4"}), ("TCM2", {"K1", "K2", "K3", "K8"})]:
        page = gaps.people(eng, code, COUNTY, period, part="numerator")
        assert {p.record_no for p in page.people} == served, code
    state = eng.to_arrow(registry.state(eng, "child", period)).to_pylist()
    by_no = {r["birth_date"]: r for r in state}
    k2 = by_no[dt.date(2025, 9, 10)]
    assert (k2["checks_required"], k2["checks_422_required"], k2["tcm_required"]) == (0, 0, 0)


def test_perfect_service_reads_100_percent(tmp_path):
    """tests.engine_fixtures_mch._PERFECT_KIDS, all in 城东, 2025MCY (1 Oct 2024 – 30 Sep 2025): every service due
    for a child's age was given on its nominal day, so every rate is exactly 100% (bases = children found).

    P1 (born 2025-09-20) has nothing due yet; P2 (2025-08-15) only the full month (09-12 – 09-14, done 09-13);
    P3 (2024-12-01) full month 12-30, 3, 6, 8 m and TCM 6 m; P4 (2023-06-15) 18 and 24 m checks and TCM;
    P5 (2022-09-20, 3 y at the end: 0–36 m but not under 3) 24 m on 2024-09-20 — before the period, but its
    window closes 10-05 inside it — and 30 m; the 36 m items close 10-05 after the end; P6 (2020-05-10) 60 m;
    P7 (2025-03-03) full month on day 30 (04-02), 3 and 6 m and TCM 6 m.
    0–6: 7 children (C2, C3, C5); under 3: P1–P4, P7 = 5 (C4); 0–36 m: all but P6 = 6 (TCM2); born in the period, each visited within 28 days: P1, P2, P3, P7
    (C1)."""
    eng = engine(tmp_path, ("child_perfect",))
    got = by_code(eng, catalogue.evaluate(eng, parse("2025"), CODES))
    expected = {"C1": 4, "C2": 7, "C3": 7, "C4": 5, "C5": 7, "TCM2": 6}
    for code, n in expected.items():
        assert got[(code, EAST)] == (n, n), code
        assert gaps.people(eng, code, EAST, parse("2025MCY")).total == 0, code


def test_nothing_due_counted_against_the_unit_when_switched_off(tmp_path, monkeypatch):
    """With NOTHING_DUE_COUNTS off (the old rule), the same perfect service no longer reads 100%: P1 has nothing
    due for any indicator; P2 nothing for C4 (3 m is due 11-15) or TCM2 (6 m); P6 is outside both. So C3 6/7,
    C4 3/5, TCM2 4/6 — the cap the issue describes."""
    monkeypatch.setattr(child, "NOTHING_DUE_COUNTS", False)
    eng = engine(tmp_path, ("child_perfect",))
    got = by_code(eng, catalogue.evaluate(eng, parse("2025"), ["C2", "C3", "C4", "TCM2"]))
    assert got[("C2", EAST)] == (6, 7)
    assert got[("C3", EAST)] == (6, 7)
    assert got[("C4", EAST)] == (3, 5)
    assert got[("TCM2", EAST)] == (4, 6)


def test_worklist_due_dates(eng):
    """As of 2025-08-10 (period 1 Jan – 10 Aug 2025, look-ahead to 31 Dec); due date = window's last day:

    overdue: K8 24 m check (03-25), K4 TCM 6 m (04-04), K1 8 m check (07-25, 16 days ago);
    upcoming: K4 12 m check and TCM (due 09-20 → by 10-05), K1 12 m check and TCM (11-10 → by 11-25).
    K8's 30 m check (window 08-26 – 09-25) was done on 09-01 (the snapshot already holds it).
    K2 and K3 are not born by 10 Aug; K9's items fall after the record closed.
    """
    work = worklist.items(eng, COUNTY, dt.date(2025, 8, 10), programs=["child"], include_upcoming=True).to_pylist()
    got = sorted((w["due_date"], w["record_no"], w["service"], w["status"], w["days_overdue"]) for w in work)
    assert got == [
        (dt.date(2025, 3, 25), "K8", "check_m24", "overdue", 138),
        (dt.date(2025, 4, 4), "K4", "tcm_m6", "overdue", 128),
        (dt.date(2025, 7, 25), "K1", "check_m8", "overdue", 16),
        (dt.date(2025, 10, 5), "K4", "check_m12", "upcoming", 0),
        (dt.date(2025, 10, 5), "K4", "tcm_m12", "upcoming", 0),
        (dt.date(2025, 11, 25), "K1", "check_m12", "upcoming", 0),
        (dt.date(2025, 11, 25), "K1", "tcm_m12", "upcoming", 0),
    ]
    names = {w["service"]: w["service_name"] for w in work}
    assert names["check_m24"] == "24月龄健康检查" and names["tcm_m6"] == "6月龄中医药健康指导"
    full_month = next(s for s in child.SCHEDULE if s.key == "check_m1")
    assert full_month.name == "满月健康检查（出生后28～30天）"  # the window the specification gives [child-schedule-county]


def test_full_month_check_is_due_on_day_30(eng):
    """The full-month check's window is day 28–30 after birth [child-schedule-county], so its due date is birth + 30 days: as of
    2025-10-12, K2 (born 2025-09-10, window 10-08 – 10-10) is 2 days overdue and K3 (born 2025-09-20, window
    10-18 – 10-20) is upcoming. Under the old ±15 days around one month they would have been due 10-25 and
    11-04."""
    work = worklist.items(eng, COUNTY, dt.date(2025, 10, 12), programs=["child"], include_upcoming=True).to_pylist()
    got = sorted((w["record_no"], w["due_date"], w["status"], w["days_overdue"]) for w in work
                 if w["service"] == "check_m1")
    assert got == [("K2", dt.date(2025, 10, 10), "overdue", 2), ("K3", dt.date(2025, 10, 20), "upcoming", 0)]


@pytest.mark.parametrize("as_of", ["2025-02-28", "2025-04-30", "2025-08-10", "2025-09-30", "2025-10-31"])
def test_worklist_agrees_with_gap_reasons(eng, as_of):
    """Overdue for a linked service ⇔ its gap is set in the state table; for children in an indicator's
    cohort the drill-down shows the same reasons."""
    day = dt.date.fromisoformat(as_of)
    period = parse(as_of)
    work = worklist.items(eng, COUNTY, day, programs=["child"], include_upcoming=True).to_pylist()
    overdue = {(w["resident_id"], w["gap"]) for w in work if w["status"] == "overdue" and w["gap"]}
    state = eng.to_arrow(registry.state(eng, "child", period)).to_pylist()
    linked = [s.gap for s in child.SCHEDULE]
    assert overdue == {(r["resident_id"], g) for r in state for g in linked if r[f"gap_{g}"]}
    code_to_key = {r.code: k for k, r in child.GAP_REASONS.items()}
    shown = set()
    for code in ("C3", "TCM2", "C1"):
        for p in gaps.people(eng, code, COUNTY, period, size=1000).people:
            shown |= {(p.resident_id, code_to_key[c]) for c, _ in p.reasons if code_to_key[c] in linked}
    cohort = {r["resident_id"] for r in state if r["in_0_6"]}
    born = {r["resident_id"] for r in state if r["born"]}
    expected = {(rid, g) for rid, g in overdue if rid in cohort and (g != "no_newborn_visit" or rid in born)}
    assert shown == expected


def test_newborn_visit_across_the_year_boundary(eng):
    """K4 was born 2024-09-20 with no newborn visit: the visit was missed on 2024-10-18, inside 2025MCY, so the
    worklist and the state flag it, but C1 counts newborns born in the period, so K4 is in 2024MCY's C1 cohort."""
    state = eng.to_arrow(registry.state(eng, "child", parse("2025MCY"))).to_pylist()
    k4 = next(r for r in state if r["birth_date"] == dt.date(2024, 9, 20))
    assert k4["gap_no_newborn_visit"] and not k4["born"]
    page = gaps.people(eng, "C1", COUNTY, parse("2024MCY"))
    assert [(p.record_no, [c for c, _ in p.reasons]) for p in page.people] == [("K4", ["CH-NEWBORN-OPEN"])]


@pytest.mark.sqlite_only  # the Spark backend on a snapshot: once, not per database (docs/testing.md)
def test_duckdb_and_pyspark_agree(tmp_path):
    """One Spark engine for the three programs (maternal, child, vaccination) on the combined region: the same
    indicator counts for 2025 (2025MCY for M/C, calendar 2025 for V2) and the same state tables row by row."""
    from gongwei.engine.backends import Engine
    from gongwei.spec import catalogue as spec_catalogue

    duck = engine(tmp_path)
    spark = Engine(duck.snapshot, "pyspark")
    codes = [c for c, ind in spec_catalogue.indicators().items() if ind.program_code in ("maternal", "child", "vaccination")]
    order = [("indicator", "ascending"), ("org_unit_id", "ascending")]
    a = catalogue.evaluate(duck, parse("2025"), codes).sort_by(order)
    b = catalogue.evaluate(spark, parse("2025"), codes).sort_by(order)
    assert a.to_pylist() == b.to_pylist()
    assert sum(r["numerator"] for r in a.to_pylist()) > 0
    for program, period in (("maternal", "2025MCY"), ("child", "2025MCY"), ("vaccination", "2025")):
        key = "episode_id" if program == "maternal" else "resident_id"
        rows = [sorted(e.to_arrow(registry.state(e, program, parse(period))).to_pylist(), key=lambda r: r[key])
                for e in (duck, spark)]
        assert rows[0] == rows[1], program
