"""居民健康档案管理 — resident health records ([spec2017] R1–R5; [ehr-standardized][cq-ehr-2024]).

One state row per record (a resident with a 个人基本信息表), counted at the resident's managing unit:

* **recorded** (建档): the record exists at the period end — created on or before it, the resident a usual
  resident (常住, the population the base counts), the record not closed (death, move, loss, refusal) on or
  before the period end. Records later merged into another one are still rows here (the drill-down cohort).
* **recorded_person** (建档人数, R1's numerator): recorded and the person's counted record — not merged into
  another record and not a second active record with the same normalised identity number — so a resident
  with two records, or with duplicates merged into one, counts once (R1 counts people, ).
* **electronic** (电子建档): recorded and held as an electronic record.
* **standardized** (规范化电子健康档案): electronic, every required basic-information field filled
  (:data:`STANDARD`), optionally a recent health exam for key populations, and not a duplicate.
* **in_use** (动态使用): recorded, with a service record in the :data:`~gongwei.spec.records.DYNAMIC_USE_WINDOW_DAYS`
  days up to the period end.
* **valid** (有效): recorded and not a duplicate — neither merged into another record nor a second active
  record with the same normalised identity number (exact match; probabilistic matching is issue 4).
"""

from __future__ import annotations

from dataclasses import dataclass

from gongwei.spec.programs import elderly
from gongwei.spec.records import DYNAMIC_USE_WINDOW_DAYS, REQUIRED_BASIC_FIELDS
from gongwei.spec.rules import ByYear, DenominatorKind, GapReason, Indicator, Source, Target
from gongwei.spec.target_sources import BAOTOU, S4, UNIDENTIFIED_REGION, V28
from gongwei.spec.vocab import BaseGroup

PROGRAM = "records"
DQ_16 = "[ehr-standardized]"


@dataclass(frozen=True)
class RecordStandard:
    """What makes an electronic record 规范 (standardized). No national rule exists: evaluators use
    checklists of blank or missing items and, for key populations, the health exam [U] ([ehr-standardized]).

    ``required_fields``: basic-information fields that must not be blank (resident or record columns).
    ``exam_for_key_populations``: key-population members (aged ``key_min_age``+ by the elderly program's
    age rule, or enrolled in one of ``key_programs`` during the period) also need a health exam within
    ``exam_window_days`` up to the period end.
    ``exclude_duplicates``: a merged or same-identity duplicate record is not a standardized one
    ("一人一档", [cq-ehr-2024]).
    """

    required_fields: tuple[str, ...] = REQUIRED_BASIC_FIELDS
    electronic: bool = True
    exclude_duplicates: bool = True
    exam_for_key_populations: bool = False
    key_min_age: int = elderly.MIN_AGE
    key_programs: tuple[str, ...] = ("hypertension", "diabetes", "smi")
    exam_window_days: int = 365


STANDARD = ByYear({2017: RecordStandard()})
STANDARD_SOURCE = Source(f"{DQ_16}: 基本信息表空项、漏项判为不规范；重点人群另查体检（各地清单不一）", "U")

# Only residents who usually live in the area (常住, ≥ 6 months) are counted: the denominator is the
# usual-resident population ([spec2017] [ehr-standardized]; [gov-2011-ehr]).
USUAL_RESIDENTS_ONLY = True

# Services that make a record "dynamically used" (动态使用): any service record of the resident in the
# window ([ehr-standardized] [V]: linked medical records and/or conforming service records within the
# past year). Whether each service meets its own specification is not checked here [B].
DYNAMIC_USE_SERVICES = (
    "health_examinations", "chronic_follow_ups", "smi_follow_ups", "tb_follow_ups", "newborn_visits",
    "child_checks", "prenatal_visits", "postpartum_visits", "vaccinations", "tcm_constitutions",
    "child_tcm_guidance",
)
DYNAMIC_USE_DAYS = DYNAMIC_USE_WINDOW_DAYS

# Labels of basic-information fields, for the reasons shown to staff (个人基本信息表, [spec2017]).
FIELD_LABELS = {
    "name": "姓名", "sex": "性别", "birth_date": "出生日期", "id_number": "身份证号", "phone": "本人电话",
    "residence_type": "常住类型", "ethnicity": "民族", "blood_abo": "ABO血型", "blood_rh": "RH血型",
    "education": "文化程度", "occupation": "职业", "marital_status": "婚姻状况",
    "payment_methods": "医疗费用支付方式", "drug_allergy": "药物过敏史", "exposure": "暴露史",
    "past_history": "既往史", "family_history": "家族史", "disability": "残疾情况", "work_unit": "工作单位",
    "contact_name": "联系人姓名", "contact_phone": "联系人电话", "kitchen_exhaust": "厨房排风设施",
    "fuel": "燃料类型", "drinking_water": "饮水", "toilet": "厕所", "livestock_pen": "禽畜栏",
}

