"""Models of the system of record, named in the program's own words.

Writes go through :mod:`gongwei.records.entry` (validation + history), never straight to these models.
Nothing is hard-deleted: residents are closed, encounters voided, duplicates merged (``merged_into``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from gongwei.spec import vocab as v


def _choices(vocab: type[v.Vocab]) -> list[tuple[str, str]]:
    return vocab.choices()


def _version() -> models.PositiveIntegerField:
    """The row's version: 1 when written, +1 with every update; a save from an older version is refused."""
    return models.PositiveIntegerField("版本", default=1, editable=False)


# --- provenance ----------------------------------------------------------------------------------
class LoadBatch(models.Model):
    """One bulk write (synthetic region, import, ...): who, when, from where, how many rows."""

    kind = models.CharField("类型", max_length=20)  # synth | import | entry
    source = models.CharField("来源", max_length=500, blank=True)
    actor = models.CharField("操作人", max_length=150, blank=True)
    started_at = models.DateTimeField("开始时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    counts = models.JSONField("写入行数", default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "批量写入批次"
        # the worklist finds the follow-ups saved since the snapshot by their batches' time (a batch per save)
        indexes = [models.Index(fields=["started_at"], name="loadbatch_started_at")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} {self.source}"


class LoadTally(models.Model):
    """Rows a batch received and rejected, per table and per org unit the rows belong to (上传数据有效率).

    A row belongs to the unit its own unit column names (``org_unit``, ``managing_unit``...); rows whose unit
    is blank or unknown are counted with ``org_unit`` null. Written with the batch, so only batches that were
    written (whole, or valid rows only with ``accept_valid``) have tallies.
    """

    batch = models.ForeignKey(LoadBatch, on_delete=models.PROTECT, related_name="tallies", verbose_name="批次")
    org_unit = models.ForeignKey("OrgUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 verbose_name="机构")
    table = models.CharField("数据表", max_length=40)
    received = models.PositiveIntegerField("提交行数")
    rejected = models.PositiveIntegerField("无效行数")

    class Meta:
        verbose_name = verbose_name_plural = "批次分机构行数"


class ChangeLog(models.Model):
    """Every change to a resident, record, enrollment, encounter or contract: who, when, before/after."""

    model = models.CharField("对象类型", max_length=60, db_index=True)
    object_pk = models.CharField("对象ID", max_length=40, db_index=True)
    action = models.CharField("操作", max_length=10, choices=_choices(v.ChangeAction))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              verbose_name="操作人")
    actor_label = models.CharField("操作人标识", max_length=150, blank=True)
    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    before = models.JSONField("修改前", null=True, blank=True)
    after = models.JSONField("修改后", null=True, blank=True)
    reason = models.CharField("原因", max_length=500, blank=True)
    batch = models.ForeignKey(LoadBatch, null=True, blank=True, on_delete=models.PROTECT, verbose_name="批次")
    # the object's version after this change (null for changes logged before versions existed): a stale
    # form is told which changes came after the version it was loaded at
    version = models.PositiveIntegerField("版本", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "修改痕迹"
        ordering = ["-at", "-id"]


class AccessLog(models.Model):
    """One view of personal data: who, when, from where, what scope and how many people ([pipl-2021]).

    Written by the application layer (:mod:`gongwei.service.audit`) for every face: a record page, a list, a
    search, a gap list, a roster, an export — from the web (``user`` + IP) or the command line (``user`` when
    the operator ran as a login, and the OS user). The people shown are linked through
    :class:`AccessedResident`, so "who looked at this resident this month" is one query.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                             verbose_name="查看人")
    resident = models.ForeignKey("Resident", null=True, blank=True, on_delete=models.PROTECT,
                                 verbose_name="居民（单份档案）")
    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    kind = models.CharField("查看类型", max_length=20, choices=_choices(v.AccessKind), default="record")
    purpose = models.CharField("用途", max_length=100, blank=True)
    path = models.CharField("页面或命令", max_length=300, blank=True)
    address = models.CharField("来源（IP 或命令行）", max_length=100, blank=True)
    os_user = models.CharField("操作系统用户", max_length=150, blank=True)
    scope = models.CharField("范围（机构代码）", max_length=40, blank=True)
    count = models.PositiveIntegerField("涉及人数", default=1)

    class Meta:
        verbose_name = verbose_name_plural = "档案查看记录"
        ordering = ["-at"]


class AccessedResident(models.Model):
    """A person shown by one :class:`AccessLog` view (a list shows many)."""

    log = models.ForeignKey(AccessLog, on_delete=models.PROTECT, related_name="people", verbose_name="查看记录")
    resident = models.ForeignKey("Resident", on_delete=models.PROTECT, related_name="+", verbose_name="居民")

    class Meta:
        verbose_name = verbose_name_plural = "被查看的居民"
        indexes = [models.Index(fields=["resident", "log"])]


class NamePinyin(models.Model):
    """A derived search index, not a record: the pinyin of a resident's name, one row per reading of the surname
    (曾 ceng/zeng), kept by :mod:`gongwei.service.residents` for searches by initials or full pinyin. A row is
    valid while ``name`` equals the resident's current name; rows may be rebuilt at any time."""

    resident = models.ForeignKey("Resident", on_delete=models.PROTECT, related_name="+", verbose_name="居民",
                                 db_constraint=False)
    name = models.CharField("姓名", max_length=50)
    initials = models.CharField("拼音首字母", max_length=50, db_index=True)
    full_pinyin = models.CharField("全拼", max_length=300, db_index=True)

    class Meta:
        db_table = "gongwei_name_pinyin"
        verbose_name = verbose_name_plural = "姓名拼音索引"
        constraints = [models.UniqueConstraint(fields=["resident", "full_pinyin"], name="name_pinyin_once")]


# --- organisation --------------------------------------------------------------------------------
class OrgUnit(models.Model):
    """A node of the tree province › city › county › township centre › village clinic.

    ``path`` is a materialised path of primary keys (``/1/7/42/``), so a subtree is one indexed
    ``LIKE 'prefix%'`` query. Keys never change, so renaming never touches the path and a move rewrites
    the subtree's paths in one UPDATE (see :func:`gongwei.records.entry.move_org_unit`).
    """

    code = models.CharField("统计用区划代码", max_length=12, unique=True)
    institution_code = models.CharField("机构代码", max_length=18, blank=True)
    name = models.CharField("名称", max_length=100)
    level = models.CharField("层级", max_length=10, choices=_choices(v.OrgLevel))
    kind = models.CharField("机构类型", max_length=20, choices=_choices(v.OrgKind))
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children", verbose_name="上级")
    path = models.CharField("路径", max_length=255, db_index=True, editable=False, default="")
    is_active = models.BooleanField("启用", default=True)
    version = _version()

    class Meta:
        verbose_name = verbose_name_plural = "机构"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2

    def subtree(self) -> models.QuerySet[OrgUnit]:
        return OrgUnit.objects.filter(path__startswith=self.path)


class Staff(models.Model):
    """A staff account bound to one org unit and one role."""

    code = models.CharField("工号", max_length=30, unique=True)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="staff", verbose_name="登录账号")
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="staff", verbose_name="所属机构")
    role = models.CharField("角色", max_length=20, choices=_choices(v.Role))
    name = models.CharField("姓名", max_length=50)
    phone = models.CharField("电话", max_length=20, blank=True)
    version = _version()

    class Meta:
        verbose_name = verbose_name_plural = "工作人员"

    def __str__(self) -> str:
        return f"{self.name}（{v.Role(self.role).zh}）"


