"""高血压患者健康管理 — hypertension management ([spec2017-htn]).

Source: 国家基本公共卫生服务规范（第三版）(2017), hypertension chapter, and annual evaluation rules.
"""

from __future__ import annotations

import datetime as dt

from gongwei.spec.followup import (
    BloodPressureTarget,
    FollowUpRate,
    FollowUpRequirement,
    LostToFollowUp,
    UncontrolledAnswer,
    VisitProposal,
    by_region,
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

PROGRAM = Program.HYPERTENSION
SPEC_2017 = Source("国家基本公共卫生服务规范（第三版）高血压患者健康管理服务规范 [spec2017-htn]", "V")

# Who: residents aged 35 and over with essential hypertension — "辖区内35岁及以上常住居民中原发性高血压患者"
# (国家基本公共卫生服务规范（第三版）高血压患者健康管理服务规范, 服务对象 [htn-local-guide]). The cohort counts a patient
# once they are 35 on the period's last day (or on the day their management ended, if earlier).
MIN_AGE = 35

# Standardized management: ≥ 4 face-to-face follow-ups and one annual health exam [spec2017-htn][htn-stats-php]. Mid-year
# enrollees owe one visit per quarter managed through (floor(4 × covered quarters / 4), see FollowUpRequirement;
# "按季度随访，每年至少4次面对面随访" [dm-control-kunming]). Same-day duplicates count once and at most one visit a quarter
# counts (spread_by_quarter), so four visits in one December week are one visit [dm-control-kunming][U]. Phone visits do not
# count by default; newer indicator names "(不区分随访方式)" count them — switch ``counted_modes`` per year.
FOLLOW_UP = ByYear({
    2017: FollowUpRequirement(min_visits=4, counted_modes=FACE_TO_FACE_MODES, per_quarter=False,
                              annual_exam=True, prorate_mid_year=True, spread_by_quarter=True),
})

# Control: last measured follow-up SBP < 140 and DBP < 90 [htn-stats-php][htn-dm-formulas-old]; from 65 (completed years on the day
# of that visit) SBP < 150 — 国家基本公共卫生服务规范（第三版）高血压 分类干预 "血压控制满意" as local guides quote
# it: "老年高血压患者收缩压应控制在150mmHg以下" [V 1b: kleyou.com 17156659_5]; "老年" = 65 and over in the Chinese
# hypertension guideline (中国高血压防治指南2010: "年龄≥65岁…可定义为老年高血压", tsu.tw/xiyi/489772) [V]. The
# village doctor classes the visit by this target, so H3 and QC rule L-06 both use it. A province that counts
# every age against 140/90 (as the reporting code [htn-stats-php] does) overrides it in REGIONAL_CONTROL.
CONTROL = ByYear({2017: BloodPressureTarget(sbp=140, dbp=90, elderly_age=65, elderly_sbp=150)})
# Region code prefix → control target by year (most specific prefix wins), e.g.
# {"36": ByYear({2017: BloodPressureTarget(sbp=140, dbp=90)})} for a province applying 140/90 at every age.
REGIONAL_CONTROL: dict[str, ByYear[BloodPressureTarget]] = {}


def control_for(year: int, region_code: str = "") -> BloodPressureTarget:
    """The blood-pressure target in force for ``year`` in the region ``region_code``."""
    return by_region(CONTROL, REGIONAL_CONTROL, year, region_code)


# 失访: "若失访则判断为未达标" (control-rate indicator note quoted in gongwei issue 8; the document was not found
# with the search tool). Lost = last follow-up more than 3 months before the end of the patient's management in
# the period — one routine interval (quarterly follow-up, "按季度随访" [dm-control-kunming]; NEXT_VISIT_DAYS below) [U].
LOST_TO_FOLLOW_UP = ByYear({2017: LostToFollowUp(months=3)})

# 随访率（至少2次随访）: managed patients with ≥ 2 follow-ups (distinct days, any mode — the bulletin does not
# distinguish) in the period so far — "至第二季度全市高血压患者随访率（至少2次随访）为94.06％" ([pingliang-2020q2]).
FOLLOW_UP_RATE = ByYear({2017: FollowUpRate(min_visits=2)})
# 控制不满意 answered on the form (guidance, drugs adjusted, referral, or a recheck within 2 weeks):
# "对第一次出现控制不满意…2周内随访" [spec2017-htn][spec2017-dm-followup]; the published rate [pingliang-2020q2].
UNCONTROLLED_ANSWER = ByYear({2017: UncontrolledAnswer(max_next_days=14)})

# Emergency: SBP ≥ 180 or DBP ≥ 110 → urgent referral, follow the referral within 2 weeks [spec2017-htn].
EMERGENCY_SBP, EMERGENCY_DBP = 180, 110
EMERGENCY_REFERRAL = "紧急处理后转诊，2周内主动随访转诊情况"
# A new complication or a worse one → referral, followed up within 2 weeks [spec2017-htn].
COMPLICATION_REFERRAL = "出现新的并发症或原有并发症加重，建议转诊，2周内主动随访转诊情况"

# Next follow-up by visit class [spec2017-htn]: uncontrolled / adverse reaction / complication → within 2 weeks
# [spec2017-htn]; controlled → routine, one per quarter by default [B].
NEXT_VISIT_DAYS = {
    FollowUpClass.CONTROLLED: 90,
    FollowUpClass.UNCONTROLLED: 14,
    FollowUpClass.ADVERSE_REACTION: 14,
    FollowUpClass.COMPLICATION: 14,
}
# Two consecutive uncontrolled visits → referral [spec2017-htn].
CONSECUTIVE_UNCONTROLLED_FOR_REFERRAL = 2



def emergency(sbp: int | None, dbp: int | None) -> tuple[str, ...]:
    """The emergency findings of one reading (empty: none)."""
    found = []
    if sbp is not None and sbp >= EMERGENCY_SBP:
        found.append(f"收缩压 {sbp} ≥ {EMERGENCY_SBP} mmHg")
    if dbp is not None and dbp >= EMERGENCY_DBP:
        found.append(f"舒张压 {dbp} ≥ {EMERGENCY_DBP} mmHg")
    return tuple(found)


def propose(service_date: dt.date, *, age: int | None, sbp: int | None, dbp: int | None,
            adverse_reaction: bool = False, complication: bool = False, previous_uncontrolled: int = 0,
            region_code: str = "", **_: object) -> VisitProposal:
    """The class, next-visit date and emergency of a hypertension follow-up as entered: controlled against the
    target for the visit's year and the patient's age on that day (control_for: 150/90 from 65)."""
    target = control_for(service_date.year, region_code)
    met, text = None, ""
    if sbp is not None and dbp is not None:
        limit = target.sbp_limit(age)
        met = target.met(sbp, dbp, age)
        aged = f"（{target.elderly_age}岁及以上）" if limit != target.sbp else ""
        text = f"血压 {sbp}/{dbp} mmHg {'达到' if met else '未达到'}控制目标 <{limit}/{target.dbp}{aged}"
    return propose_visit(service_date=service_date, target_met=met, target_text=text,
                         adverse_reaction=adverse_reaction, complication=complication, next_days=NEXT_VISIT_DAYS,
                         emergency=emergency(sbp, dbp), emergency_referral=EMERGENCY_REFERRAL,
                         previous_uncontrolled=previous_uncontrolled,
                         consecutive_for_referral=CONSECUTIVE_UNCONTROLLED_FOR_REFERRAL,
                         complication_referral=COMPLICATION_REFERRAL)


INDICATORS = (
    Indicator("H1", "高血压患者管理率", "hypertension.managed", "task_hypertension", DenominatorKind.TASK_NUMBER,
              Source(" H1 [htn-stats-php][htn-dm-formulas-old]", "V"), PROGRAM,
              note="分母为估算或下达的患者数（任务数）"),
    Indicator("H2", "高血压患者基层规范管理服务率", "hypertension.standardized", "hypertension.managed",
              DenominatorKind.MANAGED_COHORT, Source(" H2 [appraisal-server][rpt-jkda][htn-stats-php]", "V"), PROGRAM,
              note="分母为年内已管理患者（Baotou 2024: 18.18万 / 73.30%）"),
    Indicator("H3", "管理人群血压控制率", "hypertension.controlled", "hypertension.managed",
              DenominatorKind.MANAGED_COHORT, Source(" H3 [appraisal-server][htn-dm-formulas-old]", "V"), PROGRAM),
    Indicator("H4", "高血压患者任务完成率", "hypertension.managed", "task_hypertension", DenominatorKind.TASK_NUMBER,
              Source("[city-rectification-2023]: 高血压任务完成率 93.90%（省目标值 ≥100%）", "S"), PROGRAM),
    # 35+ first visits come from consultation records (接诊记录), not from the enrolled patients: the state
    # table is spec.programs.consultation's.
    Indicator("H5", "35岁及以上居民首诊测血压率", "consultation.bp_measured", "consultation.first_visit",
              DenominatorKind.MANAGED_COHORT,
              Source(" H5 [appraisal-server][rpt-jkda][B]; 国家基本公共卫生服务规范（第三版）高血压患者健康管理服务规范", "B"),
              "consultation", note="年内首次门诊就诊（接诊记录）时年满35岁的居民中，首诊测量血压的人数；按就诊机构统计"),
    Indicator("H6", "高血压患者随访率（至少2次随访）", "hypertension.followed_twice", "hypertension.managed",
              DenominatorKind.MANAGED_COHORT,
              Source("[pingliang-2020q2]: 至第二季度全市高血压患者随访率（至少2次随访）为94.06％", "S"), PROGRAM,
              note="分子为本期（至报告期末）随访不少于2次（同日计1次，不区分随访方式）的已管理患者"),
    Indicator("H7", "血压控制不满意患者健康指导率", "hypertension.uncontrolled_guided", "hypertension.uncontrolled_seen",
              DenominatorKind.MANAGED_COHORT,
              Source("[pingliang-2020q2]: 对随访血压控制不满意人群中有健康指导意见或针对性就诊建议的人数占95.46%；"
                     "国家基本公共卫生服务规范（第三版）：控制不满意者调整用药、2周内随访或转诊 [spec2017-htn]", "S"), PROGRAM,
              note="分母为本期有“控制不满意”随访的已管理患者；分子为其中每次控制不满意随访都有健康指导、调整用药、"
                   "转诊或 2 周内复诊安排者"),
)


TARGETS = (
    Target("H2", 2022, 0.73, Source(f"{V28}（2022 年值）", "V"), region=UNIDENTIFIED_REGION),
    Target("H2", 2023, 0.76, Source(V28, "V"), region=UNIDENTIFIED_REGION),
    Target("H2", 2024, 0.64, Source(S4, "S"), region=BAOTOU),
    # [city-rectification-2023] measures its 2023 progress ("截至11月8日 … 争取最后两个月冲刺达标") against these 省目标值
    Target("H4", 2023, 1.00, Source(f"{S0}：高血压任务完成率 ≥100%", "S"), region=GUANGDONG),
    Target("H3", 2013, 0.50, Source("早期国家目标 控制率 50% [htn-dm-formulas-old]", "V")),
    Target("H1", 2013, 0.30, Source("早期国家目标 健康管理率 30% [htn-dm-formulas-old]", "V")),
)

DIRECTION = Comparator.GE

# Why a managed patient misses a numerator (drill-down 缺口原因). Keys name the engine's gap_* columns.
GAP_REASONS = {
    "visits_below_required": GapReason("HTN-VISITS",
                                       "本期有效面对面随访 {visits_done} 次，少于应随访 {visits_required} 次"),
    "no_visit_q1": GapReason("HTN-Q1", "第一季度无随访"),
    "no_visit_q2": GapReason("HTN-Q2", "第二季度无随访"),
    "no_visit_q3": GapReason("HTN-Q3", "第三季度无随访"),
    "no_visit_q4": GapReason("HTN-Q4", "第四季度无随访"),
    "no_annual_exam": GapReason("HTN-EXAM", "本年未做健康体检"),
    "no_measurement": GapReason("HTN-NOBP", "本期随访无血压记录"),
    "last_uncontrolled": GapReason("HTN-BP", "末次随访血压 {last_sbp}/{last_dbp} 未控制"),
    "lost_to_follow_up": GapReason("HTN-LOST", "末次随访 {last_follow_up} 后超过 {lost_months} 个月未随访，按失访计为未控制"),
    "uncontrolled_unguided": GapReason(
        "HTN-UNGUIDED", "本期 {unanswered_visits} 次控制不满意随访未见健康指导、调整用药、转诊或 2 周内复诊安排"),
    "fewer_than_two_visits": GapReason("HTN-FU2", "本期随访 {follow_up_days} 次，少于 {follow_ups_needed} 次"),
}
# Which reasons explain a missing numerator flag.
FLAG_REASONS = {
    "standardized": ("visits_below_required", "no_visit_q1", "no_visit_q2", "no_visit_q3", "no_visit_q4",
                     "no_annual_exam"),
    "controlled": ("no_measurement", "last_uncontrolled", "lost_to_follow_up"),
    "followed_twice": ("fewer_than_two_visits",),
    "uncontrolled_guided": ("uncontrolled_unguided",),
}
# What the worklist tracks (due dates computed by the engine from the same rules).
SCHEDULE = (
    ScheduledService("follow_up", "高血压随访", "next_visit_due", gap="visits_below_required"),
    ScheduledService("recheck", "血压控制不满意2周内复诊", "recheck_due"),
    ScheduledService("annual_exam", "年度健康体检", "exam_due", gap="no_annual_exam"),
)
