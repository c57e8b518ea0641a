"""Hypertension indicators on a hand-built region; expected counts worked out by hand.

Patients (2025):
- P1, 城东村 (township 蒲亭): enrolled 2024; four clinic visits Feb/May/Aug/Nov; exam June; last BP 130/80.
  → managed, standardized, controlled.
- P2, 城东村: enrolled 2024; face-to-face Jan/Apr/Jul and a phone visit in Nov (150/92); exam March.
  → managed; only 3 face-to-face visits < 4 → not standardized; last measured visit (phone, Nov)
  150/92 → not controlled.
- P3, 城西村 (蒲亭): enrolled 10 July 2025 → covers Q3 and Q4 → needs 4×2/4 = 2 visits; home visits Aug and
  Oct; exam Sept; last 138/88. → managed, standardized, controlled.
- P4, 林泉村 (township 林泉): enrolled 2023; four clinic visits; exam only in 2024; last 120/70.
  → managed, not standardized (no 2025 exam), controlled.
- P5, 城东村: died 1 Dec 2024 → closed before the period → not managed.
So 蒲亭 (360426100000): managed 3, standardized 2, controlled 2; 林泉: 1, 0, 1; county: 4, 2, 3.
Task numbers 2025: 城东 10, 城西 5 → 蒲亭 15 (sum of villages); 林泉 8 (own entry) → county 23.
"""

from __future__ import annotations

import pytest

from gongwei.engine import catalogue
from gongwei.engine.orgs import OrgTree
from gongwei.spec.periods import parse
from tests.engine_fixtures import engine
from tests.engine_results import by_code

pytestmark = pytest.mark.django_db

TOWNSHIP_1, TOWNSHIP_2, COUNTY = "360426100000", "360426200000", "360426000000"
HTN = ["H1", "H2", "H3", "H4", "H6"]


def test_year_2025(tmp_path):
    eng = engine(tmp_path)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025"), ["H1", "H2", "H3", "H4"]))
    assert got[("H2", TOWNSHIP_1)] == (2, 3)
    assert got[("H2", TOWNSHIP_2)] == (0, 1)
    assert got[("H2", COUNTY)] == (2, 4)
    assert got[("H3", TOWNSHIP_1)] == (2, 3)
    assert got[("H3", COUNTY)] == (3, 4)
    assert got[("H1", TOWNSHIP_1)] == (3, 15)
    assert got[("H1", TOWNSHIP_2)] == (1, 8)
    assert got[("H4", COUNTY)] == (4, 23)
    assert got[("H2", "360426100202")] == (1, 1)  # 城西村: P3 only


def test_second_quarter_pro_rates_visits_and_waives_the_annual_exam(tmp_path):
    # 至第二季度 (1 Jan – 30 Jun): P3 not yet enrolled; P1 Feb+May = 2 ≥ 2; P2 Jan+Apr = 2 ≥ 2;
    # P4 Mar+Jun = 2 ≥ 2 and the annual exam is not yet required → all three standardized.
    # Control at Q2: P1 last May 142/88 at 75 → the 65+ target SBP < 150 (3rd edition, hypertension.CONTROL)
    # → yes; P2 last Apr 128/82 → yes; P4 Jun 122/72 → yes.
    eng = engine(tmp_path)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025Q2"), ["H2", "H3"]))
    assert got[("H2", TOWNSHIP_1)] == (2, 2)
    assert got[("H2", COUNTY)] == (3, 3)
    assert got[("H3", TOWNSHIP_1)] == (2, 2)
    assert got[("H3", COUNTY)] == (3, 3)


def test_roll_up_children_sum_to_parent(tmp_path):
    eng = engine(tmp_path)
    results = catalogue.evaluate(eng, parse("2025"), ["H2", "H3"])
    tree = OrgTree.load(eng.snapshot)
    values = {(r["indicator"], r["org_unit_id"]): r for r in results.to_pylist()}
    for unit in tree.ids:
        kids = tree.children(unit)
        if not kids:
            continue
        for code in ("H2", "H3"):
            for part in ("numerator", "denominator"):
                assert values[(code, unit)][part] == sum(values[(code, k)][part] for k in kids)


