"""慢阻肺病患者健康服务 — COPD patient health service, added 2024 ([copd-2024]).

The 2024 service specification (慢阻肺病患者健康服务规范（试行）) was **not found** ([copd-2024];
searched again for gongwei issue 8 — the stored pages hold only the 2024-09-13 announcement [copd-2024]: "为辖区内的
已确诊慢阻肺病患者建立健康档案，并免费提供追踪查访、常规检查等健康服务"). Age floor, number of follow-ups a year and
their content stay unverified. COPD is therefore a configurable chronic program — already-diagnosed patients,
N follow-ups a year (one a day counted), one annual exam — with N set below and tagged U until the text is read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from gongwei.spec.followup import FollowUpRequirement, VisitProposal, propose_visit
from gongwei.spec.programs import hypertension
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
from gongwei.spec.vocab import FACE_TO_FACE_MODES, FollowUpClass, Program

PROGRAM = Program.COPD
NOTICE_2024 = Source("2024年国家基本公共卫生服务项目通知：开展慢性阻塞性肺疾病患者健康服务 [notice-2024][copd-2024]", "V")
SPEC_UNVERIFIED = Source("[copd-2024]: 服务规范未找到，随访次数按高血压/糖尿病规则配置", "U")

# Who: residents with an already-confirmed COPD diagnosis [copd-2024]; age floor unknown, so none is applied.
MIN_AGE = None
# The service exists from 2024 (announced 2024-09-13 [copd-2024]); earlier periods have nobody managed.
START_YEAR = 2024

# Standardized management: N face-to-face follow-ups a year and one annual exam. N = 4 mirrors hypertension
# and diabetes [U] ([copd-2024] "fill in N once the spec is obtained"); mid-year pro-rating as there.
FOLLOW_UP = ByYear({
    2024: FollowUpRequirement(min_visits=4, counted_modes=FACE_TO_FACE_MODES, per_quarter=False,
                              annual_exam=True, prorate_mid_year=True),
})

# No control target and no class-based recheck is defined for COPD (the spec is unknown): the engine computes
# no control flag and no recheck due date for a program without CONTROL / with an empty NEXT_VISIT_DAYS.
NEXT_VISIT_DAYS: dict = {}

# At entry (the follow-up form, issue 11 §4). With no control target a COPD visit is classed only when the chronic
# form's shared precedence says so — a new or worse complication (refer) or a drug reaction —, otherwise it stays
# unclassed. The next visit is proposed one routine interval later: the configured visits of the year spread
# evenly (365 ÷ N days), or within 2 weeks after a reaction or complication, as the hypertension and diabetes
# specifications ask [spec2017-htn] — both carried over to COPD until its specification is read [U].
def form_next_visit_days(year: int) -> dict[FollowUpClass, int]:
    routine = 365 // FOLLOW_UP.for_year(max(year, START_YEAR)).min_visits
    return {FollowUpClass.CONTROLLED: routine, FollowUpClass.UNCONTROLLED: routine,
            FollowUpClass.ADVERSE_REACTION: hypertension.NEXT_VISIT_DAYS[FollowUpClass.ADVERSE_REACTION],
            FollowUpClass.COMPLICATION: hypertension.NEXT_VISIT_DAYS[FollowUpClass.COMPLICATION]}


COMPLICATION_REFERRAL = hypertension.COMPLICATION_REFERRAL  # carried over, as above [U]
NO_CONTROL_TARGET = "慢阻肺病无控制目标（服务规范未核实），本次随访不分控制满意与否"


def propose(service_date: dt.date, *, adverse_reaction: bool = False, complication: bool = False,
            **_: object) -> VisitProposal:
    """The class (only 不良反应 / 并发症), next-visit date and referral of a COPD follow-up as entered."""
    got = propose_visit(service_date=service_date, target_met=None, target_text="", adverse_reaction=adverse_reaction,
                        complication=complication, next_days=form_next_visit_days(service_date.year), emergency=(),
                        emergency_referral="", complication_referral=COMPLICATION_REFERRAL)
    if got.classification is None:  # "not measured" is the wrong reason here: there is nothing to measure against
        got = replace(got, why=NO_CONTROL_TARGET)
    return got


INDICATORS = (
    Indicator("COPD1", "慢阻肺病患者健康管理人数（任务完成率）", "copd.managed", "task_copd", DenominatorKind.TASK_NUMBER,
              Source("[baotou-2025]: 慢阻肺病患者健康管理 年度目标要求1913人，完成2306人", "S"), PROGRAM,
              note="分子为年内已管理患者数；目标常以人数下达（[baotou-2025]）"),
    Indicator("COPD2", "慢阻肺病患者规范管理率", "copd.standardized", "copd.managed",
              DenominatorKind.MANAGED_COHORT, SPEC_UNVERIFIED, PROGRAM,
              note="规范管理 = 年内随访次数达到配置次数并完成年度体检（服务规范未核实）"),
)

TARGETS = (
    # An absolute count for the whole city (compared with the numerator); region = the city's own code so
    # that it is not applied to each county and township below it.
    Target("COPD1", 2024, 1913, Source("包头市 2024 年慢阻肺病患者健康管理 年度目标要求1913人（[baotou-2025]）", "S"),
           region="150200000000", unit="count"),
)

DIRECTION = Comparator.GE

GAP_REASONS = {
    "visits_below_required": GapReason("COPD-VISITS", "本期面对面随访 {visits_done} 次，少于应随访 {visits_required} 次"),
    "no_visit_q1": GapReason("COPD-Q1", "第一季度无随访"),
    "no_visit_q2": GapReason("COPD-Q2", "第二季度无随访"),
    "no_visit_q3": GapReason("COPD-Q3", "第三季度无随访"),
    "no_visit_q4": GapReason("COPD-Q4", "第四季度无随访"),
    "no_annual_exam": GapReason("COPD-EXAM", "本年未做健康体检"),
}
FLAG_REASONS = {
    "standardized": ("visits_below_required", "no_visit_q1", "no_visit_q2", "no_visit_q3", "no_visit_q4",
                     "no_annual_exam"),
}
SCHEDULE = (
    ScheduledService("follow_up", "慢阻肺病随访", "next_visit_due", gap="visits_below_required"),
    ScheduledService("annual_exam", "年度健康体检", "exam_due", gap="no_annual_exam"),
)
