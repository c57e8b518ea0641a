"""Use cases of analysis: indicators with comparison, gap lists, worklists, rosters.

Each takes the :class:`~gongwei.service.access.Actor`, checks the unit asked for against its scope, reads the
results store before computing, masks what the actor's role must not see, audits every view of people, and
returns a typed result that any face can render (:mod:`gongwei.reports` holds the wording and file formats).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

from gongwei.engine import compare as engine_compare
from gongwei.engine import gaps as engine_gaps
from gongwei.engine import registry
from gongwei.engine import roster as engine_roster
from gongwei.engine import worklist as engine_worklist
from gongwei.engine.backends import Engine
from gongwei.engine.orgs import OrgTree
from gongwei.service import audit, results, snapshots
from gongwei.service.access import Actor, unit_of_tree
from gongwei.service.errors import BadRequest, NotFound, NotReady
from gongwei.service.memo import ProcessMemo, file_identity
from gongwei.spec import catalogue as spec_catalogue
from gongwei.spec import vocab
from gongwei.spec.periods import Period, parse
from gongwei.spec.vocab import AccessKind

Notice = Callable[[str], None]


@dataclass(frozen=True)
class Unit:
    id: int
    code: str
    name: str
    level: str

    @classmethod
    def of(cls, tree: OrgTree, unit: int) -> Unit:
        return cls(unit, tree.code[unit], tree.name[unit], tree.level[unit])

    @property
    def label(self) -> str:
        """Name with code, as headings show a unit: 平凉市崆峒区（620802）."""
        return f"{self.name}（{self.code}）"


@dataclass(frozen=True)
class Basis:
    """Where a result came from: the snapshot, its time, the rulebook version."""

    snapshot_id: str
    taken_at: str
    rulebook: str


def period_of(text: str, what: str = "期间") -> Period:
    try:
        return parse(str(text).strip())
    except ValueError as exc:
        raise BadRequest(f"{what}“{text}”无效：{exc}") from None


def indicator_codes(text: str | list[str] | None) -> list[str] | None:
    """Codes typed by a user in any case (``h2,c5``), checked against the rulebook; None means all."""
    if not text:
        return None
    typed = [c.strip() for c in (text.split(",") if isinstance(text, str) else text) if c.strip()]
    unknown = [c for c in typed if spec_catalogue.canonical_code(c) is None]
    if unknown:
        raise BadRequest(f"未知的指标代码：{'、'.join(unknown)}")
    return list(dict.fromkeys(spec_catalogue.canonical_code(c) for c in typed))


def _engine(snapshot: str | None, backend: str, notice: Notice | None, *, take: bool = True
            ) -> tuple[Engine, OrgTree]:
    eng = snapshots.engine(snapshot, backend, notice=notice, take_if_missing=take)
    return eng, OrgTree.load(eng.snapshot)


def _basis(eng: Engine) -> Basis:
    return Basis(eng.snapshot.id, eng.snapshot.taken_at, spec_catalogue.rulebook_version())


# --- indicators --------------------------------------------------------------------------------------------
@dataclass
class IndicatorReport:
    unit: Unit
    children: list[Unit]
    period: Period
    compare: Period
    basis: Basis
    results_file: str
    figures: list[engine_compare.Figure]  # rulebook order; per indicator the unit first, then children by rank
    counted: dict[tuple[str, int], Period]  # (indicator, unit id) → the period the figure was counted over
    counted_before: dict[tuple[str, int], Period] = field(default_factory=dict)
    without_previous: set[str] = field(default_factory=set)  # indicators whose previous period has no data
    previous_stored: bool = True  # False: the comparison period is not in the results store (pages only)


def indicators(actor: Actor, org: str, period: str, *, compare: str | None = None,
               codes: str | list[str] | None = None, snapshot: str | None = None, backend: str = "duckdb",
               notice: Notice | None = None, compute: bool = True) -> IndicatorReport:
    """The bulletin table: each indicator for ``org`` and its child units, with target, change and rank.

    A change (较上期) is given only where the previous period has data for that indicator in the unit's
    subtree: with no services recorded then, a rise from nothing would mislead. ``compute=False``: stored
    results only (pages never compute the catalogue inline; a job does)."""
    asked = period_of(period)
    before = period_of(compare, "对比期间") if compare else asked.previous()
    chosen = indicator_codes(codes)
    eng, tree = _engine(snapshot, backend, notice, take=compute)
    unit = unit_of_tree(actor, tree, org)
    current = results.indicators(eng, asked, chosen, compute=compute)
    try:
        previous = results.indicators(eng, before, chosen, compute=compute)
    except NotReady:  # a page (compute=False) still shows the period asked for, without 较上期
        previous = None
    units = [unit, *sorted(tree.children(unit), key=lambda u: tree.code[u])]
    # only the rows of the units shown: the stored tables hold every unit of the region (91 k rows each at 2 M
    # residents), which a page must not turn into Python objects
    current = _rows_of(current, units)
    previous = None if previous is None else _rows_of(previous, units)
    figs = engine_compare.figures(current, tree, asked, previous=previous, units=units)
    empty = set() if previous is None else _without_data(previous, unit)
    for f in figs:
        if f.indicator in empty:
            f.previous_rate = f.change = None
    order = {c: i for i, c in enumerate(spec_catalogue.indicators())}
    figs.sort(key=lambda f: (order[f.indicator], f.unit_id != unit, f.rank or 10**6, tree.code[f.unit_id]))
    return IndicatorReport(
        unit=Unit.of(tree, unit), children=[Unit.of(tree, u) for u in units[1:]], period=asked, compare=before,
        basis=_basis(eng), results_file=str(results.indicator_path(eng.snapshot.id, asked)), figures=figs,
        counted=_periods_of(current), counted_before={} if previous is None else _periods_of(previous),
        without_previous=empty, previous_stored=previous is not None)


def _rows_of(t: pa.Table, units: list[int]) -> pa.Table:
    return t.filter(pc.is_in(t.column("org_unit_id"), value_set=pa.array(units, t.schema.field("org_unit_id").type)))


def _without_data(previous: pa.Table, unit: int) -> set[str]:
    """Indicators with no numerator and no denominator at ``unit`` (its subtree, rolled up) in a period."""
    rows = previous.to_pylist()
    has = {r["indicator"] for r in rows if r["org_unit_id"] == unit and (r["numerator"] or 0) > 0}
    return {r["indicator"] for r in rows if r["org_unit_id"] == unit} - has


def _periods_of(t: pa.Table) -> dict[tuple[str, int], Period]:
    codes, units, periods = (t.column(c).to_pylist() for c in ("indicator", "org_unit_id", "period"))
    parsed = {p: parse(p) for p in set(periods)}  # a handful of distinct periods: parse each once
    return {(code, unit): parsed[p] for code, unit, p in zip(codes, units, periods, strict=True)}


# --- gap lists -----------------------------------------------------------------------------------------------
@dataclass
class GapPage:
    unit: Unit
    page: engine_gaps.Page
    counted: Period
    basis: Basis


def gap_list(actor: Actor, indicator: str, org: str, period: str, *, part: str = "gap", page: int = 1,
             size: int = 50, snapshot: str | None = None, backend: str = "duckdb", purpose: str = "",
             export: bool = False, notice: Notice | None = None, reason: str | None = None) -> GapPage:
    """The people in an indicator's gap (or numerator, or denominator) for one unit, with reasons. Audited.
    ``reason``: only the gap people with this reason code (service.dashboard checks it first)."""
    code = spec_catalogue.canonical_code(indicator)
    if code is None:
        raise BadRequest(f"未知的指标代码：{indicator}")
    if part not in engine_gaps.PARTS:
        raise BadRequest(f"人员类别“{part}”无效，应为 gap（缺口）、numerator（分子）或 denominator（分母）")
    if page < 1 or size < 1:
        raise BadRequest("页码和每页人数应为正整数")
    asked = period_of(period)
    eng, tree = _engine(snapshot, backend, notice)
    unit = unit_of_tree(actor, tree, org)
    got = engine_gaps.people(eng, code, org, asked, part=part, page=page, size=size, tree=tree, reason=reason)
    audit.viewed(actor, AccessKind.EXPORT if export else AccessKind.GAPS, scope=org,
                 purpose=purpose or f"{code} {part} {asked.code}" + (f" {reason}" if reason else ""),
                 residents=[p.resident_id for p in got.people if p.resident_id],
                 record_nos=[p.record_no for p in got.people if not p.resident_id])
    return GapPage(Unit.of(tree, unit), got, parse(got.period), _basis(eng))


# --- worklists -------------------------------------------------------------------------------------------------
@dataclass
class Worklist:
    unit: Unit
    as_of: dt.date
    rows: list[dict]
    basis: Basis
    # with ``people=True``: the units named in the rows (code → name), the responsible doctors of the people
    # listed, and how many people had chronic rows refreshed from the database since the snapshot
    unit_names: dict[str, str] = field(default_factory=dict)
    doctors: list[str] = field(default_factory=list)
    doctor: str = ""
    teams: list[tuple[str, str]] = field(default_factory=list)  # (code, name) of the people's family-doctor teams
    team: str = ""
    refreshed: int = 0  # people whose chronic rows were refreshed from the database
    due_soon_until: dt.date | None = None  # "due this week": up to this day


    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r["status"] == status)


def worklist(actor: Actor, org: str, as_of: dt.date, *, upcoming: bool = False, programs: list[str] | None = None,
             snapshot: str | None = None, backend: str = "duckdb", notice: Notice | None = None,
             compute: bool = True, people: bool = False, doctor: str = "",
             upcoming_days: int | None = None, team: str = "") -> Worklist:
    """Services overdue or due within a week for the people managed in ``org``'s subtree. Audited.

    ``compute=False`` (pages): refuse with NotReady rather than take a snapshot or materialise the state tables
    in a request (the worklist job does). ``people=True`` (pages): add each person's responsible doctor
    (``doctor`` keeps one doctor's people), the unit names, and refresh the chronic-program rows of the people
    whose follow-ups were saved after the snapshot — from their own rows by the same rules (engine.person), so a
    visit saved a minute ago moves its patient on the list at once — and each person's family-doctor team (``team``,
    a team code, keeps that team's people; issue 11 §5). ``upcoming_days``: upcoming rows only up to
    that many days ahead."""
    from gongwei.engine import materialize

    eng, tree = _engine(snapshot, backend, notice, take=compute)
    unit = unit_of_tree(actor, tree, org)
    if not compute:
        period = parse(as_of.isoformat())
        missing = [p for p, (_, spec) in registry.evaluators().items() if getattr(spec, "SCHEDULE", ())
                   and (not programs or p in programs) and not materialize.state_path(eng, p, period).exists()]
        if missing:
            raise NotReady(f"{as_of.isoformat()} 的待办尚未按快照 {eng.snapshot.id} 计算（{'、'.join(missing)}），"
                           "由待办任务生成后显示")
    if compute:
        rows = engine_worklist.items(eng, org, as_of, programs=programs, tree=tree,
                                     include_upcoming=upcoming).to_pylist()
    else:
        rows = stored_worklist_rows(eng, tree, org, as_of, programs, upcoming)
    out = Worklist(Unit.of(tree, unit), as_of, rows, _basis(eng),
                   due_soon_until=as_of + dt.timedelta(days=engine_worklist.DUE_SOON_DAYS))
    if people:
        rows = _refresh_saved_since(eng, tree, unit, rows, as_of, programs)
    if upcoming_days is not None:
        # before the doctors and teams are looked up: the stored list runs to the year's end, and a page shows
        # a few weeks of it (a village's 1,100 rows → 450)
        last = as_of + dt.timedelta(days=upcoming_days)
        rows = [r for r in rows if r["status"] != "upcoming" or r["due_date"] <= last]
    if people:
        rows = _with_doctors_and_teams(rows, as_of)
        out.doctors = sorted({r["doctor"] for r in rows if r["doctor"]})
        if doctor:
            rows = [r for r in rows if r["doctor"] == doctor]
            out.doctor = doctor
        out.teams = sorted({(r["team_code"], r["team"]) for r in rows if r["team_code"]})
        if team:
            rows = [r for r in rows if r["team_code"] == team]
            out.team = team
        out.unit_names = {tree.code[u]: tree.name[u] for u in tree.subtree(unit)}
        out.refreshed = len({r["resident_id"] for r in rows if r.get("live")})
    out.rows = rows
    audit.viewed(actor, AccessKind.WORKLIST, scope=org, purpose=f"待办 {as_of.isoformat()}",
                 residents=[r["resident_id"] for r in rows if r.get("resident_id")])
    return out


class _Saved(NamedTuple):  # what residents.live_due_many and a worklist row read of a person
    pk: int
    status: str
    status_date: dt.date | None
    merged_into_id: int | None
    birth_date: dt.date | None
    record_no: str
    name: str
    unit_code: str


class _Span(NamedTuple):  # what residents.live_due_many reads of an enrolment
    resident_id: int
    program: str
    start_date: dt.date
    end_date: dt.date | None


def _refresh_saved_since(eng: Engine, tree: OrgTree, unit: int, rows: list[dict], as_of: dt.date,
                         programs: list[str] | None) -> list[dict]:
    """Replace the chronic rows of people with follow-ups written or changed after the snapshot by their live rows."""
    from gongwei.records import models as m
    from gongwei.service import residents

    taken = dt.datetime.fromisoformat(str(eng.snapshot.taken_at))
    live_programs = [p for p in residents.LIVE_PROGRAMS if not programs or p in programs]
    from django.db.models import Min, Q

    edited = [int(pk) for pk in m.ChangeLog.objects.filter(model=m.ChronicFollowUp._meta.label, at__gt=taken)
              .values_list("object_pk", flat=True) if str(pk).isdigit()]
    # the first batch written since the snapshot (indexed by time), then the follow-ups from that batch on: a range
    # of the batch index, whose rows PostgreSQL can estimate. With `batch IN (batches since)` it could not, and went
    # from the village's people to all their follow-ups to their batches (2,400 rows read, 12 ms of 15 on each
    # view). Every batch started after the snapshot has an id at least the first's; a later id started before it
    # only refreshes one more person, from the database, which is still right.
    first = m.LoadBatch.objects.filter(started_at__gt=taken).aggregate(first=Min("pk"))["first"]
    if first is None and not edited:
        return rows
    since = Q(pk__in=edited)
    if first is not None:
        since |= Q(batch_id__gte=first)
    saved = m.ChronicFollowUp.objects.filter(since, program__in=live_programs,
                                             resident__managing_unit__path__startswith=tree.path[unit])
    # plain rows, not model objects: a village can have a hundred people saved since the night's snapshot
    people = [_Saved(*row) for row in m.Resident.objects.filter(pk__in=saved.values("resident_id")).values_list(
        "pk", "status", "status_date", "merged_into_id", "birth_date", "record_no", "name", "managing_unit__code")]
    if not people:
        return rows
    ids = {r.pk for r in people}
    enrollments = [_Span(*row) for row in m.Enrollment.objects.filter(
        resident_id__among=list(ids), program__in=live_programs).order_by("pk").values_list(
        "resident_id", "program", "start_date", "end_date")]
    live = residents.live_due_many(people, enrollments, as_of)
    kept = [r for r in rows if not (r["resident_id"] in ids and r["program"] in live_programs)]
    upcoming = any(r["status"] == "upcoming" for r in rows)
    for p in people:
        for d in live.get(p.pk, []):
            if d.status == "upcoming" and not upcoming:
                continue
            kept.append({"program": d.program, "service": d.key, "service_name": d.service, "resident_id": p.pk,
                         "record_no": p.record_no, "name": p.name, "unit_code": p.unit_code,
                         "due_date": d.due_date, "status": d.status, "days_overdue": d.days_overdue, "gap": d.gap,
                         "live": True})
    kept.sort(key=lambda r: (-r["days_overdue"], r["due_date"], r["record_no"]))
    return kept


def _with_doctors_and_teams(rows: list[dict], as_of: dt.date) -> list[dict]:
    """Each person's responsible doctor and family-doctor team (家庭医生团队): the team of the contract in force on
    ``as_of`` (signed, not cancelled), else the team the responsible doctor is a current member of (issue 11 §5).
    The doctors' teams are read by the doctors (a village has a few), not through each resident again."""
    from django.db.models import Q

    from gongwei.records import models as m

    ids = list({r["resident_id"] for r in rows if r.get("resident_id")})
    doctor_of: dict[int, tuple[int, str]] = {
        pk: (staff, name) for pk, staff, name in m.Resident.objects.filter(
            pk__among=ids, responsible_doctor__isnull=False).values_list(
            "pk", "responsible_doctor_id", "responsible_doctor__name")}
    by_doctor: dict[int, tuple[str, str]] = {}
    for staff, code, name in m.TeamMembership.objects.filter(
            staff_id__among=list({staff for staff, _ in doctor_of.values()})).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=as_of)).order_by("-team__code").values_list(
            "staff_id", "team__code", "team__name"):
        by_doctor[staff] = (code, name)  # the smallest team code wins, as listed last
    teams: dict[int, tuple[str, str]] = {pk: by_doctor[staff] for pk, (staff, _) in doctor_of.items()
                                         if staff in by_doctor}
    contracts = m.Contract.objects.filter(resident_id__among=ids, start_date__lte=as_of, end_date__gte=as_of)
    contracts = contracts.filter(Q(cancelled_on__isnull=True) | Q(cancelled_on__gt=as_of)).order_by("start_date")
    for pk, code, name in contracts.values_list("resident_id", "team__code", "team__name"):
        teams[pk] = (code, name)
    for r in rows:
        pk = r.get("resident_id")
        r["doctor"] = doctor_of[pk][1] if pk in doctor_of else ""
        r["team_code"], r["team"] = teams.get(pk, ("", ""))
    return rows


