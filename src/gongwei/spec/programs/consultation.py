"""门诊首诊 — first outpatient visits of residents aged 35 and over (H5, D5; ).

Source: 国家基本公共卫生服务规范（第三版）(2017), hypertension and type 2 diabetes chapters (screening: 35岁及以上
居民首诊测血压; 2型糖尿病高危人群建议每年至少测量1次空腹血糖) and the reporting model's 首诊测血压人数 [appraisal-server][rpt-jkda][B].
The indicators themselves are declared in :mod:`~gongwei.spec.programs.hypertension` (H5) and
:mod:`~gongwei.spec.programs.diabetes` (D5); this module holds the rules of the consultation state table.

Definitions chosen where the domain reference is unsure (each a named parameter below):

* **First visit (首诊)**: a resident's first consultation (接诊记录, not void) of the calendar year at any primary
  institution — earliest date, then lowest record number. Later visits of the year are not first visits.
* **Cohort**: residents (record not merged) aged ``MIN_AGE`` or more on the day of that first visit, whose first
  visit falls in the period. A row counts at the unit where the visit took place.
* **Measured**: the first visit's ``bp_measured`` (or ``glucose_measured``) is set, or a value is recorded
  (``RECORDED_VALUE_COUNTS``): a reading on the form shows the measurement was taken.
"""

from __future__ import annotations

from gongwei.spec.rules import GapReason, Source

CODE = "consultation"
SOURCE = Source("国家基本公共卫生服务规范（第三版）高血压、2型糖尿病患者健康管理服务规范（35岁及以上居民首诊测血压）"
                "[appraisal-server][rpt-jkda][B]", "B")

# 35岁及以上 [appraisal-server]: the same age as the hypertension program's screening age.
MIN_AGE = 35
# A recorded SBP (or glucose value) counts as measured even when the tick box was left blank [I].
RECORDED_VALUE_COUNTS = True

GAP_REASONS = {
    "no_bp": GapReason("FV-BP", "{first_visit_date} 首诊未测血压"),
    "no_glucose": GapReason("FV-GLU", "{first_visit_date} 首诊未测血糖"),
}
FLAG_REASONS = {
    "bp_measured": ("no_bp",),
    "glucose_measured": ("no_glucose",),
}
