"""Supervision rounds, their rectification items, and base data per unit and date (issue 13 §4–5, ADR 034).

A :class:`SupervisionRound` (督导) names who led it, when, which units and by which methods, and its period
number (第N期). :class:`Assignment` rows say who answers for which unit (分片包干 / 包村) and from when to when.
A :class:`Visit` is one check of one unit, with its :class:`Attachment` files (photos, documents). A
:class:`RectificationItem` (整改事项) is a problem found, with owner, deadline and period; every status change
adds an :class:`ItemEvent`, so the item's history is kept. :class:`BaseDataValue` rows are dated values with
their source; a correction is a new row, never an update. Nothing is deleted: foreign keys protect.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from gongwei.quality.models import Finding
from gongwei.records.models import OrgUnit
from gongwei.spec.supervision import AssignmentKind, ItemStatus, RoundMethod


class SupervisionRound(models.Model):
    title = models.CharField("督导名称", max_length=100)
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="组织单位")
    period_no = models.PositiveIntegerField("整改期数")
    start_date = models.DateField("督导日期")
    end_date = models.DateField("结束日期", null=True, blank=True)
    methods = models.JSONField("督导方式", default=list)  # RoundMethod codes
    leader = models.CharField("带队人", max_length=100)
    units = models.ManyToManyField(OrgUnit, related_name="+", verbose_name="督导单位")
    indicator_period = models.CharField("指标期间", max_length=12, blank=True)  # figures the report compares
    created_by = models.CharField("创建人", max_length=150)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "督导"
        ordering = ["-start_date", "-id"]

    def method_names(self) -> list[str]:
        return [RoundMethod(m).zh for m in self.methods if m in RoundMethod.codes()]


class Assignment(models.Model):
    round = models.ForeignKey(SupervisionRound, on_delete=models.PROTECT, related_name="assignments")
    kind = models.CharField("包干方式", max_length=10, choices=AssignmentKind.choices())
    person = models.CharField("责任人", max_length=100)
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="包干单位")
    start_date = models.DateField("起始日期")
    end_date = models.DateField("截止日期", null=True, blank=True)
    created_by = models.CharField("录入人", max_length=150)

    class Meta:
        verbose_name = verbose_name_plural = "包干责任"
        ordering = ["round", "org_unit__code", "id"]


class Visit(models.Model):
    round = models.ForeignKey(SupervisionRound, on_delete=models.PROTECT, related_name="visits")
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="督导单位")
    visit_date = models.DateField("督导日期")
    method = models.CharField("督导方式", max_length=10, choices=RoundMethod.choices())
    summary = models.CharField("发现情况", max_length=1000)
    created_by = models.CharField("录入人", max_length=150)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "督导记录"
        ordering = ["round", "visit_date", "id"]


class Attachment(models.Model):
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="attachments")
    name = models.CharField("文件名", max_length=200)  # as uploaded, shown to people
    stored = models.CharField("存储文件", max_length=200)  # our own name inside DATA_DIR/supervision
    content_type = models.CharField("类型", max_length=100)
    size = models.PositiveIntegerField("字节数")
    sha256 = models.CharField("哈希", max_length=64)

    class Meta:
        verbose_name = verbose_name_plural = "督导附件"


class RectificationItem(models.Model):
    round = models.ForeignKey(SupervisionRound, on_delete=models.PROTECT, related_name="items")
    visit = models.ForeignKey(Visit, null=True, blank=True, on_delete=models.PROTECT, related_name="items")
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="整改单位")
    problem = models.CharField("问题", max_length=500)
    owner = models.CharField("责任人", max_length=100)
    deadline = models.DateField("整改期限")
    period_no = models.PositiveIntegerField("整改期数")
    status = models.CharField("状态", max_length=10, choices=ItemStatus.choices(), default=ItemStatus.OPEN,
                              db_index=True)
    status_date = models.DateField("状态日期")  # when the current status was reached
    finding = models.ForeignKey(Finding, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                verbose_name="关联质控问题")
    version = models.PositiveIntegerField("版本", default=1)
    created_by = models.CharField("录入人", max_length=150)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "整改事项"
        ordering = ["period_no", "deadline", "id"]


class ItemEvent(models.Model):
    """Every status an item has had, in order (the item holds the current one)."""

    item = models.ForeignKey(RectificationItem, on_delete=models.PROTECT, related_name="history")
    status = models.CharField("状态", max_length=10, choices=ItemStatus.choices())
    on = models.DateField("日期")
    note = models.CharField("说明", max_length=300, blank=True)
    actor_label = models.CharField("操作人", max_length=150)
    at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "整改记录"
        ordering = ["item", "at", "id"]


class BaseDataValue(models.Model):
    """One value of one measure for one unit as of a date, with where it came from."""

    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="机构")
    measure = models.CharField("项目", max_length=30)
    as_of = models.DateField("截至日期")
    number = models.BigIntegerField("数值", null=True, blank=True)  # COUNT and FLAG
    code = models.CharField("代码", max_length=20, blank=True)  # GRADE and STATUS
    source = models.CharField("来源", max_length=200)
    batch = models.CharField("导入批次", max_length=40, blank=True)  # the XLSX import it came in, if any
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    entered_label = models.CharField("录入人", max_length=150)
    entered_at = models.DateTimeField("录入时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "基础数据"
        indexes = [models.Index(fields=["measure", "as_of"]), models.Index(fields=["org_unit", "as_of"])]
