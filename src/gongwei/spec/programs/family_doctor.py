"""家庭医生签约服务 — family-doctor contracts ([fd-guideline-2022] F1–F4).

One state row per resident found in the records at the period end (usual resident, not merged, not closed
on or before the period end), at the resident's managing unit:

* **signed**: a contract in force at some time in the period — started on or before the period end, ending
  on or after its start, and not cancelled on or before the period start [B: the national texts count
  "签约人数" without fixing the day; switch :data:`SIGNED_AT` to count contracts in force at the period end].
* **key_member** / **in_<group>**: member of a key population found in the records (:data:`KEY_GROUPS`);
  **key_signed** / **signed_<group>**: those members with a contract.
* **expiring**: a contract of the person ends in the period (not cancelled before its end, the person still
  in the records at its end); **renewed**: each such contract was followed by another one starting after its
  start and at most :data:`RENEWAL_GRACE_DAYS` after its end (the ``is_renewal`` flag is not needed for this).
  ``renewal_due`` (worklist) is the end date of the first contract ending this year that is not renewed.
* **fulfilled** (履约, F5): signed, and a service record of the person (:data:`FULFILMENT_SERVICES`) is dated
  on a day a counted contract was in force within the period — the contract was acted on, not only signed.

Denominators: F1 the usual-resident population base; the per-group rates F4 use the group's population base
where one is entered (:attr:`KeyGroupRule.base`: 0～6岁儿童数, 65岁及以上常住人口数), otherwise the group's members
found in the records (patients in management, pregnant women, disabled people).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gongwei.spec.programs import elderly
from gongwei.spec.rules import (
    ByYear,
    DenominatorKind,
    GapReason,
    Indicator,
    ScheduledService,
    Source,
    Target,
)
from gongwei.spec.vocab import BaseGroup, KeyGroup

PROGRAM = "family_doctor"
V55B = "[rpt-jkda]"


class SignedAt(StrEnum):
    ANY_TIME = "any_time"      # a contract in force at some time in the period (default)
    PERIOD_END = "period_end"  # in force on the period's last day


SIGNED_AT = ByYear({2016: SignedAt.ANY_TIME})
SIGNED_AT_SOURCE = Source("F1：签约人数口径未见全国文本（在期内有效的签约）[fd-guideline-2022]", "B")

# A contract runs one year (一年一签, renewed each year): [fd-guideline-2022] "签约周期原则上为1年" [B]. A province with
# another term sets it here; the entry form proposes start + term − 1 day as the end date.
CONTRACT_TERM_MONTHS = 12

# Grace after a contract's end within which a new contract counts as its renewal [U]; the entry page offers renewal
# from the same number of days before the end.
RENEWAL_GRACE_DAYS = 30

# Fulfilment (履约): bulletins fault "年度履约人数偏少" (上党区2023年度基本公共卫生服务项目暨家庭医生签约服务绩效评价情况
# 的通报 [shangdang-2023]); [fd-guideline-2022] asks to track it as service events per contract. The records hold no contract
# service package, so a contract counts as fulfilled when the signed person received any basic public-health
# service recorded here while it was in force in the period [I]; the list is the records program's services.
FULFILMENT_SERVICES = (
    "health_examinations", "chronic_follow_ups", "smi_follow_ups", "tb_follow_ups", "newborn_visits",
    "child_checks", "prenatal_visits", "postpartum_visits", "vaccinations", "tcm_constitutions",
    "child_tcm_guidance",
)
FULFILMENT_SOURCE = Source("上党区2023年度基本公共卫生服务项目暨家庭医生签约服务绩效评价情况的通报“年度履约人数偏少” [shangdang-2023]；"
                           "[fd-guideline-2022]（履约按签约后的服务记录计）[I]", "I")


@dataclass(frozen=True)
class KeyGroupRule:
    """How a key population is found in the records: by age (completed years at the elderly program's
    reference date), by an enrolment overlapping the period, or by the disability field."""

    group: KeyGroup
    min_age: int | None = None
    max_age: int | None = None
    programs: tuple[str, ...] = ()
    disability: bool = False
    base: BaseGroup | None = None  # the population base F4 divides by; None → the members found in the records


# Key populations as listed in one reporting model ([rpt-jkda]). 0–6 = up to 6 completed
# years (under 7). Patients are those managed in the period (enrolment overlapping it), e.g.
# "在管高血压患者". Disabled: a 残疾情况 other than blank and "1 无残疾" ([spec2017]).
KEY_GROUPS = ByYear({2016: (
    KeyGroupRule(KeyGroup.CHILD, max_age=6, base=BaseGroup.CHILDREN_0_6),
    KeyGroupRule(KeyGroup.ELDERLY, min_age=elderly.MIN_AGE, base=BaseGroup.AGED_65_PLUS),
    KeyGroupRule(KeyGroup.MATERNAL, programs=("pregnancy",)),
    KeyGroupRule(KeyGroup.HYPERTENSION, programs=("hypertension",)),
    KeyGroupRule(KeyGroup.DIABETES, programs=("diabetes",)),
    KeyGroupRule(KeyGroup.TB, programs=("tb",)),
    KeyGroupRule(KeyGroup.SMI, programs=("smi",)),
    KeyGroupRule(KeyGroup.DISABLED, disability=True),
)})
NO_DISABILITY_CODES = ("1",)  # 残疾情况 1 无残疾 ([spec2017])
# 计划生育特殊家庭 and 脱贫人口 are key groups [rpt-jkda] but the records hold no field that finds them; a
# contract's key_groups column is not used (it would only find people who already signed).
NOT_FOUND_IN_RECORDS = (KeyGroup.FP_HARDSHIP, KeyGroup.POVERTY_ALLEVIATED)

_GROUP_NAMES = {
    KeyGroup.CHILD: "0～6岁儿童", KeyGroup.ELDERLY: "65岁及以上老年人", KeyGroup.MATERNAL: "孕产妇",
    KeyGroup.HYPERTENSION: "在管高血压患者", KeyGroup.DIABETES: "在管2型糖尿病患者", KeyGroup.TB: "在管肺结核患者",
    KeyGroup.SMI: "在管严重精神障碍患者", KeyGroup.DISABLED: "残疾人",
}
_GROUP_CODES = {
    KeyGroup.CHILD: "CHILD", KeyGroup.ELDERLY: "ELDERLY", KeyGroup.MATERNAL: "MATERNAL",
    KeyGroup.HYPERTENSION: "HTN", KeyGroup.DIABETES: "DM", KeyGroup.TB: "TB", KeyGroup.SMI: "SMI",
    KeyGroup.DISABLED: "DISABLED",
}

INDICATORS = (
    Indicator("F1", "家庭医生签约率", "family_doctor.signed", BaseGroup.RESIDENT_POPULATION.value,
              DenominatorKind.POPULATION_BASE, Source(f" F1 {V55B}[shangdang-2023][baotou-2025]", "V"), PROGRAM,
              cohort="family_doctor.in_records", note="期内有有效签约的常住居民 / 常住人口数"),
    Indicator("F2", "重点人群签约率", "family_doctor.key_signed", "family_doctor.key_member",
              DenominatorKind.MANAGED_COHORT, Source(f" F2 {V55B}[baotou-2025]", "V"), PROGRAM,
              note="档案中可识别的重点人群（儿童、老年人、孕产妇、在管慢病/结核/精神障碍患者、残疾人）中已签约者；"
                   "计划生育特殊家庭、脱贫人口无档案字段，未计入"),
    Indicator("F3", "续签率", "family_doctor.renewed", "family_doctor.expiring", DenominatorKind.MANAGED_COHORT,
              Source(" F3 [appraisal-server][rpt-jkda]；分母“期内到期应续签”[B]", "B"), PROGRAM,
              note=f"期内签约到期者中，到期后 {RENEWAL_GRACE_DAYS} 天内（或到期前）另签新约者"),
    *(Indicator(f"F4-{_GROUP_CODES[r.group]}", f"{_GROUP_NAMES[r.group]}签约率",
                f"family_doctor.signed_{r.group.value}", r.base.value, DenominatorKind.POPULATION_BASE,
                Source(f" F4 {V55B}；分母取人口基数（同 F1 取常住人口数）", "V"), PROGRAM,
                cohort=f"family_doctor.in_{r.group.value}", note=f"分母为{r.base.zh}")
      if r.base is not None else
      Indicator(f"F4-{_GROUP_CODES[r.group]}", f"{_GROUP_NAMES[r.group]}签约率",
                f"family_doctor.signed_{r.group.value}", f"family_doctor.in_{r.group.value}",
                DenominatorKind.MANAGED_COHORT, Source(f" F4 {V55B}", "V"), PROGRAM)
      for r in KEY_GROUPS.for_year(2016)),
    Indicator("F5", "家庭医生签约履约率", "family_doctor.fulfilled", "family_doctor.signed",
              DenominatorKind.MANAGED_COHORT, FULFILMENT_SOURCE, PROGRAM,
              note="期内有效签约的居民中，签约有效期内（统计期内）接受过任一基本公卫服务（体检、随访、儿童/孕产妇服务、"
                   "预防接种、中医药健康管理）者"),
)

TARGETS = (
    Target("F1", 2017, 0.30, Source("2016 年国家方案：2017 年签约覆盖率 ≥30% [fd-guideline-2016]", "V")),
    Target("F2", 2017, 0.60, Source("2016 年国家方案：2017 年重点人群 ≥60% [fd-guideline-2016]", "V")),
    Target("F1", 2035, 0.75, Source("2022 年国家指导意见：到 2035 年 ≥75% [fd-guideline-2022]", "V")),
    Target("F2", 2035, 0.85, Source("2022 年国家指导意见：到 2035 年重点人群 ≥85% [fd-guideline-2022]", "V")),
)
# The 2022 guideline also asks for +1 to 3 points a year [fd-guideline-2022]: a change against the previous year, which
# a fixed Target cannot express; bulletins show it from the stored previous-year figures.

GAP_REASONS = {
    "not_signed": GapReason("FD-NONE", "未签约"),
    "not_renewed": GapReason("FD-RENEW", "签约于 {renewal_due} 到期，未续签"),
    "not_fulfilled": GapReason("FD-UNFULFILLED", "签约有效期内（统计期内）无服务记录，未履约"),
}
FLAG_REASONS = {
    "signed": ("not_signed",),
    "key_signed": ("not_signed",),
    "renewed": ("not_renewed",),
    "fulfilled": ("not_fulfilled",),
    **{f"signed_{r.group.value}": ("not_signed",) for r in KEY_GROUPS.for_year(2016)},
}
SCHEDULE = (
    ScheduledService("renewal", "家庭医生签约续签", "renewal_due", gap="not_renewed"),
)