class Team(models.Model):
    """Family-doctor team (家庭医生团队)."""

    code = models.CharField("团队编号", max_length=30, unique=True)
    name = models.CharField("团队名称", max_length=100)
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="teams", verbose_name="所属机构")
    lead = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="led_teams",
                             verbose_name="团队长")
    members = models.ManyToManyField(Staff, through="TeamMembership", related_name="teams", verbose_name="成员")
    version = _version()

    class Meta:
        verbose_name = verbose_name_plural = "家庭医生团队"

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.PROTECT)
    staff = models.ForeignKey(Staff, on_delete=models.PROTECT)
    duty = models.CharField("职责", max_length=50, blank=True)
    start_date = models.DateField("加入日期", null=True, blank=True)
    end_date = models.DateField("退出日期", null=True, blank=True)
    version = _version()

    class Meta:
        verbose_name = verbose_name_plural = "团队成员"
        constraints = [models.UniqueConstraint(fields=["team", "staff"], name="uniq_team_member")]


# --- people --------------------------------------------------------------------------------------
class Household(models.Model):
    household_no = models.CharField("家庭编号", max_length=30, unique=True)
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="households", verbose_name="管理机构")
    address = models.CharField("住址", max_length=200, blank=True)
    batch = models.ForeignKey(LoadBatch, null=True, blank=True, on_delete=models.PROTECT, editable=False)
    version = _version()

    class Meta:
        verbose_name = verbose_name_plural = "家庭"

    def __str__(self) -> str:
        return self.household_no


