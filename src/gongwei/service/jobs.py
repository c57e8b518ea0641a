"""Use cases of background jobs: start one for an actor, run it in the worker, list and read them.

A face calls a ``start_*`` function with the :class:`~gongwei.service.access.Actor`; it checks the request and
the actor's scope *before* anything is queued (a refusal never becomes a failed job), writes a
:class:`~gongwei.jobs.models.Job` row and hands its id to the Huey worker once the row is committed. The worker
calls :func:`execute`, which rebuilds the actor from the job's login (so a login disabled meanwhile is refused
at run time too) and runs the same service functions a command would, with ``progress``/``notice`` callbacks
that write the job's progress and step — at most about once a second, so a job of thousands of steps does not
turn into thousands of writes.

Who may start what: a snapshot, the whole indicator catalogue, an import and the nightly refresh touch every
unit, so only a system administrator (or the operator) may start them; a QC evaluation covers the actor's own
subtree; an indicator workbook is for any unit in the actor's subtree.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from gongwei.engine import scorecard
from gongwei.jobs.models import Job, JobKind, JobStatus
from gongwei.records import models as rm
from gongwei.service import access, audit, residents, results, snapshots
from gongwei.service.access import Actor
from gongwei.service.analysis import indicator_codes, period_of
from gongwei.service.errors import BadRequest, NotFound, Refused, ServiceError
from gongwei.spec import catalogue as spec_catalogue
from gongwei.spec.periods import MATERNAL_CHILD_YEAR_START_MONTH, Period
from gongwei.spec.vocab import AccessKind

log = logging.getLogger("gongwei.jobs")

WRITE_INTERVAL = 1.0  # seconds between two progress writes of one job
NIGHTLY_LABEL = "夜间刷新"
WHOLE_TREE = {JobKind.SNAPSHOT, JobKind.CATALOGUE, JobKind.IMPORT, JobKind.NIGHTLY}


def job_dir(job_id: int) -> Path:
    from gongwei.files import private_dir

    return private_dir(Path(settings.JOB_DIR) / str(job_id))


# --- who may start what ---------------------------------------------------------------------------------------
def _require_everything(actor: Actor, what: str) -> None:
    if not actor.scope.everything:
        raise Refused(f"只有系统管理员可以{what}（涉及全部机构的数据）")


def _unit_of_actor(actor: Actor) -> rm.OrgUnit | None:
    if actor.user is None or not getattr(actor.user, "pk", None):
        return None
    staff = rm.Staff.objects.select_related("org_unit").filter(user=actor.user).first()
    return staff.org_unit if staff else None


def _target(actor: Actor, org: str) -> rm.OrgUnit:
    unit = rm.OrgUnit.objects.filter(code=str(org).strip()).first()
    if unit is None:
        raise NotFound(f"机构代码 {org} 不存在")
    actor.check_path(unit.path, f"机构 {unit.name}（{unit.code}）")
    return unit


def allowed_kinds(actor: Actor) -> list[JobKind]:
    """The kinds of job this actor may start (what a form offers)."""
    if actor.scope.everything:
        return [JobKind.SNAPSHOT, JobKind.CATALOGUE, JobKind.QC, JobKind.EXPORT_INDICATORS, JobKind.IMPORT]
    if actor.scope.nothing:
        return []
    return [JobKind.QC, JobKind.EXPORT_INDICATORS]


def _create(actor: Actor, kind: JobKind, parameters: dict, target: rm.OrgUnit | None,
            before_queue: Callable[[Job], None] | None = None) -> Job:
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind, parameters=parameters, target=target, unit=_unit_of_actor(actor),
            user=actor.user if actor.user is not None and getattr(actor.user, "pk", None) else None,
            requested_by=actor.label[:150], step="等待后台进程")
        if before_queue:
            before_queue(job)
        # the worker must find the row: queue only once it is committed
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from gongwei.jobs import tasks

    tasks.run_job(job_id)


def start_snapshot(actor: Actor) -> Job:
    _require_everything(actor, "生成快照")
    return _create(actor, JobKind.SNAPSHOT, {}, None)


def start_catalogue(actor: Actor, period: str, *, codes: str | None = None) -> Job:
    """Every indicator of the rulebook (or ``codes``) for every unit, on the latest snapshot, kept in the
    results store."""
    _require_everything(actor, "计算全部指标")
    chosen = indicator_codes(codes)
    return _create(actor, JobKind.CATALOGUE,
                   {"period": period_of(period).code, "codes": ",".join(chosen) if chosen else ""}, None)


def start_qc(actor: Actor, period: str, *, rules: str | None = None) -> Job:
    """QC rules over the actor's subtree, findings kept in the rectification ledger."""
    from gongwei.service.quality import rule_codes

    if actor.scope.nothing:
        raise Refused("您的登录未分配机构，不能运行质控评估")
    asked = period_of(period)
    codes = rule_codes(rules) if rules else None
    target = None if actor.scope.everything else _unit_of_actor(actor)
    return _create(actor, JobKind.QC, {"period": asked.code, "rules": ",".join(codes) if codes else ""}, target)


