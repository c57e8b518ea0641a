"""Supervision rounds and rectification periods (督导与第N期整改, issue 13 §4, ADR 034).

A round is organised by a unit (a city or county bureau, a township) for units in its subtree; its visits carry
attached photos and documents; each problem found becomes a rectification item with owner, deadline and period
number. An item's status is kept as a history of dated events, so "as of a date" is answerable later: an item
still open after its deadline is *overdue* as of that date (never stored — it would go stale the next morning).

:func:`period_report` gives a period's report data in the shape of a city's rectification report: what was
fixed, what is overdue, what is still open, and the indicator figures that moved since the previous period —
read from the results store (:func:`gongwei.service.analysis.indicators` with ``compute=False``), never computed
here. Same contract as the rest of :mod:`gongwei.service`: the actor's subtree, all or nothing, in Chinese.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from gongwei.engine.compare import Figure
from gongwei.files import inside, open_private, private_dir
from gongwei.quality.models import Finding
from gongwei.records import models as rm
from gongwei.service import analysis, dashboard
from gongwei.service.access import Actor
from gongwei.service.errors import BadRequest, NotFound, NotReady, Refused
from gongwei.spec.supervision import (
    ASSIGNMENT_LEVEL,
    ATTACHMENT_MAX_BYTES,
    ATTACHMENT_TYPES,
    STATUS_MOVES,
    AssignmentKind,
    ItemStatus,
    RoundMethod,
)
from gongwei.spec.vocab import OrgLevel, Role
from gongwei.supervision.models import (
    Assignment,
    Attachment,
    ItemEvent,
    RectificationItem,
    SupervisionRound,
    Visit,
)

# who organises rounds, records visits and rectification: township staff (包村) and the bureau's supervisors;
# evaluators and village doctors read
SUPERVISION_ROLES = frozenset({Role.TOWNSHIP_STAFF, Role.TOWNSHIP_ADMIN, Role.SUPERVISOR, Role.SYSTEM_ADMIN})
TEXT_MAX = {"title": 100, "leader": 100, "person": 100, "summary": 1000, "problem": 500, "owner": 100, "note": 300}
FIELD_NAMES = {"title": "督导名称", "leader": "带队人", "person": "责任人", "summary": "发现情况", "problem": "问题",
               "owner": "责任人", "note": "说明"}


# --- helpers ------------------------------------------------------------------------------------------------
def may_supervise(actor: Actor) -> bool:
    return actor.resident_id is None and (actor.user is None or actor.scope.everything
                                          or actor.role in SUPERVISION_ROLES)


def _check_may(actor: Actor) -> None:
    if not may_supervise(actor):
        raise Refused("只有乡镇公卫人员、乡镇管理员、县市督导员和系统管理员可以录入督导和整改")


def _unit(actor: Actor, code: str) -> rm.OrgUnit:
    unit = rm.OrgUnit.objects.filter(code=(code or "").strip()).first()
    if unit is None:
        raise NotFound(f"机构代码 {code} 不存在")
    actor.check_path(unit.path, f"机构 {unit.name}（{unit.code}）")
    return unit


def _text(value: str, name: str, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise BadRequest(f"{FIELD_NAMES[name]}不能为空")
    if len(value) > TEXT_MAX[name]:
        raise BadRequest(f"{FIELD_NAMES[name]}过长：不超过 {TEXT_MAX[name]} 字")
    return value


def _date(value, what: str, *, required: bool = True) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    if not text:
        if required:
            raise BadRequest(f"{what}不能为空")
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"{what}“{text}”无效：应为日期，如 2025-06-30") from None


def _round(actor: Actor, round_id: int) -> SupervisionRound:
    r = SupervisionRound.objects.select_related("org_unit").filter(pk=round_id).first()
    if r is None:
        raise NotFound(f"督导 {round_id} 不存在")
    actor.check_path(r.org_unit.path, f"督导“{r.title}”（{r.org_unit.name}）")
    return r


def _in_round(r: SupervisionRound, unit: rm.OrgUnit) -> None:
    if not unit.path.startswith(r.org_unit.path):
        raise BadRequest(f"{unit.name}（{unit.code}）不在本次督导组织单位 {r.org_unit.name} 的辖区内")


# --- rounds -------------------------------------------------------------------------------------------------
def create_round(actor: Actor, org: str, *, title: str, period_no, start_date, methods: list[str], leader: str,
                 units: list[str], end_date=None, indicator_period: str = "") -> SupervisionRound:
    """A supervision round organised by ``org`` for ``units`` (codes in its subtree)."""
    _check_may(actor)
    organiser = _unit(actor, org)
    title, leader = _text(title, "title"), _text(leader, "leader")
    try:
        period_no = int(str(period_no).strip())
    except ValueError:
        raise BadRequest(f"整改期数“{period_no}”无效：应为正整数（第N期）") from None
    if period_no < 1:
        raise BadRequest(f"整改期数 {period_no} 无效：应为正整数（第N期）")
    start = _date(start_date, "督导日期")
    end = _date(end_date, "结束日期", required=False)
    if end is not None and end < start:
        raise BadRequest(f"结束日期 {end} 早于督导日期 {start}")
    methods = list(dict.fromkeys(m for m in methods if m))
    if not methods:
        raise BadRequest("督导方式不能为空：电话访谈、现场核查、远程复核至少选一种")
    bad = [m for m in methods if m not in RoundMethod.codes()]
    if bad:
        raise BadRequest(f"督导方式“{'、'.join(bad)}”无效：应为电话访谈、现场核查或远程复核")
    if indicator_period:
        indicator_period = analysis.period_of(indicator_period, "指标期间").code
    codes = list(dict.fromkeys(c.strip() for c in units if c and c.strip()))
    if not codes:
        raise BadRequest("督导单位不能为空：至少选择一个下级单位")
    found = []
    for code in codes:
        unit = _unit(actor, code)
        if not unit.path.startswith(organiser.path):
            raise BadRequest(f"督导单位 {unit.name}（{code}）不在组织单位 {organiser.name} 的辖区内")
        found.append(unit)
    with transaction.atomic():
        r = SupervisionRound.objects.create(title=title, org_unit=organiser, period_no=period_no, start_date=start,
                                            end_date=end, methods=methods, leader=leader,
                                            indicator_period=indicator_period, created_by=actor.label)
        r.units.set(found)
    return r


def rounds(actor: Actor, org: str) -> list[SupervisionRound]:
    """Rounds organised by ``org`` or a unit below it, newest first."""
    unit = _unit(actor, org)
    return list(SupervisionRound.objects.filter(org_unit__path__startswith=unit.path).select_related("org_unit"))


@dataclass
class ItemRow:
    item: RectificationItem
    status: str  # as of the date asked, overdue included
    status_name: str
    history: list[ItemEvent] = field(default_factory=list)


@dataclass
class RoundView:
    round: SupervisionRound
    units: list[rm.OrgUnit]
    assignments: list[Assignment]
    visits: list[Visit]
    items: list[ItemRow]
    as_of: dt.date
    may_edit: bool


def round_view(actor: Actor, round_id: int, as_of: dt.date | None = None) -> RoundView:
    r = _round(actor, round_id)
    as_of = as_of or timezone.localdate()
    items = list(r.items.select_related("org_unit", "finding").prefetch_related("history"))
    return RoundView(
        round=r, units=list(r.units.order_by("code")),
        assignments=list(r.assignments.select_related("org_unit")),
        visits=list(r.visits.select_related("org_unit").prefetch_related("attachments")),
        items=[_row(i, as_of) for i in items], as_of=as_of, may_edit=may_supervise(actor))


# --- assignments and visits ---------------------------------------------------------------------------------
def assign(actor: Actor, round_id: int, *, person: str, org: str, kind: str, start_date, end_date=None) -> Assignment:
    """Make ``person`` answerable for unit ``org`` during the round: a county (分片包干) or a village (包村)."""
    _check_may(actor)
    r = _round(actor, round_id)
    if kind not in AssignmentKind.codes():
        raise BadRequest(f"包干方式“{kind}”无效：应为分片包干（县）或包村（村）")
    kind = AssignmentKind(kind)
    unit = _unit(actor, org)
    _in_round(r, unit)
    level = ASSIGNMENT_LEVEL[kind]
    if unit.level != level:
        raise BadRequest(f"{kind.zh}的单位应为{level.zh}，{unit.name}是{OrgLevel(unit.level).zh}")
    start = _date(start_date, "起始日期")
    end = _date(end_date, "截止日期", required=False)
    if end is not None and end < start:
        raise BadRequest(f"截止日期 {end} 早于起始日期 {start}")
    return Assignment.objects.create(round=r, kind=kind, person=_text(person, "person"), org_unit=unit,
                                     start_date=start, end_date=end, created_by=actor.label)


def attachment_folder() -> Path:
    return private_dir(Path(settings.DATA_DIR) / "supervision")


def record_visit(actor: Actor, round_id: int, *, org: str, visit_date, method: str, summary: str,
                 files: list[tuple[str, bytes]] = ()) -> Visit:
    """One check of one unit with what was found and the photos or documents attached (name, content)."""
    _check_may(actor)
    r = _round(actor, round_id)
    unit = _unit(actor, org)
    _in_round(r, unit)
    on = _date(visit_date, "督导日期")
    if on < r.start_date:
        raise BadRequest(f"督导日期 {on} 早于本次督导开始日期 {r.start_date}")
    if method not in RoundMethod.codes():
        raise BadRequest(f"督导方式“{method}”无效：应为电话访谈、现场核查或远程复核")
    summary = _text(summary, "summary")
    checked = []
    for name, content in files:
        name = Path(name or "").name[:200]
        ext = Path(name).suffix.lower()
        if ext not in ATTACHMENT_TYPES:
            raise BadRequest(f"附件“{name}”类型不支持：只接受 {'、'.join(sorted(ATTACHMENT_TYPES))}")
        if not content:
            raise BadRequest(f"附件“{name}”是空文件")
        if len(content) > ATTACHMENT_MAX_BYTES:
            raise BadRequest(f"附件“{name}”过大：不超过 {ATTACHMENT_MAX_BYTES // (1024 * 1024)} MB")
        checked.append((name, ext, content))
    folder = attachment_folder()
    written: list[Path] = []
    try:
        with transaction.atomic():
            v = Visit.objects.create(round=r, org_unit=unit, visit_date=on, method=method, summary=summary,
                                     created_by=actor.label)
            for name, ext, content in checked:
                digest = hashlib.sha256(content).hexdigest()
                # our own file name: the uploaded one is shown, never used as a path
                stored = f"{v.pk}-{secrets.token_hex(8)}{ext}"
                target = inside(folder, stored)
                with open_private(target, "wb") as f:
                    f.write(content)
                written.append(target)
                Attachment.objects.create(visit=v, name=name, stored=stored, content_type=ATTACHMENT_TYPES[ext],
                                          size=len(content), sha256=digest)
    except Exception:
        for path in written:  # the database rolled back: leave no orphan files
            path.unlink(missing_ok=True)
        raise
    return v


def attachment(actor: Actor, attachment_id: int) -> tuple[Attachment, Path]:
    """An attachment and its file, scoped by its round."""
    a = Attachment.objects.select_related("visit").filter(pk=attachment_id).first()
    if a is None:
        raise NotFound(f"附件 {attachment_id} 不存在")
    _round(actor, a.visit.round_id)
    return a, inside(attachment_folder(), a.stored)


# --- rectification items ------------------------------------------------------------------------------------
def add_item(actor: Actor, round_id: int, *, org: str, problem: str, owner: str, deadline, period_no=None,
             visit_id: int | None = None, finding_id: int | None = None) -> RectificationItem:
    """A rectification item (整改事项) of the round: deadline not before the round's date; period defaults to
    the round's (第N期); optionally the visit it came from and a QC finding of the ledger it concerns."""
    _check_may(actor)
    r = _round(actor, round_id)
    unit = _unit(actor, org)
    _in_round(r, unit)
    problem, owner = _text(problem, "problem"), _text(owner, "owner")
    due = _date(deadline, "整改期限")
    if due < r.start_date:
        raise BadRequest(f"整改期限 {due} 早于督导日期 {r.start_date}：整改期限不能早于督导日期")
    try:
        period = r.period_no if period_no in (None, "") else int(str(period_no).strip())
    except ValueError:
        raise BadRequest(f"整改期数“{period_no}”无效：应为正整数（第N期）") from None
    if period < r.period_no:
        raise BadRequest(f"整改期数 {period} 早于本次督导的第{r.period_no}期")
    visit = None
    if visit_id:
        visit = Visit.objects.filter(pk=visit_id, round=r).first()
        if visit is None:
            raise NotFound(f"督导记录 {visit_id} 不在本次督导中")
    finding = None
    if finding_id:
        finding = Finding.objects.select_related("org_unit").filter(pk=finding_id).first()
        if finding is None:
            raise NotFound(f"质控问题 {finding_id} 不存在")
        actor.check_path(finding.org_unit.path, f"质控问题 {finding_id}")
        if not finding.org_unit.path.startswith(unit.path):
            raise BadRequest(f"质控问题 {finding_id} 属于 {finding.org_unit.name}，不在整改单位 {unit.name} 之下")
    with transaction.atomic():
        item = RectificationItem.objects.create(
            round=r, visit=visit, org_unit=unit, problem=problem, owner=owner, deadline=due, period_no=period,
            status=ItemStatus.OPEN, status_date=r.start_date, finding=finding, created_by=actor.label)
        ItemEvent.objects.create(item=item, status=ItemStatus.OPEN, on=r.start_date, note="", actor_label=actor.label)
    return item


