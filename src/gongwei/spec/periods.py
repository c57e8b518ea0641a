"""Reporting periods (domain-spec.md §0.5, architecture.md §6).

* ``2025`` — calendar year (most BPHS indicators).
* ``2025MCY`` — maternal and child statistical year, 1 Oct 2024 – 30 Sep 2025 [V 53].
* ``2025Q3`` — quarter-to-date: 1 Jan 2025 – 30 Sep 2025 (progress bulletins pro-rate requirements).
* ``2025-06-30`` — as of a date: 1 Jan of that year to the date.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum


class PeriodKind(StrEnum):
    YEAR = "year"
    MATERNAL_CHILD_YEAR = "mcy"
    QUARTER_TO_DATE = "qtd"
    AS_OF = "as_of"


MATERNAL_CHILD_YEAR_START_MONTH = 10  # 1 October of the previous year [V 53]


@dataclass(frozen=True)
class Period:
    code: str
    kind: PeriodKind
    start: dt.date
    end: dt.date  # inclusive

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

    def __str__(self) -> str:
        return self.code


_PATTERNS = (
    (re.compile(r"^(\d{4})$"), PeriodKind.YEAR),
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
            return Period(text, kind, dt.date(year, 1, 1), dt.date(year, 12, 31))
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
    raise ValueError(f"期间“{code}”无法识别：应为 2025（年度）、2025MCY（妇幼年度）、2025Q3（截至季度末）或 2025-06-30（截至某日）")
