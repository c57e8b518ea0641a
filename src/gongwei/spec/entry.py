"""Hard bounds applied when a value enters the system of record.

Only physically impossible values are rejected at entry ([exam-form-2017] B, "Hard error"
column [U]); implausible-but-possible values and temporal or cross-record logic are stored and
reported as quality findings, because real data has them and quality control must count them.
Keys are ``table.field`` or plain ``field`` (applies to every table with that field).
"""

from __future__ import annotations

HARD_BOUNDS: dict[str, tuple[float, float]] = {
    "sbp": (60, 300), "sbp_left": (60, 300), "sbp_right": (60, 300),
    "dbp": (30, 200), "dbp_left": (30, 200), "dbp_right": (30, 200),
    "health_examinations.height": (50, 250),
    "health_examinations.weight": (2, 300), "chronic_follow_ups.weight": (2, 300),
    "child_checks.height": (30, 150), "child_checks.weight": (0.5, 60),
    "newborn_visits.weight": (0.3, 8), "prenatal_visits.weight": (25, 250),
    "waist": (30, 200),
    "pulse": (30, 220), "heart_rate": (30, 220),
    "temperature": (34, 43),
    "respiration": (6, 60),
    "bmi": (8, 80),
    "fasting_glucose": (1, 35),
    "hba1c": (3, 20),
    "cigarettes_per_day": (0, 100),
    "risk_grade": (0, 5),                                                     # SMI risk grade 0–5
    "gestational_weeks": (1, 45),
    "age_months": (0, 84),
    "dose_no": (1, 6),
    "adl_score": (0, 40),
    "year": (2000, 2100),
}

# Pairs that must satisfy first > second (R-04: DBP ≥ SBP is impossible).
ORDERED_PAIRS: tuple[tuple[str, str], ...] = (("sbp", "dbp"), ("sbp_left", "dbp_left"), ("sbp_right", "dbp_right"))

# Date pairs where the second may not precede the first (a period that ends before it starts).
ORDERED_DATES: tuple[tuple[str, str], ...] = (("start_date", "end_date"),)
