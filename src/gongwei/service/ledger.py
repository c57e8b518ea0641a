"""Use cases of the data-quality pages: the stored QC scorecard, the rectification ledger worked in bulk, the
duplicate review queue kept between snapshots, and closing records from an uploaded list with a preview.

Same contract as the rest of :mod:`gongwei.service`: every function takes the :class:`Actor`, refuses what lies
outside its subtree or role, audits every view of people and writes all or nothing. Pages read what a job
stored (the QC tally, the duplicate queue) and never run the rules or the duplicate finder on a request.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from gongwei.engine import scorecard as engine_scorecard
from gongwei.engine.orgs import OrgTree
from gongwei.files import make_private, private_dir
from gongwei.records import models as rm
from gongwei.service import audit, navigation, results, snapshots
from gongwei.service import quality as service_quality
from gongwei.service.access import Actor, unit_of_tree
from gongwei.service.analysis import Basis, Unit, period_of
from gongwei.service.errors import BadRequest, NotFound, NotReady, Refused
from gongwei.service.memo import ProcessMemo, file_identity
from gongwei.spec import catalogue as spec_catalogue
from gongwei.spec.periods import parse
from gongwei.spec.quality import rules as rulebook_rules
from gongwei.spec.verification import FINDING_RULES as VERIFICATION_RULES
from gongwei.spec.vocab import CLOSED_STATUSES, AccessKind, ResidentStatus


def _latest_snapshot():
    try:
        return snapshots.open_snapshot(None, take_if_missing=False)
    except NotFound:
        raise NotReady("尚无数据快照：请先运行快照任务（gongwei snapshot）") from None


def taken_time(basis: Basis | None) -> dt.datetime | None:
    """The snapshot's time as a datetime (pages show it in local time beside when the results were computed)."""
    try:
        return dt.datetime.fromisoformat(basis.taken_at) if basis else None
    except ValueError:
        return None


def _modified(path: Path) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)
    except OSError:
        return None


# --- the QC scorecard, from the store only ------------------------------------------------------------------
@dataclass
class QualityCard:
    report: service_quality.QcReport  # what gongwei.reports.quality renders (bulletin text, xlsx)
    periods: list[str]  # periods with a stored QC tally in this snapshot, newest first
    computed_at: dt.datetime | None  # when the job stored the tally


def stored_qc_periods(snapshot_id: str) -> list[str]:
    """Periods of a snapshot with a QC tally in the store, newest first."""
    probe = parse("2000")  # any period: the folder above a period's folder, and the file name in each
    root, name = results.folder(snapshot_id, probe).parent, results.qc_path(snapshot_id, probe).name
    return sorted((p.parent.name for p in root.glob(f"*/{name}")), reverse=True) if root.exists() else []


# Built scorecards by (snapshot, period, unit, rules, options, times of the stored tallies): the roll-up takes
# a few hundred milliseconds in DuckDB and a stored tally only changes by being replaced (new time).
_CARDS: dict[tuple, tuple[engine_scorecard.Scorecard, dict[str, int]]] = {}
_CARDS_KEPT = 256


def _build_card(snapshot_id: str, tree: OrgTree, unit: int, asked, before, codes: list[str], top: int,
                min_records: int) -> tuple[engine_scorecard.Scorecard, dict[str, int]]:
    units = pa.array(tree.subtree(unit), pa.int64())
    current = results.stored_qc_tally(snapshot_id, asked, codes)
    try:
        previous = results.stored_qc_tally(snapshot_id, before, codes)
    except NotReady:
        previous = None
    current = current.filter(pc.is_in(current.column("org_unit_id"), units))
    if previous is not None:
        previous = previous.filter(pc.is_in(previous.column("org_unit_id"), units))
    card = engine_scorecard.build(tree, unit, asked, current, codes=codes, previous=previous,
                                  previous_period_=before, top=top, min_examined=min_records)
    return card, engine_scorecard.examined_by_source(current)


