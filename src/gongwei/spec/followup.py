"""Shared shapes for follow-up programs (hypertension, diabetes, COPD, SMI)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from gongwei.spec.rules import ByYear
from gongwei.spec.vocab import FACE_TO_FACE_MODES, FollowUpMode

T = TypeVar("T")


@dataclass(frozen=True)
class FollowUpRequirement:
    """What makes a managed patient *standardized-managed* (规范管理) for a year .

    **Required visits (mid-year pro-rating).** A quarter is *covered* when the patient was under management on
    its last day (and that day lies in the period); a patient needs ``floor(min_visits × covered quarters / 4)``
    visits. The year's visits are owed quarter by quarter — "按季度随访，每年至少4次面对面随访" (Kunming's
    reading of 国家基本公共卫生服务规范（第三版）[dm-control-kunming]) — so a quarter the patient was not managed through owes
    nothing, and a fractional share (``min_visits`` not divisible by 4) is not owed. The same rule gives
    progress periods (至第二季度, as-of dates) their share of the year. With ``min_visits`` = 4 this is one
    visit per covered quarter: enrolled January–March 4, April–June 3, July–September 2, October–December 1
    (enrolled on a quarter's last day counts that quarter).

    **Which visits count** (有效随访): follow-ups in ``counted_modes``; with ``needs_measurement`` only those
    recording that field (diabetes: the fasting glucose that goes with each of the four visits); several on
    one day count once; with ``spread_by_quarter`` at most ``ceil(min_visits / 4)`` in one calendar quarter
    count (four visits in one December week are one visit); with ``min_interval_days`` a visit counts only
    when at least that many days after the patient's previous recorded visit of the counted kind.

    **Standardized**: counted visits ≥ required; if ``per_quarter``, also one in every covered quarter (a gap
    of its own); if ``annual_exam``, one health examination in the year (full-year periods only).
    """

    min_visits: int
    counted_modes: frozenset[str] = FACE_TO_FACE_MODES
    per_quarter: bool = False
    annual_exam: bool = True
    prorate_mid_year: bool = True
    spread_by_quarter: bool = False
    min_interval_days: int | None = None
    needs_measurement: str | None = None  # a chronic_follow_ups column that must be recorded

    @property
    def counts_phone(self) -> bool:
        return FollowUpMode.PHONE in self.counted_modes

    @property
    def per_quarter_cap(self) -> int:
        """How many visits in one quarter count at most when ``spread_by_quarter``."""
        return -(-self.min_visits // 4)


@dataclass(frozen=True)
class BloodPressureTarget:
    """Controlled when SBP < ``sbp`` and DBP < ``dbp``; from ``elderly_age`` (completed years on the day of the
    measurement) the SBP limit is ``elderly_sbp`` instead."""

    sbp: int
    dbp: int
    elderly_age: int | None = None
    elderly_sbp: int | None = None

    def sbp_limit(self, age: int | None) -> int:
        """The SBP limit for a patient of ``age`` completed years (unknown age: the general limit)."""
        if self.elderly_age is not None and self.elderly_sbp is not None and age is not None \
                and age >= self.elderly_age:
            return self.elderly_sbp
        return self.sbp

    def met(self, sbp: int, dbp: int, age: int | None) -> bool:
        return sbp < self.sbp_limit(age) and dbp < self.dbp


@dataclass(frozen=True)
class GlucoseTarget:
    """Controlled when fasting glucose < ``fasting_glucose`` mmol/L.

    Glucose is recorded with one decimal (``ChronicFollowUp.fasting_glucose``), so the engine compares whole
    tenths of mmol/L (ADR 007: no float comparisons); ``fasting_glucose`` must itself have one decimal.
    """

    fasting_glucose: Decimal

    def __post_init__(self) -> None:
        if (self.fasting_glucose * 10) != (self.fasting_glucose * 10).to_integral_value():
            raise ValueError("fasting_glucose must have at most one decimal")

    @property
    def fasting_glucose_tenths(self) -> int:
        return int(self.fasting_glucose * 10)

    def met(self, fasting_glucose: Decimal) -> bool:
        """Compared in whole tenths of mmol/L, as the engine does (ADR 007)."""
        return int((Decimal(fasting_glucose) * 10).to_integral_value()) < self.fasting_glucose_tenths


@dataclass(frozen=True)
class LostToFollowUp:
    """失访: a managed patient whose last follow-up in the period (any mode, measured or not) is more than
    ``months`` calendar months before the end of their time under management in the period (the period end,
    or the closing date / enrolment end when earlier) is lost to follow-up and counts as not controlled."""

    months: int


@dataclass(frozen=True)
class FollowUpRate:
    """随访率（至少N次随访）: managed patients with at least ``min_visits`` follow-ups (distinct days) in
    ``counted_modes`` in the period so far."""

    min_visits: int
    counted_modes: frozenset[str] = frozenset(FollowUpMode)


@dataclass(frozen=True)
class UncontrolledAnswer:
    """A 控制不满意 follow-up is answered when the form shows what was done about it: guidance written, drugs
    adjusted, a referral, or the next visit within ``max_next_days`` (the specification's two-week recheck)."""

    max_next_days: int = 14


def by_region(default: ByYear[T], regional: Mapping[str, ByYear[T]], year: int, region_code: str = "") -> T:
    """``default`` for ``year``, unless a region whose code prefixes ``region_code`` overrides it (the longest
    matching prefix wins, as for targets and quality rules)."""
    best = max((p for p in regional if region_code.startswith(p)), key=len, default=None)
    return regional[best].for_year(year) if best is not None else default.for_year(year)


# --- the rule at entry (issue 11 §4): what a follow-up form proposes as the values are typed ------------------
# The next-visit date falls on a working day: a date that lands on a Saturday or Sunday moves back to the Friday
# before it, so "within two weeks" stays within two weeks (UNCONTROLLED_ANSWER counts a recheck ≤ 14 days as an
# answer; moving it forward would break that). Statutory holidays are not moved (no calendar in the rulebook);
# a region whose village clinics see patients at weekends sets this to False [U].
NEXT_VISIT_ON_WORKDAY = True


def next_visit_on(service_date: dt.date, days: int, *, workday: bool = NEXT_VISIT_ON_WORKDAY) -> dt.date:
    """``days`` after ``service_date``, moved back to the Friday before when it falls on a weekend."""
    due = service_date + dt.timedelta(days=days)
    if workday and due.weekday() >= 5:
        due -= dt.timedelta(days=due.weekday() - 4)
    return due


@dataclass(frozen=True)
class VisitProposal:
    """What the rulebook proposes for one chronic follow-up as it is entered.

    ``classification`` is a :class:`~gongwei.spec.vocab.FollowUpClass` code (None: nothing measured to class
    the visit by); ``why`` says in Chinese what it rests on; ``emergency`` lists the emergency findings
    (empty: none) and ``referral`` what the specification requires then; ``refer`` is set when the visit calls
    for a referral (emergency, or the program's consecutive uncontrolled visits, a new complication)."""

    classification: str | None
    why: str
    next_visit_date: dt.date
    next_visit_days: int
    emergency: tuple[str, ...] = ()
    referral: str = ""
    refer: bool = False
    notes: tuple[str, ...] = ()

    @property
    def needs_answer(self) -> bool:
        """Uncontrolled or emergency: the form must show guidance, a drug adjustment or a referral."""
        from gongwei.spec.vocab import FollowUpClass

        return bool(self.emergency) or self.classification == FollowUpClass.UNCONTROLLED.value


def propose_visit(*, service_date: dt.date, target_met: bool | None, target_text: str, adverse_reaction: bool,
                  complication: bool, next_days: Mapping[str, int], emergency: tuple[str, ...],
                  emergency_referral: str, previous_uncontrolled: int = 0, consecutive_for_referral: int | None = None,
                  complication_referral: str = "") -> VisitProposal:
    """The shared shape of a program's ``propose``: the class by precedence 并发症 > 不良反应 > 控制满意/不满意 (the
    form has one box; a new or worse complication and a drug reaction each call for their own action before the
    control level), the next-visit date by class, the emergency with its referral. ``previous_uncontrolled``: how
many visits in a row before this one were classed 控制不满意."""
    from gongwei.spec.vocab import FollowUpClass as C

    if complication:
        cls, why = C.COMPLICATION.value, "出现新的并发症或原有并发症加重"
    elif adverse_reaction:
        cls, why = C.ADVERSE_REACTION.value, "出现药物不良反应"
    elif target_met is None:
        cls, why = None, "未测量，无法判断控制情况"
    else:
        cls = C.CONTROLLED.value if target_met else C.UNCONTROLLED.value
        why = target_text
    days = next_days[C(cls)] if cls is not None else max(next_days.values())
    notes: list[str] = []
    refer = bool(emergency)
    if cls == C.UNCONTROLLED.value and consecutive_for_referral \
            and previous_uncontrolled + 1 >= consecutive_for_referral:
        refer = True
        notes.append(f"连续 {consecutive_for_referral} 次随访控制不满意，应转诊")
    if cls == C.COMPLICATION.value:
        refer = True
        if complication_referral:
            notes.append(complication_referral)
    return VisitProposal(cls, why, next_visit_on(service_date, days), days, emergency,
                         emergency_referral if emergency else "", refer, tuple(notes))
