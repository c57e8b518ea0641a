"""Evaluation schemes (spec.evaluation), the scoring methods worked by hand (engine.evaluation) and score → funds
(spec.funds)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gongwei.engine import evaluation as ev
from gongwei.spec import evaluation as se
from gongwei.spec import funds
from gongwei.spec.evaluation import Item, Method, Scheme
from gongwei.spec.rules import Source

SRC = Source("test [U]", "U")
NAN = math.nan


def leaf(method, points=10.0, **kw) -> Item:
    return Item("X1", "测试项", points, method=method, **kw)


# --- the methods, by hand ------------------------------------------------------------------------------------------
def test_proportional_to_target():
    item = leaf(Method.PROPORTIONAL_TO_TARGET, indicator="H2")
    # 30/50 = 0.6 of a 0.8 target → 0.75 × 10 = 7.5; 40/50 = 0.8 = target → 10; 45/50 above → capped at 10
    points, status = ev.rate_leaf(item, [30, 40, 45], [50, 50, 50], [0.8, 0.8, 0.8])
    assert points.tolist() == [7.5, 10.0, 10.0]
    assert status.tolist() == [ev.SCORED] * 3
    # 0/50 → 0 points, scored (a unit that did nothing loses the points)
    assert ev.rate_leaf(item, [0], [50], [0.8])[0].tolist() == [0.0]
    # 2/3 of a 0.9 target: 10 × 0.6667 / 0.9 = 7.4074
    assert ev.rate_leaf(item, [2], [3], [0.9])[0].tolist() == [7.4074]


def test_rate_equal_to_target_meets_it_even_with_float_noise():
    item = leaf(Method.FULL_AT_TARGET, indicator="H2")
    # 7/10 = 0.7 exactly as a target of 0.7 (0.7 is not exact in binary: the tolerance keeps it a pass)
    points, _ = ev.rate_leaf(item, [7, 69, 71], [10, 100, 100], [0.7, 0.7, 0.7])
    assert points.tolist() == [10.0, 0.0, 10.0]


def test_denominator_zero_and_missing_target_are_not_applicable():
    item = leaf(Method.PROPORTIONAL_TO_TARGET, indicator="H2")
    points, status = ev.rate_leaf(item, [0, 5, 5], [0, NAN, 10], [0.8, 0.8, NAN])
    assert points.tolist() == [0.0, 0.0, 0.0]
    assert status.tolist() == [ev.NO_DENOMINATOR, ev.NO_DENOMINATOR, ev.NO_TARGET]


def test_at_or_below_limit():
    item = leaf(Method.AT_OR_BELOW_LIMIT, indicator="R5", limit=0.02)
    # 1% ≤ 2% → 10; 2% = limit → 10; 4% → 10 × 0.02 / 0.04 = 5; 0 → 10
    points, _ = ev.rate_leaf(item, [1, 2, 4, 0], [100, 100, 100, 100], [NAN] * 4)
    assert points.tolist() == [10.0, 10.0, 5.0, 10.0]
    # a limit of 0 (any duplicate costs the item): 0 → full, anything → 0
    zero = leaf(Method.AT_OR_BELOW_LIMIT, indicator="R5", limit=0.0)
    assert ev.rate_leaf(zero, [0, 1], [100, 100], [NAN, NAN])[0].tolist() == [10.0, 0.0]


def test_yes_no():
    points, status = ev.yes_no_leaf(leaf(Method.YES_NO), [1, 0, NAN])
    assert points.tolist() == [10.0, 0.0, 0.0]
    assert status.tolist() == [ev.SCORED, ev.SCORED, ev.PENDING]


def test_deduct_per_finding_with_floor():
    item = leaf(Method.DEDUCT_PER_FINDING, per_finding=1.5, floor=2, rules=("C-06",))
    # 0 → 10; 2 → 7; 5 → 2.5; 6 → 1 but the floor is 2; 100 → 2
    points, status = ev.deduct_leaf(item, [0, 2, 5, 6, 100])
    assert points.tolist() == [10.0, 7.0, 2.5, 2.0, 2.0]
    assert ev.deduct_leaf(leaf(Method.DEDUCT_PER_FINDING, per_finding=1), [NAN])[1].tolist() == [ev.PENDING]


def test_manual():
    points, status = ev.manual_leaf(leaf(Method.MANUAL), [7.5, NAN])
    assert points.tolist() == [7.5, 0.0]
    assert status.tolist() == [ev.SCORED, ev.PENDING]


def test_total_rescales_over_applicable_items_and_rank_shares_ties():
    points = np.array([[8.0, 10.0], [5.0, 0.0], [4.0, 0.0]])
    maxima = np.array([[10.0, 10.0]] * 3)
    applicable = np.array([[1, 1], [1, 0], [1, 1]], dtype=float)
    # 18/20 → 90; 5/10 → 50 (second item not applicable); 4/20 → 20
    assert ev.total(points, maxima, applicable, 100).tolist() == [90.0, 50.0, 20.0]
    assert ev.competition_rank(np.array([90.0, 85.0, 90.0, 70.0])).tolist() == [1, 3, 1, 4]


# --- validation ------------------------------------------------------------------------------------------------------
def scheme(*items, points=10.0) -> Scheme:
    return Scheme("t", "测试方案", 2025, points, items, SRC)


def test_shipped_schemes_are_valid():
    assert set(se.schemes()) == {"subdistrict-2017", "district-2023"}
    for s in se.SCHEMES:
        assert se.problems(s) == []
        assert all(i.source is not None for i in s.walk())


def test_points_that_do_not_add_up_are_refused_naming_the_item():
    bad = scheme(Item("A", "组织管理", 10, children=(
        Item("A1", "培训", 4, method=Method.MANUAL), Item("A2", "督导", 5, method=Method.MANUAL))))
    with pytest.raises(se.SchemeError, match=r"项目 A（组织管理）：下级项目分值合计 9 分，与本项 10 分不符"):
        se.validate(bad)
    top = scheme(Item("A", "组织管理", 8, method=Method.MANUAL))
    assert se.problems(top) == ["方案 t 的一级项目分值合计 8 分，与方案总分 10 分不符"]


def test_unknown_indicator_and_rule_and_missing_parameters_are_refused():
    found = se.problems(scheme(Item("A", "项目", 10, children=(
        Item("A1", "率", 2, method=Method.PROPORTIONAL_TO_TARGET, indicator="H99"),
        Item("A2", "限值", 2, method=Method.AT_OR_BELOW_LIMIT, indicator="R5"),
        Item("A3", "扣分", 2, method=Method.DEDUCT_PER_FINDING, rules=("ZZ-1",)),
        Item("A4", "无指标", 2, method=Method.FULL_AT_TARGET),
        Item("A5", "无方法", 2)))))
    assert "项目 A1（率）：指标代码 H99 不存在" in found
    assert "项目 A2（限值）：不超过限值得满分须指定限值 limit" in found
    assert "项目 A3（扣分）：质控规则代码 ZZ-1 不存在" in found
    assert "项目 A3（扣分）：按问题扣分须指定每个问题扣分 per_finding（大于 0）" in found
    assert "项目 A4（无指标）：达到目标值得满分须指定指标代码" in found
    assert "项目 A5（无方法）：末级项目必须指定评分方法" in found


def test_manual_range_outside_the_points_is_refused():
    found = se.problems(scheme(Item("A", "人工", 10, method=Method.MANUAL, manual_min=0, manual_max=12)))
    assert found == ["项目 A（人工）：人工评分范围 0–12 应在 0 与本项分值 10 之间"]


# --- score → funds -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("score", "ratio"), [(100, 1.0), (90, 1.0), (89.9, 0.899), (60, 0.6), (59.9, 0.0), (0, 0.0)])
def test_funds_ratio_at_the_edges(score, ratio):
    assert funds.funds_ratio(score)[0] == pytest.approx(ratio)


def test_allocation_notes_and_amounts():
    a = funds.allocate(89.9, 1_000_000)
    assert (a.ratio, a.paid, a.withheld) == (0.899, 899_000.0, 101_000.0)
    assert "按比例" in a.note
    low = funds.allocate(59.9, 1_000_000)
    assert (low.paid, low.withheld) == (0.0, 1_000_000.0)
    assert "区、镇财政按标准配套全额补齐" in low.note
    assert funds.allocate(90, 1_000_000).paid == 1_000_000.0


def test_fraud_veto_deducts_the_years_funds_whatever_the_score():
    a = funds.allocate(98.5, 1_000_000, veto=True)
    assert (a.ratio, a.paid, a.withheld, a.vetoed) == (0.0, 0.0, 1_000_000.0, True)
    assert "一票否决" in a.note


def test_proportional_base_is_a_parameter():
    rule = funds.AllocationRule(90, 60, 90, funds.ALLOCATION.source, funds.ALLOCATION.base_source)
    assert funds.funds_ratio(81, rule=rule)[0] == pytest.approx(0.9)


def test_standard_and_its_split():
    st = funds.standard(2023)
    assert st.total == 89 and dict(st.parts) == {funds.ORIGINAL_12: 80, funds.MERGED: 9}
    assert funds.standard(2022).total == 84
    assert funds.standard(2018).total == 50  # no notice entered for 2018: the 2017 figure stays in force
    assert funds.due(10_000, 2023) == 890_000
    assert funds.due(10_000, 2023, part=funds.ORIGINAL_12) == 800_000
    with pytest.raises(ValueError, match="分项之和"):
        funds.Standard(2030, 100, SRC, parts=(("a", 50), ("b", 40)))


def test_shares_by_level():
    sx = funds.shares("140400000000")  # Shanxi: tier 2, 60 % central; the local split inferred from Shangdang
    assert sx["central"] == 0.6
    assert sx["province"] == pytest.approx(0.2) and sx["city"] == pytest.approx(0.05)
    assert sum(sx.values()) == pytest.approx(1)
    assert funds.central_share("210200000000") == 0.3  # Dalian, a separately planned city, is tier 4
    assert funds.central_share("210100000000") == 0.5  # the rest of Liaoning is tier 3
    assert funds.shares("990000000000") is None


def test_deduct_per_thousand_records_examined():
    item = leaf(Method.DEDUCT_PER_FINDING, per_finding=0.1, per_thousand=True, rules=("C-06",))
    # 30 findings in 2,000 records = 15 per thousand → 10 − 1.5 = 8.5; 425 in 15,000 = 28.33‰ → 7.1667;
    # nothing examined → not applicable
    points, status = ev.deduct_leaf(item, [30, 425, 0], [2000, 15000, 0])
    assert points.tolist() == [8.5, 7.1667, 0.0]
    assert status.tolist() == [ev.SCORED, ev.SCORED, ev.NO_DENOMINATOR]
    manual = Item("X", "人工", 10, method=Method.DEDUCT_PER_FINDING, per_finding=1, per_thousand=True)
    assert "项目 X（人工）：按每千条记录扣分须指定质控规则" in se.problems(scheme(manual))
