"""Use cases of the funds ledger (资金台账, issue 12): record a movement, void one, and read the rates, the alerts, the
village doctors' subsidies and the per-county table as of any date.

- **What counts where.** 下达 (allocation) and 支出 (expenditure) are the unit's own rows. Money reaching a unit (到位)
  is what was entered as arriving from outside the tree (central and provincial transfers to a county) **plus** what
  its parent disbursed to it: a disbursement between two units of the tree is the recipient's arrival on the same day,
  so nobody enters it twice. 支出率 counts the spending of the unit's whole subtree (money passed down is spent below).
- **Refused**: a disbursement or expenditure the unit's arrived money does not cover, on its date or on any later
  date with movements (money cannot leave before it arrives) — named in Chinese with the funds item and the rule.
- **As of a date**: every figure is a sum of the rows dated up to that day and not voided, so last month's table can be
  asked again; the rows themselves are never edited (a wrong one is voided with a reason, and entered again).
- Parameters (rates' definitions, alert thresholds, the funds items and their earmarks) are in :mod:`gongwei.spec.funds`.
- Who: entry by evaluators, supervisors, township administrators and system administrators within their subtree;
  reading by any login within its subtree.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from gongwei.funds import models as fm
from gongwei.records import models as rm
from gongwei.service.access import Actor
from gongwei.service.errors import BadRequest, NotFound, Refused
from gongwei.spec import funds as spec
from gongwei.spec.funds import FlowKind
from gongwei.spec.vocab import Role

ENTRY_ROLES = frozenset({Role.EVALUATOR.value, Role.SUPERVISOR.value, Role.TOWNSHIP_ADMIN.value,
                         Role.SYSTEM_ADMIN.value})
OUTGOING = (FlowKind.DISBURSEMENT, FlowKind.EXPENDITURE)
CENT = Decimal("0.01")


# --- parsing ---------------------------------------------------------------------------------------------------------
def _date(value, what: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise BadRequest(f"{what}“{value}”不是有效日期（格式 YYYY-MM-DD）") from None


def _amount(value) -> Decimal:
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise BadRequest(f"金额“{value}”不是数字") from None
    if not amount.is_finite() or amount <= 0:
        raise BadRequest(f"金额“{value}”应大于 0")
    if amount != amount.quantize(CENT):
        raise BadRequest(f"金额“{value}”最多保留两位小数（分）")
    if amount >= Decimal("1e12"):
        raise BadRequest(f"金额“{value}”超过一万亿元，请检查单位（元）")
    return amount.quantize(CENT)


def _unit(actor: Actor, code: str, what: str) -> rm.OrgUnit:
    unit = rm.OrgUnit.objects.filter(code=str(code).strip()).first()
    if unit is None:
        raise NotFound(f"{what}代码 {code} 不存在")
    actor.check_path(unit.path, f"{what} {unit.name}（{unit.code}）")
    return unit


def _year(value) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        raise BadRequest(f"资金年度“{value}”应为四位年份") from None
    if not 2009 <= year <= 2100:
        raise BadRequest(f"资金年度“{value}”无效（2009 年起）")
    return year


# --- entry -----------------------------------------------------------------------------------------------------------
def _first_shortfall(unit: rm.OrgUnit, item: str, year: int, on: dt.date,
                     amount: Decimal) -> tuple[dt.date, Decimal] | None:
    """With ``amount`` more going out on ``on``: the day from ``on`` on with the least money left (arrived − gone
    out, without the new amount) and that least, when it does not cover ``amount``; None when it does. A back-dated
    payment must fit every later day too, or a later payment would have left before its money arrived. One grouped
    query of the unit's dated sums (a few per year), then a running balance over the days."""
    incoming = Q(org_unit=unit, kind=FlowKind.ARRIVAL) | Q(recipient=unit, kind=FlowKind.DISBURSEMENT)
    outgoing = Q(org_unit=unit, kind__in=OUTGOING)
    rows = (fm.FundFlow.objects.filter(incoming | outgoing, item=item, year=year, voided_at__isnull=True)
            .values("date", "kind", "org_unit_id").annotate(total=Sum("amount")).order_by("date"))
    by_date: dict[dt.date, Decimal] = defaultdict(Decimal)
    for r in rows:
        out = r["kind"] in OUTGOING and r["org_unit_id"] == unit.pk
        by_date[r["date"]] += -r["total"] if out else r["total"]
    by_date[on] += 0
    balance, least = Decimal(0), None
    for day in sorted(by_date):
        balance += by_date[day]
        if day >= on and (least is None or balance < least[1]):
            least = (day, balance)
    return least if least[1] < amount else None