# --- rosters -----------------------------------------------------------------------------------------------------
@dataclass
class Roster:
    unit: Unit
    as_of: dt.date
    rows: list[dict]  # birth_date is the age ("67岁") for masked roles
    program_names: dict[str, str]
    basis: Basis


def program_names() -> dict[str, str]:
    """Engine program code → its Chinese name (maternal → 孕产妇健康管理)."""
    names = {p.value: p.zh for p in vocab.Program}
    evaluators = registry.evaluators()
    names.update({code: vocab.Program(str(spec.PROGRAM)).zh for code, (_, spec) in evaluators.items()
                  if str(getattr(spec, "PROGRAM", "")) in names})
    names.update({code: spec.PROGRAM_NAME for code, (_, spec) in evaluators.items() if hasattr(spec, "PROGRAM_NAME")})
    return names


# The day's worklist of a unit, per process (issue 11 speed): a page reads only the state tables the worklist job
# materialised, which are replaced (new inode and time), never changed in place, so the rows are valid for as long
# as those files' identities are the same. A few hundred villages' lists a day fit in memory.
_worklists = ProcessMemo(keep=256)


def stored_worklist(eng, tree, org: str, as_of: dt.date, programs: list[str] | None, upcoming: bool) -> pa.Table:
    from gongwei.engine import materialize

    period = parse(as_of.isoformat())
    files = []
    for p in sorted(registry.evaluators()):
        with contextlib.suppress(OSError):
            files.append((p, *file_identity(materialize.state_path(eng, p, period))))
    key = (eng.snapshot.id, org, as_of, tuple(programs or ()), upcoming, tuple(files))
    return _worklists.get_or_make(key, lambda: engine_worklist.items(eng, org, as_of, programs=programs, tree=tree,
                                                                     include_upcoming=upcoming))