def set_status(actor: Actor, item_id: int, status: str, *, on, note: str = "", version: int | None = None
               ) -> RectificationItem:
    """Move an item: open → rectified → verified (销号), or rectified → open when the check finds it wanting.
    ``version``: the version the form showed (a stale form is refused, nothing overwritten)."""
    _check_may(actor)
    with transaction.atomic():
        item = RectificationItem.objects.select_for_update().select_related("round").filter(pk=item_id).first()
        if item is None:
            raise NotFound(f"整改事项 {item_id} 不存在")
        _round(actor, item.round_id)
        actor.check_path(item.org_unit.path, f"整改事项 {item_id}")
        if status not in ItemStatus.codes() or status == ItemStatus.OVERDUE:
            raise BadRequest(f"状态“{status}”无效：应为整改中、已整改或已核实销号（逾期由期限自动判断）")
        target, current = ItemStatus(status), ItemStatus(item.status)
        if target not in STATUS_MOVES[current]:
            raise BadRequest(f"整改事项 {item_id} 当前为“{current.zh}”，不能改为“{target.zh}”")
        if version is not None and version != item.version:
            raise BadRequest(f"整改事项 {item_id} 已被他人修改（版本 {item.version}），请刷新后再操作")
        day = _date(on, "日期")
        if day < item.status_date:
            raise BadRequest(f"日期 {day} 早于该事项上次状态日期 {item.status_date}")
        if day > timezone.localdate():
            raise BadRequest(f"日期 {day} 晚于今天")
        item.status, item.status_date, item.version = target, day, item.version + 1
        item.save(update_fields=["status", "status_date", "version"])
        ItemEvent.objects.create(item=item, status=target, on=day, note=_text(note, "note", required=False),
                                 actor_label=actor.label)
    return item


