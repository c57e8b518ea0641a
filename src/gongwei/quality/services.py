"""The quality workflow: store engine findings across evaluations, move them through their statuses, merge
duplicate records reversibly, close records from a list. Every step is transactional and logged."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection
from dataclasses import dataclass, field

import pyarrow as pa
from django.db import models, transaction
from django.utils import timezone

from gongwei.quality.models import (
    TRANSITIONS,
    Finding,
    FindingStatus,
    FindingTransition,
    LedgerVersion,
    Merge,
)
from gongwei.records import entry, schema, scoping
from gongwei.records import models as rm
from gongwei.spec.vocab import CLOSED_STATUSES, ChangeAction, ResidentStatus


class WorkflowError(ValueError):
    """A transition, merge or closure that the rules do not allow (message in Chinese)."""


# --- findings -------------------------------------------------------------------------------------
# an evaluation that adds or closes this many findings takes fresh planner statistics of the ledger (the pages'
# queries on it), rather than leave them to autovacuum (records.bulk.analyze)
ANALYZE_AFTER_ROWS = 10_000


@dataclass
class SyncResult:
    new: int = 0
    recurring: int = 0
    reopened: int = 0
    rectified: int = 0  # open findings no longer found: fixed in the data


def sync_findings(findings: pa.Table, *, snapshot_id: str, period: str, rulebook: str, rules: list[str],
                  actor_label: str = "系统评估", units: Collection[int] | None = None) -> SyncResult:
    """Store one evaluation's findings (columns of gongwei.engine.quality.evaluate) for ``rules``.

    New hits become open findings assigned to the responsible unit; hits seen before update their values;
    verified findings that recur are reopened; open findings of these rules that were not found again are
    recognised as rectified in the data. Bulk statements only.

    ``units``: the org units the evaluation covered (a subtree); open findings of other units are not
    judged rectified, since they were not looked at.
    """
    result = SyncResult()
    rows = findings.to_pylist()
    with transaction.atomic():
        existing = {(f.rule, f.table, f.record_id): f for f in Finding.objects.filter(rule__in=rules)}
        seen: set[tuple[str, str, int]] = set()
        create, update, transitions = [], [], []
        for r in rows:
            key = (r["rule"], r["table"], int(r["record_id"]))
            if key in seen:
                continue
            seen.add(key)
            values = json.loads(r["values"]) if isinstance(r.get("values"), str) and r["values"] else (r.get("values") or {})
            f = existing.get(key)
            if f is None:
                create.append(Finding(rule=r["rule"], table=r["table"], record_id=key[2], record_no=r["record_no"] or "",
                                      resident_id=r.get("resident_id"), org_unit_id=r["org_unit_id"],
                                      assigned_to_id=r["org_unit_id"], values=values, message=r["message"][:300],
                                      first_seen=snapshot_id, last_seen=snapshot_id, period=period, rulebook=rulebook))
                continue
            f.values, f.message, f.last_seen, f.period, f.rulebook = values, r["message"][:300], snapshot_id, period, rulebook
            if f.status == FindingStatus.VERIFIED or f.status == FindingStatus.RECTIFIED:
                transitions.append(FindingTransition(finding=f, from_status=f.status, to_status=FindingStatus.OPEN,
                                                     actor_label=actor_label, reason="再次发现", snapshot=snapshot_id))
                f.status = FindingStatus.OPEN
                result.reopened += 1
            else:
                result.recurring += 1
            update.append(f)
        Finding.objects.bulk_create(create, batch_size=5000)
        result.new = len(create)
        Finding.objects.bulk_update(update, ["values", "message", "last_seen", "period", "rulebook", "status"],
                                    batch_size=5000)
        scope = None if units is None else set(units)
        gone = [f for key, f in existing.items() if key not in seen and f.status == FindingStatus.OPEN
                and (scope is None or f.org_unit_id in scope)]
        for f in gone:
            transitions.append(FindingTransition(finding=f, from_status=FindingStatus.OPEN,
                                                 to_status=FindingStatus.RECTIFIED, actor_label=actor_label,
                                                 reason="数据已修正：本次评估未再发现", snapshot=snapshot_id))
            f.status = FindingStatus.RECTIFIED
        Finding.objects.bulk_update(gone, ["status"], batch_size=5000)
        result.rectified = len(gone)
        FindingTransition.objects.bulk_create(transitions, batch_size=5000)
        if create or update or gone:
            ledger_changed()
    if len(create) + len(gone) >= ANALYZE_AFTER_ROWS:
        from gongwei.records.bulk import analyze

        analyze(Finding, FindingTransition)
    return result


def transition(finding: Finding, to_status: str, *, actor=None, reason: str = "") -> Finding:
    allowed = TRANSITIONS[finding.status]
    if to_status not in allowed:
        raise WorkflowError(f"质控问题不能从“{FindingStatus(finding.status).label}”改为“{FindingStatus(to_status).label}”")
    if to_status == FindingStatus.DISMISSED and not reason.strip():
        raise WorkflowError("排除质控问题必须填写原因")
    if to_status == FindingStatus.VERIFIED:
        _check_verifier(finding, actor)
    with transaction.atomic():
        FindingTransition.objects.create(finding=finding, from_status=finding.status, to_status=to_status, actor=actor,
                                         actor_label=getattr(actor, "username", "") or "", reason=reason)
        finding.status = to_status
        finding.save(update_fields=["status", "updated_at"])
        ledger_changed()
    return finding


def _check_verifier(finding: Finding, actor) -> None:
    """Separation of duties: a rectification is verified by someone else, at a unit above the one responsible for
    it (a township verifies its villages, a county its townships); a system-wide login counts as above all."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise WorkflowError("核实整改须由上级单位的登录人员操作")
    last_rectifier = (FindingTransition.objects.filter(finding=finding, to_status=FindingStatus.RECTIFIED)
                      .order_by("-at", "-id").values_list("actor_id", flat=True).first())
    if last_rectifier == actor.pk:
        raise WorkflowError("标记整改的人员不能核实自己的整改（职责分离），请由上级单位人员核实")
    scope = scoping.scope_for(actor)
    unit = finding.assigned_to
    if scope.everything:
        return
    if not scope.path or not unit.path.startswith(scope.path) or unit.path == scope.path:
        raise WorkflowError(f"只有{unit.name}的上级单位人员可以核实其整改")


