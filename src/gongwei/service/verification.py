"""Reproducible samples and their verification (抽样核查, issue 13 §1–2, ADR 027): draw, re-check the frame,
assign, record outcomes, verified-genuine rates beside the platform's, and what the evaluation reads.

The frame is the people of an indicator's numerator (or denominator) in a unit's subtree, read from a
**snapshot**: the same state tables the platform's own rate is counted from, so the verified rate and the
platform rate speak of the same people, and an immutable snapshot makes a re-draw give the same frame. A later
snapshot (or a changed rulebook) gives a frame whose hash differs, and :func:`check` says so in Chinese.

Same contract as the rest of :mod:`gongwei.service`: every function takes the :class:`Actor`, refuses what lies
outside its subtree or role, audits every view of people, writes all or nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass, field

import pyarrow as pa
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from gongwei.engine import sampling as engine_sampling
from gongwei.engine.orgs import OrgTree
from gongwei.quality import services as quality_services
from gongwei.quality.models import Finding, FindingStatus
from gongwei.records import models as rm
from gongwei.records import scoping
from gongwei.service import audit, results, snapshots
from gongwei.service.access import Actor, unit_of_tree
from gongwei.service.analysis import period_of
from gongwei.service.errors import BadRequest, NotFound, NotReady, Refused
from gongwei.spec import catalogue as spec_catalogue
from gongwei.spec import sampling as spec_sampling
from gongwei.spec import verification as spec_verification
from gongwei.spec.sampling import Method, Precision
from gongwei.spec.verification import CheckMethod, Counts, Outcome, WrongField
from gongwei.spec.vocab import AccessKind, Role
from gongwei.verification.models import Sample, SampleItem, TaskOutcome, VerificationTask

PART_NAMES = {"numerator": "分子人员（平台计为已服务）", "denominator": "分母人员"}
# who draws samples and assigns verification: everyone above the village clinic (a township supervises its
# villages, a county or city its townships, third-party evaluators anywhere in their scope)
SAMPLING_ROLES = frozenset({Role.TOWNSHIP_STAFF, Role.TOWNSHIP_ADMIN, Role.SUPERVISOR, Role.EVALUATOR,
                            Role.SYSTEM_ADMIN})
SEED_MAX = 10**9  # a seed short enough to read out and type again (an evaluator publishes it with the sample)


# --- results ----------------------------------------------------------------------------------------------------
@dataclass
class ItemRow:
    position: int
    frame_index: int
    record_no: str
    name: str
    phone: str  # masked unless the actor verifies this person now
    unit_code: str
    unit_name: str
    stratum: str
    task_id: int
    method: str
    method_name: str
    assignee: str
    outcome: str
    outcome_name: str
    wrong_field: str
    wrong_field_name: str
    note: str
    recorded_by: str
    recorded_at: dt.datetime | None
    finding_id: int | None
    version: int
    may_record: bool = False  # the actor may enter (or correct) this item's outcome


@dataclass
class SampleView:
    sample_no: str
    indicator: str
    indicator_name: str
    part: str
    part_name: str
    unit_code: str
    unit_name: str
    period: str
    counted_period: str
    snapshot_id: str
    frame_size: int
    frame_hash: str
    method: str
    method_name: str
    size: int
    size_rule: dict
    seed: int
    interval: float | None
    random_start: float | None
    allocation: dict
    rulebook: str
    created_by: str
    created_at: dt.datetime
    items: list[ItemRow] = field(default_factory=list)
    may_assign: bool = False  # the actor may assign tasks (draws and assigns: township staff and above)

    @property
    def size_text(self) -> str:
        r = self.size_rule
        if r.get("kind") == "precision":
            return (f"按精度计算：p={r['p']:g}，允许误差 ±{r['margin'] * 100:g}%，置信水平 95%（z={r['z']:.2f}），"
                    f"有限总体校正")
        return "固定样本量"


@dataclass(frozen=True)
class FrameCheck:
    sample_no: str
    same: bool
    message: str  # one Chinese sentence
    snapshot_id: str
    frame_size: int
    frame_hash: str
    removed: int = 0  # sampled people missing from the re-built frame


# --- helpers ------------------------------------------------------------------------------------------------------
def may_sample(actor: Actor) -> bool:
    """Whether the actor may draw samples and assign verification (the operator may)."""
    return actor.resident_id is None and (actor.user is None or actor.scope.everything
                                          or actor.role in SAMPLING_ROLES)


def _check_may_sample(actor: Actor) -> None:
    if not may_sample(actor):
        raise Refused("只有乡镇及以上的公卫人员、督导员和绩效评价员可以抽样和派发核查任务")


def _indicator(code: str):
    canonical = spec_catalogue.canonical_code(code or "")
    if canonical is None:
        raise BadRequest(f"指标“{code}”无效：应为指标目录中的代码（如 H2）")
    return spec_catalogue.indicators()[canonical]


def _snapshot_engine(snapshot: str | None):
    try:
        return snapshots.engine(snapshot, take_if_missing=False)
    except NotFound:
        raise NotReady("尚无数据快照：请先运行快照任务（gongwei snapshot），样本从快照抽取") from None


def _own_snapshot(sample: Sample):
    """The engine on the snapshot a sample was drawn from, or None when that snapshot is gone."""
    folder = snapshots.snapshot_root() / sample.snapshot_id
    return snapshots.engine(folder) if (folder / "manifest.json").is_file() else None


def _frame(eng, tree: OrgTree, indicator: str, unit: int, period, part: str) -> tuple[pa.Table, object]:
    try:
        return engine_sampling.frame(eng, indicator, unit, period, tree, part)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


def _size(frame_size: int, size: int | None, p: float | None, margin: float | None) -> tuple[int, dict]:
    if size is not None:
        if p is not None or margin is not None:
            raise BadRequest("样本量与精度（p、允许误差）只能给出一种")
        if not 1 <= size <= frame_size:
            raise BadRequest(f"样本量 {size} 无效：应在 1 与抽样框人数 {frame_size} 之间")
        return size, {"kind": "fixed", "n": size}
    default = spec_sampling.DEFAULT_PRECISION
    precision = Precision(default.p if p is None else p, default.margin if margin is None else margin, default.z)
    if not 0 < precision.p < 1:
        raise BadRequest(f"预期比例 p={precision.p:g} 无效：应在 0 与 1 之间（不确定时取 0.5）")
    if not 0 < precision.margin < 0.5:
        raise BadRequest(f"允许误差 {precision.margin:g} 无效：应在 0 与 0.5 之间（如 0.05 表示 ±5%）")
    n = max(1, spec_sampling.sample_size(frame_size, precision))
    return n, {"kind": "precision", "p": precision.p, "margin": precision.margin, "z": precision.z, "n": n}


def _positions(method: str, strata: list[str], n: int, seed: int):
    if method == Method.INTERVAL:
        d = engine_sampling.equal_interval(len(strata), n, seed)
        return d.positions, d.interval, d.start, {}
    d = engine_sampling.stratified(strata, n, seed)
    return d.positions, None, None, d.allocation


def _sample(actor: Actor, sample_no: str, *, lock: bool = False) -> Sample:
    qs = Sample.objects.select_related("org_unit")
    if lock:
        qs = qs.select_for_update()
    s = qs.filter(sample_no=(sample_no or "").strip()).first()
    if s is None:
        raise NotFound(f"样本 {sample_no} 不存在")
    actor.check_path(s.org_unit.path, f"样本 {s.sample_no}（{s.org_unit.name}）")
    return s


def _label(actor: Actor) -> str:
    return actor.label


def _user(actor: Actor):
    return actor.user if actor.user is not None and getattr(actor.user, "pk", None) else None


# --- draw ---------------------------------------------------------------------------------------------------------
def draw(actor: Actor, indicator: str, org: str, period: str, *, method: str = Method.INTERVAL,
         part: str = "numerator", size: int | None = None, p: float | None = None, margin: float | None = None,
         seed: int | None = None, snapshot: str | None = None) -> SampleView:
    """Draw and keep a sample of the people of ``indicator``'s ``part`` in ``org``'s subtree for ``period`` from
    the latest snapshot (or ``snapshot``): equal-interval or stratified by child unit, of a fixed ``size`` or of
    the size a precision asks for (default ± 5 % at 95 %). Every item gets an unassigned verification task.
    Returns the sample (audited: it names people)."""
    _check_may_sample(actor)
    ind = _indicator(indicator)
    if method not in Method.codes():
        raise BadRequest(f"抽样方法“{method}”无效：应为 interval（等间距抽样）或 stratified（分层随机抽样）")
    if part not in engine_sampling.PARTS:
        raise BadRequest(f"抽样人群“{part}”无效：应为 numerator（分子）或 denominator（分母）")
    if seed is not None and not 0 <= seed < SEED_MAX:
        raise BadRequest(f"随机种子 {seed} 无效：应为 0 至 {SEED_MAX - 1} 之间的整数")
    asked = period_of(period)
    eng = _snapshot_engine(snapshot)
    tree = OrgTree.load(eng.snapshot)
    unit = unit_of_tree(actor, tree, org)
    table, counted = _frame(eng, tree, ind.code, unit, asked, part)
    n_frame = table.num_rows
    if n_frame == 0:
        raise BadRequest(f"抽样框为空：{tree.name[unit]}（{org}）{asked.code} 年度指标 {ind.code} 没有{PART_NAMES[part]}，"
                         f"不能抽样")
    n, size_rule = _size(n_frame, size, p, margin)
    seed = secrets.randbelow(SEED_MAX) if seed is None else seed
    keys = table.column("record_no").to_pylist()
    strata = table.column("stratum").to_pylist()
    positions, interval, start, allocation = _positions(method, strata, n, seed)
    units = table.column("managing_unit_id").to_pylist()
    chosen_nos = [keys[i] for i in positions]
    residents = dict(rm.Resident.objects.filter(record_no__in=chosen_nos).values_list("record_no", "pk"))
    now = timezone.now()
    with transaction.atomic():
        s = Sample.objects.create(
            sample_no=f"CY{now:%Y%m%d}{secrets.token_hex(3).upper()}", indicator=ind.code,
            program=ind.program_code, part=part, org_unit_id=unit, period=asked.code, counted_period=counted.code,
            snapshot_id=eng.snapshot.id,
            frame={"source": "snapshot", "snapshot": eng.snapshot.id, "taken_at": eng.snapshot.taken_at,
                   "indicator": ind.code, "part": part, "unit": org, "period": asked.code,
                   "counted_period": counted.code, "order": "record_no"},
            frame_size=n_frame, frame_hash=engine_sampling.frame_hash(keys), method=method, size_rule=size_rule,
            size=n, seed=seed, interval=interval, random_start=start, allocation=allocation,
            rulebook=spec_catalogue.rulebook_version(), created_by=_user(actor), created_by_label=_label(actor))
        items = SampleItem.objects.bulk_create([
            SampleItem(sample=s, position=i + 1, frame_index=pos, record_no=keys[pos],
                       resident_id=residents.get(keys[pos]), org_unit_id=units[pos], stratum=strata[pos])
            for i, pos in enumerate(positions)])
        if any(it.pk is None for it in items):  # backends without RETURNING ids (none we support today)
            items = list(SampleItem.objects.filter(sample=s).order_by("position"))
        VerificationTask.objects.bulk_create([VerificationTask(item=it) for it in items])
    return show(actor, s.sample_no, purpose="抽样")


# --- show -----------------------------------------------------------------------------------------------------------
def _rows(actor: Actor, s: Sample) -> list[ItemRow]:
    tasks = (VerificationTask.objects.filter(item__sample=s)
             .select_related("item__org_unit", "item__resident", "assignee").order_by("item__position"))
    me = getattr(actor.user, "pk", None)
    rows = []
    for t in tasks:
        it, r = t.item, t.item.resident
        mine = me is not None and t.assignee_id == me and not t.outcome
        phone = (r.phone if mine else actor.mask_phone(r.phone)) if r is not None else ""
        rows.append(ItemRow(
            it.position, it.frame_index, it.record_no, r.name if r else "", phone or "", it.org_unit.code,
            it.org_unit.name, it.stratum, t.pk, t.method, CheckMethod(t.method).zh if t.method else "",
            t.assignee.get_username() if t.assignee else "", t.outcome, Outcome(t.outcome).zh if t.outcome else "",
            t.wrong_field, WrongField(t.wrong_field).zh if t.wrong_field else "", t.note, t.recorded_by,
            t.recorded_at, t.finding_id, t.version,
            bool(t.method) and t.assignee_id is not None and (me == t.assignee_id or actor.scope.everything)))
    return rows


def show(actor: Actor, sample_no: str, *, purpose: str = "查看样本") -> SampleView:
    """A sample with its frame definition and its items and their verification (audited)."""
    s = _sample(actor, sample_no)
    names = {c: i.name for c, i in spec_catalogue.indicators().items()}
    rows = _rows(actor, s)
    audit.viewed(actor, AccessKind.LIST, scope=s.org_unit.code, purpose=f"核查样本 {s.sample_no} {purpose}"[:100],
                 record_nos=[r.record_no for r in rows])
    return SampleView(
        s.sample_no, s.indicator, names.get(s.indicator, s.indicator), s.part, PART_NAMES.get(s.part, s.part),
        s.org_unit.code, s.org_unit.name, s.period, s.counted_period, s.snapshot_id, s.frame_size, s.frame_hash,
        s.method, Method(s.method).zh, s.size, s.size_rule, s.seed, s.interval, s.random_start, s.allocation,
        s.rulebook, s.created_by_label, s.created_at, rows, may_sample(actor))


def indicator_options() -> list[tuple[str, str]]:
    """Indicators whose population can be listed person by person (code, name), in catalogue order."""
    return [(c, i.name) for c, i in spec_catalogue.indicators().items() if i.cohort_flag is not None]


def verifiers(actor: Actor, sample_no: str) -> list[tuple[str, str]]:
    """Logins that may verify this sample's people (login, label): staff of a sampling role at the sampled unit
    or above it. The assignment still checks each item (a township verifies only the villages below it)."""
    s = _sample(actor, sample_no)
    parts = [x for x in s.org_unit.path.split("/") if x]
    paths = ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]
    staff = (rm.Staff.objects.filter(user__isnull=False, user__is_active=True, role__in=list(SAMPLING_ROLES),
                                     org_unit__path__in=paths)
             .select_related("user", "org_unit").order_by("org_unit__path", "user__username"))
    me = actor.user.get_username() if actor.user is not None else ""
    found = [(st.user.get_username(), f"{st.name}（{st.user.get_username()}，{st.org_unit.name}，{Role(st.role).zh}）")
             for st in staff]
    return sorted(found, key=lambda x: x[0] != me)  # the actor first: an evaluator usually makes the calls


def samples(actor: Actor, org: str, *, period: str = "") -> list[Sample]:
    """Samples drawn in ``org``'s subtree (newest first), without their people."""
    place = rm.OrgUnit.objects.filter(code=org).first()
    if place is None:
        raise NotFound(f"机构代码 {org} 不存在")
    actor.check_path(place.path, f"机构 {place.name}（{place.code}）")
    qs = Sample.objects.filter(org_unit__path__startswith=place.path).select_related("org_unit")
    if period:
        qs = qs.filter(period=period_of(period).code)
    return [s for s in qs.order_by("-created_at", "-id") if actor.sees_path(s.org_unit.path)]


