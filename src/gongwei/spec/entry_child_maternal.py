"""The rules at entry of the maternal, child and vaccination forms (issue 11 §4, ADR 031).

Each form's service (``service.maternal_child``) reads every number from here or from the program modules it
names — never a copy:

* plausible ranges of what the forms measure (``RANGES``), refused at entry with the range;
* children (``spec.programs.child``): which check is due at an age and the next one (``child_check_due``), the
  TCM guidance months (``tcm_due``), the newborn visit's days after birth, the findings that call for guidance or
  referral (``child_findings``);
* pregnancy (``spec.programs.maternal``): gestational weeks from the last menstrual period, the contact due at a
  week and the next one (``prenatal_due``), early registration before 13 weeks, the high-risk findings and the
  referral they require (``prenatal_findings``, ``postpartum_findings``);
* vaccination (``spec.programs.vaccination``): the doses due at an age by the schedule of the year, the next
  dose date, and the refusal of a dose before its minimum age or interval (``vaccine_due``, ``dose_problems``).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from gongwei.spec.entry import HARD_BOUNDS
from gongwei.spec.programs import child, maternal, vaccination
from gongwei.spec.rules import Source
from gongwei.spec.vocab import PostpartumVisitType, Vaccine

# --- plausible ranges ---------------------------------------------------------------------------------------------
# Values outside are refused with the range; the hard bounds of the entry layer where it has them ([U] there), and
# for what it has none: haemoglobin 30–200 g/L and head circumference 20–60 cm, wide bounds of ours that no living
# child or mother is outside of [U].
RANGES_SOURCE = Source("录入范围：健康体检表的硬性错误界限 entry.HARD_BOUNDS [exam-form-2017]；血红蛋白、头围为宽界限 [U]", "U")
RANGES: dict[str, tuple[float, float]] = {
    "newborn_visits.weight": HARD_BOUNDS["newborn_visits.weight"],
    "child_checks.weight": HARD_BOUNDS["child_checks.weight"],
    "child_checks.height": HARD_BOUNDS["child_checks.height"],
    "child_checks.head_circumference": (20, 60),
    "child_checks.hemoglobin": (30, 200),
    "prenatal_visits.weight": HARD_BOUNDS["prenatal_visits.weight"],
    "prenatal_visits.gestational_weeks": HARD_BOUNDS["gestational_weeks"],
    "prenatal_visits.hemoglobin": (30, 200),
    "prenatal_visits.sbp": HARD_BOUNDS["sbp"], "prenatal_visits.dbp": HARD_BOUNDS["dbp"],
    "postpartum_visits.sbp": HARD_BOUNDS["sbp"], "postpartum_visits.dbp": HARD_BOUNDS["dbp"],
    "vaccinations.dose_no": HARD_BOUNDS["dose_no"],
}


def plus_months(date: dt.date, months: int) -> dt.date:
    """``date`` + ``months`` calendar months, the day clamped to the month's end (as the engine adds them)."""
    year, month = divmod(date.month - 1 + months, 12)
    year += date.year
    return dt.date(year, month + 1, min(date.day, calendar.monthrange(year, month + 1)[1]))


def age_in_months(birth: dt.date, on: dt.date) -> int:
    """Completed months of age on ``on``."""
    months = (on.year - birth.year) * 12 + on.month - birth.month
    return months - 1 if plus_months(birth, months) > on else months


@dataclass(frozen=True)
class Due:
    """One scheduled item: what, its nominal date and its window (both inclusive)."""

    name: str
    months: int
    nominal: dt.date
    first: dt.date
    last: dt.date


def _item_due(birth: dt.date, item: child.CheckItem, name: str) -> Due:
    nominal = birth + dt.timedelta(days=item.days) if item.days is not None else plus_months(birth, item.months)
    return Due(name, item.months, nominal, nominal - dt.timedelta(days=item.window.before_days),
               nominal + dt.timedelta(days=item.window.after_days))


@dataclass(frozen=True)
class ScheduleAnswer:
    """The item whose window holds the date (None: between windows), and the next item after it."""

    current: Due | None
    next: Due | None


def _schedule(items: list[Due], on: dt.date) -> ScheduleAnswer:
    current = next((d for d in items if d.first <= on <= d.last), None)
    after = [d for d in items if d.first > on and (current is None or d.months > current.months)]
    return ScheduleAnswer(current, after[0] if after else None)