def reassign(finding: Finding, unit: rm.OrgUnit, *, actor=None, reason: str = "") -> Finding:
    with transaction.atomic():
        FindingTransition.objects.create(finding=finding, from_status=finding.status, to_status=finding.status,
                                         actor=actor, actor_label=getattr(actor, "username", "") or "",
                                         reason=f"整改单位改为 {unit.name}：{reason}".rstrip("："))
        finding.assigned_to = unit
        finding.save(update_fields=["assigned_to", "updated_at"])
        ledger_changed()
    return finding


def ledger_changed() -> None:
    """Bump the ledger's version (:class:`LedgerVersion`) in the caller's transaction. Called last in it: the
    row stays locked until the commit, and writers of the ledger wait for each other only that long."""
    if LedgerVersion.objects.filter(pk=1).update(number=models.F("number") + 1):
        return
    _, created = LedgerVersion.objects.get_or_create(pk=1, defaults={"number": 1})
    if not created:  # another writer created it meanwhile
        LedgerVersion.objects.filter(pk=1).update(number=models.F("number") + 1)


def ledger_version() -> int:
    """The ledger's version as committed (0 before its first write)."""
    return LedgerVersion.objects.filter(pk=1).values_list("number", flat=True).first() or 0


# --- merges ---------------------------------------------------------------------------------------
def _resident_references() -> list[tuple[type[models.Model], str]]:
    """Every (model, field) that points at a resident and moves with a merge.

    Not moved: the duplicate's own 个人基本信息表 (its primary key is the resident), the access log and its
    people (they record what was viewed), the duplicate's own password for seeing their record (it must not open
    the survivor's record; a merged record signs nobody in — ADR 021), the merge links themselves.
    """
    from django.apps import apps

    out = []
    for model in apps.get_app_config("records").get_models():
        if model in (rm.Resident, rm.HealthRecord, rm.AccessLog, rm.AccessedResident, rm.ResidentCredential):
            continue
        for f in model._meta.concrete_fields:
            if isinstance(f, models.ForeignKey) and f.related_model is rm.Resident:
                out.append((model, f.name))
    return sorted(out, key=lambda x: x[0]._meta.label)


