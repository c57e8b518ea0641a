"""Ground-truth labels of data problems injected into a synthetic region, kept beside the data."""

from django.db import models


class InjectedProblem(models.Model):
    """One injected problem: which kind, on which row (by natural key), with what detail.

    Quality-control rules are measured against these labels (recall and precision per rule).
    """

    problem = models.CharField("问题类型", max_length=40, db_index=True)
    table = models.CharField("数据表", max_length=40)
    natural_key = models.CharField("记录编号", max_length=40, db_index=True)
    related_key = models.CharField("关联记录编号", max_length=40, blank=True)
    detail = models.CharField("说明", max_length=200, blank=True)
    seed = models.BigIntegerField("随机种子")

    class Meta:
        verbose_name = verbose_name_plural = "注入问题标签"
