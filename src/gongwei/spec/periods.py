"""Reporting periods (calendar year, maternal–child year, quarter-to-date, any as-of date).

* ``2025`` — the year 2025, each indicator counted over its own kind of year (:func:`year_kind`): the calendar
  year for most BPHS indicators, the maternal and child statistical year for those reported in the maternal
  and child annual report.
* ``2025CY`` — calendar year 1 Jan – 31 Dec 2025 for every indicator.
* ``2025MCY`` — maternal and child statistical year, 1 Oct 2024 – 30 Sep 2025, for every indicator [mch-stat-year].
* ``2025Q3`` — quarter-to-date: 1 Jan 2025 – 30 Sep 2025 (progress bulletins pro-rate requirements).
* ``2025-06-30`` — as of a date: 1 Jan of that year to the date.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from gongwei.spec.rules import Source


class PeriodKind(StrEnum):
    YEAR = "year"
    MATERNAL_CHILD_YEAR = "mcy"
    QUARTER_TO_DATE = "qtd"
    AS_OF = "as_of"


MATERNAL_CHILD_YEAR_START_MONTH = 10  # 1 October of the previous year [mch-stat-year]


class YearKind(StrEnum):
    """The kind of year an indicator is counted over when a plain year (``2025``) is asked for."""

    CALENDAR = "year"  # 1 Jan – 31 Dec (BPHS annual evaluation, "年内")
    MATERNAL_CHILD = "mcy"  # 1 Oct of the previous year – 30 Sep (妇幼卫生统计年度) [mch-stat-year]


YEAR_KIND_ZH = {YearKind.CALENDAR: "日历年度", YearKind.MATERNAL_CHILD: "妇幼卫生统计年度"}


@dataclass(frozen=True)
class YearKindRule:
    """From ``year`` on, in regions whose statistical code starts with ``region`` ("" = everywhere),
    ``indicator`` is counted over ``kind`` when a plain year is asked for."""

    indicator: str
    year: int
    kind: YearKind
    source: Source
    region: str = ""


# Where a province or city counts an indicator over the other kind of year than the national default (the
# ``period`` of the Indicator in spec/programs), add a rule here. The defaults: maternal and child indicators
# (M1–M4, C1–C6, TCM2) on the maternal and child year, because their counts are those of the maternal and child
# annual report — 全国妇幼卫生调查制度 (卫统41表 孕产妇保健和健康情况年报表, 卫统42表 七岁以下儿童保健和健康情况年报表):
# "报告期为年报，统计起止时间为前一年10月1日至本年度9月30日" [mch-stat-year]; every other indicator on the calendar year, the
# BPHS evaluation year ("年内", ) [rpt-jkda]. No regional exception is known [U].
YEAR_KIND_RULES: tuple[YearKindRule, ...] = ()

# Why each indicator counted over the maternal and child year is (its ``period="mcy"``); every indicator not
# listed is counted over the calendar year [rpt-jkda]. The annual-report tables are those of 全国妇幼卫生调查制度
# (国家卫生健康委 / 国家统计局), whose period is "前一年10月1日至本年度9月30日" [mch-stat-year]; which table carries which count is
# from the report's item list [I].
_MCH_REPORT = "全国妇幼卫生调查制度（统计起止时间为前一年10月1日至本年度9月30日）"
YEAR_KIND_BASIS: dict[str, tuple[YearKind, Source]] = {
    **{code: (YearKind.MATERNAL_CHILD, Source(f"{_MCH_REPORT} 卫统41表 孕产妇保健和健康情况年报表：{item} [mch-stat-year][I]", "V"))
       for code, item in (("M1", "早孕建册人数"), ("M2", "产后访视人数"), ("M3", "系统管理人数"),
                          ("M4", "产前检查人数（5次及以上）"))},
    **{code: (YearKind.MATERNAL_CHILD, Source(f"{_MCH_REPORT} 卫统42表 七岁以下儿童保健和健康情况年报表：{item} [mch-stat-year][I]",
                                              "V"))
       for code, item in (("C1", "新生儿访视人数"), ("C4", "3岁以下儿童系统管理人数"), ("C5", "7岁以下儿童健康管理人数"),
                          ("C6", "0～6岁儿童眼保健和视力检查人数"))},
    # the 3rd-edition names of the same child checks (C2 = C5's algorithm) and the TCM guidance given at those
    # checks' ages: kept on the same year so that the same children give the same figure [I]
    **{code: (YearKind.MATERNAL_CHILD, Source(f"国家基本公共卫生服务规范（第三版）{spec}；与 C5 同一批儿童检查记录，"
                                              f"随{_MCH_REPORT}卫统42表口径 [mch-stat-year][I]", "I"))
       for code, spec in (("C2", "0～6岁儿童健康管理服务规范"), ("C3", "0～6岁儿童健康管理服务规范"),
                          ("TCM2", "中医药健康管理服务规范（6～36月龄随儿童健康检查开展中医药指导）"))},
}


def year_kind(indicator: str, default: str, year: int, region_code: str = "",
              rules: Iterable[YearKindRule] | None = None) -> YearKind:
    """The kind of year ``indicator`` is counted over in ``year`` for a unit with statistical code
    ``region_code``: the most specific matching rule (longest region prefix, then the latest year ≤ ``year``),
    else the indicator's own ``default`` ("year" or "mcy")."""
    candidates = [r for r in (YEAR_KIND_RULES if rules is None else rules)
                  if r.indicator == indicator and r.year <= year and region_code.startswith(r.region)]
    if not candidates:
        return YearKind(default)
    return max(candidates, key=lambda r: (len(r.region), r.year)).kind