def start_export_indicators(actor: Actor, org: str, period: str, *, codes: str | None = None) -> Job:
    """The indicator workbook (bulletin table) of a unit and its children, as an XLSX file to download."""
    asked = period_of(period)
    chosen = indicator_codes(codes)
    unit = _target(actor, org)
    return _create(actor, JobKind.EXPORT_INDICATORS,
                   {"org": unit.code, "period": asked.code, "codes": ",".join(chosen) if chosen else ""}, unit)


IMPORT_NAMES = ("manifest.json",)


def start_import(actor: Actor, files: Iterable[tuple[str, object]], *, accept_valid: bool = False,
                 encoding: str = "utf-8") -> Job:
    """Import CSV files (``<表名>.csv`` and an optional manifest.json) through the entry layer.

    ``files``: (file name, content) with content bytes or an uploaded file (read in chunks). The importer
    writes any unit named in the files, so only a system administrator may import."""
    _require_everything(actor, "导入数据")
    chosen = list(files)
    if not chosen:
        raise BadRequest("导入文件：请至少选择一个 CSV 文件（<表名>.csv）")
    for name, _ in chosen:
        base = Path(str(name)).name
        if base != str(name) or not (base.lower().endswith(".csv") or base in IMPORT_NAMES):
            raise BadRequest(f"导入文件“{name}”不是 CSV 文件：应为 <表名>.csv 或 manifest.json")
    if len({Path(str(n)).name for n, _ in chosen}) != len(chosen):
        raise BadRequest("导入文件：有重名的文件")

    def save(job: Job) -> None:
        folder = job_dir(job.pk) / "input"
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in chosen:
            from gongwei.files import open_private

            with open_private(folder / name, "wb") as out:
                if isinstance(content, bytes | bytearray):
                    out.write(content)
                else:
                    for chunk in content.chunks():
                        out.write(chunk)

    return _create(actor, JobKind.IMPORT, {"files": [n for n, _ in chosen], "accept_valid": bool(accept_valid),
                                           "encoding": encoding}, None, before_queue=save)


# --- reading ------------------------------------------------------------------------------------------------
def visible(actor: Actor):
    """Jobs this actor may see: on units of its subtree; whole-tree jobs only with an everything scope."""
    qs = Job.objects.select_related("user", "target", "unit")
    if actor.scope.everything:
        return qs
    if actor.scope.nothing:
        return qs.none()
    return qs.filter(target__path__startswith=actor.scope.path)


def get(actor: Actor, job_id: int) -> Job:
    job = Job.objects.select_related("user", "target", "unit").filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"任务 #{job_id} 不存在")
    if job.target is None:
        if not actor.scope.everything:
            raise Refused(f"任务 #{job_id} 涉及全部机构，不在您的权限范围内（{actor.scope_text()}）")
    else:
        actor.check_path(job.target.path, f"任务 #{job_id}（{job.target.name}）")
    return job