def child_check_due(birth: dt.date, on: dt.date) -> ScheduleAnswer:
    """The child check (满月, 3, 6, 8, 12 … months, 4–6 years; ``child.CHECKS``) due on ``on`` and the next one."""
    return _schedule([_item_due(birth, i, f"{i.age_text}健康检查") for i in child.CHECKS], on)


def tcm_due(birth: dt.date, on: dt.date) -> ScheduleAnswer:
    """The child TCM guidance (6, 12 … 36 months; ``child.TCM_ITEMS``) due on ``on`` and the next one."""
    return _schedule([_item_due(birth, i, f"{i.age_text}中医药健康指导") for i in child.TCM_ITEMS], on)


def tcm_last_day(birth: dt.date) -> dt.date:
    """The last day a child is served by the TCM guidance: the window of the last month (36) closes."""
    return _item_due(birth, child.TCM_ITEMS[-1], "").last


def newborn_visit_by(birth: dt.date) -> dt.date:
    """The newborn home visit is asked within a week (the visit rate counts 28 days) of birth, the anchor the
    records keep (``child.NEWBORN_VISIT_SCHEDULE_DAYS``)."""
    return birth + dt.timedelta(days=child.NEWBORN_VISIT_SCHEDULE_DAYS)


# --- findings that call for guidance or referral -----------------------------------------------------------------
# 0～6岁儿童健康管理服务规范: "对发现有营养不良、贫血、单纯性肥胖等情况的儿童应当分析其原因，给出指导或转诊的建议；对心理
# 行为发育偏异…听力异常、视力异常…应及时转诊" [spec2011-child]. Anaemia below 110 g/L from 6 months to 6 years
# (WHO) [who-anaemia-2011]; pregnancy below 110 g/L as well [who-anaemia-2011].
ANAEMIA_HB_CHILD = 110
ANAEMIA_FROM_MONTHS = 6
ANAEMIA_HB_PREGNANCY = 110
ANAEMIA_SOURCE = Source("Haemoglobin concentrations for the diagnosis of anaemia: 6–59 月龄及孕妇 < 110 g/L "
                        "[who-anaemia-2011]", "B")
# Low birth weight (< 2.5 kg) calls for more home visits: "对于低出生体重、早产、双多胎或有出生缺陷等具有高危因素的新生儿根据
# 实际情况增加家庭访视次数" [spec2011-child][B: 2.5 kg is the usual definition of low birth weight].
LOW_BIRTH_WEIGHT_KG = 2.5
# Hypertension in pregnancy and after birth: 140/90 mmHg [B]; the specification asks to refer abnormal findings and
# to follow the referral up within two weeks: "发现有异常的孕妇，要及时转至上级医疗卫生机构…并在2周内随访转诊结果"
# [spec2017-maternal]; after birth, "妊娠合并症未恢复者…应及时转至上级医疗卫生机构" and abnormal women at the 42-day
# check go to the delivering hospital [spec2017-maternal].
PREGNANCY_SBP = 140
PREGNANCY_DBP = 90
REFERRAL_FOLLOW_UP_DAYS = 14
PRENATAL_REFERRAL = "及时转至上级医疗卫生机构，并在2周内随访转诊结果"
POSTPARTUM_REFERRAL = "及时转至上级医疗卫生机构进一步检查、诊断和治疗"
CHECK_42D_REFERRAL = "异常产妇到原分娩医疗卫生机构检查"
CHILD_REFERRAL = "分析原因，给出指导或转诊的建议；发育偏异、听力或视力异常者及时转诊"
# A gestational week typed more than this many weeks away from the one the LMP gives is questioned [U].
WEEKS_FROM_LMP_TOLERANCE = 1


@dataclass(frozen=True)
class Findings:
    """What the rulebook found in the values: each finding in Chinese, whether a referral is required, and the
    referral text of the specification."""

    found: tuple[str, ...] = ()
    refer: bool = False
    referral: str = ""
    high_risk: bool = False


def child_findings(age_months: int | None, *, weight=None, hemoglobin=None, development_ok: bool = True,
                   newborn: bool = False) -> Findings:
    found, refer = [], False
    if hemoglobin is not None and age_months is not None and age_months >= ANAEMIA_FROM_MONTHS \
            and hemoglobin < ANAEMIA_HB_CHILD:
        found.append(f"血红蛋白 {hemoglobin} g/L，低于 {ANAEMIA_HB_CHILD} g/L：贫血，应给出指导或转诊建议")
    if not development_ok:
        found.append("发育评估未通过：心理行为发育偏异，应及时转诊")
        refer = True
    if newborn and weight is not None and weight < LOW_BIRTH_WEIGHT_KG:
        found.append(f"体重 {weight} kg，低于 {LOW_BIRTH_WEIGHT_KG:g} kg：高危新生儿，应增加家庭访视次数")
    return Findings(tuple(found), refer, CHILD_REFERRAL if found else "", bool(found))