_STATUS_FIELDS = ("status", "status_date", "status_reason", "merged_into_id")


def _versioned(model: type[models.Model]) -> bool:
    return any(f.name == "version" for f in model._meta.concrete_fields)


def _repoint(model: type[models.Model], fk: str, pks: list[int], *, frm: int, to: int, action: str,
             actor=None, reason: str = "") -> None:
    """Point ``fk`` of the rows ``pks`` from resident ``frm`` to ``to``: one UPDATE that also moves each row to
    its next version (so a form opened on it before is refused as stale, entry.check_version), and one
    ChangeLog row per row naming the merge, in one bulk insert."""
    if not pks:
        return
    attname = model._meta.get_field(fk).attname
    if not _versioned(model):  # audit and derived rows (who viewed whom, name pinyin): no form edits them
        model.objects.filter(pk__in=pks).update(**{fk: to})
        return
    model.objects.filter(pk__in=pks).update(**{fk: to}, version=models.F("version") + 1)
    versions = dict(model.objects.filter(pk__in=pks).values_list("pk", "version"))
    label = getattr(actor, "username", "") or ""
    rm.ChangeLog.objects.bulk_create([
        rm.ChangeLog(model=model._meta.label, object_pk=str(pk), action=action, actor=actor, actor_label=label,
                     before={attname: frm}, after={attname: to}, reason=reason[:500], version=versions[pk])
        for pk in pks], batch_size=5000)


def _merge_reason(action: str, duplicate_no: str, survivor_no: str, reason: str) -> str:
    head = f"档案 {duplicate_no} 合并至 {survivor_no}" if action == ChangeAction.MERGE else \
        f"撤销档案 {duplicate_no} 合并至 {survivor_no}"
    return f"{head}：{reason}" if reason else head


def _follow_moved_rows(moved: dict[str, list[int]], to: rm.Resident, *, reason: str, actor=None) -> int:
    """Point the findings on ``moved`` rows at ``to`` (person and record number), with a transition each.

    A finding is identified by (rule, table, record), not by the person, so it stays attached to its service
    while the service changes hands: merged into the survivor and, when the merge is undone, back to the
    duplicate — including findings first raised while the rows were on the survivor. Findings on the
    duplicate's own record (table ``residents`` / ``health_records``) concern that record and never move.
    """
    tables = {}
    for model, fk in _resident_references():
        try:
            tables[f"{model._meta.label}.{fk}"] = schema.table_for_model(model).name
        except KeyError:  # a model outside the exchange layout carries no findings
            continue
    actor_label = getattr(actor, "username", "") or ""
    changed = 0
    for key, pks in moved.items():
        table = tables.get(key)
        if table is None:
            continue
        for i in range(0, len(pks), 5000):
            chunk = pks[i:i + 5000]
            hits = list(Finding.objects.filter(table=table, record_id__in=chunk).exclude(resident=to)
                        .values_list("pk", "status"))
            if not hits:
                continue
            Finding.objects.filter(pk__in=[pk for pk, _ in hits]).update(
                resident=to, record_no=to.record_no, updated_at=timezone.now())
            FindingTransition.objects.bulk_create(
                [FindingTransition(finding_id=pk, from_status=st, to_status=st, actor=actor, actor_label=actor_label,
                                   reason=reason[:300]) for pk, st in hits], batch_size=5000)
            changed += len(hits)
    return changed


