"""Supervision rounds, rectification periods and base data (督导、整改、基础数据; issue 13 §4–5). Data only;
``gongwei.service.supervision`` and ``gongwei.service.base_data`` apply it.

The structure is a city's rectification report [city-rectification-2023]: a supervision group checks every county
"通过电话访谈、现场核查、省基本公卫系统远程复核等方式", bureau leaders are each assigned counties
("分片包干联系10个县"), inspections come at least monthly, and each period (第N期) reports the base data per
county with its change since the last period ("空编率为34.67％、较上期上升0.04％，缺编4134个"). The other base
data are the ones a city government reports to its people's congress [baotou-2025]: institutions meeting the
capability standard by grade, experts sent down and village rounds, training coverage, family-doctor teams.
"""

from __future__ import annotations

from dataclasses import dataclass

from gongwei.spec.rules import Source
from gongwei.spec.vocab import OrgLevel, Vocab


# --- supervision rounds -------------------------------------------------------------------------------------
class RoundMethod(Vocab):
    """How a supervision round checks a unit."""

    PHONE = "phone", "电话访谈"
    ON_SITE = "on_site", "现场核查"
    REMOTE = "remote", "远程复核"


ROUND_METHOD_SOURCE = Source("电话访谈、现场核查、省基本公卫系统远程复核 [city-rectification-2023]", "S")


class AssignmentKind(Vocab):
    """Who is answerable for which units during a round: bureau staff for counties, township staff for villages."""

    AREA = "area", "分片包干"  # a bureau leader's counties
    VILLAGE = "village", "包村"  # a township worker's villages


# the level of the unit each kind of assignment covers
ASSIGNMENT_LEVEL = {AssignmentKind.AREA: OrgLevel.COUNTY, AssignmentKind.VILLAGE: OrgLevel.VILLAGE}
ASSIGNMENT_SOURCE = Source("派出工作组分片包干联系10个县（市、区） [city-rectification-2023]；包村到人 [U]", "S")
INSPECTIONS_PER_MONTH = 1  # "每个月不少1次的定期督导": a round's units are due a visit at least monthly
INSPECTION_SOURCE = Source("对各地各单位开展每个月不少1次的定期督导 [city-rectification-2023]", "S")


class ItemStatus(Vocab):
    """A rectification item's state. ``overdue`` is never stored: an open item past its deadline as of a date."""

    OPEN = "open", "整改中"
    RECTIFIED = "rectified", "已整改"
    VERIFIED = "verified", "已核实销号"
    OVERDUE = "overdue", "逾期未整改"


