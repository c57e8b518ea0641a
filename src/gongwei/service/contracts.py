"""Family-doctor contracts of one resident (家庭医生签约, issue 11 §6): sign, renew, end, and record the services
delivered under a contract (履约).

Every write goes through the entry layer (validation, change log, versions); scope is the resident's; a team may
sign a resident of its own unit or of a unit below it. The term a contract runs and the vocabulary of services
and end reasons are the rulebook's (``spec.programs.family_doctor``, ``spec.vocab``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from gongwei.records import entry
from gongwei.records import models as m
from gongwei.service import audit
from gongwei.service.access import Actor, check_resident
from gongwei.service.errors import BadRequest, NotFound, Refused
from gongwei.spec import vocab as v
from gongwei.spec.programs import family_doctor as fd


@dataclass(frozen=True)
class Option:
    code: str
    name: str


@dataclass(frozen=True)
class Delivered:
    service_no: str
    item: str
    item_name: str
    date: dt.date
    provider: str
    note: str


@dataclass
class ContractRow:
    contract_no: str
    team_code: str
    team_name: str
    start_date: dt.date
    end_date: dt.date
    is_renewal: bool
    cancelled_on: dt.date | None
    cancel_reason: str
    state: str  # in_force / ended / cancelled / future
    state_name: str
    version: int
    renewable: bool = False  # ended, or ending within the rulebook's renewal window
    services: list[Delivered] = field(default_factory=list)

    @property
    def last_day(self) -> dt.date:
        """The last day the contract is in force (its end, or the day it was ended)."""
        return min(self.end_date, self.cancelled_on) if self.cancelled_on else self.end_date

    @property
    def open(self) -> bool:
        return self.state in ("in_force", "future")


@dataclass
class ContractsPage:
    record_no: str
    name: str
    unit_code: str
    status_name: str
    contracts: list[ContractRow]
    teams: list[Option]
    items: list[Option]
    end_reasons: list[Option]
    may_edit: bool
    may_sign: bool  # no contract in force or to come: a new one may be signed (otherwise it is renewed)
    proposed_start: dt.date
    proposed_end: dt.date
    today: dt.date


STATE_NAMES = {"in_force": "履约中", "ended": "已到期", "cancelled": "已解约", "future": "未开始"}


def term_end(start: dt.date) -> dt.date:
    """The last day of a contract signed on ``start``: one term on, less a day (1 March → end of February)."""
    months = start.month - 1 + fd.CONTRACT_TERM_MONTHS
    year, month = start.year + months // 12, months % 12 + 1
    day = start.day
    while True:
        try:
            return dt.date(year, month, day) - dt.timedelta(days=1)
        except ValueError:  # 29 February into a common year, or the 31st into a shorter month
            day -= 1


def _state(c: m.Contract, today: dt.date) -> str:
    if c.cancelled_on is not None:
        return "cancelled"
    if c.start_date > today:
        return "future"
    return "in_force" if c.end_date >= today else "ended"


def _resident(actor: Actor, record_no: str) -> m.Resident:
    r = (m.Resident.objects.select_related("managing_unit")
         .filter(record_no=(record_no or "").strip()).first())
    if r is None:
        raise NotFound(f"健康档案 {record_no} 不存在")
    check_resident(actor, r)
    return r


def _may_edit(actor: Actor) -> bool:
    if actor.resident_id is not None:
        return False
    if actor.user is None:
        return actor.scope.everything
    return actor.user.has_perm("records.add_contract") and actor.user.has_perm("records.change_contract")


def _check_edit(actor: Actor) -> None:
    if not _may_edit(actor):
        raise Refused("只有签约机构的医务人员可以办理签约、续约、解约和履约登记")


def _teams(r: m.Resident) -> list[m.Team]:
    """Teams of the resident's managing unit or of a unit above it (a township team signs its villages)."""
    path = r.managing_unit.path
    ancestors = [path[:i] for i in range(1, len(path) + 1) if path[i - 1] == "/"] + [path]
    return list(m.Team.objects.select_related("org_unit").filter(org_unit__path__in=ancestors).order_by("code"))


