import datetime as dt

import pytest

from gongwei.spec.periods import PeriodKind, YearKind, YearKindRule, parse, year_kind
from gongwei.spec.rules import Source


def test_calendar_year():
    p = parse("2025")
    assert (p.kind, p.start, p.end, p.fraction_of_year) == (PeriodKind.YEAR, dt.date(2025, 1, 1), dt.date(2025, 12, 31), 1.0)


def test_maternal_child_year_runs_october_to_september():
    p = parse("2025mcy")
    assert (p.code, p.start, p.end) == ("2025MCY", dt.date(2024, 10, 1), dt.date(2025, 9, 30))


def test_quarter_to_date_and_pro_rating():
    p = parse("2020Q2")
    assert (p.start, p.end) == (dt.date(2020, 1, 1), dt.date(2020, 6, 30))
    assert p.fraction_of_year == pytest.approx(182 / 366)


def test_as_of_date_and_previous_period():
    p = parse("2024-02-29")
    assert (p.kind, p.start, p.end) == (PeriodKind.AS_OF, dt.date(2024, 1, 1), dt.date(2024, 2, 29))
    assert p.previous().end == dt.date(2023, 2, 28)
    assert parse("2025Q3").previous().code == "2024Q3"


def test_unknown_period_gets_a_chinese_message():
    with pytest.raises(ValueError, match="期间“2025H1”无法识别"):
        parse("2025H1")


def test_plain_year_is_per_indicator_and_either_kind_can_be_forced():
    # "2025": each indicator over its own kind of year; "2025CY" / "2025MCY": every indicator over that kind
    plain, calendar, mcy = parse("2025"), parse("2025cy"), parse("2025MCY")
    assert (plain.code, plain.per_indicator) == ("2025", True)
    assert (calendar.code, calendar.per_indicator, calendar.start, calendar.end) == (
        "2025CY", False, dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert plain.for_year_kind(YearKind.MATERNAL_CHILD).code == "2025MCY"
    assert plain.for_year_kind(YearKind.CALENDAR) is plain
    assert calendar.for_year_kind(YearKind.MATERNAL_CHILD) is calendar
    assert mcy.for_year_kind(YearKind.CALENDAR) is mcy
    assert parse("2025Q3").for_year_kind(YearKind.MATERNAL_CHILD).code == "2025Q3"
    assert calendar.previous().code == "2024CY"
    assert mcy.label == "妇幼卫生统计年度 2024-10-01～2025-09-30"


def test_year_kind_takes_the_most_specific_region_then_the_latest_year():
    src = Source("test", "U")
    rules = (YearKindRule("C2", 2020, YearKind.CALENDAR, src),
             YearKindRule("C2", 2024, YearKind.MATERNAL_CHILD, src, region="3604"),
             YearKindRule("C2", 2026, YearKind.CALENDAR, src, region="3604"))
    assert year_kind("C2", "mcy", 2019, "360426", rules) is YearKind.MATERNAL_CHILD  # before any rule: default
    assert year_kind("C2", "mcy", 2023, "360426", rules) is YearKind.CALENDAR  # national rule from 2020
    assert year_kind("C2", "mcy", 2025, "360426", rules) is YearKind.MATERNAL_CHILD  # regional rule wins
    assert year_kind("C2", "mcy", 2025, "420100", rules) is YearKind.CALENDAR  # other province: national rule
    assert year_kind("C2", "mcy", 2027, "360426", rules) is YearKind.CALENDAR  # latest regional year
    assert year_kind("H2", "year", 2025, "360426", rules) is YearKind.CALENDAR  # no rule: the indicator's own


def test_default_year_kinds_are_those_of_the_maternal_and_child_annual_report():
    # M1–M4, C1–C6 and TCM2 on the Oct–Sep year (卫统41/42表 [mch-stat-year]); every other indicator on the calendar year
    from gongwei.spec import catalogue

    mcy = {code for code, ind in catalogue.indicators().items() if ind.period == "mcy"}
    assert {"M1", "M2", "M3", "M4", "C1", "C2", "C3", "C4", "C5", "C6", "TCM2"} <= mcy
    assert all(code[0] in "MC" or code == "TCM2" for code in mcy)
    assert all(ind.period in {k.value for k in YearKind} for ind in catalogue.indicators().values())


def test_every_stated_reason_agrees_with_the_indicator_default():
    from gongwei.spec import catalogue
    from gongwei.spec.periods import YEAR_KIND_BASIS

    indicators = catalogue.indicators()
    for code, (kind, source) in YEAR_KIND_BASIS.items():
        assert indicators[code].period == kind.value, code
        assert "[mch-stat-year]" in str(source)
