"""肺结核患者健康管理 — pulmonary tuberculosis ([spec2017-tb] T1–T3).

Source: 国家基本公共卫生服务规范（第三版）(2017), tuberculosis chapter [spec2017-tb][tb-phone-followup].

An episode (疗程) is one TB enrolment: ``start_date`` is the day the designated institution notified the primary
institution (通知日期), ``end_date`` with ``end_reason = completed`` closes a completed course. Follow-ups belong
to an episode through their ``enrollment`` link (or, without a link, by falling between its start and end).
"""

from __future__ import annotations

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
from gongwei.spec.vocab import EnrollmentEndReason, Program, TbPhase, TbSupervisor, TbVisitType

PROGRAM = Program.TB
SPEC_2017 = Source("国家基本公共卫生服务规范（第三版）肺结核患者健康管理服务规范 [spec2017-tb]", "V")

# First home visit within 72 hours of the notification. Text re-read: "接到上级专业机构管理肺结核患者的通知单后，
# 要在72小时内访视患者" (国家基本公共卫生服务规范（第三版）肺结核患者健康管理服务规范 [spec2017-tb]; quoted verbatim on
# 中牟县卫生健康委员会 基层政务公开·肺结核患者健康管理, https://zm.jiceng.zhengzhou.gov.cn/021011001/6610604.jhtml [V]).
# A parameter by year (a later edition may change it). Records carry dates only, so the deadline is the
# notification date + hours // 24 days (a visit on that day is on time).
FIRST_VISIT_WITHIN_HOURS = ByYear({2017: 72})
FIRST_VISIT_SOURCE = Source("国家基本公共卫生服务规范（第三版）肺结核患者健康管理服务规范：通知单后72小时内访视 [spec2017-tb]", "V")
FIRST_VISIT_MAX_HOURS = FIRST_VISIT_WITHIN_HOURS.for_year(2017)  # for labels; rules use first_visit_max_days


def first_visit_max_days(year: int) -> int:
    """Days after the notification date by which the first home visit is on time in ``year``."""
    return FIRST_VISIT_WITHIN_HOURS.for_year(year) // 24


FIRST_VISIT_MAX_DAYS = first_visit_max_days(2017)
FIRST_VISIT_TYPE = TbVisitType.FIRST_HOME_VISIT
CLOSING_VISIT_TYPE = TbVisitType.CLOSING

# Managed (T1): the first home visit was made by the end of the period. T1's wording counts patients managed,
# not visited in time [appraisal-server][rpt-jkda], so by default a visit later than 72 h still counts and its lateness is the
# state column ``first_visit_late``; a region that counts only timely first visits switches this on [U].
MANAGED_REQUIRES_TIMELY_FIRST_VISIT = ByYear({2017: False})

# Supervised follow-up [spec2017-tb]: family-member supervision → every 10 days in the intensive phase, monthly in
# the continuation phase (the monthly part is [B]); medical-staff supervision → a follow-up record at least
# monthly. Self-administered and other supervision are treated as monthly [B].
INTENSIVE_VISIT_DAYS = 10
MONTHLY_VISIT_DAYS = 30
TEN_DAY_SUPERVISORS = (TbSupervisor.FAMILY,)
# Standard regimen for a new patient: 2 months intensive, 6 months in all [B]. Used only to place the end of the
# intensive phase when a visit records no phase, and the closing assessment's due date.
INTENSIVE_PHASE_DAYS = 60
TREATMENT_DAYS = 180
CONTINUATION = TbPhase.CONTINUATION

# Regular medication (规则服药, T2): over the whole course, doses actually taken ≥ 90% of the doses due [B]
# ([spec2017-tb]: "90%以上", not re-read). Compared as taken × 100 ≥ due × 90.
REGULAR_MEDICATION_PERCENT = 90
COMPLETED = EnrollmentEndReason.TREATMENT_COMPLETED