def download(actor: Actor, job_id: int) -> tuple[Path, str]:
    """The output file of a finished job (checked in scope); audited as an export."""
    job = get(actor, job_id)
    if not job.output:
        raise NotFound(f"任务 #{job_id} 没有输出文件")
    path = Path(job.output)
    if not path.is_file() or not path.resolve().is_relative_to(Path(settings.JOB_DIR).resolve()):
        raise NotFound(f"任务 #{job_id} 的输出文件已不存在")
    audit.viewed(actor, AccessKind.EXPORT, scope=job.target.code if job.target else "",
                 purpose=f"下载任务 #{job.pk} 输出 {path.name}")
    return path, path.name


# --- running ----------------------------------------------------------------------------------------------------
class Reporter:
    """Progress of one job, written to its row at most once per ``interval`` seconds (and when forced).

    Some steps run inside a transaction of their own — a snapshot reads in one REPEATABLE READ READ ONLY
    transaction on PostgreSQL, and under SQLite's IMMEDIATE mode holds the write lock. A progress write there
    would fail (read only) or be invisible until the end, so inside a transaction the row is written through a
    second connection on PostgreSQL, and on SQLite (one writer at a time) the write waits for the transaction's
    end."""

    def __init__(self, job_id: int, interval: float = WRITE_INTERVAL):
        self.job_id = job_id
        self.interval = interval
        self.percent = 0
        self.text = ""
        self.writes = 0
        self._last = float("-inf")
        self._side = None  # the second PostgreSQL connection, opened when first needed

    def __call__(self, percent: float, text: str | None = None, *, force: bool = False) -> None:
        self.percent = max(self.percent, min(99, int(percent)))  # 100 % is the job's end, written by execute
        if text is not None:
            self.text = text[:200]
        now = time.monotonic()
        if (force or now - self._last >= self.interval) and self._write():
            self._last = now
            self.writes += 1

    def _write(self) -> bool:
        from django.db import DEFAULT_DB_ALIAS, connections

        connection = connections[DEFAULT_DB_ALIAS]
        if not connection.in_atomic_block:
            Job.objects.filter(pk=self.job_id).update(progress=self.percent, step=self.text)
            return True
        if connection.vendor != "postgresql":
            return False
        if self._side is None:
            self._side = type(connection)(dict(connection.settings_dict), alias=connection.alias)
        with self._side.cursor() as cursor:  # autocommit: visible to the page at once
            cursor.execute(f"UPDATE {Job._meta.db_table} SET progress = %s, step = %s WHERE id = %s",
                           [self.percent, self.text, self.job_id])
        return True

    def close(self) -> None:
        if self._side is not None:
            try:
                self._side.close()
            except Exception:  # the job's outcome must still be written
                log.exception("job %s: closing the progress connection failed", self.job_id)
            self._side = None

    def notice(self, text: str) -> None:
        self(self.percent, text)

    def span(self, start: float, end: float, total: int, label: str = "") -> Callable[[str], None]:
        """A per-step callback moving the bar from ``start`` to ``end`` over ``total`` steps."""
        done = [0]

        def step(what: str) -> None:
            done[0] += 1
            self(start + (end - start) * min(done[0], total) / max(total, 1), f"{label}{what}")

        return step

    def rules(self, start: float, end: float):
        """The ``progress(label, total)`` of the QC use cases: returns the per-rule callback."""
        return lambda label, total: self.span(start, end, total, f"{label}：")


@dataclass
class Outcome:
    summary: str
    output: str = ""
    failed: str = ""  # the job ran but its result is a refusal (an import rejected): status failed


def execute(job_id: int) -> Job | None:
    """Run a queued job (the worker calls this); a job already claimed by another worker is left alone."""
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), step="开始", worker=this_worker())
    if not claimed:
        return None
    job = Job.objects.select_related("user", "target").get(pk=job_id)
    reporter = Reporter(job_id)
    outcome, error = None, ""
    try:
        outcome = RUNNERS[JobKind(job.kind)](job, _actor_of(job), reporter)
    except ServiceError as exc:
        error = str(exc)
    except Exception as exc:  # the job's row says it failed; the traceback goes to the log
        log.exception("job %s (%s) failed", job_id, job.kind)
        error = f"任务出错：{type(exc).__name__}: {exc}"[:2000]
    finally:
        reporter.close()
    if outcome is None:
        _finish(job_id, JobStatus.FAILED, reporter, error=error)
    elif outcome.failed:
        _finish(job_id, JobStatus.FAILED, reporter, error=outcome.failed, summary=outcome.summary,
                output=outcome.output)
    else:
        _finish(job_id, JobStatus.DONE, reporter, summary=outcome.summary, output=outcome.output)
    return Job.objects.get(pk=job_id)