def merge(survivor: rm.Resident, duplicate: rm.Resident, *, actor=None, reason: str = "") -> Merge:
    """Merge ``duplicate`` into ``survivor``: re-point every service, enrolment and contract, mark the
    duplicate 已合并. Nothing is deleted; :func:`unmerge` restores the exact previous state."""
    with transaction.atomic():
        both = {r.pk: r for r in rm.Resident.objects.select_for_update().filter(pk__in=[survivor.pk, duplicate.pk])}
        if survivor.pk == duplicate.pk or len(both) != 2:
            raise WorkflowError("合并需要两份不同的档案")
        survivor, duplicate = both[survivor.pk], both[duplicate.pk]
        if duplicate.status == ResidentStatus.MERGED or duplicate.merged_into_id:
            raise WorkflowError(f"档案 {duplicate.record_no} 已合并，不能再次合并")
        if survivor.status == ResidentStatus.MERGED or survivor.merged_into_id:
            raise WorkflowError(f"保留档案 {survivor.record_no} 已被合并，请选择其合并后的档案")
        moved: dict[str, list[int]] = {}
        why = _merge_reason(ChangeAction.MERGE, duplicate.record_no, survivor.record_no, reason)
        for model, fk in _resident_references():
            qs = model.objects.filter(**{fk: duplicate})
            pks = sorted(qs.values_list("pk", flat=True))
            if pks:
                _repoint(model, fk, pks, frm=duplicate.pk, to=survivor.pk, action=ChangeAction.MERGE, actor=actor,
                         reason=why)
                moved[f"{model._meta.label}.{fk}"] = pks
        before = {f: _json(getattr(duplicate, f)) for f in _STATUS_FIELDS}
        rm.Resident.objects.filter(pk=duplicate.pk).update(
            status=ResidentStatus.MERGED, status_date=timezone.localdate(), merged_into=survivor,
            status_reason=f"合并至 {survivor.record_no}", version=models.F("version") + 1)
        duplicate.version = rm.Resident.objects.filter(pk=duplicate.pk).values_list("version", flat=True).get()
        record = Merge.objects.create(survivor=survivor, duplicate=duplicate, moved=moved, before=before,
                                      reason=reason, actor=actor, actor_label=getattr(actor, "username", "") or "")
        _follow_moved_rows(moved, survivor, actor=actor,
                           reason=f"档案 {duplicate.record_no} 合并至 {survivor.record_no}，问题随服务记录转至 {survivor.record_no}")
        counts = {k: len(v) for k, v in moved.items()}
        entry.record_change(duplicate, action=ChangeAction.MERGE, actor_user=actor, before=before,
                            after={"status": ResidentStatus.MERGED, "merged_into_id": survivor.pk, "moved": counts},
                            reason=why)
        entry.record_change(survivor, action=ChangeAction.MERGE, actor_user=actor, before=None,
                            after={"merged_from": duplicate.pk, "moved": counts, "merge_id": record.pk}, reason=reason)
    return record


def unmerge(record: Merge, *, actor=None, reason: str = "") -> Merge:
    """Undo a merge exactly: the recorded rows go back to the duplicate (and the findings on them with them),
    its status fields are restored."""
    with transaction.atomic():
        record = Merge.objects.select_for_update().get(pk=record.pk)
        if record.undone_at:
            raise WorkflowError("该合并已撤销")
        later = Merge.objects.filter(survivor=record.survivor, undone_at__isnull=True, pk__gt=record.pk).exists()
        if later:
            raise WorkflowError("保留档案之后又有合并，请先撤销较晚的合并")
        models_by_label = {f"{m._meta.label}.{fk}": (m, fk) for m, fk in _resident_references()}
        moved_back: dict[str, list[int]] = {}
        why = _merge_reason(ChangeAction.UNMERGE, record.duplicate.record_no, record.survivor.record_no, reason)
        for key, pks in record.moved.items():
            model, fk = models_by_label[key]
            rows = model.objects.filter(pk__in=pks, **{fk: record.survivor_id})
            moved_back[key] = sorted(rows.values_list("pk", flat=True))
            _repoint(model, fk, moved_back[key], frm=record.survivor_id, to=record.duplicate_id,
                     action=ChangeAction.UNMERGE, actor=actor, reason=why)
        restore = {f: record.before[f] for f in _STATUS_FIELDS}
        if restore["status_date"]:
            restore["status_date"] = dt.date.fromisoformat(restore["status_date"])
        rm.Resident.objects.filter(pk=record.duplicate_id).update(**restore, version=models.F("version") + 1)
        back = rm.Resident.objects.get(pk=record.duplicate_id)
        _follow_moved_rows(moved_back, back, actor=actor,
                           reason=f"撤销合并，问题随服务记录转回 {back.record_no}")
        record.undone_at = timezone.now()
        record.undone_by = getattr(actor, "username", "") or ""
        record.save(update_fields=["undone_at", "undone_by"])
        duplicate = rm.Resident.objects.get(pk=record.duplicate_id)
        entry.record_change(duplicate, action=ChangeAction.UNMERGE, actor_user=actor,
                            before={"status": ResidentStatus.MERGED, "merged_into_id": record.survivor_id},
                            after=record.before, reason=why)
    return record


