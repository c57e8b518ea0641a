"""Samples drawn for verification and the verification of each sampled person (issue 13 §1–2, ADR 027).

A :class:`Sample` keeps everything needed to prove later which people were drawn and why: the frame's
definition (indicator, part, unit, period, snapshot), its size and hash, the method, seed, interval and random
start, the size rule, who drew it and when. :class:`SampleItem` rows are the drawn people in draw order, with
their place in the ordered frame. Each item gets one :class:`VerificationTask` (method, assignee, outcome);
every outcome recorded is kept in :class:`TaskOutcome` (a correction adds a row, nothing is overwritten
without trace). Nothing is deleted: foreign keys protect.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from gongwei.quality.models import Finding
from gongwei.records.models import OrgUnit, Resident
from gongwei.spec.coverage import ListAuthority, Match
from gongwei.spec.sampling import Method
from gongwei.spec.surveys import RespondentStatus, SurveyMode
from gongwei.spec.verification import CheckMethod, Outcome, WrongField


class Sample(models.Model):
    sample_no = models.CharField("样本编号", max_length=40, unique=True)
    indicator = models.CharField("指标", max_length=20)
    program = models.CharField("项目", max_length=40)
    part = models.CharField("抽样人群", max_length=20)  # numerator / denominator of the indicator
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="抽样机构")
    period = models.CharField("期间", max_length=12)
    counted_period = models.CharField("统计期间", max_length=12)
    snapshot_id = models.CharField("快照", max_length=40)
    frame = models.JSONField("抽样框定义", default=dict)
    frame_size = models.PositiveIntegerField("抽样框人数")
    frame_hash = models.CharField("抽样框哈希", max_length=64)
    method = models.CharField("抽样方法", max_length=12, choices=Method.choices())
    size_rule = models.JSONField("样本量依据", default=dict)
    size = models.PositiveIntegerField("样本量")
    seed = models.BigIntegerField("随机种子")
    interval = models.FloatField("抽样间距", null=True, blank=True)
    random_start = models.FloatField("随机起点", null=True, blank=True)
    allocation = models.JSONField("各层样本量", default=dict, blank=True)
    rulebook = models.CharField("规则库版本", max_length=20)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name="抽样人")
    created_by_label = models.CharField("抽样人", max_length=150)
    created_at = models.DateTimeField("抽样时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "核查样本"
        indexes = [models.Index(fields=["org_unit", "period"])]

    def __str__(self) -> str:
        return self.sample_no


class SampleItem(models.Model):
    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="items")
    position = models.PositiveIntegerField("抽取顺序")  # 1-based order of drawing
    frame_index = models.PositiveIntegerField("抽样框序号")  # 0-based place in the ordered frame
    record_no = models.CharField("档案编号", max_length=40)
    resident = models.ForeignKey(Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 verbose_name="居民")
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="管理机构")
    stratum = models.CharField("层", max_length=40, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "样本人员"
        ordering = ["sample", "position"]
        constraints = [models.UniqueConstraint(fields=["sample", "position"], name="uniq_sample_position"),
                       models.UniqueConstraint(fields=["sample", "frame_index"], name="uniq_sample_frame_index")]


class VerificationTask(models.Model):
    item = models.OneToOneField(SampleItem, on_delete=models.PROTECT, related_name="task")
    method = models.CharField("核查方式", max_length=10, choices=CheckMethod.choices(), blank=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", verbose_name="核查人")
    assigned_by = models.CharField("派发人", max_length=150, blank=True)
    assigned_at = models.DateTimeField("派发时间", null=True, blank=True)
    outcome = models.CharField("核查结果", max_length=15, choices=Outcome.choices(), blank=True, db_index=True)
    wrong_field = models.CharField("不符项", max_length=20, choices=WrongField.choices(), blank=True)
    note = models.CharField("核查说明", max_length=300, blank=True)
    recorded_by = models.CharField("录入人", max_length=150, blank=True)
    recorded_at = models.DateTimeField("录入时间", null=True, blank=True)
    finding = models.ForeignKey(Finding, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                verbose_name="整改问题")  # raised by a fabrication outcome
    version = models.PositiveIntegerField("版本", default=1)

    class Meta:
        verbose_name = verbose_name_plural = "核查任务"


class TaskOutcome(models.Model):
    """Every outcome ever recorded on a task, in order (the task holds the current one)."""

    task = models.ForeignKey(VerificationTask, on_delete=models.PROTECT, related_name="history")
    method = models.CharField("核查方式", max_length=10, choices=CheckMethod.choices())
    outcome = models.CharField("核查结果", max_length=15, choices=Outcome.choices())
    wrong_field = models.CharField("不符项", max_length=20, choices=WrongField.choices(), blank=True)
    note = models.CharField("核查说明", max_length=300, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    actor_label = models.CharField("录入人", max_length=150)
    at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "核查结果记录"
        ordering = ["task", "at", "id"]


# --- surveys (知晓率 / 满意度, issue 13 §3, ADR 033) ----------------------------------------------------------------
class Survey(models.Model):
    """An awareness or satisfaction survey put to the people of a :class:`Sample`. The questionnaire as it was
    (questions, answer codes, which answers count) is copied into ``definition``, so a later rulebook never changes
    what an old survey meant."""

    survey_no = models.CharField("调查编号", max_length=40, unique=True)
    questionnaire = models.CharField("问卷", max_length=20)
    definition = models.JSONField("问卷定义", default=dict)
    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="surveys", verbose_name="样本")
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="调查机构")
    period = models.CharField("期间", max_length=12)
    mode = models.CharField("调查方式", max_length=10, choices=SurveyMode.choices())
    rulebook = models.CharField("规则库版本", max_length=20)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name="发起人")
    created_by_label = models.CharField("发起人", max_length=150)
    created_at = models.DateTimeField("发起时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "满意度与知晓率调查"
        indexes = [models.Index(fields=["questionnaire", "org_unit", "period"])]

    def __str__(self) -> str:
        return self.survey_no


class SurveyResponse(models.Model):
    """One sampled respondent's questionnaire: the current answers (every entry is kept in
    :class:`SurveyResponseEntry`). ``positive`` is decided at entry from the copied definition."""

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="responses")
    item = models.ForeignKey(SampleItem, on_delete=models.PROTECT, related_name="+")
    status = models.CharField("调查结果", max_length=12, choices=RespondentStatus.choices(), blank=True)
    answers = models.JSONField("答案", default=dict, blank=True)
    positive = models.BooleanField("计为知晓/满意", null=True, blank=True)  # None: not a valid questionnaire
    note = models.CharField("说明", max_length=300, blank=True)
    recorded_by = models.CharField("调查员", max_length=150, blank=True)
    recorded_at = models.DateTimeField("录入时间", null=True, blank=True)
    version = models.PositiveIntegerField("版本", default=1)

    class Meta:
        verbose_name = verbose_name_plural = "调查问卷"
        ordering = ["survey", "item__position"]
        constraints = [models.UniqueConstraint(fields=["survey", "item"], name="uniq_survey_item")]


class SurveyResponseEntry(models.Model):
    """Every questionnaire ever entered for a respondent, in order: a correction adds a row."""

    response = models.ForeignKey(SurveyResponse, on_delete=models.PROTECT, related_name="history")
    status = models.CharField("调查结果", max_length=12, choices=RespondentStatus.choices())
    answers = models.JSONField("答案", default=dict, blank=True)
    note = models.CharField("说明", max_length=300, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    actor_label = models.CharField("调查员", max_length=150)
    at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "调查问卷录入记录"
        ordering = ["response", "at", "id"]


# --- household coverage (村不漏户、户不漏人, issue 13 §6, ADR 033) ---------------------------------------------------
class CoverageImport(models.Model):
    """A household or population list from another authority, imported to check the register's coverage. The
    file itself is not kept: its SHA-256, name and row count prove which file it was."""

    import_no = models.CharField("导入编号", max_length=40, unique=True)
    authority = models.CharField("名单来源", max_length=20, choices=ListAuthority.choices())
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="核对机构")
    file_name = models.CharField("文件名", max_length=200)
    file_hash = models.CharField("文件哈希", max_length=64, db_index=True)
    rows = models.PositiveIntegerField("名单人数")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name="导入人")
    created_by_label = models.CharField("导入人", max_length=150)
    created_at = models.DateTimeField("导入时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "户籍名单导入"

    def __str__(self) -> str:
        return self.import_no


class CoverageEntry(models.Model):
    """One person of an imported list and how they were matched to the register at import."""

    coverage_import = models.ForeignKey(CoverageImport, on_delete=models.PROTECT, related_name="entries")
    row_no = models.PositiveIntegerField("行号")
    village = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="村（社区）")
    id_number = models.CharField("身份证号", max_length=40, blank=True)
    id_valid = models.BooleanField("身份证号有效", default=False)
    name = models.CharField("姓名", max_length=50)
    household_no = models.CharField("户号", max_length=40, blank=True)
    birth_date = models.DateField("出生日期", null=True, blank=True)
    match = models.CharField("匹配结果", max_length=10, choices=Match.choices())
    resident = models.ForeignKey(Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 verbose_name="居民")

    class Meta:
        verbose_name = verbose_name_plural = "户籍名单人员"
        ordering = ["coverage_import", "row_no"]
        indexes = [models.Index(fields=["coverage_import", "village", "match"])]
