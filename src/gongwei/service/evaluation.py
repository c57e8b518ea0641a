"""Use cases of performance evaluation (绩效评价, issue 12): create a round, score it from STORED results, enter
manual scores, publish, and read the round back for the two attachments (绩效评价情况表, 各单位问题列表).

- A round freezes the latest snapshot and the rulebook version when it is created; scoring reads the indicator
  results and QC tallies stored for that snapshot and the round's period (``compute=False`` semantics: when they are
  missing, :class:`NotReady` names the job that stores them — the nightly job stores the current year's).
- Scoring is vectorised over units (Arrow + NumPy, :mod:`gongwei.engine.evaluation`): one read of the stored
  results, one query for the manual entries, one ``bulk_create`` per table. Each scoring writes a new run; re-scoring
  a draft on the same snapshot gives the same scores.
- Who: evaluators (绩效评价员) and system administrators create, score, enter and publish, within their subtree; any
  login sees the scores of the units in its own subtree (a township sees its own, not its neighbours').
- A published round is locked; a correction is a new round naming the round it corrects and what changed.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.db import models, transaction
from django.utils import timezone

from gongwei import files as safe_files
from gongwei.engine import evaluation as kernel
from gongwei.engine import workload as engine_workload
from gongwei.engine.orgs import OrgTree, base_values
from gongwei.engine.snapshot import Snapshot
from gongwei.evaluation import models as em
from gongwei.records import bulk
from gongwei.records import models as rm
from gongwei.service import results, snapshots
from gongwei.service.access import Actor
from gongwei.service.analysis import period_of
from gongwei.service.errors import BadRequest, NotFound, NotReady, Refused
from gongwei.spec import catalogue as spec_catalogue
from gongwei.spec import evaluation as se
from gongwei.spec import funds
from gongwei.spec import verification as spec_verification
from gongwei.spec import workload as spec_workload
from gongwei.spec.evaluation import Item, Method, RoundKind, Scheme
from gongwei.spec.vocab import Role

EVALUATOR_ROLES = frozenset({Role.EVALUATOR.value, Role.SYSTEM_ADMIN.value})
VETO = "VETO"  # the item code of a fraud veto entered for a unit (一票否决)
LOCKED = "已发布的考核轮次不能修改，请新建一轮更正"
# evidence uploads (佐证文件): documents and pictures a reviewer opens, nothing executable; the size keeps one scan
MAX_EVIDENCE = 10 * 1024 * 1024
EVIDENCE_SUFFIXES = frozenset({".pdf", ".jpg", ".jpeg", ".png", ".doc", ".docx", ".xls", ".xlsx", ".txt", ".csv"})


# --- helpers ---------------------------------------------------------------------------------------------------------
def _require_evaluator(actor: Actor, what: str) -> None:
    if actor.role not in EVALUATOR_ROLES:
        raise Refused(f"{what}只能由绩效评价员或系统管理员进行")


def scheme_of(code: str) -> Scheme:
    """A shipped scheme (spec.evaluation) or a region's copy of one (evaluation.RegionalScheme)."""
    try:
        return se.scheme(code)
    except KeyError as exc:
        regional = em.RegionalScheme.objects.filter(code=code).first()
        if regional is None:
            raise BadRequest(str(exc.args[0])) from None
        return _built(regional)
    except se.SchemeError as exc:
        raise BadRequest(str(exc)) from None


# --- a region's own scheme for a year (issue 12 §1): a shipped scheme copied, points and targets changed --------
# what an evaluator may change on an item, and how the form writes it: rates as percentages, points as points
EDITABLE_FIELDS = {"points": "分值", "target": "目标值（%）", "limit": "限值（%）", "per_finding": "每个问题扣分"}
_PERCENT_FIELDS = ("target", "limit")


def _rebuild(base: Scheme, overrides: dict, **meta) -> Scheme:
    import dataclasses

    def item(i: Item) -> Item:
        return dataclasses.replace(i, children=tuple(item(c) for c in i.children), **overrides.get(i.code, {}))

    return dataclasses.replace(base, items=tuple(item(i) for i in base.items), **meta)


def _built(regional: em.RegionalScheme) -> Scheme:
    base = se.scheme(regional.base)
    sch = _rebuild(base, regional.overrides, code=regional.code, name=regional.name, year=regional.year,
                   note=f"{regional.region.name}据《{base.name}》调整（{regional.note or '见修改记录'}）")
    found = se.problems(sch)
    if found:
        raise BadRequest("；".join(found))
    return sch


@dataclass
class SchemeRow:
    code: str
    name: str
    year: int
    region: str  # "" for a shipped scheme (any region)
    base: str
    editable: bool
    used: int  # rounds that use it


def schemes_for(actor: Actor) -> list[SchemeRow]:
    """The shipped schemes and the regional ones whose region overlaps the actor's scope."""
    used = dict(em.Round.objects.values_list("scheme").annotate(n=models.Count("id")))
    rows = [SchemeRow(s.code, s.name, s.year, "", "", False, used.get(s.code, 0)) for s in se.schemes().values()]
    for r in em.RegionalScheme.objects.select_related("region"):
        if _overlaps(actor, r.region.path):
            rows.append(SchemeRow(r.code, r.name, r.year, r.region.name, r.base,
                                  actor.role in EVALUATOR_ROLES and actor.sees_path(r.region.path)
                                  and not used.get(r.code), used.get(r.code, 0)))
    return rows