def _rows(r: m.Resident, today: dt.date) -> list[ContractRow]:
    contracts = list(m.Contract.objects.filter(resident=r).select_related("team").order_by("-start_date"))
    delivered: dict[int, list[Delivered]] = {}
    for s in (m.ContractService.objects.filter(contract__resident=r).select_related("provider")
              .order_by("-service_date", "-id")):
        delivered.setdefault(s.contract_id, []).append(Delivered(
            s.service_no, s.item, v.ContractServiceItem(s.item).zh if s.item in v.ContractServiceItem.codes()
            else s.item, s.service_date, s.provider.name if s.provider else "", s.note))
    out = []
    for c in contracts:
        state = _state(c, today)
        out.append(ContractRow(
            c.contract_no, c.team.code, c.team.name, c.start_date, c.end_date, c.is_renewal, c.cancelled_on,
            v.ContractEnd(c.cancel_reason).zh if c.cancel_reason in v.ContractEnd.codes() else c.cancel_reason,
            state, STATE_NAMES[state], c.version,
            state == "ended" or (state == "in_force" and (c.end_date - today).days <= fd.RENEWAL_GRACE_DAYS),
            delivered.get(c.pk, [])))
    return out


def page(actor: Actor, record_no: str, *, today: dt.date | None = None) -> ContractsPage:
    """The resident's contracts with what was delivered under each, and what may be done next (audited)."""
    today = today or timezone.localdate()
    r = _resident(actor, record_no)
    rows = _rows(r, today)
    current = next((c for c in rows if c.open), None)
    start = current.end_date + dt.timedelta(days=1) if current else today
    audit.viewed(actor, v.AccessKind.SERVICE, scope=r.managing_unit.code, purpose="家庭医生签约", residents=[r.pk])
    return ContractsPage(
        r.record_no, r.name, r.managing_unit.code, v.ResidentStatus(r.status).zh, rows,
        [Option(t.code, f"{t.name}（{t.org_unit.name}）") for t in _teams(r)],
        [Option(c.value, c.zh) for c in v.ContractServiceItem], [Option(c.value, c.zh) for c in v.ContractEnd],
        _may_edit(actor), current is None, start, term_end(start), today)