@pytest.mark.sqlite_only  # the Spark backend on a snapshot: once, not per database (docs/testing.md)
def test_duckdb_and_pyspark_agree(tmp_path):
    duck = engine(tmp_path / "a")
    from gongwei.engine.backends import Engine

    spark = Engine(duck.snapshot, "pyspark")
    for period in ("2025", "2025-08-31"):
        a = catalogue.evaluate(duck, parse(period), HTN).sort_by([("indicator", "ascending"), ("org_unit_id", "ascending")])
        b = catalogue.evaluate(spark, parse(period), HTN).sort_by([("indicator", "ascending"), ("org_unit_id", "ascending")])
        assert a.to_pylist() == b.to_pylist(), period


def test_gap_list_explains_each_person(tmp_path):
    from gongwei.engine import gaps

    eng = engine(tmp_path)
    page = gaps.people(eng, "H2", COUNTY, parse("2025"))
    assert page.total == 2
    by_record = {p.record_no: p for p in page.people}
    assert by_record["P2"].reasons == [("HTN-VISITS", "本期有效面对面随访 3 次，少于应随访 4 次")]
    assert by_record["P4"].reasons == [("HTN-EXAM", "本年未做健康体检")]
    control = gaps.people(eng, "H3", TOWNSHIP_1, parse("2025"))
    assert [(p.record_no, p.reasons) for p in control.people] == [("P2", [("HTN-BP", "末次随访血压 150/92 未控制")])]
    assert gaps.people(eng, "H2", COUNTY, parse("2025"), part="numerator").total == 2
    task = gaps.people(eng, "H1", COUNTY, parse("2025"))
    assert task.total == 0 and "无法逐人列出" in task.note


def test_worklist_agrees_with_gap_reasons(tmp_path):
    """Overdue for a service linked to a gap ⇔ that gap reason is set for the as-of period."""
    import datetime as dt

    from gongwei.engine import gaps, worklist

    eng = engine(tmp_path)
    for as_of in (dt.date(2025, 3, 31), dt.date(2025, 6, 30), dt.date(2025, 8, 15), dt.date(2025, 12, 31)):
        work = worklist.items(eng, COUNTY, as_of, include_upcoming=True, programs=["hypertension"]).to_pylist()
        overdue = {(w["record_no"], w["gap"]) for w in work if w["status"] == "overdue" and w["gap"]}
        page = gaps.people(eng, "H2", COUNTY, parse(as_of.isoformat()), size=1000)
        reasons = {(p.record_no, {"HTN-VISITS": "visits_below_required", "HTN-EXAM": "no_annual_exam"}[c])
                   for p in page.people for c, _ in p.reasons}
        assert overdue == reasons, as_of


def test_worklist_due_dates(tmp_path):
    import datetime as dt

    from gongwei.engine import worklist

    eng = engine(tmp_path)
    # 15 Aug 2025: P3 (enrolled 10 July) has one visit (1 Aug) → next required visit due at Q3's end?
    # covered quarters through Q3 = 1 → 1 visit required, done 1 → next due at Q4 end (31 Dec).
    work = worklist.items(eng, "360426100202", dt.date(2025, 8, 15), include_upcoming=True,
                          programs=["hypertension"]).to_pylist()
    follow = [w for w in work if w["service"] == "follow_up"]
    assert [(w["record_no"], w["due_date"], w["status"]) for w in follow] == [("P3", dt.date(2025, 12, 31), "upcoming")]
    # P3's last visit (1 Aug, 150/90) was uncontrolled → recheck due 14 days later, overdue on 15 Aug
    recheck = [w for w in work if w["service"] == "recheck"]
    assert [(w["record_no"], w["due_date"], w["status"], w["days_overdue"]) for w in recheck] == \
        [("P3", dt.date(2025, 8, 15), "overdue", 0)]


