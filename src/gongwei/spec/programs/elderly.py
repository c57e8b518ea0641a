"""老年人健康管理 — residents aged 65 and over ([spec2017][spec2017-elderly] E1–E3).

One state row per resident aged 65+ found in the records at the period end (a usual resident, not merged,
not closed by death, move, loss or refusal on or before the period end), at the resident's managing unit —
plus, for the population-base indicators, residents closed during the period who were served before their
closing date (:data:`SERVED_THEN_CLOSED_COUNT`):

* **aged_65_plus**: the cohort in the records — born on or before the reference date minus 65 years
  (:func:`born_by`).
* **examined** (体检): at least one health examination from the period start to its end (for a closed
  record, on or before the closing date).
* **standardized** (接受健康管理 / 规范健康管理服务): one examination in the period holds the complete
  annual package — every recordable item of every section of :data:`PACKAGE` recorded, guidance included.
  The 3rd-edition note defines 接受健康管理 as exam + guidance + a complete 健康体检表, so E1 and E2 share
  this flag; QC rule C-03 reads the same :data:`PACKAGE` for exams of residents aged 65+. The examination
  with the fewest missing items explains a gap ("体检缺少辅助检查：血常规、心电图").
* **counted**: the people the E1/E2 drill-down lists against the population base — the cohort, and the
  closed residents who are in the numerator.
* **examined_in_records**: examined and in the cohort (E3, a managed-cohort rate: numerator within its
  denominator).

The year's examination is due by 31 December; "本年未做健康体检" is a gap only once the year is over
(before that the person is listed as pending, and the worklist shows the exam as due).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from gongwei.spec.periods import Period
from gongwei.spec.rules import (
    ByYear,
    DenominatorKind,
    GapReason,
    Indicator,
    ScheduledService,
    Source,
    Target,
)
from gongwei.spec.target_sources import BAOTOU, GUANGDONG, S0, S4, UNIDENTIFIED_REGION, V28
from gongwei.spec.vocab import BaseGroup, TestResult

PROGRAM = "elderly"
SPEC_2017 = Source("国家基本公共卫生服务规范（第三版）老年人健康管理服务规范 [spec2017-elderly]", "V")

# Who: residents aged 65 and over [spec2017-elderly].
MIN_AGE = 65


class AgeReference(StrEnum):
    """The date at which completed years of age are counted ([spec2017] [B]: varies by platform)."""

    YEAR_END = "year_end"      # 31 December of the assessment year (default)
    YEAR_START = "year_start"  # 1 January of the assessment year
    PERIOD_END = "period_end"  # the last day of the reported period


AGE_REFERENCE = ByYear({2009: AgeReference.YEAR_END})
AGE_REFERENCE_SOURCE = Source("[spec2017]: 年龄按参照日的周岁计；参照日各平台不一，默认当年12月31日", "B")


def reference_date(period: Period, reference: AgeReference | None = None) -> dt.date:
    reference = reference or AGE_REFERENCE.for_year(period.year)
    if reference is AgeReference.YEAR_START:
        return dt.date(period.year, 1, 1)
    if reference is AgeReference.PERIOD_END:
        return period.end
    return dt.date(period.year, 12, 31)


def born_by(period: Period, years: int, reference: AgeReference | None = None) -> dt.date:
    """The latest birth date of someone aged ``years`` or more (completed years) at the reference date:
    "65岁及以上" = born on or before (reference date − 65 years). A 29 February reference falls back to 28."""
    ref = reference_date(period, reference)
    try:
        return ref.replace(year=ref.year - years)
    except ValueError:
        return ref.replace(year=ref.year - years, day=28)


def due_date(year: int) -> dt.date:
    """The year's examination (and TCM service) is due by 31 December: the service is "once a year" [spec2017-elderly][spec2017-tcm-elderly]."""
    return dt.date(year, 12, 31)


# Served and later closed (died, moved out, lost, refused during the period): the service still counts for the
# period it was given in, against the population base (which counts the year's residents, the person included);
# a service dated after the closing date does not (QC rule T-03 flags it) [I]
SERVED_THEN_CLOSED_COUNT = True
SERVED_THEN_CLOSED_SOURCE = Source(
    "国家基本公共卫生服务规范（第三版）老年人健康管理服务规范 考核指标：年内接受健康管理人数 / 年内辖区内65岁及以上"
    "常住居民数 [spec2017-elderly]；年内服务后结案者仍计入 [I]", "I")


