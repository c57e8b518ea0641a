"""Hard bounds applied when a value enters the system of record.

Only physically impossible values are rejected at entry ([exam-form-2017] B, "Hard error"
column [U]); implausible-but-possible values and temporal or cross-record logic are stored and
reported as quality findings, because real data has them and quality control must count them.
Keys are ``table.field`` or plain ``field`` (applies to every table with that field).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import ModuleType

from gongwei.spec.rules import Source

HARD_BOUNDS: dict[str, tuple[float, float]] = {
    "sbp": (60, 300), "sbp_left": (60, 300), "sbp_right": (60, 300),
    "dbp": (30, 200), "dbp_left": (30, 200), "dbp_right": (30, 200),
    "health_examinations.height": (50, 250),
    "health_examinations.weight": (2, 300), "chronic_follow_ups.weight": (2, 300),
    "child_checks.height": (30, 150), "child_checks.weight": (0.5, 60),
    "newborn_visits.weight": (0.3, 8), "prenatal_visits.weight": (25, 250),
    "waist": (30, 200),
    "pulse": (30, 220), "heart_rate": (30, 220),
    "temperature": (34, 43),
    "respiration": (6, 60),
    "bmi": (8, 80),
    "fasting_glucose": (1, 35),
    "hba1c": (3, 20),
    "cigarettes_per_day": (0, 100),
    "risk_grade": (0, 5),                                                     # SMI risk grade 0–5
    "gestational_weeks": (1, 45),
    "age_months": (0, 84),
    "dose_no": (1, 6),
    "adl_score": (0, 40),
    "year": (2000, 2100),
}

# Pairs that must satisfy first > second (R-04: DBP ≥ SBP is impossible).
ORDERED_PAIRS: tuple[tuple[str, str], ...] = (("sbp", "dbp"), ("sbp_left", "dbp_left"), ("sbp_right", "dbp_right"))

# Date pairs where the second may not precede the first (a period that ends before it starts).
ORDERED_DATES: tuple[tuple[str, str], ...] = (("start_date", "end_date"),)


# --- left/right arm blood pressure (健康体检表 血压 左侧/右侧) -------------------------------------------------------
# A systolic gap between the arms above ARM_GAP_REVIEW mmHg is counted (QC F-03); above ARM_GAP_REMEASURE the exam
# must be re-measured the next day (QC F-03b, and asked at entry). 平凉市2020年第二季度基本公卫服务项目工作进度情况的
# 通报（平卫函发〔2020〕367号）："左右侧血压差大于10mmhg的体检记录人数…特别是…大于20mmhg的要隔天重测" [pingliang-2020q2].
ARM_GAP_REVIEW = 10
ARM_GAP_REMEASURE = 20
ARM_GAP_SOURCE = Source("平凉市2020年第二季度基本公卫服务项目工作进度情况的通报：左右侧血压差大于10mmhg；"
                        "大于20mmhg的要隔天重测 [pingliang-2020q2][htn-verification-form]", "S")


@dataclass(frozen=True)
class ArmGap:
    gap: int  # |left SBP − right SBP|, mmHg
    review: bool  # > ARM_GAP_REVIEW
    remeasure: bool  # > ARM_GAP_REMEASURE: re-measure the next day

    @property
    def message(self) -> str:
        if self.remeasure:
            return (f"左右臂收缩压相差 {self.gap} mmHg，超过 {ARM_GAP_REMEASURE} mmHg："
                    "请复测双臂血压，仍超过时隔天重测")
        if self.review:
            return f"左右臂收缩压相差 {self.gap} mmHg，超过 {ARM_GAP_REVIEW} mmHg，请核对测量"
        return ""


def arm_gap(sbp_left: int | None, sbp_right: int | None) -> ArmGap | None:
    """The arm gap of an exam's two systolic readings (None: one arm not measured)."""
    if sbp_left is None or sbp_right is None:
        return None
    gap = abs(int(sbp_left) - int(sbp_right))
    return ArmGap(gap, gap > ARM_GAP_REVIEW, gap > ARM_GAP_REMEASURE)


# --- chronic follow-up forms: the rule at entry and structured medication ---------------------------------------
def follow_up_rules(program: str) -> ModuleType:
    """The rulebook module whose ``propose`` classes a follow-up of ``program`` at entry (KeyError: no form)."""
    from gongwei.spec.programs import copd, diabetes, hypertension

    return {"hypertension": hypertension, "diabetes": diabetes, "copd": copd}[program]


# COPD's form classes only reactions and complications (no control target is defined: spec.programs.copd)
FOLLOW_UP_FORMS = ("hypertension", "diabetes", "copd")
# the programs whose visits are classed by a measurement (the form asks for it at a face-to-face visit)
MEASURED_FOLLOW_UPS = {"hypertension": "血压", "diabetes": "空腹血糖"}

