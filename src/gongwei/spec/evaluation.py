"""Performance-evaluation schemes (绩效评价 / 考核方案) as data: a tree of items with points, leaves scored by a method.

A scheme is what a bureau prints as its 考核细则: dimensions (组织管理, 资金管理, 项目执行, 项目效果 …) split into items,
each with its points; every leaf says how it is scored. The methods are those evaluators use
([appraisal-server] Y01/N01/egt/elt/attach; [guangdong-eval] "每缺一项扣1分，扣完为止"):

- ``PROPORTIONAL_TO_TARGET`` (egt): rate ÷ target × points, capped at the points;
- ``FULL_AT_TARGET``: all the points at or above the target, none below;
- ``AT_OR_BELOW_LIMIT`` (elt, negative measures such as the duplicate-record rate): all the points at or below the
  limit, above it points × limit ÷ rate (a limit of 0: none);
- ``YES_NO``: all or nothing — from QC rules (no finding → yes), or entered by an evaluator (1 = yes, 0 = no);
- ``DEDUCT_PER_FINDING``: points − per_finding × findings, never below ``floor`` — findings counted by QC rules over
  the unit's subtree, or verified problems entered by an evaluator (a count). With ``per_thousand`` (QC rules only)
  the count is findings per 1,000 records the rules examined, so a large township is not floored by its size;
- a rate leaf may instead be scored from the **workload** (``workload=True``): service equivalents per 1,000
  residents of the unit (:mod:`gongwei.spec.workload`) against the leaf's target or the median of the scored units;
- ``MANUAL``: entered by an evaluator within ``[manual_min, manual_max]`` with a note (and a file when
  ``file_required``).

Leaves reference indicator codes of :mod:`gongwei.spec.catalogue`, QC rule codes of :mod:`gongwei.spec.quality`, or
manual entries (verification results come later). :func:`validate` refuses a scheme whose points do not add up, a leaf
naming an unknown indicator or rule, or a method without its parameters — in Chinese, naming the item.

Edge cases, decided here and in docs/evaluation.md ([U], configurable by writing a scheme differently):

- a rate equal to the target meets it (full points);
- an indicator whose denominator is 0 for a unit (nobody to serve) makes the leaf **not applicable** (合理缺项): it is
  left out of the unit's maximum and the total is rescaled to the scheme's points;
- a leaf with no target of its own takes the catalogue's target for the unit's region and the round's year; when
  there is none, the leaf is likewise not applicable for that unit and the reason says so;
- a manual leaf not yet entered scores 0 and is *pending*; a round with pending entries cannot be published.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from gongwei.spec.rules import Source

EPSILON = 1e-9  # points are compared with this tolerance (schemes print points with one or two decimals)


class Method(StrEnum):
    PROPORTIONAL_TO_TARGET = "proportional_to_target"
    FULL_AT_TARGET = "full_at_target"
    AT_OR_BELOW_LIMIT = "at_or_below_limit"
    YES_NO = "yes_no"
    DEDUCT_PER_FINDING = "deduct_per_finding"
    MANUAL = "manual"

    @property
    def zh(self) -> str:
        return METHOD_ZH[self]


METHOD_ZH = {
    Method.PROPORTIONAL_TO_TARGET: "按目标值比例得分",
    Method.FULL_AT_TARGET: "达到目标值得满分",
    Method.AT_OR_BELOW_LIMIT: "不超过限值得满分",
    Method.YES_NO: "是否项",
    Method.DEDUCT_PER_FINDING: "按问题扣分",
    Method.MANUAL: "人工评分",
}

RATE_METHODS = frozenset({Method.PROPORTIONAL_TO_TARGET, Method.FULL_AT_TARGET, Method.AT_OR_BELOW_LIMIT})


class RoundKind(StrEnum):
    """When a round is held: bureau documents ask for at least four a year [subdistrict-2017] or mid-year and
    year-end [baotou-2025]."""

    QUARTERLY = "quarterly"
    MID_YEAR = "mid_year"
    YEAR_END = "year_end"

    @property
    def zh(self) -> str:
        return {"quarterly": "季度考核", "mid_year": "年中考核", "year_end": "年终考核"}[self.value]


@dataclass(frozen=True)
class Item:
    """One item of a scheme. A leaf has a ``method``; an inner item has ``children`` whose points add up to its own.

    ``target``/``limit`` are rates (0–1); ``target=None`` on a rate leaf takes the catalogue's target.
    ``rules``: QC rule codes (YES_NO, DEDUCT_PER_FINDING); without rules those two methods take an evaluator's entry.
    """

    code: str
    name: str
    points: float
    children: tuple[Item, ...] = ()
    method: Method | None = None
    indicator: str | None = None
    rules: tuple[str, ...] = ()
    # scored from offline verification (issue 13): each sampled service or person whose check revealed fabrication
    # (查无此人, 未接受服务: rectification-ledger findings VF-01/VF-02), counted at its unit and every unit above
    verified: bool = False
    # scored from the workload (工作量, issue 12 §5): the unit's service equivalents per 1,000 residents
    # (spec.workload) against ``target`` (equivalents per 1,000) or, without one, the median of the scored units
    workload: bool = False
    target: float | None = None
    limit: float | None = None
    per_finding: float | None = None
    per_thousand: bool = False
    floor: float = 0.0
    manual_min: float | None = None
    manual_max: float | None = None
    file_required: bool = False
    source: Source | None = None
    note: str = ""

    @property
    def leaf(self) -> bool:
        return not self.children

    @property
    def manual(self) -> bool:
        """Scored from an evaluator's entry (manual, or a yes/no / deduction leaf without QC rules)."""
        return self.method is Method.MANUAL or (
            self.method in (Method.YES_NO, Method.DEDUCT_PER_FINDING) and not self.rules and not self.verified)

    def entry_range(self) -> tuple[float, float]:
        """What an evaluator may enter for this leaf: points for MANUAL, 0/1 for YES_NO, a count for deductions."""
        if self.method is Method.MANUAL:
            return (self.manual_min if self.manual_min is not None else 0.0,
                    self.manual_max if self.manual_max is not None else self.points)
        if self.method is Method.YES_NO:
            return (0.0, 1.0)
        return (0.0, float("inf"))

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class Scheme:
    code: str
    name: str
    year: int
    points: float
    items: tuple[Item, ...]
    source: Source
    note: str = ""
    veto_note: str = ""  # what a fraud veto means under this scheme (funds: spec.funds)

    def walk(self):
        for item in self.items:
            yield from item.walk()

    def leaves(self) -> list[Item]:
        return [i for i in self.walk() if i.leaf]

    def item(self, code: str) -> Item:
        for i in self.walk():
            if i.code == code:
                return i
        raise KeyError(code)

    def parents(self) -> dict[str, str | None]:
        """item code → its parent's code (None at the top)."""
        out: dict[str, str | None] = {}

        def visit(item: Item, parent: str | None) -> None:
            out[item.code] = parent
            for c in item.children:
                visit(c, item.code)

        for top in self.items:
            visit(top, None)
        return out