def record_flow(actor: Actor, *, kind: str, year, item: str, level: str, org: str, amount, date, doc_no: str,
                recipient: str = "", note: str = "") -> fm.FundFlow:
    """One movement of money, checked at this one entry point; a disbursement or expenditure must be covered by the
    money that had arrived at the unit."""
    if actor.role not in ENTRY_ROLES:
        raise Refused("资金台账只能由绩效评价员、县市督导员、乡镇管理员或系统管理员录入")
    if kind not in spec.FLOW_KINDS:
        raise BadRequest(f"类别“{kind}”无效（可选：{'、'.join(f'{k}（{v}）' for k, v in spec.FLOW_KINDS.items())}）")
    try:
        fund = spec.fund_item(item)
    except KeyError as exc:
        raise BadRequest(str(exc.args[0])) from None
    if level not in spec.LEVELS:
        raise BadRequest(f"资金来源层级“{level}”无效（可选：{'、'.join(spec.LEVELS)}）")
    year_ = _year(year)
    money = _amount(amount)
    day = _date(date, "日期")
    if day > timezone.localdate():
        raise BadRequest(f"日期 {day} 晚于今天：台账只记已发生的资金往来")
    if day.year < year_:
        raise BadRequest(f"日期 {day} 早于资金年度 {year_}")
    if not str(doc_no).strip():
        raise BadRequest(f"{spec.FLOW_KINDS[kind]}须填写文号或凭证号")
    unit = _unit(actor, org, "单位")
    target = None
    if kind == FlowKind.DISBURSEMENT:
        if not str(recipient).strip():
            raise BadRequest("拨付须填写拨付对象（下级单位代码）")
        target = _unit(actor, recipient, "拨付对象")
        if not target.path.startswith(unit.path) or target.pk == unit.pk:
            raise BadRequest(f"拨付对象 {target.name}（{target.code}）不是 {unit.name} 的下级单位")
    elif str(recipient).strip():
        raise BadRequest(f"只有拨付才填写拨付对象（本条是{spec.FLOW_KINDS[kind]}）")
    with transaction.atomic():
        rm.OrgUnit.objects.select_for_update().filter(pk=unit.pk).first()  # one unit's entries one at a time
        short = _first_shortfall(unit, fund.code, year_, day, money) if kind in OUTGOING else None
        if short is not None:
            when, left = short
            raise BadRequest(
                f"资金项目“{fund.name}”{spec.FLOW_KINDS[kind]} {money} 元超过 {unit.name} 截至 {when} 已到位未拨付、未支出的"
                f"余额 {max(left, Decimal(0)):.2f} 元：拨付和支出不得超过已到位的资金")
        return fm.FundFlow.objects.create(
            kind=kind, year=year_, item=fund.code, level=level, org_unit=unit, recipient=target, amount=money,
            date=day, doc_no=str(doc_no).strip()[:80], note=str(note).strip()[:300], entered_by=actor.label[:150])


