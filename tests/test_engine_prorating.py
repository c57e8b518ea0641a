"""Progress periods pro-rate yearly minimums by completed months, rounding down (spec/programs/education.py).

The rule: required = ⌊yearly minimum × completed months ÷ 12⌋ [I] — an institution is not behind until a whole
activity is owed. These fixtures sit on both sides of a rounding boundary, so rounding up (or to nearest) fails
them. The population fixture (tests/engine_fixtures_population.py) is extended with consultations (公众健康咨询
活动, 9 a year for centres) at 林泉乡卫生院, which has none there.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from gongwei.engine import catalogue
from gongwei.engine.backends import Engine
from gongwei.engine.snapshot import Snapshot
from gongwei.records import entry
from gongwei.records.snapshot import take_snapshot
from gongwei.spec.periods import parse
from tests import engine_fixtures_population as pop
from tests.engine_results import by_code

pytestmark = pytest.mark.django_db


def engine_with_consultations(root, dates: list[str]) -> Engine:
    pop.build_snapshot(root / "base")  # loads the population fixture
    extra = pa.table({"activity_no": [f"HE-LQ-{i}" for i in range(len(dates))],
                      "org_unit": [pop.T_LINQUAN] * len(dates), "kind": ["consultation"] * len(dates),
                      "activity_date": dates, "topic": ["高血压日"] * len(dates)})
    result = entry.submit({"health_education_activities": extra}, actor="test", kind="test")
    assert not result.issues
    return Engine(Snapshot.open(take_snapshot(root / "snap")))


@pytest.mark.parametrize(("period", "dates", "met"), [
    # to 31 March: 9 × 3 ÷ 12 = 2.25 → 2 required; two held meets it (rounding up would ask for 3)
    ("2025Q1", ["2025-01-20", "2025-03-20"], True),
    # one held is short of 2
    ("2025Q1", ["2025-01-20"], False),
    # to 28 February: 9 × 2 ÷ 12 = 1.5 → 1 required (rounding to nearest or up would ask for 2)
    ("2025-02-28", ["2025-02-10"], True),
    # to 15 March: February is the last complete month, 9 × 2 ÷ 12 = 1.5 → 1 required (March is not counted yet)
    ("2025-03-15", ["2025-02-10"], True),
    ("2025-03-15", [], False),
    # to 29 April, the day before April's last: still 3 complete months → 2 required, two held meet it
    ("2025-04-29", ["2025-01-20", "2025-02-20"], True),
    # to 31 January: 9 × 1 ÷ 12 = 0.75 → nothing owed yet, so no centre is counted as due
    ("2025-01-31", [], None),
    # to 30 April: 9 × 4 ÷ 12 = 3 exactly → three held meets it, two do not
    ("2025-04-30", ["2025-01-20", "2025-02-20", "2025-03-20"], True),
    ("2025-04-30", ["2025-01-20", "2025-02-20"], False),
])
def test_consultation_minimum_rounds_down(tmp_path, period, dates, met):
    eng = engine_with_consultations(tmp_path, dates)
    got = by_code(eng, catalogue.evaluate(eng, parse(period), ["HE5"]))
    if met is None:
        assert got[("HE5", pop.T_LINQUAN)] == (0, 0)
    else:
        assert got[("HE5", pop.T_LINQUAN)] == (int(met), 1)


def test_supervision_patrols_round_down(tmp_path):
    """Two patrols a year per category: to 31 March 2 × 3 ÷ 12 = 0.5 → none owed yet, so no institution×category
    is due (rounding up would make all of them due and count 蒲亭's March patrols as met); to 30 June exactly 1."""
    eng = engine_with_consultations(tmp_path, [])
    q1 = by_code(eng, catalogue.evaluate(eng, parse("2025Q1"), ["SV2"]))
    assert q1[("SV2", pop.COUNTY)] == (0, 0)
    q2 = by_code(eng, catalogue.evaluate(eng, parse("2025Q2"), ["SV2"]))
    # 蒲亭 patrolled all five categories in March; 林泉 one (food, February): 6 of 10 due
    assert q2[("SV2", pop.COUNTY)] == (6, 10)
