"""Controlled vocabularies (值域代码) used by records, import files and the engine.

Each vocabulary is a ``Vocab`` enum: the value is the stable code written in the database and in
import/export files; ``zh`` is the label the UI shows. Where a national code list exists (GB/T 2261.1,
WS 364) its code is used as the value.
"""

from __future__ import annotations

from enum import StrEnum


class Vocab(StrEnum):
    """A code with its Simplified-Chinese label."""

    zh: str

    def __new__(cls, value: str, zh: str) -> Vocab:
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.zh = zh
        return obj

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.zh) for m in cls]

    @classmethod
    def codes(cls) -> frozenset[str]:
        return frozenset(m.value for m in cls)


# --- organisation ---------------------------------------------------------------------------------
class OrgLevel(Vocab):
    """Levels of the org-unit tree ([gb2260])."""

    PROVINCE = "province", "省"
    CITY = "city", "市"
    COUNTY = "county", "县（区）"
    TOWNSHIP = "township", "乡镇（街道）"
    VILLAGE = "village", "村（社区）"


ORG_LEVEL_DEPTH = {OrgLevel.PROVINCE: 0, OrgLevel.CITY: 1, OrgLevel.COUNTY: 2, OrgLevel.TOWNSHIP: 3, OrgLevel.VILLAGE: 4}


class OrgKind(Vocab):
    HEALTH_BUREAU = "health_bureau", "卫生健康行政部门"
    TOWNSHIP_HEALTH_CENTRE = "township_hc", "乡镇卫生院"
    COMMUNITY_HEALTH_CENTRE = "community_hc", "社区卫生服务中心"
    VILLAGE_CLINIC = "village_clinic", "村卫生室"
    COMMUNITY_STATION = "community_station", "社区卫生服务站"


class Role(Vocab):
    """Staff roles ([netsec-2022])."""

    VILLAGE_DOCTOR = "village_doctor", "乡村医生"
    TOWNSHIP_STAFF = "township_staff", "乡镇公卫人员"
    TOWNSHIP_ADMIN = "township_admin", "乡镇管理员"
    SUPERVISOR = "supervisor", "县市督导员"
    EVALUATOR = "evaluator", "绩效评价员"
    SYSTEM_ADMIN = "system_admin", "系统管理员"


# --- people ---------------------------------------------------------------------------------------
class AccessKind(Vocab):
    """Kinds of view of personal data that are audited ([pipl-2021])."""

    RECORD = "record", "档案页"
    SERVICE = "service", "服务记录"
    LIST = "list", "列表"
    SEARCH = "search", "查询"
    GAPS = "gaps", "缺口人员"
    WORKLIST = "worklist", "待办"
    ROSTER = "roster", "花名册"
    DUPLICATES = "duplicates", "重复档案"
    FINDINGS = "findings", "质控问题"
    EXPORT = "export", "导出"
    OWN_RECORD = "own", "居民本人查看"


class Sex(Vocab):
    """GB/T 2261.1 sex codes ([spec2017] [V])."""

    UNKNOWN = "0", "未知的性别"
    MALE = "1", "男"
    FEMALE = "2", "女"
    UNSTATED = "9", "未说明的性别"


class IdType(Vocab):
    """Identity document type (证件类型, [gb11643] ID-10 [B])."""

    RESIDENT_ID = "01", "居民身份证"
    HOUSEHOLD_REGISTER = "02", "居民户口簿"
    PASSPORT = "03", "护照"
    OFFICER = "04", "军官证"
    HK_MO_PERMIT = "05", "港澳居民来往内地通行证"
    TW_PERMIT = "06", "台湾居民来往大陆通行证"
    FOREIGN_PR = "07", "外国人永久居留身份证"
    OTHER = "99", "其他证件"


