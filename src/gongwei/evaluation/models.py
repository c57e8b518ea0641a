"""Evaluation rounds and their scores.

A :class:`Round` freezes the snapshot and rulebook version it scores; each scoring writes a new *run* of
:class:`UnitScore` and :class:`ItemScore` rows (nothing is deleted; the round points at its current run), so a draft
re-scored on the same snapshot can be compared with its earlier run. :class:`ManualScore` keeps every entry an
evaluator makes: a change is a new row with its reason, the earlier one stays (``superseded_by``). A published round
is locked; a correction is a new round naming the one it corrects and what changed.
"""

from __future__ import annotations

from django.db import models

from gongwei.records.models import OrgUnit
from gongwei.spec.evaluation import RoundKind


class RoundStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "已发布"


class Round(models.Model):
    scheme = models.CharField("考核方案", max_length=40)
    year = models.PositiveSmallIntegerField("考核年度")
    kind = models.CharField("考核类型", max_length=12, choices=[(k.value, k.zh) for k in RoundKind])
    period = models.CharField("统计期间", max_length=12)
    snapshot_id = models.CharField("快照", max_length=40)
    rulebook = models.CharField("规则库版本", max_length=20)
    root = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="考核范围（上级单位）")
    level = models.CharField("被考核单位层级", max_length=12)
    status = models.CharField("状态", max_length=10, choices=RoundStatus.choices, default=RoundStatus.DRAFT)
    run = models.PositiveIntegerField("当前评分批次", default=0)  # 0: not scored yet
    corrects = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections",
                                 verbose_name="更正的轮次")
    note = models.CharField("说明", max_length=500, blank=True)
    created_by = models.CharField("创建人", max_length=150)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    scored_at = models.DateTimeField("评分时间", null=True, blank=True)
    published_by = models.CharField("发布人", max_length=150, blank=True)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "考核轮次"
        ordering = ["-year", "-id"]

    def __str__(self) -> str:
        return f"{self.year} {RoundKind(self.kind).zh} #{self.pk}"


class UnitScore(models.Model):
    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="unit_scores")
    run = models.PositiveIntegerField("评分批次")
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="被考核单位")
    score = models.FloatField("得分")  # out of the scheme's points, rescaled over the applicable items
    points = models.FloatField("实得分")  # sum of the leaves' points
    possible = models.FloatField("应得分")  # sum of the applicable leaves' maxima
    rank = models.PositiveIntegerField("排名")
    funds_ratio = models.FloatField("资金拨付比例")
    funds_note = models.CharField("资金说明", max_length=200)
    vetoed = models.BooleanField("一票否决", default=False)
    pending = models.PositiveIntegerField("待录入人工评分项", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "单位得分"
        constraints = [models.UniqueConstraint(fields=["round", "run", "org_unit"], name="uniq_unit_score")]


class ItemScore(models.Model):
    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="item_scores")
    run = models.PositiveIntegerField("评分批次")
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="被考核单位")
    item = models.CharField("项目代码", max_length=20)
    points = models.FloatField("得分")
    max_points = models.FloatField("分值")
    status = models.CharField("状态", max_length=16)  # scored / no_denominator / no_target / pending / (inner) sum
    reason = models.CharField("失分原因", max_length=400, blank=True)
    evidence = models.JSONField("依据", default=dict)  # figures with their drill-down keys, findings, manual entry

    class Meta:
        verbose_name = verbose_name_plural = "项目得分"
        constraints = [models.UniqueConstraint(fields=["round", "run", "org_unit", "item"], name="uniq_item_score")]
        indexes = [models.Index(fields=["round", "run", "org_unit"])]


class ManualScore(models.Model):
    """An evaluator's entry for a manual leaf (or the fraud veto, item ``VETO``); changes add rows, never edit."""

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="manual_scores")
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="被考核单位")
    item = models.CharField("项目代码", max_length=20)
    value = models.FloatField("录入值")
    note = models.CharField("评分说明", max_length=500)
    file = models.CharField("佐证文件", max_length=300, blank=True)
    reason = models.CharField("修改原因", max_length=300, blank=True)
    entered_by = models.CharField("录入人", max_length=150)
    entered_at = models.DateTimeField("录入时间", auto_now_add=True)
    superseded_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                      verbose_name="被替换为")

    class Meta:
        verbose_name = verbose_name_plural = "人工评分"
        indexes = [models.Index(fields=["round", "org_unit", "item"])]


class RegionalScheme(models.Model):
    """A region's own evaluation scheme for a year (issue 12 §1): a shipped scheme (spec.evaluation) copied by an
    evaluator, with each item's points, target, limit or deduction per problem changed as the region decides.
    Only the changes are stored (``overrides``: item code → {field: value}); the scheme is built from the shipped
    one and checked by the same rules (points add up, known indicators). Once a round uses it, it no longer
    changes: a new version is a new copy, so a round re-scores as it was scored."""

    code = models.CharField("方案代码", max_length=60, unique=True)
    base = models.CharField("依据的内置方案", max_length=40)
    name = models.CharField("方案名称", max_length=120)
    year = models.PositiveSmallIntegerField("适用年度")
    region = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="适用地区")
    overrides = models.JSONField("调整内容", default=dict)
    note = models.CharField("说明", max_length=500, blank=True)
    version = models.PositiveIntegerField("版本", default=1)
    history = models.JSONField("修改记录", default=list)
    created_by = models.CharField("创建人", max_length=150)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "地区考核方案"
        ordering = ["-year", "code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"