@transaction.atomic
def copy_scheme(actor: Actor, base: str, org: str, year, *, name: str = "", note: str = "") -> em.RegionalScheme:
    """A region's copy of a scheme for a year, to adapt; ``base`` a shipped scheme or a regional one (its changes
    carried over)."""
    _require_evaluator(actor, "制定地区考核方案")
    source = scheme_of(base)
    origin = em.RegionalScheme.objects.filter(code=base).first()
    region = rm.OrgUnit.objects.filter(code=org).first()
    if region is None:
        raise NotFound(f"机构代码 {org} 不存在")
    actor.check_path(region.path, f"机构 {region.name}（{region.code}）")
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise BadRequest(f"适用年度“{year}”应为整数") from None
    if not 2000 <= year <= 2100:
        raise BadRequest(f"适用年度“{year}”无效")
    shipped = origin.base if origin else source.code
    stem = f"{shipped}@{region.code}-{year}"
    n = em.RegionalScheme.objects.filter(code__startswith=stem).count()
    code = stem if n == 0 else f"{stem}-v{n + 1}"
    name = (name or "").strip()[:120] or f"{region.name}{year}年{source.name}"
    return em.RegionalScheme.objects.create(
        code=code, base=shipped, name=name, year=year, region=region,
        overrides=dict(origin.overrides) if origin else {}, note=(note or "").strip()[:500],
        history=[{"at": timezone.now().isoformat(timespec="seconds"), "by": actor.label, "action": "copy",
                  "from": base}], created_by=actor.label)


def regional_scheme(actor: Actor, code: str) -> tuple[em.RegionalScheme, Scheme]:
    r = em.RegionalScheme.objects.select_related("region").filter(code=code).first()
    if r is None:
        raise NotFound(f"地区考核方案 {code} 不存在")
    if not _overlaps(actor, r.region.path):
        raise Refused(f"地区考核方案 {code} 不在您的权限范围内（{actor.scope_text()}）")
    return r, _built(r)


@transaction.atomic
def edit_scheme(actor: Actor, code: str, values: dict[str, str], *, expected_version: int) -> em.RegionalScheme:
    """Change items of a regional scheme: ``values`` maps "ITEM.field" (fields of EDITABLE_FIELDS) to the typed
    number. Refused whole, naming each item and rule, when a value is not a number, out of its range, or the
    scheme would not add up; refused once a round uses the scheme (copy it instead)."""
    _require_evaluator(actor, "修改地区考核方案")
    r = em.RegionalScheme.objects.select_for_update().select_related("region").filter(code=code).first()
    if r is None:
        raise NotFound(f"地区考核方案 {code} 不存在")
    actor.check_path(r.region.path, f"地区考核方案 {code} 的适用地区 {r.region.name}")
    if em.Round.objects.filter(scheme=code).exists():
        raise Refused(f"地区考核方案 {code} 已有考核轮次使用，不能再修改；请复制为新方案后调整")
    if expected_version != r.version:
        raise BadRequest(f"地区考核方案 {code} 已被他人修改（版本 {expected_version} → {r.version}），请刷新后再修改")
    base = se.scheme(r.base)
    codes = {i.code: i for i in base.walk()}
    overrides = {k: dict(v) for k, v in r.overrides.items()}
    errors, changes = [], []
    for key, raw in values.items():
        item_code, _, fld = key.partition(".")
        if item_code not in codes or fld not in EDITABLE_FIELDS:
            errors.append(f"“{key}”不是本方案可调整的项目或字段")
            continue
        text = str(raw).strip()
        item = codes[item_code]
        label = f"项目 {item_code}（{item.name}）的{EDITABLE_FIELDS[fld]}"
        if not text:
            if fld == "points":
                errors.append(f"{label}不能为空")
            continue
        try:
            number = float(text)
        except ValueError:
            errors.append(f"{label}“{text}”不是数字")
            continue
        # a workload leaf's target is service equivalents per 1,000 residents, not a percentage
        percent = fld in _PERCENT_FIELDS and not (fld == "target" and item.workload)
        if not percent and fld == "target":
            label = f"项目 {item_code}（{item.name}）的目标值（每千常住人口服务当量）"
        if not math.isfinite(number) or number < 0 or (percent and number > 100):
            errors.append(f"{label}“{text}”超出范围（{'0～100' if percent else '不能为负数'}）")
            continue
        value = round(number / 100, 6) if percent else number
        current = overrides.get(item_code, {}).get(fld, getattr(item, fld))
        if current is None or abs(float(current) - value) > 1e-9:
            overrides.setdefault(item_code, {})[fld] = value
            changes.append({"item": item_code, "field": fld, "before": current, "after": value})
    if errors:
        raise BadRequest("；".join(errors))
    found = se.problems(_rebuild(base, overrides, code=r.code))
    if found:
        raise BadRequest("；".join(found))
    if changes:
        r.overrides, r.version = overrides, r.version + 1
        r.history = [*r.history, {"at": timezone.now().isoformat(timespec="seconds"), "by": actor.label,
                                  "action": "edit", "changes": changes}]
        r.save(update_fields=["overrides", "version", "history"])
    return r


def _overlaps(actor: Actor, path: str) -> bool:
    """The round's scope and the actor's overlap: the actor is at or above the round's root, or one of its units."""
    own = actor.scope.path or ""
    return actor.sees_path(path) or bool(own) and own.startswith(path)


def get_round(actor: Actor, round_id: int | str) -> em.Round:
    try:
        rnd = em.Round.objects.select_related("root").get(pk=int(round_id))
    except (ValueError, TypeError):
        raise BadRequest(f"考核轮次编号“{round_id}”应为整数") from None
    except em.Round.DoesNotExist:
        raise NotFound(f"考核轮次 {round_id} 不存在") from None
    if not _overlaps(actor, rnd.root.path):
        raise Refused(f"考核轮次 {rnd.pk} 不在您的权限范围内（{actor.scope_text()}）")
    return rnd


def _editable(actor: Actor, round_id, what: str) -> em.Round:
    _require_evaluator(actor, what)
    rnd = get_round(actor, round_id)
    actor.check_path(rnd.root.path, f"考核范围 {rnd.root.name}（{rnd.root.code}）")
    if rnd.status == em.RoundStatus.PUBLISHED:
        raise Refused(LOCKED)
    return rnd


def default_period(kind: RoundKind, year: int) -> str:
    """A year-end round counts the year, a mid-year round the year to 30 June; a quarterly round needs its quarter."""
    if kind is RoundKind.YEAR_END:
        return str(year)
    if kind is RoundKind.MID_YEAR:
        return f"{year}-06-30"
    raise BadRequest("季度考核须指定统计期间（如 2025Q2）")


