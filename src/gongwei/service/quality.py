"""Use cases of data quality: QC scorecards, findings into the rectification ledger, duplicates, merge, close.

Same contract as :mod:`gongwei.service.analysis`: the actor's scope is checked on the unit asked for (and on
every resident written), results come from the store when they are there, views of people are audited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from gongwei.engine import quality as engine_quality
from gongwei.engine import scorecard
from gongwei.engine.backends import Engine
from gongwei.engine.orgs import OrgTree
from gongwei.records import models as rm
from gongwei.service import audit, results, snapshots
from gongwei.service.access import Actor, check_resident, unit_of_tree
from gongwei.service.analysis import Basis, Notice, Unit, _basis, _engine, period_of
from gongwei.service.errors import BadRequest, NotFound, Refused
from gongwei.spec import catalogue as spec_catalogue
from gongwei.spec.periods import Period
from gongwei.spec.quality import rules as rulebook_rules
from gongwei.spec.vocab import AccessKind

RuleProgress = Callable[[str], None]


def implemented_rules() -> list[str]:
    """Rulebook codes that have an evaluator, in rulebook order."""
    impl = engine_quality.evaluators()
    return [c for c in rulebook_rules() if c in impl]


def rule_codes(text: str | None) -> list[str]:
    """Codes from a comma-separated list, checked against the rulebook and the evaluators (default: all)."""
    if not text:
        codes = implemented_rules()
        if not codes:
            raise BadRequest("尚无已实现的质控规则")
        return codes
    canonical = {c.upper(): c for c in rulebook_rules()}  # typed in any case: f-03b → F-03b
    codes = list(dict.fromkeys(canonical.get(c.strip().upper(), c.strip().upper()) for c in text.split(",") if c.strip()))
    unknown = [c for c in codes if c not in rulebook_rules()]
    if unknown:
        raise BadRequest(f"未知的质控规则：{', '.join(unknown)}")
    absent = [c for c in codes if c not in engine_quality.evaluators()]
    if absent:
        raise BadRequest(f"质控规则尚未实现：{', '.join(absent)}")
    return codes


def _subtree_tally(t: pa.Table, units: list[int]) -> pa.Table:
    return t.filter(pc.is_in(t.column("org_unit_id"), pa.array(units, pa.int64())))


# --- scorecards ------------------------------------------------------------------------------------------------
@dataclass
class QcReport:
    unit: Unit
    tree: OrgTree  # for place names in wording (a township under its county: 崆峒区峡门乡)
    card: scorecard.Scorecard
    examined: dict[str, int]  # records examined per source table in the unit's subtree
    basis: Basis
    compare_basis: Basis
    results_file: str
    rules: list[str]
    ledger: object | None = None  # quality.services.SyncResult when findings were kept


def qc_scorecard(actor: Actor, org: str, period: str, *, rules: str | None = None, compare: str | None = None,
                 compare_snapshot: str | None = None, top: int = 3, min_records: int = 20, store: bool = False,
                 snapshot: str | None = None, backend: str = "duckdb", notice: Notice | None = None,
                 progress: Callable[[str, int], RuleProgress] | None = None) -> QcReport:
    """Findings per rule and per 1,000 records for ``org`` and its children, change since the previous period,
    rank among siblings, and where problems cluster. ``store``: keep this evaluation's findings of the
    unit's subtree in the rectification ledger. ``progress(label, total)`` returns a per-rule callback."""
    asked = period_of(period)
    before = period_of(compare, "对比期间") if compare else scorecard.previous_period(asked)
    codes = rule_codes(rules)
    if top < 1 or min_records < 0:
        raise BadRequest("--top 应为正整数，--min-records 不能为负数")
    eng, tree = _engine(snapshot, backend, notice)
    unit = unit_of_tree(actor, tree, org)
    units = tree.subtree(unit)
    step = progress(f"质控 {asked.code}", len(codes)) if progress else None
    ledger = None
    if store:
        findings = engine_quality.evaluate(eng, asked, codes, units=units, progress=step)
        whole = len(units) == len(tree.ids)
        current = results.qc_tally(eng, asked, codes, findings=findings if whole else None)
        ledger = _keep(actor, findings, eng, asked, codes, units)
    else:
        current = results.qc_tally(eng, asked, codes, progress=step)
    prev_eng = eng
    if compare_snapshot:
        prev_eng = Engine(snapshots.open_snapshot(compare_snapshot), backend)
        if notice:
            notice(f"对比期间 {before.code} 使用快照 {prev_eng.snapshot.id}（{prev_eng.snapshot.taken_at}）")
    step = progress(f"质控 {before.code}", len(codes)) if progress else None
    previous = results.qc_tally(prev_eng, before, codes, progress=step)
    current, previous = _subtree_tally(current, units), _subtree_tally(previous, units)
    card = scorecard.build(tree, unit, asked, current, codes=codes, previous=previous, previous_period_=before,
                           top=top, min_examined=min_records)
    return QcReport(Unit.of(tree, unit), tree, card, scorecard.examined_by_source(current), _basis(eng),
                    _basis(prev_eng), str(results.qc_path(eng.snapshot.id, asked)), codes, ledger)


def _keep(actor: Actor, findings: pa.Table, eng: Engine, period: Period, codes: list[str], units: list[int]):
    from gongwei.quality import services

    return services.sync_findings(findings, snapshot_id=eng.snapshot.id, period=period.code,
                                  rulebook=spec_catalogue.rulebook_version(), rules=codes, units=units,
                                  actor_label=f"系统评估（{actor.label}）")


