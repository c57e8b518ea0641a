"""A bulletin, frozen: what it was computed from (snapshot, rulebook, period, data cut-off), its facts (every
figure it cites), its editable paragraphs, and once published, locked with the files it was issued as."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Bulletin(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        PUBLISHED = "published", "已发布"

    kind = models.CharField("类型", max_length=32)  # quarterly (bulletins.template.TYPES)
    org_code = models.CharField("机构代码", max_length=12)
    org_name = models.CharField("机构名称", max_length=100)
    period = models.CharField("期间", max_length=16)
    snapshot_id = models.CharField("快照", max_length=64)
    snapshot_folder = models.CharField("快照目录", max_length=500)
    snapshot_taken_at = models.CharField("快照时间", max_length=40)
    rulebook = models.CharField("规则库版本", max_length=64)
    data_cutoff = models.DateField("数据截至")
    year = models.PositiveIntegerField("年份")
    sequence = models.PositiveIntegerField("文号序号")
    document_number = models.CharField("文号", max_length=64)
    title = models.CharField("标题", max_length=200)
    issuer = models.CharField("发文机关", max_length=100)
    issued_on = models.DateField("成文日期")
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.DRAFT)
    template = models.TextField("模板")  # the TOML text used, so an edited template does not change old bulletins
    facts = models.JSONField("数据")  # narrative.Facts: every figure the text cites
    paragraphs = models.JSONField("正文段落")  # narrative.paragraph dicts, editable while a draft
    history = models.JSONField("修改记录", default=list)  # [{at, by, action, index, before, after}]
    files = models.JSONField("文件", default=dict)  # {"docx": {"path", "sha256"}, …} when published
    version = models.PositiveIntegerField("版本", default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="起草人")
    created_by_label = models.CharField("起草人", max_length=150)
    created_at = models.DateTimeField("起草时间", auto_now_add=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name="发布人")
    published_by_label = models.CharField("发布人", max_length=150, blank=True)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "通报"
        constraints = [models.UniqueConstraint(fields=["org_code", "year", "sequence"], name="bulletin_number")]

    def __str__(self) -> str:
        return f"{self.document_number} {self.title}"
