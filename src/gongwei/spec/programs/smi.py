"""严重精神障碍患者管理 — severe mental disorders ([spec2017-smi] P1–P4).

Source: 国家基本公共卫生服务规范（第三版）(2017), severe mental disorders chapter [spec2017-smi], class intervals and
annual exam [smi-intervals][smi-classification], national reporting measures [smi-indicators-2017].

Cohort: registered (登记在册) patients = enrolled in the program at some time in the period, record not merged
and not closed before it. **Living at home (在家居住)**: the follow-up form records whether the patient lives at
home (``SmiFollowUp.living_at_home``; false while in hospital, in an institution or away). A registered patient
is a home-living patient (在册居家) unless the last follow-up of the period records otherwise — a patient with
no follow-up in the period is presumed at home, so an unvisited patient stays in the denominator (:data:`AT_HOME`).
P2 and P3, the indicators of 在册居家 patients, count only home-living patients in both numerator and
denominator; P1 and P4 keep all registered patients.
"""

from __future__ import annotations

from gongwei.spec.followup import FollowUpRequirement
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
from gongwei.spec.target_sources import BAOTOU, S4, UNIDENTIFIED_REGION, V28
from gongwei.spec.vocab import Adherence, FollowUpMode, Program, SmiClass

PROGRAM = Program.SMI
SPEC_2017 = Source("国家基本公共卫生服务规范（第三版）严重精神障碍患者管理服务规范 [spec2017-smi]", "V")

# Standardized management (P1): ≥ 4 follow-ups a year, each with a risk assessment [spec2017-smi]; mid-year enrollees
# pro-rated by quarter as for the chronic programs [B]. The SMI spec allows clinic, phone and home follow-ups
# (随访形式包括门诊、电话追踪和家庭访视) [B] → all modes count; no annual exam in P1 (it is P3).
FOLLOW_UP = ByYear({
    2017: FollowUpRequirement(min_visits=4, counted_modes=frozenset(FollowUpMode), per_quarter=False,
                              annual_exam=False, prorate_mid_year=True),
})
# Only follow-ups with a risk grade (危险性评估 0–5) count towards P1 [spec2017-smi][appraisal-server].
REQUIRE_RISK_GRADE = True

# Classification from the risk grade when a follow-up has no class recorded [spec2017-smi][smi-intervals]: 0 → stable,
# 1–2 → basically stable, 3–5 → unstable. (The full rule also weighs symptoms, insight, adverse reactions and
# physical illness; a recorded class always wins.)
CLASS_BY_RISK_GRADE = {0: SmiClass.STABLE, 1: SmiClass.BASICALLY_STABLE, 2: SmiClass.BASICALLY_STABLE,
                       3: SmiClass.UNSTABLE, 4: SmiClass.UNSTABLE, 5: SmiClass.UNSTABLE}

# Next follow-up by class [spec2017-smi][smi-intervals][smi-classification]: unstable → within 2 weeks; basically stable → observe 2 weeks
# (then 3 months if stable); stable → 3 months.
NEXT_VISIT_DAYS = {
    SmiClass.UNSTABLE: 14,
    SmiClass.BASICALLY_STABLE: 14,
    SmiClass.STABLE: 90,
}
# P1's "class-based intervals" (): after a follow-up in these classes the next one must
# come within NEXT_VISIT_DAYS; a missed 2-week follow-up makes the year non-standardized. The stable class's
# 3-month interval is not checked (the ≥ 4-a-year count already asks for one a quarter) [B].
INTERVAL_CHECKED_CLASSES = (SmiClass.UNSTABLE, SmiClass.BASICALLY_STABLE)

# 在册居家: read from the last follow-up of the period; no follow-up → presumed at home [I] (the national
# indicator names 社区在册居家严重精神障碍患者 [rpt-jkda][prov-targets-2023]; how "居家" is recorded is not in the sources found).
AT_HOME = "last_follow_up_or_presumed"

# Regular medication (规律服药): on medication with adherence "规律" at the last follow-up [smi-indicators-2017].
REGULAR_ADHERENCE = Adherence.REGULAR