class Resident(models.Model):
    """A person registered at an org unit. ``record_no`` (健康档案编号) is the natural key."""

    record_no = models.CharField("健康档案编号", max_length=30, unique=True)
    name = models.CharField("姓名", max_length=50)
    sex = models.CharField("性别", max_length=1, choices=_choices(v.Sex))
    birth_date = models.DateField("出生日期")
    id_type = models.CharField("证件类型", max_length=2, choices=_choices(v.IdType), default=v.IdType.RESIDENT_ID)
    id_number = models.CharField("证件号码", max_length=30, blank=True, db_index=True,
                                 help_text="规范化后的号码（15位已升级、x已大写）")
    id_number_raw = models.CharField("原始证件号码", max_length=40, blank=True)
    id_status = models.CharField("证件号码校验", max_length=16, choices=_choices(v.IdStatus), db_index=True)
    phone = models.CharField("本人电话", max_length=20, blank=True)
    address = models.CharField("现住址", max_length=200, blank=True)
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="members", verbose_name="家庭")
    managing_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="residents",
                                      verbose_name="管理机构")
    residence_type = models.CharField("常住类型", max_length=1, choices=_choices(v.ResidenceType))
    usual_resident = models.BooleanField("常住（居住满6个月）", default=True)
    residence_since = models.DateField("本地居住起始日期", null=True, blank=True)
    ethnicity = models.CharField("民族", max_length=20, blank=True)
    status = models.CharField("档案状态", max_length=10, choices=_choices(v.ResidentStatus),
                              default=v.ResidentStatus.ACTIVE, db_index=True)
    status_date = models.DateField("状态日期", null=True, blank=True)
    status_reason = models.CharField("状态原因", max_length=200, blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="merged_from", verbose_name="合并至")
    responsible_doctor = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT,
                                           related_name="residents", verbose_name="责任医生")
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    batch = models.ForeignKey(LoadBatch, null=True, blank=True, on_delete=models.PROTECT, editable=False)
    version = _version()

    class Meta:
        verbose_name = verbose_name_plural = "居民"
        # updated_at: a search brings the pinyin search table up to date from the residents written since its
        # last sync (service.residents), found through this index instead of reading the whole scope
        indexes = [models.Index(fields=["managing_unit", "status"]), models.Index(fields=["birth_date"]),
                   models.Index(fields=["updated_at"], name="resident_updated_at")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="active") | models.Q(status_date__isnull=False),
                name="closed_resident_has_status_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.record_no}）"


class HealthRecord(models.Model):
    """个人基本信息表: the fields indicators and checks need. Completeness is derived, not stored."""

    resident = models.OneToOneField(Resident, on_delete=models.PROTECT, primary_key=True,
                                    related_name="health_record", verbose_name="居民")
    created_on = models.DateField("建档日期")
    created_by_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="建档机构")
    is_electronic = models.BooleanField("电子档案", default=True)
    work_unit = models.CharField("工作单位", max_length=100, blank=True)
    contact_name = models.CharField("联系人姓名", max_length=50, blank=True)
    contact_phone = models.CharField("联系人电话", max_length=20, blank=True)
    blood_abo = models.CharField("ABO血型", max_length=1, blank=True)
    blood_rh = models.CharField("RH血型", max_length=1, blank=True)
    education = models.CharField("文化程度", max_length=2, blank=True)
    occupation = models.CharField("职业", max_length=2, blank=True)
    marital_status = models.CharField("婚姻状况", max_length=1, blank=True)
    payment_methods = models.CharField("医疗费用支付方式", max_length=30, blank=True)
    drug_allergy = models.CharField("药物过敏史", max_length=30, blank=True)
    exposure = models.CharField("暴露史", max_length=30, blank=True)
    past_history = models.CharField("既往史", max_length=60, blank=True)
    family_history = models.CharField("家族史", max_length=60, blank=True)
    disability = models.CharField("残疾情况", max_length=30, blank=True)
    kitchen_exhaust = models.CharField("厨房排风设施", max_length=1, blank=True)
    fuel = models.CharField("燃料类型", max_length=1, blank=True)
    drinking_water = models.CharField("饮水", max_length=1, blank=True)
    toilet = models.CharField("厕所", max_length=1, blank=True)
    livestock_pen = models.CharField("禽畜栏", max_length=1, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    batch = models.ForeignKey(LoadBatch, null=True, blank=True, on_delete=models.PROTECT, editable=False)
    version = _version()

    class Meta:
        verbose_name = verbose_name_plural = "个人基本信息表"


class Enrollment(models.Model):
    """A resident's enrolment in a program, with start, end and end reason (专案管理)."""

    enrollment_no = models.CharField("专案编号", max_length=40, unique=True)
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="enrollments", verbose_name="居民")
    program = models.CharField("项目", max_length=12, choices=_choices(v.Program))
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="管理机构")
    start_date = models.DateField("纳入管理日期")
    end_date = models.DateField("结案日期", null=True, blank=True)
    end_reason = models.CharField("结案原因", max_length=20, choices=_choices(v.EnrollmentEndReason), blank=True)
    diagnosis_date = models.DateField("确诊日期", null=True, blank=True)
    diagnosis = models.CharField("诊断", max_length=30, blank=True, help_text="严重精神障碍的诊断分类等")
    # pregnancy episode
    lmp_date = models.DateField("末次月经", null=True, blank=True)
    delivery_date = models.DateField("分娩日期", null=True, blank=True)
    discharge_date = models.DateField("出院日期", null=True, blank=True)
    # tuberculosis
    tb_supervisor = models.CharField("督导人员", max_length=10, choices=_choices(v.TbSupervisor), blank=True)
    batch = models.ForeignKey(LoadBatch, null=True, blank=True, on_delete=models.PROTECT, editable=False)
    version = _version()

    class Meta:
        verbose_name = verbose_name_plural = "专项管理"
        indexes = [models.Index(fields=["program", "start_date"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(end_date__isnull=True) | models.Q(end_date__gte=models.F("start_date")),
                                   name="enrollment_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{v.Program(self.program).zh} {self.enrollment_no}"


# --- encounters ----------------------------------------------------------------------------------
class Encounter(models.Model):
    """Fields every typed service record shares. ``encounter_no`` is the natural key."""

    encounter_no = models.CharField("服务记录编号", max_length=40, unique=True)
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+", verbose_name="居民")
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="服务机构")
    provider = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 verbose_name="服务医生")
    service_date = models.DateField("服务日期", db_index=True)
    entered_at = models.DateTimeField("录入时间", null=True, blank=True)
    is_void = models.BooleanField("已作废", default=False)
    batch = models.ForeignKey(LoadBatch, null=True, blank=True, on_delete=models.PROTECT, editable=False,
                              related_name="+")
    version = _version()

    class Meta:
        abstract = True
        ordering = ["-service_date"]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.encounter_no}"