@dataclass
class Evaluation:
    basis: Basis
    found: int
    ledger: object  # quality.services.SyncResult


def evaluate_findings(actor: Actor, period: str, *, rules: str | None = None, snapshot: str | None = None,
                      notice: Notice | None = None, progress: Callable[[str, int], RuleProgress] | None = None
                      ) -> Evaluation:
    """Run the QC rules over the actor's subtree and keep the findings in the ledger (``gongwei findings``)."""
    asked = period_of(period)
    codes = rule_codes(rules)
    eng, tree = _engine(snapshot, "duckdb", notice)
    if actor.scope.nothing:
        raise Refused("您的登录未分配机构，不能运行质控评估")
    units = tree.ids if actor.scope.everything else [u for u in tree.ids if actor.sees_path(tree.path[u])]
    step = progress(f"质控 {asked.code}", len(codes)) if progress else None
    findings = engine_quality.evaluate(eng, asked, codes, units=None if actor.scope.everything else units,
                                       progress=step)
    if actor.scope.everything:
        results.qc_tally(eng, asked, codes, findings=findings)
    ledger = _keep(actor, findings, eng, asked, codes, units)
    return Evaluation(_basis(eng), findings.num_rows, ledger)


# --- duplicates ------------------------------------------------------------------------------------------------
@dataclass
class Duplicates:
    unit: Unit
    result: object  # engine.dedup.DedupResult
    queue: list[dict]  # shown rows (birth dates as ages for masked roles)
    total: int
    basis: Basis


def duplicates(actor: Actor, org: str, *, threshold: float | None = None, limit: int | None = None,
               snapshot: str | None = None, notice: Notice | None = None,
               progress: Callable[[str], None] | None = None) -> Duplicates:
    """Duplicate records in ``org``'s subtree proposed for review (exact identity number + Splink). Audited."""
    from gongwei.engine.dedup import find_duplicates

    if limit is not None and limit < 0:
        raise BadRequest("--limit 不能为负数")
    snap = snapshots.open_snapshot(snapshot, notice=notice)
    tree = OrgTree.load(snap)
    unit = unit_of_tree(actor, tree, org)
    if notice:
        notice(f"快照 {snap.id}（{snap.taken_at}），机构 {tree.name[unit]}（{org}）")
    try:
        result = find_duplicates(snap, org, threshold=threshold, tree=tree, progress=progress)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    queue = result.queue if limit is None else result.queue.slice(0, limit)
    rows = queue.to_pylist()
    for r in rows:
        for k in ("survivor_birth_date", "duplicate_birth_date"):
            shown = actor.shown_birth(r[k])
            r[k] = shown.isoformat() if hasattr(shown, "isoformat") else shown
    audit.viewed(actor, AccessKind.DUPLICATES, scope=org, purpose="重复档案复核队列",
                 record_nos=[n for r in rows for n in (r["survivor"], r["duplicate"])])
    return Duplicates(Unit.of(tree, unit), result, rows, result.queue.num_rows,
                      Basis(snap.id, snap.taken_at, spec_catalogue.rulebook_version()))


# --- merge, unmerge, close ----------------------------------------------------------------------------------
def _resident(actor: Actor, record_no: str) -> rm.Resident:
    r = rm.Resident.objects.select_related("managing_unit").filter(record_no=record_no).first()
    if r is None:
        raise NotFound(f"档案编号“{record_no}”不存在")
    check_resident(actor, r)
    return r


def merge(actor: Actor, survivor: str, duplicate: str, *, reason: str = ""):
    """Merge ``duplicate`` into ``survivor`` (both record numbers, both in scope); undoable."""
    from gongwei.quality import services

    kept, gone = _resident(actor, survivor), _resident(actor, duplicate)
    try:
        record = services.merge(kept, gone, actor=actor.user, reason=reason)
    except services.WorkflowError as exc:
        raise BadRequest(str(exc)) from None
    return record


def unmerge(actor: Actor, duplicate: str, *, reason: str = ""):
    """Undo the latest merge of ``duplicate``."""
    from gongwei.quality import services
    from gongwei.quality.models import Merge

    gone = _resident(actor, duplicate)
    record = Merge.objects.filter(duplicate=gone, undone_at__isnull=True).order_by("-pk").first()
    if record is None:
        raise NotFound(f"档案 {gone.record_no} 没有未撤销的合并")
    check_resident(actor, record.survivor)
    try:
        services.unmerge(record, actor=actor.user, reason=reason)
    except services.WorkflowError as exc:
        raise BadRequest(str(exc)) from None
    return record


def close_from_list(actor: Actor, rows: list[dict]):
    """Close the records of a list (death, moving out, loss, refusal); all or nothing, every row in scope."""
    from gongwei.quality import services

    nos = [str(r.get("record_no", "")).strip() for r in rows]
    paths = dict(rm.Resident.objects.filter(record_no__in=nos).values_list("record_no", "managing_unit__path"))
    outside = [n for n in nos if n in paths and not actor.sees_path(paths[n])]
    if outside:
        raise Refused(f"名单中 {len(outside)} 份档案不在您的权限范围内（如 {'、'.join(outside[:3])}），全部未执行")
    return services.close_from_list(rows, actor=actor.user)