# --- create ----------------------------------------------------------------------------------------------------------
def create_round(actor: Actor, scheme: str, year: int, kind: str, org: str, *, period: str | None = None,
                 level: str | None = None, corrects: int | None = None, note: str = "") -> em.Round:
    """A draft round of ``scheme`` over the units at ``level`` under ``org`` (default: the level just below it),
    frozen on the latest snapshot and the current rulebook version."""
    _require_evaluator(actor, "创建考核轮次")
    sch = scheme_of(scheme)
    try:
        kind_ = RoundKind(kind)
    except ValueError:
        raise BadRequest(f"考核类型“{kind}”无效（可选：{'、'.join(k.value for k in RoundKind)}）") from None
    if not 2000 <= int(year) <= 2100:
        raise BadRequest(f"考核年度“{year}”无效")
    asked = period_of(period or default_period(kind_, int(year)), "统计期间")
    if asked.year != int(year):
        raise BadRequest(f"统计期间 {asked.code} 不在考核年度 {year} 内")
    root = rm.OrgUnit.objects.filter(code=org).first()
    if root is None:
        raise NotFound(f"机构代码 {org} 不存在")
    actor.check_path(root.path, f"机构 {root.name}（{root.code}）")
    regional = em.RegionalScheme.objects.select_related("region").filter(code=sch.code).first()
    if regional is not None and not root.path.startswith(regional.region.path):
        raise BadRequest(f"地区考核方案 {sch.code} 只适用于 {regional.region.name} 及其下级，不适用于 {root.name}")
    below = rm.OrgUnit.objects.filter(path__startswith=root.path).exclude(pk=root.pk)
    if level is None:
        first = below.filter(parent=root).order_by("code").first()
        if first is None:
            raise BadRequest(f"机构 {root.name}（{root.code}）没有下级单位，无法考核")
        level = first.level
    if not below.filter(level=level).exists():
        raise BadRequest(f"机构 {root.name}（{root.code}）下没有层级为“{level}”的单位")
    earlier = None
    if corrects is not None:
        earlier = em.Round.objects.filter(pk=corrects).first()
        if earlier is None:
            raise NotFound(f"要更正的考核轮次 {corrects} 不存在")
        if earlier.status != em.RoundStatus.PUBLISHED:
            raise BadRequest(f"考核轮次 {corrects} 尚未发布，可直接修改，无需新建更正轮次")
        if not note.strip():
            raise BadRequest("更正轮次须在说明中写明更正了什么")
    snap = snapshots.open_snapshot(None, take_if_missing=False)
    return em.Round.objects.create(
        scheme=sch.code, year=int(year), kind=kind_.value, period=asked.code, snapshot_id=snap.id,
        rulebook=spec_catalogue.rulebook_version(), root=root, level=level, corrects=earlier, note=note.strip()[:500],
        created_by=actor.label[:150])


# --- score -----------------------------------------------------------------------------------------------------------
@dataclass
class Scored:
    round: em.Round
    units: int
    pending: int
    not_applicable: int


def _snapshot(rnd: em.Round) -> Snapshot:
    folder = snapshots.snapshot_root() / rnd.snapshot_id
    if not (folder / "manifest.json").is_file():
        raise NotFound(f"考核轮次 {rnd.pk} 冻结的快照 {rnd.snapshot_id} 已不存在，请新建一轮")
    return Snapshot.open(folder)


def _hint(rnd: em.Round, what: str, command: str) -> NotReady:
    return NotReady(f"考核轮次 {rnd.pk} 所用快照 {rnd.snapshot_id} 的 {rnd.period} {what}尚未保存，请先运行：{command}"
                    f"（同一快照），或等待每晚的自动计算（当年结果）")


def _scored_units(tree: OrgTree, rnd: em.Round) -> list[int]:
    root = next((i for i in tree.ids if tree.code[i] == rnd.root.code), None)
    if root is None:
        raise NotFound(f"机构 {rnd.root.code} 不在快照 {rnd.snapshot_id} 中")
    prefix = tree.path[root]
    return sorted((i for i in tree.ids if tree.level[i] == rnd.level and tree.path[i].startswith(prefix)
                   and i != root), key=lambda i: tree.code[i])


def _aligned(table: pa.Table, key: str, units: pa.Array, value: str) -> np.ndarray:
    """``value`` of ``table`` for each of ``units`` (NaN where the table has no row), without a loop over units."""
    at = pc.index_in(units, value_set=table.column(key).combine_chunks().cast(pa.int64()))
    got = pc.take(table.column(value).combine_chunks().cast(pa.float64()), at)
    return got.to_numpy(zero_copy_only=False).astype(float)


def _findings(tally: pa.Table, tree: OrgTree, units: pa.Array, rules: tuple[str, ...]) -> np.ndarray:
    """QC findings of ``rules`` in each unit's subtree (the tally counts them by responsible unit)."""
    hits = tally.filter(pc.and_(pc.equal(tally.column("kind"), "rule"),
                                pc.is_in(tally.column("key"), pa.array(list(rules), pa.string()))))
    if hits.num_rows == 0:
        return np.zeros(len(units))
    joined = tree.ancestor_pairs().join(hits.select(["org_unit_id", "n"]), "unit_id", "org_unit_id", join_type="inner")
    sums = joined.group_by("ancestor_id").aggregate([("n", "sum")])
    return np.nan_to_num(_aligned(sums, "ancestor_id", units, "n_sum"))


# the rectification-ledger rules a fabrication found by verification raises
VERIFICATION_RULES = tuple(sorted(spec_verification.FINDING_RULES))


def _fabrications(actor: Actor, period: str, codes: list[str]) -> np.ndarray:
    """Verification outcomes that revealed fabrication in each unit's subtree in the period (issue 13 §2)."""
    from gongwei.service import verification

    found = verification.verified_by_unit(actor, period, units=codes)
    return np.array([float(v.all.fabrication) if (v := found.get(c)) is not None and v.all else 0.0 for c in codes])