class EnrolledEncounter(Encounter):
    enrollment = models.ForeignKey(Enrollment, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                   verbose_name="专案")

    class Meta(Encounter.Meta):
        abstract = True


class HealthExamination(EnrolledEncounter):
    """健康体检表 ([exam-form-2017])."""

    trigger = models.CharField("体检类型", max_length=12, choices=_choices(v.ExamTrigger))
    symptoms = models.CharField("症状", max_length=60, blank=True)
    temperature = models.DecimalField("体温", max_digits=3, decimal_places=1, null=True, blank=True)
    pulse = models.PositiveSmallIntegerField("脉率", null=True, blank=True)
    respiration = models.PositiveSmallIntegerField("呼吸频率", null=True, blank=True)
    sbp_left = models.PositiveSmallIntegerField("左侧收缩压", null=True, blank=True)
    dbp_left = models.PositiveSmallIntegerField("左侧舒张压", null=True, blank=True)
    sbp_right = models.PositiveSmallIntegerField("右侧收缩压", null=True, blank=True)
    dbp_right = models.PositiveSmallIntegerField("右侧舒张压", null=True, blank=True)
    height = models.DecimalField("身高(cm)", max_digits=4, decimal_places=1, null=True, blank=True)
    weight = models.DecimalField("体重(kg)", max_digits=4, decimal_places=1, null=True, blank=True)
    waist = models.DecimalField("腰围(cm)", max_digits=4, decimal_places=1, null=True, blank=True)
    bmi = models.DecimalField("体质指数", max_digits=4, decimal_places=1, null=True, blank=True)
    heart_rate = models.PositiveSmallIntegerField("心率", null=True, blank=True)
    self_rated_health = models.CharField("健康状态自我评估", max_length=1, blank=True)
    adl_score = models.PositiveSmallIntegerField("生活自理能力评分", null=True, blank=True)
    cognition = models.CharField("认知功能", max_length=1, blank=True)
    affect = models.CharField("情感状态", max_length=1, blank=True)
    exercise_frequency = models.CharField("锻炼频率", max_length=1, blank=True)
    smoking_status = models.CharField("吸烟状况", max_length=1, blank=True)
    cigarettes_per_day = models.PositiveSmallIntegerField("日吸烟量", null=True, blank=True)
    drinking_frequency = models.CharField("饮酒频率", max_length=1, blank=True)
    fasting_glucose = models.DecimalField("空腹血糖", max_digits=4, decimal_places=1, null=True, blank=True)
    hemoglobin = models.PositiveSmallIntegerField("血红蛋白", null=True, blank=True)
    wbc = models.DecimalField("白细胞", max_digits=4, decimal_places=1, null=True, blank=True)
    platelets = models.PositiveSmallIntegerField("血小板", null=True, blank=True)
    urine_protein = models.CharField("尿蛋白", max_length=4, blank=True)
    urine_glucose = models.CharField("尿糖", max_length=4, blank=True)
    alt = models.PositiveSmallIntegerField("血清谷丙转氨酶", null=True, blank=True)
    ast = models.PositiveSmallIntegerField("血清谷草转氨酶", null=True, blank=True)
    total_bilirubin = models.DecimalField("总胆红素", max_digits=5, decimal_places=1, null=True, blank=True)
    creatinine = models.PositiveSmallIntegerField("血清肌酐", null=True, blank=True)
    urea = models.DecimalField("血尿素", max_digits=4, decimal_places=1, null=True, blank=True)
    total_cholesterol = models.DecimalField("总胆固醇", max_digits=4, decimal_places=2, null=True, blank=True)
    triglycerides = models.DecimalField("甘油三酯", max_digits=4, decimal_places=2, null=True, blank=True)
    ldl = models.DecimalField("低密度脂蛋白胆固醇", max_digits=4, decimal_places=2, null=True, blank=True)
    hdl = models.DecimalField("高密度脂蛋白胆固醇", max_digits=4, decimal_places=2, null=True, blank=True)
    ecg = models.CharField("心电图", max_length=1, choices=_choices(v.TestResult), blank=True)
    abdominal_ultrasound = models.CharField("腹部B超", max_length=1, choices=_choices(v.TestResult), blank=True)
    health_problems = models.CharField("现存主要健康问题", max_length=60, blank=True)
    health_evaluation = models.CharField("健康评价", max_length=1, choices=_choices(v.HealthEvaluation), blank=True)
    health_guidance = models.CharField("健康指导", max_length=20, blank=True)
    risk_factor_control = models.CharField("危险因素控制", max_length=20, blank=True)

    class Meta(Encounter.Meta):
        verbose_name = verbose_name_plural = "健康体检"