# --- check: re-build the frame and re-draw --------------------------------------------------------------------------
def check(actor: Actor, sample_no: str, *, snapshot: str | None = None) -> FrameCheck:
    """Re-build the sample's frame (from its own snapshot while it exists, else from ``snapshot`` or the latest)
    and compare its hash with the stored one; with the same frame, re-draw with the stored seed and compare the
    items. The message says, in Chinese, whether the sample is reproduced or the frame has changed."""
    s = _sample(actor, sample_no)
    eng = (None if snapshot else _own_snapshot(s)) or _snapshot_engine(snapshot)
    tree = OrgTree.load(eng.snapshot)
    try:
        unit = tree.by_code(s.org_unit.code)
    except KeyError:
        raise NotFound(f"快照 {eng.snapshot.id} 中没有机构 {s.org_unit.code}，无法重建抽样框") from None
    table, _ = _frame(eng, tree, s.indicator, unit, period_of(s.period), s.part)
    keys = table.column("record_no").to_pylist()
    now_hash = engine_sampling.frame_hash(keys)
    at = eng.snapshot.id
    if now_hash != s.frame_hash:
        stored = SampleItem.objects.filter(sample=s).values_list("record_no", flat=True)
        gone = len(set(stored) - set(keys))  # sampled people no longer in the frame (the frame itself is not kept)
        why = "（规则库版本已变化）" if s.rulebook != spec_catalogue.rulebook_version() else ""
        return FrameCheck(s.sample_no, False,
                          f"抽样框已变化{why}：样本 {s.sample_no} 抽自快照 {s.snapshot_id} 的 {s.frame_size} 人"
                          f"（哈希 {s.frame_hash[:12]}…），快照 {at} 重建的抽样框为 {len(keys)} 人"
                          f"（哈希 {now_hash[:12]}…），已抽中的 {s.size} 人中 {gone} 人不在新抽样框中；不能用该快照复现本样本",
                          at, len(keys), now_hash, removed=gone)
    positions, *_ = _positions(s.method, table.column("stratum").to_pylist(), s.size, s.seed)
    drawn = [keys[i] for i in positions]
    stored = list(SampleItem.objects.filter(sample=s).order_by("position").values_list("record_no", flat=True))
    if drawn != stored:
        return FrameCheck(s.sample_no, False,
                          f"抽样框未变，但按种子 {s.seed} 重新抽取的人员与保存的样本 {s.sample_no} 不一致：样本记录可能被改动",
                          at, len(keys), now_hash)
    return FrameCheck(s.sample_no, True,
                      f"样本 {s.sample_no} 可复现：快照 {at} 的抽样框 {len(keys)} 人、哈希一致，按种子 {s.seed} "
                      f"重新抽取的 {len(drawn)} 人与保存的样本完全相同", at, len(keys), now_hash)


