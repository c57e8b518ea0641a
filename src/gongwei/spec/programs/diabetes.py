"""2型糖尿病患者健康管理 — type-2 diabetes management ([spec2017-dm]).

Source: 国家基本公共卫生服务规范（第三版）(2017), type-2 diabetes chapter, and annual evaluation rules.
Indicators D1–D4 mirror hypertension's H1–H4 (: "same as H1–H5 for T2DM").
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from gongwei.spec.followup import (
    FollowUpRate,
    FollowUpRequirement,
    GlucoseTarget,
    LostToFollowUp,
    UncontrolledAnswer,
    VisitProposal,
    propose_visit,
)
from gongwei.spec.rules import (
    ByYear,
    Comparator,
    DenominatorKind,
    GapReason,
    Indicator,
    ScheduledService,
    Source,
    Target,
)
from gongwei.spec.target_sources import BAOTOU, GUANGDONG, S0, S4, UNIDENTIFIED_REGION, V28
from gongwei.spec.vocab import FACE_TO_FACE_MODES, FollowUpClass, Program

PROGRAM = Program.DIABETES
SPEC_2017 = Source("国家基本公共卫生服务规范（第三版）2型糖尿病患者健康管理服务规范 [spec2017-dm]", "V")

# Who: residents aged 35 and over with type-2 diabetes — "辖区内35岁及以上常住居民中2型糖尿病患者" (国家基本公共
# 卫生服务规范（第三版）2型糖尿病患者健康管理服务规范 [dm-fpg-4][spec2017-dm][dm-guide-cq]). The cohort counts a patient once they are 35
# on the period's last day (or on the day their management ended, if earlier).
MIN_AGE = 35

# Standardized management: "每年提供4次免费空腹血糖检测，至少进行4次面对面随访" (国家基本公共卫生服务规范（第三版）,
# as quoted by 仪征市卫生健康委员会 [dm-fpg-4]) — so a visit counts only with its fasting glucose recorded
# (needs_measurement); one annual health exam [B]. The visits are quarterly — "按季度随访，每年至少4次面对面随访"
# (Kunming report [dm-control-kunming]) — so mid-year enrollees owe one per quarter managed through (floor(4 × covered
# quarters / 4)), same-day duplicates count once and at most one visit a quarter counts (spread_by_quarter).
# Phone visits do not count by default (as for hypertension; "(不区分随访方式)" variants count them).
FOLLOW_UP = ByYear({
    2017: FollowUpRequirement(min_visits=4, counted_modes=FACE_TO_FACE_MODES, per_quarter=False,
                              annual_exam=True, prorate_mid_year=True, spread_by_quarter=True,
                              needs_measurement="fasting_glucose"),
})

# Control (D3): last follow-up fasting glucose < 7.0 mmol/L ([spec2017-dm]: threshold from the brief,
# one source snippet truncated before the number [dm-control-kunming] → tagged B). Only fasting glucose is used (the "空腹"
# variant of the indicator [rpt-jkda]).
CONTROL = ByYear({2017: GlucoseTarget(fasting_glucose=Decimal("7.0"))})

# 失访 → not controlled ("若失访则判断为未达标", indicator note quoted in gongwei issue 8; document not found):
# last follow-up more than one routine interval (3 months) before the end of management in the period [U].
LOST_TO_FOLLOW_UP = ByYear({2017: LostToFollowUp(months=3)})

# 随访率（至少2次随访）: "第二季度2型糖尿病患者随访率（至少2次随访）为95.26%" ([pingliang-2020q2]); distinct days, any mode.
FOLLOW_UP_RATE = ByYear({2017: FollowUpRate(min_visits=2)})
# 控制不满意 answered on the form (guidance, drugs adjusted, referral, or a recheck within 2 weeks):
# "对第一次出现控制不满意…2周内随访" [spec2017-htn][spec2017-dm-followup]; the published rate [pingliang-2020q2].
UNCONTROLLED_ANSWER = ByYear({2017: UncontrolledAnswer(max_next_days=14)})

# Emergency: glucose ≥ 16.7 or ≤ 3.9 mmol/L, or SBP ≥ 180 / DBP ≥ 110 → urgent referral [spec2017-dm-followup].
EMERGENCY_GLUCOSE_HIGH, EMERGENCY_GLUCOSE_LOW = Decimal("16.7"), Decimal("3.9")
EMERGENCY_SBP, EMERGENCY_DBP = 180, 110
EMERGENCY_REFERRAL = "紧急处理后转诊，2周内主动随访转诊情况"
COMPLICATION_REFERRAL = "出现新的并发症或原有并发症加重，建议转诊，2周内主动随访转诊情况"

# Next follow-up by visit class [spec2017-dm]: unsatisfactory FPG / adverse reaction / complication → within
# 2 weeks [B, mirrors hypertension]; controlled → routine, one per quarter by default [B].
NEXT_VISIT_DAYS = {
    FollowUpClass.CONTROLLED: 90,
    FollowUpClass.UNCONTROLLED: 14,
    FollowUpClass.ADVERSE_REACTION: 14,
    FollowUpClass.COMPLICATION: 14,
}
# Two consecutive unsatisfactory visits → referral [B, mirrors hypertension].
CONSECUTIVE_UNCONTROLLED_FOR_REFERRAL = 2



def control_for(year: int, region_code: str = "") -> GlucoseTarget:
    """The fasting-glucose target in force for ``year`` (no regional override known)."""
    return CONTROL.for_year(year)


def emergency(fasting_glucose: Decimal | None, sbp: int | None = None, dbp: int | None = None) -> tuple[str, ...]:
    """The emergency findings of one visit's readings (empty: none)."""
    found = []
    if fasting_glucose is not None and Decimal(fasting_glucose) >= EMERGENCY_GLUCOSE_HIGH:
        found.append(f"空腹血糖 {fasting_glucose} ≥ {EMERGENCY_GLUCOSE_HIGH} mmol/L")
    if fasting_glucose is not None and Decimal(fasting_glucose) <= EMERGENCY_GLUCOSE_LOW:
        found.append(f"空腹血糖 {fasting_glucose} ≤ {EMERGENCY_GLUCOSE_LOW} mmol/L")
    if sbp is not None and sbp >= EMERGENCY_SBP:
        found.append(f"收缩压 {sbp} ≥ {EMERGENCY_SBP} mmHg")
    if dbp is not None and dbp >= EMERGENCY_DBP:
        found.append(f"舒张压 {dbp} ≥ {EMERGENCY_DBP} mmHg")
    return tuple(found)