def _examined(tally: pa.Table, tree: OrgTree, units: pa.Array, rules: tuple[str, ...]) -> np.ndarray:
    """Records the rules examined in each unit's subtree (the tally's source-table rows, rolled up)."""
    from gongwei.engine.scorecard import examined_tables
    from gongwei.spec.quality import rules as qc_rules

    book = qc_rules()
    tables = sorted({t for r in rules for t in examined_tables(book[r].table)})
    rows = tally.filter(pc.and_(pc.equal(tally.column("kind"), "table"),
                                pc.is_in(tally.column("key"), pa.array(tables, pa.string()))))
    if rows.num_rows == 0:
        return np.zeros(len(units))
    joined = tree.ancestor_pairs().join(rows.select(["org_unit_id", "n"]), "unit_id", "org_unit_id", join_type="inner")
    sums = joined.group_by("ancestor_id").aggregate([("n", "sum")])
    return np.nan_to_num(_aligned(sums, "ancestor_id", units, "n_sum"))


def _targets(item: Item, codes: list[str], year: int) -> tuple[np.ndarray, list]:
    if item.target is not None or item.method is Method.AT_OR_BELOW_LIMIT:
        return np.full(len(codes), item.target if item.target is not None else np.nan), [None] * len(codes)
    book = spec_catalogue.targets()
    found = [book.resolve(item.indicator, year, c) for c in codes]  # no query: the rulebook's target list
    return np.array([t.value if t is not None and t.unit == "rate" else np.nan for t in found]), found


def _workload(snap: Snapshot, tree: OrgTree, units: pa.Array, rnd: em.Round, period) -> tuple[np.ndarray, ...]:
    """Each unit's service equivalents, services and resident population (NaN: no base entered) from the round's
    frozen snapshot: the leaf is as reproducible as the indicators (issue 12 §5)."""
    got = engine_workload.equivalents(snap, tree, period.start, period.end, spec_workload.WEIGHTS)
    eq = np.nan_to_num(_aligned(got, "org_unit_id", units, "equivalents"))
    services = np.nan_to_num(_aligned(got, "org_unit_id", units, "services"))
    base = base_values(snap, tree, rnd.year, spec_workload.POPULATION_GROUP)
    population = np.array([float(base.get(u, np.nan)) for u in units.to_pylist()])  # scored units: tens
    return eq, services, population


def _workload_target(item: Item, eq: np.ndarray, population: np.ndarray) -> np.ndarray:
    """The leaf's own target, or the median equivalents per 1,000 residents of the units that have a population."""
    if item.target is not None:
        return np.full(len(eq), float(item.target))
    has = np.nan_to_num(population) > 0
    if not has.any():
        return np.full(len(eq), np.nan)
    rates = eq[has] * spec_workload.PER_RESIDENTS / population[has]
    return np.full(len(eq), float(np.median(rates)))


def _pct(x: float | None) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x * 100:.2f}%"


def _rate_evidence(item: Item, rnd: em.Round, code: str, num, den, tgt, target_obj) -> dict:
    rate = None if not den or (isinstance(den, float) and math.isnan(den)) else num / den
    src = target_obj.source.ref if target_obj is not None else (item.source.ref if item.source else "")
    return {"kind": "indicator", "indicator": item.indicator, "numerator": None if math.isnan(num) else int(num),
            "denominator": None if math.isnan(den) else int(den), "rate": rate,
            "target": None if math.isnan(tgt) else float(tgt), "limit": item.limit, "target_source": src,
            "drill": {"gaps": {"indicator": item.indicator, "org": code, "period": rnd.period}}}


def _reason(item: Item, status: str, points: float, ev: dict) -> str:
    lost = round(item.points - points, 2)
    if status == kernel.NO_DENOMINATOR:
        if ev.get("kind") == "workload":
            return "合理缺项：本年度未录入常住人口数，本项不计分"
        if ev.get("kind") == "findings":
            return "合理缺项：规则未检查到任何记录，本项不计分"
        return "合理缺项：无服务对象（分母为 0），本项不计分"
    if status == kernel.NO_TARGET:
        return f"合理缺项：指标 {item.indicator} 在本年度无目标值，本项不计分"
    if status == kernel.PENDING:
        return "人工评分尚未录入"
    if lost <= 0:
        return ""
    kind = ev.get("kind")
    if kind == "indicator":
        figures = f"{ev['numerator']}/{ev['denominator']}={_pct(ev['rate'])}"
        if item.method is Method.AT_OR_BELOW_LIMIT:
            return f"{item.name}：{figures}，高于限值 {_pct(item.limit)}，扣 {lost:g} 分"
        return f"{item.name}：{figures}，低于目标值 {_pct(ev['target'])}，扣 {lost:g} 分"
    if kind == "workload":
        yardstick = "参评单位中位数" if ev["relative"] else "目标值"
        return (f"{item.name}：服务当量 {ev['equivalents']:g}，常住人口 {ev['population']:g}，每千人 "
                f"{ev['per_thousand']:.1f}，低于{yardstick} {ev['target']:.1f}，扣 {lost:g} 分")
    if kind == "findings":
        detail = "、".join(f"{k} {v} 个" for k, v in ev["by_rule"].items() if v)
        rate = f"，每千条记录 {ev['per_thousand']:g} 个" if item.per_thousand and ev.get("per_thousand") is not None else ""
        return f"质控发现问题 {ev['findings']} 个（{detail}），检查记录 {ev['examined']} 条{rate}，扣 {lost:g} 分"
    if kind == "manual":
        if item.method is Method.DEDUCT_PER_FINDING:
            return f"核实问题 {ev['value']:g} 个，扣 {lost:g} 分：{ev['note']}"
        return f"人工评分扣 {lost:g} 分：{ev['note']}"
    return f"扣 {lost:g} 分"