def scorecard(actor: Actor, org: str, period: str | None = None, *, top: int = 3,
              min_records: int = 20) -> QualityCard:
    """The QC scorecard of ``org`` (findings by rule, per 1,000 records, change, rank, where they cluster) from
    the tally a QC job stored for the latest snapshot; :class:`NotReady` when none is stored. Default period:
    the newest stored. The change is given only when the previous period's tally holds the same rules."""
    snap = _latest_snapshot()
    tree = OrgTree.load(snap)
    unit = unit_of_tree(actor, tree, org)
    periods = stored_qc_periods(snap.id)
    if not period:
        if not periods:
            raise NotReady(f"快照 {snap.id} 尚无质控结果：请运行质控评估任务（gongwei findings 期间）")
        period = periods[0]
    asked = period_of(period)
    codes = results.stored_qc_rules(snap.id, asked)
    if not codes:
        raise NotReady(f"快照 {snap.id} 的 {asked.code} 质控结果尚未计算：请运行质控评估任务（gongwei findings {asked.code}）")
    before = engine_scorecard.previous_period(asked)
    key = (snap.id, asked.code, unit, tuple(codes), top, min_records,
           _modified(results.qc_path(snap.id, asked)), _modified(results.qc_path(snap.id, before)))
    card_examined = _CARDS.get(key)
    if card_examined is None:
        card_examined = _build_card(snap.id, tree, unit, asked, before, codes, top, min_records)
        while len(_CARDS) >= _CARDS_KEPT:
            _CARDS.pop(next(iter(_CARDS)), None)
        _CARDS[key] = card_examined
    card, examined = card_examined
    basis = Basis(snap.id, snap.taken_at, spec_catalogue.rulebook_version())
    path = results.qc_path(snap.id, asked)
    report = service_quality.QcReport(Unit.of(tree, unit), tree, card, examined, basis, basis, str(path), codes)
    return QualityCard(report, periods, _modified(path))


# --- the rectification ledger ---------------------------------------------------------------------------------
STATUS_LABELS = {"open": "待整改", "rectified": "已整改", "verified": "已核实", "dismissed": "已排除"}
ACTIONS = {"assign": "指派", "rectify": "标记已整改", "verify": "核实", "dismiss": "排除", "reopen": "重新打开"}
PAGE_SIZE = 50


@dataclass
class FindingRow:
    id: int
    rule: str
    rule_name: str
    record_no: str
    resident_name: str
    unit_code: str
    unit_name: str
    assigned_code: str
    assigned_name: str
    message: str
    status: str
    status_label: str
    period: str
    updated_at: dt.datetime
    last_by: str = ""  # who made the latest status change
    last_reason: str = ""


@dataclass
class FindingsPage:
    unit: navigation.Place
    rows: list[FindingRow]
    total: int
    page: int
    pages: int
    filters: dict[str, str]
    counts: dict[str, int]  # per status, under the other filters
    rules: list[tuple[str, str]]  # (code, name) of rules with findings in the unit
    periods: list[str]
    units: list[navigation.Place]  # units a finding may be assigned to (the actor's units under this one)
    may_work: bool  # assign, rectify, dismiss
    may_verify: bool


def _may_work(actor: Actor) -> bool:
    return actor.user is None or actor.user.has_perm("quality.change_finding")


def _scoped(actor: Actor, place: navigation.Place):
    """Findings whose responsible unit or assigned unit lies under ``place`` (checked against the actor)."""
    from gongwei.quality.models import Finding

    actor.check_path(place.path, f"机构 {place.label}")
    return _under(Finding.objects.all(), place.path)


def _under(qs, path: str):
    """Findings whose responsible or assigned unit lies under ``path``. By the subtree's unit ids (a few hundred at
    most, one indexed query), not by joining both units' paths: that join made PostgreSQL read every finding of
    the region for each of the page's queries (issue 10: 391 k findings, 0.4–1.6 s a query)."""
    ids = list(rm.OrgUnit.objects.filter(path__startswith=path).values_list("pk", flat=True))
    return qs.filter(Q(org_unit_id__in=ids) | Q(assigned_to_id__in=ids))


def _filters(qs, *, rule: str = "", status: str = "", unit: str = "", period: str = ""):
    if rule:
        qs = qs.filter(rule=rule)
    if status:
        if status not in STATUS_LABELS:
            raise BadRequest(f"状态“{status}”无效，应为：{'、'.join(STATUS_LABELS.values())}")
        qs = qs.filter(status=status)
    if unit:
        u = rm.OrgUnit.objects.filter(code=unit).first()
        if u is None:
            raise NotFound(f"机构代码 {unit} 不存在")
        qs = _under(qs, u.path)
    if period:
        qs = qs.filter(period=period_of(period).code)
    return qs


def _counts(qs, key: str) -> list[tuple[str, str, str, int]]:
    """(status, rule, period, findings) of ``qs``, kept in the pages cache under ``key``, which must name what
    ``qs`` selects and the ledger's version (:func:`gongwei.quality.services.ledger_version`)."""
    from django.core.cache import caches

    return caches["pages"].get_or_set(
        f"ledger-counts:{key}", lambda: list(qs.values_list("status", "rule", "period").annotate(n=Count("id"))
                                             .order_by()))


