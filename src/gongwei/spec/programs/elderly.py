"""老年人健康管理 — residents aged 65 and over (domain-spec.md §1.3, §2.6, §4.3 E1–E3, §5).

One state row per resident aged 65+ found in the records at the period end (a usual resident, not merged,
not closed by death, move, loss or refusal on or before the period end), at the resident's managing unit:

* **aged_65_plus**: the cohort — born on or before the reference date minus 65 years (:func:`born_by`).
* **examined** (健康管理 / 体检): at least one health examination from the period start to its end.
* **standardized** (规范健康管理服务): one examination in the period holds the complete annual package —
  every item of every section of :data:`PACKAGE` recorded. The examination with the fewest missing
  items explains a gap ("体检缺少辅助检查：血常规、心电图").

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
SPEC_2017 = Source("国家基本公共卫生服务规范（第三版）老年人健康管理服务规范 [V 13]", "V")

# Who: residents aged 65 and over [V 13].
MIN_AGE = 65


class AgeReference(StrEnum):
    """The date at which completed years of age are counted (domain-spec.md §1.3 [B]: varies by platform)."""

    YEAR_END = "year_end"      # 31 December of the assessment year (default)
    YEAR_START = "year_start"  # 1 January of the assessment year
    PERIOD_END = "period_end"  # the last day of the reported period


AGE_REFERENCE = ByYear({2009: AgeReference.YEAR_END})
AGE_REFERENCE_SOURCE = Source("domain-spec.md §1.3: 年龄按参照日的周岁计；参照日各平台不一，默认当年12月31日", "B")


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
    """The year's examination (and TCM service) is due by 31 December: the service is "once a year" [V 13][V 15]."""
    return dt.date(year, 12, 31)


@dataclass(frozen=True)
class ExamItem:
    """One item of the annual package: recorded when its fields are filled (all of them, or any one with
    ``any_field`` — a lab panel counts as done when at least one of its results is recorded [B]).
    Values in ``not_done`` (e.g. 心电图 "9 未检查") count as blank."""

    label: str
    fields: tuple[str, ...]
    any_field: bool = False
    not_done: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExamSection:
    key: str  # one of SECTION_KEYS (each has its gap reason)
    items: tuple[ExamItem, ...]


SECTION_KEYS = ("assessment", "physical", "tests", "guidance")
SECTION_LABELS = {"assessment": "健康状况评估", "physical": "体格检查", "tests": "辅助检查", "guidance": "健康指导"}


_NOT_DONE = (TestResult.NOT_DONE.value,)

# The complete annual package (domain-spec.md §2.6 [V 13]): assessment, physical exam, tests, guidance.
# Which form fields make each part "complete" is not defined nationally: this list follows the four
# parts of the specification and the 健康体检表 (data-quality.md §1.4) and is configurable [B].
PACKAGE = ByYear({2017: (
    ExamSection("assessment", (
        ExamItem("健康状态自我评估", ("self_rated_health",)),
        ExamItem("生活自理能力评估", ("adl_score",)),
        ExamItem("体育锻炼", ("exercise_frequency",)),
        ExamItem("吸烟情况", ("smoking_status",)),
        ExamItem("饮酒情况", ("drinking_frequency",)),
    )),
    ExamSection("physical", (
        ExamItem("体温", ("temperature",)),
        ExamItem("脉率", ("pulse",)),
        ExamItem("呼吸频率", ("respiration",)),
        ExamItem("血压", ("sbp_left", "dbp_left")),
        ExamItem("身高", ("height",)),
        ExamItem("体重", ("weight",)),
        ExamItem("腰围", ("waist",)),
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
        ExamItem("健康指导", ("health_guidance",)),
    )),
)})
PACKAGE_SOURCE = Source("domain-spec.md §2.6 四部分内容 [V 13]；“完整”的字段清单 [B]", "B")

INDICATORS = (
    Indicator("E1", "老年人健康管理率", "elderly.examined", BaseGroup.AGED_65_PLUS.value,
              DenominatorKind.POPULATION_BASE, Source("domain-spec.md §4.3 E1 [V 55b][V 55a]", "V"), PROGRAM,
              cohort="elderly.aged_65_plus", note="年内接受健康管理（至少一次健康体检）的65岁及以上常住居民 / 65岁及以上常住人口数"),
    Indicator("E2", "65岁及以上老年人城乡社区规范健康管理服务率", "elderly.standardized",
              BaseGroup.AGED_65_PLUS.value, DenominatorKind.POPULATION_BASE,
              Source("domain-spec.md §4.3 E2 [V 55b][S 0][S 1][S 4]；“完整”[B]", "V"), PROGRAM,
              cohort="elderly.aged_65_plus",
              note="年内接受完整年度服务（评估、体格检查、辅助检查、健康指导）者；完整性按 PACKAGE 判定 [B]"),
    Indicator("E3", "老年人体检率", "elderly.examined", "elderly.aged_65_plus", DenominatorKind.MANAGED_COHORT,
              Source("domain-spec.md §4.3 E3（进度指标）[S 2]", "S"), PROGRAM,
              note="截至期末已体检的65岁及以上在档居民 / 65岁及以上在档居民"),
)

TARGETS = (
    Target("E2", 2022, 0.62, Source(f"{V28}（2022 年值）", "V"), region=UNIDENTIFIED_REGION),
    Target("E2", 2023, 0.62, Source(V28, "V"), region=UNIDENTIFIED_REGION),
    # seed 000 measures its 2023 progress ("截至11月8日 … 争取最后两个月冲刺达标") against these 省目标值
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
    "standardized": ("no_exam", "exam_pending", *(f"missing_{k}" for k in SECTION_KEYS)),
}
SCHEDULE = (
    ScheduledService("elderly_exam", "老年人年度健康体检", "exam_due", gap="no_exam"),
)