# 用药情况: the 3rd-edition form has 药物名称 with 用法用量 "每日 次 每次 mg" per drug [htn-followup-form]. The form
# enters each drug as (name, dose per time with its unit, times a day) and stores them in the one text field as
# "name dose frequency" joined by "；" — e.g. "硝苯地平缓释片 20mg 每日2次；二甲双胍 0.5g 每日3次" — which QC rule C-06
# reads back (its dose and frequency patterns match every entry written this way).
MEDICATION_SEPARATOR = "；"
MEDICATION_FREQUENCIES = ("每日1次", "每日2次", "每日3次", "每日4次", "每晚1次", "每周1次")
MEDICATION_UNITS = ("mg", "g", "μg", "ml", "IU", "U", "片", "粒", "袋", "支", "喷")
MEDICATION_MAX_LINES = 6


def service_age(birth: dt.date | None, on: dt.date) -> int | None:
    """Completed years of age on ``on`` (the age the rulebook's age-dependent targets use)."""
    if birth is None:
        return None
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


# --- 健康体检表 at entry (issue 11 §5, i11adult) -------------------------------------------------------------------
# The exam form asks for what the rulebook already defines elsewhere: the arm gap above, the emergency blood pressure
# of the hypertension program (spec.programs.hypertension.emergency, [spec2017-htn]) read on each arm, and the one
# definition of a complete annual package (spec.programs.elderly.PACKAGE, read by E1/E2 and QC C-03) — here applied
# to one exam's typed values, as engine.programs.elderly.item_missing applies it to a table.
EXAM_GUIDANCE_SECTION = "guidance"  # 健康评价 + 健康指导: required to save an exam (a complete exam needs them)


def exam_item_missing(values: dict[str, object], item) -> bool:
    """Whether one package item is missing from an exam's values (blank, or a "not done" value such as 心电图
    "9 未检查"); ``any_field`` items are recorded when one of their fields is — the engine's rule, row by row."""

    def missing(name: str) -> bool:
        x = values.get(name)
        return x is None or str(x).strip() == "" or str(x) in item.not_done

    parts = [missing(f) for f in item.fields]
    return all(parts) if item.any_field else any(parts)


def exam_missing(values: dict[str, object], year: int) -> dict[str, list[str]]:
    """Labels of the package items missing from one exam, by section key (only recordable items; a section with
    nothing missing is left out). Empty: the exam holds the year's complete package."""
    from gongwei.spec.programs import elderly

    out: dict[str, list[str]] = {}
    for key, item in elderly.recordable_items(year):
        if exam_item_missing(values, item):
            out.setdefault(key, []).append(item.label)
    return out


def exam_emergency(readings: tuple[tuple[int | None, int | None], ...]) -> tuple[str, ...]:
    """The hypertension program's emergency blood pressure found on any arm of an exam (one line per arm)."""
    from gongwei.spec.programs import hypertension

    found: list[str] = []
    for side, (sbp, dbp) in zip(("左侧", "右侧"), readings, strict=True):
        found += [f"{side}{x}" for x in hypertension.emergency(sbp, dbp)]
    return tuple(found)


# The coded boxes of the 健康体检表 that have no vocabulary of their own (2017 layout [exam-form-2017]).
EXAM_CODES: dict[str, tuple[tuple[str, str], ...]] = {
    "self_rated_health": (("1", "满意"), ("2", "基本满意"), ("3", "说不清楚"), ("4", "不太满意"), ("5", "不满意")),
    "cognition": (("1", "粗筛阴性"), ("2", "粗筛阳性")),
    "affect": (("1", "粗筛阴性"), ("2", "粗筛阳性")),
    "exercise_frequency": (("1", "每天"), ("2", "每周一次以上"), ("3", "偶尔"), ("4", "不锻炼")),
    "smoking_status": (("1", "从不吸烟"), ("2", "已戒烟"), ("3", "吸烟")),
    "drinking_frequency": (("1", "从不"), ("2", "偶尔"), ("3", "经常"), ("4", "每天")),
    "urine_protein": (("-", "-"), ("±", "±"), ("+", "+"), ("++", "++"), ("+++", "+++"), ("++++", "++++")),
    "urine_glucose": (("-", "-"), ("±", "±"), ("+", "+"), ("++", "++"), ("+++", "+++"), ("++++", "++++")),
}
EXAM_CODES_SOURCE = Source("健康体检表（2017）各栏代码 [exam-form-2017]", "V")


# 严重精神障碍患者随访服务记录表: the coded boxes without a vocabulary of their own [spec2017-smi]. The class and the
# next-visit date come from spec.programs.smi (CLASS_BY_RISK_GRADE, NEXT_VISIT_DAYS) at entry.
SMI_CODES: dict[str, tuple[tuple[str, str], ...]] = {
    "insight": (("1", "自知力完全"), ("2", "自知力不全"), ("3", "自知力缺失")),
    "social_function": (("1", "良好"), ("2", "一般"), ("3", "较差")),
}
SPECIAL_FOLLOW_UP_FORMS = ("smi", "tb")  # follow-up forms beyond FOLLOW_UP_FORMS, each with its own rules (issue 11 §5)
