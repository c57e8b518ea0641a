"""Findings (a QC rule hit on a record) with an auditable status, and merges that can be undone exactly."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from gongwei.records.models import OrgUnit, Resident


class FindingStatus(models.TextChoices):
    OPEN = "open", "待整改"
    RECTIFIED = "rectified", "已整改"
    VERIFIED = "verified", "已核实"
    DISMISSED = "dismissed", "已排除"


# open → rectified → verified; open/rectified → dismissed (with a reason); any → open when it recurs.
TRANSITIONS: dict[str, frozenset[str]] = {
    FindingStatus.OPEN: frozenset({FindingStatus.RECTIFIED, FindingStatus.DISMISSED}),
    FindingStatus.RECTIFIED: frozenset({FindingStatus.VERIFIED, FindingStatus.OPEN, FindingStatus.DISMISSED}),
    FindingStatus.VERIFIED: frozenset({FindingStatus.OPEN}),
    FindingStatus.DISMISSED: frozenset({FindingStatus.OPEN}),
}


class Finding(models.Model):
    """One rule hit on one record, kept across evaluations: (rule, table, record) is its identity."""

    rule = models.CharField("规则", max_length=10, db_index=True)
    table = models.CharField("数据表", max_length=40)
    record_id = models.BigIntegerField("记录ID")
    record_no = models.CharField("记录编号", max_length=40)
    resident = models.ForeignKey(Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 verbose_name="居民")
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="责任机构")
    assigned_to = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="整改单位")
    values = models.JSONField("问题数值", default=dict)
    message = models.CharField("问题说明", max_length=300)
    status = models.CharField("状态", max_length=10, choices=FindingStatus.choices, default=FindingStatus.OPEN,
                              db_index=True)
    first_seen = models.CharField("首次发现（快照）", max_length=40)
    last_seen = models.CharField("最近发现（快照）", max_length=40)
    period = models.CharField("期间", max_length=12)
    rulebook = models.CharField("规则库版本", max_length=20)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "质控问题"
        constraints = [models.UniqueConstraint(fields=["rule", "table", "record_id"], name="uniq_finding_per_record")]
        indexes = [models.Index(fields=["org_unit", "status"])]

    def __str__(self) -> str:
        return f"{self.rule} {self.record_no}"


class FindingTransition(models.Model):
    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="transitions")
    from_status = models.CharField("原状态", max_length=10, choices=FindingStatus.choices)
    to_status = models.CharField("新状态", max_length=10, choices=FindingStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    actor_label = models.CharField("操作人", max_length=150, blank=True)
    reason = models.CharField("说明", max_length=300, blank=True)
    snapshot = models.CharField("快照", max_length=40, blank=True)
    at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "质控状态变更"
        ordering = ["at", "id"]


class Merge(models.Model):
    """A duplicate record merged into a survivor. ``moved`` lists exactly which rows were re-pointed, so
    ``unmerge`` restores them; ``before`` holds the duplicate's status fields."""

    survivor = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+", verbose_name="保留档案")
    duplicate = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+", verbose_name="合并档案")
    moved = models.JSONField("转移的记录", default=dict)
    before = models.JSONField("合并前状态", default=dict)
    reason = models.CharField("原因", max_length=300, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    actor_label = models.CharField("操作人", max_length=150, blank=True)
    merged_at = models.DateTimeField("合并时间", auto_now_add=True)
    undone_at = models.DateTimeField("撤销时间", null=True, blank=True)
    undone_by = models.CharField("撤销人", max_length=150, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "档案合并"


class PairReview(models.Model):
    """A reviewer's decision that two records proposed by the duplicate finder are different people.

    Kept so the pair does not come back in the review queue of the next snapshot; undoing it sets
    ``undone_at`` (nothing is deleted). The pair is stored ordered (``first`` < ``second``) so it is found
    whichever record the finder proposes as the survivor."""

    first = models.CharField("档案编号（一）", max_length=40)
    second = models.CharField("档案编号（二）", max_length=40)
    reason = models.CharField("说明", max_length=300, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    actor_label = models.CharField("操作人", max_length=150, blank=True)
    at = models.DateTimeField("判定时间", auto_now_add=True)
    undone_at = models.DateTimeField("撤销时间", null=True, blank=True)
    undone_by = models.CharField("撤销人", max_length=150, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "重复档案复核（非重复）"
        indexes = [models.Index(fields=["first", "second"])]

    def __str__(self) -> str:
        return f"{self.first} ≠ {self.second}"


class LedgerVersion(models.Model):
    """How many times the rectification ledger has been written in a way that changes its counts: findings
    created or re-evaluated, moved to another status or to another unit. One row (created by the first write).

    The findings page keeps the ledger's counts by status, rule and period under this number (issue 10: at 391,000
    findings, counting a county's took 100 ms in PostgreSQL on every view). Each writer bumps it inside its own
    transaction, so the new number becomes visible together with the findings it stands for."""

    number = models.BigIntegerField("版本号", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "整改台账版本"

    def __str__(self) -> str:
        return f"整改台账第 {self.number} 版"