class SchemeError(ValueError):
    """A scheme that cannot be used; the message names the item and the rule, in Chinese."""


def problems(scheme: Scheme, *, indicator_codes: set[str] | None = None, rule_codes: set[str] | None = None
             ) -> list[str]:
    """Every reason ``scheme`` cannot be used (empty: it is valid)."""
    from gongwei.spec import catalogue, quality

    known_ind = indicator_codes if indicator_codes is not None else set(catalogue.indicators())
    known_rules = rule_codes if rule_codes is not None else set(quality.rules())
    out: list[str] = []
    seen: set[str] = set()
    top = sum(i.points for i in scheme.items)
    if abs(top - scheme.points) > EPSILON:
        out.append(f"方案 {scheme.code} 的一级项目分值合计 {top:g} 分，与方案总分 {scheme.points:g} 分不符")
    for item in scheme.walk():
        label = f"项目 {item.code}（{item.name}）"
        if item.code in seen:
            out.append(f"{label}：项目代码重复")
        seen.add(item.code)
        if item.points < 0:
            out.append(f"{label}：分值不能为负数")
        if item.children:
            total = sum(c.points for c in item.children)
            if abs(total - item.points) > EPSILON:
                out.append(f"{label}：下级项目分值合计 {total:g} 分，与本项 {item.points:g} 分不符")
            if item.method is not None:
                out.append(f"{label}：有下级项目的项目不能指定评分方法")
            continue
        if item.method is None:
            out.append(f"{label}：末级项目必须指定评分方法")
            continue
        out.extend(_leaf_problems(item, label, known_ind, known_rules))
    return out


