"""孕产妇健康管理 — maternal health management ([spec2017-maternal] M1–M6).

Source: 国家基本公共卫生服务规范（第三版）(2017), maternal chapter [spec2017-maternal][maternal-services]; 妇幼卫生统计 for the rates,
counted over the maternal and child statistical year (1 Oct – 30 Sep) [mch-stat-year].

Definitions chosen where the domain reference is unsure (each is a named parameter below):

* **Unit of count**: a pregnancy episode (an enrollment in program ``pregnancy``) delivered in the period, of
  a woman whose record is not merged and was not closed before the period. M1–M4 divide by the live births of
  the period (population base); the delivered episodes are the drill-down cohort. One row per episode, so a
  woman with two deliveries in one period counts twice (as live births do).
* **Services of an episode**: visits linked to the enrollment, or unlinked visits of the same woman dated within
  the enrollment (start to end).
* **M1 早孕建册**: a registration visit (``is_registration``) recorded at fewer than
  ``EARLY_REGISTRATION_BEFORE_WEEKS`` completed weeks (the recorded ``gestational_weeks``).
* **M4**: at least ``MIN_PRENATAL_VISITS`` prenatal contacts on different days up to the delivery date
  (registration included).
* **M2 产后访视**: a home visit (``POSTPARTUM_VISIT_TYPES``) from the discharge date (delivery date when no
  discharge date is recorded) to ``POSTPARTUM_VISIT_WITHIN_DAYS`` days after it. A visit after the period end
  still counts when inside the window (statistics are compiled after the year closes); until the window closes
  the drill-down shows the woman as pending.
* **M3 系统管理**: M1 and M4 and M2 together [B].
* **M5 服务率** and **M6 产后42天随访结案率**, as a provincial platform counts them in a progress bulletin: "管理孕产妇
  （未结案+已结案且结案时间为2020年）2.82万人，有效管理人数为1.59万人…服务率56.4%；按产后42天随访结案的产妇数来看，…
  有效服务人数为46.52%" (平凉市2020年第二季度基本公卫服务项目工作进度情况的通报 [pingliang-2020q2]). Counted over the calendar
  period. The cohort (管理孕产妇) is every episode enrolled at some time in the period — still open at its end
  (未结案) or closed (结案, the enrollment's end) within it. **Effectively managed** (有效管理) is not defined in
  the bulletin; here [I]: registered (a 建册 record) and no service overdue at the period end — each prenatal
  contact whose gestational-week range ended while she was still pregnant, the postpartum visit window and the
  42-day check window that closed by the period end were done. **Closed at 42 days**: the episode was closed in
  the period and a 42-day postpartum check is recorded on or before the closing date [I: the bulletin gives a
  rate without its denominator; the managed cohort is used, as for M5].
"""

from __future__ import annotations

from dataclasses import dataclass

from gongwei.spec.rules import (
    Comparator,
    DenominatorKind,
    GapReason,
    Indicator,
    ScheduledService,
    Source,
    Target,
    Window,
)
from gongwei.spec.target_sources import BAOTOU, S4, UNIDENTIFIED_REGION, V28
from gongwei.spec.vocab import BaseGroup, PostpartumVisitType, Program

PROGRAM = Program.PREGNANCY  # enrollments of this program are the pregnancy episodes
CODE = "maternal"            # the engine's program code (indicator numerators are "maternal.<flag>")
SPEC_2017 = Source("国家基本公共卫生服务规范（第三版）孕产妇健康管理服务规范 [spec2017-maternal][maternal-services]", "V")