class ChronicFollowUp(EnrolledEncounter):
    """高血压 / 2型糖尿病 / 慢阻肺病 随访服务记录表 ([exam-form-2017])."""

    program = models.CharField("项目", max_length=12, choices=_choices(v.Program))
    mode = models.CharField("随访方式", max_length=1, choices=_choices(v.FollowUpMode))
    symptoms = models.CharField("症状", max_length=40, blank=True)
    sbp = models.PositiveSmallIntegerField("收缩压", null=True, blank=True)
    dbp = models.PositiveSmallIntegerField("舒张压", null=True, blank=True)
    weight = models.DecimalField("体重(kg)", max_digits=4, decimal_places=1, null=True, blank=True)
    bmi = models.DecimalField("体质指数", max_digits=4, decimal_places=1, null=True, blank=True)
    heart_rate = models.PositiveSmallIntegerField("心率", null=True, blank=True)
    fasting_glucose = models.DecimalField("空腹血糖", max_digits=4, decimal_places=1, null=True, blank=True)
    hba1c = models.DecimalField("糖化血红蛋白", max_digits=4, decimal_places=1, null=True, blank=True)
    dorsalis_pedis = models.CharField("足背动脉搏动", max_length=1, blank=True)
    cigarettes_per_day = models.PositiveSmallIntegerField("日吸烟量", null=True, blank=True)
    salt_intake = models.CharField("摄盐情况", max_length=1, blank=True)
    cat_score = models.PositiveSmallIntegerField("CAT评分", null=True, blank=True)
    adherence = models.CharField("服药依从性", max_length=1, choices=_choices(v.Adherence), blank=True)
    adverse_reaction = models.BooleanField("药物不良反应", default=False)
    adverse_reaction_text = models.CharField("不良反应描述", max_length=100, blank=True)
    classification = models.CharField("此次随访分类", max_length=1, choices=_choices(v.FollowUpClass), blank=True)
    medication = models.CharField("用药情况", max_length=200, blank=True)
    medication_adjusted = models.BooleanField("调整用药", default=False)
    guidance = models.CharField("健康指导", max_length=200, blank=True)
    referral = models.BooleanField("转诊", default=False)
    referral_reason = models.CharField("转诊原因", max_length=100, blank=True)
    referral_institution = models.CharField("转诊机构及科别", max_length=100, blank=True)
    next_visit_date = models.DateField("下次随访日期", null=True, blank=True)

    class Meta(Encounter.Meta):
        verbose_name = verbose_name_plural = "慢病随访"
        indexes = [models.Index(fields=["program", "service_date"])]


class SmiFollowUp(EnrolledEncounter):
    """严重精神障碍患者随访服务记录表 ([spec2017-smi]).

    ``living_at_home`` (在家居住): false while the patient lives elsewhere than at home (in hospital, in an
    institution, away); the indicators of 在册居家 patients read it from the period's last follow-up.
    """

    mode = models.CharField("随访方式", max_length=1, choices=_choices(v.FollowUpMode))
    living_at_home = models.BooleanField("在家居住", default=True)
    risk_grade = models.PositiveSmallIntegerField("危险性评估", null=True, blank=True)
    insight = models.CharField("自知力", max_length=1, blank=True)
    social_function = models.CharField("社会功能", max_length=1, blank=True)
    on_medication = models.BooleanField("服药", default=False)
    adherence = models.CharField("服药依从性", max_length=1, choices=_choices(v.Adherence), blank=True)
    adverse_reaction = models.BooleanField("药物不良反应", default=False)
    classification = models.CharField("此次随访分类", max_length=20, choices=_choices(v.SmiClass), blank=True)
    referral = models.BooleanField("转诊", default=False)
    next_visit_date = models.DateField("下次随访日期", null=True, blank=True)

    class Meta(Encounter.Meta):
        verbose_name = verbose_name_plural = "严重精神障碍随访"