def void_flow(actor: Actor, flow_id, reason: str) -> fm.FundFlow:
    """Void a wrong row (kept, with who, when and why); the right one is entered again. Voiding an arrival that later
    disbursements spent is refused, like the disbursement would have been."""
    if actor.role not in ENTRY_ROLES:
        raise Refused("资金台账只能由绩效评价员、县市督导员、乡镇管理员或系统管理员修改")
    if not str(reason).strip():
        raise BadRequest("作废须说明原因")
    try:
        flow = fm.FundFlow.objects.select_related("org_unit", "recipient").get(pk=int(flow_id))
    except (TypeError, ValueError):
        raise BadRequest(f"流水编号“{flow_id}”应为整数") from None
    except fm.FundFlow.DoesNotExist:
        raise NotFound(f"资金流水 {flow_id} 不存在") from None
    actor.check_path(flow.org_unit.path, f"单位 {flow.org_unit.name}（{flow.org_unit.code}）")
    if flow.voided_at is not None:
        raise BadRequest(f"资金流水 {flow.pk} 已于 {timezone.localtime(flow.voided_at):%Y-%m-%d} 作废")
    with transaction.atomic():
        flow.voided_at, flow.voided_by, flow.void_reason = timezone.now(), actor.label[:150], str(reason).strip()[:300]
        flow.save(update_fields=["voided_at", "voided_by", "void_reason"])
        holder = flow.recipient if flow.kind == FlowKind.DISBURSEMENT else flow.org_unit
        if flow.kind in (FlowKind.ARRIVAL, FlowKind.DISBURSEMENT):
            short = _first_shortfall(holder, flow.item, flow.year, flow.date, Decimal(0))
            if short is not None:
                when = short[0]
                raise BadRequest(f"作废后 {holder.name} 截至 {when} 的拨付和支出将超过已到位的资金，请先作废其后的拨付或支出")
    return flow


# --- reading ---------------------------------------------------------------------------------------------------------
@dataclass
class Figures:
    """One unit's sums up to the date (yuan): its own allocations, arrivals (entered + received), disbursements and
    expenditures, and the expenditures of its whole subtree."""

    allocated: Decimal = Decimal(0)
    arrived: Decimal = Decimal(0)
    disbursed: Decimal = Decimal(0)
    spent: Decimal = Decimal(0)
    spent_below: Decimal = Decimal(0)  # the subtree's, the unit's own included

    def rate(self, code: str) -> float | None:
        rule = next(r for r in spec.RATES if r.code == code)
        num = {FlowKind.ARRIVAL: self.arrived, FlowKind.DISBURSEMENT: self.disbursed,
               FlowKind.EXPENDITURE: self.spent_below}[rule.numerator]
        den = {FlowKind.ALLOCATION: self.allocated, FlowKind.ARRIVAL: self.arrived}[rule.denominator]
        return None if not den else float(num / den)

    @property
    def rates(self) -> dict[str, float | None]:
        return {r.code: self.rate(r.code) for r in spec.RATES}


@dataclass
class Row:
    unit: rm.OrgUnit
    figures: Figures


@dataclass
class FundsTable:
    """The unit asked and each unit just below it, as of ``as_of``: the county table of the bureaus' reports."""

    unit: rm.OrgUnit
    year: int
    as_of: dt.date
    item: str | None
    total: Row
    rows: list[Row]  # by disbursement rate, highest first (as seed reports list counties), then code
    rates: tuple[spec.RateRule, ...] = spec.RATES


def _sums(root: rm.OrgUnit, year: int, as_of: dt.date, item: str | None, *, cut: dt.date | None = None):
    """Grouped sums by unit path and kind: (own, received) dicts of path → kind → (sum ≤ as_of, sum ≤ cut)."""
    base = fm.FundFlow.objects.filter(year=year, voided_at__isnull=True, date__lte=as_of)
    if item:
        base = base.filter(item=item)
    cut = cut or as_of
    aggregates = {"total": Sum("amount"), "early": Sum("amount", filter=Q(date__lte=cut))}
    own = (base.filter(org_unit__path__startswith=root.path).values("org_unit__path", "kind")
           .annotate(**aggregates))
    received = (base.filter(kind=FlowKind.DISBURSEMENT, recipient__path__startswith=root.path)
                .values("recipient__path").annotate(**aggregates))
    mine: dict[str, dict[str, tuple[Decimal, Decimal]]] = defaultdict(dict)
    for r in own:
        mine[r["org_unit__path"]][r["kind"]] = (r["total"] or Decimal(0), r["early"] or Decimal(0))
    got = {r["recipient__path"]: (r["total"] or Decimal(0), r["early"] or Decimal(0)) for r in received}
    return mine, got