def propose(service_date: dt.date, *, fasting_glucose: Decimal | None, sbp: int | None = None,
            dbp: int | None = None, adverse_reaction: bool = False, complication: bool = False,
            previous_uncontrolled: int = 0, region_code: str = "", **_: object) -> VisitProposal:
    """The class, next-visit date and emergency of a diabetes follow-up as entered: controlled by fasting glucose
    against the target for the visit's year (D3's definition); blood pressure counts only for the emergency."""
    target = control_for(service_date.year, region_code)
    met, text = None, ""
    if fasting_glucose is not None:
        met = target.met(fasting_glucose)
        text = (f"空腹血糖 {fasting_glucose} mmol/L {'达到' if met else '未达到'}控制目标 "
                f"<{target.fasting_glucose}")
    return propose_visit(service_date=service_date, target_met=met, target_text=text,
                         adverse_reaction=adverse_reaction, complication=complication, next_days=NEXT_VISIT_DAYS,
                         emergency=emergency(fasting_glucose, sbp, dbp), emergency_referral=EMERGENCY_REFERRAL,
                         previous_uncontrolled=previous_uncontrolled,
                         consecutive_for_referral=CONSECUTIVE_UNCONTROLLED_FOR_REFERRAL,
                         complication_referral=COMPLICATION_REFERRAL)


INDICATORS = (
    Indicator("D1", "2型糖尿病患者管理率", "diabetes.managed", "task_diabetes", DenominatorKind.TASK_NUMBER,
              Source(" D1 (as H1) [appraisal-server][rpt-jkda]", "V"), PROGRAM,
              note="分母为估算或下达的患者数（任务数）"),
    Indicator("D2", "2型糖尿病患者基层规范管理服务率", "diabetes.standardized", "diabetes.managed",
              DenominatorKind.MANAGED_COHORT, Source(" D2 (as H2) [appraisal-server][rpt-jkda]", "V"), PROGRAM,
              note="分母为年内已管理患者"),
    Indicator("D3", "管理人群血糖控制率", "diabetes.controlled", "diabetes.managed",
              DenominatorKind.MANAGED_COHORT, Source(" D3 (末次随访空腹血糖) [appraisal-server][rpt-jkda]", "V"),
              PROGRAM, note="末次随访空腹血糖 < 7.0 mmol/L"),
    Indicator("D4", "2型糖尿病患者任务完成率", "diabetes.managed", "task_diabetes", DenominatorKind.TASK_NUMBER,
              Source("[city-rectification-2023]: 高血压/糖尿病任务完成率（省目标值 ≥100%）", "S"), PROGRAM),
    # like H5: 35+ first visits from consultation records (spec.programs.consultation)
    Indicator("D5", "35岁及以上居民首诊测血糖率", "consultation.glucose_measured", "consultation.first_visit",
              DenominatorKind.MANAGED_COHORT,
              Source(" D1–D5 [appraisal-server][rpt-jkda][B]; 国家基本公共卫生服务规范（第三版）2型糖尿病患者健康管理服务规范",
                     "B"),
              "consultation", note="年内首次门诊就诊（接诊记录）时年满35岁的居民中，首诊测量血糖的人数；按就诊机构统计"),
    Indicator("D6", "2型糖尿病患者随访率（至少2次随访）", "diabetes.followed_twice", "diabetes.managed",
              DenominatorKind.MANAGED_COHORT,
              Source("[pingliang-2020q2]: 第二季度2型糖尿病患者随访率（至少2次随访）为95.26%", "S"), PROGRAM,
              note="分子为本期（至报告期末）随访不少于2次（同日计1次，不区分随访方式）的已管理患者"),
    Indicator("D7", "血糖控制不满意患者健康指导率", "diabetes.uncontrolled_guided", "diabetes.uncontrolled_seen",
              DenominatorKind.MANAGED_COHORT,
              Source("[pingliang-2020q2]: 对随访血糖控制不满意人群中有健康指导意见或针对性就诊建议的人数占91.84%；"
                     "国家基本公共卫生服务规范（第三版）：控制不满意者调整用药、2周内随访或转诊 [spec2017-htn]", "S"), PROGRAM,
              note="分母为本期有“控制不满意”随访的已管理患者；分子为其中每次控制不满意随访都有健康指导、调整用药、"
                   "转诊或 2 周内复诊安排者"),
)