def status_as_of(item: RectificationItem, as_of: dt.date, events: list[ItemEvent] | None = None) -> ItemStatus:
    """The item's status on a date from its history; open past the deadline reads as overdue."""
    events = list(item.history.all()) if events is None else events
    current = ItemStatus.OPEN
    for e in sorted(events, key=lambda e: (e.on, e.at, e.pk)):
        if e.on <= as_of:
            current = ItemStatus(e.status)
    if current == ItemStatus.OPEN and item.deadline < as_of:
        return ItemStatus.OVERDUE
    return current


def _row(item: RectificationItem, as_of: dt.date) -> ItemRow:
    events = list(item.history.all())
    s = status_as_of(item, as_of, events)
    return ItemRow(item, s.value, s.zh, events)


# --- the period report --------------------------------------------------------------------------------------
@dataclass
class PeriodReport:
    code: str
    name: str
    period_no: int
    as_of: dt.date
    rounds: list[SupervisionRound]
    fixed: list[ItemRow]  # rectified or verified by the date
    overdue: list[ItemRow]
    open: list[ItemRow]  # still within their deadline
    indicator_period: str
    compare_period: str
    moved: list[Figure]  # the unit's own indicator figures whose rate changed since the previous period
    figures_ready: bool  # False: the period's indicator results are not in the store yet

    @property
    def total(self) -> int:
        return len(self.fixed) + len(self.overdue) + len(self.open)


