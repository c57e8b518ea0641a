"""老年人中医药健康管理 — elderly TCM health management ([spec2017] elderly part, TCM1).

Once a year for residents aged 65+ [spec2017-tcm-elderly]: constitution identification (中医体质辨识, the 33-item
questionnaire scored by :mod:`gongwei.spec.constitution`) and TCM health guidance by constitution.
Children's TCM guidance (TCM2) belongs to the child program.

One state row per resident aged 65+ found in the records (the elderly program's cohort and age rule), plus
residents closed during the period who had a questionnaire before their closing date (served then closed still
count against the population base, :data:`SERVED_THEN_CLOSED_COUNT`):

* **aged_65_plus**: the cohort in the records at the period end.
* **managed**: in the period (for a closed record, on or before the closing date), a questionnaire with all
  33 answers valid (1–5 each) and guidance given.
* **counted**: the people the TCM1 drill-down lists: the cohort and the closed residents who are managed.

Due by 31 December; "本年未做中医体质辨识" is a gap once the year is over (pending before that).
"""

from __future__ import annotations

from gongwei.spec import constitution
from gongwei.spec.programs import elderly
from gongwei.spec.rules import DenominatorKind, GapReason, Indicator, ScheduledService, Source, Target
from gongwei.spec.target_sources import BAOTOU, GUANGDONG, S0, S4, UNIDENTIFIED_REGION, V28
from gongwei.spec.vocab import BaseGroup

PROGRAM = "elderly_tcm"
PROGRAM_NAME = "老年人中医药健康管理"  # no enrolment program of its own, so no vocabulary entry
SPEC_2017 = Source("国家基本公共卫生服务规范（第三版）中医药健康管理服务规范（老年人）[spec2017-tcm-elderly]", "V")

# Who: the elderly program's population and age rule (65+, reference date configurable there) [spec2017-tcm-elderly].
MIN_AGE = elderly.MIN_AGE
# What counts: a complete questionnaire (33 answers 1–5, spec.constitution) and guidance given [spec2017-tcm-elderly][tcm-constitution].
QUESTION_COUNT = constitution.QUESTION_COUNT
ANSWER_RANGE = (constitution.MIN_ANSWER, constitution.MAX_ANSWER)
GUIDANCE_REQUIRED = True
# Served then closed during the period: still counted for that period (the elderly program's rule) [I]
SERVED_THEN_CLOSED_COUNT = elderly.SERVED_THEN_CLOSED_COUNT

INDICATORS = (
    Indicator("TCM1", "老年人中医药健康管理率", "elderly_tcm.managed", BaseGroup.AGED_65_PLUS.value,
              DenominatorKind.POPULATION_BASE, Source(" TCM1 [rpt-jkda][shangdang-2023][baotou-2025]", "V"), PROGRAM,
              cohort="elderly_tcm.counted",
              note="年内完成中医体质辨识（33题问卷完整）并进行中医药保健指导的65岁及以上常住居民 / 65岁及以上常住人口数；"
                   "年内服务后结案者仍计入分子"),
)

TARGETS = (
    # [city-rectification-2023] measures its 2023 progress ("截至11月8日 … 争取最后两个月冲刺达标") against these 省目标值
    Target("TCM1", 2023, 0.70, Source(f"{S0}：≥70%", "S"), region=GUANGDONG),
    Target("TCM1", 2023, 0.70, Source(V28, "V"), region=UNIDENTIFIED_REGION),
    Target("TCM1", 2024, 0.74, Source(S4, "S"), region=BAOTOU),
)

GAP_REASONS = {
    "no_tcm": GapReason("TCM-NONE", "本年未做中医体质辨识"),
    "tcm_pending": GapReason("TCM-PENDING", "本年尚未做中医体质辨识（应于 {tcm_due} 前完成）"),
    "incomplete": GapReason("TCM-FORM", f"中医体质辨识问卷不完整（应答 {QUESTION_COUNT} 题，每题 "
                                        f"{ANSWER_RANGE[0]}～{ANSWER_RANGE[1]} 分）"),
    "no_guidance": GapReason("TCM-GUIDE", "已做体质辨识，未进行中医药保健指导"),
}
FLAG_REASONS = {
    "managed": ("no_tcm", "tcm_pending", "incomplete", "no_guidance"),
}
SCHEDULE = (
    ScheduledService("elderly_tcm", "老年人中医体质辨识和保健指导", "tcm_due", gap="no_tcm"),
)