def _leaf_problems(item: Item, label: str, known_ind: set[str], known_rules: set[str]) -> list[str]:
    out = []
    m = item.method
    if item.workload:
        if m not in (Method.PROPORTIONAL_TO_TARGET, Method.FULL_AT_TARGET):
            out.append(f"{label}：按工作量评分只适用于按目标值比例得分和达到目标值得满分")
        if item.indicator or item.rules or item.verified:
            out.append(f"{label}：按工作量评分不与指标、质控规则或核查结果同用")
        if item.target is not None and item.target <= 0:
            out.append(f"{label}：工作量目标值 {item.target:g}（每千常住人口服务当量）应大于 0")
    elif m in RATE_METHODS:
        if not item.indicator:
            out.append(f"{label}：{m.zh}须指定指标代码")
        elif item.indicator not in known_ind:
            out.append(f"{label}：指标代码 {item.indicator} 不存在")
        if m is Method.AT_OR_BELOW_LIMIT and item.limit is None:
            out.append(f"{label}：{m.zh}须指定限值 limit")
        if item.target is not None and not 0 < item.target <= 1:
            out.append(f"{label}：目标值 {item.target:g} 应在 0 与 1 之间（比例）")
        if item.limit is not None and not 0 <= item.limit <= 1:
            out.append(f"{label}：限值 {item.limit:g} 应在 0 与 1 之间（比例）")
    elif item.indicator:
        out.append(f"{label}：{m.zh}不使用指标代码 {item.indicator}")
    for rule in item.rules:
        if rule not in known_rules:
            out.append(f"{label}：质控规则代码 {rule} 不存在")
    if item.rules and m not in (Method.YES_NO, Method.DEDUCT_PER_FINDING):
        out.append(f"{label}：{m.zh}不使用质控规则")
    if item.verified and (m not in (Method.YES_NO, Method.DEDUCT_PER_FINDING) or item.rules or item.per_thousand):
        out.append(f"{label}：按抽样核查结果评分只适用于是否项和按问题扣分（不与质控规则、每千条扣分同用）")
    if m is Method.DEDUCT_PER_FINDING:
        if item.per_finding is None or item.per_finding <= 0:
            out.append(f"{label}：{m.zh}须指定每个问题扣分 per_finding（大于 0）")
        if item.per_thousand and not item.rules:
            out.append(f"{label}：按每千条记录扣分须指定质控规则")
        if not 0 <= item.floor <= item.points:
            out.append(f"{label}：最低得分 floor {item.floor:g} 应在 0 与本项分值 {item.points:g} 之间")
    if m is Method.MANUAL:
        low, high = item.entry_range()
        if not 0 <= low <= high <= item.points + EPSILON:
            out.append(f"{label}：人工评分范围 {low:g}–{high:g} 应在 0 与本项分值 {item.points:g} 之间")
    return out


def validate(scheme: Scheme) -> Scheme:
    found = problems(scheme)
    if found:
        raise SchemeError("；".join(found))
    return scheme


# --- the shipped schemes ---------------------------------------------------------------------------------------------
def _rate(code, name, points, indicator, target=None, *, method=Method.PROPORTIONAL_TO_TARGET, source=None, note=""):
    return Item(code, name, points, method=method, indicator=indicator, target=target, source=source, note=note)


def _manual(code, name, points, source=None, *, file_required=False, note=""):
    return Item(code, name, points, method=Method.MANUAL, file_required=file_required, source=source, note=note)


_POINTS_2017 = Source("points split over the four dimensions the 2017 local practice names (组织管理, 资金管理, 项目执行, "
                      "项目效果 [early-weights][yongxiu-eval-2017]); the split among items is ours [U]", "U")
_TARGET_U = Source("a target written into the scheme because the catalogue holds none for every region; set it from "
                   "the province's target list of the year [prov-targets-2023]", "U")