def gestational_weeks(lmp: dt.date | None, on: dt.date) -> int | None:
    """Completed weeks of pregnancy on ``on`` from the last menstrual period."""
    return None if lmp is None or on < lmp else (on - lmp).days // 7


@dataclass(frozen=True)
class PrenatalDue:
    contact: maternal.PrenatalContact | None  # the contact whose weeks hold the visit (None: between them)
    next: maternal.PrenatalContact | None
    next_from: dt.date | None  # first day of the next contact's weeks (needs the LMP)
    early_registration: bool  # a registration visit before EARLY_REGISTRATION_BEFORE_WEEKS


def prenatal_due(weeks: int, lmp: dt.date | None, *, registration: bool) -> PrenatalDue:
    contacts = maternal.PRENATAL_CONTACTS
    here = next((c for c in contacts if c.first_week <= weeks <= c.last_week), None)
    later = [c for c in contacts if c.first_week > weeks]
    nxt = later[0] if later else None
    start = lmp + dt.timedelta(days=nxt.first_week * 7) if nxt and lmp else None
    return PrenatalDue(here, nxt, start, registration and weeks < maternal.EARLY_REGISTRATION_BEFORE_WEEKS)


def prenatal_findings(*, sbp=None, dbp=None, hemoglobin=None) -> Findings:
    found, refer = [], False
    if (sbp is not None and sbp >= PREGNANCY_SBP) or (dbp is not None and dbp >= PREGNANCY_DBP):
        found.append(f"血压 {sbp or '—'}/{dbp or '—'} mmHg，达到 {PREGNANCY_SBP}/{PREGNANCY_DBP} mmHg：妊娠期高血压，高危")
        refer = True
    if hemoglobin is not None and hemoglobin < ANAEMIA_HB_PREGNANCY:
        found.append(f"血红蛋白 {hemoglobin} g/L，低于 {ANAEMIA_HB_PREGNANCY} g/L：妊娠期贫血，高危")
        refer = True
    return Findings(tuple(found), refer, PRENATAL_REFERRAL if refer else "", bool(found))


def postpartum_type(delivered: dt.date, on: dt.date) -> str:
    """The visit a date after delivery calls for: the 42-day check from day 42, the home visit before."""
    kind = PostpartumVisitType.CHECK_42D if (on - delivered).days >= maternal.POSTPARTUM_CHECK_DAY \
        else PostpartumVisitType.HOME_VISIT
    return kind.value


def postpartum_dates(delivered: dt.date, discharged: dt.date | None) -> dict[str, dt.date]:
    """The home visit's deadline (a week after discharge, the delivery when unknown) and the 42-day check's
    window (``maternal.POSTPARTUM_CHECK_WINDOW``)."""
    anchor = discharged or delivered
    day42 = delivered + dt.timedelta(days=maternal.POSTPARTUM_CHECK_DAY)
    return {"home_visit_by": anchor + dt.timedelta(days=maternal.POSTPARTUM_VISIT_SCHEDULE_DAYS),
            "check_42d_from": day42,
            "check_42d_by": day42 + dt.timedelta(days=maternal.POSTPARTUM_CHECK_WINDOW.after_days)}


def postpartum_findings(visit_type: str, *, sbp=None, dbp=None, recovered: bool = True) -> Findings:
    found = []
    if (sbp is not None and sbp >= PREGNANCY_SBP) or (dbp is not None and dbp >= PREGNANCY_DBP):
        found.append(f"血压 {sbp or '—'}/{dbp or '—'} mmHg，达到 {PREGNANCY_SBP}/{PREGNANCY_DBP} mmHg")
    if not recovered:
        found.append("产妇未恢复正常（产褥感染、产后出血、子宫复旧不佳、合并症未恢复或产后抑郁等）")
    referral = CHECK_42D_REFERRAL if visit_type == PostpartumVisitType.CHECK_42D else POSTPARTUM_REFERRAL
    return Findings(tuple(found), bool(found), referral if found else "", bool(found))


