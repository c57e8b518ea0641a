"""Cross-field logic ([exam-form-2017] C): sex and age against the service (L-01, L-02), the visit class
against the measurement it claims to summarise (L-06, L-07), and "有" answers left without their details (L-08).
"""

from __future__ import annotations

import ibis

from gongwei.engine.programs.records import blank
from gongwei.engine.quality import Check
from gongwei.engine.quality.identity import age_years, encounter_findings, param_tenths, tenths
from gongwei.spec.programs import hypertension
from gongwei.spec.vocab import FollowUpClass, Program, Sex

FOLLOW_UPS = "chronic_follow_ups"
MATERNAL_TABLES = ("prenatal_visits", "postpartum_visits")


def _with_person(t: ibis.Table, check: Check) -> ibis.Table:
    people = check.eng.table("residents").select(person_id="id", birth_date="birth_date", sex="sex")
    return t.join(people, t.resident_id == people.person_id).drop("person_id")


def male_maternal(check: Check) -> ibis.Table:
    """L-01: prenatal or postpartum visits in the period of a resident recorded as male. (The examination form
    holds no sex-specific findings, so the gynaecological and prostate checks have nothing to read.)"""
    parts = []
    for name in MATERNAL_TABLES:
        visits = _with_person(check.services(name), check)
        visits = visits.filter(visits.sex == Sex.MALE.value)
        parts.append(encounter_findings(visits, name))
    return ibis.union(*parts)


def age_vs_program(check: Check) -> ibis.Table:
    """L-02: enrolments active in the period whose person was outside the program's age range when enrolled.

    Age is completed years on the start date, except for the elderly program, which counts the age reached in
    the year (its own reckoning: someone turning 65 in December is served from January). Pregnancy episodes
    also need a woman."""
    p = check.params
    start, end = check.start, check.end
    enr = check.eng.table("enrollments")
    enr = enr.filter((enr.start_date <= end) & (enr.end_date.isnull() | (enr.end_date >= start)))
    enr = _with_person(enr, check)
    age = age_years(enr.birth_date, enr.start_date)
    year_age = enr.start_date.year() - enr.birth_date.year()
    min_age = {Program.HYPERTENSION: int(p["hypertension"]), Program.DIABETES: int(p["diabetes"])}
    elderly, child_max = int(p["elderly"]), int(p["child_max"])
    m_min, m_max = int(p["maternal_min"]), int(p["maternal_max"])
    cases = [
        *[((enr.program == prog.value) & (age < n), f"{n} 岁及以上") for prog, n in min_age.items()],
        ((enr.program == Program.ELDERLY.value) & (year_age < elderly), f"{elderly} 岁及以上（按纳入当年年底计）"),
        ((enr.program == Program.CHILD.value) & (age > child_max), f"0–{child_max} 岁"),
        ((enr.program == Program.PREGNANCY.value)
         & ((enr.sex != Sex.FEMALE.value) | (age < m_min) | (age > m_max)), f"{m_min}–{m_max} 岁女性"),
    ]
    enr = enr.mutate(rule=ibis.cases(*cases, else_=ibis.null("string")), age=age)
    enr = enr.filter(enr.rule.notnull())
    program = ibis.cases(*[(enr.program == prog.value, prog.zh) for prog in Program], else_=enr.program)
    return enr.select(table=ibis.literal("enrollments"), record_id=enr.id, resident_id=enr.resident_id,
                      org_unit_id=enr.org_unit_id, program=program, age=enr.age, rule=enr.rule)


def _controlled(check: Check, program: Program) -> ibis.Table:
    fu = check.services(FOLLOW_UPS)
    return fu.filter((fu.program == program.value) & (fu.classification == FollowUpClass.CONTROLLED.value))


def bp_class(check: Check) -> ibis.Table:
    """L-06: a hypertension visit classed 控制满意 whose blood pressure is at or above the control target.

    The target is the hypertension rulebook's (``hypertension.control_for``: by year and region), the one the
    control rate H3 uses, so the visit class and H3 never disagree: 140/90, and from ``elderly_age`` (completed
    years on the visit date) the SBP limit ``elderly_sbp`` (3rd edition: 150 from 65)."""
    target = hypertension.control_for(check.period.year, check.region_code)
    fu = _controlled(check, Program.HYPERTENSION)
    sbp_limit = ibis.literal(target.sbp)
    if target.elderly_age is not None and target.elderly_sbp is not None:
        fu = _with_person(fu, check)
        elderly = (age_years(fu.birth_date, fu.service_date) >= target.elderly_age).fill_null(False)
        sbp_limit = ibis.cases((elderly, target.elderly_sbp), else_=sbp_limit)
    fu = fu.mutate(sbp_limit=sbp_limit, dbp_limit=ibis.literal(target.dbp))
    fu = fu.filter(((fu.sbp >= fu.sbp_limit) | (fu.dbp >= fu.dbp_limit)).fill_null(False))
    return encounter_findings(fu, FOLLOW_UPS, sbp=fu.sbp, dbp=fu.dbp, sbp_limit=fu.sbp_limit, dbp_limit=fu.dbp_limit)


def glucose_class(check: Check) -> ibis.Table:
    """L-07: a diabetes visit classed 控制满意 whose fasting glucose is at or above the target (whole tenths)."""
    limit = check.params["fasting_glucose"]
    fu = _controlled(check, Program.DIABETES)
    fu = fu.filter((tenths(fu.fasting_glucose) >= param_tenths(limit)).fill_null(False))
    return encounter_findings(fu, FOLLOW_UPS, fasting_glucose=fu.fasting_glucose,
                              limit=ibis.literal(float(limit)))  # type: ignore[arg-type]


def unexplained_yes(check: Check) -> ibis.Table:
    """L-08: 药物不良反应 "有" without a description; 转诊 "有" without a reason or without an institution."""
    fu = check.services(FOLLOW_UPS)
    problems = [
        (fu.adverse_reaction.fill_null(False) & blank(fu.adverse_reaction_text), "药物不良反应为“有”但未填写具体表现"),
        (fu.referral.fill_null(False) & blank(fu.referral_reason), "转诊未填写原因"),
        (fu.referral.fill_null(False) & blank(fu.referral_institution), "转诊未填写机构及科别"),
    ]
    what = None
    for cond, text in problems:
        part = ibis.cases((cond, "；" + text), else_="")
        what = part if what is None else what + part
    fu = fu.mutate(what=what.substr(1))  # type: ignore[union-attr]
    fu = fu.filter(fu.what != "")
    return encounter_findings(fu, FOLLOW_UPS, what=fu.what)


EVALUATORS = {
    "L-01": male_maternal,
    "L-02": age_vs_program,
    "L-06": bp_class,
    "L-07": glucose_class,
    "L-08": unexplained_yes,
}