# --- assign ------------------------------------------------------------------------------------------------------------
def _verifier_sees(user, unit_path: str) -> bool:
    """Separation of duties: the verifier works at a unit above the one whose records are checked (or system-wide)."""
    scope = scoping.scope_for(user)
    if scope.everything:
        return True
    return bool(scope.path) and unit_path.startswith(scope.path) and unit_path != scope.path


def assign(actor: Actor, sample_no: str, login: str, method: str, *, positions: list[int] | None = None) -> int:
    """Assign the sample's tasks (``positions``, default every task without an outcome) to ``login`` with a
    verification method. All or nothing: one item the login may not verify refuses the whole request."""
    _check_may_sample(actor)
    if method not in CheckMethod.codes():
        raise BadRequest(f"核查方式“{method}”无效：应为 {'、'.join(f'{m.value}（{m.zh}）' for m in CheckMethod)} 之一")
    user = get_user_model().objects.filter(username=(login or "").strip(), is_active=True).first()
    if user is None:
        raise NotFound(f"核查人登录名“{login}”不存在或已停用")
    scope = scoping.scope_for(user)
    if not scope.everything and scope.role not in SAMPLING_ROLES:
        raise BadRequest(f"核查人“{login}”的角色不能承担核查（应为乡镇及以上公卫人员、督导员或绩效评价员）")
    with transaction.atomic():
        s = _sample(actor, sample_no, lock=True)
        qs = VerificationTask.objects.select_for_update().filter(item__sample=s).select_related("item__org_unit")
        if positions:
            wanted = sorted(set(positions))
            tasks = list(qs.filter(item__position__in=wanted).order_by("item__position"))
            missing = sorted(set(wanted) - {t.item.position for t in tasks})
            if missing:
                raise BadRequest(f"样本 {s.sample_no} 中没有序号 {'、'.join(map(str, missing))}")
            done = [t.item.position for t in tasks if t.outcome]
            if done:
                raise BadRequest(f"序号 {'、'.join(map(str, done))} 已录入核查结果，不能改派")
        else:
            tasks = list(qs.filter(outcome="").order_by("item__position"))
        for t in tasks:
            if not _verifier_sees(user, t.item.org_unit.path):
                raise BadRequest(f"核查人“{login}”不能核查序号 {t.item.position}（{t.item.org_unit.name}的档案）："
                                 f"核查人应属于被核查机构的上级单位（职责分离）")
        now = timezone.now()
        for t in tasks:
            t.assignee, t.method, t.assigned_by, t.assigned_at = user, method, _label(actor), now
            t.version += 1
        VerificationTask.objects.bulk_update(tasks, ["assignee", "method", "assigned_by", "assigned_at", "version"])
    return len(tasks)