# Follow-up rate of open cases (T3), as a provincial progress bulletin counts it: "管理肺结核患者（未结案）600人，
# 随访344人，随访率为57.33%" (平凉市2020年第二季度基本公卫服务项目工作进度情况的通报 [pingliang-2020q2]). Open case: notified by the
# period end and not closed (no end date, or one after the period end). Followed up: any follow-up record of the
# episode (the first home visit included) in the window: the period itself when None, else the last N days up to
# the period end [I: the bulletin does not say which; the specification asks for a record at least monthly].
OPEN_CASE_FOLLOW_UP_DAYS: int | None = None

INDICATORS = (
    Indicator("T1", "肺结核患者管理率", "tb.managed", "tb.notified", DenominatorKind.MANAGED_COHORT,
              Source(" T1 [appraisal-server][rpt-jkda]", "V"), PROGRAM,
              note="分母为期内经定点医疗机构确诊并通知基层管理的患者；已管理 = 期末前完成第一次入户随访"),
    Indicator("T2", "肺结核患者规则服药率", "tb.regular", "tb.completed", DenominatorKind.MANAGED_COHORT,
              Source(" T2 [appraisal-server][rpt-jkda]", "V"), PROGRAM,
              note=f"分母为期内完成治疗（结案）的患者；全疗程实际服药次数 ≥ 应服药次数的 {REGULAR_MEDICATION_PERCENT}%"),
    Indicator("T3", "未结案肺结核患者随访率", "tb.open_followed", "tb.open_case", DenominatorKind.MANAGED_COHORT,
              Source("平凉市2020年第二季度基本公卫服务项目工作进度情况的通报：管理肺结核患者（未结案）600人，"
                     "随访344人，随访率57.33% [pingliang-2020q2]", "S"), PROGRAM,
              note="分母为期末未结案（已通知管理、期末未结束疗程）的患者；分子为其中统计期内有随访记录（含第一次入户随访）者"),
)

TARGETS = (
    Target("T1", 2023, 0.90, Source(V28, "V"), region=UNIDENTIFIED_REGION),
    Target("T1", 2024, 0.90, Source(S4, "S"), region=BAOTOU),
)

DIRECTION = Comparator.GE

GAP_REASONS = {
    "first_visit_overdue": GapReason("TB-72H", "{notified_on} 通知管理，已超过72小时仍未进行第一次入户随访"),
    "first_visit_pending": GapReason("TB-72H-DUE", "{notified_on} 通知管理，第一次入户随访尚未完成（72小时期限未到）"),
    "first_visit_late": GapReason("TB-72H-LATE", "第一次入户随访晚于通知后72小时"),
    "no_dose_records": GapReason("TB-NODOSE", "全疗程无应服药/实际服药次数记录"),
    "doses_below": GapReason(
        "TB-DOSES",
        f"全疗程实际服药 {{doses_taken}} 次，应服药 {{doses_due}} 次，未达到 {REGULAR_MEDICATION_PERCENT}%"),
    "open_not_followed": GapReason(
        "TB-OPEN-NOFU", "未结案，" + ("统计期内" if OPEN_CASE_FOLLOW_UP_DAYS is None
                                  else f"期末前{OPEN_CASE_FOLLOW_UP_DAYS}天内") + "无随访记录"),
}
FLAG_REASONS = {
    "managed": ("first_visit_overdue", "first_visit_pending", "first_visit_late"),
    "regular": ("no_dose_records", "doses_below"),
    "open_followed": ("open_not_followed",),
}
SCHEDULE = (
    ScheduledService("first_visit", "肺结核患者第一次入户随访（通知后72小时内）", "first_visit_due",
                     gap="first_visit_overdue"),
    ScheduledService("follow_up", "肺结核患者督导随访（家属督导强化期每10天，其余每月）", "next_visit_due"),
    ScheduledService("closing", "肺结核患者结案评估", "closing_due"),
)
