"""Use cases of the indicator dashboard (web): the bulletin table of a unit from STORED results, an indicator's
trend over the stored periods and the ranking of its child units, and the gap list filtered by reason.

Pages never compute the catalogue: everything here reads the results store, and when a period has not been
computed the actor is told which command computes it (:class:`NotReady`). Scope checks, masking and the audit
trail stay in :mod:`gongwei.service.analysis`, which this module calls.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from gongwei.engine import registry
from gongwei.engine.compare import Figure
from gongwei.service import analysis, navigation, results, snapshots
from gongwei.service.access import Actor
from gongwei.service.errors import BadRequest, NotFound, NotReady, ServiceError
from gongwei.spec import catalogue as spec_catalogue
from gongwei.spec.periods import Period, parse
from gongwei.spec.rules import Comparator, Target

# A figure below its target by at most this much is "near" (amber) rather than "far" (red): 5 percentage points
# for a rate target; for a count target (≥1913人) 5 % of the target. docs/web.md documents it for users.
NEAR_MARGIN = 0.05

MET, NEAR, FAR = "met", "near", "far"
STANDING_ZH = {MET: "达标", NEAR: "接近", FAR: "未达标", None: ""}

PAGE_SIZE = 50


def standing(f: Figure) -> str | None:
    """met / near / far against the target; None without a target or a rate."""
    if f.met is None or f.target is None:
        return None
    if f.met:
        return MET
    return NEAR if _gap_to_target(f, f.target) <= NEAR_MARGIN + 1e-12 else FAR


def _gap_to_target(f: Figure, target: Target) -> float:
    """How far from the target, as a rate (percentage points / 100) or a share of a count target."""
    lower_is_better = target.comparator in (Comparator.LE, Comparator.LT)
    if target.unit == "count":
        diff = (f.numerator - target.value) if lower_is_better else (target.value - f.numerator)
        return diff / target.value if target.value else float("inf")
    rate = f.rate or 0.0
    return (rate - target.value) if lower_is_better else (target.value - rate)


def compute_hint(org: str, period: Period) -> str:
    return f"gongwei indicators --org {org} --period {period.code}"


# --- the results store, as the pages read it -------------------------------------------------------------------
def _latest_snapshot():
    # never take a snapshot from a page: with none, NotFound says to run `gongwei snapshot`. Only the folder and id
    # here — the analysis layer opens the engine once (a DuckDB connection costs ~0.1 s)
    return snapshots.open_snapshot(None, take_if_missing=False)


def _stored_codes(snapshot_id: str, period: Period) -> set[str] | None:
    """The indicator codes stored for a period (one column of the file), None when nothing is stored."""
    t = results.stored_indicators(snapshot_id, period)  # read once per process: analysis reads the same table
    if t is None:
        return None
    return set(pc.unique(t.column("indicator")).to_pylist()) or None


def stored_periods(snapshot_id: str) -> list[Period]:
    """Periods whose indicator results are stored for this snapshot and rulebook, oldest first."""
    folder = Path(snapshots.results_root()) / snapshot_id
    name = f"{spec_catalogue.rulebook_version()}.parquet"  # the file results.indicator_path names
    found = []
    for sub in folder.iterdir() if folder.is_dir() else ():
        try:
            p = parse(sub.name)
        except ValueError:
            continue
        if (sub / name).is_file():
            found.append(p)
    return sorted(found, key=lambda p: (p.end, p.start, p.code))


def _not_ready(unit: navigation.Place, period: Period, snapshot_id: str) -> NotReady:
    return NotReady(f"{unit.name}{period.code}（{period.label}）的指标尚未计算（快照 {snapshot_id}）。"
                    f"请由系统管理员运行计算任务：{compute_hint(unit.code, period)}，或等待每晚的自动计算")


def _period_or_latest(text: str | None, stored: list[Period], unit: navigation.Place, snapshot_id: str) -> Period:
    if text:
        return analysis.period_of(text)
    if not stored:
        raise NotReady(f"快照 {snapshot_id} 尚无任何期间的指标结果。请由系统管理员运行计算任务："
                       f"{compute_hint(unit.code, parse('2025'))}（期间按需要填写）")
    return stored[-1]


# --- the bulletin table ---------------------------------------------------------------------------------------
@dataclass
class Row:
    figure: Figure
    standing: str | None
    own: bool  # the unit itself (first row of its indicator), not a child
    gap: int | None  # people in the gap (denominator − numerator) where the denominator is people


@dataclass
class Block:
    code: str
    name: str
    rows: list[Row]
    listable: bool  # the gap can be listed person by person

    @property
    def own(self) -> Row:
        return self.rows[0]


@dataclass
class Dashboard:
    place: navigation.Place
    report: analysis.IndicatorReport
    blocks: list[Block]
    periods: list[Period]  # stored, oldest first
    catalogue_size: int

    @property
    def partial(self) -> bool:
        return len(self.blocks) < self.catalogue_size


def _blocks(report: analysis.IndicatorReport) -> list[Block]:
    catalogue = spec_catalogue.indicators()
    blocks: dict[str, Block] = {}
    for f in report.figures:
        ind = catalogue[f.indicator]
        b = blocks.setdefault(f.indicator, Block(f.indicator, f.name, [], ind.cohort_flag is not None))
        # a numerator above its denominator (people served who are not in the base) leaves nobody in the gap
        gap = max(f.denominator - f.numerator, 0) if b.listable and f.denominator is not None else None
        b.rows.append(Row(f, standing(f), f.unit_id == report.unit.id, gap))
    return list(blocks.values())


def dashboard(actor: Actor, org: str, period: str | None = None, *, codes: list[str] | None = None,
              backend: str = "duckdb") -> Dashboard:
    """The bulletin table of ``org`` and its child units for ``period`` (default: the latest stored), from the
    results store only; the indicators shown are those stored (all of them after the nightly job)."""
    place = navigation.place(actor, org)  # scope first: a refused unit is a 403 whether or not it is computed
    snap = _latest_snapshot()
    stored = stored_periods(snap.id)
    asked = _period_or_latest(period, stored, place, snap.id)
    have = _stored_codes(snap.id, asked)
    if have is None:
        raise _not_ready(place, asked, snap.id)
    order = [c for c in spec_catalogue.indicators() if c in have and (codes is None or c in codes)]
    if not order:
        raise _not_ready(place, asked, snap.id)
    report = analysis.indicators(actor, org, asked.code, codes=order, snapshot=str(snap.folder),
                                 backend=backend, compute=False)
    return Dashboard(place, report, _blocks(report), stored, len(spec_catalogue.indicators()))


# --- what a rendered bulletin table depends on (issue 10: the page is cached by this key) --------------------
@dataclass(frozen=True)
class BoardVersion:
    """The bulletin table of a unit and period, identified without building it: ``key`` changes whenever what
    the table shows can change (a new snapshot, a stored result written or replaced, another period stored, a
    new rulebook), so a rendered table kept under it never needs to expire by time."""

    place: navigation.Place
    period: Period
    key: str


def _file_id(path: Path) -> str:
    # results are replaced by rename (results._write): a new file is a new inode and modification time
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "-"
    return f"{st.st_ino}.{st.st_mtime_ns}.{st.st_size}"


def dashboard_version(actor: Actor, org: str, period: str | None = None) -> BoardVersion:
    """Scope check and the key of :func:`dashboard`'s table for ``actor`` — a few ``stat`` calls, no Parquet read.
    The key holds the unit, the snapshot, the rulebook, the period asked and the one compared with, the periods
    stored (the page links them) and the actor's masking: whatever makes two logins' answers differ."""
    place = navigation.place(actor, org)  # a refused unit is a 403 before anything is looked up
    snap = _latest_snapshot()
    stored = stored_periods(snap.id)
    asked = _period_or_latest(period, stored, place, snap.id)
    current = _file_id(results.indicator_path(snap.id, asked))
    if current == "-":
        raise _not_ready(place, asked, snap.id)
    parts = [place.code, place.path, snap.id, spec_catalogue.rulebook_version(), asked.code, current,
             _file_id(results.indicator_path(snap.id, asked.previous())), ",".join(p.code for p in stored),
             "unmasked" if actor.unmasked else "masked"]
    return BoardVersion(place, asked, "bulletin:" + hashlib.sha256("|".join(parts).encode()).hexdigest())


def warm() -> None:
    """At a server process's start (gongwei.wsgi): open the latest snapshot's engine and read the latest stored
    period and the one before into the process's table memo, so its first dashboard does not pay for them
    (issue 10: < 1 s cold). Computes nothing; with no snapshot or nothing stored it does nothing."""
    try:
        snap = _latest_snapshot()
        stored = stored_periods(snap.id)
        snapshots.engine(None, take_if_missing=False)
    except (ServiceError, OSError):
        return
    for p in stored[-1:]:
        results.stored_indicators(snap.id, p)
        results.stored_indicators(snap.id, p.previous())


# --- one indicator: figures, trend, ranking -----------------------------------------------------------------------
@dataclass
class TrendPoint:
    period: Period
    numerator: int
    denominator: int | None
    rate: float | None
    target: float | None  # a rate target's value, for the chart's target line


@dataclass
class IndicatorPage:
    dashboard: Dashboard
    block: Block
    trend: list[TrendPoint]
    reasons: list[tuple[str, str]] = field(default_factory=list)

    def chart_data(self) -> dict:
        """What dashboard.js draws: the trend of the unit and the ranking of its children, with target lines."""
        own = self.block.own.figure
        target = own.target.value if own.target is not None and own.target.unit == "rate" else None
        children = sorted((r for r in self.block.rows if not r.own and r.figure.rate is not None),
                          key=lambda r: r.figure.rate)
        return {
            "indicator": f"{self.block.code} {self.block.name}",
            "unit": self.dashboard.place.name,
            "trend": {"labels": [p.period.code for p in self.trend],
                      "rates": [None if p.rate is None else round(p.rate * 100, 2) for p in self.trend],
                      "targets": [None if p.target is None else round(p.target * 100, 2) for p in self.trend]},
            "ranking": {"labels": [r.figure.unit_name for r in children],
                        "rates": [round(r.figure.rate * 100, 2) for r in children],
                        "standing": [r.standing or "" for r in children]},
            "target": None if target is None else round(target * 100, 2),
        }


def indicator(actor: Actor, org: str, code: str, period: str | None = None, *, backend: str = "duckdb"
              ) -> IndicatorPage:
    """One indicator for ``org``: its figures and children's, its trend over the stored periods, its gap reasons."""
    canonical = spec_catalogue.canonical_code(code)
    if canonical is None:
        raise NotFound(f"指标代码 {code} 不存在")
    board = dashboard(actor, org, period, codes=[canonical], backend=backend)
    if not board.blocks:
        raise _not_ready(board.place, board.report.period, board.report.basis.snapshot_id)
    return IndicatorPage(board, board.blocks[0], _trend(board, canonical), gap_reasons(canonical))