# --- record an outcome ---------------------------------------------------------------------------------------------------
def _finding_message(rule: spec_verification.FindingRule, s: Sample, t: VerificationTask, outcome: Outcome,
                     note: str) -> str:
    return rule.message.format(sample=f"{s.sample_no} 序号 {t.item.position}", method=CheckMethod(t.method).zh,
                               outcome=outcome.zh, note=note)[:300]


def _raise_finding(actor: Actor, s: Sample, t: VerificationTask, outcome: Outcome, note: str) -> Finding:
    """Raise (or update) the ledger finding of a fabrication outcome through the ledger's own API."""
    rule = spec_verification.FINDING_RULES[spec_verification.OUTCOMES[outcome].finding_rule]
    it = t.item
    row = {"rule": rule.code, "table": spec_verification.FINDING_TABLE, "record_id": it.pk,
           "record_no": it.record_no, "resident_id": it.resident_id, "org_unit_id": it.org_unit_id,
           "values": json.dumps({"sample": s.sample_no, "position": it.position, "indicator": s.indicator,
                                 "outcome": outcome.value, "method": t.method, "note": note}, ensure_ascii=False),
           "message": _finding_message(rule, s, t, outcome, note)}
    table = pa.table({k: pa.array([v]) if v is not None else pa.array([None], pa.int64()) for k, v in row.items()})
    # units=(): a verification never judges other findings rectified (only the rules' own evaluation does that)
    quality_services.sync_findings(table, snapshot_id=s.snapshot_id, period=s.period, rulebook=s.rulebook,
                                   rules=[rule.code], actor_label=_label(actor), units=())
    f = Finding.objects.get(rule=rule.code, table=spec_verification.FINDING_TABLE, record_id=it.pk)
    if f.status == FindingStatus.DISMISSED:  # dismissed after an earlier correction, found again
        quality_services.transition(f, FindingStatus.OPEN, actor=_user(actor), reason="再次核查发现")
    return f


