"""Shared shapes for follow-up programs (hypertension, diabetes, COPD, SMI)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from gongwei.spec.vocab import FACE_TO_FACE_MODES, FollowUpMode


@dataclass(frozen=True)
class FollowUpRequirement:
    """What makes a managed patient *standardized-managed* (规范管理) for a year (domain-spec.md §4.3).

    ``min_visits`` follow-ups in ``counted_modes`` in the year; if ``per_quarter``, at least one in every
    quarter the patient was enrolled; if ``annual_exam``, one health examination in the year; patients
    enrolled mid-year need ``ceil(min_visits × months enrolled / 12)`` when ``prorate_mid_year``.
    Progress periods (quarter-to-date, as-of) pro-rate the same way by the share of the year elapsed.
    """

    min_visits: int
    counted_modes: frozenset[str] = FACE_TO_FACE_MODES
    per_quarter: bool = False
    annual_exam: bool = True
    prorate_mid_year: bool = True

    @property
    def counts_phone(self) -> bool:
        return FollowUpMode.PHONE in self.counted_modes


@dataclass(frozen=True)
class BloodPressureTarget:
    """Controlled when SBP < ``sbp`` and DBP < ``dbp``; optionally a looser SBP from ``elderly_age``."""

    sbp: int
    dbp: int
    elderly_age: int | None = None
    elderly_sbp: int | None = None


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
