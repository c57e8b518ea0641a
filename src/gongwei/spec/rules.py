"""Building blocks of the rulebook: sources, year-versioned values, indicators and targets.

Indicators are declared as data (CommCare/DHIS2 style): a numerator and a denominator that name
per-person state flags or population bases; the engine evaluates them, the rulebook never runs SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Source:
    """Where a rule comes from. ``tag``: V verified, S seed, B background (unverified), U configurable, I inferred."""

    ref: str
    tag: str = "B"

    def __str__(self) -> str:
        return f"{self.ref} [{self.tag}]"


@dataclass(frozen=True)
class ByYear(Generic[T]):
    """A value that changes by year: the entry for the latest year ≤ the asked year applies."""

    values: Mapping[int, T]

    def for_year(self, year: int) -> T:
        return self.values[self.year_in_force(year)]

    def year_in_force(self, year: int) -> int:
        """The year of the entry that applies in ``year``."""
        years = [y for y in self.values if y <= year]
        if not years:
            raise KeyError(f"no rule in force for {year}; earliest is {min(self.values)}")
        return max(years)


class DenominatorKind(StrEnum):
    POPULATION_BASE = "population_base"  # 常住人口 etc., entered per unit and year
    MANAGED_COHORT = "managed_cohort"  # people found in the records (已管理 / 登记在册)
    TASK_NUMBER = "task_number"  # 任务数 assigned or estimated
    EVENTS = "events"  # reports, activities


class Comparator(StrEnum):
    GE = ">="
    GT = ">"
    LE = "<="
    LT = "<"


@dataclass(frozen=True)
class Indicator:
    """One indicator: numerator / denominator over a period .

    ``numerator`` names a per-person state flag (``program.flag``) computed by the engine;
    ``denominator`` names a state flag (managed cohort) or a :class:`~gongwei.spec.vocab.BaseGroup`
    code (population base, task number).
    """

    code: str
    name: str
    numerator: str
    denominator: str
    denominator_kind: DenominatorKind
    source: Source
    program: str | None = None
    period: str = "year"  # "year" or "mcy" (maternal and child statistical year)
    direction: Comparator = Comparator.GE
    note: str = ""
    # For population-base or task-number denominators: the state flag whose people the drill-down lists as
    # "in the denominator" (e.g. residents aged 65+ found in the records).
    cohort: str | None = None

    @property
    def program_code(self) -> str:
        return self.numerator.split(".")[0]

    @property
    def numerator_flag(self) -> str:
        return self.numerator.split(".")[1]

    @property
    def cohort_flag(self) -> str | None:
        if self.denominator_kind is DenominatorKind.MANAGED_COHORT:
            return self.denominator.split(".")[1]
        return self.cohort.split(".")[1] if self.cohort else None


# The region of a target list whose region the sources do not name ([prov-targets-2023]: "一省"; a
# secondary source's "typical" targets). Not a division code, so no unit's code starts with it: the values stay in the book (and in docs/indicators.md)
# for reference but never apply to a unit, because a province's target must not apply silently elsewhere.
UNIDENTIFIED_REGION = "未核实地区"


@dataclass(frozen=True)
class Target:
    """A target for an indicator from a year on, for the units under one region.

    ``region``: the division-code prefix of the region that set it (``"44"`` a province, ``"1502"`` a city,
    a full 12-digit code for one unit only, e.g. a city's absolute count); ``""`` only for a national figure
    (national specification, national notices and standards); :data:`UNIDENTIFIED_REGION` for a list whose region is
    unknown (kept for reference, never applies).
    """

    indicator: str
    year: int
    value: float
    source: Source
    comparator: Comparator = Comparator.GE
    region: str = ""
    unit: str = "rate"  # rate (0–1) or count

    def __post_init__(self) -> None:
        if self.region not in ("", UNIDENTIFIED_REGION) and not (self.region.isdigit() and len(self.region) <= 12):
            raise ValueError(f"target region must be a division-code prefix: {self!r}")

    @property
    def national(self) -> bool:
        return self.region == ""

    def applies_to(self, unit_code: str) -> bool:
        """A national target applies everywhere; a regional one only to units whose code starts with it."""
        return self.national or (self.region.isdigit() and unit_code.startswith(self.region))


@dataclass(frozen=True)
class TargetBook:
    targets: tuple[Target, ...] = field(default=())

    def resolve(self, indicator: str, year: int, unit_code: str) -> Target | None:
        """The target a unit is measured against in ``year`` (the year of the period evaluated), or None (无目标).

        Only targets of the unit's own region (code prefix) or national ones are candidates; the most specific
        region wins, then the latest year ≤ ``year`` (a target stays in force until its region sets a new one).
        """
        candidates = [t for t in self.targets
                      if t.indicator == indicator and t.year <= year and t.applies_to(unit_code)]
        if not candidates:
            return None
        return max(candidates, key=lambda t: (len(t.region), t.year))


@dataclass(frozen=True)
class GapReason:
    """Why a person is missing from a numerator, in plain Chinese.

    The engine's state table has a boolean column ``gap_<key>``; ``template`` is formatted with the
    person's state columns (e.g. ``{visits_done}``). ``code`` is stable for filtering and exports.
    """

    code: str
    template: str

    def render(self, row: Mapping[str, object]) -> str:
        return self.template.format_map({k: ("" if v is None else v) for k, v in row.items()})


@dataclass(frozen=True)
class ScheduledService:
    """A service the worklist tracks: which state columns give its due date, and which gap it closes.

    ``due_column``: the state column holding the date the service is due (null = nothing due);
    ``gap``: the gap-reason key that is set exactly when the service is overdue at the period end, so the
    worklist and the drill-down can never disagree (tests check the equivalence).
    """

    key: str
    name: str
    due_column: str
    gap: str | None = None


@dataclass(frozen=True)
class Window:
    """A tolerance around a nominal date (: windows are tolerances, their width unverified).

    A service nominally due on day D counts when done from ``D − before_days`` to ``D + after_days`` (both
    inclusive); the window's last day is the service's deadline, the date worklists show as its due date.
    """

    before_days: int
    after_days: int