def test_roster_lists_key_populations_per_village_with_team_lead(tmp_path):
    """P1 has a contract with team 城东一队 led by 王医生; P2 and P3 have none; P5 is closed; P4 is in 林泉."""
    import datetime as dt

    from gongwei.engine import roster
    from gongwei.engine.backends import Engine
    from gongwei.engine.snapshot import Snapshot
    from gongwei.records import entry
    from gongwei.records.snapshot import take_snapshot
    from tests import engine_fixtures as fx
    from tests.regions import t

    entry.submit({
        "org_units": fx.ORG_UNITS, "residents": fx.RESIDENTS, "enrollments": fx.ENROLLMENTS,
        "staff": t(code=["S1"], org_unit=["360426100201"], role=["village_doctor"], name=["王医生"]),
        "teams": t(code=["T1"], name=["城东一队"], org_unit=["360426100201"], lead=["S1"]),
        "contracts": t(contract_no=["C1"], resident=["P1"], team=["T1"], start_date=["2025-01-01"],
                       end_date=["2025-12-31"], key_groups=["hypertension"]),
    }, actor="test", kind="test")
    eng = Engine(Snapshot.open(take_snapshot(tmp_path)), "duckdb")
    rows = roster.roster(eng, TOWNSHIP_1, dt.date(2025, 12, 31), programs=["hypertension"]).to_pylist()
    assert [(r["record_no"], r["unit_name"], r["team"], r["team_lead"]) for r in rows] == [
        ("P1", "城东村卫生室", "城东一队", "王医生"), ("P2", "城东村卫生室", None, None), ("P3", "城西村卫生室", None, None)]


# --- counted visits, pro-rating, 失访, the 35+ floor, people closed later, H6 (hand-built regions) -------------

def _state(eng, period: str, program: str = "hypertension") -> dict[str, dict]:
    """The engine's per-person state, keyed by record number."""
    from gongwei.engine import registry

    records = {r["id"]: r["record_no"] for r in eng.table("residents").select("id", "record_no").to_pyarrow().to_pylist()}
    rows = registry.state(eng, program, parse(period)).to_pyarrow().to_pylist()
    return {records[r["resident_id"]]: r for r in rows}


def _follow_up(monkeypatch, **changes):
    """Replace the 2017 hypertension requirement for one test (a region's or a year's configuration)."""
    import dataclasses

    from gongwei.spec.programs import hypertension
    from gongwei.spec.rules import ByYear

    req = dataclasses.replace(hypertension.FOLLOW_UP.for_year(2025), **changes)
    monkeypatch.setattr(hypertension, "FOLLOW_UP", ByYear({2017: req}))


_ENROLLED_2024 = "2024-01-01"
_PADDING = [  # PA: four clinic visits in one December week; PB: Feb (twice the same day), May, Aug — no Q4
    ("A1", "PA", "2025-12-01", "1", 130, 80, ""), ("A2", "PA", "2025-12-02", "1", 130, 80, ""),
    ("A3", "PA", "2025-12-03", "1", 130, 80, ""), ("A4", "PA", "2025-12-04", "1", 130, 80, ""),
    ("B1", "PB", "2025-02-10", "1", 130, 80, ""), ("B2", "PB", "2025-02-10", "1", 130, 80, ""),
    ("B3", "PB", "2025-05-10", "1", 130, 80, ""), ("B4", "PB", "2025-08-10", "1", 130, 80, ""),
    ("C1", "PC", "2025-02-10", "1", 130, 80, ""), ("C2", "PC", "2025-05-10", "1", 130, 80, ""),
    ("C3", "PC", "2025-08-10", "1", 130, 80, ""), ("C4", "PC", "2025-11-10", "1", 130, 80, ""),
]
_PADDING_PEOPLE = [(p, "1950-01-01", _ENROLLED_2024, "active", "") for p in ("PA", "PB", "PC")]
_PADDING_EXAMS = [("XA", "PA", "2025-06-01"), ("XB", "PB", "2025-06-01"), ("XC", "PC", "2025-06-01")]