# the moves a status may make (a verified item is closed; a rectification found wanting goes back to open)
STATUS_MOVES: dict[ItemStatus, frozenset[ItemStatus]] = {
    ItemStatus.OPEN: frozenset({ItemStatus.RECTIFIED}),
    ItemStatus.RECTIFIED: frozenset({ItemStatus.VERIFIED, ItemStatus.OPEN}),
    ItemStatus.VERIFIED: frozenset(),
}
PERIOD_SOURCE = Source("完成对各县（市、区）的第五期督导评价；整改情况报告（第四期） [city-rectification-2023]", "S")
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024  # a phone photo or a scanned page; larger files belong elsewhere [U]
ATTACHMENT_TYPES = {  # what a visit may attach: photos and documents, by extension [U]
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


# --- base data ----------------------------------------------------------------------------------------------
class Kind(Vocab):
    """How a base-data measure is entered and rolled up."""

    COUNT = "count", "数量"  # a whole number, summed up the tree
    FLAG = "flag", "是否"  # 1/0 per institution; rolled up as "n of m institutions"
    GRADE = "grade", "等级"  # a code per institution; rolled up as institutions per code
    STATUS = "status", "落实情况"  # a code per county; rolled up as counties per code


class Grade(Vocab):
    """Capability standard an institution meets (服务能力标准)."""

    RECOMMENDED = "recommended", "推荐标准"
    BASIC = "basic", "基本标准"
    QUALIFIED = "qualified", "合格标准"
    NONE = "none", "未达标"


class PolicyStatus(Vocab):
    """Where a county stands on 公益一类财政供给、公益二类绩效管理."""

    IMPLEMENTED = "implemented", "已落实"
    SELF_ASSESSED = "self_assessed", "自评落实（待省审核）"
    NOT = "not", "尚未落实"


INSTITUTION_LEVELS = frozenset({OrgLevel.TOWNSHIP, OrgLevel.VILLAGE})


@dataclass(frozen=True)
class Measure:
    code: str
    name: str
    kind: Kind
    levels: frozenset[str]  # the units it is recorded for
    responsible: OrgLevel  # the level of the login that enters it (its own unit at this level or above)
    source: Source
    codes: type[Vocab] | None = None  # GRADE / STATUS: the allowed codes


MEASURES: dict[str, Measure] = {m.code: m for m in (
    Measure("establishment", "编制数", Kind.COUNT, INSTITUTION_LEVELS, OrgLevel.TOWNSHIP,
            Source("基层医疗机构编制配备情况 [city-rectification-2023]", "S")),
    Measure("vacancies", "缺编数", Kind.COUNT, INSTITUTION_LEVELS, OrgLevel.TOWNSHIP,
            Source("缺编4134个、较上期增加5个 [city-rectification-2023]", "S")),
    Measure("special_outpatient", "门诊特殊病种已开通", Kind.FLAG, INSTITUTION_LEVELS, OrgLevel.COUNTY,
            Source("149间基层医疗卫生机构已开通143间 [city-rectification-2023]", "S")),
    Measure("capability_grade", "服务能力标准", Kind.GRADE, INSTITUTION_LEVELS, OrgLevel.COUNTY,
            Source("推荐标准27家、基本标准51家、合格标准16家 [baotou-2025]", "S"), Grade),
    Measure("training_sessions", "培训场次", Kind.COUNT, INSTITUTION_LEVELS, OrgLevel.TOWNSHIP,
            Source("提供诊疗技术培训40余次 [baotou-2025]", "S")),
    Measure("training_due", "应培训人数", Kind.COUNT, INSTITUTION_LEVELS, OrgLevel.TOWNSHIP,
            Source("培训覆盖率的分母 [baotou-2025]", "S")),
    Measure("training_trained", "已培训人数", Kind.COUNT, INSTITUTION_LEVELS, OrgLevel.TOWNSHIP,
            Source("培训覆盖率达到98.3% [baotou-2025]", "S")),
    Measure("experts_sent", "下派专家人次", Kind.COUNT, INSTITUTION_LEVELS, OrgLevel.TOWNSHIP,
            Source("市、区共派出专家192人 [baotou-2025]", "S")),
    Measure("village_rounds", "村级巡诊次数", Kind.COUNT, INSTITUTION_LEVELS, OrgLevel.TOWNSHIP,
            Source("开展村级巡诊服务745次 [baotou-2025]", "S")),
    Measure("fd_teams", "家庭医生团队数", Kind.COUNT, INSTITUTION_LEVELS, OrgLevel.TOWNSHIP,
            Source("服务团队923支 [baotou-2025]", "S")),
    Measure("fd_doctors", "家庭医生数", Kind.COUNT, INSTITUTION_LEVELS, OrgLevel.TOWNSHIP,
            Source("家庭医生总数1550人 [baotou-2025]", "S")),
    # the city bureau records each county's status (the county's own claim is the self-assessed code)
    Measure("policy_status", "公益一类财政供给、公益二类绩效管理", Kind.STATUS, frozenset({OrgLevel.COUNTY}),
            OrgLevel.CITY, Source("XX区落实，经开区自评落实（省还未开展审核），其余尚未落实 [city-rectification-2023]", "S"),
            PolicyStatus),
)}


@dataclass(frozen=True)
class Ratio:
    code: str
    name: str
    numerator: str
    denominator: str
    source: Source


RATIOS: dict[str, Ratio] = {r.code: r for r in (
    # 空编率 = 缺编数 ÷ 编制数: 4134 vacancies at 34.67 % put the establishment near 11 924 posts
    Ratio("vacancy_rate", "空编率", "vacancies", "establishment",
          Source("空编率为34.67％、缺编4134个 [city-rectification-2023]", "S")),
    Ratio("training_coverage", "培训覆盖率", "training_trained", "training_due",
          Source("培训覆盖率达到98.3% [baotou-2025]", "S")),
)}
# (field that may not exceed, field it is bounded by): refused at entry, naming both
BOUNDS = (("vacancies", "establishment"), ("training_trained", "training_due"))
VALUE_MAX = 10**7  # a count larger than any city's establishment is a typing error
SOURCE_MAX = 200