def _trend(board: Dashboard, code: str) -> list[TrendPoint]:
    """The unit's figure in each stored period of the same kind as the one asked (a year beside a quarter-to-date
    figure would compare unlike things). One small Parquet read per stored period, not per person."""
    asked = board.report.period
    unit_id = board.report.unit.id
    book = spec_catalogue.targets()
    points = []
    for p in board.periods:
        if p.kind is not asked.kind:
            continue
        try:  # only this indicator's row group of the file, not every unit × indicator of the period
            t = pq.read_table(results.indicator_path(board.report.basis.snapshot_id, p),
                              filters=[("indicator", "=", code)])
        except (FileNotFoundError, OSError, pa.ArrowInvalid):
            continue
        hit = t.filter(pc.equal(t.column("org_unit_id"), pa.scalar(unit_id, t.schema.field("org_unit_id").type)))
        if hit.num_rows == 0:
            continue
        r = hit.slice(0, 1).to_pylist()[0]
        target = book.resolve(code, p.year, board.place.code)
        points.append(TrendPoint(p, r["numerator"], r["denominator"],
                                 r["numerator"] / r["denominator"] if r["denominator"] else None,
                                 target.value if target is not None and target.unit == "rate" else None))
    return points


# --- gap lists ------------------------------------------------------------------------------------------------
def gap_reasons(code: str) -> list[tuple[str, str]]:
    """(reason code, plain Chinese label) an indicator's gap people can have, for the filter of the list."""
    ind = spec_catalogue.indicators()[code]
    if ind.cohort_flag is None:
        return []
    _, spec = registry.evaluators()[ind.program_code]
    keys = getattr(spec, "FLAG_REASONS", {}).get(ind.numerator_flag, ())
    return [(spec.GAP_REASONS[k].code, re.sub(r"\s*\{[^}]+\}\s*", "…", spec.GAP_REASONS[k].template))
            for k in keys]


