"""One row per background job: what was asked, by whom, for which unit, and how it went."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class JobKind(models.TextChoices):
    SNAPSHOT = "snapshot", _("生成快照")
    CATALOGUE = "catalogue", _("计算全部指标")
    QC = "qc", _("质控评估")
    IMPORT = "import", _("导入数据")
    EXPORT_INDICATORS = "export_indicators", _("导出指标工作簿")
    NIGHTLY = "nightly", _("夜间刷新")


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("运行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class Job(models.Model):
    """A job and its history. Never deleted: the list is the record of who ran what and when.

    ``target`` is the unit the job works on (its subtree); null means the whole tree (snapshot, catalogue,
    import, nightly refresh), which only a system administrator or the operator may start or see.
    """

    kind = models.CharField("任务类型", max_length=20, choices=JobKind.choices)
    parameters = models.JSONField("参数", default=dict, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", verbose_name="发起人")
    requested_by = models.CharField("发起人标识", max_length=150, blank=True)  # login, or 命令行/夜间刷新
    unit = models.ForeignKey("records.OrgUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             verbose_name="发起人所在机构")
    target = models.ForeignKey("records.OrgUnit", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", verbose_name="任务机构")
    created_at = models.DateTimeField("提交时间", auto_now_add=True, db_index=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    status = models.CharField("状态", max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED,
                              db_index=True)
    progress = models.PositiveSmallIntegerField("进度（%）", default=0)
    step = models.CharField("当前步骤", max_length=200, blank=True)
    summary = models.TextField("结果", blank=True)
    error = models.TextField("错误信息", blank=True)
    output = models.CharField("输出文件", max_length=500, blank=True)
    # the worker process that claimed the job, "host:pid": a job whose process is gone is marked failed
    worker = models.CharField("后台进程", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "后台任务"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)

    @property
    def seconds(self) -> float | None:
        """How long it ran (so far, while running)."""
        if self.started_at is None:
            return None
        from django.utils import timezone

        return ((self.finished_at or timezone.now()) - self.started_at).total_seconds()
