import datetime as dt

import pytest

from gongwei.spec.periods import PeriodKind, parse


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