@dataclass
class GapList:
    place: navigation.Place
    result: analysis.GapPage
    indicator: str
    name: str
    reason: str | None
    reasons: list[tuple[str, str]]

    @property
    def pages(self) -> int:
        page = self.result.page
        return max(1, -(-page.total // page.size))


def gap_list(actor: Actor, org: str, code: str, period: str, *, reason: str | None = None, page: int = 1,
             size: int = PAGE_SIZE, export: bool = False, backend: str = "duckdb") -> GapList:
    """The people in ``code``'s gap in ``org``, optionally with one reason; audited by the analysis layer as a
    view (a page) or an export (``export=True``: every person, one audit row each)."""
    canonical = spec_catalogue.canonical_code(code)
    if canonical is None:
        raise NotFound(f"指标代码 {code} 不存在")
    place = navigation.place(actor, org)
    asked = analysis.period_of(period)
    snap = _latest_snapshot()
    if _stored_codes(snap.id, asked) is None:
        raise _not_ready(place, asked, snap.id)
    reasons = gap_reasons(canonical)
    reason = (reason or "").strip() or None
    if reason is not None and reason not in dict(reasons):
        allowed = "、".join(c for c, _ in reasons) or "无（该指标不能逐人列出）"
        raise BadRequest(f"缺口原因“{reason}”不适用于指标 {canonical}（可选：{allowed}）")
    if export:
        page, size = 1, 10**9  # the whole list in the file; the audit names every person in it
    got = analysis.gap_list(actor, canonical, org, asked.code, page=page, size=size, reason=reason,
                            snapshot=str(snap.folder), backend=backend, export=export)
    return GapList(place, got, canonical, spec_catalogue.indicators()[canonical].name, reason, reasons)


__all__ = ["BoardVersion", "Dashboard", "GapList", "IndicatorPage", "NEAR_MARGIN", "dashboard", "dashboard_version", "gap_list", "gap_reasons",
           "indicator", "standing", "stored_periods"]