def findings(actor: Actor, org: str, *, rule: str = "", status: str = "open", unit: str = "", period: str = "",
             page: int = 1, size: int = PAGE_SIZE) -> FindingsPage:
    """One page of the rectification ledger under ``org``, filtered; audited (findings name residents)."""
    from gongwei.quality import services
    from gongwei.quality.models import FindingTransition

    if page < 1 or size < 1:
        raise BadRequest("页码和每页条数应为正整数")
    place = navigation.place(actor, org)
    base = _scoped(actor, place)
    if unit:
        navigation.place(actor, unit)  # refused outside the actor's subtree like the unit of the URL
    rule = rule.strip().upper()
    if rule and rule not in rulebook_rules() and rule not in VERIFICATION_RULES:
        raise BadRequest(f"未知的质控规则：{rule}")
    filtered = _filters(base, rule=rule, unit=unit, period=period)
    # one grouped pass over the unit's findings gives the rule and period choices and, without a unit filter, the
    # counts per status under the rule and period filters (they were three passes, each over every finding)
    # kept by the ledger's version: counting a county's findings is the costliest part of the page (issue 10)
    version = services.ledger_version()
    groups = _counts(base, f"{place.path}|{version}")
    wanted_period = period_of(period).code if period else ""
    groups_filtered = _counts(_filters(base, unit=unit), f"{place.path}|{unit}|{version}") if unit else groups
    counts = {s: 0 for s in STATUS_LABELS}
    per_rule: dict[str, int] = {}  # the findings listed, per rule
    for st, r, p, n in groups_filtered:
        if (not rule or r == rule) and (not wanted_period or p == wanted_period):
            counts[st] = counts.get(st, 0) + n
            if not status or st == status:
                per_rule[r] = per_rule.get(r, 0) + n
    qs = _filters(filtered, status=status).select_related("org_unit", "assigned_to", "resident")
    total = sum(per_rule.values())
    pages = max(1, -(-total // size))
    page = min(page, pages)
    chosen = _page_by_rule(qs, per_rule, (page - 1) * size, size)
    last = {}
    for t in (FindingTransition.objects.filter(finding_id__in=[f.pk for f in chosen])
              .order_by("finding_id", "at", "id").values("finding_id", "actor_label", "reason")):
        last[t["finding_id"]] = t
    names = {**rulebook_rules(), **VERIFICATION_RULES}  # findings raised by verification outcomes too (ADR 027)
    rows = [FindingRow(f.pk, f.rule, names[f.rule].name if f.rule in names else f.rule, f.record_no,
                       f.resident.name if f.resident else "", f.org_unit.code, f.org_unit.name, f.assigned_to.code,
                       f.assigned_to.name, f.message, f.status, STATUS_LABELS[f.status], f.period, f.updated_at,
                       last.get(f.pk, {}).get("actor_label", ""), last.get(f.pk, {}).get("reason", ""))
            for f in chosen]
    audit.viewed(actor, AccessKind.FINDINGS, scope=org, purpose="质控问题整改台账",
                 residents=[f.resident_id for f in chosen if f.resident_id])
    rule_codes = sorted({r for _, r, _, _ in groups})
    periods = sorted({p for _, _, p, _ in groups}, reverse=True)
    units = [navigation.Place.of(u) for u in rm.OrgUnit.objects.filter(path__startswith=place.path, is_active=True)
             .order_by("path") if actor.sees_path(u.path)]
    return FindingsPage(place, rows, total, page, pages,
                        {"rule": rule, "status": status, "unit": unit, "period": period}, counts,
                        [(c, names[c].name if c in names else c) for c in rule_codes], periods, units,
                        _may_work(actor), _may_work(actor))


def _page_by_rule(qs, per_rule: dict[str, int], offset: int, size: int) -> list:
    """The findings from ``offset`` in the list's order (rule, unit code, record number). The counts per rule say
    which rules the page spans and where it starts in each, so each query sorts one rule's findings, not all of a
    county's (issue 10: sorting a county's open findings by unit code was most of the page's database time)."""
    chosen: list = []
    start = 0
    for code in sorted(per_rule):
        n = per_rule[code]
        if start + n > offset:
            skip = max(0, offset - start)
            chosen += qs.filter(rule=code).order_by("org_unit__code", "record_no", "id")[skip:skip + size - len(chosen)]
            if len(chosen) >= size:
                break
        start += n
    return chosen


@dataclass
class BulkResult:
    action: str
    done: int
    refused: list[str] = field(default_factory=list)  # one Chinese message per refused finding

    @property
    def text(self) -> str:
        return f"已{ACTIONS[self.action]} {self.done} 个质控问题"


def act(actor: Actor, ids: list[int], action: str, *, reason: str = "", unit: str = "") -> BulkResult:
    """Apply one action to the chosen findings, all or nothing: ``assign`` (to ``unit``, in the actor's scope),
    ``rectify``, ``verify``, ``dismiss`` (``reason`` required), ``reopen``. Separation of duties is the
    workflow's (:func:`gongwei.quality.services.transition`); any refused finding refuses the whole batch with
    one message per finding (:class:`BulkRefused`)."""
    from gongwei.quality import services
    from gongwei.quality.models import Finding, FindingStatus

    if action not in ACTIONS:
        raise BadRequest(f"操作“{action}”无效，应为：{'、'.join(ACTIONS.values())}")
    if not ids:
        raise BadRequest("请先勾选要处理的质控问题")
    if not _may_work(actor):
        raise Refused("您的角色只能查看质控问题，不能指派、整改、核实或排除")
    reason = reason.strip()
    if action == "dismiss" and not reason:
        raise BadRequest("排除质控问题必须填写原因（“原因”一栏不能为空）")
    if len(reason) > 250:
        raise BadRequest("原因不能超过 250 个字")
    target = None
    if action == "assign":
        if not unit:
            raise BadRequest("指派须选择整改单位")
        target = rm.OrgUnit.objects.filter(code=unit, is_active=True).first()
        if target is None:
            raise NotFound(f"整改单位 {unit} 不存在")
        actor.check_path(target.path, f"整改单位 {target.name}（{target.code}）")
    wanted = list(dict.fromkeys(int(i) for i in ids))
    refused: list[str] = []
    with transaction.atomic():
        found = {f.pk: f for f in Finding.objects.select_for_update().filter(pk__in=wanted)
                 .select_related("org_unit", "assigned_to")}
        for pk in wanted:
            f = found.get(pk)
            if f is None:
                refused.append(f"问题 #{pk}：不存在")
                continue
            label = f"问题 #{pk}（{f.rule} {f.record_no}）"
            if not (actor.sees_path(f.org_unit.path) or actor.sees_path(f.assigned_to.path)):
                refused.append(f"{label}：不在您的权限范围内")
                continue
            try:
                if action == "assign":
                    services.reassign(f, target, actor=actor.user, reason=reason)
                else:
                    to = {"rectify": FindingStatus.RECTIFIED, "verify": FindingStatus.VERIFIED,
                          "dismiss": FindingStatus.DISMISSED, "reopen": FindingStatus.OPEN}[action]
                    services.transition(f, to, actor=actor.user, reason=reason)
            except services.WorkflowError as exc:
                refused.append(f"{label}：{exc}")
        if refused:
            transaction.set_rollback(True)
    if refused:
        raise BulkRefused(action, refused)
    return BulkResult(action, len(wanted))


class BulkRefused(Refused):
    """A bulk action refused whole; ``items`` says why for each finding that could not be changed."""

    def __init__(self, action: str, items: list[str]):
        self.action, self.items = action, items
        super().__init__(f"{ACTIONS[action]}未执行：{len(items)} 个问题不能{ACTIONS[action]}（全部未更改）")


# --- the duplicate review queue, stored per snapshot and unit ------------------------------------------------------
@dataclass
class Side:
    record_no: str
    name: str
    sex: str
    birth: str  # the date, or the age for a masked role
    id_number: str
    phone: str
    address: str
    unit: str
    status: str
    created_on: str


@dataclass
class Pair:
    rank: int
    kind: str
    probability: float
    agree: str
    left: Side
    right: Side
    state: str  # pending, merged, distinct
    state_label: str
    by: str = ""

    @property
    def rows(self) -> list[tuple[str, str, str, bool]]:
        """(field, left, right, differ) for the side-by-side table: a reviewer looks where the records differ."""
        out = []
        for name, label in SIDE_FIELDS:
            a, b = getattr(self.left, name), getattr(self.right, name)
            out.append((label, a, b, a != b))
        return out


SIDE_FIELDS = (("record_no", "档案编号"), ("name", "姓名"), ("sex", "性别"), ("birth", "出生日期/年龄"),
               ("id_number", "身份证号"), ("phone", "电话"), ("address", "现住址"), ("unit", "管理单位"),
               ("created_on", "建档日期"), ("status", "档案状态"))


@dataclass
class DuplicateQueue:
    unit: navigation.Place
    pairs: list[Pair]
    counts: dict[str, int]
    state: str
    page: int
    pages: int
    basis: Basis | None
    computed_at: dt.datetime | None
    summary: dict
    may_decide: bool


STATES = {"pending": "待复核", "merged": "已合并", "distinct": "非重复", "all": "全部"}


def queue_path(snapshot_id: str, org: str) -> Path:
    return Path(snapshots.results_root()) / snapshot_id / "duplicates" / f"{org}.parquet"


def store_duplicates(actor: Actor, org: str, *, snapshot: str | None = None, threshold: float | None = None,
                     notice=None, progress=None) -> Path:
    """Run the duplicate finder over ``org``'s subtree (a job or the command line: Splink takes minutes on a
    county) and keep its queue for the review page, with each record's unit path for scoping."""
    found = service_quality.duplicates(actor, org, threshold=threshold, snapshot=snapshot, notice=notice,
                                       progress=progress)
    queue = found.result.queue
    nos = list(dict.fromkeys([*queue.column("survivor").to_pylist(), *queue.column("duplicate").to_pylist()]))
    paths: dict[str, str] = {}
    for i in range(0, len(nos), 900):
        paths.update(rm.Resident.objects.filter(record_no__in=nos[i:i + 900])
                     .values_list("record_no", "managing_unit__path"))
    queue = queue.append_column("survivor_path", pa.array([paths.get(n, "") for n in queue.column("survivor")
                                                           .to_pylist()], pa.string()))
    queue = queue.append_column("duplicate_path", pa.array([paths.get(n, "") for n in queue.column("duplicate")
                                                             .to_pylist()], pa.string()))
    meta = {"summary": json.dumps(found.result.summary, ensure_ascii=False, default=str),
            "taken_at": found.basis.taken_at, "org": org}
    path = queue_path(found.basis.snapshot_id, org)
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    pq.write_table(queue.replace_schema_metadata(meta), tmp)
    make_private(tmp)
    os.replace(tmp, path)  # a page reading meanwhile sees the old queue or the new one
    return path


def _stored_queue(place: navigation.Place) -> tuple[pa.Table, Basis, Path] | None:
    """The newest stored queue covering ``place``: its own, or one of a unit above it (filtered later)."""
    snap = _latest_snapshot()
    chain = [int(x) for x in place.path.strip("/").split("/") if x]
    codes = dict(rm.OrgUnit.objects.filter(pk__in=chain).values_list("pk", "code"))
    for pk in reversed(chain):
        path = queue_path(snap.id, codes.get(pk, ""))
        if path.exists():
            try:
                return _read_queue(path), Basis(snap.id, snap.taken_at, spec_catalogue.rulebook_version()), path
            except (OSError, pa.ArrowInvalid):
                return None
    return None


# The stored queues and their reviewed state, per process (issue 10 speed; service.memo): an entry is valid for as
# long as the queue file and the decisions' version (_decisions_version) are the same. A page then converts only
# the pairs it shows to Python.
_queues = ProcessMemo(keep=64)


def _read_queue(path: Path) -> pa.Table:
    return _queues.get_or_make(("file", *file_identity(path)), lambda: pq.read_table(path))


def _decisions_version() -> tuple:
    """What changes whenever a merge or a not-a-duplicate decision is made or undone (rows are never deleted:
    a decision is undone by setting its time)."""
    from django.db.models import Max

    from gongwei.quality.models import Merge, PairReview

    return tuple(tuple(model.objects.aggregate(n=Count("pk"), last=Max("pk"), at=Max(made), undone=Count("undone_at"),
                                               undone_at=Max("undone_at")).values())
                 for model, made in ((Merge, "merged_at"), (PairReview, "at")))


def _pair_key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


@dataclass(frozen=True)
class _Reviewed:
    """The pairs of a queue inside one place, with each pair's state (pending, merged, distinct) and who decided."""
    pairs: pa.Table
    state: pa.Array
    by: pa.Array
    counts: dict[str, int]


def _reviewed(table: pa.Table, place_path: str) -> _Reviewed:
    from gongwei.quality.models import Merge, PairReview

    inside = pc.and_(pc.starts_with(table.column("survivor_path"), place_path),
                     pc.starts_with(table.column("duplicate_path"), place_path))
    pairs = table.filter(inside)
    survivor, duplicate = pairs.column("survivor"), pairs.column("duplicate")
    nos = pc.unique(pa.concat_arrays([survivor.combine_chunks(), duplicate.combine_chunks()])).to_pylist()
    merged: dict[tuple[str, str], str] = {}
    distinct: dict[tuple[str, str], str] = {}
    for i in range(0, len(nos), 900):
        chunk = nos[i:i + 900]
        for s, d, who in (Merge.objects.filter(undone_at__isnull=True, duplicate__record_no__in=chunk)
                          .values_list("survivor__record_no", "duplicate__record_no", "actor_label")):
            merged[_pair_key(s, d)] = who
        for a, b, who in (PairReview.objects.filter(undone_at__isnull=True, first__in=chunk)
                          .values_list("first", "second", "actor_label")):
            distinct[(a, b)] = who
    # the pair's key as the decisions store it: the smaller record number first
    less = pc.less(survivor, duplicate)
    key = pc.binary_join_element_wise(pc.if_else(less, survivor, duplicate), pc.if_else(less, duplicate, survivor),
                                      "\x1f")
    state = pa.array(["pending"] * len(pairs), pa.string())
    by = pa.array([""] * len(pairs), pa.string())
    for name, decided in (("distinct", distinct), ("merged", merged)):  # merged wins, as before
        if not decided:
            continue
        keys = pa.array(["\x1f".join(k) for k in decided], pa.string())
        where = pc.index_in(key, keys)
        hit = pc.is_valid(where)
        state = pc.if_else(hit, name, state)
        by = pc.if_else(hit, pc.take(pa.array(list(decided.values()), pa.string()), where), by)
    counts = {s: pc.sum(pc.equal(state, s)).as_py() or 0 for s in ("pending", "merged", "distinct")}
    counts["all"] = len(pairs)
    return _Reviewed(pairs, state, by, counts)


def duplicate_queue(actor: Actor, org: str, *, state: str = "pending", page: int = 1,
                    size: int = 20) -> DuplicateQueue:
    """The stored review queue under ``org``: both records of each pair side by side (masked per role), with
    what was decided (merged, not a duplicate). Audited."""
    if state not in STATES:
        raise BadRequest(f"复核状态“{state}”无效，应为：{'、'.join(STATES.values())}")
    if page < 1:
        raise BadRequest("页码应为正整数")
    place = navigation.place(actor, org)
    may = actor.user is None or actor.user.has_perm("quality.change_merge")
    stored = _stored_queue(place)
    if stored is None:
        return DuplicateQueue(place, [], {s: 0 for s in STATES}, state, 1, 1, None, None, {}, may)
    table, basis, path = stored
    try:
        key = ("reviewed", *file_identity(path), place.path, _decisions_version())
    except OSError:  # replaced between the read and now: this request reads what it read
        key = ("reviewed", uuid.uuid4().hex)
    got = _queues.get_or_make(key, lambda: _reviewed(table, place.path))
    chosen = (pa.array(range(len(got.pairs)), pa.int64()) if state == "all"
              else pc.indices_nonzero(pc.equal(got.state, state)))
    pages = max(1, -(-len(chosen) // size))
    page = min(page, pages)
    chosen = chosen[(page - 1) * size: page * size]
    rows = got.pairs.take(chosen).to_pylist()
    states, bys = pc.take(got.state, chosen).to_pylist(), pc.take(got.by, chosen).to_pylist()
    shown = {r["survivor"] for r in rows} | {r["duplicate"] for r in rows}
    people = {r.record_no: r for r in rm.Resident.objects.filter(record_no__in=shown)
              .select_related("managing_unit", "health_record")}
    pairs = [Pair(r["rank"], r["kind"], float(r["match_probability"] or 0), r["agree"] or "",
                  _side(actor, people.get(r["survivor"]), r, "survivor"),
                  _side(actor, people.get(r["duplicate"]), r, "duplicate"),
                  st, STATES[st], by) for r, st, by in zip(rows, states, bys, strict=True)]
    audit.viewed(actor, AccessKind.DUPLICATES, scope=org, purpose="重复档案复核队列",
                 residents=[p.pk for p in people.values()])
    meta = table.schema.metadata or {}
    summary = json.loads(meta.get(b"summary", b"{}"))
    return DuplicateQueue(place, pairs, got.counts, state, page, pages, basis, _modified(path), summary, may)


def _side(actor: Actor, person, row: dict, which: str) -> Side:
    if person is None:  # gone from the database since the snapshot (never deleted, so only a renumbered record)
        return Side(row[which], row[f"{which}_name"], "", str(actor.shown_birth(row[f"{which}_birth_date"]) or ""),
                    "", "", "", row[f"{which}_unit"], "不存在", "")
    record = getattr(person, "health_record", None)
    birth = actor.shown_birth(person.birth_date)
    return Side(person.record_no, person.name, {"1": "男", "2": "女"}.get(person.sex, "未说明"),
                birth.isoformat() if hasattr(birth, "isoformat") else str(birth or ""),
                actor.mask_id(person.id_number) or "", actor.mask_phone(person.phone) or "", person.address or "",
                person.managing_unit.name, ResidentStatus(person.status).zh,
                record.created_on.isoformat() if record is not None and record.created_on else "")


def _queued_pair(actor: Actor, org: str, first: str, second: str) -> None:
    """Refuse a pair that is not in the stored queue under ``org`` (a form cannot name any two records)."""
    place = navigation.place(actor, org)
    stored = _stored_queue(place)
    if stored is None:
        raise NotFound("重复档案复核队列尚未生成")
    t = stored[0]
    key = _pair_key(first, second)
    hit = pc.or_(pc.and_(pc.equal(t.column("survivor"), key[0]), pc.equal(t.column("duplicate"), key[1])),
                 pc.and_(pc.equal(t.column("survivor"), key[1]), pc.equal(t.column("duplicate"), key[0])))
    if not pc.any(hit).as_py():
        raise NotFound(f"档案 {first} 与 {second} 不在重复档案复核队列中")


def decide(actor: Actor, org: str, survivor: str, duplicate: str, decision: str, *, reason: str = "") -> str:
    """A reviewer's decision on a queued pair: ``merge`` (the duplicate into the survivor), ``unmerge``,
    ``distinct`` (not a duplicate: kept, the pair leaves the queue), ``undistinct``. Returns the message."""
    from gongwei.quality.models import PairReview

    if decision not in ("merge", "unmerge", "distinct", "undistinct"):
        raise BadRequest(f"复核操作“{decision}”无效")
    if actor.user is not None and not actor.user.has_perm("quality.change_merge"):
        raise Refused("您的角色不能合并档案或判定重复档案，请由乡镇管理员处理")
    _queued_pair(actor, org, survivor, duplicate)
    reason = reason.strip()[:250]
    if decision == "merge":
        service_quality.merge(actor, survivor, duplicate, reason=reason or "重复档案复核")
        return f"已将档案 {duplicate} 合并至 {survivor}（可撤销）"
    if decision == "unmerge":
        service_quality.unmerge(actor, duplicate, reason=reason or "撤销合并")
        return f"已撤销档案 {duplicate} 的合并"
    for no in (survivor, duplicate):
        service_quality._resident(actor, no)  # both records in scope
    first, second = _pair_key(survivor, duplicate)
    active = PairReview.objects.filter(first=first, second=second, undone_at__isnull=True)
    if decision == "distinct":
        if active.exists():
            raise BadRequest(f"档案 {first} 与 {second} 已判定为非重复")
        PairReview.objects.create(first=first, second=second, reason=reason, actor=actor.user,
                                  actor_label=actor.label[:150])
        return f"已判定档案 {first} 与 {second} 不是重复档案，不再列入复核队列"
    changed = active.update(undone_at=timezone.now(), undone_by=actor.label[:150])
    if not changed:
        raise BadRequest(f"档案 {first} 与 {second} 没有未撤销的非重复判定")
    return f"已撤销“非重复”判定，档案 {first} 与 {second} 重新列入复核队列"


# --- closing records from an uploaded list ----------------------------------------------------------------------
CLOSE_COLUMNS = ("record_no", "status", "date", "reason")
CLOSE_STATUS = {s.zh: s.value for s in CLOSED_STATUSES} | {s.value: s.value for s in CLOSED_STATUSES}
MAX_CLOSE_ROWS = 10_000


def read_close_list(data: bytes) -> list[dict]:
    """The rows of an uploaded closing list (UTF-8 CSV with the header record_no,status,date,reason). A file
    that is not that list is refused with one message and nothing read."""
    if not data or not data.strip():
        raise BadRequest("上传的文件为空：请上传含表头 record_no,status,date,reason 的 CSV 文件")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("上传的文件不是 UTF-8 编码的 CSV（如用 Excel 保存，请选“CSV UTF-8（逗号分隔）”）") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    if header != list(CLOSE_COLUMNS):
        raise BadRequest(f"文件表头应为 {','.join(CLOSE_COLUMNS)}，而不是“{','.join(header)[:80]}”")
    reader.fieldnames = header
    rows = []
    for row in reader:
        if None in row:
            raise BadRequest(f"第 {len(rows) + 1} 行的列数多于表头（应为 4 列：{','.join(CLOSE_COLUMNS)}）")
        if not any((v or "").strip() for v in row.values()):
            continue
        rows.append({k: (v or "").strip() for k, v in row.items()})
        if len(rows) > MAX_CLOSE_ROWS:
            raise BadRequest(f"一次最多结案 {MAX_CLOSE_ROWS:,} 份档案，请分批上传")
    if not rows:
        raise BadRequest("文件只有表头，没有要结案的档案")
    for r in rows:
        r["status"] = CLOSE_STATUS.get(r["status"], r["status"])
    return rows


@dataclass
class CloseLine:
    line: int
    record_no: str
    name: str
    unit: str
    status: str
    date: str
    reason: str
    problems: list[str]


@dataclass
class ClosePreview:
    lines: list[CloseLine]
    problems: int

    @property
    def ok(self) -> bool:
        return self.problems == 0 and bool(self.lines)


_ROW = re.compile(r"^第 (\d+) 行：")


def _may_close(actor: Actor) -> None:
    if actor.user is not None and not actor.user.has_perm("records.change_resident"):
        raise Refused("您的角色不能结案居民档案")


def preview_close(actor: Actor, org: str, rows: list[dict]) -> ClosePreview:
    """What closing this list would do, row by row, and the problems of each row (scope, unknown record, bad
    status or date, a record listed twice, a record not in management). Changes nothing; audited, since it
    names residents."""
    from gongwei.quality import services

    _may_close(actor)
    place = navigation.place(actor, org)
    nos = [r["record_no"] for r in rows]
    people = {r.record_no: r for r in rm.Resident.objects.filter(record_no__in=nos).select_related("managing_unit")}
    lines, first_line = [], {}
    for i, r in enumerate(rows, start=1):
        p = people.get(r["record_no"])
        problems = []
        if p is not None and not p.managing_unit.path.startswith(place.path):
            problems.append(f"档案不属于{place.name}（管理单位 {p.managing_unit.name}）"
                            if actor.sees_path(p.managing_unit.path) else "档案不在您的权限范围内")
        if r["record_no"] in first_line:
            problems.append(f"与第 {first_line[r['record_no']]} 行重复")
        first_line.setdefault(r["record_no"], i)
        shown = p is not None and actor.sees_path(p.managing_unit.path)
        label = {s.value: s.zh for s in ResidentStatus}.get(r["status"], r["status"])
        lines.append(CloseLine(i, r["record_no"], p.name if shown else "", p.managing_unit.name if shown else "",
                               label, r["date"], r["reason"], problems))
    # the workflow's own checks, run and rolled back, so the preview says exactly what the confirmation would
    with transaction.atomic():
        checked = services.close_from_list(rows, actor=actor.user)
        transaction.set_rollback(True)
    for issue in checked.issues:
        m = _ROW.match(issue)
        if m and 1 <= int(m.group(1)) <= len(lines):
            lines[int(m.group(1)) - 1].problems.append(issue[m.end():])
    audit.viewed(actor, AccessKind.LIST, scope=org, purpose="结案名单预览",
                 residents=[p.pk for p in people.values() if actor.sees_path(p.managing_unit.path)])
    return ClosePreview(lines, sum(len(x.problems) for x in lines))


def close_list(actor: Actor, org: str, rows: list[dict]) -> int:
    """Close every record of the list, or none: the preview's checks run again at confirmation (the data
    may have changed since), then :func:`gongwei.service.quality.close_from_list` writes in one transaction."""
    preview = preview_close(actor, org, rows)
    if not preview.ok:
        first = next(x for x in preview.lines if x.problems)
        raise BadRequest(f"名单有 {preview.problems} 个问题，全部未结案（如第 {first.line} 行：{first.problems[0]}）")
    done = service_quality.close_from_list(actor, rows)
    if done.issues:  # changed between the check and the write
        raise BadRequest(f"名单有问题，全部未结案：{done.issues[0]}")
    return done.closed
