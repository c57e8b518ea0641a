"""Targets, change since the previous period, sibling ranking, lagging units and the year-end forecast.

The hand-built region is 江西省九江市德安县 (codes 36…). The target books below are made up for the test so each
case is visible: a unit is measured against its own region's target for the period's year, the most specific region
first; another province's target never applies, and without one the figure says 无目标.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from gongwei.engine import compare
from gongwei.engine.compare import NO_TARGET, figures, target_text
from gongwei.engine.orgs import OrgTree
from gongwei.spec import catalogue as spec_catalogue
from gongwei.spec.periods import parse
from gongwei.spec.rules import UNIDENTIFIED_REGION, Comparator, Source, Target, TargetBook
from tests.engine_fixtures import build_snapshot

pytestmark = pytest.mark.django_db

SRC = Source("test book", "I")
JIANGXI_2023 = Target("H2", 2023, 0.76, SRC, region="36")
JIANGXI_2026 = Target("H2", 2026, 0.80, SRC, region="36")
GUANGDONG_2023 = Target("H2", 2023, 0.50, SRC, region="44")  # would make every unit pass if it leaked
SOMEWHERE_2023 = Target("H2", 2023, 0.10, SRC, region=UNIDENTIFIED_REGION)
DEAN_COUNTY_2025 = Target("H2", 2025, 0.70, SRC, region="360426")


def _results(rows):
    return pa.table({"indicator": [r[0] for r in rows], "org_unit_id": [r[1] for r in rows],
                     "numerator": [r[2] for r in rows], "denominator": [r[3] for r in rows]})


@pytest.fixture
def tree(tmp_path):
    return OrgTree.load(build_snapshot(tmp_path))


def _figs(tree, monkeypatch, book, period, previous=None):
    monkeypatch.setattr(spec_catalogue, "targets", lambda: TargetBook(book))
    county, t1, t2 = (tree.by_code(c) for c in ("360426000000", "360426100000", "360426200000"))
    now = _results([("H2", county, 70, 100), ("H2", t1, 50, 60), ("H2", t2, 20, 40)])
    return {f.unit_code: f for f in figures(now, tree, parse(period), previous=previous)}


def test_target_change_rank_lagging_and_forecast(tree, monkeypatch):
    county, t1, t2 = (tree.by_code(c) for c in ("360426000000", "360426100000", "360426200000"))
    before = _results([("H2", county, 60, 100), ("H2", t1, 45, 60), ("H2", t2, 15, 40)])
    # Jiangxi's 2023 target (≥ 76%) is still in force on 30 June 2025 (its 2026 one is not yet); Guangdong's 50%
    # and the unidentified list's 10% are not Jiangxi's. 2025-06-30 is 181/365 of the year.
    figs = _figs(tree, monkeypatch, (JIANGXI_2023, JIANGXI_2026, GUANGDONG_2023, SOMEWHERE_2023), "2025-06-30",
                 previous=before)
    c = figs["360426000000"]
    assert c.target is JIANGXI_2023 and c.met is False and c.shortfall == pytest.approx(0.06)
    assert c.change == pytest.approx(0.10)
    assert (figs["360426100000"].rank, figs["360426200000"].rank, figs["360426200000"].siblings) == (1, 2, 2)
    assert c.lagging_children == ["林泉乡卫生院"]  # 50% < 76%; 蒲亭 83% meets the target
    # forecast: 70 people by 30 June → 70 / (181/365) ≈ 141.2 → rate 1.41 at this pace
    assert c.forecast_rate == pytest.approx(70 / (181 / 365) / 100)
    # needed 76 − 70 = 6 people in 26.4 weeks → 1 a week
    assert c.extra_per_week == 1


def test_target_of_the_period_year_and_of_the_units_own_region(tree, monkeypatch):
    book = (JIANGXI_2023, JIANGXI_2026, DEAN_COUNTY_2025)
    # 2024: only Jiangxi's 2023 target exists yet → 76% for the county and its townships
    figs = _figs(tree, monkeypatch, book, "2024")
    assert {f.target for f in figs.values()} == {JIANGXI_2023}
    # 2025: 德安县's own 70% (code prefix 360426) is more specific than the province's 76% → 蒲亭 83% and the
    # county 70% meet it, 林泉 50% does not
    figs = _figs(tree, monkeypatch, book, "2025")
    assert {f.target for f in figs.values()} == {DEAN_COUNTY_2025}
    assert (figs["360426000000"].met, figs["360426100000"].met, figs["360426200000"].met) == (True, True, False)
    # 2026: the county's 2025 target stays more specific than the province's newer one
    assert {f.target for f in _figs(tree, monkeypatch, book, "2026").values()} == {DEAN_COUNTY_2025}
    # the year is the evaluated period's: 2026MCY ends 30 Sep 2026; 2023Q4 ends in 2023
    assert {f.target for f in _figs(tree, monkeypatch, (JIANGXI_2023, JIANGXI_2026), "2026MCY").values()} == {
        JIANGXI_2026}
    assert {f.target for f in _figs(tree, monkeypatch, (JIANGXI_2023, JIANGXI_2026), "2023Q4").values()} == {
        JIANGXI_2023}


def test_no_target_is_never_borrowed_and_says_so(tree, monkeypatch):
    # only another province's and an unidentified region's targets exist → 无目标, no judgement at all
    figs = _figs(tree, monkeypatch, (GUANGDONG_2023, SOMEWHERE_2023), "2025-06-30")
    for f in figs.values():
        assert (f.target, f.met, f.shortfall, f.extra_per_week) == (None, None, None, None)
        assert f.rate is not None and f.forecast_rate is not None  # the figure itself is still there
    assert figs["360426000000"].lagging_children == []
    assert target_text(None) == NO_TARGET == "无目标"


def test_target_text():
    assert target_text(JIANGXI_2023) == ">=76.00%"
    assert target_text(Target("COPD1", 2024, 1913, SRC, region="150200000000", unit="count")) == ">=1913人"
    assert target_text(Target("ID1", 2024, 0.95, SRC, Comparator.GT, region="1502")) == ">95.00%"
    assert compare.NO_TARGET == "无目标"


def test_equal_rates_share_a_rank(tree, monkeypatch):
    """1/3 and 2/6 are the same rate: the two townships share rank 1 (competition ranking), not 1 and 2."""
    monkeypatch.setattr(spec_catalogue, "targets", lambda: TargetBook(()))
    county, t1, t2 = (tree.by_code(c) for c in ("360426000000", "360426100000", "360426200000"))
    now = _results([("H2", county, 3, 9), ("H2", t1, 1, 3), ("H2", t2, 2, 6)])
    figs = {f.unit_code: f for f in figures(now, tree, parse("2025"))}
    assert (figs["360426100000"].rank, figs["360426200000"].rank) == (1, 1)
    assert figs["360426200000"].siblings == 2
