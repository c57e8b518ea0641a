"""One roll-up (gongwei.engine.orgs.roll_up) under the indicator catalogue, the QC scorecard and the population
bases: on one snapshot, the catalogue and the scorecard agree that a unit's total is the sum of its children's
(people and encounters sit at villages in the scorecard's hand-built city), and both go through the same function.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gongwei.engine import catalogue, orgs, quality, scorecard
from gongwei.engine.backends import Engine
from gongwei.engine.orgs import OrgTree
from gongwei.spec.periods import parse
from tests import test_scorecard as city

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(monkeypatch):
    """Every call of the engine's roll-up, by caller module."""
    seen: list[str] = []
    real = orgs.roll_up

    def spy(*args, **kwargs):
        import inspect

        seen.append(inspect.currentframe().f_back.f_globals["__name__"])
        return real(*args, **kwargs)

    monkeypatch.setattr(orgs, "roll_up", spy)
    return seen


def test_catalogue_and_scorecard_agree_a_unit_is_the_sum_of_its_children(tmp_path, calls, two_rules):
    eng = Engine(city.build_snapshot(tmp_path))
    tree = OrgTree.load(eng.snapshot)
    period = parse("2025")
    # the catalogue: every indicator, every unit
    results = catalogue.evaluate(eng, period).to_pylist()
    indicators = {(r["indicator"], r["org_unit_id"]): r for r in results}
    # the QC scorecard of the whole city
    card, _ = city.card_for(eng, city.CITY, previous=False)
    assert {"gongwei.engine.catalogue", "gongwei.engine.scorecard"} <= set(calls)

    parents = [u for u in tree.subtree(tree.by_code(city.CITY)) if tree.children(u)]
    assert len(parents) == 6  # the city, two counties, three townships
    for unit in parents:
        kids = tree.children(unit)
        # indicators: numerators (people are counted once, at their managing unit) sum over the children
        for code in {r["indicator"] for r in results}:
            assert indicators[(code, unit)]["numerator"] == sum(indicators[(code, k)]["numerator"] for k in kids), \
                (code, tree.code[unit])
        # the scorecard: findings and records examined sum over the children
        for r in card.rows(unit, "rule") + card.rows(unit, "all"):
            below = [card.figure(k, r["group_kind"], r["group"]) for k in kids]
            assert (r["findings"], r["examined"]) == (sum(b["findings"] for b in below),
                                                      sum(b["examined"] for b in below)), (tree.code[unit], r["group"])
    # a figure counted at a parent itself would break the sums above: the city's totals are the villages'
    villages = [u for u in tree.subtree(tree.by_code(city.CITY)) if not tree.children(u)]
    top = tree.by_code(city.CITY)
    assert card.figure(top, "all")["examined"] == sum(card.figure(v, "all")["examined"] for v in villages) == 25
    for code in {r["indicator"] for r in results}:
        assert indicators[(code, top)]["numerator"] == sum(indicators[(code, v)]["numerator"] for v in villages)

def test_roll_up_sums_into_every_ancestor_per_group():
    # 1 ─ 2 ─ 4        values at 4 and 5 (and one at 2 itself), two groups
    #   └ 3 ─ 5
    tree = OrgTree(ids=[1, 2, 3, 4, 5], parent={1: None, 2: 1, 3: 1, 4: 2, 5: 3},
                   code=dict.fromkeys([1, 2, 3, 4, 5], ""), name=dict.fromkeys([1, 2, 3, 4, 5], ""),
                   level=dict.fromkeys([1, 2, 3, 4, 5], ""),
                   path={1: "/1/", 2: "/1/2/", 3: "/1/3/", 4: "/1/2/4/", 5: "/1/3/5/"})
    per_unit = pa.table({"org_unit_id": [4, 5, 2, 4], "g": ["a", "a", "a", "b"], "n": [3, 4, 1, 7]})
    up = orgs.roll_up(per_unit, tree.ancestor_pairs(), ["n"], by=["g"])
    got = {(r["org_unit_id"], r["g"]): r["n"] for r in up.to_pylist()}
    assert got == {(1, "a"): 8, (2, "a"): 4, (3, "a"): 4, (4, "a"): 3, (5, "a"): 4,
                   (1, "b"): 7, (2, "b"): 7, (4, "b"): 7}
    within = orgs.roll_up(per_unit, tree.ancestor_pairs(within=2), ["n"], by=["g"])
    assert {(r["org_unit_id"], r["g"]): r["n"] for r in within.to_pylist()} == {
        (2, "a"): 4, (4, "a"): 3, (2, "b"): 7, (4, "b"): 7}


def test_population_bases_roll_up_with_a_units_own_entry_overriding_its_childrens_sum(tmp_path, calls):
    # villages 城东 10 and 城西 5 roll up to 蒲亭 15 and 德安 15 + 林泉乡's nothing; 永修县 has its own 8
    # which overrides its village's 100; the city gets 15 + 8
    city.submit_region()
    from gongwei.records import entry
    from tests.regions import t

    entry.submit({"population_bases": t(
        org_unit=[city.CHENGDONG, city.CHENGXI, city.YONGXIU, city.CHENGNAN], year=["2025"] * 4,
        group=["task_hypertension"] * 4, value=["10", "5", "8", "100"], source=["assigned"] * 4)}, actor="test", kind="test")
    from gongwei.engine.snapshot import Snapshot
    from gongwei.records.snapshot import take_snapshot

    snap = Snapshot.open(take_snapshot(tmp_path))
    tree = OrgTree.load(snap)
    got = {tree.code[u]: v for u, v in orgs.base_values(snap, tree, 2025, "task_hypertension").items()}
    assert got == {city.CHENGDONG: 10, city.CHENGXI: 5, city.PUTING: 15, city.DEAN: 15, city.YONGXIU: 8,
                   city.CHENGNAN: 100, city.TUBU: 100, city.CITY: 23, "360000000000": 23}
    assert "gongwei.engine.orgs" in calls
    assert pq.read_table(snap.path("population_bases")).num_rows == 4


@pytest.fixture
def two_rules(monkeypatch):
    real = quality.evaluators()
    chosen = {code: real[code] for code in city.RULES}
    monkeypatch.setattr(quality, "evaluators", lambda: chosen)
    return chosen


def test_scorecard_figures_are_unchanged_by_the_shared_roll_up(tmp_path, two_rules):
    """The hand-worked figures of the city (tests/test_scorecard.py), with and without a previous period."""
    card, tree = city.card_for(Engine(city.build_snapshot(tmp_path)), city.CITY)
    assert (city.fig(card, tree, city.CITY)["findings"], city.fig(card, tree, city.CITY)["examined"]) == (7, 25)
    assert city.fig(card, tree, city.CITY)["previous_findings"] == 7
    assert city.fig(card, tree, city.DEAN)["previous_examined"] == 13
    assert scorecard.previous_period(parse("2025")).code == "2024"