def _finish(job_id: int, status: str, reporter: Reporter, *, error: str = "", summary: str = "",
            output: str = "") -> None:
    done = status == JobStatus.DONE
    Job.objects.filter(pk=job_id).update(
        status=status, finished_at=timezone.now(), progress=100 if done else reporter.percent,
        step="完成" if done else reporter.text, error=error, summary=summary, output=output)


def _actor_of(job: Job) -> Actor:
    if job.user is not None:
        return access.for_user(job.user, address="后台任务", path=f"/jobs/{job.pk}/")
    return access.operator(command=f"后台任务 #{job.pk} {job.requested_by}")


def _catalogue(eng, period: Period, reporter: Reporter, start: float, end: float,
               codes: list[str] | None = None) -> int:
    """Compute and store ``codes`` (default: the whole catalogue) for every unit, one program at a time so the
    bar moves (indicators of one program share their work in the engine)."""
    catalogue = spec_catalogue.indicators()
    groups: dict[str, list[str]] = {}
    for code in codes or list(catalogue):
        groups.setdefault(catalogue[code].numerator.split(".")[0], []).append(code)
    for i, group in enumerate(groups.values()):
        reporter(start + (end - start) * i / len(groups), f"计算指标 {period.code}：{'、'.join(group)}")
        results.indicators(eng, period, group)
    reporter(end, f"指标 {period.code} 已保存")
    return sum(len(g) for g in groups.values())


def _run_snapshot(job: Job, actor: Actor, reporter: Reporter) -> Outcome:
    snap = _take(actor, reporter, 0, 100)
    return Outcome(f"快照 {snap.id} 已生成（{snap.taken_at}）")


def _take(actor: Actor, reporter: Reporter, start: float, end: float):
    from gongwei.records.schema import TABLES
    from gongwei.records.snapshot import EXTRA_TABLES
    from gongwei.service.analysis import take_snapshot

    step = reporter.span(start, end, len(TABLES) + len(EXTRA_TABLES), "快照：")
    return take_snapshot(actor, progress=lambda name, rows: step(f"{name}（{rows:,} 行）"))


def _run_catalogue(job: Job, actor: Actor, reporter: Reporter) -> Outcome:
    _require_everything(actor, "计算全部指标")
    period = period_of(job.parameters["period"])
    eng = snapshots.engine(None, notice=reporter.notice)
    n = _catalogue(eng, period, reporter, 5, 100, indicator_codes(job.parameters.get("codes") or None))
    return Outcome(f"快照 {eng.snapshot.id} 的 {period.code} 指标已计算并保存：{n} 项指标，全部机构")


def _run_qc(job: Job, actor: Actor, reporter: Reporter) -> Outcome:
    from gongwei.reports.quality import stored_text
    from gongwei.service import quality

    ev = quality.evaluate_findings(actor, job.parameters["period"], rules=job.parameters.get("rules") or None,
                                   notice=reporter.notice, progress=reporter.rules(5, 100))
    return Outcome(f"质控 {job.parameters['period']}，" + stored_text(ev.basis.snapshot_id, ev.found, ev.ledger))


def _run_export_indicators(job: Job, actor: Actor, reporter: Reporter) -> Outcome:
    from gongwei.reports import indicators as report
    from gongwei.service import analysis

    p = job.parameters
    asked = period_of(p["period"])
    codes = indicator_codes(p.get("codes") or None)
    # a workbook is made from the latest snapshot; taking one covers every unit, which is a system job
    eng = snapshots.engine(None, notice=reporter.notice, take_if_missing=False)
    _target(actor, p["org"])  # checked again at run time: the login's unit may have changed meanwhile
    _catalogue(eng, asked, reporter, 5, 45, codes)
    _catalogue(eng, asked.previous(), reporter, 45, 85, codes)
    result = analysis.indicators(actor, p["org"], asked.code, codes=codes, snapshot=str(eng.snapshot.folder))
    reporter(90, "写入工作簿", force=True)
    out = report.write_xlsx(result, job_dir(job.pk) / f"指标-{p['org']}-{asked.code}.xlsx")
    return Outcome(f"{result.unit.label} {asked.code} 指标工作簿：{len(result.figures)} 行（快照 {eng.snapshot.id}）",
                   str(out))