class IdStatus(Vocab):
    """Outcome of identity-number validation. Bad numbers are stored with this flag, never rejected."""

    VALID = "valid", "有效"
    UPGRADED = "upgraded", "15位已升级为18位"
    MISSING = "missing", "身份证号为空"
    MALFORMED = "malformed", "格式错误"
    BAD_CHECKSUM = "bad_checksum", "校验位错误"
    BAD_BIRTH_DATE = "bad_birth_date", "出生日期无效"
    BAD_REGION = "bad_region", "地址码无效"
    PLACEHOLDER = "placeholder", "疑似虚假号码"
    BIRTH_MISMATCH = "birth_mismatch", "与出生日期不符"
    SEX_MISMATCH = "sex_mismatch", "与性别不符"
    NOT_CHECKED = "not_checked", "非身份证件，未校验"


class ResidenceType(Vocab):
    """常住类型 ([spec2017])."""

    REGISTERED = "1", "户籍"
    NOT_REGISTERED = "2", "非户籍"


class ResidentStatus(Vocab):
    """Record status; closing never deletes ([gd-ehr-interp])."""

    ACTIVE = "active", "在管"
    DEAD = "dead", "死亡"
    MOVED_OUT = "moved_out", "迁出"
    LOST = "lost", "失访"
    REFUSED = "refused", "拒绝"
    MERGED = "merged", "已合并"


CLOSED_STATUSES = frozenset({ResidentStatus.DEAD, ResidentStatus.MOVED_OUT, ResidentStatus.LOST, ResidentStatus.REFUSED})


# --- programs -------------------------------------------------------------------------------------
class Program(Vocab):
    """Programs a resident can be enrolled in ([spec2017])."""

    HYPERTENSION = "hypertension", "高血压患者健康管理"
    DIABETES = "diabetes", "2型糖尿病患者健康管理"
    SMI = "smi", "严重精神障碍患者管理"
    TB = "tb", "肺结核患者健康管理"
    COPD = "copd", "慢阻肺病患者健康服务"
    PREGNANCY = "pregnancy", "孕产妇健康管理"
    CHILD = "child", "0～6岁儿童健康管理"
    ELDERLY = "elderly", "老年人健康管理"


class EnrollmentEndReason(Vocab):
    DEATH = "death", "死亡"
    MOVED_OUT = "moved_out", "迁出"
    LOST = "lost", "失访"
    REFUSED = "refused", "拒绝"
    TREATMENT_COMPLETED = "completed", "完成治疗/结案"
    EPISODE_ENDED = "episode_ended", "孕产期结束"
    AGED_OUT = "aged_out", "超出年龄范围"
    DIAGNOSIS_REVISED = "diagnosis_revised", "排除诊断"
    MERGED = "merged", "档案合并"
    OTHER = "other", "其他"


class SmiDiagnosis(Vocab):
    """The six severe mental disorders ([spec2017-smi])."""

    SCHIZOPHRENIA = "schizophrenia", "精神分裂症"
    SCHIZOAFFECTIVE = "schizoaffective", "分裂情感性障碍"
    PARANOID = "paranoid", "偏执性精神病"
    BIPOLAR = "bipolar", "双相（情感）障碍"
    EPILEPSY = "epilepsy", "癫痫所致精神障碍"
    INTELLECTUAL = "intellectual", "精神发育迟滞伴发精神障碍"


# --- encounters -----------------------------------------------------------------------------------
class FollowUpMode(Vocab):
    """随访方式 ([exam-form-2017] [V])."""

    CLINIC = "1", "门诊"
    HOME = "2", "家庭"
    PHONE = "3", "电话"


FACE_TO_FACE_MODES = frozenset({FollowUpMode.CLINIC, FollowUpMode.HOME})


class FollowUpClass(Vocab):
    """此次随访分类 for hypertension / diabetes ([spec2017] [V])."""

    CONTROLLED = "1", "控制满意"
    UNCONTROLLED = "2", "控制不满意"
    ADVERSE_REACTION = "3", "不良反应"
    COMPLICATION = "4", "并发症"


class Adherence(Vocab):
    """服药依从性."""

    REGULAR = "1", "规律"
    INTERMITTENT = "2", "间断"
    NONE = "3", "不服药"