@dataclass(frozen=True)
class Period:
    code: str
    kind: PeriodKind
    start: dt.date
    end: dt.date  # inclusive
    # a plain year ("2025"): each indicator is counted over its own kind of year (see ``for_year_kind``)
    per_indicator: bool = False

    @property
    def year(self) -> int:
        return self.end.year

    @property
    def fraction_of_year(self) -> float:
        """Share of the year elapsed at ``end`` — used to pro-rate annual requirements."""
        if self.kind in (PeriodKind.YEAR, PeriodKind.MATERNAL_CHILD_YEAR):
            return 1.0
        days = 366 if calendar.isleap(self.end.year) else 365
        return ((self.end - dt.date(self.end.year, 1, 1)).days + 1) / days

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The same period one year earlier (较上年同期)."""
        if self.kind is PeriodKind.AS_OF:
            try:
                return parse(self.end.replace(year=self.end.year - 1).isoformat())
            except ValueError:  # 29 February
                return parse(self.end.replace(year=self.end.year - 1, day=28).isoformat())
        return parse(self.code.replace(str(self.year), str(self.year - 1), 1))

    def for_year_kind(self, kind: YearKind) -> Period:
        """The period an indicator of year kind ``kind`` is counted over when this period is asked for: a
        plain year becomes that kind of year (the calendar year keeps the plain code ``2025``); any other period
        (``2025CY``, ``2025MCY``, quarter, date) is used as asked."""
        if not self.per_indicator or kind is YearKind.CALENDAR:
            return self
        return parse(f"{self.year}MCY")

    @property
    def label(self) -> str:
        """Chinese description with the dates, for output beside the code."""
        kinds = {PeriodKind.YEAR: YEAR_KIND_ZH[YearKind.CALENDAR],
                 PeriodKind.MATERNAL_CHILD_YEAR: YEAR_KIND_ZH[YearKind.MATERNAL_CHILD],
                 PeriodKind.QUARTER_TO_DATE: "截至季度末", PeriodKind.AS_OF: "截至当日"}
        return f"{kinds[self.kind]} {self.start.isoformat()}～{self.end.isoformat()}"

    def __str__(self) -> str:
        return self.code


_PATTERNS = (
    (re.compile(r"^(\d{4})$"), PeriodKind.YEAR),
    (re.compile(r"^(\d{4})CY$", re.I), PeriodKind.YEAR),
    (re.compile(r"^(\d{4})MCY$", re.I), PeriodKind.MATERNAL_CHILD_YEAR),
    (re.compile(r"^(\d{4})Q([1-4])$", re.I), PeriodKind.QUARTER_TO_DATE),
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"), PeriodKind.AS_OF),
)


def parse(code: str) -> Period:
    """Parse a period code; raises ValueError with a Chinese message naming the accepted forms."""
    text = code.strip()
    for pattern, kind in _PATTERNS:
        match = pattern.match(text)
        if not match:
            continue
        year = int(match.group(1))
        if kind is PeriodKind.YEAR:
            plain = text.isdigit()
            return Period(str(year) if plain else f"{year}CY", kind, dt.date(year, 1, 1), dt.date(year, 12, 31),
                          per_indicator=plain)
        if kind is PeriodKind.MATERNAL_CHILD_YEAR:
            start = dt.date(year - 1, MATERNAL_CHILD_YEAR_START_MONTH, 1)
            return Period(f"{year}MCY", kind, start, dt.date(year, MATERNAL_CHILD_YEAR_START_MONTH, 1) - dt.timedelta(days=1))
        if kind is PeriodKind.QUARTER_TO_DATE:
            q = int(match.group(2))
            last_month = q * 3
            end = dt.date(year, last_month, calendar.monthrange(year, last_month)[1])
            return Period(f"{year}Q{q}", kind, dt.date(year, 1, 1), end)
        end = dt.date(year, int(match.group(2)), int(match.group(3)))
        return Period(end.isoformat(), kind, dt.date(year, 1, 1), end)
    raise ValueError(f"期间“{code}”无法识别：应为 2025（年度，各指标按其统计年度）、2025CY（日历年度）、2025MCY（妇幼年度）、2025Q3（截至季度末）或 2025-06-30（截至某日）")
