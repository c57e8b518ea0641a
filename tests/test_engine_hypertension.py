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
HTN = ["H1", "H2", "H3", "H4"]


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
