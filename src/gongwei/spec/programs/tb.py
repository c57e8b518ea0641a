"""肺结核患者健康管理 — pulmonary tuberculosis (domain-spec.md §2.10, §4.4 T1–T2, §5, §10).

Source: 国家基本公共卫生服务规范（第三版）(2017), tuberculosis chapter [V 20][V 21].

An episode (疗程) is one TB enrolment: ``start_date`` is the day the designated institution notified the primary
institution (通知日期), ``end_date`` with ``end_reason = completed`` closes a completed course. Follow-ups belong
to an episode through their ``enrollment`` link (or, without a link, by falling between its start and end).
"""

from __future__ import annotations

from gongwei.spec.rules import (
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
SPEC_2017 = Source("国家基本公共卫生服务规范（第三版）肺结核患者健康管理服务规范 [V 20]", "V")

# First home visit within 72 hours of the notification [V 20]. Records carry dates only, so the deadline is
# the notification date + 3 days (a visit on that day is on time).
FIRST_VISIT_MAX_HOURS = 72
FIRST_VISIT_MAX_DAYS = FIRST_VISIT_MAX_HOURS // 24
FIRST_VISIT_TYPE = TbVisitType.FIRST_HOME_VISIT
CLOSING_VISIT_TYPE = TbVisitType.CLOSING

# Managed (T1): the first home visit was made (at any delay) by the end of the period. A visit later than 72 h
# still counts as management; its lateness is reported as the state column ``first_visit_late`` [B].

# Supervised follow-up [V 20]: family-member supervision → every 10 days in the intensive phase, monthly in
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
# (domain-spec.md §2.10, §11.7: "90%以上", not re-read). Compared as taken × 100 ≥ due × 90.
REGULAR_MEDICATION_PERCENT = 90
COMPLETED = EnrollmentEndReason.TREATMENT_COMPLETED

INDICATORS = (
    Indicator("T1", "肺结核患者管理率", "tb.managed", "tb.notified", DenominatorKind.MANAGED_COHORT,
              Source("domain-spec.md §4.4 T1 [V 55a][V 55b]", "V"), PROGRAM,
              note="分母为期内经定点医疗机构确诊并通知基层管理的患者；已管理 = 期末前完成第一次入户随访"),
    Indicator("T2", "肺结核患者规则服药率", "tb.regular", "tb.completed", DenominatorKind.MANAGED_COHORT,
              Source("domain-spec.md §4.4 T2 [V 55a][V 55b]", "V"), PROGRAM,
              note=f"分母为期内完成治疗（结案）的患者；全疗程实际服药次数 ≥ 应服药次数的 {REGULAR_MEDICATION_PERCENT}%"),
)

TARGETS = (
    Target("T1", 2023, 0.90, Source(V28, "V"), region=UNIDENTIFIED_REGION),
    Target("T1", 2024, 0.90, Source(S4, "S"), region=BAOTOU),
)

DIRECTION = Comparator.GE

GAP_REASONS = {
    "first_visit_overdue": GapReason("TB-72H", "{notified_on} 通知管理，已超过72小时仍未进行第一次入户随访"),
    "first_visit_pending": GapReason("TB-72H-DUE", "{notified_on} 通知管理，第一次入户随访尚未完成（72小时期限未到）"),
    "no_dose_records": GapReason("TB-NODOSE", "全疗程无应服药/实际服药次数记录"),
    "doses_below": GapReason(
        "TB-DOSES",
        f"全疗程实际服药 {{doses_taken}} 次，应服药 {{doses_due}} 次，未达到 {REGULAR_MEDICATION_PERCENT}%"),
}
FLAG_REASONS = {
    "managed": ("first_visit_overdue", "first_visit_pending"),
    "regular": ("no_dose_records", "doses_below"),
}
SCHEDULE = (
    ScheduledService("first_visit", "肺结核患者第一次入户随访（通知后72小时内）", "first_visit_due",
                     gap="first_visit_overdue"),
    ScheduledService("follow_up", "肺结核患者督导随访（家属督导强化期每10天，其余每月）", "next_visit_due"),
    ScheduledService("closing", "肺结核患者结案评估", "closing_due"),
)
