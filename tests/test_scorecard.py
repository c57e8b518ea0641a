"""Data-quality scorecards on a hand-built city, every figure worked out by hand.

The city (九江市) has two counties::

    德安县 ─ 蒲亭镇卫生院 ─ 城东村卫生室   A1 A2* A3* A4       exams 2025: X01(12) X02(15) X03(5) X04(30, void)
           │              └ 城西村卫生室   B1 B2               exams 2025: X05(2) X06(8)
           └ 林泉乡卫生院 ─ 林泉村卫生室   C1 C2* C3 C4*†      exams 2025: X07(18) X08(0)
    永修县 ─ 涂埠镇卫生院 ─ 城南村卫生室   D1 … D5             exams 2025: X09(15) X10(5) X11(6) X12(6)

``*`` no identity number; ``†`` died 2025-06-01 (in the records at the end of 2024, not of 2025). D5's
个人基本信息表 was created on 2025-03-01: D5 is in the records at the end of 2025, not of 2024 (the other
residents have no form, which leaves them in). In brackets: the gap between left and right systolic pressure. 2024 exams: 城东 Y01(20) Y02(12), 林泉 Y03(15),
城南 Y04(2) Y05(2).

Two rules, with the rulebook's evaluators: ID-01 身份证号为空 (residents; counted against residents in the
records at the period end) and F-03 左右臂血压差 >10 mmHg, up to 20 (F-03b takes over above; health
examinations, counted against the period's non-void exams at the serving unit).

2025 — ID-01: 城东 2 of 4, 城西 0 of 2, 林泉 1 of 3 (C4 died), 城南 0 of 5 → 蒲亭 2/6, 林泉乡 1/3,
德安 3/9, 永修 0/5, city 3/14. F-03 (X04 void): 城东 2 of 3, 城西 0 of 2, 林泉 1 of 2, 城南 1 of 4 →
蒲亭 2/5, 林泉乡 1/2, 德安 3/7, 永修 1/4, city 4/11. All rules (residents + exams): 德安 6/16 = 375.0‰,
永修 1/9 = 111.1‰, city 7/25 = 280.0‰; 蒲亭 4/11 = 363.6‰, 林泉乡 2/5 = 400.0‰; 城东 4/7 = 571.4‰,
城西 0/4 = 0‰.

2024 — ID-01: 城东 2 of 4, 林泉 2 of 4 (C4 alive), 城南 0 of 4 (D5 not yet) → 德安 4/10, 永修 0/4,
city 4/14. F-03: 城东 2 of 2, 林泉 1 of 1, 城南 0 of 2 → 德安 3/3, 永修 0/2, city 3/5. All: 德安 7/13,
永修 0/6, city 7/19 = 368.4‰.
"""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from gongwei.engine import quality, scorecard
from gongwei.engine.backends import Engine
from gongwei.engine.orgs import OrgTree
from gongwei.engine.snapshot import Snapshot
from gongwei.records import entry
from gongwei.records.snapshot import take_snapshot
from gongwei.spec.periods import parse
from gongwei.spec.quality import rules
from tests.regions import t

pytestmark = pytest.mark.django_db

CITY, DEAN, YONGXIU = "360400000000", "360426000000", "360425000000"
PUTING, LINQUAN, TUBU = "360426100000", "360426200000", "360425100000"
CHENGDONG, CHENGXI, LINQUAN_V, CHENGNAN = "360426100201", "360426100202", "360426200201", "360425100201"
RULES = ["ID-01", "F-03"]

ORG_UNITS = t(
    code=["360000000000", CITY, DEAN, PUTING, CHENGDONG, CHENGXI, LINQUAN, LINQUAN_V, YONGXIU, TUBU, CHENGNAN],
    name=["江西省", "九江市", "德安县", "蒲亭镇卫生院", "城东村卫生室", "城西村卫生室", "林泉乡卫生院", "林泉村卫生室",
          "永修县", "涂埠镇卫生院", "城南村卫生室"],
    level=["province", "city", "county", "township", "village", "village", "township", "village", "county",
           "township", "village"],
    kind=["health_bureau", "health_bureau", "health_bureau", "township_hc", "village_clinic", "village_clinic",
          "township_hc", "village_clinic", "health_bureau", "township_hc", "village_clinic"],
    parent=["", "360000000000", CITY, DEAN, PUTING, PUTING, DEAN, LINQUAN, CITY, YONGXIU, TUBU],
)