SUBDISTRICT_2017 = Scheme(
    code="subdistrict-2017",
    name="2017年基本公共卫生服务项目综合考核（街道，12类服务）",
    year=2017,
    points=100,
    source=Source("the 12 service categories, at least 4 evaluations a year, funds by score (≥ 90 full, < 90 "
                  "proportional, < 60 none) and the fraud veto are the sub-district's opinion [subdistrict-2017]; "
                  "dimension and item points are assumptions [U]", "S"),
    note="每年至少对辖区内所有承担任务的医疗卫生机构开展4次综合考核；考核90分以上全额拨付资金，90分以下按比例拨付资金，"
         "60分以下不拨付（由区、镇财政按标准配套全额补齐）。",
    veto_note="对绩效评价中发现有弄虚作假的，实行一票否决，全额扣除当年公共卫生服务经费，并逐级追责。",
    items=(
        Item("A", "组织管理", 10, source=_POINTS_2017, children=(
            _manual("A1", "网格化管理：管区、村（居）职责落实", 5, _POINTS_2017, file_required=True),
            _manual("A2", "培训与督导：规范培训、日常调度与督查记录", 5, _POINTS_2017, file_required=True),
        )),
        Item("B", "资金管理", 10, source=_POINTS_2017, children=(
            _manual("B1", "专项资金按考核结果拨付、村医补助发放", 10, _POINTS_2017, file_required=True),
        )),
        Item("C", "项目执行（12类服务）", 70, source=_POINTS_2017, children=(
            _rate("C01", "居民健康档案管理：规范化电子健康档案覆盖率", 8, "R3", source=_POINTS_2017),
            _rate("C02", "健康教育：健康知识讲座达标率", 4, "HE4", 1.0, source=_TARGET_U),
            _rate("C03", "预防接种：建证率", 6, "V1", 0.95, source=_TARGET_U),
            _rate("C04", "0～6岁儿童健康管理率", 6, "C2", 0.85, source=_TARGET_U),
            _rate("C05", "孕产妇系统管理率", 6, "M3", 0.85, source=_TARGET_U),
            _rate("C06", "老年人健康管理率", 8, "E1", 0.67, source=_TARGET_U),
            _rate("C07", "高血压患者基层规范管理服务率", 6, "H2", 0.6, source=_TARGET_U),
            _rate("C08", "2型糖尿病患者基层规范管理服务率", 6, "D2", 0.6, source=_TARGET_U),
            _rate("C09", "严重精神障碍患者规范管理率", 4, "P1", 0.8, source=_TARGET_U),
            _rate("C10", "肺结核患者管理率", 4, "T1", 0.9, source=_TARGET_U),
            _rate("C11", "传染病疫情报告及时率", 4, "ID2", 1.0, method=Method.FULL_AT_TARGET, source=_TARGET_U),
            _rate("C12", "老年人中医药健康管理率", 4, "TCM1", 0.65, source=_TARGET_U),
            _rate("C13", "卫生监督协管信息报告率", 4, "SV1", 0.95, source=_TARGET_U),
        )),
        Item("D", "项目效果", 10, source=_POINTS_2017, children=(
            _manual("D1", "居民知晓率、满意度调查", 5, _POINTS_2017, file_required=True),
            Item("D2", "档案真实性：重复档案、身份证号问题", 5, method=Method.DEDUCT_PER_FINDING,
                 rules=("ID-09", "ID-03"), per_finding=1, floor=0,
                 source=Source("duplicates are a hard failure in a village assessment (each duplicate costs points) "
                               "[village-assessment-form]; '每缺一项扣1分，扣完为止' [guangdong-eval]; 1 point per "
                               "finding is ours [U]", "V")),
        )),
    ),
)

_SHANGDANG = Source("the items the district's 2023 bulletin names (project execution rates, family-doctor signing, "
                    "funds by level, the equal-interval satisfaction survey, and its problem list: 用药情况填写不规范, "
                    "空项) [shangdang-2023]; the points are ours [U]", "S")

