"""Numbers as Chinese bulletins write them — the one place a bulletin formats a figure.

* counts: below 10,000 as digits (8852人); from 10,000 in 万 with two decimals (17.12万人) [pingliang-2020q2];
* rates: percentages with two decimals (90.14%);
* change between two rates: in percentage points (个百分点), two decimals — a rate that went from 52.86% to
  54.97% "较上期增长2.11个百分点"; a relative change in % of a rate would be ambiguous. Equal at two
  decimals is "与上期持平";
* dates: 2025年6月30日 (no leading zeros).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

WAN = 10_000


def _round2(x: float | Decimal) -> Decimal:
    return Decimal(str(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def count(n: int | None, unit: str = "") -> str:
    """8852 → 8852; 171200 → 17.12万; with a unit word appended (人, 份, 条)."""
    if n is None:
        return "—"
    if abs(n) >= WAN:
        return f"{_round2(Decimal(n) / WAN)}万{unit}"
    return f"{n}{unit}"


def score(x: float) -> str:
    """An evaluation score with two decimals, as the seeds print them (89.5 → 89.50; 90 → 90)."""
    d = _round2(x)
    return str(d.quantize(Decimal(1))) if d == d.to_integral_value() else str(d)


def percent(rate: float | None) -> str:
    """0.9014 → 90.14%; None → —."""
    if rate is None:
        return "—"
    return f"{_round2(Decimal(str(rate)) * 100)}%"


def points(change: float) -> Decimal:
    """A change of rate (0.0211) as percentage points rounded to two decimals (2.11)."""
    return _round2(Decimal(str(change)) * 100)


def change(delta: float | None, *, prefix: str = "较上期") -> str | None:
    """较上期增长2.11个百分点 / 较上期下降0.50个百分点 / 与上期持平; None when there is nothing to compare."""
    if delta is None:
        return None
    p = points(delta)
    if p == 0:
        return f"与{prefix.removeprefix('较')}持平"
    return f"{prefix}{'增长' if p > 0 else '下降'}{abs(p)}个百分点"


def date(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


_DIGITS = "〇一二三四五六七八九"


def chinese(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 25 → 二十五 (headings 一、（一）)."""
    if n < 10:
        return "零一二三四五六七八九"[n]
    tens, ones = divmod(n, 10)
    if tens >= 10:
        return str(n)
    return ("" if tens == 1 else "零一二三四五六七八九"[tens]) + "十" + ("" if ones == 0 else "零一二三四五六七八九"[ones])


def year_digits(year: int) -> str:
    """2025 → 二〇二五 (not used in the document number, which keeps Arabic digits: 〔2025〕3号)."""
    return "".join(_DIGITS[int(d)] for d in str(year))


def heading_number(level: int, n: int) -> str:
    """The official numbering of headings: level 1 一、 level 2 （一） level 3 1. level 4 （1）."""
    if level == 1:
        return f"{chinese(n)}、"
    if level == 2:
        return f"（{chinese(n)}）"
    if level == 3:
        return f"{n}."
    return f"（{n}）"