_V19 = "[smi-indicators-2017] 国家严重精神障碍信息系统 2017 年报告指标"
INDICATORS = (
    Indicator("P1", "严重精神障碍患者规范管理率", "smi.standardized", "smi.registered",
              DenominatorKind.MANAGED_COHORT, Source(" P1 [appraisal-server][rpt-jkda][smi-indicators-2017]", "V"), PROGRAM,
              note="年内有危险性评估的随访 ≥ 4 次（年中纳入按季度折算），且病情不稳定/基本稳定后 2 周内再次随访"),
    Indicator("P2", "社区在册居家严重精神障碍患者健康管理率", "smi.managed_at_home", "smi.at_home",
              DenominatorKind.MANAGED_COHORT, Source(" P2 [rpt-jkda][shangdang-2023][prov-targets-2023]", "V"), PROGRAM,
              note="分母为在家居住的在册患者（末次随访记录为在家居住，或本期无随访）；年内至少随访 1 次（任何随访方式）"),
    Indicator("P3", "在册居家严重精神障碍患者健康体检率", "smi.examined_at_home", "smi.at_home",
              DenominatorKind.MANAGED_COHORT, Source(" P3 [prov-targets-2023]（2023 年新增）", "V"), PROGRAM,
              note="分母为在家居住的在册患者；年内有健康体检记录（任何体检类型）"),
    Indicator("P4a", "严重精神障碍患者服药率", "smi.on_medication", "smi.registered",
              DenominatorKind.MANAGED_COHORT, Source(f"[spec2017-smi] P4 {_V19}", "V"), PROGRAM,
              note="末次随访服药"),
    Indicator("P4b", "严重精神障碍患者规律服药率", "smi.regular_medication", "smi.registered",
              DenominatorKind.MANAGED_COHORT, Source(f"[spec2017-smi] P4 {_V19}", "V"), PROGRAM,
              note="末次随访服药且依从性为规律"),
    Indicator("P4c", "严重精神障碍患者病情稳定率", "smi.stable", "smi.managed",
              DenominatorKind.MANAGED_COHORT, Source(f"[spec2017-smi] P4 {_V19}", "V"), PROGRAM,
              note="分母为年内随访患者；末次随访病情稳定"),
)

TARGETS = (
    Target("P2", 2022, 0.90, Source(f"{V28}（2022 年值）", "V"), region=UNIDENTIFIED_REGION),
    Target("P2", 2023, 0.95, Source(V28, "V"), region=UNIDENTIFIED_REGION),
    Target("P2", 2024, 0.80, Source(S4, "S"), region=BAOTOU),
    Target("P1", 2021, 0.85, Source("国家卫生城市标准（2021年版）：严重精神障碍患者规范管理率 ≥ 85% [health-city-2021]", "V")),
    Target("P3", 2023, 0.60, Source(f"{V28}（新增指标）", "V"), region=UNIDENTIFIED_REGION),
)

DIRECTION = Comparator.GE

GAP_REASONS = {
    "visits_below_required": GapReason("SMI-VISITS",
                                       "本期有危险性评估的随访 {visits_done} 次，少于应随访 {visits_required} 次"),
    "no_visit_q1": GapReason("SMI-Q1", "第一季度无随访"),
    "no_visit_q2": GapReason("SMI-Q2", "第二季度无随访"),
    "no_visit_q3": GapReason("SMI-Q3", "第三季度无随访"),
    "no_visit_q4": GapReason("SMI-Q4", "第四季度无随访"),
    "recheck_missed": GapReason("SMI-2W", "病情不稳定或基本稳定的随访后 {rechecks_missed} 次未在2周内再次随访"),
    "no_follow_up": GapReason("SMI-NOFU", "本期无随访记录"),
    "no_annual_exam": GapReason("SMI-EXAM", "本年未做健康体检"),
    "no_exam_yet": GapReason("SMI-EXAM-YTD", "本年尚未做健康体检"),
    "not_on_medication": GapReason("SMI-NOMED", "末次随访未服药"),
    "not_regular": GapReason("SMI-IRREG", "末次随访服药不规律（依从性非“规律”）"),
    "last_unstable": GapReason("SMI-UNSTABLE", "末次随访病情不稳定"),
    "last_basically_stable": GapReason("SMI-BASIC", "末次随访病情基本稳定"),
    "last_unclassified": GapReason("SMI-NOCLASS", "末次随访未评估病情（无分类、无危险性评估）"),
}
FLAG_REASONS = {
    "standardized": ("visits_below_required", "no_visit_q1", "no_visit_q2", "no_visit_q3", "no_visit_q4",
                     "recheck_missed"),
    "managed": ("no_follow_up",),
    "examined": ("no_annual_exam", "no_exam_yet"),
    "managed_at_home": ("no_follow_up",),
    "examined_at_home": ("no_annual_exam", "no_exam_yet"),
    "on_medication": ("no_follow_up", "not_on_medication"),
    "regular_medication": ("no_follow_up", "not_on_medication", "not_regular"),
    "stable": ("last_unstable", "last_basically_stable", "last_unclassified"),
}
SCHEDULE = (
    ScheduledService("follow_up", "严重精神障碍患者随访", "next_visit_due", gap="visits_below_required"),
    ScheduledService("class_visit", "按病情分类随访（不稳定/基本稳定2周内，稳定3个月）", "class_visit_due"),
    ScheduledService("annual_exam", "年度健康体检", "exam_due", gap="no_annual_exam"),
)
