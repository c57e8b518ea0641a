"""Unit-level programs (health education, reporting, supervision) on tests/engine_fixtures_population.py, and
two checks over every program of that region: roll-up and DuckDB ⇔ PySpark.

Institutions: 蒲亭镇卫生院 and 林泉乡卫生院 (centres), 城东村、城西村、林泉村卫生室 (stations).
"""

from __future__ import annotations

import datetime as dt

import pytest

from gongwei.engine import catalogue, registry, worklist
from gongwei.engine.backends import Engine
from gongwei.engine.orgs import OrgTree
from gongwei.spec.periods import parse
from gongwei.spec.programs import reporting, supervision
from tests.engine_fixtures_population import (
    COUNTY,
    MY_CODES,
    MY_PROGRAMS,
    T_LINQUAN,
    T_PUTING,
    V_EAST,
    V_WEST,
    engine,
)
from tests.engine_results import by_code

pytestmark = pytest.mark.django_db


def state_rows(eng, program, period, unit_code=COUNTY):
    tree = OrgTree.load(eng.snapshot)
    state = registry.state(eng, program, parse(period), units=tree.subtree(tree.by_code(unit_code)))
    rows = eng.to_arrow(state).to_pylist()
    for r in rows:
        r["unit_code"] = tree.code[r["managing_unit_id"]]
    return rows


def reasons(spec, flag, row):
    return [(spec.GAP_REASONS[k].code, spec.GAP_REASONS[k].render(row))
            for k in spec.FLAG_REASONS[flag] if row.get(f"gap_{k}")]


def test_health_education_2025(tmp_path):
    """Yearly minimums — centres: printed 12, AV 6, board updates 6, lectures 12, consultations 9; stations:
    printed 12, board 6, lectures 6. 城东 meets all its three; 城西 has 5 board updates; 蒲亭 has 11 lectures;
    林泉乡卫生院 and 林泉村 nothing in 2025 (one lecture in Dec 2024).
    HE1 printed: 城东, 城西, 蒲亭 of 5 → 3/5; 蒲亭 township 3/3. HE2 AV (centres): 蒲亭 → 1/2.
    HE3 board: 城东, 蒲亭 → 2/5. HE4 lectures: 城东, 城西 → 2/5. HE5 consultations (centres): 蒲亭 → 1/2."""
    eng = engine(tmp_path)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025"), ["HE1", "HE2", "HE3", "HE4", "HE5"]))
    assert got[("HE1", COUNTY)] == (3, 5)
    assert got[("HE1", T_PUTING)] == (3, 3)
    assert got[("HE1", T_LINQUAN)] == (0, 2)
    assert got[("HE2", COUNTY)] == (1, 2)
    assert got[("HE2", V_EAST)] == (0, 0)
    assert got[("HE3", COUNTY)] == (2, 5)
    assert got[("HE3", V_WEST)] == (0, 1)
    assert got[("HE4", COUNTY)] == (2, 5)
    assert got[("HE5", COUNTY)] == (1, 2)


def test_health_education_pro_rated_to_june(tmp_path):
    """至第二季度 the minimums are halved (6 of 12 months): centres printed 6, AV 3, board 3, lectures 6,
    consultations 9×6÷12 = 4; stations printed 6, board 3, lectures 3. Activities fall on the 10th of months
    1, 2, 3 …: 城西's 5 board updates (Jan–May) now suffice and 蒲亭 has 6 lectures by June → HE3 3/5,
    HE4 3/5; the 林泉 units still have nothing."""
    eng = engine(tmp_path)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025Q2"), ["HE1", "HE3", "HE4", "HE5"]))
    assert got[("HE1", COUNTY)] == (3, 5)
    assert got[("HE3", COUNTY)] == (3, 5)
    assert got[("HE4", COUNTY)] == (3, 5)
    assert got[("HE5", COUNTY)] == (1, 2)