def _current_manual(rnd: em.Round) -> dict[tuple[int, str], em.ManualScore]:
    rows = em.ManualScore.objects.filter(round=rnd, superseded_by__isnull=True)
    return {(m.org_unit_id, m.item): m for m in rows}


def score_round(actor: Actor, round_id) -> Scored:
    """Score every unit of a draft round from the stored results of its snapshot and period; a new run."""
    rnd = _editable(actor, round_id, "考核评分")
    if rnd.rulebook != spec_catalogue.rulebook_version():
        raise BadRequest(f"考核轮次 {rnd.pk} 创建时的规则库版本为 {rnd.rulebook}，当前为 "
                         f"{spec_catalogue.rulebook_version()}，评分不可重现，请新建一轮")
    sch = scheme_of(rnd.scheme)
    snap = _snapshot(rnd)
    period = period_of(rnd.period)
    tree = OrgTree.load(snap)
    unit_ids = _scored_units(tree, rnd)
    if not unit_ids:
        raise BadRequest(f"快照 {rnd.snapshot_id} 中 {rnd.root.name} 下没有层级为“{rnd.level}”的单位")
    units = pa.array(unit_ids, pa.int64())
    codes = [tree.code[i] for i in unit_ids]
    db_ids = dict(rm.OrgUnit.objects.filter(code__in=codes).values_list("code", "id"))
    leaves = sch.leaves()

    wanted = sorted({i.indicator for i in leaves if i.indicator})
    stored = results.stored_indicators(rnd.snapshot_id, period) if wanted else None
    have = set() if stored is None else set(pc.unique(stored.column("indicator")).to_pylist())
    if wanted and not set(wanted) <= have:
        missing = [c for c in wanted if c not in have]
        raise _hint(rnd, f"指标（缺 {'、'.join(missing[:8])}{'等' if len(missing) > 8 else ''}）",
                    f"gongwei indicators --org {rnd.root.code} --period {rnd.period} --indicators {','.join(missing)} "
                    f"--snapshot {snapshots.snapshot_root() / rnd.snapshot_id}")
    rules = sorted({r for i in leaves for r in i.rules})
    tally = None
    if rules:
        try:
            tally = results.stored_qc_tally(rnd.snapshot_id, period, rules)
        except NotReady:
            raise _hint(rnd, f"质控结果（规则 {'、'.join(rules)}）",
                        f"gongwei qc --org {rnd.root.code} --period {rnd.period} "
                        f"--snapshot {snapshots.snapshot_root() / rnd.snapshot_id}") from None
    manual = _current_manual(rnd)

    n, m = len(unit_ids), len(leaves)
    points = np.zeros((n, m))
    status = np.full((n, m), kernel.SCORED, dtype=object)
    evidence: list[list[dict]] = [[{} for _ in range(m)] for _ in range(n)]
    workload = None
    for j, item in enumerate(leaves):  # a loop over the scheme's leaves (tens), each vectorised over the units
        if item.workload:
            if workload is None:
                workload = _workload(snap, tree, units, rnd, period)
            eq, services, population = workload
            tgt = _workload_target(item, eq, population)
            per = spec_workload.PER_RESIDENTS
            points[:, j], status[:, j] = kernel.rate_leaf(item, eq * per, population, tgt)
            for u in range(n):
                has = not math.isnan(population[u]) and population[u] > 0
                evidence[u][j] = {"kind": "workload", "equivalents": round(float(eq[u]), 2),
                                  "services": int(services[u]),
                                  "population": None if math.isnan(population[u]) else int(population[u]),
                                  "per_thousand": round(float(eq[u]) * per / population[u], 2) if has else None,
                                  "target": None if math.isnan(tgt[u]) else round(float(tgt[u]), 2),
                                  "relative": item.target is None,
                                  "drill": {"workload": {"org": codes[u], "period": rnd.period}}}
        elif item.method in se.RATE_METHODS:
            rows = stored.filter(pc.equal(stored.column("indicator"), item.indicator))
            num = np.nan_to_num(_aligned(rows, "org_unit_id", units, "numerator"))
            den = _aligned(rows, "org_unit_id", units, "denominator")
            tgt, tobj = _targets(item, codes, rnd.year)
            points[:, j], status[:, j] = kernel.rate_leaf(item, num, den, tgt)
            for u in range(n):
                evidence[u][j] = _rate_evidence(item, rnd, codes[u], float(num[u]), float(den[u]), float(tgt[u]),
                                                tobj[u])
        elif item.verified:
            found = _fabrications(actor, rnd.period, codes)
            if item.method is Method.YES_NO:
                points[:, j], status[:, j] = kernel.yes_no_leaf(item, (found == 0).astype(float))
            else:
                points[:, j], status[:, j] = kernel.deduct_leaf(item, found)
            for u in range(n):
                evidence[u][j] = {"kind": "findings", "findings": int(found[u]), "examined": None,
                                  "per_thousand": None, "by_rule": {},
                                  "drill": {"findings": {"rules": list(VERIFICATION_RULES), "org": codes[u],
                                                         "period": rnd.period}}}
        elif item.rules:
            per_rule = {r: _findings(tally, tree, units, (r,)) for r in item.rules}
            found = sum(per_rule.values())
            examined = _examined(tally, tree, units, item.rules)
            if item.method is Method.YES_NO:
                points[:, j], status[:, j] = kernel.yes_no_leaf(item, (found == 0).astype(float))
            else:
                points[:, j], status[:, j] = kernel.deduct_leaf(item, found, examined)
            for u in range(n):
                evidence[u][j] = {"kind": "findings", "findings": int(found[u]), "examined": int(examined[u]),
                                  "per_thousand": (round(float(found[u]) / examined[u] * 1000, 2)
                                                   if examined[u] else None),
                                  "by_rule": {r: int(v[u]) for r, v in per_rule.items()},
                                  "drill": {"findings": {"rules": list(item.rules), "org": codes[u],
                                                         "period": rnd.period}}}
        else:
            entered = [manual.get((db_ids.get(c), item.code)) for c in codes]
            values = np.array([e.value if e is not None else np.nan for e in entered])
            if item.method is Method.YES_NO:
                points[:, j], status[:, j] = kernel.yes_no_leaf(item, values)
            elif item.method is Method.DEDUCT_PER_FINDING:
                points[:, j], status[:, j] = kernel.deduct_leaf(item, values)
            else:
                points[:, j], status[:, j] = kernel.manual_leaf(item, values)
            for u, e in enumerate(entered):
                evidence[u][j] = {"kind": "manual", "pending": True} if e is None else {
                    "kind": "manual", "value": e.value, "note": e.note, "file": e.file, "by": e.entered_by,
                    "at": timezone.localtime(e.entered_at).strftime("%Y-%m-%d %H:%M"), "entry": e.pk}

    maxima = np.tile(np.array([i.points for i in leaves], dtype=float), (n, 1))
    applicable = np.vectorize(lambda s: s not in kernel.NOT_APPLICABLE, otypes=[float])(status)
    totals = kernel.total(points, maxima, applicable, sch.points)
    vetoed = np.array([(e := manual.get((db_ids.get(c), VETO))) is not None and e.value >= 0.5 for c in codes])
    ranks = kernel.competition_rank(np.where(vetoed, -1.0, totals))

    with transaction.atomic():
        rnd = em.Round.objects.select_for_update().get(pk=rnd.pk)
        if rnd.status == em.RoundStatus.PUBLISHED:
            raise Refused(LOCKED)
        run = rnd.run + 1
        inner = [i for i in sch.walk() if not i.leaf]
        member = np.array([[1.0 if x.code in {y.code for y in p.walk()} else 0.0 for x in leaves] for p in inner])
        inner_points = np.round((points * applicable) @ member.T, 4)  # units × inner items
        inner_possible = (maxima * applicable) @ member.T
        org_ids = [db_ids.get(c) for c in codes]
        if None in org_ids:
            raise NotFound(f"快照中的机构 {codes[org_ids.index(None)]} 在数据库中不存在")
        pending = (status == kernel.PENDING).sum(axis=1)
        unit_rows = []
        for u in range(n):
            ratio, note = funds.funds_ratio(float(totals[u]), veto=bool(vetoed[u]))
            if vetoed[u]:  # the evaluator's finding behind the veto, with who entered it
                veto = manual[(org_ids[u], VETO)]
                note = f"{note}：{veto.note}（{veto.entered_by}）"
            unit_rows.append(em.UnitScore(
                round=rnd, run=run, org_unit_id=org_ids[u], score=float(totals[u]),
                points=float((points[u] * applicable[u]).sum()), possible=float((maxima[u] * applicable[u]).sum()),
                rank=int(ranks[u]), funds_ratio=ratio, funds_note=note[:200], vetoed=bool(vetoed[u]),
                pending=int(pending[u])))
        em.UnitScore.objects.bulk_create(unit_rows, batch_size=2000)
        # item rows: leaves (units × leaves) then inner items (units × inner), as columns for the bulk writer
        k = len(inner)
        reasons = [_reason(leaves[j], status[u, j], float(points[u, j]), evidence[u][j])[:400]
                   for u in range(n) for j in range(m)]
        evidence_json = [json.dumps(evidence[u][j], ensure_ascii=False) for u in range(n) for j in range(m)]
        cols = {
            "round_id": pa.array(np.full(n * (m + k), rnd.pk), pa.int64()),
            "run": pa.array(np.full(n * (m + k), run), pa.int64()),
            "org_unit_id": pa.array(np.concatenate([np.repeat(org_ids, m), np.repeat(org_ids, k)]).astype(np.int64)),
            "item": pa.array([x.code for x in leaves] * n + [x.code for x in inner] * n, pa.string()),
            "points": pa.array(np.concatenate([points.ravel(), inner_points.ravel()]), pa.float64()),
            "max_points": pa.array(np.concatenate([maxima.ravel(), inner_possible.ravel()]), pa.float64()),
            "status": pa.array(list(status.ravel()) + ["sum"] * (n * k), pa.string()),
            "reason": pa.array(reasons + [""] * (n * k), pa.string()),
            "evidence": pa.array(evidence_json + ["{}"] * (n * k), pa.string()),
        }
        bulk.append_rows(em.ItemScore._meta.db_table, cols)
        rnd.run = run
        rnd.scored_at = timezone.now()
        rnd.save(update_fields=["run", "scored_at"])
    return Scored(rnd, n, int(pending.sum()), int((applicable == 0).sum()))