def _run_import(job: Job, actor: Actor, reporter: Reporter) -> Outcome:
    from gongwei.exchange.importer import import_dir, summary_lines

    _require_everything(actor, "导入数据")
    folder = job_dir(job.pk) / "input"
    tables = sum(1 for f in folder.iterdir() if f.suffix.lower() == ".csv")
    step = reporter.span(0, 99, 2 * tables)  # the entry layer reports checking, then writing, each table
    outcome = import_dir(folder, actor=actor.label, accept_valid=job.parameters.get("accept_valid", False),
                         report=job_dir(job.pk) / "导入报告.csv", encoding=job.parameters.get("encoding", "utf-8"),
                         progress=lambda label, rows: step(f"{label}（{rows:,} 行）"))
    lines = "\n".join(summary_lines(outcome))
    if outcome.exit_code != 0:
        return Outcome(lines, str(outcome.report_path), failed=lines.splitlines()[0] if lines else "导入失败")
    return Outcome(lines, str(outcome.report_path))


# --- jobs left running by a worker that stopped ------------------------------------------------------------------
INTERRUPTED = "中断：后台进程已停止"


def this_worker() -> str:
    """The process that claims a job, ``host:pid`` (thread workers share their consumer's pid)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _process_gone(worker: str, host: str) -> bool:
    name, _, pid = worker.rpartition(":")
    if name != host or not pid.isdigit():
        return False  # another host's worker: only the age limit applies
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # a live process of another user
    return False


def reap_interrupted(*, now: dt.datetime | None = None) -> int:
    """Mark failed the jobs left "running" by a worker that stopped (killed, machine restarted): those claimed by
    a process of this host that no longer exists, and any running longer than ``JOB_STUCK_AFTER_HOURS``.

    Called when a worker starts and by the nightly refresh. Huey takes a task off the queue when a worker starts
    it, so a running job's task is never in the queue: whether its process still lives is what tells. Each row
    is changed by a conditional update (still running, still the same worker), so a job that finishes meanwhile
    keeps its result. Returns how many jobs were marked."""
    now = now or timezone.now()
    limit = now - dt.timedelta(hours=float(settings.JOB_STUCK_AFTER_HOURS))
    host = socket.gethostname()
    running = list(Job.objects.filter(status=JobStatus.RUNNING).values_list("pk", "worker", "started_at"))
    gone = [pk for pk, worker, _ in running if _process_gone(worker, host)]
    old = [pk for pk, worker, started in running if pk not in gone and (started is None or started < limit)]
    hours = f"{float(settings.JOB_STUCK_AFTER_HOURS):g}"
    marked = 0
    for ids, error in ((gone, INTERRUPTED), (old, f"{INTERRUPTED}（运行超过 {hours} 小时未结束）")):
        if ids:
            marked += Job.objects.filter(pk__in=ids, status=JobStatus.RUNNING).update(
                status=JobStatus.FAILED, finished_at=now, error=error)
    if marked:
        log.warning("%d background job(s) left running by a stopped worker marked failed", marked)
    return marked


# --- the nightly refresh ---------------------------------------------------------------------------------------
def nightly_periods(today: dt.date) -> list[str]:
    """What dashboards read by default: the current year and maternal–child year, and the year before each
    (a dashboard compares with the same period a year earlier, on the same snapshot)."""
    mcy = today.year + 1 if today.month >= MATERNAL_CHILD_YEAR_START_MONTH else today.year
    return [str(today.year), str(today.year - 1), f"{mcy}MCY", f"{mcy - 1}MCY"]


def nightly_quarters(today: dt.date) -> list[str]:
    """What the quarterly bulletin reads (ADR 035): the current quarter to date and the quarter before it, whose
    results the bulletin compares with (较上期) — so a bulletin of the quarter just ended can be drafted the morning
    after without running `gongwei indicators` first."""
    current = period_of(f"{today.year}Q{(today.month - 1) // 3 + 1}")
    return [current.code, scorecard.previous_period(current).code]


def nightly(today: dt.date | None = None, *, codes: list[str] | None = None, rules: str | None = None) -> Job:
    """A new snapshot, the indicators of :func:`nightly_periods` and the QC findings of the current year, run
    in the worker by the periodic task (``codes``/``rules``: a subset, for tests)."""
    today = today or timezone.localdate()
    reap_interrupted()
    job = Job.objects.create(kind=JobKind.NIGHTLY, requested_by=NIGHTLY_LABEL, step="开始",
                             parameters={"date": today.isoformat(), "codes": ",".join(codes or []),
                                         "rules": rules or ""})
    return execute(job.pk) or job


def _run_nightly(job: Job, actor: Actor, reporter: Reporter) -> Outcome:
    from gongwei.service import quality

    _require_everything(actor, NIGHTLY_LABEL)
    today = dt.date.fromisoformat(job.parameters["date"])
    codes = indicator_codes(job.parameters.get("codes") or None)
    snap = _take(actor, reporter, 0, 15)
    eng = snapshots.engine(snap.folder)
    periods = nightly_periods(today) + nightly_quarters(today)
    width = 60 / len(periods)
    for i, p in enumerate(periods):
        _catalogue(eng, period_of(p), reporter, 15 + i * width, 15 + (i + 1) * width, codes)
    tallied = _store_bulletin_tallies(eng, nightly_quarters(today), reporter, 75, 80)
    ev = quality.evaluate_findings(actor, str(today.year), rules=job.parameters.get("rules") or None,
                                   snapshot=str(snap.folder), notice=reporter.notice,
                                   progress=reporter.rules(80, 92))
    pairs = _store_duplicate_queues(actor, snap, reporter, 92, 99)
    reporter(99, "姓名拼音检索表")
    residents.sync_all_pinyin()
    reporter(100, "姓名拼音检索表已更新")
    return Outcome(f"快照 {snap.id}；指标 {'、'.join(periods)} 已保存；季度质控汇总 {'、'.join(tallied)} 已保存；"
                   f"质控 {today.year} 发现 {ev.found} 个问题；重复档案复核队列 {pairs} 对")


def _store_bulletin_tallies(eng, quarters: list[str], reporter: Reporter, start: float, end: float) -> list[str]:
    """The QC tallies of the rules the bulletin templates report, for the quarters the quarterly bulletin reads
    (its indicators are in the catalogue computed above)."""
    from gongwei.bulletins import template as templates

    rules = list(dict.fromkeys(r for kind in templates.TYPES for r in templates.load(kind).qc_rules))
    if not rules:
        return []
    for i, q in enumerate(quarters):
        reporter(start + (end - start) * i / len(quarters), f"季度质控汇总 {q}")
        results.qc_tally(eng, period_of(q), rules)
    return quarters


def _store_duplicate_queues(actor: Actor, snap, reporter: Reporter, start: float, end: float) -> int:
    """The duplicate review queue of each top unit, for the review pages (they read the nearest stored queue at
    or above a unit, filtered to its subtree)."""
    from gongwei.service import ledger

    roots = list(rm.OrgUnit.objects.filter(parent__isnull=True, is_active=True).order_by("code")
                 .values_list("code", flat=True))
    pairs = 0
    for i, code in enumerate(roots):
        reporter(start + (end - start) * i / max(len(roots), 1), f"查找重复档案：{code}")
        path = ledger.store_duplicates(actor, code, snapshot=str(snap.folder), notice=reporter.notice)
        pairs += pq.read_metadata(path).num_rows
    reporter(end, "重复档案复核队列已保存")
    return pairs


RUNNERS: dict[JobKind, Callable[[Job, Actor, Reporter], Outcome]] = {
    JobKind.SNAPSHOT: _run_snapshot,
    JobKind.CATALOGUE: _run_catalogue,
    JobKind.QC: _run_qc,
    JobKind.EXPORT_INDICATORS: _run_export_indicators,
    JobKind.IMPORT: _run_import,
    JobKind.NIGHTLY: _run_nightly,
}
