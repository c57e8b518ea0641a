"""0～6岁儿童健康管理 and 0–36个月儿童中医药健康管理 — children ([spec2017] C1–C6, TCM2).

Source: 国家基本公共卫生服务规范（第三版）(2017), 0～6岁儿童健康管理 and 中医药健康管理 chapters; 妇幼卫生统计
(maternal and child statistics) for the 3岁以下 / 7岁以下 rates. All indicators use the maternal and child
statistical year (1 Oct – 30 Sep) [mch-stat-year].

Definitions chosen where the domain reference is unsure (each is a named parameter below):

* **Who**: resident children (records not merged, not closed before the period) aged 0–6 at the period end.
  The age reference date is the period end ([spec2017]: "completed years at the reference date").
  Enrolment in the child program is not required: the schedule follows the birth date.
* **Scheduled checks** fall due at fixed ages (birth date + months, calendar arithmetic; the full-month check
  at ``FULL_MONTH_CHECK_DAYS`` days after birth). A check counts for an item when its service date lies in the
  item's window (``FULL_MONTH_WINDOW`` for the full-month check, ``CHECK_WINDOW`` around the nominal age for the
  others); the age the record states (``age_months``) is not used. An item is *required in a period* when its
  window closes in the period and the child's record was not closed before it; *missed* when required and not
  done.
* **"According to age" (按月龄)**: the specification's formulas count children "按照月龄接受…服务" (received
  the services due for their age) over *all* children to be managed (应管理的…儿童数, a population base) [rpt-jkda]
  [child-formulas][child-system-formula]. A child for whom nothing fell due in the period (e.g. born in the last weeks) has received every
  service its age calls for, and the base cannot drop it, so it **counts as served** (``NOTHING_DUE_COUNTS``):
  otherwise perfect service could not reach 100% (about 82% for TCM2, 90% for C4) against targets of 77–90% and
  published figures of 87.72% [shangdang-2023] and 100% [baotou-2025]. A child whose record closed by the period end (died, moved
  out) with nothing due is not counted (it is not in the base at the period end).
* **System management** (C3 儿童系统管理率, 4-2-1 frequency; C4 3岁以下儿童系统管理率, 妇幼 4-2-2 frequency):
  no check item of the indicator's schedule required in the period was missed (按相应频次要求管理).
* **TCM2**: the same rule over the TCM guidance months (按月龄接受中医药健康管理服务).
* Because ages are taken at the period end (like the population bases), the last item of a band counts only for
  children still in the band then: the 36-month check in C4 never does, the 36-month TCM guidance only in the
  period's last fortnight.
* **C1**: newborns born in the period with a newborn home visit within ``NEWBORN_VISIT_WITHIN_DAYS`` of birth
  (the child's discharge date is not recorded, so birth is the anchor [U]). A visit after the period end still
  counts when inside the window (statistics for a year are compiled after it closes); until the window closes
  the drill-down shows the child as pending.
* **C2 / C5** (健康管理率): ≥ 1 body-measurement check (体格检查: a child check with one of
  ``BODY_MEASUREMENTS`` recorded) in the period; newborn visits do not count. A child with no check due in the
  period counts, as above. C2 carries the 3rd-edition name, C5 the 妇幼 name; both divide by the 0–6 base.
* **C6**: ≥ ``EYE_CHECKS_REQUIRED`` check or newborn visit in the period with the eye-care box ticked.
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
from gongwei.spec.vocab import BaseGroup, Program

PROGRAM = Program.CHILD
SPEC_2017 = Source("国家基本公共卫生服务规范（第三版）0～6岁儿童健康管理服务规范 [spec2011-child][child-schedule-county]", "V")
MCH_STATS = Source("妇幼卫生统计：统计年度为上年10月1日至本年9月30日 [mch-stat-year]", "V")

# Ages (completed years/months at the period end) of the indicator populations.
MAX_AGE_YEARS = 6        # 0～6岁 = under 7 [spec2011-child]; 7岁以下儿童 (C5) is the same population [shangdang-2023]
UNDER_YEARS_SYSTEM = 3   # 3岁以下儿童 (C4) [health-city-2021][prov-targets-2023]
TCM_MAX_MONTHS = 36      # 0～36个月儿童 (TCM2) [spec2017-tcm-child][rpt-jkda]

# Newborn home visit: the specification asks for it within 1 week after discharge [spec2011-child]; the newborn-visit
# rate counts visits within 28 days [child-formulas][child-system-formula].
NEWBORN_VISIT_WITHIN_DAYS = 28
NEWBORN_VISIT_SCHEDULE_DAYS = 7  # what the worklist shows as the target [spec2011-child]
NEWBORN_WINDOW = Window(before_days=0, after_days=NEWBORN_VISIT_WITHIN_DAYS)  # from birth (day 0)


@dataclass(frozen=True)
class CheckItem:
    """One scheduled service at a nominal age in months (满月 = 1)."""

    months: int
    window: Window
    # Nominal age in days instead of months (the full-month check is fixed in days after birth).
    days: int | None = None

    @property
    def key(self) -> str:
        return f"m{self.months}"

    @property
    def age_text(self) -> str:
        return "满月" if self.months == 1 else f"{self.months}月龄"


# Tolerance around each nominal age in months: not found in a source; ±15 days is the example of
#  [U].
CHECK_WINDOW = Window(before_days=15, after_days=15)
# The full-month check (新生儿满月健康管理) is done 28～30 days after birth: 国家基本公共卫生服务规范（第三版）
# 0～6岁儿童健康管理服务规范 "新生儿出生后28～30天…进行随访" [child-schedule-county]; [spec2017] [spec2011-child][child-schedule-county].
FULL_MONTH_CHECK_DAYS = (28, 30)
FULL_MONTH_WINDOW = Window(before_days=0, after_days=FULL_MONTH_CHECK_DAYS[1] - FULL_MONTH_CHECK_DAYS[0])
# Checks at 满月 (28–30 days), 3, 6, 8, 12, 18, 24, 30, 36 months and once a year at 4, 5, 6 years [spec2011-child][child-schedule-county]
# ("4-2-1": 4 checks in year 1, 2 a year in years 2–3, 1 a year after 3 [child-421]).
CHECK_MONTHS = (1, 3, 6, 8, 12, 18, 24, 30, 36, 48, 60, 72)
CHECKS: tuple[CheckItem, ...] = tuple(
    CheckItem(1, FULL_MONTH_WINDOW, days=FULL_MONTH_CHECK_DAYS[0]) if m == 1 else CheckItem(m, CHECK_WINDOW)
    for m in CHECK_MONTHS)
# C4's 4-2-2 frequency for children under 3: 3, 6, 8, 12 | 18, 24 | 30, 36 months; the newborn visit and the
# full-month check are not counted [child-421][health-city-2021][B].
FOUR_TWO_TWO_MONTHS = (3, 6, 8, 12, 18, 24, 30, 36)

# Child TCM guidance at 6, 12, 18, 24, 30 and 36 months [spec2017-tcm-child]; tolerance as for the checks [U].
TCM_WINDOW = Window(before_days=15, after_days=15)
TCM_MONTHS = (6, 12, 18, 24, 30, 36)
TCM_ITEMS: tuple[CheckItem, ...] = tuple(CheckItem(m, TCM_WINDOW) for m in TCM_MONTHS)

# C2/C5 count body-measurement checks (体格检查和生长发育评估 [spec2011-child]): a child check with at least one of these
# recorded [I: the records keep weight and length/height; a check without either is not a 体格检查].
BODY_MEASUREMENTS = ("weight", "height")

# A child with nothing due in the period counts as served in C2–C5 and TCM2 ("按照月龄接受…服务的儿童数 /
# 应管理的儿童数" [rpt-jkda][child-formulas][child-system-formula]; see the module docstring) [I].
NOTHING_DUE_COUNTS = True

# Eye care and vision checks: 13 from 0 to 6 [eye-checks-2021]; the coverage rate counts children with at least one in the
# year [shangdang-2023][baotou-2025][B on "≥ 1"].
EYE_CHECKS_REQUIRED = 1

_C = ""
INDICATORS = (
    Indicator("C1", "新生儿访视率", "child.newborn_visited", BaseGroup.LIVE_BIRTHS.value,
              DenominatorKind.POPULATION_BASE, Source(f"{_C} C1 [child-formulas][child-system-formula]", "V"), PROGRAM.value, period="mcy",
              cohort="child.born",
              note=f"本期出生、出生后{NEWBORN_VISIT_WITHIN_DAYS}天内接受过新生儿家庭访视的人数 / 活产数"),
    Indicator("C2", "0～6岁儿童健康管理率", "child.checked", BaseGroup.CHILDREN_0_6.value,
              DenominatorKind.POPULATION_BASE,
              Source(f"国家基本公共卫生服务规范（第三版）儿童健康管理率；{_C} C2 [child-formulas][child-system-formula]", "V"), PROGRAM.value,
              period="mcy", cohort="child.in_0_6",
              note="本期接受过 1 次及以上体格检查（记录体重或身长/身高的儿童健康检查，新生儿访视不计）的 0～6 岁儿童；"
                   "本期无到期体检的儿童按月龄计入"),
    # Not one of the 3rd edition's two child indicators (新生儿访视率, 儿童健康管理率 [child-formulas]); the third 考核指标
    # "儿童系统管理率 = 按相应频次要求管理的0～6岁儿童数 / 应管理的0～6岁儿童数" of provincial evaluations [child-system-formula].
    Indicator("C3", "儿童系统管理率（0～6岁，按4:2:1频次）", "child.system_managed", BaseGroup.CHILDREN_0_6.value,
              DenominatorKind.POPULATION_BASE,
              Source(f"广西 2020 年《儿童和孕产妇健康管理》考核指标（三）儿童系统管理率；{_C} C3 [child-system-formula]", "V"),
              PROGRAM.value, period="mcy", cohort="child.in_0_6",
              note="本期到期的各次体检（满月，3、6、8、12、18、24、30、36月龄，4、5、6岁）均在时间窗内完成；"
                   "本期无到期体检的儿童按月龄计入。非第三版规范的工作指标，为地方考核口径"),
    Indicator("C4", "3岁以下儿童系统管理率", "child.system_managed_u3", BaseGroup.CHILDREN_UNDER_3.value,
              DenominatorKind.POPULATION_BASE, Source(f"{_C} C4 [health-city-2021][prov-targets-2023][child-421]", "V"), PROGRAM.value,
              period="mcy", cohort="child.under_3",
              note="按 4:2:2 频次，本期到期的体检均在时间窗内完成；本期无到期体检的儿童按月龄计入"),
    Indicator("C5", "7岁以下儿童健康管理率", "child.checked", BaseGroup.CHILDREN_0_6.value,
              DenominatorKind.POPULATION_BASE, Source(f"{_C} C5 [shangdang-2023][prov-targets-2023]", "S"), PROGRAM.value, period="mcy",
              cohort="child.in_0_6", note="与 C2 同一算法（妇幼统计口径的名称）"),
    Indicator("C6", "0～6岁儿童眼保健和视力检查覆盖率", "child.eye_checked", BaseGroup.CHILDREN_0_6.value,
              DenominatorKind.POPULATION_BASE, Source(f"{_C} C6 [shangdang-2023][baotou-2025][eye-checks-2021]", "S"), PROGRAM.value,
              period="mcy", cohort="child.in_0_6", note="本期接受过 1 次及以上眼保健和视力检查"),
    Indicator("TCM2", "0～36个月儿童中医药健康管理服务率", "child.tcm_managed", BaseGroup.CHILDREN_0_36M.value,
              DenominatorKind.POPULATION_BASE,
              Source("国家基本公共卫生服务规范（第三版）中医药健康管理服务规范：按照月龄接受中医药健康管理服务的"
                     "0～36月儿童数 / 应管理的0～36个月儿童数； TCM2 [rpt-jkda][shangdang-2023][baotou-2025]", "V"),
              PROGRAM.value, period="mcy", cohort="child.in_0_36m",
              note="本期到期的中医药健康指导（6、12、18、24、30、36月龄）均按月龄完成；本期无到期指导的儿童按月龄计入"),
)

TARGETS = (
    Target("C2", 2023, 0.90, Source(f"{V28}：0～6岁儿童健康管理率 ≥ 90%", "V"), region=UNIDENTIFIED_REGION),
    Target("C5", 2023, 0.90, Source(f"{V28}：7岁以下儿童健康管理率 ≥ 90%", "V"), region=UNIDENTIFIED_REGION),
    Target("C5", 2024, 0.90, Source(S4, "S"), region=BAOTOU),
    Target("C6", 2021, 0.90, Source("国家卫生城市标准（2021年版）：0～6岁儿童眼保健和视力检查覆盖率 ≥ 90% [health-city-2021]", "V")),
    Target("C6", 2023, 0.90, Source(V28, "V"), region=UNIDENTIFIED_REGION),
    Target("C6", 2024, 0.90, Source(S4, "S"), region=BAOTOU),
    Target("C4", 2021, 0.90, Source("国家卫生城市标准（2021年版）：3岁以下儿童系统管理率 ≥ 90% [health-city-2021]", "V")),
    Target("C4", 2023, 0.90, Source(V28, "V"), region=UNIDENTIFIED_REGION),
    Target("TCM2", 2023, 0.77, Source(V28, "V"), region=UNIDENTIFIED_REGION),
    Target("TCM2", 2024, 0.84, Source(S4, "S"), region=BAOTOU),
)

DIRECTION = Comparator.GE

# Why a child misses a numerator. Keys name the engine's gap_* columns.
GAP_REASONS = {
    "no_newborn_visit": GapReason("CH-NEWBORN", f"出生后{NEWBORN_VISIT_WITHIN_DAYS}天内未做新生儿家庭访视"),
    "newborn_visit_pending": GapReason(
        "CH-NEWBORN-OPEN", "新生儿访视期限 {newborn_visit_deadline} 在统计期末之后，尚无访视记录"),
    "no_check": GapReason("CH-NOCHECK", "本期无体格检查记录（记录体重或身长/身高的儿童健康检查）"),
    "no_eye_check": GapReason("CH-EYE", "本期无眼保健和视力检查"),
    "closed": GapReason("CH-CLOSED", "档案已于 {closed_on} 关闭，此后到期的服务不再要求"),
    # Say in the list why a child with nothing due is here at all: the exemption holds only while still managed.
    "no_due_check": GapReason("CH-NODUE", "本期无到期的体检；无到期服务的儿童仅在期末仍在管时按月龄计入"),
    "no_due_check_422": GapReason("CH-NODUE-422", "本期无到期的 4:2:2 体检；无到期服务的儿童仅在期末仍在管时按月龄计入"),
    "no_due_tcm": GapReason("CH-TCM-NODUE", "本期无到期的中医药健康指导；无到期服务的儿童仅在期末仍在管时按月龄计入"),
    **{f"missing_check_{i.key}": GapReason(f"CH-CHECK-{i.months}", f"缺少{i.age_text}体检") for i in CHECKS},
    **{f"missing_tcm_{i.key}": GapReason(f"CH-TCM-{i.months}", f"缺少{i.age_text}中医药健康指导") for i in TCM_ITEMS},
}
FLAG_REASONS = {
    "newborn_visited": ("no_newborn_visit", "newborn_visit_pending", "closed"),
    "eye_checked": ("no_eye_check", "closed"),
    # A child with nothing due counts as served (NOTHING_DUE_COUNTS), so it is in these gap lists only when its
    # record closed by the period end; the no_due reason then says why it was not counted.
    "checked": ("no_check", "no_due_check", "closed"),
    "system_managed": (*(f"missing_check_{i.key}" for i in CHECKS), "no_due_check", "closed"),
    "system_managed_u3": (*(f"missing_check_m{m}" for m in FOUR_TWO_TWO_MONTHS), "no_due_check_422", "closed"),
    "tcm_managed": (*(f"missing_tcm_{i.key}" for i in TCM_ITEMS), "no_due_tcm", "closed"),
}
# Worklist: each item's due date is the last day of its window; overdue ⇔ the linked gap is set.
SCHEDULE = (
    ScheduledService("newborn_visit", f"新生儿家庭访视（出生后{NEWBORN_VISIT_WITHIN_DAYS}天内，规范要求出院后"
                     f"{NEWBORN_VISIT_SCHEDULE_DAYS}天内）", "newborn_visit_due", gap="no_newborn_visit"),
    *(ScheduledService(f"check_{i.key}", f"{i.age_text}健康检查" + (
        f"（出生后{FULL_MONTH_CHECK_DAYS[0]}～{FULL_MONTH_CHECK_DAYS[1]}天）" if i.days is not None else ""),
        f"check_{i.key}_due", gap=f"missing_check_{i.key}") for i in CHECKS),
    *(ScheduledService(f"tcm_{i.key}", f"{i.age_text}中医药健康指导", f"tcm_{i.key}_due", gap=f"missing_tcm_{i.key}")
      for i in TCM_ITEMS),
)