_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(region6: str, birth: str, seq: int) -> str:
    body = f"{region6}{birth.replace('-', '')}{seq:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _W, strict=True)) % 11]


# record_no, village, birth date, sex, has an identity number, status, status date
_PEOPLE = [
    ("A1", CHENGDONG, "1950-01-01", "1", True, "", ""), ("A2", CHENGDONG, "1952-02-02", "2", False, "", ""),
    ("A3", CHENGDONG, "1960-03-03", "1", False, "", ""), ("A4", CHENGDONG, "1970-04-04", "2", True, "", ""),
    ("B1", CHENGXI, "1955-05-05", "1", True, "", ""), ("B2", CHENGXI, "1965-06-06", "2", True, "", ""),
    ("C1", LINQUAN_V, "1948-07-07", "1", True, "", ""), ("C2", LINQUAN_V, "1958-08-08", "2", False, "", ""),
    ("C3", LINQUAN_V, "1968-09-09", "1", True, "", ""),
    ("C4", LINQUAN_V, "1940-10-10", "2", False, "dead", "2025-06-01"),
    ("D1", CHENGNAN, "1951-01-11", "1", True, "", ""), ("D2", CHENGNAN, "1953-03-13", "2", True, "", ""),
    ("D3", CHENGNAN, "1957-05-15", "1", True, "", ""), ("D4", CHENGNAN, "1962-07-17", "2", True, "", ""),
    ("D5", CHENGNAN, "1972-09-19", "1", True, "", ""),
]
RESIDENTS = t(
    record_no=[p[0] for p in _PEOPLE], name=[f"居民{p[0]}" for p in _PEOPLE], sex=[p[3] for p in _PEOPLE],
    birth_date=[p[2] for p in _PEOPLE],
    id_number=[id_number(p[1][:6], p[2], 11 + 2 * i + (p[3] == "2")) if p[4] else "" for i, p in enumerate(_PEOPLE)],
    managing_unit=[p[1] for p in _PEOPLE], residence_type=["1"] * len(_PEOPLE),
    status=[p[5] for p in _PEOPLE], status_date=[p[6] for p in _PEOPLE],
)
# encounter_no, resident, serving unit, date, left SBP, right SBP, void
_EXAMS = [
    ("X01", "A1", CHENGDONG, "2025-03-01", 150, 138, False), ("X02", "A2", CHENGDONG, "2025-04-01", 140, 125, False),
    ("X03", "A3", CHENGDONG, "2025-05-01", 130, 125, False), ("X04", "A4", CHENGDONG, "2025-05-02", 160, 130, True),
    ("X05", "B1", CHENGXI, "2025-03-03", 120, 118, False), ("X06", "B2", CHENGXI, "2025-03-04", 128, 120, False),
    ("X07", "C1", LINQUAN_V, "2025-06-06", 150, 132, False), ("X08", "C3", LINQUAN_V, "2025-06-07", 120, 120, False),
    ("X09", "D1", CHENGNAN, "2025-02-02", 135, 120, False), ("X10", "D2", CHENGNAN, "2025-02-03", 120, 115, False),
    ("X11", "D3", CHENGNAN, "2025-02-04", 118, 112, False), ("X12", "D4", CHENGNAN, "2025-02-05", 126, 120, False),
    ("Y01", "A1", CHENGDONG, "2024-03-01", 150, 130, False), ("Y02", "A2", CHENGDONG, "2024-04-01", 140, 128, False),
    ("Y03", "C4", LINQUAN_V, "2024-05-01", 150, 135, False), ("Y04", "D1", CHENGNAN, "2024-06-01", 120, 118, False),
    ("Y05", "D2", CHENGNAN, "2024-06-02", 122, 120, False),
]
EXAMS = t(
    encounter_no=[e[0] for e in _EXAMS], resident=[e[1] for e in _EXAMS], org_unit=[e[2] for e in _EXAMS],
    service_date=[e[3] for e in _EXAMS], sbp_left=[e[4] for e in _EXAMS], dbp_left=[80] * len(_EXAMS),
    sbp_right=[e[5] for e in _EXAMS], dbp_right=[80] * len(_EXAMS), is_void=[str(e[6]).lower() for e in _EXAMS],
    trigger=["new_record"] * len(_EXAMS),
)