# Registration (建册) and the first prenatal check before 13 weeks [spec2017-maternal][maternal-services].
EARLY_REGISTRATION_BEFORE_WEEKS = 13
# 5 prenatal contacts: 1 early + 2 mid + 2 late [spec2017-maternal]; M4 counts women with ≥ 5 [wuzhishan-2020][B].
MIN_PRENATAL_VISITS = 5
# Postpartum visit: the specification asks for it within 1 week after discharge [spec2017-maternal]; the postpartum-visit rate
# counts visits within 28 days of discharge [child-formulas][postpartum-scoring].
POSTPARTUM_VISIT_WITHIN_DAYS = 28
POSTPARTUM_VISIT_SCHEDULE_DAYS = 7
POSTPARTUM_VISIT_TYPES = (PostpartumVisitType.HOME_VISIT.value,)
# 42-day postpartum check [spec2017-maternal]; the tolerance is not in a source [U].
POSTPARTUM_CHECK_DAY = 42
POSTPARTUM_CHECK_WINDOW = Window(before_days=0, after_days=14)
# M3's components [B]: early registration, ≥ 5 prenatal contacts, postpartum visit.
SYSTEM_MANAGEMENT = ("early_registered", "prenatal_5", "postpartum_visited")


@dataclass(frozen=True)
class PrenatalContact:
    """A prenatal contact due in a range of completed gestational weeks (both inclusive)."""

    key: str
    name: str
    first_week: int
    last_week: int

    @property
    def deadline_days(self) -> int:
        """Days from the last menstrual period to the last day of ``last_week``."""
        return (self.last_week + 1) * 7 - 1


# The five contacts of the 3rd edition [spec2017-maternal][maternal-services] (schedule table of [spec2017-maternal]).
PRENATAL_CONTACTS = (
    PrenatalContact("prenatal_1", "早孕建册及第1次产前检查（孕13周前）", 0, EARLY_REGISTRATION_BEFORE_WEEKS - 1),
    PrenatalContact("prenatal_2", "第2次产前检查（孕16～20周）", 16, 20),
    PrenatalContact("prenatal_3", "第3次产前检查（孕21～24周）", 21, 24),
    PrenatalContact("prenatal_4", "第4次产前检查（孕28～36周）", 28, 36),
    PrenatalContact("prenatal_5", "第5次产前检查（孕37～40周）", 37, 40),
)

_M = ""
INDICATORS = (
    Indicator("M1", "早孕建册率", f"{CODE}.early_registered", BaseGroup.LIVE_BIRTHS.value,
              DenominatorKind.POPULATION_BASE, Source(f"{_M} M1 [rpt-jkda][B]", "B"), CODE, period="mcy",
              cohort=f"{CODE}.delivered",
              note=f"本期分娩、孕{EARLY_REGISTRATION_BEFORE_WEEKS}周前建册并做第1次产前检查的产妇 / 活产数"),
    Indicator("M2", "产后访视率", f"{CODE}.postpartum_visited", BaseGroup.LIVE_BIRTHS.value,
              DenominatorKind.POPULATION_BASE, Source(f"{_M} M2 [child-formulas][postpartum-scoring]", "V"), CODE, period="mcy",
              cohort=f"{CODE}.delivered",
              note=f"本期分娩、出院后{POSTPARTUM_VISIT_WITHIN_DAYS}天内接受过产后访视的产妇 / 活产数"),
    Indicator("M3", "孕产妇系统管理率", f"{CODE}.system_managed", BaseGroup.LIVE_BIRTHS.value,
              DenominatorKind.POPULATION_BASE, Source(f"{_M} M3 [shangdang-2023][prov-targets-2023]", "S"), CODE, period="mcy",
              cohort=f"{CODE}.delivered",
              note=f"早孕建册、产前检查 ≥ {MIN_PRENATAL_VISITS} 次且产后{POSTPARTUM_VISIT_WITHIN_DAYS}天内访视 [B]"),
    Indicator("M4", "产前检查5次及以上率", f"{CODE}.prenatal_5", BaseGroup.LIVE_BIRTHS.value,
              DenominatorKind.POPULATION_BASE, Source(f"{_M} M4 [wuzhishan-2020][B]", "B"), CODE, period="mcy",
              cohort=f"{CODE}.delivered", note="分娩前不同日期的产前检查（含建册）次数"),
    Indicator("M5", "孕产妇健康管理服务率", f"{CODE}.effectively_managed", f"{CODE}.managed",
              DenominatorKind.MANAGED_COHORT, Source(
                  "平凉市2020年第二季度基本公卫服务项目工作进度情况的通报：管理孕产妇（未结案+已结案且结案时间为当年）"
                  "2.82万人，有效管理1.59万人，服务率56.4% [pingliang-2020q2]；“有效管理”的判定为推断 [I]", "S"), CODE,
              note="分母为期内在管孕产妇（期末未结案及期内结案）；分子为其中已建册、且期末前到期的产前检查、产后访视、"
                   "产后42天健康检查均已完成者"),
    Indicator("M6", "产后42天随访结案率", f"{CODE}.closed_42d", f"{CODE}.managed",
              DenominatorKind.MANAGED_COHORT, Source(
                  "平凉市2020年第二季度基本公卫服务项目工作进度情况的通报：按产后42天随访结案的产妇数…46.52% [pingliang-2020q2]；"
                  "分母取在管孕产妇为推断 [I]", "S"), CODE,
              note="分母同 M5（期内在管孕产妇）；分子为期内结案且结案前有产后42天健康检查记录者"),
)

