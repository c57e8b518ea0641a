"""传染病及突发公共卫生事件报告和处理 — notifiable-disease reporting ([spec2017-reporting] ID1–ID4).

One state row per report card (传染病报告卡) whose diagnosis falls in the period (local date), at the
reporting unit; ``resident_id`` is the patient when known.

* **registered**: every card of the period (登记的病例).
* **reported**: reported online (网络直报) — ``reported_at`` filled.
* **on_time**: reported within the deadline of its disease class after diagnosis (:data:`DEADLINE_HOURS`).

An unreported card is a gap once its deadline has passed by the end of the period (and is then overdue on
the worklist); before that it is pending.

Public-health emergencies (突发公共卫生事件相关信息) add one state row per event report found in the period (local
date of ``found_at``) at the reporting unit, with ``resident_id`` null:

* **event_found**: every event of the period; **event_reported**: ``reported_at`` filled;
* **event_on_time**: reported within :data:`EVENT_DEADLINE_HOURS` of being found.

Card flags are false on event rows and event flags false on card rows; the merged rate of [baotou-2025] (ID4) counts
both: **any_registered** = a registered card or a found event, **any_reported** = a reported card or event.
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

# Reporting deadlines in hours after diagnosis ([spec2017-reporting][reporting-2026]): class A and class B
# managed as A (pulmonary anthrax, SARS; polio and human HPAI in the 2006 rules) within 2 h; other B and C
# cases within 24 h. The 2026 revision keeps the 2-hour rule.
DEADLINE_HOURS = ByYear({2006: {
    DiseaseClass.A.value: 2,
    DiseaseClass.B_AS_A.value: 2,
    DiseaseClass.B.value: 24,
    DiseaseClass.C.value: 24,
}})
DEADLINE_SOURCE = Source("传染病信息报告管理规范（2006/2015年版；2026年版保留2小时时限）[spec2017-reporting][reporting-2026]", "V")

# Public-health emergency information is reported within 2 hours of being found (获得相关信息后2小时内):
# 国家突发公共卫生事件相关信息报告管理工作规范（试行）(2005) and the 3rd-edition 传染病及突发公共卫生事件报告和
# 处理服务规范 [spec2017-reporting][B].
EVENT_DEADLINE_HOURS = ByYear({2005: 2})
EVENT_DEADLINE_SOURCE = Source("国家突发公共卫生事件相关信息报告管理工作规范（试行）（2005）；国家基本公共卫生服务规范（第三版）"
                               "传染病及突发公共卫生事件报告和处理服务规范 [spec2017-reporting][B]", "B")

# Timestamps are stored in UTC; periods and deadlines are read in China Standard Time (UTC+8, no daylight
# saving since 1991), the time zone of the system (settings.TIME_ZONE = Asia/Shanghai).
LOCAL_UTC_OFFSET_HOURS = 8

INDICATORS = (
    Indicator("ID1", "传染病疫情报告率", "reporting.reported", "reporting.registered", DenominatorKind.EVENTS,
              Source(" ID1 [appraisal-server][B]", "B"), PROGRAM,
              note="网络直报的病例数 / 登记的传染病病例数（按诊断日期归期）"),
    Indicator("ID2", "传染病疫情报告及时率", "reporting.on_time", "reporting.reported", DenominatorKind.EVENTS,
              Source(" ID2 [appraisal-server][B]; 时限 [spec2017-reporting][reporting-2026]", "B"), PROGRAM,
              note="甲类及按甲类管理的乙类 2 小时内、其他乙丙类 24 小时内报告的病例数 / 报告病例数"),
)
INDICATORS = (
    *INDICATORS,
    # 3rd-edition evaluation indicator: 及时报告的突发公共卫生事件相关信息数 / 报告突发公共卫生事件相关信息数 [appraisal-server][B]
    Indicator("ID3", "突发公共卫生事件相关信息报告率", "reporting.event_on_time", "reporting.event_reported",
              DenominatorKind.EVENTS,
              Source(" ID3 [appraisal-server][B]; 国家基本公共卫生服务规范（第三版）传染病及突发公共卫生事件报告和"
                     "处理服务规范；时限 2 小时（国家突发公共卫生事件相关信息报告管理工作规范（试行））", "B"), PROGRAM,
              note="发现后 2 小时内报告的突发公共卫生事件相关信息数 / 报告的相关信息数（按发现日期归期）"),
    # Seed 004 reports one merged rate (传染病和突发公共卫生事件报告率, target > 95%): cases and events reported
    # over cases registered and events found [baotou-2025][I].
    Indicator("ID4", "传染病和突发公共卫生事件报告率", "reporting.any_reported", "reporting.any_registered",
              DenominatorKind.EVENTS,
              Source("包头市 2025 年报告（[baotou-2025]）传染病和突发公共卫生事件报告率 [baotou-2025]; 口径 [spec2017-reporting] [I]", "I"),
              PROGRAM, note="（网络直报的病例数 + 已报告的突发事件数）/（登记的病例数 + 发现的突发事件数）"),
)

TARGETS = (
    # the lists name the merged 传染病和突发公共卫生事件报告率, which is ID4
    Target("ID4", 2023, 0.95, Source(f"{V28}：传染病和突发公共卫生事件报告率 ≥95%", "V"),
           region=UNIDENTIFIED_REGION),
    Target("ID4", 2024, 0.95, Source(f"{S4}：传染病和突发公共卫生事件报告率 >95%", "S"), comparator=Comparator.GT,
           region=BAOTOU),
)

GAP_REASONS = {
    "not_reported": GapReason("ID-MISSING", "未网络直报，已超过 {deadline_hours} 小时报告时限"),
    "report_pending": GapReason("ID-PENDING", "尚未网络直报（{deadline_hours} 小时时限未到）"),
    "late": GapReason("ID-LATE", "报告超时：诊断后 {delay_hours} 小时报告，时限 {deadline_hours} 小时"),
}
GAP_REASONS |= {
    "event_not_reported": GapReason("ID-EVENT-MISSING", "突发公共卫生事件相关信息未报告，已超过 {deadline_hours} 小时时限"),
    "event_pending": GapReason("ID-EVENT-PENDING", "突发公共卫生事件相关信息尚未报告（{deadline_hours} 小时时限未到）"),
    "event_late": GapReason("ID-EVENT-LATE", "突发公共卫生事件相关信息超时报告：发现后 {delay_hours} 小时报告，时限 {deadline_hours} 小时"),
}
FLAG_REASONS = {
    "reported": ("not_reported", "report_pending"),
    "on_time": ("late",),
    "event_reported": ("event_not_reported", "event_pending"),
    "event_on_time": ("event_late",),
    "any_reported": ("not_reported", "report_pending", "event_not_reported", "event_pending"),
}
SCHEDULE = (
    ScheduledService("report", "传染病网络直报", "report_due", gap="not_reported"),
    ScheduledService("event_report", "突发公共卫生事件相关信息报告", "event_report_due", gap="event_not_reported"),
)