def test_padding_does_not_make_a_patient_standardized(tmp_path):
    """Rule (hypertension.FOLLOW_UP, "按季度随访，每年至少4次面对面随访" [dm-control-kunming]): one visit a day, at most one a
    quarter counts. All three enrolled since 2024, examined in June, so 4 visits are required.
    PA: four visits 1–4 December → one quarter → 1 counted → not standardized (the issue's padding case).
    PB: 10 Feb twice (one day), May, Aug → 3 counted → not standardized.
    PC: Feb, May, Aug, Nov → 4 → standardized."""
    from tests.engine_fixtures_chronic2 import chronic_region

    state = _state(chronic_region(tmp_path, _PADDING_PEOPLE, _PADDING, _PADDING_EXAMS), "2025")
    assert {p: (s["visits_recorded"], s["visits_done"], s["standardized"]) for p, s in state.items()} == {
        "PA": (4, 1, False), "PB": (3, 3, False), "PC": (4, 4, True)}


def test_same_day_duplicates_count_once_without_the_quarter_spread(tmp_path, monkeypatch):
    """A region without the quarter spread: PA's four December days are four visits (standardized), PB's two
    records of 10 February are still one day → 3 < 4."""
    from tests.engine_fixtures_chronic2 import chronic_region

    _follow_up(monkeypatch, spread_by_quarter=False)
    state = _state(chronic_region(tmp_path, _PADDING_PEOPLE, _PADDING, _PADDING_EXAMS), "2025")
    assert {p: (s["visits_done"], s["standardized"]) for p, s in state.items()} == {
        "PA": (4, True), "PB": (3, False), "PC": (4, True)}


def test_minimum_interval_between_visits(tmp_path, monkeypatch):
    """A region requiring 30 days since the previous visit (min_interval_days=30, no quarter spread): PA's
    2, 3 and 4 December are each a day after the previous one → only 1 December counts; PC's quarterly visits
    are three months apart → 4."""
    from tests.engine_fixtures_chronic2 import chronic_region

    _follow_up(monkeypatch, spread_by_quarter=False, min_interval_days=30)
    state = _state(chronic_region(tmp_path, _PADDING_PEOPLE, _PADDING, _PADDING_EXAMS), "2025")
    assert {p: s["visits_done"] for p, s in state.items()} == {"PA": 1, "PB": 3, "PC": 4}


# enrolled on the 15th of every month of 2025, and on both sides of each quarter's end
_ENROLMENT_DAYS = [f"2025-{m:02d}-15" for m in range(1, 13)] + [
    "2025-03-31", "2025-04-01", "2025-06-30", "2025-07-01", "2025-09-30", "2025-10-01"]


def _enrolled_through_the_year(tmp_path):
    from tests.engine_fixtures_chronic2 import chronic_region

    people = [(f"M{d}", "1950-01-01", d, "active", "") for d in _ENROLMENT_DAYS]
    return _state(chronic_region(tmp_path, people, []), "2025")


def test_mid_year_enrolment_owes_one_visit_per_quarter_managed_through(tmp_path):
    """floor(min_visits × covered quarters / 4) with min_visits = 4 (FollowUpRequirement; "按季度随访" [dm-control-kunming]):
    a quarter counts when the patient was enrolled on its last day. January–March (and 31 March) → 4;
    April–June (and 1 April, 30 June) → 3; July–September → 2; October–December → 1."""
    state = _enrolled_through_the_year(tmp_path)
    expected = {"2025-01-15": 4, "2025-02-15": 4, "2025-03-15": 4, "2025-03-31": 4,
                "2025-04-01": 3, "2025-04-15": 3, "2025-05-15": 3, "2025-06-15": 3, "2025-06-30": 3,
                "2025-07-01": 2, "2025-07-15": 2, "2025-08-15": 2, "2025-09-15": 2, "2025-09-30": 2,
                "2025-10-01": 1, "2025-10-15": 1, "2025-11-15": 1, "2025-12-15": 1}
    assert {p[1:]: s["visits_required"] for p, s in state.items()} == expected


