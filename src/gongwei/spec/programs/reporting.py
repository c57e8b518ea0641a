"""传染病及突发公共卫生事件报告和处理 — notifiable-disease reporting (domain-spec.md §2.12, §4.4 ID1–ID3, §5).

One state row per report card (传染病报告卡) whose diagnosis falls in the period (local date), at the
reporting unit; ``resident_id`` is the patient when known.

* **registered**: every card of the period (登记的病例).
* **reported**: reported online (网络直报) — ``reported_at`` filled.
* **on_time**: reported within the deadline of its disease class after diagnosis (:data:`DEADLINE_HOURS`).

An unreported card is a gap once its deadline has passed by the end of the period (and is then overdue on
the worklist); before that it is pending.
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
from gongwei.spec.vocab import DiseaseClass

PROGRAM = "reporting"

# Reporting deadlines in hours after diagnosis (domain-spec.md §2.12 [V 23][V 24]): class A and class B
# managed as A (pulmonary anthrax, SARS; polio and human HPAI in the 2006 rules) within 2 h; other B and C
# cases within 24 h. The 2026 revision keeps the 2-hour rule.
DEADLINE_HOURS = ByYear({2006: {
    DiseaseClass.A.value: 2,
    DiseaseClass.B_AS_A.value: 2,
    DiseaseClass.B.value: 24,
    DiseaseClass.C.value: 24,
}})
DEADLINE_SOURCE = Source("传染病信息报告管理规范（2006/2015年版；2026年版保留2小时时限）[V 23][V 24]", "V")

# Timestamps are stored in UTC; periods and deadlines are read in China Standard Time (UTC+8, no daylight
# saving since 1991), the time zone of the system (settings.TIME_ZONE = Asia/Shanghai).
LOCAL_UTC_OFFSET_HOURS = 8

INDICATORS = (
    Indicator("ID1", "传染病疫情报告率", "reporting.reported", "reporting.registered", DenominatorKind.EVENTS,
              Source("domain-spec.md §4.4 ID1 [V 55a][B]", "B"), PROGRAM,
              note="网络直报的病例数 / 登记的传染病病例数（按诊断日期归期）"),
    Indicator("ID2", "传染病疫情报告及时率", "reporting.on_time", "reporting.reported", DenominatorKind.EVENTS,
              Source("domain-spec.md §4.4 ID2 [V 55a][B]; 时限 [V 23][V 24]", "B"), PROGRAM,
              note="甲类及按甲类管理的乙类 2 小时内、其他乙丙类 24 小时内报告的病例数 / 报告病例数"),
)
# ID3 (突发公共卫生事件相关信息报告率) needs records of public-health emergencies and their reports, which
# the system does not hold yet.
NOT_SUPPORTED = {"ID3": "需要突发公共卫生事件相关信息及其报告记录，系统尚未采集"}

TARGETS = (
    Target("ID1", 2023, 0.95, Source(f"{V28}：传染病和突发公共卫生事件报告率 ≥95%", "V"),
           region=UNIDENTIFIED_REGION),
    Target("ID1", 2024, 0.95, Source(f"{S4}：报告率 >95%", "S"), comparator=Comparator.GT, region=BAOTOU),
)

GAP_REASONS = {
    "not_reported": GapReason("ID-MISSING", "未网络直报，已超过 {deadline_hours} 小时报告时限"),
    "report_pending": GapReason("ID-PENDING", "尚未网络直报（{deadline_hours} 小时时限未到）"),
    "late": GapReason("ID-LATE", "报告超时：诊断后 {delay_hours} 小时报告，时限 {deadline_hours} 小时"),
}
FLAG_REASONS = {
    "reported": ("not_reported", "report_pending"),
    "on_time": ("late",),
}
SCHEDULE = (
    ScheduledService("report", "传染病网络直报", "report_due", gap="not_reported"),
)