_worklist_rows = ProcessMemo(keep=256)


def stored_worklist_rows(eng, tree, org: str, as_of: dt.date, programs: list[str] | None,
                         upcoming: bool) -> list[dict]:
    """:func:`stored_worklist` as rows, each a new dict the caller may change: converted once per table kept, not
    once per view (a village's stored list of a thousand rows took 4 ms to convert)."""
    table = stored_worklist(eng, tree, org, as_of, programs, upcoming)
    # keyed by the table kept, which the entry holds on to: its id is not reused while the entry lives
    rows = _worklist_rows.get_or_make((id(table), org, as_of), lambda: (table, table.to_pylist()))[1]
    return [dict(r) for r in rows]


def roster(actor: Actor, org: str, as_of: dt.date, *, programs: list[str] | None = None, snapshot: str | None = None,
           backend: str = "duckdb", export: bool = False, notice: Notice | None = None,
           compute: bool = True) -> Roster:
    """Key populations per village with responsible doctor, team and team lead. Audited, masked per role.

    ``compute=False`` (pages): read the state tables the worklist job materialised for the day; NotReady until
    it has run (a page never evaluates the programs)."""
    known = set(registry.evaluators())
    unknown = [p for p in programs or [] if p not in known]
    if unknown:
        raise BadRequest(f"未知的项目：{'、'.join(unknown)}（可选：{', '.join(sorted(known))}）")
    eng, tree = _engine(snapshot, backend, notice, take=compute)
    unit = unit_of_tree(actor, tree, org)
    if not compute and not engine_roster.stored_programs(eng, as_of):
        raise NotReady(f"{as_of.isoformat()} 的花名册尚未按快照 {eng.snapshot.id} 计算，由待办任务生成后显示")
    rows = engine_roster.roster(eng, org, as_of, programs=programs, tree=tree, stored=not compute).to_pylist()
    for r in rows:
        r["birth_date"] = actor.shown_birth(r["birth_date"])
    audit.viewed(actor, AccessKind.EXPORT if export else AccessKind.ROSTER, scope=org,
                 purpose=f"花名册 {as_of.isoformat()}", record_nos=[r["record_no"] for r in rows])
    return Roster(Unit.of(tree, unit), as_of, rows, program_names(), _basis(eng))


def take_snapshot(actor: Actor, *, root=None, progress=None):
    """A new snapshot of the whole system of record: system administrators and the operator only."""
    if not actor.scope.everything:
        from gongwei.service.errors import Refused

        raise Refused("只有系统管理员可以生成快照（快照含全部机构的数据）")
    return snapshots.take(root=root, progress=progress)


__all__ = ["Basis", "GapPage", "IndicatorReport", "NotFound", "Roster", "Unit", "Worklist", "gap_list",
           "indicators", "roster", "take_snapshot", "worklist"]
