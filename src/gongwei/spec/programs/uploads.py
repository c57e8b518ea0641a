"""上传档案数据有效率 — the share of uploaded record rows that pass the entry checks ([baotou-2025]).

Seed 004: "全市上传自治区平台档案数据有效率达 99.7%" [baotou-2025]. The system of record *is* the platform here, so an upload is
a batch written through the one entry layer (``records.entry.submit``), which counts, per table and per org unit
the row belongs to, the rows received and rejected (``LoadTally``).

* **submitted_rows**: rows received by upload batches started in the period (local date), at the unit the row
  names (its own ``org_unit`` / ``managing_unit`` column; rows naming no known unit are not attributed);
* **valid_rows**: submitted rows that passed validation (received − rejected).

Only batches that were written have tallies: an upload rejected whole writes nothing (the entry layer's rule), so
the rate covers uploads made with ``accept_valid`` — invalid rows returned, valid ones kept — and clean uploads.
Which batch kinds are uploads is :data:`UPLOAD_BATCH_KINDS` [U]: imports by default; synthetic loads, tests and
single-form entries are not uploads.
"""

from __future__ import annotations

from gongwei.spec.rules import DenominatorKind, GapReason, Indicator, Source

CODE = "uploads"
UPLOAD_BATCH_KINDS = ("import",)
# Timestamps are stored in UTC; the period is read in China Standard Time (as for report cards).
LOCAL_UTC_OFFSET_HOURS = 8

INDICATORS = (
    Indicator("DV1", "上传档案数据有效率", f"{CODE}.valid_rows", f"{CODE}.submitted_rows", DenominatorKind.EVENTS,
              Source("包头市 2025 年报告（[baotou-2025]）：上传自治区平台档案数据有效率达 99.7% [baotou-2025]; 口径：有效行数 / 上传行数 [I]",
                     "I"), CODE,
              note="统计期内导入批次中通过录入校验的行数 / 上传的行数；按行所属机构统计（整批拒收的上传不留记录）"),
)

GAP_REASONS = {
    "rows_rejected": GapReason("DV-REJECTED", "批次 {batch_id} 的 {table} 有 {rejected_rows} 行未通过校验"),
}
FLAG_REASONS = {"valid_rows": ("rows_rejected",)}