def _figures(path: str, mine, got, *, early: bool = False, below: bool = True) -> Figures:
    k = 1 if early else 0
    own = mine.get(path, {})

    def of(kind):
        return own.get(kind, (Decimal(0), Decimal(0)))[k]

    spent_below = sum((v[FlowKind.EXPENDITURE][k] for p, v in mine.items()
                       if p.startswith(path) and FlowKind.EXPENDITURE in v), Decimal(0)) if below else Decimal(0)
    return Figures(allocated=of(FlowKind.ALLOCATION),
                   arrived=of(FlowKind.ARRIVAL) + got.get(path, (Decimal(0), Decimal(0)))[k],
                   disbursed=of(FlowKind.DISBURSEMENT), spent=of(FlowKind.EXPENDITURE), spent_below=spent_below)


def _asked(actor: Actor, code: str, year, as_of, item) -> tuple[rm.OrgUnit, int, dt.date, str | None]:
    unit = _unit(actor, code, "机构")
    day = _date(as_of, "截至日期") if as_of else timezone.localdate()
    year_ = _year(year) if year else day.year
    if item:
        try:
            spec.fund_item(item)
        except KeyError as exc:
            raise BadRequest(str(exc.args[0])) from None
    return unit, year_, day, item or None


def table(actor: Actor, code: str, *, year=None, as_of=None, item: str | None = None) -> FundsTable:
    """Rates of ``code`` and of each unit just below it, from the rows dated up to ``as_of`` (default today)."""
    unit, year_, day, item_ = _asked(actor, code, year, as_of, item)
    mine, got = _sums(unit, year_, day, item_)
    children = list(rm.OrgUnit.objects.filter(parent=unit).order_by("code"))
    rows = [Row(c, _figures(c.path, mine, got)) for c in children]
    rows.sort(key=lambda r: (-(r.figures.rate("disbursement_rate") or -1), r.unit.code))
    return FundsTable(unit, year_, day, item_, Row(unit, _figures(unit.path, mine, got)), rows)


@dataclass
class Alert:
    rule: str  # not_disbursed / idle / not_passed_down
    unit: rm.OrgUnit
    amount: Decimal
    message: str
    source: str


@dataclass
class Alerts:
    unit: rm.OrgUnit
    year: int
    as_of: dt.date
    items: list[Alert] = field(default_factory=list)