def _json(value):
    return value.isoformat() if isinstance(value, dt.date) else value


# --- closing records from a list ----------------------------------------------------------------------
@dataclass
class CloseResult:
    closed: int = 0
    issues: list[str] = field(default_factory=list)


def close_from_list(rows: list[dict], *, actor=None) -> CloseResult:
    """Close records for death, migration, loss or refusal from a list (record_no, status, date, reason).

    The whole list is checked first; any problem rejects it whole with messages naming the row.
    """
    result = CloseResult()
    allowed = {s.value for s in CLOSED_STATUSES}
    residents = {r.record_no: r for r in rm.Resident.objects.filter(record_no__in=[x.get("record_no", "") for x in rows])}
    parsed = []
    for i, row in enumerate(rows, start=1):
        no, status, reason = (row.get("record_no") or "").strip(), (row.get("status") or "").strip(), row.get("reason") or ""
        r = residents.get(no)
        if r is None:
            result.issues.append(f"第 {i} 行：档案编号“{no}”不存在")
            continue
        if status not in allowed:
            result.issues.append(f"第 {i} 行：结案状态“{status}”无效（允许：{'、'.join(sorted(allowed))}）")
            continue
        try:
            on = dt.date.fromisoformat((row.get("date") or "").strip())
        except ValueError:
            result.issues.append(f"第 {i} 行：日期“{row.get('date')}”应为 YYYY-MM-DD")
            continue
        if on > timezone.localdate():
            result.issues.append(f"第 {i} 行：结案日期 {on} 晚于今天")
            continue
        if r.status != ResidentStatus.ACTIVE:
            result.issues.append(f"第 {i} 行：档案 {no} 状态为“{ResidentStatus(r.status).zh}”，不能结案")
            continue
        parsed.append((r, status, on, reason))
    if result.issues:
        return result
    with transaction.atomic():
        # the rows as checked above, still at the versions read: a record changed meanwhile refuses the list
        now_at = dict(rm.Resident.objects.select_for_update().filter(pk__in=[p[0].pk for p in parsed])
                      .values_list("pk", "version"))
        for r, *_ in parsed:
            if now_at.get(r.pk) != r.version:
                result.issues.append(f"档案 {r.record_no} 在核对后已被他人修改（第 {r.version} 版 → 第 {now_at.get(r.pk)} 版），"
                                     "整份名单未结案，请重新提交")
        if result.issues:
            return result
        logs = []
        for r, status, on, reason in parsed:
            before = {"status": r.status, "status_date": _json(r.status_date), "status_reason": r.status_reason}
            r.status, r.status_date, r.status_reason = status, on, reason
            r.version += 1
            logs.append(rm.ChangeLog(model=r._meta.label, object_pk=str(r.pk), action=ChangeAction.CLOSE, actor=actor,
                                     actor_label=getattr(actor, "username", "") or "", before=before,
                                     after={"status": status, "status_date": on.isoformat(), "status_reason": reason},
                                     reason=reason, version=r.version))
        rm.Resident.objects.bulk_update([p[0] for p in parsed], ["status", "status_date", "status_reason", "version"],
                                        batch_size=5000)
        rm.ChangeLog.objects.bulk_create(logs, batch_size=5000)
    result.closed = len(parsed)
    return result