@dataclass(frozen=True)
class ExamItem:
    """One item of the annual package: recorded when its fields are filled (all of them, or any one with
    ``any_field`` — a lab panel counts as done when at least one of its results is recorded [B]).
    Values in ``not_done`` (e.g. 心电图 "9 未检查") count as blank. An item with no ``fields`` is part of the
    package but not yet recordable: the 健康体检表 model (records.models.HealthExamination) has no field for it,
    so it cannot be judged and is left out of E1/E2 and C-03 (listed by :func:`not_recordable`)."""

    label: str
    fields: tuple[str, ...]
    any_field: bool = False
    not_done: tuple[str, ...] = ()

    @property
    def recordable(self) -> bool:
        return bool(self.fields)


@dataclass(frozen=True)
class ExamSection:
    key: str  # one of SECTION_KEYS (each has its gap reason)
    items: tuple[ExamItem, ...]


SECTION_KEYS = ("assessment", "physical", "tests", "guidance")
SECTION_LABELS = {"assessment": "健康状况评估", "physical": "体格检查", "tests": "辅助检查", "guidance": "健康指导"}


_NOT_DONE = (TestResult.NOT_DONE.value,)

# The complete annual package of the 3rd edition (2017) — the ONE definition of a complete elderly exam, read by
# E1/E2 (engine.programs.elderly) and QC rule C-03 (engine.quality.completeness). Four parts [spec2017-elderly]:
# 生活方式和健康状况评估 (self-rated health, self-care, symptoms, exercise, diet, smoking, drinking; the form's
# cognition and affect screens for the elderly [V [exam-form-2017]]); 体格检查 (temperature, pulse,
# respiration, blood pressure of both arms, height, weight, waist, skin/lymph nodes/heart/lungs/abdomen, rough
# checks of mouth, vision, hearing and motor function); 辅助检查 (blood and urine routine, liver and kidney
# function, fasting glucose, lipids, ECG, abdominal B-ultrasound); 健康指导 (health evaluation and guidance —
# guidance recorded in 健康指导 or 危险因素控制, the two boxes of the form's guidance block [B]).
# Which fields make an item "recorded" is not defined nationally [B]; each item is configurable by year.
PACKAGE = ByYear({2017: (
    ExamSection("assessment", (
        ExamItem("健康状态自我评估", ("self_rated_health",)),
        ExamItem("生活自理能力评估", ("adl_score",)),
        ExamItem("症状", ("symptoms",)),
        ExamItem("体育锻炼", ("exercise_frequency",)),
        ExamItem("饮食习惯", ()),  # not yet recordable: no diet field on the exam model
        ExamItem("吸烟情况", ("smoking_status",)),
        ExamItem("饮酒情况", ("drinking_frequency",)),
        ExamItem("认知功能", ("cognition",)),
        ExamItem("情感状态", ("affect",)),
    )),
    ExamSection("physical", (
        ExamItem("体温", ("temperature",)),
        ExamItem("脉率", ("pulse",)),
        ExamItem("呼吸频率", ("respiration",)),
        ExamItem("左侧血压", ("sbp_left", "dbp_left")),
        ExamItem("右侧血压", ("sbp_right", "dbp_right")),
        ExamItem("身高", ("height",)),
        ExamItem("体重", ("weight",)),
        ExamItem("腰围", ("waist",)),
        ExamItem("脏器功能（口腔、视力、听力、运动功能）", ()),  # not yet recordable: no organ-function fields
        ExamItem("查体（皮肤、淋巴结、心脏、肺部、腹部）", ()),  # not yet recordable: no physical-finding fields
    )),
    ExamSection("tests", (
        ExamItem("血常规", ("hemoglobin", "wbc", "platelets"), any_field=True),
        ExamItem("尿常规", ("urine_protein", "urine_glucose"), any_field=True),
        ExamItem("肝功能", ("alt", "ast", "total_bilirubin"), any_field=True),
        ExamItem("肾功能", ("creatinine", "urea"), any_field=True),
        ExamItem("空腹血糖", ("fasting_glucose",)),
        ExamItem("血脂", ("total_cholesterol", "triglycerides", "ldl", "hdl"), any_field=True),
        ExamItem("心电图", ("ecg",), not_done=_NOT_DONE),
        ExamItem("腹部B超", ("abdominal_ultrasound",), not_done=_NOT_DONE),
    )),
    ExamSection("guidance", (
        ExamItem("健康评价", ("health_evaluation",)),
        ExamItem("健康指导", ("health_guidance", "risk_factor_control"), any_field=True),
    )),
)})
PACKAGE_SOURCE = Source("国家基本公共卫生服务规范（第三版）老年人健康管理服务规范 服务内容（四部分）[spec2017-elderly]；"
                        "健康体检表各栏 [exam-form-2017]；“完整”的字段清单 [B]", "B")