# --- manual entries --------------------------------------------------------------------------------------------------
def _evidence_folder(rnd: em.Round) -> Path:
    return snapshots.data_dir() / "evidence" / f"round-{rnd.pk}"


def _check_upload(item: str, upload: tuple[str, bytes]) -> tuple[str, bytes]:
    """The uploaded evidence's name (its last path part, characters a file system may mangle replaced) and bytes,
    refused when empty, too large or of a kind nobody can open without running it."""
    name, data = upload
    base = re.sub(r"[^\w.\-（）()]", "_", Path(str(name).replace("\\", "/")).name).lstrip(".")[:120]
    if not base:
        raise BadRequest(f"项目 {item} 的佐证文件名无效")
    if Path(base).suffix.lower() not in EVIDENCE_SUFFIXES:
        raise BadRequest(f"项目 {item} 的佐证文件类型“{Path(base).suffix or '无扩展名'}”不允许"
                         f"（可上传：{'、'.join(sorted(EVIDENCE_SUFFIXES))}）")
    if not data:
        raise BadRequest(f"项目 {item} 的佐证文件是空文件")
    if len(data) > MAX_EVIDENCE:
        raise BadRequest(f"项目 {item} 的佐证文件超过 {MAX_EVIDENCE // (1024 * 1024)} MB")
    return base, data


