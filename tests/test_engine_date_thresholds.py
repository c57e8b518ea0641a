"""The rewrites that make the catalogue cheaper (ADR 016) answer exactly as the expressions they replace.

* ``child.plus_months`` is DuckDB's ``date + INTERVAL n MONTH`` (day clamped to the month end) in Python;
* ``child.first_birth`` turns "birth + n months (+ d days) on/after a fixed date" into "birth on/after a date";
* ``records.blank`` looks at the first character before trimming.

Each is checked by hand on the edge cases (month ends, 29 February) and then against DuckDB over every birth
date of several years, with the old expression evaluated by DuckDB itself.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import ibis
import pytest

from gongwei.engine.programs.child import first_birth, item_deadline, plus_months
from gongwei.engine.programs.records import blank
from gongwei.spec.programs import child as child_spec

D = dt.date


def test_plus_months_clamps_to_the_month_end_by_hand():
    assert plus_months(D(2024, 1, 31), 1) == D(2024, 2, 29)  # leap year
    assert plus_months(D(2023, 1, 31), 1) == D(2023, 2, 28)
    assert plus_months(D(2016, 2, 29), 12) == D(2017, 2, 28)
    assert plus_months(D(2018, 1, 1), 84) == D(2025, 1, 1)
    assert plus_months(D(2024, 11, 30), 3) == D(2025, 2, 28)
    assert plus_months(D(2024, 12, 15), 0) == D(2024, 12, 15)


def test_first_birth_by_hand():
    # born 2018-01-01: 7 years (84 months) old on 2025-01-01, which is not *after* 2025-01-01
    assert first_birth(lambda b: plus_months(b, 84), D(2025, 1, 1), after=True) == D(2018, 1, 2)
    assert first_birth(lambda b: plus_months(b, 84), D(2025, 1, 1)) == D(2018, 1, 1)
    # 12 months after 2016-02-28 and after 2016-02-29 are both 2017-02-28: the first birth whose first birthday
    # is after 2017-02-28 is 2016-03-01, the first on or after it is 2016-02-28
    assert first_birth(lambda b: plus_months(b, 12), D(2017, 2, 28), after=True) == D(2016, 3, 1)
    assert first_birth(lambda b: plus_months(b, 12), D(2017, 2, 28)) == D(2016, 2, 28)
    # the full-month check closes on day 30 (day 28 + 2): due by 2025-01-31 for births up to 2025-01-01
    full_month = child_spec.CHECKS[0]
    assert item_deadline(D(2025, 1, 1), full_month) == D(2025, 1, 31)
    assert first_birth(lambda b: item_deadline(b, full_month), D(2025, 1, 31), after=True) == D(2025, 1, 2)


@pytest.mark.parametrize(("months", "days"), [(1, 0), (3, 15), (8, 15), (12, 0), (36, 15), (37, 0), (84, 0),
                                              (18, -15)])
def test_first_birth_matches_duckdb_date_arithmetic_for_every_birth(months, days):
    """For every birth date from 2015 to 2026 and bounds at month ends and 29 February, the birth-date test
    selects exactly the children whose ``birth + months + days`` DuckDB puts on/after (after) the bound."""
    bounds = [D(2020, 2, 29), D(2021, 2, 28), D(2024, 9, 30), D(2024, 10, 1), D(2025, 1, 1), D(2025, 12, 31),
              D(2025, 3, 31), D(2023, 4, 30)]
    con = duckdb.connect()
    con.execute("CREATE TABLE b AS SELECT CAST(d AS DATE) AS birth FROM range(DATE '2010-01-01', DATE '2026-12-31',"
                " INTERVAL 1 DAY) AS t(d)")
    con.execute(f"CREATE TABLE dl AS SELECT birth, CAST(birth + INTERVAL {months} MONTH + INTERVAL ({days}) DAY AS DATE)"
                " AS deadline FROM b")
    # Python's clamp agrees with DuckDB's on every day
    rows = con.execute("SELECT birth, deadline FROM dl").fetchall()
    assert all(plus_months(b, months) + dt.timedelta(days=days) == d for b, d in rows)

    def deadline(b: dt.date) -> dt.date:
        return plus_months(b, months) + dt.timedelta(days=days)

    for bound in bounds:
        for after in (False, True):
            first = first_birth(deadline, bound, after=after)
            op = ">" if after else ">="
            wrong = con.execute(f"SELECT count(*) FROM dl WHERE (deadline {op} ?) <> (birth >= ?)",
                                [bound, first]).fetchone()[0]
            assert wrong == 0, (bound, after, first)


def test_blank_is_null_or_whitespace_as_before():
    values = [None, "", " ", "  \t", "\n\r\x0b\x0c ", "x", " x", "x ", "\tA型", "中", "\u3000", "\u3000x", "0",
              "\u00a0"]
    t = ibis.memtable({"v": values}, schema={"v": "string"})
    con = ibis.duckdb.connect()
    new = con.to_pyarrow(t.select(b=blank(t.v))).column("b").to_pylist()
    old = con.to_pyarrow(t.select(b=t.v.isnull() | (t.v.strip() == ""))).column("b").to_pylist()
    assert new == old
    # what "blank" means, by hand: ASCII whitespace only (an ideographic or no-break space is a character)
    assert new == [True, True, True, True, True, False, False, False, False, False, False, False, False, False]