class TbFollowUp(EnrolledEncounter):
    """肺结核患者随访 ([spec2017-tb]). Dose counts allow the 规则服药 rule."""

    visit_type = models.CharField("随访类型", max_length=10, choices=_choices(v.TbVisitType))
    mode = models.CharField("随访方式", max_length=1, choices=_choices(v.FollowUpMode))
    phase = models.CharField("治疗阶段", max_length=12, choices=_choices(v.TbPhase), blank=True)
    doses_due = models.PositiveSmallIntegerField("应服药次数", null=True, blank=True)
    doses_taken = models.PositiveSmallIntegerField("实际服药次数", null=True, blank=True)
    adverse_reaction = models.BooleanField("药物不良反应", default=False)
    referral = models.BooleanField("转诊", default=False)
    outcome = models.CharField("结案转归", max_length=30, blank=True)
    next_visit_date = models.DateField("下次随访日期", null=True, blank=True)

    class Meta(Encounter.Meta):
        verbose_name = verbose_name_plural = "肺结核随访"


class NewbornVisit(EnrolledEncounter):
    """新生儿家庭访视."""

    weight = models.DecimalField("体重(kg)", max_digits=4, decimal_places=2, null=True, blank=True)
    jaundice = models.BooleanField("黄疸", default=False)
    feeding = models.CharField("喂养方式", max_length=1, blank=True)
    eye_check = models.BooleanField("眼保健和视力检查", default=False)
    referral = models.BooleanField("转诊", default=False)
    guidance = models.CharField("指导", max_length=100, blank=True)

    class Meta(Encounter.Meta):
        verbose_name = verbose_name_plural = "新生儿访视"


class ChildCheck(EnrolledEncounter):
    """儿童健康检查 at a nominal age in months (满月 = 1)."""

    age_months = models.PositiveSmallIntegerField("月龄")
    weight = models.DecimalField("体重(kg)", max_digits=4, decimal_places=1, null=True, blank=True)
    height = models.DecimalField("身长/身高(cm)", max_digits=4, decimal_places=1, null=True, blank=True)
    head_circumference = models.DecimalField("头围(cm)", max_digits=4, decimal_places=1, null=True, blank=True)
    hemoglobin = models.PositiveSmallIntegerField("血红蛋白", null=True, blank=True)
    development_ok = models.BooleanField("发育评估通过", default=True)
    eye_check = models.BooleanField("眼保健和视力检查", default=False)
    hearing_check = models.BooleanField("听力筛查", default=False)
    referral = models.BooleanField("转诊", default=False)
    guidance = models.CharField("指导", max_length=100, blank=True)

    class Meta(Encounter.Meta):
        verbose_name = verbose_name_plural = "儿童健康检查"


class PrenatalVisit(EnrolledEncounter):
    """产前检查; the first one with registration (建册) is ``is_registration``."""

    gestational_weeks = models.PositiveSmallIntegerField("孕周")
    is_registration = models.BooleanField("早孕建册", default=False)
    weight = models.DecimalField("体重(kg)", max_digits=4, decimal_places=1, null=True, blank=True)
    sbp = models.PositiveSmallIntegerField("收缩压", null=True, blank=True)
    dbp = models.PositiveSmallIntegerField("舒张压", null=True, blank=True)
    hemoglobin = models.PositiveSmallIntegerField("血红蛋白", null=True, blank=True)
    high_risk = models.BooleanField("高危", default=False)
    referral = models.BooleanField("转诊", default=False)
    guidance = models.CharField("指导", max_length=100, blank=True)

    class Meta(Encounter.Meta):
        verbose_name = verbose_name_plural = "产前检查"


class PostpartumVisit(EnrolledEncounter):
    """产后访视 and 产后42天健康检查."""

    visit_type = models.CharField("类型", max_length=10, choices=_choices(v.PostpartumVisitType))
    sbp = models.PositiveSmallIntegerField("收缩压", null=True, blank=True)
    dbp = models.PositiveSmallIntegerField("舒张压", null=True, blank=True)
    recovered = models.BooleanField("恢复正常", default=True)
    referral = models.BooleanField("转诊", default=False)
    guidance = models.CharField("指导", max_length=100, blank=True)

    class Meta(Encounter.Meta):
        verbose_name = verbose_name_plural = "产后访视"