def _withdraw_finding(actor: Actor, finding: Finding, outcome: Outcome) -> None:
    if finding.status in (FindingStatus.OPEN, FindingStatus.RECTIFIED):
        quality_services.transition(finding, FindingStatus.DISMISSED, actor=_user(actor),
                                    reason=f"核查结果更正为“{outcome.zh}”")


def record(actor: Actor, sample_no: str, position: int, outcome: str, *, note: str = "", wrong_field: str = "",
           version: int | None = None) -> ItemRow:
    """Record the outcome of verifying the item at ``position`` (by its assignee). A note is required where the
    rulebook says so; ``wrong_info`` names the field. Outcomes that reveal fabrication raise a finding in the
    rectification ledger with the sampled item as evidence; a correction keeps the earlier outcome in the history
    and withdraws (dismisses) a finding it no longer supports."""
    if outcome not in Outcome.codes():
        raise BadRequest(f"核查结果“{outcome}”无效：应为 {'、'.join(f'{o.value}（{o.zh}）' for o in Outcome)} 之一")
    code = Outcome(outcome)
    rule = spec_verification.OUTCOMES[code]
    note = (note or "").strip()
    if rule.note_required and not note:
        raise BadRequest(f"核查说明不能为空：核查结果为“{code.zh}”时必须填写说明")
    if len(note) > spec_verification.NOTE_MAX:
        raise BadRequest(f"核查说明过长：最多 {spec_verification.NOTE_MAX} 字")
    wrong_field = (wrong_field or "").strip()
    if rule.field_required:
        if wrong_field not in WrongField.codes():
            raise BadRequest(f"不符项“{wrong_field}”无效：核查结果为“{code.zh}”时应指明哪一项不符，"
                             f"为 {'、'.join(f'{w.value}（{w.zh}）' for w in WrongField)} 之一")
    elif wrong_field:
        raise BadRequest(f"不符项只在核查结果为“{Outcome.WRONG_INFO.zh}”时填写")
    with transaction.atomic():
        s = _sample(actor, sample_no)
        t = (VerificationTask.objects.select_for_update(of=("self",)).select_related("item__org_unit", "finding")
             .filter(item__sample=s, item__position=position).first())
        if t is None:
            raise NotFound(f"样本 {s.sample_no} 中没有序号 {position}")
        actor.check_path(t.item.org_unit.path, f"序号 {position}（{t.item.org_unit.name}）")
        if not t.method or t.assignee_id is None:
            raise BadRequest(f"序号 {position} 尚未派发核查任务：请先指定核查人和核查方式")
        me = getattr(actor.user, "pk", None)
        if actor.user is not None and me != t.assignee_id and not actor.scope.everything:
            raise Refused(f"序号 {position} 的核查任务派给了 {t.assignee.get_username()}，只有核查人本人可以录入结果")
        if version is not None and version != t.version:
            raise BadRequest(f"序号 {position} 的核查任务已被他人修改（版本 {version} → {t.version}）："
                             f"请刷新后再录入")
        previous = t.finding
        if rule.finding_rule:
            finding = _raise_finding(actor, s, t, code, note)
            if previous is not None and previous.pk != finding.pk:
                _withdraw_finding(actor, previous, code)
            t.finding = finding
        elif previous is not None:
            _withdraw_finding(actor, previous, code)
        now = timezone.now()
        t.outcome, t.wrong_field, t.note = code.value, wrong_field, note
        t.recorded_by, t.recorded_at, t.version = _label(actor), now, t.version + 1
        t.save(update_fields=["outcome", "wrong_field", "note", "recorded_by", "recorded_at", "finding", "version"])
        TaskOutcome.objects.create(task=t, method=t.method, outcome=code.value, wrong_field=wrong_field, note=note,
                                   actor=_user(actor), actor_label=_label(actor))
    return next(r for r in _rows(actor, s) if r.position == position)