def recordable_items(year: int) -> tuple[tuple[str, ExamItem], ...]:
    """(section key, item) for every item of the year's package that the exam model can record."""
    return tuple((s.key, i) for s in PACKAGE.for_year(year) for i in s.items if i.recordable)


def not_recordable(year: int) -> tuple[str, ...]:
    """Labels of the package items the exam model has no field for (not judged until it has)."""
    return tuple(i.label for s in PACKAGE.for_year(year) for i in s.items if not i.recordable)


# E1's numerator follows the 3rd-edition note "接受健康管理是指建立了健康档案、接受了健康体检、健康指导、健康体检表
# 填写完整": the complete package of PACKAGE (guidance included), the same flag as E2 [spec2017-elderly]
INDICATORS = (
    Indicator("E1", "老年人健康管理率", "elderly.standardized", BaseGroup.AGED_65_PLUS.value,
              DenominatorKind.POPULATION_BASE,
              Source("国家基本公共卫生服务规范（第三版）老年人健康管理服务规范 考核指标及注（健康体检、健康指导、"
                     "健康体检表填写完整）[spec2017-elderly]； E1 [rpt-jkda][appraisal-server]", "V"), PROGRAM,
              cohort="elderly.counted",
              note="年内接受健康管理（健康体检、健康指导、健康体检表填写完整，按 PACKAGE 判定）的65岁及以上常住居民"
                   " / 65岁及以上常住人口数；年内服务后结案者仍计入分子"),
    Indicator("E2", "65岁及以上老年人城乡社区规范健康管理服务率", "elderly.standardized",
              BaseGroup.AGED_65_PLUS.value, DenominatorKind.POPULATION_BASE,
              Source(" E2 [rpt-jkda][city-rectification-2023][shangdang-2023][baotou-2025]；“完整”[B]", "V"), PROGRAM,
              cohort="elderly.counted",
              note="年内接受完整年度服务（评估、体格检查、辅助检查、健康指导）者；完整性按 PACKAGE 判定 [B]（"
                   f"{'、'.join(not_recordable(2017))}尚无记录字段，暂不判定）；年内服务后结案者仍计入分子"),
    Indicator("E3", "老年人体检率", "elderly.examined_in_records", "elderly.aged_65_plus",
              DenominatorKind.MANAGED_COHORT,
              Source(" E3（进度指标）[pingliang-2020q2]", "S"), PROGRAM,
              note="截至期末已体检的65岁及以上在档居民 / 65岁及以上在档居民"),
)

TARGETS = (
    Target("E2", 2022, 0.62, Source(f"{V28}（2022 年值）", "V"), region=UNIDENTIFIED_REGION),
    Target("E2", 2023, 0.62, Source(V28, "V"), region=UNIDENTIFIED_REGION),
    # [city-rectification-2023] measures its 2023 progress ("截至11月8日 … 争取最后两个月冲刺达标") against these 省目标值
    Target("E2", 2023, 0.62, Source(f"{S0}：≥62%", "S"), region=GUANGDONG),
    Target("E2", 2024, 0.64, Source(S4, "S"), region=BAOTOU),
)

GAP_REASONS = {
    "no_exam": GapReason("ELD-EXAM", "本年未做健康体检"),
    "exam_pending": GapReason("ELD-PENDING", "本年尚未做健康体检（应于 {exam_due} 前完成）"),
    **{f"missing_{k}": GapReason(f"ELD-{k.upper()}", f"体检缺少{label}：{{missing_{k}}}")
       for k, label in SECTION_LABELS.items()},
}
FLAG_REASONS = {
    "examined": ("no_exam", "exam_pending"),
    "examined_in_records": ("no_exam", "exam_pending"),
    "standardized": ("no_exam", "exam_pending", *(f"missing_{k}" for k in SECTION_KEYS)),
}
SCHEDULE = (
    ScheduledService("elderly_exam", "老年人年度健康体检", "exam_due", gap="no_exam"),
)