def test_pro_rating_rounds_down(tmp_path, monkeypatch):
    """With six visits a year the share is fractional: 6 × 3/4 = 4.5 → 4 and 6 × 1/4 = 1.5 → 1 (floor — a part
    of a quarter's share is not owed); whole shares 6 × 4/4 = 6 and 6 × 2/4 = 3. A ceil rule would give 5 and 2."""
    _follow_up(monkeypatch, min_visits=6)
    state = _enrolled_through_the_year(tmp_path)
    by_quarters = {4: 6, 3: 4, 2: 3, 1: 1}
    # quarters managed through, by month of enrolment (a quarter's last day counts for that quarter)
    quarters = {"01": 4, "02": 4, "03": 4, "04": 3, "05": 3, "06": 3, "07": 2, "08": 2, "09": 2, "10": 1, "11": 1,
                "12": 1}
    expected = {d: by_quarters[quarters[d[5:7]]] for d in _ENROLMENT_DAYS}
    assert {p[1:]: s["visits_required"] for p, s in state.items()} == expected


def test_lost_to_follow_up_is_not_controlled_and_people_closed_later_still_count(tmp_path):
    """失访 (hypertension.LOST_TO_FOLLOW_UP: no follow-up in the last 3 months of management in the period).
    All controlled at their last measurement (130/80):
    - L1: last visit 30 Sept; 30 Sept + 3 months = 30 Dec < 31 Dec → lost → not controlled.
    - L2: last visit 1 Oct; + 3 months = 1 Jan 2026 ≥ 31 Dec → controlled.
    - L3: measured 1 Sept, then a phone call without BP on 20 Nov → followed up → controlled.
    - L4: died 15 Oct 2025, last visit 1 Aug (+ 3 months = 1 Nov ≥ 15 Oct, the end of their management)
      → served in 2025 and closed later: managed and controlled.
    - L5: moved out 1 Feb 2026, last visit 10 Dec 2025 → counts for 2025.
    So 2025: managed 5, controlled 4 (L2–L5). At 30 Sept (2025Q3): L1's visit is that day → controlled; L3
    (1 Sept) and L4 (1 Aug) controlled; L2 and L5 have no visit by then → 3 of 5."""
    from gongwei.engine import gaps
    from tests.engine_fixtures_chronic2 import EAST, chronic_region

    people = [("L1", "1950-01-01", _ENROLLED_2024, "active", ""), ("L2", "1950-01-01", _ENROLLED_2024, "active", ""),
              ("L3", "1950-01-01", _ENROLLED_2024, "active", ""), ("L4", "1950-01-01", _ENROLLED_2024, "dead", "2025-10-15"),
              ("L5", "1950-01-01", _ENROLLED_2024, "moved_out", "2026-02-01")]
    visits = [("V1", "L1", "2025-09-30", "1", 130, 80, ""), ("V2", "L2", "2025-10-01", "1", 130, 80, ""),
              ("V3", "L3", "2025-09-01", "1", 130, 80, ""), ("V3b", "L3", "2025-11-20", "3", "", "", ""),
              ("V4", "L4", "2025-08-01", "1", 130, 80, ""), ("V5", "L5", "2025-12-10", "1", 130, 80, "")]
    eng = chronic_region(tmp_path, people, visits)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025"), ["H3"]))
    assert got[("H3", EAST)] == (4, 5)
    page = gaps.people(eng, "H3", EAST, parse("2025"))
    assert [(p.record_no, p.reasons) for p in page.people] == [
        ("L1", [("HTN-LOST", "末次随访 2025-09-30 后超过 3 个月未随访，按失访计为未控制")])]
    assert by_code(eng, catalogue.evaluate(eng, parse("2025Q3"), ["H3"]))[("H3", EAST)] == (3, 5)