INDICATORS = (
    # R1 counts people with a record ("people with a record" / resident population,
    # [rpt-jkda]): duplicate records of one person count once. R5 (有效建档, "records managed − duplicate
    # records" [pingliang-2020q2]) is therefore the same count under the provincial name.
    Indicator("R1", "健康档案建档率", "records.recorded_person", BaseGroup.RESIDENT_POPULATION.value,
              DenominatorKind.POPULATION_BASE,
              Source("国家基本公共卫生服务规范（第三版）居民健康档案管理服务规范； R1 [rpt-jkda]", "V"),
              PROGRAM, cohort="records.recorded",
              note="分子为期末在档的常住居民人数（按人计：已合并的重复档案、身份证号相同的第二份档案不重复计数）；"
                   "分母为常住人口数"),
    Indicator("R2", "电子健康档案建档率", "records.electronic", BaseGroup.RESIDENT_POPULATION.value,
              DenominatorKind.POPULATION_BASE, Source(f" R2 [rpt-jkda]; {DQ_16} [V]", "V"), PROGRAM,
              cohort="records.recorded"),
    Indicator("R3", "居民规范化电子健康档案覆盖率", "records.standardized", BaseGroup.RESIDENT_POPULATION.value,
              DenominatorKind.POPULATION_BASE, Source(" R3 [rpt-jkda][shangdang-2023][baotou-2025]", "V"), PROGRAM,
              cohort="records.recorded",
              note=f"“规范”按 spec.programs.records.STANDARD 判定（必填基本信息项，可选重点人群体检）[U]，见 {DQ_16}"),
    Indicator("R4", "健康档案使用率", "records.in_use", "records.recorded", DenominatorKind.MANAGED_COHORT,
              Source(f" R4 [rpt-jkda]; {DQ_16}（近1年有动态记录）[V]", "V"), PROGRAM,
              note="近一年（截至期末）有任一服务记录的档案 / 在档档案"),
    Indicator("R5", "有效建档率", "records.valid", BaseGroup.RESIDENT_POPULATION.value,
              DenominatorKind.POPULATION_BASE, Source("[spec2017] R5（191.17万 − 0.16万）[pingliang-2020q2]", "S"),
              PROGRAM, cohort="records.recorded",
              note="在档档案减去重复档案：已合并档案，及身份证号（规范化后）相同的第二份及以上在档档案；"
                   "基于姓名等的概率匹配见 issue 4"),
)

TARGETS = (
    Target("R3", 2011, 0.50, Source("2011 年目标 规范化电子建档率 50% [ehr-target-2011]", "V")),
    Target("R3", 2013, 0.65, Source("深化医改规划 2013 年 65% [ehr-standardized][ehr-target-2011]", "V")),
    Target("R3", 2022, 0.61, Source(f"{V28}（2022 年值）", "V"), region=UNIDENTIFIED_REGION),
    Target("R3", 2023, 0.62, Source(V28, "V"), region=UNIDENTIFIED_REGION),
    Target("R3", 2024, 0.64, Source(S4, "S"), region=BAOTOU),
    # "typical" figures of a secondary source that names neither region nor year: not national, so no unit
    Target("R2", 2017, 0.90, Source(f"{DQ_16}: 电子建档率典型目标 ≥90%（二手来源，未注明地区和年份）", "B"),
           region=UNIDENTIFIED_REGION),
    Target("R4", 2017, 0.60, Source(f"{DQ_16}: 使用率典型目标 ≥60%（二手来源，未注明地区和年份）", "B"),
           region=UNIDENTIFIED_REGION),
)

GAP_REASONS = {
    "not_electronic": GapReason("REC-PAPER", "仅有纸质档案，未建电子档案"),
    "missing_fields": GapReason("REC-FIELDS", "个人基本信息表缺项：{missing_fields}"),
    "no_key_exam": GapReason("REC-EXAM", "重点人群近一年无健康体检"),
    "merged": GapReason("REC-MERGED", "重复档案，已合并至其他档案"),
    "duplicate_id": GapReason("REC-DUPID", "与其他在档档案身份证号相同（重复档案）"),
    "no_recent_service": GapReason("REC-IDLE", "近一年无服务记录"),
}
FLAG_REASONS = {
    "recorded_person": ("merged", "duplicate_id"),
    "electronic": ("not_electronic",),
    "standardized": ("not_electronic", "missing_fields", "no_key_exam", "merged", "duplicate_id"),
    "in_use": ("merged", "no_recent_service"),
    "valid": ("merged", "duplicate_id"),
}
SCHEDULE = ()