HEALTH_RECORDS = t(resident=["D5"], created_on=["2025-03-01"], created_by_unit=[CHENGNAN])


def submit_region() -> None:
    result = entry.submit({"org_units": ORG_UNITS, "residents": RESIDENTS, "health_records": HEALTH_RECORDS,
                           "health_examinations": EXAMS}, actor="test", kind="test")
    assert not result.issues, result.issues


def build_snapshot(root) -> Snapshot:
    submit_region()
    return Snapshot.open(take_snapshot(root))


@pytest.fixture
def two_rules(monkeypatch):
    """Only the rulebook's own evaluators of RULES are in place, so figures do not move when other rules
    change and "every implemented rule" means these two."""
    real = quality.evaluators()
    chosen = {code: real[code] for code in RULES}
    monkeypatch.setattr(quality, "evaluators", lambda: chosen)
    return chosen


def card_for(eng: Engine, org: str, *, previous: bool = True, top: int = 3, min_examined: int = 1):
    tree = OrgTree.load(eng.snapshot)
    root = tree.by_code(org)
    units = tree.subtree(root)
    period = parse("2025")
    cur = scorecard.tally(eng, period, quality.evaluate(eng, period, RULES, units=units), RULES, units)
    prev = None
    if previous:
        p = scorecard.previous_period(period)
        prev = scorecard.tally(eng, p, quality.evaluate(eng, p, RULES, units=units), RULES, units)
    card = scorecard.build(tree, root, period, cur, previous=prev, previous_period_=parse("2024"), top=top,
                           min_examined=min_examined)
    return card, tree


def fig(card, tree, code: str, kind: str = "all", group: str = scorecard.ALL) -> dict:
    return card.figure(tree.by_code(code), kind, group)


def test_counts_roll_up_with_rates_per_thousand(tmp_path, two_rules):
    card, tree = card_for(Engine(build_snapshot(tmp_path)), CITY, previous=False)
    expect = {  # unit: (ID-01 findings, examined), (F-03 findings, examined)
        CHENGDONG: ((2, 4), (2, 3)), CHENGXI: ((0, 2), (0, 2)), LINQUAN_V: ((1, 3), (1, 2)), CHENGNAN: ((0, 5), (1, 4)),
        PUTING: ((2, 6), (2, 5)), LINQUAN: ((1, 3), (1, 2)), TUBU: ((0, 5), (1, 4)),
        DEAN: ((3, 9), (3, 7)), YONGXIU: ((0, 5), (1, 4)), CITY: ((3, 14), (4, 11)),
    }
    for code, (id01, f03) in expect.items():
        for rule, (n, examined) in (("ID-01", id01), ("F-03", f03)):
            r = fig(card, tree, code, "rule", rule)
            assert (r["findings"], r["examined"]) == (n, examined), (code, rule)
            assert r["rate"] == pytest.approx(n * 1000 / examined)
        total = fig(card, tree, code)
        assert (total["findings"], total["examined"]) == (id01[0] + f03[0], id01[1] + f03[1])
    assert fig(card, tree, DEAN)["rate"] == pytest.approx(375.0)
    assert fig(card, tree, CITY)["rate"] == pytest.approx(280.0)
    # rule groups: ID-01 is a warning of the identity family, F-03 a warning of the fabrication family
    assert fig(card, tree, CITY, "level", "W")["findings"] == 7
    assert (fig(card, tree, CITY, "family", "ID")["findings"], fig(card, tree, CITY, "family", "F")["findings"]) == (3, 4)
    assert fig(card, tree, CITY, "family", "F")["group_name"] == "疑似造假"
    # the invariant, for every unit and group: a parent's counts are its children's sums (people and
    # encounters sit at villages here, so nothing is counted at a parent itself)
    rows = card.figures.to_pylist()
    by_key = {(r["org_unit_id"], r["group_kind"], r["group"]): r for r in rows}
    for r in rows:
        kids = [by_key[(k, r["group_kind"], r["group"])] for k in tree.children(r["org_unit_id"])]
        if kids:
            assert r["findings"] == sum(k["findings"] for k in kids)
            assert r["examined"] == sum(k["examined"] for k in kids)
    assert all(r["change"] is None and r["previous_findings"] is None for r in rows)
    assert card.previous_period is None