def test_health_education_reasons(tmp_path):
    from gongwei.spec.programs import education

    eng = engine(tmp_path)
    rows = {r["unit_code"]: r for r in state_rows(eng, "education", "2025")}
    assert reasons(education, "lecture_met", rows[T_PUTING]) == [("HE-LECTURE", "健康知识讲座 11 次，少于应达到的 12 次")]
    assert reasons(education, "board_met", rows[V_WEST]) == [("HE-BOARD", "更新宣传栏 5 次，少于应达到的 6 次")]
    assert reasons(education, "printed_met", rows[T_LINQUAN]) == [("HE-PRINTED", "发放印刷资料 0 种，少于应达到的 12 种")]
    assert reasons(education, "audio_visual_met", rows[V_EAST]) == []  # stations have no AV minimum


def test_reporting_2025(tmp_path):
    """Cards diagnosed in 2025 (local time): K1 B 蒲亭 reported after 10 h (on time); K2 A 蒲亭 after 3 h (late,
    limit 2 h); K3 C 蒲亭 not reported; K4 B-as-A 林泉 diagnosed 31 Dec 23:00, not reported, deadline 1 Jan
    01:00 not yet passed; K5 B 林泉 diagnosed 1 Jan 07:00 (still 31 Dec in UTC) reported after 2 h; K6 (31 Dec
    2024 22:00) belongs to 2024.
    ID1 reported / registered: 蒲亭 2/3, 林泉 1/2, county 3/5. ID2 on time / reported: 蒲亭 1/2, 林泉 1/1,
    county 2/3."""
    eng = engine(tmp_path)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025"), ["ID1", "ID2"]))
    assert got[("ID1", T_PUTING)] == (2, 3)
    assert got[("ID1", T_LINQUAN)] == (1, 2)
    assert got[("ID1", COUNTY)] == (3, 5)
    assert got[("ID2", T_PUTING)] == (1, 2)
    assert got[("ID2", T_LINQUAN)] == (1, 1)
    assert got[("ID2", COUNTY)] == (2, 3)
    rows = state_rows(eng, "reporting", "2025")
    by_class = {(r["unit_code"], r["disease_class"]): r for r in rows}
    assert reasons(reporting, "on_time", by_class[(T_PUTING, "A")]) == \
        [("ID-LATE", "报告超时：诊断后 3 小时报告，时限 2 小时")]
    assert reasons(reporting, "reported", by_class[(T_PUTING, "C")]) == \
        [("ID-MISSING", "未网络直报，已超过 24 小时报告时限")]
    assert reasons(reporting, "reported", by_class[(T_LINQUAN, "B_as_A")]) == \
        [("ID-PENDING", "尚未网络直报（2 小时时限未到）")]


def test_report_worklist_agrees_with_gap(tmp_path):
    """K3 (patient B3, diagnosed 10 May 09:00, class C) is due on 11 May: due soon on 10 May, overdue from
    11 May — exactly when the card's "未网络直报" gap is set for the as-of period. K4 (patient C2) is due on
    1 Jan 2026: never overdue in 2025."""
    eng = engine(tmp_path)
    for as_of in (dt.date(2025, 5, 10), dt.date(2025, 5, 11), dt.date(2025, 12, 31)):
        work = worklist.items(eng, COUNTY, as_of, programs=["reporting"], include_upcoming=True).to_pylist()
        overdue = {w["record_no"] for w in work if w["status"] == "overdue" and w["gap"] == "not_reported"}
        tree = OrgTree.load(eng.snapshot)
        state = eng.to_arrow(registry.state(eng, "reporting", parse(as_of.isoformat()),
                                            units=tree.subtree(tree.by_code(COUNTY)))).to_pylist()
        residents = {r["id"]: r["record_no"] for r in eng.to_arrow(eng.table("residents")).to_pylist()}
        flagged = {residents[r["resident_id"]] for r in state if r["gap_not_reported"] and r["resident_id"]}
        assert overdue == flagged, as_of
    may10 = worklist.items(eng, T_PUTING, dt.date(2025, 5, 10), programs=["reporting"]).to_pylist()
    assert [(w["record_no"], w["due_date"], w["status"], w["unit_code"]) for w in may10] == \
        [("B3", dt.date(2025, 5, 11), "due_soon", T_PUTING)]
    dec31 = worklist.items(eng, COUNTY, dt.date(2025, 12, 31), programs=["reporting"], include_upcoming=True)
    assert sorted((w["record_no"], w["status"]) for w in dec31.to_pylist()) == [("B3", "overdue"), ("C2", "due_soon")]