def test_cohort_starts_at_35(tmp_path):
    """"辖区内35岁及以上常住居民中原发性高血压患者" [htn-local-guide]: Y35 (born 31 Dec 1990) is 35 on 31 Dec 2025 → managed
    in 2025 but not at 30 June (34); Y34 (born 1 Jan 1991) is 34 all 2025 → never managed in 2025."""
    from tests.engine_fixtures_chronic2 import chronic_region

    people = [("Y35", "1990-12-31", _ENROLLED_2024, "active", ""), ("Y34", "1991-01-01", _ENROLLED_2024, "active", "")]
    eng = chronic_region(tmp_path, people, [])
    assert set(_state(eng, "2025")) == {"Y35"}
    assert set(_state(eng, "2025Q2")) == set()


def test_follow_up_rate_at_least_two_visits(tmp_path):
    """H6 随访率（至少2次随访） ([pingliang-2020q2]: 至第二季度…为94.06％): ≥ 2 follow-up days of any mode by 30 June.
    F1: two records on 5 Jan (one day) → no; F2: clinic 5 Jan + phone 3 Mar → yes; F3: clinic 5 Jan, 1 Jul
    → only one by 30 June → no at Q2, yes for the year. Q2: 1 of 3; year: 2 of 3."""
    from tests.engine_fixtures_chronic2 import EAST, chronic_region

    people = [(p, "1950-01-01", _ENROLLED_2024, "active", "") for p in ("F1", "F2", "F3")]
    visits = [("W1", "F1", "2025-01-05", "1", 130, 80, ""), ("W2", "F1", "2025-01-05", "1", 132, 80, ""),
              ("W3", "F2", "2025-01-05", "1", 130, 80, ""), ("W4", "F2", "2025-03-03", "3", "", "", ""),
              ("W5", "F3", "2025-01-05", "1", 130, 80, ""), ("W6", "F3", "2025-07-01", "1", 130, 80, "")]
    eng = chronic_region(tmp_path, people, visits)
    assert by_code(eng, catalogue.evaluate(eng, parse("2025Q2"), ["H6"]))[("H6", EAST)] == (1, 3)
    assert by_code(eng, catalogue.evaluate(eng, parse("2025"), ["H6"]))[("H6", EAST)] == (2, 3)
    from gongwei.engine import gaps

    page = gaps.people(eng, "H6", EAST, parse("2025Q2"))
    assert [(p.record_no, p.reasons) for p in page.people] == [
        ("F1", [("HTN-FU2", "本期随访 1 次，少于 2 次")]), ("F3", [("HTN-FU2", "本期随访 1 次，少于 2 次")])]


@pytest.mark.sqlite_only  # the Spark backend on a snapshot: once, not per database (docs/testing.md)
def test_duckdb_and_pyspark_agree_on_counted_visits_and_lost_to_follow_up(tmp_path, monkeypatch):
    """The window (minimum interval), the quarter cap and the month arithmetic of 失访 give the same per-person
    state on both backends."""
    from gongwei.engine.backends import Engine
    from tests.engine_fixtures_chronic2 import chronic_region

    _follow_up(monkeypatch, min_interval_days=30)
    people = [*_PADDING_PEOPLE, ("L1", "1950-01-01", _ENROLLED_2024, "active", ""),
              ("L4", "1960-06-30", _ENROLLED_2024, "dead", "2025-10-15")]
    visits = [*_PADDING, ("V1", "L1", "2025-09-30", "1", 130, 80, ""), ("V4", "L4", "2025-08-01", "1", 145, 80, "")]
    duck = chronic_region(tmp_path, people, visits, _PADDING_EXAMS)
    spark = Engine(duck.snapshot, "pyspark")
    keep = ["visits_done", "visits_recorded", "visits_required", "standardized", "controlled", "followed_twice",
            "gap_lost_to_follow_up"]
    for period in ("2025", "2025Q3", "2025-11-30"):
        a, b = _state(duck, period), _state(spark, period)
        assert {p: [s[k] for k in keep] for p, s in a.items()} == {p: [s[k] for k in keep] for p, s in b.items()}
    assert _state(duck, "2025")["L1"]["gap_lost_to_follow_up"] is True