TARGETS = (
    Target("M3", 2023, 0.90, Source(V28, "V"), region=UNIDENTIFIED_REGION),
    Target("M1", 2024, 0.90, Source(S4, "S"), region=BAOTOU),
    Target("M2", 2024, 0.90, Source(S4, "S"), region=BAOTOU),
)

DIRECTION = Comparator.GE

GAP_REASONS = {
    "no_registration": GapReason("MAT-NOREG", "无早孕建册记录"),
    "late_registration": GapReason(
        "MAT-LATE", f"未在孕{EARLY_REGISTRATION_BEFORE_WEEKS}周前建册（孕{{registration_weeks}}周建册）"),
    "prenatal_below": GapReason("MAT-PRENATAL", f"产前检查 {{prenatal_visits}} 次，少于 {MIN_PRENATAL_VISITS} 次"),
    "no_postpartum_visit": GapReason("MAT-PP", f"产后{POSTPARTUM_VISIT_WITHIN_DAYS}天内未访视"),
    "postpartum_pending": GapReason(
        "MAT-PP-OPEN", "产后访视期限 {postpartum_visit_deadline} 在统计期末之后，尚无访视记录"),
    "closed": GapReason("MAT-CLOSED", "档案已于 {closed_on} 关闭，此后到期的服务不再要求"),
    "unregistered": GapReason("MAT-NOBOOK", "无建册（第1次产前检查）记录"),
    "prenatal_overdue": GapReason("MAT-PN-OVERDUE", "到期未做：{prenatal_overdue}"),
    "postpartum_overdue": GapReason("MAT-PP-OVERDUE", "产后访视期限 {postpartum_visit_deadline} 已过，未访视"),
    "check_42d_overdue": GapReason("MAT-42D-OVERDUE", "产后42天健康检查期限 {check_42d_deadline} 已过，未检查"),
    "not_closed": GapReason("MAT-OPEN", "统计期末尚未结案"),
    "closed_without_check": GapReason("MAT-CLOSE-NO42D", "{end_date} 结案，结案前无产后42天健康检查记录"),
}
FLAG_REASONS = {
    "early_registered": ("no_registration", "late_registration"),
    "prenatal_5": ("prenatal_below",),
    "postpartum_visited": ("no_postpartum_visit", "postpartum_pending", "closed"),
    "system_managed": ("no_registration", "late_registration", "prenatal_below", "no_postpartum_visit",
                       "postpartum_pending", "closed"),
    "effectively_managed": ("unregistered", "prenatal_overdue", "postpartum_overdue", "check_42d_overdue"),
    "closed_42d": ("not_closed", "closed_without_check"),
}
# Worklist. The postpartum visit is linked to its gap (overdue ⇔ gap_no_postpartum_visit); the prenatal
# contacts and the 42-day check are reminders without an indicator of their own.
SCHEDULE = (
    *(ScheduledService(c.key, c.name, f"{c.key}_due") for c in PRENATAL_CONTACTS),
    ScheduledService("postpartum_visit", f"产后访视（出院后{POSTPARTUM_VISIT_WITHIN_DAYS}天内，规范要求"
                     f"{POSTPARTUM_VISIT_SCHEDULE_DAYS}天内）", "postpartum_visit_due", gap="no_postpartum_visit"),
    ScheduledService("check_42d", "产后42天健康检查", "check_42d_due"),
)
