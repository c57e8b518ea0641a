"""卫生计生监督协管 — health-supervision assistance ([spec2017-supervision] SV1–SV2).

Two kinds of state rows, at the unit that keeps the records:

* one row per record (巡查 or 信息报告) dated in the period that found an event or clue:
  **clue_found**, and **clue_reported** when it was reported;
* one row per supervising institution and content area (专业, :class:`~gongwei.spec.vocab.SupervisionCategory`):
  **patrol_due**, and **patrol_met** when the area was patrolled at least the required number of times.

Progress periods pro-rate the yearly patrols by completed months (as health education does).
"""

from __future__ import annotations

from gongwei.spec.periods import Period
from gongwei.spec.programs import education
from gongwei.spec.rules import ByYear, DenominatorKind, GapReason, Indicator, Source, Target
from gongwei.spec.target_sources import UNIDENTIFIED_REGION, V28
from gongwei.spec.vocab import OrgKind, SupervisionCategory

PROGRAM = "supervision"

# Each content area patrolled (巡查/访) at least twice a year [prov-targets-2023] ("各专业年巡查(访)2次").
PATROLS_PER_YEAR = ByYear({2017: 2})
PATROL_SOURCE = Source("一省 2023 年指标“卫生监督协管各专业年巡查(访)2次完成率”[prov-targets-2023]", "V")
# The content areas ([spec2017-supervision]).
CATEGORIES = tuple(c.value for c in SupervisionCategory)
# Institutions that carry out supervision assistance: township and community health centres [B]
# (village clinics help them but do not keep their own patrol records).
SUPERVISING_KINDS = (OrgKind.TOWNSHIP_HEALTH_CENTRE.value, OrgKind.COMMUNITY_HEALTH_CENTRE.value)
SUPERVISING_SOURCE = Source("[spec2017-supervision]: 协管由乡镇卫生院、社区卫生服务中心承担 [B]", "B")


def patrols_required(period: Period) -> int:
    return education.required(PATROLS_PER_YEAR.for_year(period.year), period)


INDICATORS = (
    Indicator("SV1", "卫生监督协管信息报告率", "supervision.clue_reported", "supervision.clue_found",
              DenominatorKind.EVENTS, Source(" SV1 [appraisal-server][rpt-jkda][baotou-2025]", "V"), PROGRAM,
              note="已报告的事件或线索数 / 发现的事件或线索数（每条协管记录计一次）"),
    Indicator("SV2", "卫生监督协管各专业年巡查(访)2次完成率", "supervision.patrol_met", "supervision.patrol_due",
              DenominatorKind.EVENTS, Source(" SV2 [prov-targets-2023][B]", "V"), PROGRAM,
              note="巡查次数达到要求（每专业每年2次，进度期按已过月份折算）的机构×专业数 / 应巡查的机构×专业数"),
)

TARGETS = (
    Target("SV2", 2023, 0.90, Source(f"{V28}：≥90%", "V"), region=UNIDENTIFIED_REGION),
)

GAP_REASONS = {
    "clue_not_reported": GapReason("SV-REPORT", "发现事件或线索未报告"),
    "patrols_below": GapReason("SV-PATROL", "{category_zh}本期巡查 {patrols} 次，少于 {patrols_required} 次"),
}
FLAG_REASONS = {
    "clue_reported": ("clue_not_reported",),
    "patrol_met": ("patrols_below",),
}
SCHEDULE = ()