class SmiClass(Vocab):
    STABLE = "stable", "病情稳定"
    BASICALLY_STABLE = "basically_stable", "病情基本稳定"
    UNSTABLE = "unstable", "病情不稳定"


class TbPhase(Vocab):
    INTENSIVE = "intensive", "强化期"
    CONTINUATION = "continuation", "继续期"


class TbSupervisor(Vocab):
    MEDICAL_STAFF = "medical", "医务人员"
    FAMILY = "family", "家庭成员"
    SELF = "self", "自服药"
    OTHER = "other", "其他"


class TbVisitType(Vocab):
    FIRST_HOME_VISIT = "first", "第一次入户随访"
    FOLLOW_UP = "follow_up", "督导随访"
    CLOSING = "closing", "结案评估"


class ExamTrigger(Vocab):
    """Why a health examination was done (the B-Soft checkWay, [exam-form-2017] [V])."""

    NEW_RECORD = "new_record", "建档体检"
    ELDERLY = "elderly", "老年人体检"
    HYPERTENSION = "hypertension", "高血压年度体检"
    DIABETES = "diabetes", "糖尿病年度体检"
    SMI = "smi", "严重精神障碍年度体检"
    OTHER = "other", "其他"


class HealthEvaluation(Vocab):
    NORMAL = "1", "体检无异常"
    ABNORMAL = "2", "有异常"


class TestResult(Vocab):
    NORMAL = "1", "正常"
    ABNORMAL = "2", "异常"
    NOT_DONE = "9", "未检查"


class PostpartumVisitType(Vocab):
    HOME_VISIT = "home_visit", "产后访视"
    CHECK_42D = "check_42d", "产后42天健康检查"


class Vaccine(Vocab):
    """National Immunization Program vaccines, 2021 schedule ([nip-2021])."""

    HEPB = "HepB", "乙肝疫苗"
    BCG = "BCG", "卡介苗"
    IPV = "IPV", "脊灰灭活疫苗"
    BOPV = "bOPV", "脊灰减毒活疫苗"
    DTAP = "DTaP", "百白破疫苗"
    DT = "DT", "白破疫苗"
    MMR = "MMR", "麻腮风疫苗"
    JE_L = "JE-L", "乙脑减毒活疫苗"
    JE_I = "JE-I", "乙脑灭活疫苗"
    MPSV_A = "MPSV-A", "A群流脑多糖疫苗"
    MPSV_AC = "MPSV-AC", "A群C群流脑多糖疫苗"
    HEPA_L = "HepA-L", "甲肝减毒活疫苗"
    HEPA_I = "HepA-I", "甲肝灭活疫苗"


class EducationActivityKind(Vocab):
    """健康教育 activity kinds ([spec2017-education])."""

    PRINTED = "printed", "发放印刷资料"
    AUDIO_VISUAL = "audio_visual", "播放音像资料"
    BOARD = "board", "更新宣传栏"
    LECTURE = "lecture", "健康知识讲座"
    CONSULTATION = "consultation", "公众健康咨询活动"


class DiseaseClass(Vocab):
    """Notifiable-disease class, which sets the reporting deadline ([spec2017-reporting])."""

    A = "A", "甲类"
    B_AS_A = "B_as_A", "按甲类管理的乙类"
    B = "B", "乙类"
    C = "C", "丙类"


class EmergencyEventType(Vocab):
    """突发公共卫生事件相关信息的类别 (国家突发公共卫生事件相关信息报告管理工作规范（试行）, 2005 [B])."""

    INFECTIOUS = "infectious", "传染病"
    FOOD_POISONING = "food", "食物中毒"
    OCCUPATIONAL = "occupational", "职业中毒"
    OTHER_POISONING = "poisoning", "其他中毒"
    ENVIRONMENT = "environment", "环境因素事件"
    RADIATION = "radiation", "意外辐射照射事件"
    STRAIN_LOSS = "strain_loss", "传染病菌、毒种丢失"
    VACCINE_REACTION = "vaccine", "预防接种和预防服药群体性不良反应"
    NOSOCOMIAL = "nosocomial", "医源性感染事件"
    UNEXPLAINED = "unexplained", "群体性不明原因疾病"
    OTHER = "other", "其他"