class Vaccination(Encounter):
    """预防接种 (one dose)."""

    vaccine = models.CharField("疫苗", max_length=10, choices=_choices(v.Vaccine))
    dose_no = models.PositiveSmallIntegerField("剂次")
    lot_no = models.CharField("疫苗批号", max_length=30, blank=True)
    adverse_event = models.BooleanField("疑似预防接种异常反应", default=False)

    class Meta(Encounter.Meta):
        verbose_name = verbose_name_plural = "预防接种"
        indexes = [models.Index(fields=["vaccine", "dose_no"])]


class VaccinationCertificate(Encounter):
    """预防接种证: one row per certificate issued to a child (``service_date`` = date issued, ``org_unit`` =
    issuing unit); a replacement certificate (补证) is another row."""

    certificate_no = models.CharField("接种证编号", max_length=40, blank=True)
    is_replacement = models.BooleanField("补证", default=False)

    class Meta(Encounter.Meta):
        verbose_name = verbose_name_plural = "预防接种证"


class Consultation(Encounter):
    """接诊记录: one outpatient visit at a primary institution (``service_date`` = visit date, ``org_unit`` =
    the unit seen at), with whether blood pressure and blood glucose were measured (首诊测血压/血糖)."""

    bp_measured = models.BooleanField("测量血压", default=False)
    sbp = models.PositiveSmallIntegerField("收缩压", null=True, blank=True)
    dbp = models.PositiveSmallIntegerField("舒张压", null=True, blank=True)
    glucose_measured = models.BooleanField("测量血糖", default=False)
    blood_glucose = models.DecimalField("血糖(mmol/L)", max_digits=4, decimal_places=1, null=True, blank=True)
    complaint = models.CharField("主诉", max_length=100, blank=True)

    class Meta(Encounter.Meta):
        verbose_name = verbose_name_plural = "接诊记录"


class TcmConstitution(Encounter):
    """老年人中医体质辨识: the 33 answers (1–5 each) as a 33-character string; scoring is in the rulebook."""

    answers = models.CharField("问卷答案", max_length=33)
    # what the doctor ticked as 是 / 倾向是 on the form (constitution codes, comma-separated); blank on older records
    recorded_result = models.CharField("体质辨识结果", max_length=200, blank=True)
    guidance_given = models.BooleanField("已进行中医药保健指导", default=True)

    class Meta(Encounter.Meta):
        verbose_name = verbose_name_plural = "老年人中医体质辨识"


class ChildTcmGuidance(Encounter):
    """儿童中医药健康指导 at 6, 12, 18, 24, 30, 36 months."""

    age_months = models.PositiveSmallIntegerField("月龄")

    class Meta(Encounter.Meta):
        verbose_name = verbose_name_plural = "儿童中医药健康指导"


# --- unit-level activities -----------------------------------------------------------------------
class HealthEducationActivity(models.Model):
    activity_no = models.CharField("活动编号", max_length=40, unique=True)
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="机构")
    activity_date = models.DateField("活动日期")
    kind = models.CharField("活动形式", max_length=14, choices=_choices(v.EducationActivityKind))
    topic = models.CharField("主题", max_length=100)
    tcm_content = models.BooleanField("含中医药内容", default=False)
    attendance = models.PositiveIntegerField("参与人数", null=True, blank=True)
    materials_count = models.PositiveIntegerField("资料数量", null=True, blank=True)
    batch = models.ForeignKey(LoadBatch, null=True, blank=True, on_delete=models.PROTECT, editable=False)
    version = _version()

    class Meta:
        verbose_name = verbose_name_plural = "健康教育活动"


class InfectiousDiseaseReport(models.Model):
    report_no = models.CharField("报告卡编号", max_length=40, unique=True)
    resident = models.ForeignKey(Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 verbose_name="患者")
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="报告机构")
    disease = models.CharField("病种", max_length=50)
    disease_class = models.CharField("类别", max_length=6, choices=_choices(v.DiseaseClass))
    diagnosed_at = models.DateTimeField("诊断时间")
    reported_at = models.DateTimeField("网络报告时间", null=True, blank=True)
    batch = models.ForeignKey(LoadBatch, null=True, blank=True, on_delete=models.PROTECT, editable=False)
    version = _version()

    class Meta:
        verbose_name = verbose_name_plural = "传染病报告"


class EmergencyEventReport(models.Model):
    """突发公共卫生事件相关信息报告: an event (or its information) found by a unit, and when it was reported."""

    report_no = models.CharField("报告编号", max_length=40, unique=True)
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="报告机构")
    event_type = models.CharField("事件类别", max_length=12, choices=_choices(v.EmergencyEventType))
    description = models.CharField("事件概况", max_length=200, blank=True)
    found_at = models.DateTimeField("发现时间")
    reported_at = models.DateTimeField("报告时间", null=True, blank=True)
    batch = models.ForeignKey(LoadBatch, null=True, blank=True, on_delete=models.PROTECT, editable=False)
    version = _version()

    class Meta:
        verbose_name = verbose_name_plural = "突发公共卫生事件报告"