def _store_evidence(rnd: em.Round, unit: rm.OrgUnit, item: str, name: str, data: bytes) -> str:
    """Write the evidence owner-only inside the round's folder; the stored name never replaces an earlier file
    (an entry's history keeps pointing at the file it was made with)."""
    folder = safe_files.private_dir(_evidence_folder(rnd))
    stamp = timezone.now().strftime("%Y%m%d%H%M%S%f")
    stored = f"{unit.code}-{item}-{stamp}-{name}"
    path = safe_files.inside(folder, stored)
    with safe_files.open_private(path, "wb") as f:
        f.write(data)
    return stored


def set_manual(actor: Actor, round_id, org: str, item: str, value: float, note: str, *, file: str = "",
               reason: str = "", upload: tuple[str, bytes] | None = None) -> em.ManualScore:
    """An evaluator's entry for a manual leaf of a unit (``item`` = ``VETO``: the fraud veto, value 1 or 0);
    a change keeps the earlier entry and needs a reason. Takes effect at the next scoring. ``upload`` (name,
    bytes): an evidence file, stored in the round's folder; ``file`` names evidence kept elsewhere (the CLI)."""
    rnd = _editable(actor, round_id, "人工评分")
    if upload is not None:
        upload = _check_upload(item, upload)
        file = file or upload[0]
    sch = scheme_of(rnd.scheme)
    unit = rm.OrgUnit.objects.filter(code=org).first()
    if unit is None:
        raise NotFound(f"机构代码 {org} 不存在")
    actor.check_path(unit.path, f"机构 {unit.name}（{unit.code}）")
    if not unit.path.startswith(rnd.root.path) or unit.pk == rnd.root_id or unit.level != rnd.level:
        raise BadRequest(f"机构 {unit.name}（{unit.code}）不是考核轮次 {rnd.pk} 的被考核单位")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise BadRequest(f"评分值“{value}”不是数字") from None
    if item == VETO:
        if value not in (0.0, 1.0):
            raise BadRequest("一票否决的录入值只能是 1（否决）或 0（撤销）")
        leaf = None
    else:
        try:
            leaf = sch.item(item)
        except KeyError:
            raise BadRequest(f"考核方案 {sch.code} 中没有项目 {item}") from None
        if not leaf.leaf or not leaf.manual:
            raise BadRequest(f"项目 {leaf.code}（{leaf.name}）不是人工评分项，由系统按记录计算")
        low, high = leaf.entry_range()
        if not (low <= value <= high) or math.isnan(value):
            what = "核实问题数" if leaf.method is Method.DEDUCT_PER_FINDING else "评分"
            rng = f"{low:g} 以上" if math.isinf(high) else f"{low:g}–{high:g}"
            raise BadRequest(f"项目 {leaf.code}（{leaf.name}）的{what} {value:g} 超出范围（{rng}）")
        if leaf.method is Method.DEDUCT_PER_FINDING and value != int(value):
            raise BadRequest(f"项目 {leaf.code}（{leaf.name}）的核实问题数应为整数")
        if leaf.file_required and not file.strip():
            raise BadRequest(f"项目 {leaf.code}（{leaf.name}）须附佐证文件")
    if not note.strip():
        raise BadRequest(f"项目 {item} 的人工评分须填写评分说明")
    with transaction.atomic():
        earlier = (em.ManualScore.objects.select_for_update()
                   .filter(round=rnd, org_unit=unit, item=item, superseded_by__isnull=True).first())
        if earlier is not None and not reason.strip():
            raise BadRequest(f"项目 {item} 已录入 {earlier.value:g}（{earlier.entered_by}），修改须说明原因")
        if upload is not None:
            file = _store_evidence(rnd, unit, item, *upload)
        entry = em.ManualScore.objects.create(
            round=rnd, org_unit=unit, item=item, value=value, note=note.strip()[:500], file=file.strip()[:300],
            reason=reason.strip()[:300], entered_by=actor.label[:150])
        if earlier is not None:
            earlier.superseded_by = entry
            earlier.save(update_fields=["superseded_by"])
    return entry


def manual_history(actor: Actor, round_id, org: str, item: str) -> list[em.ManualScore]:
    rnd = get_round(actor, round_id)
    unit = rm.OrgUnit.objects.filter(code=org).first()
    if unit is None:
        raise NotFound(f"机构代码 {org} 不存在")
    actor.check_path(unit.path, f"机构 {unit.name}（{unit.code}）")
    return list(em.ManualScore.objects.filter(round=rnd, org_unit=unit, item=item).order_by("entered_at", "pk"))


def evidence_file(actor: Actor, round_id, entry_id) -> tuple[Path, str]:
    """The evidence file of a manual entry (path, name to download as), for anyone who sees the entry's unit."""
    rnd = get_round(actor, round_id)
    try:
        entry = em.ManualScore.objects.select_related("org_unit").get(pk=int(entry_id), round=rnd)
    except (ValueError, TypeError):
        raise BadRequest(f"人工评分编号“{entry_id}”应为整数") from None
    except em.ManualScore.DoesNotExist:
        raise NotFound(f"考核轮次 {rnd.pk} 没有人工评分 {entry_id}") from None
    actor.check_path(entry.org_unit.path, f"机构 {entry.org_unit.name}（{entry.org_unit.code}）")
    if not entry.file:
        raise NotFound(f"人工评分 {entry.pk} 没有佐证文件")
    try:
        path = safe_files.inside(_evidence_folder(rnd), entry.file)
    except ValueError:
        path = None
    if path is None or not path.is_file():
        raise NotFound(f"佐证文件“{entry.file}”未上传到系统（仅记录了文件名）")
    shown = entry.file.split("-", 3)[-1] if entry.file.startswith(f"{entry.org_unit.code}-") else entry.file
    return path, shown


def can_edit(actor: Actor, rnd: em.Round) -> bool:
    """Whether the actor may score, enter and publish in this round (the pages show the forms only then)."""
    return (actor.role in EVALUATOR_ROLES and actor.sees_path(rnd.root.path)
            and rnd.status != em.RoundStatus.PUBLISHED)


