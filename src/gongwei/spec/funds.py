"""Funds (经费): the per-capita standard by year with its split, who pays which share, and how an evaluation score
turns into money.

- **Standard** (人均基本公共卫生服务经费补助标准, yuan per resident per year) by year; from 2019 it includes the items
  moved in from major public health (原重大公卫划入项目), e.g. 2023: 89 = 80 original-12 + 9 merged [shangdang-2023].
- **Shares**: since 2019 a shared central–local responsibility; the centre pays a tier-dependent share by province
  [central-tiers]. How a province splits the rest among province, city and county is its own rule: the defaults here
  are placeholders to be set per province ([U]); the Shangdang figures show one real split ([shangdang-2023], [I]).
- **Allocation by score** [subdistrict-2017]: "考核90分以上全额拨付资金；90分以下按比例拨付资金，60分以下不拨付，但必须由
  区、镇财政按标准配套全额补齐"; fraud → "一票否决，全额扣除当年公共卫生服务经费". The source does not say what "按比例"
  is proportional to: :data:`ALLOCATION` reads it as the score's share of full marks (score ÷ 100) and keeps the
  base a parameter (``proportional_base=90`` reads it as a share of the full-funds line).

- **Ledger parameters** (资金台账, :mod:`gongwei.service.funds`): the four movements, the funds items followed on their
  own (the earmarked increment, the village doctors' subsidy), the rates' definitions and the alert thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass

from gongwei.spec.rules import ByYear, Source


@dataclass(frozen=True)
class Standard:
    """The per-capita standard of one year: ``total`` yuan, ``parts`` (name → yuan) when the source gives a split."""

    year: int
    total: float
    source: Source
    parts: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        if self.parts and abs(sum(v for _, v in self.parts) - self.total) > 1e-9:
            raise ValueError(f"{self.year} 年人均经费标准的分项之和与合计 {self.total:g} 元不符")


ORIGINAL_12 = "原12项基本公卫项目"
MERGED = "原重大公卫划入项目"

STANDARDS = ByYear({
    2009: Standard(2009, 15, Source("15 元 at the start [notice-2011]", "V")),
    2011: Standard(2011, 25, Source("15 → 25 元 [notice-2011][spec2011-preface]", "V")),
    2017: Standard(2017, 50, Source("2017 年人均 50 元 [subdistrict-2017][shandong-2017]", "S")),
    2020: Standard(2020, 74, Source("74 元; the new 5 元 all to villages and urban communities [notice-2020]", "V")),
    2022: Standard(2022, 84, Source("84 元 [notice-2022]; 由84元提高至89元 [shangdang-2023]", "V")),
    2023: Standard(2023, 89, Source("89 元 = 原12项 80 元 + 原重大公卫划入项目 9 元 [shangdang-2023][notice-2023]", "S"),
                   parts=((ORIGINAL_12, 80), (MERGED, 9))),
    2024: Standard(2024, 94, Source("94 元 [notice-2024]", "V")),
    2025: Standard(2025, 99, Source("99 元 [notice-2025]", "V")),
})


def standard(year: int) -> Standard:
    """The national standard in force in ``year`` (a year between two notices keeps the earlier one's figure)."""
    return STANDARDS.for_year(year)


# --- shares ------------------------------------------------------------------------------------------------------
CENTRAL_TIERS_SOURCE = Source("中央财政分档补助: 80 / 60 / 50 / 30 / 10 % by province [central-tiers]", "V")

# province division-code prefix → central share (the five tiers; 计划单列市 are tier 4 but keep their province's
# prefix here, so a city such as Dalian (2102) is listed by its own prefix and wins as the longer match)
CENTRAL_SHARE: dict[str, float] = {
    **dict.fromkeys(("15", "45", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"), 0.8),
    **dict.fromkeys(("13", "14", "22", "23", "34", "36", "41", "42", "43", "46"), 0.6),
    **dict.fromkeys(("21", "35", "37"), 0.5),
    **dict.fromkeys(("12", "32", "33", "44", "2102", "3302", "3502", "3702", "4403"), 0.3),
    **dict.fromkeys(("11", "31"), 0.1),
}


def central_share(region_code: str) -> float | None:
    """The central share for a unit's division code (longest matching prefix), None when the province is unknown."""
    hits = [p for p in CENTRAL_SHARE if region_code.startswith(p)]
    return CENTRAL_SHARE[max(hits, key=len)] if hits else None


@dataclass(frozen=True)
class LocalSplit:
    """How a province divides the local share (1 − central) among province, city and county: fractions of the
    local share, set per province from its funds notice."""

    province: float
    city: float
    county: float
    source: Source

    def __post_init__(self) -> None:
        if abs(self.province + self.city + self.county - 1) > 1e-9:
            raise ValueError("省、市、县分担比例之和应为 1")


# A placeholder until a province's notice is entered: configurable, not a rule of any province [U].
DEFAULT_LOCAL_SPLIT = LocalSplit(0.5, 0.2, 0.3, Source("placeholder split of the local share, to be set per province "
                                                       "from its funds notice; only the central part is national [central-tiers] [U]", "U"))
LOCAL_SPLITS: dict[str, LocalSplit] = {
    # Shangdang (Shanxi) 2023, original-12 funds in 10k yuan: central 1557.61, provincial 510.93, city 127.74,
    # district 383.592 of 2579.872 → local 1022.262 split 49.98 % / 12.50 % / 37.52 % [shangdang-2023] [I]
    "14": LocalSplit(0.5, 0.125, 0.375, Source("Shanxi split inferred from the Shangdang 2023 figures "
                                              "[shangdang-2023] [I]", "I")),
}


def local_split(region_code: str) -> LocalSplit:
    hits = [p for p in LOCAL_SPLITS if region_code.startswith(p)]
    return LOCAL_SPLITS[max(hits, key=len)] if hits else DEFAULT_LOCAL_SPLIT


def shares(region_code: str) -> dict[str, float] | None:
    """Share of each level (central, province, city, county) in a unit's funds; None with an unknown province."""
    c = central_share(region_code)
    if c is None:
        return None
    s = local_split(region_code)
    local = 1 - c
    return {"central": c, "province": local * s.province, "city": local * s.city, "county": local * s.county}


# --- score → funds ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AllocationRule:
    """≥ ``full_at`` full funds; ``none_below`` ≤ score < ``full_at``: score ÷ ``proportional_base``; below
    ``none_below`` nothing (the local government makes up the difference); a fraud veto deducts the year's funds."""

    full_at: float
    none_below: float
    proportional_base: float
    source: Source
    base_source: Source
    below_note: str = "60分以下不拨付，由区、镇财政按标准配套全额补齐"
    veto_note: str = "弄虚作假一票否决，全额扣除当年公共卫生服务经费"


ALLOCATION = AllocationRule(
    full_at=90, none_below=60, proportional_base=100,
    source=Source("考核90分以上全额拨付资金；90分以下按比例拨付资金，60分以下不拨付；弄虚作假一票否决 [subdistrict-2017]", "S"),
    base_source=Source("'按比例' read as the score's share of full marks (score ÷ 100); the source does not say — "
                       "set proportional_base to 90 for a share of the full-funds line [subdistrict-2017] [I]", "I"),
)


@dataclass(frozen=True)
class Allocation:
    score: float
    ratio: float  # share of the funds due that is paid
    due: float | None  # yuan due before the score (None when not asked)
    paid: float | None
    withheld: float | None
    note: str = ""
    vetoed: bool = False


def funds_ratio(score: float, *, veto: bool = False, rule: AllocationRule = ALLOCATION) -> tuple[float, str]:
    """(share of the funds paid, note) for a score out of 100."""
    if veto:
        return 0.0, rule.veto_note
    if score >= rule.full_at:
        return 1.0, "全额拨付"
    if score < rule.none_below:
        return 0.0, rule.below_note
    return round(score / rule.proportional_base, 6), f"按比例拨付（{score:g}÷{rule.proportional_base:g}）"


def allocate(score: float, due: float | None = None, *, veto: bool = False,
             rule: AllocationRule = ALLOCATION) -> Allocation:
    """What a unit with ``score`` is paid of ``due`` yuan."""
    ratio, note = funds_ratio(score, veto=veto, rule=rule)
    if due is None:
        return Allocation(score, ratio, None, None, None, note, veto)
    paid = round(due * ratio, 2)
    return Allocation(score, ratio, due, paid, round(due - paid, 2), note, veto)


def due(population: int, year: int, *, part: str | None = None) -> float:
    """Funds due for a population base: residents × the year's standard (or one part of it, e.g. 原12项)."""
    st = standard(year)
    if part is None:
        return population * st.total
    parts = dict(st.parts)
    if part not in parts:
        raise KeyError(f"{year} 年人均经费标准没有分项“{part}”")
    return population * parts[part]


# --- the ledger (资金台账): kinds of movement, funds items, rates and alerts (issue 12, i12funds) -------------------
class FlowKind:
    """The four movements the bureaus follow, in the order money moves: a higher level issues a funds document
    (下达, the 指标), the money reaches the unit's account (到位), the unit passes it down (拨付) and spends it (支出)
    [city-rectification-2023] ("只下拨付指标、实际上未真正拨付到位")."""

    ALLOCATION = "allocation"
    ARRIVAL = "arrival"
    DISBURSEMENT = "disbursement"
    EXPENDITURE = "expenditure"


FLOW_KINDS: dict[str, str] = {FlowKind.ALLOCATION: "下达", FlowKind.ARRIVAL: "到位",
                              FlowKind.DISBURSEMENT: "拨付", FlowKind.EXPENDITURE: "支出"}
LEVELS: dict[str, str] = {"central": "中央", "province": "省级", "city": "市级", "county": "县级"}


@dataclass(frozen=True)
class FundItem:
    """A line of funds followed on its own: ``pass_down_to`` names the unit levels an earmarked line must all reach
    (nothing may stay above them); ``village_subsidy`` marks the village doctors' subsidy."""

    code: str
    name: str
    source: Source
    pass_down_to: tuple[str, ...] = ()
    village_subsidy: bool = False


FUND_ITEMS: dict[str, FundItem] = {i.code: i for i in (
    FundItem("basic", "基本公共卫生服务补助资金", Source("人均经费补助 [notice-2023][shangdang-2023]", "V")),
    # [pingliang-2020q2] quoting the 2020 provincial notice: "其中新增5元经费全部落实到乡村和城市社区，统筹用基层医疗卫生机构（含村卫生
    # 室、社区卫生服务站）…": the primary institutions, i.e. township centres and villages; nothing stays at county level
    FundItem("increment", "新增经费（全部落实到乡村和城市社区）",
             Source("新增5元经费全部落实到乡村和城市社区 [pingliang-2020q2][notice-2020]", "S"),
             pass_down_to=("township", "village")),
    # "各基层卫生单位要根据经费标准及时向村医发放补助" [pingliang-2020q2]
    FundItem("village_doctor", "乡村医生补助", Source("及时向村医发放补助 [pingliang-2020q2]", "S"),
             village_subsidy=True),
)}


@dataclass(frozen=True)
class RateRule:
    """A rate of the ledger: ``numerator`` ÷ ``denominator`` over the movements up to a date."""

    code: str
    name: str
    numerator: str
    denominator: str
    source: Source


# 拨付率 over what was issued (the funds due, 应拨付), not over what arrived: [city-rectification-2023] reports counties at 28 % whose
# money "只下拨付指标、实际上未真正拨付到位", which a rate over arrivals would hide. 支出率: spent ÷ received.
RATES: tuple[RateRule, ...] = (
    RateRule("arrival_rate", "到位率", FlowKind.ARRIVAL, FlowKind.ALLOCATION,
             Source("资金到位率 = 到位 ÷ 下达 [liaoning-eval]", "B")),
    RateRule("disbursement_rate", "拨付率", FlowKind.DISBURSEMENT, FlowKind.ALLOCATION,
             Source("拨付率 = 已拨付 ÷ 应拨付（下达）; 拨付率67.25％ by county [city-rectification-2023] [I]", "I")),
    RateRule("expenditure_rate", "支出率", FlowKind.EXPENDITURE, FlowKind.ARRIVAL,
             Source("支出率 = 支出 ÷ 到位; 支出率39.28％ [city-rectification-2023] [I]", "I")),
)


@dataclass(frozen=True)
class AlertRule:
    """When the ledger raises an alert: ``days`` after the movement that started the clock; ``share``: the part of
    the arrived money that may stay unspent before it counts as idle."""

    days: int
    source: Source
    share: float = 0.0


# Liaoning scores 到位及时性 "within 1 month of the allocation document" full, Guangdong deducts per month of late
# transfer to primary institutions: one month is the line both draw [liaoning-eval][guangdong-eval] [I]
NOT_DISBURSED = AlertRule(30, Source("下达后 30 天仍未拨付 [liaoning-eval][guangdong-eval] [I]", "I"))
# 沉淀: "杜绝基本公卫经费沉淀结余" gives no figure; 90 days and half of the arrived money are ours [pingliang-2020q2] [U]
IDLE = AlertRule(90, Source("到位 90 天后结余仍超过到位额的 50% 视为沉淀（本地设定）[pingliang-2020q2] [U]", "U"),
                 share=0.5)
# the earmarked increment must all reach the primary institutions: what stays above them 30 days after arriving
NOT_PASSED_DOWN = AlertRule(30, Source("新增经费到位 30 天后仍未全部下拨到乡村（本地设定）[pingliang-2020q2] [U]", "U"))


def fund_item(code: str) -> FundItem:
    if code not in FUND_ITEMS:
        raise KeyError(f"资金项目“{code}”无效（可选：{'、'.join(FUND_ITEMS)}）")
    return FUND_ITEMS[code]