class SupervisionReport(models.Model):
    report_no = models.CharField("记录编号", max_length=40, unique=True)
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="机构")
    report_date = models.DateField("日期")
    category = models.CharField("专业类别", max_length=16, choices=_choices(v.SupervisionCategory))
    kind = models.CharField("类型", max_length=8, choices=_choices(v.SupervisionKind))
    site = models.CharField("巡查地点", max_length=100, blank=True)
    clue_found = models.BooleanField("发现事件或线索", default=False)
    reported = models.BooleanField("已报告", default=False)
    batch = models.ForeignKey(LoadBatch, null=True, blank=True, on_delete=models.PROTECT, editable=False)
    version = _version()

    class Meta:
        verbose_name = verbose_name_plural = "卫生监督协管"


# --- family doctor -------------------------------------------------------------------------------
class Contract(models.Model):
    """家庭医生签约: resident, team, period, key-population groups."""

    contract_no = models.CharField("签约编号", max_length=40, unique=True)
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="contracts", verbose_name="居民")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="contracts", verbose_name="签约团队")
    start_date = models.DateField("签约开始日期")
    end_date = models.DateField("签约结束日期")
    key_groups = models.CharField("重点人群类别", max_length=120, blank=True, help_text="逗号分隔的代码")
    is_renewal = models.BooleanField("续签", default=False)
    cancelled_on = models.DateField("解约日期", null=True, blank=True)
    cancel_reason = models.CharField("解约原因", max_length=20, choices=_choices(v.ContractEnd), blank=True)
    batch = models.ForeignKey(LoadBatch, null=True, blank=True, on_delete=models.PROTECT, editable=False)
    version = _version()

    class Meta:
        verbose_name = verbose_name_plural = "家庭医生签约"
        constraints = [
            models.CheckConstraint(condition=models.Q(end_date__gte=models.F("start_date")), name="contract_end_after_start"),
        ]


class ContractService(models.Model):
    """One service delivered under a family-doctor contract (签约服务履约记录)."""

    service_no = models.CharField("履约记录编号", max_length=40, unique=True)
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="services", verbose_name="签约")
    item = models.CharField("服务项目", max_length=20, choices=_choices(v.ContractServiceItem))
    service_date = models.DateField("服务日期")
    provider = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 verbose_name="服务人员")
    note = models.CharField("服务内容", max_length=200, blank=True)
    batch = models.ForeignKey(LoadBatch, null=True, blank=True, on_delete=models.PROTECT, editable=False)
    version = _version()

    class Meta:
        verbose_name = verbose_name_plural = "签约履约记录"
        indexes = [models.Index(fields=["contract", "service_date"])]


# --- base data -----------------------------------------------------------------------------------
class PopulationBase(models.Model):
    """Population bases and task numbers per unit and year ([appraisal-server]), with their source."""

    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="bases", verbose_name="机构")
    year = models.PositiveSmallIntegerField("年度")
    group = models.CharField("人群", max_length=24, choices=_choices(v.BaseGroup))
    value = models.PositiveIntegerField("数值")
    source = models.CharField("来源", max_length=12, choices=_choices(v.BaseSource))
    note = models.CharField("说明", max_length=200, blank=True)
    batch = models.ForeignKey(LoadBatch, null=True, blank=True, on_delete=models.PROTECT, editable=False)
    version = _version()

    class Meta:
        verbose_name = verbose_name_plural = "基础数据"
        constraints = [models.UniqueConstraint(fields=["org_unit", "year", "group"], name="uniq_base_per_unit_year")]


ENCOUNTER_MODELS: tuple[type[Encounter], ...] = (
    HealthExamination, ChronicFollowUp, SmiFollowUp, TbFollowUp, NewbornVisit, ChildCheck,
    PrenatalVisit, PostpartumVisit, Vaccination, TcmConstitution, ChildTcmGuidance, VaccinationCertificate,
    Consultation,
)


class ResidentCredential(models.Model):
    """A resident's password for seeing their own record (居民查看本人健康档案, ADR 021).

    Issued by a clinic in the resident's managing unit and handed over on paper; only its hash is kept (the
    project's password hashers, Argon2 first). A resident signs in with their identity number and this password;
    failed attempts lock it for a while as staff logins are locked. Issuing a new password ends the sessions of the
    old one; withdrawing sets ``active`` off — never deleted."""

    resident = models.OneToOneField("Resident", on_delete=models.PROTECT, related_name="credential",
                                    verbose_name="居民")
    password = models.CharField("口令（散列）", max_length=128)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+", verbose_name="发放人")
    issued_at = models.DateTimeField("发放时间")
    active = models.BooleanField("有效", default=True)
    failed_attempts = models.PositiveSmallIntegerField("连续失败次数", default=0)
    locked_until = models.DateTimeField("锁定至", null=True, blank=True)
    last_login = models.DateTimeField("最近登录", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "居民查询口令"