def alerts(actor: Actor, code: str, *, year=None, as_of=None) -> Alerts:
    """Funds allocated but not passed on, idle balances (沉淀) and earmarked increments kept above the primary
    institutions, in the subtree of ``code`` as of a date. Thresholds: :data:`spec.NOT_DISBURSED`, :data:`spec.IDLE`,
    :data:`spec.NOT_PASSED_DOWN`."""
    unit, year_, day, _ = _asked(actor, code, year, as_of, None)
    units = {u.path: u for u in rm.OrgUnit.objects.filter(path__startswith=unit.path)}
    out = Alerts(unit, year_, day)
    # allocated ≥ N days ago and not yet passed on or spent
    rule = spec.NOT_DISBURSED
    mine, got = _sums(unit, year_, day, None, cut=day - dt.timedelta(days=rule.days))
    for path in sorted(mine):
        now, old = _figures(path, mine, got, below=False), _figures(path, mine, got, early=True, below=False)
        late = old.allocated - now.disbursed - now.spent
        if late > 0:
            out.items.append(Alert("not_disbursed", units[path], late,
                                   f"下达超过 {rule.days} 天的资金 {old.allocated:.2f} 元中仍有 {late:.2f} 元未拨付、未支出"
                                   f"（已拨付 {now.disbursed:.2f} 元，已支出 {now.spent:.2f} 元）", rule.source.ref))
    # idle: money that arrived ≥ N days ago and is still unused, above the allowed share
    rule = spec.IDLE
    mine, got = _sums(unit, year_, day, None, cut=day - dt.timedelta(days=rule.days))
    for path in sorted(set(mine) | set(got)):
        if path not in units:
            continue
        now, old = _figures(path, mine, got, below=False), _figures(path, mine, got, early=True, below=False)
        idle = old.arrived - now.disbursed - now.spent
        if old.arrived > 0 and idle > old.arrived * Decimal(str(rule.share)):
            out.items.append(Alert("idle", units[path], idle,
                                   f"到位超过 {rule.days} 天的资金 {old.arrived:.2f} 元中 {idle:.2f} 元仍未使用"
                                   f"（{idle / old.arrived:.0%}，超过 {rule.share:.0%}），资金沉淀", rule.source.ref))
    # earmarked items: what arrived ≥ N days ago at a unit above the levels it must reach and was not passed down
    rule = spec.NOT_PASSED_DOWN
    for fund in (f for f in spec.FUND_ITEMS.values() if f.pass_down_to):
        mine, got = _sums(unit, year_, day, fund.code, cut=day - dt.timedelta(days=rule.days))
        for path in sorted(set(mine) | set(got)):
            held = units.get(path)
            if held is None or held.level in fund.pass_down_to:
                continue
            now, old = _figures(path, mine, got, below=False), _figures(path, mine, got, early=True, below=False)
            kept = old.arrived - now.disbursed
            if kept > 0:
                out.items.append(Alert("not_passed_down", held, kept,
                                       f"“{fund.name}”到位超过 {rule.days} 天仍有 {kept:.2f} 元留在{held.get_level_display()}，"
                                       f"未全部落实到{'、'.join(_level_zh(x) for x in fund.pass_down_to)}",
                                       f"{fund.source.ref}；{rule.source.ref}"))
    return out


def _level_zh(level: str) -> str:
    return dict(rm.OrgUnit._meta.get_field("level").choices).get(level, level)


@dataclass
class Subsidy:
    village: rm.OrgUnit
    paid: Decimal
    payments: int


def village_subsidies(actor: Actor, code: str, *, year=None, as_of=None) -> list[Subsidy]:
    """The village doctors' subsidy paid to each village of the subtree up to the date (a village with none: 0)."""
    unit, year_, day, _ = _asked(actor, code, year, as_of, None)
    items = [k for k, f in spec.FUND_ITEMS.items() if f.village_subsidy]
    paid = {r["recipient_id"]: r for r in fm.FundFlow.objects.filter(
        kind=FlowKind.DISBURSEMENT, item__in=items, year=year_, date__lte=day, voided_at__isnull=True,
        recipient__path__startswith=unit.path).values("recipient_id").annotate(total=Sum("amount"), n=Count("id"))}
    villages = rm.OrgUnit.objects.filter(path__startswith=unit.path, level="village").order_by("code")
    return [Subsidy(v, paid.get(v.pk, {}).get("total") or Decimal(0), paid.get(v.pk, {}).get("n") or 0)
            for v in villages]


def flows(actor: Actor, code: str, *, year=None, limit: int = 200) -> list[fm.FundFlow]:
    """The latest rows of the subtree of ``code`` (voided ones included, marked), newest first."""
    unit = _unit(actor, code, "机构")
    rows = fm.FundFlow.objects.filter(Q(org_unit__path__startswith=unit.path)).select_related("org_unit", "recipient")
    if year:
        rows = rows.filter(year=_year(year))
    return list(rows.order_by("-date", "-pk")[:limit])


def can_enter(actor: Actor) -> bool:
    return actor.role in ENTRY_ROLES


def yuan(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


__all__ = ["ENTRY_ROLES", "Alert", "Alerts", "Figures", "FundsTable", "Row", "Subsidy", "alerts", "can_enter", "flows",
           "record_flow", "table", "village_subsidies", "void_flow"]
