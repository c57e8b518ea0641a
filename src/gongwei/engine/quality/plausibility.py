"""Range plausibility ([exam-form-2017] B): the warning bands inside the hard bounds the entry layer
already enforces (``gongwei.spec.entry.HARD_BOUNDS``), on non-void services dated in the period.

Bands are exclusive (a value on a bound is plausible); the emergency levels of R-04 and R-10 are inclusive,
as the specifications write them (≥180/110 mmHg, ≤3.9 or ≥16.7 mmol/L). The adult bands apply from
``min_age`` (completed years on the service date): children need age-specific tables. One-decimal glucose is
compared in whole tenths, BMI with a small allowance for binary fractions, so both backends agree.
"""

from __future__ import annotations

import ibis

from gongwei.engine.quality import Check
from gongwei.engine.quality.identity import age_years, encounter_findings, param_tenths, tenths

EXAMS = "health_examinations"
FOLLOW_UPS = "chronic_follow_ups"
# a stored BMI has one decimal; a difference of exactly the tolerance must not be flagged because of the
# binary representation of the two numbers
_EPSILON = 1e-6


def _adult_exams(check: Check) -> ibis.Table:
    ex = check.services(EXAMS)
    people = check.eng.table("residents").select(person_id="id", birth_date="birth_date")
    ex = ex.join(people, ex.resident_id == people.person_id)
    return ex.filter(age_years(ex.birth_date, ex.service_date) >= int(check.params["min_age"]))


def _outside(value: ibis.ir.NumericValue, check: Check) -> ibis.ir.BooleanValue:
    return ((value < check.params["low"]) | (value > check.params["high"])).fill_null(False)


def _band(field: str):
    """R-01, R-02, R-03, R-06: one examination field outside [low, high]."""
    def evaluate(check: Check) -> ibis.Table:
        ex = _adult_exams(check)
        ex = ex.filter(_outside(ex[field], check))
        return encounter_findings(ex, EXAMS, **{field: ex[field]})
    return evaluate


def pulse_pressure(check: Check) -> ibis.Table:
    """R-05: SBP − DBP on either arm outside [low, high]; the left arm is reported when both are."""
    ex = _adult_exams(check)
    left, right = ex.sbp_left - ex.dbp_left, ex.sbp_right - ex.dbp_right
    ex = ex.mutate(pp_left=left, pp_right=right, left_out=_outside(left, check), right_out=_outside(right, check))
    ex = ex.filter(ex.left_out | ex.right_out)
    return encounter_findings(ex, EXAMS, arm=ibis.cases((ex.left_out, "左侧"), else_="右侧"),
                              pulse_pressure=ibis.cases((ex.left_out, ex.pp_left), else_=ex.pp_right))


def _not_referred(fu: ibis.Table, check: Check) -> ibis.ir.BooleanValue:
    """With ``unless_referred``, an emergency value the visit answered with a referral is handled."""
    if check.params.get("unless_referred", False):
        return ~fu.referral.fill_null(False)
    return ibis.literal(True)


def emergency_bp(check: Check) -> ibis.Table:
    """R-04: a follow-up blood pressure at the emergency level (SBP ≥ ``sbp`` or DBP ≥ ``dbp``) that should have
    led to an urgent referral."""
    fu = check.services(FOLLOW_UPS)
    urgent = ((fu.sbp >= int(check.params["sbp"])).fill_null(False)
              | (fu.dbp >= int(check.params["dbp"])).fill_null(False))
    fu = fu.filter(urgent & _not_referred(fu, check))
    return encounter_findings(fu, FOLLOW_UPS, sbp=fu.sbp, dbp=fu.dbp)


def bmi_mismatch(check: Check) -> ibis.Table:
    """R-09: the stored BMI differs from weight / height² by more than ``tolerance`` (any age)."""
    ex = check.services(EXAMS)
    metres = ex.height / 100
    ex = ex.filter(ex.bmi.notnull() & ex.weight.notnull() & (ex.height > 0))
    ex = ex.mutate(bmi_computed=ex.weight / (metres * metres))
    ex = ex.filter((ex.bmi - ex.bmi_computed).abs() > float(check.params["tolerance"]) + _EPSILON)
    return encounter_findings(ex, EXAMS, bmi=ex.bmi, bmi_computed=ex.bmi_computed.round(2))


def emergency_glucose(check: Check) -> ibis.Table:
    """R-10: a follow-up fasting glucose at the emergency level (≤ ``low`` or ≥ ``high``)."""
    fu = check.services(FOLLOW_UPS)
    g = tenths(fu.fasting_glucose)
    urgent = ((g <= param_tenths(check.params["low"])) | (g >= param_tenths(check.params["high"]))).fill_null(False)
    fu = fu.filter(urgent & _not_referred(fu, check))
    return encounter_findings(fu, FOLLOW_UPS, fasting_glucose=fu.fasting_glucose)


EVALUATORS = {
    "R-01": _band("height"),
    "R-02": _band("weight"),
    "R-03": _band("waist"),
    "R-04": emergency_bp,
    "R-05": pulse_pressure,
    "R-06": _band("pulse"),
    "R-09": bmi_mismatch,
    "R-10": emergency_glucose,
}