@dataclass
class ManualForm:
    round: em.Round
    unit: rm.OrgUnit
    item: Item | None  # None: the fraud veto
    history: list[em.ManualScore]
    current: em.ManualScore | None
    low: float
    high: float


def manual_form(actor: Actor, round_id, org: str, item: str) -> ManualForm:
    """What the entry form of one manual item of one unit shows: the item, its range and every earlier entry."""
    rnd = get_round(actor, round_id)
    sch = scheme_of(rnd.scheme)
    if item == VETO:
        leaf, low, high = None, 0.0, 1.0
    else:
        try:
            leaf = sch.item(item)
        except KeyError:
            raise NotFound(f"考核方案 {sch.code} 中没有项目 {item}") from None
        if not leaf.leaf or not leaf.manual:
            raise BadRequest(f"项目 {leaf.code}（{leaf.name}）不是人工评分项，由系统按记录计算")
        low, high = leaf.entry_range()
    history = manual_history(actor, rnd.pk, org, item)
    unit = rm.OrgUnit.objects.get(code=org)
    current = next((h for h in history if h.superseded_by_id is None), None)
    return ManualForm(rnd, unit, leaf, history, current, low, high)


# --- publish ---------------------------------------------------------------------------------------------------------
def publish(actor: Actor, round_id) -> em.Round:
    rnd = _editable(actor, round_id, "发布考核结果")
    if rnd.run == 0:
        raise BadRequest(f"考核轮次 {rnd.pk} 尚未评分，不能发布")
    if em.ManualScore.objects.filter(round=rnd, entered_at__gt=rnd.scored_at).exists():
        raise BadRequest(f"考核轮次 {rnd.pk} 评分后又录入了人工评分，请重新评分后再发布")
    pending = em.UnitScore.objects.filter(round=rnd, run=rnd.run, pending__gt=0).count()
    if pending:
        raise BadRequest(f"考核轮次 {rnd.pk} 仍有 {pending} 个单位的人工评分项未录入，不能发布")
    with transaction.atomic():
        rnd = em.Round.objects.select_for_update().get(pk=rnd.pk)
        if rnd.status == em.RoundStatus.PUBLISHED:
            raise Refused(LOCKED)
        rnd.status = em.RoundStatus.PUBLISHED
        rnd.published_by = actor.label[:150]
        rnd.published_at = timezone.now()
        rnd.save(update_fields=["status", "published_by", "published_at"])
    return rnd


# --- reading a round -------------------------------------------------------------------------------------------------
@dataclass
class UnitRow:
    code: str
    name: str
    score: em.UnitScore
    items: dict[str, em.ItemScore] = field(default_factory=dict)


@dataclass
class RoundReport:
    round: em.Round
    scheme: Scheme
    rows: list[UnitRow]  # by rank, then code; only the units the actor may see
    generated: dt.datetime

    def lost(self) -> list[tuple[UnitRow, Item, em.ItemScore]]:
        """Each lost point of each unit (leaves only), in scheme order: the 各单位问题列表."""
        leaves = self.scheme.leaves()
        out = []
        for row in self.rows:
            for item in leaves:
                s = row.items.get(item.code)
                if s is not None and (s.points < s.max_points - 1e-9 or s.status != kernel.SCORED):
                    out.append((row, item, s))
        return out


def round_report(actor: Actor, round_id) -> RoundReport:
    """The current run of a round, for the units in the actor's subtree (an evaluator: all; a unit: its own)."""
    rnd = get_round(actor, round_id)
    if rnd.run == 0:
        raise NotReady(f"考核轮次 {rnd.pk} 尚未评分，请先运行 gongwei evaluate score --round {rnd.pk}")
    scores = list(em.UnitScore.objects.filter(round=rnd, run=rnd.run).select_related("org_unit"))
    visible = [s for s in scores if actor.sees_path(s.org_unit.path)]
    if not visible:
        raise Refused(f"考核轮次 {rnd.pk} 中没有您权限范围内的单位（{actor.scope_text()}）")
    ids = [s.org_unit_id for s in visible]
    items = em.ItemScore.objects.filter(round=rnd, run=rnd.run, org_unit_id__in=ids)
    rows = {s.org_unit_id: UnitRow(s.org_unit.code, s.org_unit.name, s) for s in visible}
    for it in items:
        rows[it.org_unit_id].items[it.item] = it
    ordered = sorted(rows.values(), key=lambda r: (r.score.rank, r.code))
    return RoundReport(rnd, scheme_of(rnd.scheme), ordered, timezone.now())


def unit_report(actor: Actor, round_id, org: str) -> tuple[RoundReport, UnitRow]:
    """One scored unit of a round with every item (the unit page); outside the actor's subtree refused."""
    rnd = get_round(actor, round_id)
    unit = rm.OrgUnit.objects.filter(code=org).first()
    if unit is None:
        raise NotFound(f"机构代码 {org} 不存在")
    actor.check_path(unit.path, f"机构 {unit.name}（{unit.code}）")
    report = round_report(actor, rnd.pk)
    row = next((r for r in report.rows if r.code == org), None)
    if row is None:
        raise NotFound(f"机构 {unit.name}（{unit.code}）不是考核轮次 {rnd.pk} 的被考核单位")
    report.rows = [row]
    return report, row


def rounds(actor: Actor) -> list[em.Round]:
    """Rounds whose scope overlaps the actor's subtree, newest first."""
    return [r for r in em.Round.objects.select_related("root").order_by("-year", "-pk")[:500]
            if _overlaps(actor, r.root.path)]


__all__ = ["EVALUATOR_ROLES", "LOCKED", "ManualForm", "RoundReport", "Scored", "VETO", "can_edit", "create_round",
           "evidence_file", "get_round", "manual_form", "manual_history", "publish", "round_report", "rounds", "score_round",
           "set_manual", "unit_report", "EDITABLE_FIELDS", "copy_scheme", "edit_scheme", "regional_scheme", "schemes_for"]