TARGETS = (
    Target("D2", 2022, 0.73, Source(f"{V28}（2022 年值）", "V"), region=UNIDENTIFIED_REGION),
    Target("D2", 2023, 0.76, Source(V28, "V"), region=UNIDENTIFIED_REGION),
    Target("D2", 2024, 0.64, Source(S4, "S"), region=BAOTOU),
    # [city-rectification-2023] measures its 2023 progress ("截至11月8日 … 争取最后两个月冲刺达标") against these 省目标值
    Target("D4", 2023, 1.00, Source(f"{S0}：2型糖尿病任务完成率 ≥100%", "S"), region=GUANGDONG),
    Target("D3", 2013, 0.50, Source("早期国家目标 控制率 50% [htn-dm-formulas-old]", "V")),
    Target("D1", 2013, 0.30, Source("早期国家目标 健康管理率 30% [htn-dm-formulas-old]", "V")),
)

DIRECTION = Comparator.GE

# Why a managed patient misses a numerator (drill-down 缺口原因). Keys name the engine's gap_* columns.
GAP_REASONS = {
    "visits_below_required": GapReason("DM-VISITS",
                                       "本期有效面对面随访（测空腹血糖）{visits_done} 次，少于应随访 {visits_required} 次"),
    "no_visit_q1": GapReason("DM-Q1", "第一季度无随访"),
    "no_visit_q2": GapReason("DM-Q2", "第二季度无随访"),
    "no_visit_q3": GapReason("DM-Q3", "第三季度无随访"),
    "no_visit_q4": GapReason("DM-Q4", "第四季度无随访"),
    "no_annual_exam": GapReason("DM-EXAM", "本年未做健康体检"),
    "no_measurement": GapReason("DM-NOFPG", "本期随访无空腹血糖记录"),
    "last_uncontrolled": GapReason("DM-FPG", "末次随访空腹血糖 {last_glucose} mmol/L 未控制"),
    "lost_to_follow_up": GapReason("DM-LOST", "末次随访 {last_follow_up} 后超过 {lost_months} 个月未随访，按失访计为未控制"),
    "uncontrolled_unguided": GapReason(
        "DM-UNGUIDED", "本期 {unanswered_visits} 次控制不满意随访未见健康指导、调整用药、转诊或 2 周内复诊安排"),
    "fewer_than_two_visits": GapReason("DM-FU2", "本期随访 {follow_up_days} 次，少于 {follow_ups_needed} 次"),
}
FLAG_REASONS = {
    "standardized": ("visits_below_required", "no_visit_q1", "no_visit_q2", "no_visit_q3", "no_visit_q4",
                     "no_annual_exam"),
    "controlled": ("no_measurement", "last_uncontrolled", "lost_to_follow_up"),
    "followed_twice": ("fewer_than_two_visits",),
    "uncontrolled_guided": ("uncontrolled_unguided",),
}
SCHEDULE = (
    ScheduledService("follow_up", "糖尿病随访", "next_visit_due", gap="visits_below_required"),
    ScheduledService("recheck", "血糖控制不满意2周内复诊", "recheck_due"),
    ScheduledService("annual_exam", "年度健康体检", "exam_due", gap="no_annual_exam"),
)