# --- vaccination --------------------------------------------------------------------------------------------------
# "免疫程序表所列各疫苗剂次的接种时间，是指可以接种该剂次疫苗的最小年龄" [nip-2021]: a dose before its schedule age
# (``vaccination.Dose.months``) is refused. Minimum intervals from the previous dose of the same vaccine, days
# (2021年版说明的补种原则 [nip-2021][B]: 乙肝第2剂与第1剂间隔≥28天、第3剂与第2剂≥60天；脊灰、百白破、麻腮风各剂间隔
# ≥28天；A群流脑两剂间隔≥3个月；A群C群流脑两剂间隔≥3年；甲肝灭活疫苗两剂间隔≥6个月).
MIN_INTERVAL_DAYS: dict[tuple[str, int], int] = {
    (Vaccine.HEPB.value, 2): 28, (Vaccine.HEPB.value, 3): 60,
    (Vaccine.IPV.value, 2): 28, (Vaccine.BOPV.value, 2): 28,
    **{(Vaccine.DTAP.value, n): 28 for n in (2, 3, 4, 5)},
    (Vaccine.MMR.value, 2): 28,
    (Vaccine.MPSV_A.value, 2): 90, (Vaccine.MPSV_AC.value, 2): 3 * 365,
    (Vaccine.HEPA_I.value, 2): 182,
}
INTERVAL_SOURCE = Source("国家免疫规划疫苗儿童免疫程序及说明（2021年版）：接种时间为最小年龄；补种间隔 [nip-2021][B]", "B")


@dataclass(frozen=True)
class Given:
    vaccine: str
    dose_no: int
    date: dt.date


@dataclass(frozen=True)
class DoseDue:
    dose: vaccination.Dose
    from_date: dt.date  # minimum age reached and the interval since the previous dose passed
    overdue: bool  # the deadline age (by_months) has passed

    @property
    def vaccine(self) -> str:
        """The product code the form records (the default live product of JE and HepA)."""
        return self.dose.accepted[0][0]

    @property
    def dose_no(self) -> int:
        return self.dose.accepted[0][1]


def _received(d: vaccination.Dose, given: list[Given]) -> bool:
    return any((g.vaccine, g.dose_no) in d.accepted or (g.vaccine, g.dose_no) in d.accepted_before for g in given)


def _deadline(birth: dt.date, d: vaccination.Dose) -> dt.date:
    return plus_months(birth, d.by_months) + dt.timedelta(days=d.by_days)


def vaccine_due(birth: dt.date, on: dt.date, given: list[Given]) -> list[DoseDue]:
    """The doses of the schedule in force in ``on``'s year not yet received, earliest first, each from the day it
    may be given; those whose day has come are due at ``on``."""
    out = []
    for d in vaccination.schedule_for(on.year).doses:
        if _received(d, given):
            continue
        start = plus_months(birth, d.months)
        code, n = d.accepted[0]
        prev = [g.date for g in given if g.vaccine == code and g.dose_no == n - 1]
        gap = MIN_INTERVAL_DAYS.get((code, n))
        if prev and gap:
            start = max(start, max(prev) + dt.timedelta(days=gap))
        out.append(DoseDue(d, start, _deadline(birth, d) <= on))
    return sorted(out, key=lambda x: (x.from_date, x.dose.months))


def dose_problems(vaccine: str, dose_no: int, on: dt.date, birth: dt.date, given: list[Given]) -> list[str]:
    """Why a (vaccine, dose) on ``on`` may not be recorded: before its minimum age by the schedule of the year, or
    before the minimum interval from the previous dose, or a dose already recorded."""
    problems = []
    name = Vaccine(vaccine).zh if vaccine in Vaccine.codes() else vaccine
    schedule = vaccination.schedule_for(on.year)
    dose = next((d for d in schedule.doses if (vaccine, dose_no) in d.accepted), None)
    if dose is not None:
        start = plus_months(birth, dose.months)
        if on < start:
            problems.append(f"{name}第{dose_no}剂最小接种年龄为{dose.age_text}（{schedule.year}年版免疫程序），"
                            f"该儿童 {start} 才满{dose.age_text}，此日不能接种")
    gap = MIN_INTERVAL_DAYS.get((vaccine, dose_no))
    prev = [g.date for g in given if g.vaccine == vaccine and g.dose_no == dose_no - 1 and g.date <= on]
    if gap and prev and (on - max(prev)).days < gap:
        problems.append(f"{name}第{dose_no}剂与第{dose_no - 1}剂（{max(prev)}）应间隔至少 {gap} 天，"
                        f"此日仅间隔 {(on - max(prev)).days} 天")
    if any(g.vaccine == vaccine and g.dose_no == dose_no for g in given):
        problems.append(f"已有{name}第{dose_no}剂的接种记录，不能重复录入")
    return problems