# --- rates ---------------------------------------------------------------------------------------------------------------
@dataclass
class UnitRate:
    unit_code: str
    unit_name: str
    drawn: int = 0
    genuine: int = 0
    not_genuine: int = 0
    excluded: int = 0  # refused, unreachable: not verified
    pending: int = 0  # no outcome yet
    fabrication: int = 0  # outcomes that raised a finding (person not found, service not received)
    platform_numerator: int | None = None
    platform_denominator: int | None = None

    @property
    def verified(self) -> int:
        return self.genuine + self.not_genuine

    @property
    def rate(self) -> float | None:
        return self.genuine / self.verified if self.verified else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return spec_sampling.wilson(self.genuine, self.verified)

    @property
    def platform_rate(self) -> float | None:
        if not self.platform_denominator:
            return None
        return (self.platform_numerator or 0) / self.platform_denominator


@dataclass
class RateReport:
    sample: SampleView
    total: UnitRate
    units: list[UnitRate]  # one per stratum (child unit), by code
    platform_note: str  # why the platform rate is missing, if it is


def _tally(rate: UnitRate, outcome: str) -> None:
    rate.drawn += 1
    if not outcome:
        rate.pending += 1
        return
    rule = spec_verification.OUTCOMES[Outcome(outcome)]
    if rule.counts == Counts.GENUINE:
        rate.genuine += 1
    elif rule.counts == Counts.NOT_GENUINE:
        rate.not_genuine += 1
    else:
        rate.excluded += 1
    if rule.finding_rule:
        rate.fabrication += 1