DISTRICT_2023 = Scheme(
    code="district-2023",
    name="2023年基本公共卫生服务项目暨家庭医生签约服务绩效评价（区级，线上看数量、线下看质量、入户看效果）",
    year=2023,
    points=100,
    source=_SHANGDANG,
    note="附件：绩效评价情况表、各单位问题列表。",
    veto_note="弄虚作假的，实行一票否决，全额扣除当年公共卫生服务经费 [subdistrict-2017]。",
    items=(
        Item("A", "组织与资金管理", 15, source=_SHANGDANG, children=(
            _manual("A1", "业务指导与培训（每季度报区卫体局基层科）", 5, _SHANGDANG, file_required=True),
            _manual("A2", "资金到位与拨付（中央、省、市、区级配套）", 10, _SHANGDANG, file_required=True),
        )),
        Item("B", "项目执行（线上看数量）", 55, source=_SHANGDANG, children=(
            _rate("B01", "居民规范化电子健康档案覆盖率", 4, "R3", source=_SHANGDANG),
            _rate("B02", "7岁以下儿童健康管理率", 5, "C5", 0.9, source=_TARGET_U),
            _rate("B03", "0～6岁儿童眼保健和视力检查覆盖率", 4, "C6", source=_SHANGDANG),
            _rate("B04", "早孕建册率", 4, "M1", 0.9, source=_TARGET_U),
            _rate("B05", "孕产妇系统管理率", 4, "M3", 0.9, source=_TARGET_U),
            _rate("B06", "65岁及以上老年人城乡社区规范健康管理服务率", 8, "E2", 0.62, source=_TARGET_U),
            _rate("B07", "高血压患者基层规范管理服务率", 7, "H2", 0.65, source=_TARGET_U),
            _rate("B08", "2型糖尿病患者基层规范管理服务率", 7, "D2", 0.65, source=_TARGET_U),
            _rate("B09", "社区在册居家严重精神障碍患者健康管理率", 4, "P2", 0.9, source=_TARGET_U),
            _rate("B10", "老年人中医药健康管理率", 3, "TCM1", 0.75, source=_TARGET_U),
            _rate("B11", "0～36个月儿童中医药健康管理服务率", 3, "TCM2", 0.85, source=_TARGET_U),
            Item("B12", "工作量：每千常住人口服务当量（与参评单位中位数比）", 2, method=Method.PROPORTIONAL_TO_TARGET,
                 workload=True, source=_SHANGDANG,
                 note="量化工作量 [shangdang-2023]；服务当量权重与中位数比较为本地设定 [U]（spec/workload.py）"),
        )),
        Item("C", "家庭医生签约服务", 10, source=_SHANGDANG, children=(
            _rate("C1", "家庭医生签约率", 5, "F1", source=_SHANGDANG),
            _rate("C2", "重点人群签约率", 5, "F2", source=_SHANGDANG),
        )),
        Item("D", "服务质量（线下看质量）", 10, source=_SHANGDANG, children=(
            Item("D1", "用药情况填写不规范（每千条随访记录每个问题扣0.1分）", 5, method=Method.DEDUCT_PER_FINDING,
                 rules=("C-06",), per_finding=0.1, per_thousand=True, floor=0, source=_SHANGDANG),
            Item("D2", "健康档案空项、体检表关键项缺失（每千条记录每个问题扣0.1分）", 5,
                 method=Method.DEDUCT_PER_FINDING, rules=("C-01", "C-03"), per_finding=0.1, per_thousand=True,
                 floor=0, source=_SHANGDANG),
        )),
        Item("E", "服务效果（入户看效果）", 10, source=_SHANGDANG, children=(
            _manual("E1", "知晓率与满意度（等间距抽样调查）", 6, _SHANGDANG, file_required=True),
            Item("E2", "现场核查发现的问题（每个核实问题扣1分）", 4, method=Method.DEDUCT_PER_FINDING, per_finding=1,
                 floor=0, verified=True, source=_SHANGDANG,
                 note="核实问题取抽样核查中查无此人、未接受服务的结果（整改台账 VF-01、VF-02）"),
        )),
    ),
)


SCHEMES: tuple[Scheme, ...] = (SUBDISTRICT_2017, DISTRICT_2023)


@cache
def schemes() -> dict[str, Scheme]:
    out = {}
    for s in SCHEMES:
        out[validate(s).code] = s
    return out


def scheme(code: str) -> Scheme:
    try:
        return schemes()[code]
    except KeyError:
        raise KeyError(f"考核方案 {code} 不存在（可选：{'、'.join(schemes())}）") from None


__all__ = ["Item", "Method", "RoundKind", "SCHEMES", "Scheme", "SchemeError", "problems", "scheme", "schemes",
           "validate"]
