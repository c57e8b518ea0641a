"""Targets, change since the previous period, sibling ranking, lagging units and the year-end forecast."""

from __future__ import annotations

import pyarrow as pa
import pytest

from gongwei.engine.compare import figures
from gongwei.engine.orgs import OrgTree
from gongwei.spec.periods import parse
from tests.engine_fixtures import build_snapshot

pytestmark = pytest.mark.django_db


def _results(rows):
    return pa.table({"indicator": [r[0] for r in rows], "org_unit_id": [r[1] for r in rows],
                     "numerator": [r[2] for r in rows], "denominator": [r[3] for r in rows]})


def test_target_change_rank_lagging_and_forecast(tmp_path):
    snap = build_snapshot(tmp_path)
    tree = OrgTree.load(snap)
    county, t1, t2 = (tree.by_code(c) for c in ("360426000000", "360426100000", "360426200000"))
    # H2 default target 2023+ is ≥ 76% (one province [V 28]); 2025-06-30 is 181/365 of the year.
    now = _results([("H2", county, 70, 100), ("H2", t1, 50, 60), ("H2", t2, 20, 40)])
    before = _results([("H2", county, 60, 100), ("H2", t1, 45, 60), ("H2", t2, 15, 40)])
    figs = {f.unit_code: f for f in figures(now, tree, parse("2025-06-30"), previous=before)}
    c = figs["360426000000"]
    assert c.target.value == 0.76 and c.met is False and c.shortfall == pytest.approx(0.06)
    assert c.change == pytest.approx(0.10)
    assert (figs["360426100000"].rank, figs["360426200000"].rank, figs["360426200000"].siblings) == (1, 2, 2)
    assert c.lagging_children == ["林泉乡卫生院"]  # 50% < 76%; 蒲亭 83% meets the target
    # forecast: 70 people by 30 June → 70 / (181/365) ≈ 141.2 → rate 1.41 at this pace
    assert c.forecast_rate == pytest.approx(70 / (181 / 365) / 100)
    # needed 76 − 70 = 6 people in 26.4 weeks → 1 a week
    assert c.extra_per_week == 1