class SupervisionCategory(Vocab):
    """卫生监督协管 content areas ([spec2017-supervision])."""

    FOOD = "food", "食源性疾病信息"
    WATER = "water", "饮用水卫生安全巡查"
    SCHOOL = "school", "学校卫生"
    ILLEGAL_PRACTICE = "illegal_practice", "非法行医和非法采供血"
    FAMILY_PLANNING = "family_planning", "计划生育"


class SupervisionKind(Vocab):
    PATROL = "patrol", "巡查（访）"
    REPORT = "report", "信息报告"


class KeyGroup(Vocab):
    """Key populations for family-doctor signing ([rpt-jkda])."""

    CHILD = "child", "0～6岁儿童"
    ELDERLY = "elderly", "65岁及以上老年人"
    MATERNAL = "maternal", "孕产妇"
    HYPERTENSION = "hypertension", "高血压患者"
    DIABETES = "diabetes", "2型糖尿病患者"
    TB = "tb", "肺结核患者"
    SMI = "smi", "严重精神障碍患者"
    DISABLED = "disabled", "残疾人"
    FP_HARDSHIP = "fp_hardship", "计划生育特殊家庭"
    POVERTY_ALLEVIATED = "poverty_alleviated", "脱贫人口"


class ContractServiceItem(Vocab):
    """What a family-doctor team delivers under a contract (签约服务包), recorded as fulfilment (履约) —
    the items [fd-guideline-2022] names for the basic package; local packages add their own under OTHER."""

    ASSESSMENT = "assessment", "健康评估"
    FOLLOW_UP = "follow_up", "慢病随访"
    GUIDANCE = "guidance", "健康指导与咨询"
    MEDICATION = "medication", "用药指导"
    REFERRAL = "referral", "预约转诊"
    TCM = "tcm", "中医药服务"
    HOME_VISIT = "home_visit", "上门服务"
    OTHER = "other", "其他约定服务"


class ContractEnd(Vocab):
    """Why a contract ends before its end date (解约)."""

    RESIDENT_REQUEST = "request", "居民申请解约"
    MOVED = "moved", "迁出"
    DEATH = "death", "死亡"
    TEAM_CHANGE = "team", "更换签约团队"
    OTHER = "other", "其他"


class BaseGroup(Vocab):
    """Population bases and task numbers entered per unit and year ([appraisal-server])."""

    RESIDENT_POPULATION = "resident_population", "常住人口数"
    AGED_65_PLUS = "aged_65_plus", "65岁及以上常住人口数"
    CHILDREN_0_6 = "children_0_6", "0～6岁儿童数"
    CHILDREN_UNDER_3 = "children_under_3", "3岁以下儿童数"
    CHILDREN_0_36M = "children_0_36m", "0～36个月儿童数"
    LIVE_BIRTHS = "live_births", "活产数"
    TASK_HYPERTENSION = "task_hypertension", "高血压患者任务数"
    TASK_DIABETES = "task_diabetes", "2型糖尿病患者任务数"
    TASK_SMI = "task_smi", "严重精神障碍患者任务数"
    TASK_COPD = "task_copd", "慢阻肺病患者任务数"


class BaseSource(Vocab):
    STATISTICS = "statistics", "统计部门"
    ROSTER = "roster", "花名册摸底"
    ASSIGNED = "assigned", "上级下达"
    ESTIMATED = "estimated", "按患病率估算"
    SYNTHETIC = "synthetic", "合成数据"


class ChangeAction(Vocab):
    CREATE = "create", "新建"
    UPDATE = "update", "修改"
    CLOSE = "close", "结案"
    REOPEN = "reopen", "恢复"
    VOID = "void", "作废"
    MERGE = "merge", "合并"
    UNMERGE = "unmerge", "撤销合并"
    MOVE = "move", "调整上级"