def test_change_since_previous_period(tmp_path, two_rules):
    card, tree = card_for(Engine(build_snapshot(tmp_path)), CITY)
    assert card.previous_period.code == "2024"
    r = fig(card, tree, DEAN, "rule", "ID-01")  # 3 of 9 against 4 of 10 (C4 still in the 2024 records)
    assert (r["previous_findings"], r["previous_examined"], r["change"]) == (4, 10, -1)
    assert r["previous_rate"] == pytest.approx(400.0)
    assert r["rate_change"] == pytest.approx(1000 / 3 - 400)
    r = fig(card, tree, DEAN, "rule", "F-03")  # 3 of 7 against 3 of 3
    assert (r["previous_findings"], r["previous_examined"], r["change"]) == (3, 3, 0)
    r = fig(card, tree, YONGXIU, "rule", "F-03")  # 1 of 4 against 0 of 2
    assert (r["previous_findings"], r["change"]) == (0, 1)
    assert (fig(card, tree, DEAN)["change"], fig(card, tree, YONGXIU)["change"], fig(card, tree, CITY)["change"]) == (
        -1, 1, 0)
    assert fig(card, tree, CITY)["previous_examined"] == 19
    r = fig(card, tree, YONGXIU, "rule", "ID-01")  # D5's form was created in 2025
    assert (r["findings"], r["examined"], r["previous_findings"], r["previous_examined"]) == (0, 5, 0, 4)
    assert (scorecard.change_text(-31300), scorecard.change_text(12), scorecard.change_text(0),
            scorecard.change_text(None)) == ("较上期减少 31,300", "较上期增加 12", "与上期持平", "无上期数据")


def test_units_ranked_among_siblings(tmp_path, two_rules):
    card, tree = card_for(Engine(build_snapshot(tmp_path)), CITY, previous=False)

    def rank(code: str, kind: str = "all", group: str = scorecard.ALL) -> tuple:
        r = fig(card, tree, code, kind, group)
        return r["rank"], r["siblings"]

    assert rank(YONGXIU) == (1, 2) and rank(DEAN) == (2, 2)  # 111.1‰ before 375.0‰
    assert rank(PUTING) == (1, 2) and rank(LINQUAN) == (2, 2)  # 363.6‰ before 400.0‰
    assert rank(CHENGXI) == (1, 2) and rank(CHENGDONG) == (2, 2)  # 0‰ before 571.4‰
    assert rank(TUBU) == (1, 1) and rank(LINQUAN_V) == (1, 1)  # only children
    assert rank(CITY) == (None, None)  # its siblings are outside the scorecard
    # per rule: ID-01 蒲亭 333.3‰ and 林泉乡 333.3‰ tie
    assert rank(PUTING, "rule", "ID-01") == (1, 2) and rank(LINQUAN, "rule", "ID-01") == (1, 2)
    assert rank(YONGXIU, "rule", "ID-01") == (1, 2) and rank(DEAN, "rule", "ID-01") == (2, 2)


def test_worst_clusters_named(tmp_path, two_rules):
    eng = Engine(build_snapshot(tmp_path))
    card, tree = card_for(eng, CITY, previous=False, top=2)
    root = tree.by_code(CITY)

    def names(rule: str, level: str, by: str) -> list[tuple[str, int]]:
        rows = [c for c in card.clusters.to_pylist() if (c["rule"], c["level"], c["by"]) == (rule, level, by)]
        return [(scorecard.place_label(tree, root, c["org_unit_id"]),
                 c["findings"] if by == "count" else round(c["rate"], 1)) for c in rows]

    assert names("ID-01", "township", "count") == [("德安县蒲亭镇", 2), ("德安县林泉乡", 1)]
    assert names("ID-01", "village", "count") == [("德安县蒲亭镇城东村", 2), ("德安县林泉乡林泉村", 1)]
    assert names("ID-01", "village", "rate") == [("德安县蒲亭镇城东村", 500.0), ("德安县林泉乡林泉村", 333.3)]
    # F-03 townships: 蒲亭 2; 林泉乡 1 and 涂埠 1 tie on count, 林泉乡's rate (500‰) is higher than 涂埠's (250‰)
    assert names("F-03", "township", "count") == [("德安县蒲亭镇", 2), ("德安县林泉乡", 1)]
    assert names("F-03", "township", "rate") == [("德安县林泉乡", 500.0), ("德安县蒲亭镇", 400.0)]
    assert names("F-03", "village", "rate") == [("德安县蒲亭镇城东村", 666.7), ("德安县林泉乡林泉村", 500.0)]
    # a unit competes on rate only with enough records examined: at 4, 林泉村 (2 exams) drops out
    card4, _ = card_for(eng, CITY, previous=False, min_examined=4)
    village_rate = [c["code"] for c in card4.clusters.to_pylist() if (c["rule"], c["level"], c["by"]) == (
        "F-03", "village", "rate")]
    assert village_rate == [CHENGNAN]  # 城东 has 3 exams, 林泉 2; 城南 4 (250‰)