def rates(actor: Actor, sample_no: str) -> RateReport:
    """The verified-genuine rate of a sample, overall and per stratum, each with its 95 % Wilson interval, beside
    the platform's rate of the same indicator for the same unit, period and snapshot from the results store."""
    view = show(actor, sample_no, purpose="核实率")
    s = Sample.objects.select_related("org_unit").get(sample_no=view.sample_no)
    total = UnitRate(s.org_unit.code, s.org_unit.name)
    by_code: dict[str, UnitRate] = {}
    names = dict(rm.OrgUnit.objects.filter(code__in={r.stratum for r in view.items}).values_list("code", "name"))
    for r in view.items:
        _tally(total, r.outcome)
        _tally(by_code.setdefault(r.stratum, UnitRate(r.stratum, names.get(r.stratum, r.stratum))), r.outcome)
    units = [by_code[c] for c in sorted(by_code)]
    stored = results.stored_indicators(s.snapshot_id, period_of(s.period))
    note = ""
    if stored is None:
        note = f"平台指标尚未计算（快照 {s.snapshot_id}，{s.period}）：请运行指标计算任务"
    else:
        ids = dict(rm.OrgUnit.objects.filter(code__in=[total.unit_code, *by_code]).values_list("code", "pk"))
        rows = {(r["indicator"], r["org_unit_id"]): r for r in stored.to_pylist() if r["indicator"] == s.indicator}
        if not rows:
            note = f"平台指标 {s.indicator} 尚未计算（快照 {s.snapshot_id}，{s.period}）"
        for u in [total, *units]:
            got = rows.get((s.indicator, ids.get(u.unit_code)))
            if got is not None:
                u.platform_numerator, u.platform_denominator = got["numerator"], got["denominator"]
    return RateReport(view, total, units, note)