def test_supervision_2025_and_second_quarter(tmp_path):
    """SV1: clues found on 蒲亭's food patrol (reported) and water patrol (not reported) → 蒲亭 1/2, county 1/2.
    SV2 (2 patrols per area a year): 蒲亭 patrolled food, water, illegal practice, family planning twice and
    school once → 4/5; 林泉 food twice → 1/5; county 5/10. 至第二季度 one patrol is required: 蒲亭's March
    round covers all five, 林泉's February food patrol one → 6/10."""
    eng = engine(tmp_path)
    got = by_code(eng, catalogue.evaluate(eng, parse("2025"), ["SV1", "SV2"]))
    assert got[("SV1", T_PUTING)] == (1, 2)
    assert got[("SV1", COUNTY)] == (1, 2)
    assert got[("SV2", T_PUTING)] == (4, 5)
    assert got[("SV2", T_LINQUAN)] == (1, 5)
    assert got[("SV2", COUNTY)] == (5, 10)
    q2 = by_code(eng, catalogue.evaluate(eng, parse("2025Q2"), ["SV2"]))
    assert q2[("SV2", COUNTY)] == (6, 10)
    rows = state_rows(eng, "supervision", "2025")
    school = next(r for r in rows if r["unit_code"] == T_PUTING and r["category"] == "school" and r["patrol_due"])
    assert reasons(supervision, "patrol_met", school) == [("SV-PATROL", "学校卫生本期巡查 1 次，少于 2 次")]
    water = next(r for r in rows if r["clue_found"] and r["category"] == "water")
    assert reasons(supervision, "clue_reported", water) == [("SV-REPORT", "发现事件或线索未报告")]


def test_roll_up_every_program(tmp_path):
    """For every indicator of these programs, a unit's count = its own rows + the sum of its children's
    (institutions hold their own education, report and supervision rows; people sit at villages)."""
    eng = engine(tmp_path)
    tree = OrgTree.load(eng.snapshot)
    period = parse("2025")
    results = catalogue.evaluate(eng, period, list(MY_CODES))
    values = {(r["indicator"], r["org_unit_id"]): r for r in results.to_pylist()}
    from gongwei.spec import catalogue as spec_catalogue

    inds = spec_catalogue.indicators()
    for code in MY_CODES:
        ind = inds[code]
        flags = [ind.numerator_flag] + ([ind.denominator.split(".")[1]] if "." in ind.denominator else [])
        own = {r["managing_unit_id"]: r for r in
               catalogue.flag_counts(eng, ind.program_code, period, sorted(set(flags))).to_pylist()}
        for unit in tree.ids:
            kids = tree.children(unit)
            if not kids:
                continue
            parts = [("numerator", ind.numerator_flag)]
            if "." in ind.denominator:
                parts.append(("denominator", ind.denominator.split(".")[1]))
            for part, flag in parts:
                mine = (own.get(unit) or {}).get(flag) or 0
                assert values[(code, unit)][part] == mine + sum(values[(code, k)][part] for k in kids), (code, unit)
            if "." not in ind.denominator:  # bases entered per village add up
                assert values[(code, unit)]["denominator"] == \
                    sum(values[(code, k)]["denominator"] or 0 for k in kids), (code, unit)


@pytest.mark.sqlite_only  # the Spark backend on a snapshot: once, not per database (docs/testing.md)
def test_duckdb_and_pyspark_agree_on_every_program(tmp_path):
    """One Spark engine for all programs of this region, one period."""
    duck = engine(tmp_path)
    spark = Engine(duck.snapshot, "pyspark")
    period = parse("2025")
    order = [("indicator", "ascending"), ("org_unit_id", "ascending")]
    a = catalogue.evaluate(duck, period, list(MY_CODES)).sort_by(order)
    b = catalogue.evaluate(spark, period, list(MY_CODES)).sort_by(order)
    assert a.to_pylist() == b.to_pylist()
    assert {r["indicator"] for r in a.to_pylist()} == set(MY_CODES)
    assert {registry.evaluators()[p][1].PROGRAM for p in MY_PROGRAMS} == set(MY_PROGRAMS)