def test_scope_is_the_org_subtree(tmp_path, two_rules):
    eng = Engine(build_snapshot(tmp_path))
    card, tree = card_for(eng, DEAN)
    assert {r["code"] for r in card.figures.to_pylist()} == {DEAN, PUTING, CHENGDONG, CHENGXI, LINQUAN, LINQUAN_V}
    assert (fig(card, tree, DEAN)["findings"], fig(card, tree, DEAN)["rank"]) == (6, None)
    root = tree.by_code(DEAN)
    labels = {scorecard.place_label(tree, root, c["org_unit_id"]) for c in card.clusters.to_pylist()}
    assert labels == {"蒲亭镇", "林泉乡", "蒲亭镇城东村", "林泉乡林泉村"}
    # findings of units outside the subtree are not counted even when handed in
    period = parse("2025")
    everything = quality.evaluate(eng, period, RULES)
    cur = scorecard.tally(eng, period, everything, RULES, tree.subtree(root))
    again = scorecard.build(tree, root, period, cur)
    assert again.figure(root, "all")["findings"] == 6
    assert again.rules == tuple(RULES)  # read from the tally
    # 永修县 has one township and one village: naming them tells nobody where problems cluster
    yongxiu, _ = card_for(eng, YONGXIU, previous=False)
    assert yongxiu.figure(tree.by_code(YONGXIU), "all")["findings"] == 1 and yongxiu.clusters.num_rows == 0


def test_previous_period_of_the_same_kind():
    prev = scorecard.previous_period
    assert [prev(parse(c)).code for c in ("2025", "2025Q3", "2025Q1", "2025MCY", "2025-06-30")] == [
        "2024", "2025Q2", "2024Q4", "2024MCY", "2024-06-30"]


def test_tally_is_stored_per_snapshot_and_period(tmp_path, two_rules):
    eng = Engine(build_snapshot(tmp_path / "snapshots"))
    period = parse("2025")
    cur = scorecard.tally(eng, period, quality.evaluate(eng, period, RULES), RULES)
    path = scorecard.store(cur, tmp_path / "results", eng.snapshot.id, period)
    assert path.parent == tmp_path / "results" / eng.snapshot.id / "2025" and path.name.startswith("qc-spec-")
    back = pq.read_table(path)
    assert scorecard.tally_rules(back) == RULES
    assert scorecard.examined_by_source(back) == {"residents": 14, "health_examinations": 11}


def test_place_names():
    assert [scorecard.place_name(n) for n in ("蒲亭镇卫生院", "城东村卫生室", "东风街道社区卫生服务中心", "新华社区卫生服务站",
                                              "崆峒区卫生健康局", "九江市")] == [
        "蒲亭镇", "城东村", "东风街道", "新华社区", "崆峒区", "九江市"]


def test_rule_catalogue_in_docs_is_current():
    text = scorecard.DOC.read_text(encoding="utf-8")
    assert scorecard.render_doc(text) == text, "docs/quality.md is out of date: run `python -m gongwei.engine.scorecard`"
    for code in rules():
        assert f"| {code} |" in text, code



@pytest.mark.sqlite_only  # the Spark backend on a snapshot: once, not per database (docs/testing.md)
def test_tally_is_the_same_on_pyspark(tmp_path, two_rules):
    snap = build_snapshot(tmp_path)
    period = parse("2025")

    def rows(backend: str) -> list[dict]:
        eng = Engine(snap, backend)
        got = scorecard.tally(eng, period, quality.evaluate(eng, period, RULES), RULES)
        return sorted(got.to_pylist(), key=lambda r: (r["kind"], r["key"], r["org_unit_id"]))

    assert rows("pyspark") == rows("duckdb")