def period_report(actor: Actor, org: str, period_no: int, *, as_of=None, indicator_period: str | None = None
                  ) -> PeriodReport:
    """The report data of rectification period ``period_no`` (第N期) for ``org``'s subtree as of a date: what
    was fixed, what is overdue, what is open, and the indicator figures that moved since the previous period
    (``indicator_period``, compared with the period before it: default the one its latest round names)."""
    unit = _unit(actor, org)
    day = _date(as_of, "截至日期", required=False) or timezone.localdate()
    items = list(RectificationItem.objects.filter(period_no=period_no, org_unit__path__startswith=unit.path)
                 .select_related("org_unit", "round").prefetch_related("history").order_by("deadline", "id"))
    rows = [_row(i, day) for i in items]
    round_ids = {i.round_id for i in items}
    # the period's rounds in the subtree, and those above it whose items concern this subtree
    rs = sorted(set(SupervisionRound.objects.filter(period_no=period_no, org_unit__path__startswith=unit.path))
                | set(SupervisionRound.objects.filter(pk__in=round_ids)), key=lambda r: (r.start_date, r.pk))
    chosen = indicator_period or next((r.indicator_period for r in reversed(rs) if r.indicator_period), "")
    moved, ready, before = [], True, ""
    if chosen:
        try:
            # the dashboard's reader: the stored indicators of that period only, never computed from a page
            report = dashboard.dashboard(actor, unit.code, chosen).report
        except (NotReady, NotFound):
            ready = False
        else:
            before = report.compare.code
            moved = [f for f in report.figures if f.unit_id == report.unit.id and f.change]
            if not report.previous_stored:
                ready = False
    fixed = {ItemStatus.RECTIFIED, ItemStatus.VERIFIED}
    return PeriodReport(
        code=unit.code, name=unit.name, period_no=period_no, as_of=day, rounds=rs,
        fixed=[r for r in rows if r.status in fixed], overdue=[r for r in rows if r.status == ItemStatus.OVERDUE],
        open=[r for r in rows if r.status == ItemStatus.OPEN], indicator_period=chosen, compare_period=before,
        moved=moved, figures_ready=ready)


def periods(actor: Actor, org: str) -> list[int]:
    """The period numbers with items or rounds in ``org``'s subtree, newest first."""
    unit = _unit(actor, org)
    nos = set(RectificationItem.objects.filter(org_unit__path__startswith=unit.path).values_list("period_no", flat=True))
    nos |= set(SupervisionRound.objects.filter(org_unit__path__startswith=unit.path).values_list("period_no", flat=True))
    return sorted(nos, reverse=True)