def _date(value: str | dt.date | None, what: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        raise BadRequest(f"{what}“{value or ''}”无效：应为 YYYY-MM-DD 格式的日期") from None


def _staff(actor: Actor) -> m.Staff | None:
    return m.Staff.objects.filter(user=actor.user).first() if actor.user is not None else None


def _rejected(exc: entry.Rejected) -> BadRequest:
    return BadRequest("；".join(i.message for i in exc.issues) if exc.issues else str(exc))


def _write(obj, actor: Actor, reason: str, expected_version: int | None = None) -> None:
    try:
        entry.submit_instance(obj, actor_user=actor.user, reason=reason, expected_version=expected_version)
    except entry.StaleVersion as exc:
        raise BadRequest(exc.describe(actor.user)) from None
    except entry.Rejected as exc:
        raise _rejected(exc) from None


def sign(actor: Actor, record_no: str, team_code: str, start: str | dt.date, *, renewal_of: str = "") -> str:
    """Sign the resident with a team from ``start`` for one term; returns the new contract number."""
    _check_edit(actor)
    r = _resident(actor, record_no)
    if r.status != v.ResidentStatus.ACTIVE:
        raise BadRequest(f"档案 {r.record_no} 状态为{v.ResidentStatus(r.status).zh}，不能签约")
    start = _date(start, "签约开始日期")
    end = term_end(start)
    team = next((t for t in _teams(r) if t.code == (team_code or "").strip()), None)
    if team is None:
        raise BadRequest(f"签约团队“{team_code}”无效：应为本档案管理机构或其上级机构的家庭医生团队")
    with transaction.atomic():
        m.Resident.objects.select_for_update().filter(pk=r.pk).first()  # one signing of a person at a time
        overlap = (m.Contract.objects.filter(resident=r, start_date__lte=end, end_date__gte=start,
                                             cancelled_on__isnull=True).order_by("start_date").first())
        if overlap is not None:
            raise BadRequest(f"签约期 {start}～{end} 与现有签约 {overlap.contract_no}（{overlap.start_date}～"
                             f"{overlap.end_date}）重叠：请在其到期后续约，或先解约")
        number = f"QY{r.record_no}-{start:%Y%m%d}"
        if m.Contract.objects.filter(contract_no=number).exists():
            number = f"{number}-{secrets.token_hex(2)}"
        _write(m.Contract(contract_no=number, resident=r, team=team, start_date=start, end_date=end,
                          is_renewal=bool(renewal_of)), actor, f"续约（{renewal_of}）" if renewal_of else "签约")
    return number


def _contract(actor: Actor, contract_no: str) -> m.Contract:
    c = (m.Contract.objects.select_related("resident__managing_unit", "team")
         .filter(contract_no=(contract_no or "").strip()).first())
    if c is None:
        raise NotFound(f"签约 {contract_no} 不存在")
    check_resident(actor, c.resident)
    return c


def renew(actor: Actor, contract_no: str, *, today: dt.date | None = None) -> str:
    """A new term with the same team, from the day after the contract ends (or today, once it has lapsed
    longer than the renewal grace the rulebook allows)."""
    _check_edit(actor)
    today = today or timezone.localdate()
    c = _contract(actor, contract_no)
    if c.cancelled_on is not None:
        raise BadRequest(f"签约 {c.contract_no} 已于 {c.cancelled_on} 解约，不能续约：请重新签约")
    following = c.end_date + dt.timedelta(days=1)
    start = following if (today - following).days <= fd.RENEWAL_GRACE_DAYS else today
    return sign(actor, c.resident.record_no, c.team.code, start, renewal_of=c.contract_no)


def end(actor: Actor, contract_no: str, on: str | dt.date, reason: str, *, version: int | None = None) -> None:
    """End a contract before its term (解约) with the day and the reason; kept, never deleted."""
    _check_edit(actor)
    c = _contract(actor, contract_no)
    on = _date(on, "解约日期")
    if c.cancelled_on is not None:
        raise BadRequest(f"签约 {c.contract_no} 已于 {c.cancelled_on} 解约")
    if not c.start_date <= on <= c.end_date:
        raise BadRequest(f"解约日期 {on} 应在签约期 {c.start_date}～{c.end_date} 之内")
    if reason not in v.ContractEnd.codes():
        raise BadRequest(f"解约原因“{reason}”无效：应为 {'、'.join(x.zh for x in v.ContractEnd)} 之一")
    c.cancelled_on, c.cancel_reason = on, reason
    _write(c, actor, f"解约：{v.ContractEnd(reason).zh}", expected_version=version)


def record_service(actor: Actor, contract_no: str, item: str, on: str | dt.date, note: str = "") -> str:
    """Record a service delivered under the contract (履约); the day must lie in the contract's term."""
    _check_edit(actor)
    c = _contract(actor, contract_no)
    on = _date(on, "服务日期")
    if item not in v.ContractServiceItem.codes():
        raise BadRequest(f"服务项目“{item}”无效：应为 {'、'.join(x.zh for x in v.ContractServiceItem)} 之一")
    last = min(c.end_date, c.cancelled_on) if c.cancelled_on else c.end_date
    if not c.start_date <= on <= last:
        raise BadRequest(f"服务日期 {on} 不在签约期 {c.start_date}～{last} 之内")
    if on > timezone.localdate():
        raise BadRequest(f"服务日期 {on} 晚于今天：只能登记已提供的服务")
    number = f"LY{on:%Y%m%d}{secrets.token_hex(6)}"  # 22 characters: a contract number would not fit beside it
    _write(m.ContractService(service_no=number, contract=c, item=item, service_date=on, provider=_staff(actor),
                             note=(note or "").strip()[:200]), actor, "履约登记")
    return number