# --- what the evaluation reads -------------------------------------------------------------------------------------------
@dataclass
class UnitVerification:
    """Verification of one unit's records in a period, over every sample drawn for it (and the units below)."""

    unit_code: str
    unit_name: str
    samples: list[str] = field(default_factory=list)
    by_indicator: dict[str, UnitRate] = field(default_factory=dict)
    all: UnitRate | None = None


def verified_by_unit(actor: Actor, period: str, *, units: list[str] | None = None,
                     indicator: str | None = None) -> dict[str, UnitVerification]:
    """Verified-genuine counts, rates (with intervals) and fabrication counts per unit for a period, over all
    samples of that period — each sampled person counted at their managing unit and at every unit above it in
    the actor's scope. ``units``: only these unit codes (default: every unit with a sampled person). The
    evaluation's deductions and fraud veto read this (``fabrication`` > 0 is the veto's evidence; the findings
    are in the rectification ledger under rules VF-01 and VF-02)."""
    asked = period_of(period)
    code = _indicator(indicator).code if indicator else None
    qs = (VerificationTask.objects.filter(item__sample__period=asked.code)
          .values_list("item__sample__sample_no", "item__sample__indicator", "item__org_unit__path", "outcome"))
    if code:
        qs = qs.filter(item__sample__indicator=code)
    wanted = set(units) if units else None
    if wanted:
        found = dict(rm.OrgUnit.objects.filter(code__in=wanted).values_list("code", "path"))
        missing = sorted(wanted - set(found))
        if missing:
            raise NotFound(f"机构代码 {'、'.join(missing)} 不存在")
        for c, path in found.items():
            actor.check_path(path, f"机构 {c}")
    rows = list(qs)
    ids = {int(x) for _, _, path, _ in rows for x in path.strip("/").split("/") if x}
    units_by_id = {u.pk: u for u in rm.OrgUnit.objects.filter(pk__in=ids)}
    out: dict[str, UnitVerification] = {}
    for sample_no, ind, path, outcome in rows:
        for x in path.strip("/").split("/"):
            u = units_by_id.get(int(x)) if x else None
            if u is None or not actor.sees_path(u.path) or (wanted is not None and u.code not in wanted):
                continue
            v = out.setdefault(u.code, UnitVerification(u.code, u.name, all=UnitRate(u.code, u.name)))
            if sample_no not in v.samples:
                v.samples.append(sample_no)
            _tally(v.by_indicator.setdefault(ind, UnitRate(u.code, u.name)), outcome)
            _tally(v.all, outcome)
    return out
