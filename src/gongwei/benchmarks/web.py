"""Web pages under load (issues 10, 11): a synthetic city in PostgreSQL, the nightly refresh, one login per role,
a real WSGI server, and locust driving concurrent users through the pages.

    python -m gongwei.benchmarks.web --database-url postgres://postgres@127.0.0.1:5432/gw_bench
    python -m gongwei.benchmarks.web --database-url postgres://postgres@127.0.0.1:5432/gw_bench --reuse
    python -m gongwei.benchmarks.web --residents 100000 --database-url postgres://…/gw_bench_100k --duration 1m

Needs the ``bench`` extra (``pip install -e '.[bench]'``: locust and gunicorn, pinned).

Steps:

1. **Build** (skipped with ``--reuse`` when the database and the data folder already hold a built city): the
   database is dropped and re-created, migrated, and a synthetic region of ``--residents`` people (seed
   ``--seed``, services up to ``--as-of``) is loaded through the entry layer (``COPY``); then the nightly
   refresh (:func:`gongwei.service.jobs.nightly`) takes a snapshot and stores the indicators, QC findings and
   duplicate queues the pages read; then one login per role (the demo's, :func:`gongwei.cli.demo.ensure_logins`).
   Snapshots and stored results live in ``--data-dir`` (default ``data/bench-web/<database name>``), beside a
   ``bench.json`` that says what was built.
2. **Cold first render**: ``--cold-runs`` times, a fresh gunicorn is started, and once its workers have loaded
   the application the first request it serves is the supervisor's county dashboard (a session made
   beforehand, so no login request warms the process): its time to the last byte, median of the runs.
3. **Load**: gunicorn (``--workers`` × ``--threads``, gthread workers, ``DEBUG`` off — the way a deployment
   serves Django; the Django development server is never used) and locust headless with ``--users`` for
   ``--duration`` after a warm-up (:func:`warm_up_seconds`: every user started, then ``RAMP_SETTLE_S``), so
   the window the goals are judged on is the whole duration at full load. Each simulated user logs in as its
   role (supervisor at the county, village doctor at a village) and then, after a think time drawn from ``--wait``, opens one page chosen with the weights in
   :mod:`gongwei.benchmarks.locustfile`. Every response other than 200 (a redirect to the login page included)
   is an error. The 1-minute load average is sampled every 10 s during the run.

Output: a Markdown report (stdout and ``--report``, default ``<data-dir>/report-<time>.md``) with p50/p95/p99 per
page from every request's own time (locust's own percentiles are rounded), and again for the steady state (after
the ramp-up's logins), errors, the cold renders and the load average; then the check of the follow-up saves: each
one the server acknowledged is looked up in the database afterwards, whole (:func:`check_saves`); raw figures in
``<data-dir>/run-<time>.json``. Static files are not requested (a browser caches them).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/gw_bench"
DEFAULT_RESIDENTS = 2_000_000
# what each page's simulated user needs, written by the bench for the locustfile
TARGETS_ENV = "GONGWEI_BENCH_TARGETS"
SAMPLES_ENV = "GONGWEI_BENCH_SAMPLES"
READY_ENV = "GONGWEI_BENCH_READY_DIR"
GOALS_MS = {"p95": 200, "record_p95": 300, "cold": 1000}  # issue 10 / 11 "Speed"


# --- set-up ---------------------------------------------------------------------------------------------------
def _db_name(url: str) -> str:
    return url.rsplit("/", 1)[1].split("?", 1)[0]


def _recreate_pg(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _pg_exists(url: str) -> bool:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def _pg_size(url: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]


def _setup_django(url: str, data_dir: Path) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["GONGWEI_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongwei.settings")
    import django

    django.setup()


def build(residents: int, seed: int, as_of: dt.date, data_dir: Path) -> dict:
    """Migrate, load the region, run the nightly refresh, create the logins. Returns what was built and how long
    each step took."""
    from django.core.management import call_command

    from gongwei.cli.demo import ensure_logins, first_evaluation
    from gongwei.records import demo as demo_marker
    from gongwei.records import roles
    from gongwei.synth.generate import generate_region
    from gongwei.synth.load import load_region

    call_command("migrate", interactive=False, verbosity=0)
    roles.ensure_groups()
    demo_marker.mark_demo_database()  # synthetic: the demo's published logins are allowed here
    t0 = time.perf_counter()
    region = generate_region(residents, seed, as_of=as_of)
    gen_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    load_region(region, progress=False)
    load_s = time.perf_counter() - t0
    del region
    t0 = time.perf_counter()
    summary = first_evaluation(as_of)
    nightly_s = time.perf_counter() - t0
    ensure_logins()
    prepare_worklists()
    built = {"residents": residents, "seed": seed, "as_of": as_of.isoformat(),
             "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
             "generate_s": round(gen_s, 1), "load_s": round(load_s, 1), "nightly_s": round(nightly_s, 1),
             "nightly": summary}
    (data_dir / "bench.json").write_text(json.dumps(built, ensure_ascii=False, indent=1), encoding="utf-8")
    return built


def refresh_indicators(as_of: dt.date) -> list[str]:
    """With ``--reuse``, after a change of the rulebook (its source hash keys the stored results): compute the
    nightly refresh's periods again on the latest snapshot, as the next nightly refresh would. Returns the
    periods computed (none when the stored results are the current rulebook's)."""
    from gongwei.service import results, snapshots
    from gongwei.service.analysis import period_of
    from gongwei.service.dashboard import stored_periods
    from gongwei.service.jobs import nightly_periods

    eng = snapshots.engine()
    have = {p.code for p in stored_periods(eng.snapshot.id)}
    missing = [p for p in nightly_periods(as_of) if p not in have]
    for p in missing:
        results.indicators(eng, period_of(p))
    return missing


def prepare_worklists() -> bool:
    """The worklist page reads the state tables of the server's today materialised on the latest snapshot
    (``gongwei worklist`` materialises them; the nightly refresh does not yet): materialise them once, for the
    village doctor's village (the tables are the whole region's; the audit names only that village's people).
    False when this build has no worklist page or they are there already."""
    from django.utils import timezone

    from gongwei.service import analysis
    from gongwei.service.access import operator
    from gongwei.service.errors import NotReady

    if _worklist_path("x") is None:
        return False
    village = _login_unit("village_doctor").code
    as_of = timezone.localdate()  # the page's today (Asia/Shanghai)
    try:
        analysis.worklist(operator(), village, as_of, compute=False)
        return False
    except NotReady:
        analysis.worklist(operator(), village, as_of, compute=True)
        return True


# --- what the simulated users open ----------------------------------------------------------------------------
def _login_unit(username: str):
    from gongwei.records import models as m

    return m.Staff.objects.select_related("org_unit").get(user__username=username).org_unit


def _worklist_path(village_code: str) -> str | None:
    """The worklist page, if this build has one (issue 11); None otherwise."""
    from django.urls import NoReverseMatch, reverse

    for args in ((), (village_code,)):
        with contextlib.suppress(NoReverseMatch):
            return reverse("web:worklist", args=args)
    return None


def _initials(name: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return "".join(p[:1] for p in lazy_pinyin(name, style=Style.FIRST_LETTER))


def targets(as_of: dt.date, seed: int = 1) -> dict:
    """Units, indicators, residents and search words for the simulated users, drawn from the built city."""
    from django.utils import timezone

    from gongwei.cli.demo import DEMO_PASSWORD
    from gongwei.records import models as m
    from gongwei.service.dashboard import gap_reasons
    from gongwei.spec import catalogue
    from gongwei.spec import vocab as v

    rnd = random.Random(seed)
    county = _login_unit("supervisor")
    village = _login_unit("village_doctor")
    below = m.OrgUnit.objects.filter(path__startswith=county.path, is_active=True)
    townships = list(below.filter(level=v.OrgLevel.TOWNSHIP).order_by("code").values_list("code", flat=True))
    villages = list(below.filter(level=v.OrgLevel.VILLAGE).order_by("code").values_list("code", flat=True))
    by_program: dict[str, str] = {}
    for code, ind in sorted(catalogue.indicators().items()):
        if ind.program_code not in by_program and gap_reasons(code):
            by_program[ind.program_code] = code
    listable = sorted(by_program.values())

    def residents_of(unit_codes: list[str], each: int) -> list[tuple[str, str]]:
        rows: list[tuple[str, str]] = []
        for code in unit_codes:
            qs = (m.Resident.objects.filter(managing_unit__code=code)
                  .exclude(status=v.ResidentStatus.MERGED).order_by("record_no"))
            got = list(qs.values_list("record_no", "name")[:400])
            rows += rnd.sample(got, min(each, len(got)))
        return rows

    own = residents_of([village.code], 200)
    # the village's hypertension patients under management today: the follow-up save's patients
    today = timezone.localdate()  # the server's today (Asia/Shanghai), the date a doctor's visit is entered on
    patients = list(m.Enrollment.objects.filter(
        resident__managing_unit__code=village.code, program=v.Program.HYPERTENSION, start_date__lte=today,
        end_date__isnull=True).filter(resident__status=v.ResidentStatus.ACTIVE)
        .order_by("resident__record_no").values_list("resident__record_no", flat=True).distinct()[:400])
    county_people = residents_of(rnd.sample(villages, min(20, len(villages))), 10)

    def words(people: list[tuple[str, str]]) -> list[str]:
        out = []
        for record_no, name in people:
            how = rnd.random()
            out.append(record_no if how < 0.2 else _initials(name) if how < 0.35 else name)
        return out

    return {
        "password": DEMO_PASSWORD,
        "period": str(as_of.year),
        "county": county.code, "townships": townships, "villages": villages, "indicators": listable,
        "village": village.code,
        "village_records": [r for r, _ in own], "village_words": words(own),
        "county_records": [r for r, _ in county_people], "county_words": words(county_people),
        "worklist": _worklist_path(village.code),
        "today": today.isoformat(), "follow_up_records": rnd.sample(patients, min(100, len(patients))),
    }


def session_cookie(username: str) -> str:
    """A logged-in session of ``username``, made in the database (so a cold server's first request is a page)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model

    user = get_user_model().objects.get(username=username)
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


# --- the server -----------------------------------------------------------------------------------------------
class Server:
    """gunicorn serving gongwei.wsgi with gthread workers; ready when every worker has loaded the application
    (the hook in :mod:`gongwei.benchmarks.gunicorn_conf` writes one file per worker)."""

    def __init__(self, port: int, workers: int, threads: int, env: dict, log: Path, cpu_dir: Path | None = None):
        self.port, self.workers, self.threads, self.env, self.log = port, workers, threads, env, log
        if cpu_dir is not None:
            cpu_dir.mkdir(parents=True, exist_ok=True)
            self.env = dict(env, GONGWEI_BENCH_CPU_DIR=str(cpu_dir))
        self.proc: subprocess.Popen | None = None
        self.ready_dir = Path(tempfile.mkdtemp(prefix="gongwei-bench-ready-"))

    def start(self, timeout: float = 180) -> None:
        gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
        env = dict(self.env, **{READY_ENV: str(self.ready_dir)})
        self.logfile = self.log.open("a", encoding="utf-8")
        self.proc = subprocess.Popen(
            [gunicorn, "gongwei.wsgi:application", "--config", "python:gongwei.benchmarks.gunicorn_conf",
             "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers), "--threads", str(self.threads),
             "--worker-class", "gthread", "--timeout", "120"],
            env=env, stdout=self.logfile, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while len(list(self.ready_dir.iterdir())) < self.workers:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn 未能启动（退出码 {self.proc.returncode}），见 {self.log}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn {timeout:.0f} 秒内未就绪，见 {self.log}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        for f in self.ready_dir.iterdir():
            f.unlink()
        self.logfile.close()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        self.ready_dir.rmdir()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, cookie: str) -> tuple[int, float, int]:
    req = urllib.request.Request(url, headers={"Cookie": cookie})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            body = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read(), exc.code
    return status, time.perf_counter() - t0, len(body)


def cold_renders(runs: int, port: int, workers: int, threads: int, env: dict, log: Path, county: str) -> list[dict]:
    out = []
    for _ in range(runs):
        cookie = session_cookie("supervisor")
        from django.db import connections

        connections.close_all()
        with Server(port, workers, threads, env, log):
            status, seconds, size = _get(f"http://127.0.0.1:{port}/unit/{county}/indicators/", cookie)
            warm = [_get(f"http://127.0.0.1:{port}/unit/{county}/indicators/", cookie)[1] for _ in range(3)]
        out.append({"status": status, "seconds": seconds, "bytes": size, "then_warm_s": statistics.median(warm)})
        print(f"  冷启动首个县区看板：{status}，{seconds * 1000:.0f} ms（随后 {statistics.median(warm) * 1000:.0f} ms）",
              file=sys.stderr)
    return out


# --- the run --------------------------------------------------------------------------------------------------
def probe(port: int, plan: dict) -> list[str]:
    """Each page once per role before the run (also warms the workers, as a morning's first users do): the
    pages that do not answer 200."""
    wrong = []
    sup, vd = session_cookie("supervisor"), session_cookie("village_doctor")
    base = f"http://127.0.0.1:{port}"
    pages = [(sup, f"/unit/{plan['county']}/indicators/"), (sup, f"/unit/{plan['townships'][0]}/indicators/"),
             (sup, f"/unit/{plan['county']}/findings/"), (sup, f"/unit/{plan['county']}/duplicates/"),
             (sup, f"/residents/?q={plan['county_words'][0]}"), (sup, f"/resident/{plan['county_records'][0]}/"),
             (vd, f"/residents/?q={plan['village_words'][0]}"), (vd, f"/resident/{plan['village_records'][0]}/"),
             (vd, f"/unit/{plan['village']}/findings/"), (vd, f"/unit/{plan['village']}/indicators/")]
    pages += [(sup, f"/unit/{plan['county']}/indicators/{i}/") for i in plan["indicators"]]
    pages += [(sup, f"/unit/{plan['villages'][0]}/indicators/{i}/gaps/?period={plan['period']}")
              for i in plan["indicators"]]
    pages += [(vd, f"/unit/{plan['village']}/indicators/{i}/gaps/?period={plan['period']}") for i in plan["indicators"]]
    if plan["worklist"]:
        pages.append((vd, plan["worklist"]))
    for cookie, path in pages:
        from urllib.parse import quote

        status, seconds, _ = _get(base + quote(path, safe="/?=&"), cookie)
        if status != 200:
            wrong.append(f"{status} {path}")
    return wrong


def _sample_load(stop: threading.Event, into: list[float]) -> None:
    while not stop.wait(10):
        into.append(os.getloadavg()[0])


def _pct(values: list[float], q: float) -> float:
    """The q-quantile by the nearest-rank method (ms)."""
    s = sorted(values)
    return s[max(0, min(len(s) - 1, math.ceil(q * len(s) - 1e-9) - 1))] if s else float("nan")


def run_locust(port: int, plan_file: Path, samples: Path, users: int, spawn_rate: float, duration: str,
               wait: str, env: dict, log: Path, run: str = "run") -> None:
    locust = shutil.which("locust", path=str(Path(sys.executable).parent)) or "locust"
    here = Path(__file__).with_name("locustfile.py")
    env = dict(env, **{TARGETS_ENV: str(plan_file), SAMPLES_ENV: str(samples), "GONGWEI_BENCH_WAIT": wait,
                       "GONGWEI_BENCH_RUN": run})
    with log.open("a", encoding="utf-8") as out:
        subprocess.run([locust, "-f", str(here), "--headless", "--users", str(users), "--spawn-rate", str(spawn_rate),
                        "--run-time", duration, "--host", f"http://127.0.0.1:{port}", "--stop-timeout", "30",
                        "--only-summary", "--exit-code-on-error", "0"], env=env, stdout=out, stderr=subprocess.STDOUT,
                       check=True)


PAGE_ORDER = ["county dashboard", "township drill-down", "indicator page", "gap list (village)", "findings list",
              "duplicate queue", "resident search", "resident record", "worklist", "follow-up form", "follow-up save",
              "login"]


def page_of(path: str, plan: dict) -> str:
    """The name under which the locustfile reports a request to ``path``."""
    bare = path.split("?", 1)[0]
    parts = [p for p in bare.split("/") if p]
    if plan.get("worklist") and bare == plan["worklist"].split("?", 1)[0]:
        return "worklist"
    if parts[:1] == ["login"]:
        return "login"
    if parts[:1] == ["residents"]:
        return "resident search"
    if parts[:1] == ["resident"]:
        return "follow-up form" if "follow-up" in parts else "resident record"
    if parts[:1] == ["unit"] and len(parts) >= 3:
        if parts[2] == "indicators":
            if len(parts) == 3:
                return "county dashboard" if parts[1] == plan["county"] else "township drill-down"
            return "gap list (village)" if parts[-1] == "gaps" else "indicator page"
        return {"findings": "findings list", "duplicates": "duplicate queue"}.get(parts[2], "other")
    return "other"


def server_side(cpu_dir: Path, plan: dict, since: float) -> dict:
    """Per page: the server's wall time (worker thread, ms; p50/p95) and its thread's CPU time (ms; p50/p95) of
    the requests served after ``since``."""
    rows: dict[str, list[tuple[float, float]]] = {}
    for f in cpu_dir.glob("cpu-*.json"):
        for at, path, wall, cpu, status in json.loads(f.read_text(encoding="utf-8")):
            if at >= since:
                name = page_of(path, plan)
                if name == "follow-up form" and status == 302:  # the form posted and answered with the record
                    name = "follow-up save"
                rows.setdefault(name, []).append((wall, cpu))
    return {name: {"requests": len(v), "wall_p50": _pct([w for w, _ in v], 0.5), "wall_p95": _pct([w for w, _ in v], 0.95),
                   "cpu_p50": _pct([c for _, c in v], 0.5), "cpu_p95": _pct([c for _, c in v], 0.95),
                   "cpu_total_s": sum(c for _, c in v) / 1000}
            for name, v in rows.items()}


def check_saves(samples: Path, run: str) -> dict:
    """Every follow-up save the server acknowledged (302) is in the database once, whole: the visit with the
    values posted, its enrolment, class and next date, and the entry batch that wrote it, finished and tallied.
    The markers come from the locustfile; saves that were not acknowledged (an error) are counted too."""
    from django.db.models import Count

    from gongwei.records import models as m

    acknowledged = json.loads(samples.read_text(encoding="utf-8")).get("saves", [])
    by_marker = {s["marker"]: s for s in acknowledged}
    rows = {fu.guidance: fu for fu in m.ChronicFollowUp.objects.filter(guidance__startswith=f"bench-{run}-")
            .select_related("resident", "batch")}
    # a form's save is one entry batch (records.entry.submit): finished, with its tally of rows received
    tallied = set(m.LoadTally.objects.filter(batch_id__in={fu.batch_id for fu in rows.values()})
                  .values_list("batch_id", flat=True))
    lost = [k for k in by_marker if k not in rows]
    half = [k for k, fu in rows.items()
            if fu.batch is None or fu.batch.finished_at is None or fu.batch_id not in tallied
            or fu.enrollment_id is None or not fu.classification or not fu.next_visit_date
            or (k in by_marker and (fu.sbp, fu.dbp, fu.resident.record_no) != (
                by_marker[k]["sbp"], by_marker[k]["dbp"], by_marker[k]["record_no"]))]
    counts = dict(m.ChronicFollowUp.objects.filter(guidance__in=list(by_marker)).values("guidance")
                  .annotate(n=Count("id")).values_list("guidance", "n"))
    return {"acknowledged": len(by_marker), "in_database": len(rows), "lost": len(lost), "half_written": len(half),
            "duplicated": sum(1 for n in counts.values() if n > 1),
            "unacknowledged_but_written": len(set(rows) - set(by_marker)), "lost_markers": lost[:10],
            "half_markers": half[:10]}


RAMP_SETTLE_S = 30  # after the last user has started: its login (a deliberately slow password hash) and first pages


def duration_seconds(text: str) -> int:
    """A locust run time ("300", "90s", "5m", "1h30m") in seconds."""
    import re

    parts = re.fullmatch(r"\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s?)?\s*", text)
    if not parts or not any(parts.groups()):
        raise ValueError(f"不是 locust 格式的时长：{text!r}（例如 300、90s、5m、1h30m）")
    h, m, s = (int(x or 0) for x in parts.groups())
    return h * 3600 + m * 60 + s


def warm_up_seconds(users: int, spawn_rate: float) -> int:
    """The time before the measured window: every user started (and logged in), then RAMP_SETTLE_S. The load runs
    this much longer than ``--duration``, so the window measured is the whole duration at full load."""
    return math.ceil(users / spawn_rate) + RAMP_SETTLE_S


def summarise(samples: Path) -> dict:
    """Per page: percentiles of every request, and of the steady state — the requests that ended more than
    ``RAMP_SETTLE_S`` after the last user started (the ramp-up's logins hash passwords on the same 2 cores)."""
    raw = json.loads(samples.read_text(encoding="utf-8"))
    spawned = raw.get("spawned_at") or 0.0
    pages = {}
    for name, rec in sorted(raw["pages"].items()):
        times = rec["ms"]
        steady = [ms for ms, at in zip(times, rec.get("at", []), strict=False) if spawned and at > spawned + RAMP_SETTLE_S]
        pages[name] = {"requests": rec["requests"], "errors": rec["errors"], "p50": _pct(times, 0.5),
                       "p95": _pct(times, 0.95), "p99": _pct(times, 0.99), "max": max(times) if times else None,
                       "error_kinds": rec["error_kinds"], "steady_requests": len(steady),
                       "steady_p50": _pct(steady, 0.5), "steady_p95": _pct(steady, 0.95)}
    return {"pages": pages, "seconds": raw["seconds"]}


def report(meta: dict, result: dict, cold: list[dict], load: list[float], server: dict) -> str:
    pages = result["pages"]
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}; PostgreSQL database `{meta['database']}` ({meta['db_size']}), "
        f"{meta['residents']:,} residents (seed {meta['seed']}, as of {meta['as_of']}); gunicorn {meta['workers']} "
        f"workers × {meta['threads']} threads (gthread), DEBUG off; locust {meta['users']} users, spawn "
        f"{meta['spawn_rate']}/s, {meta['duration']}"
        + (f" measured after a warm-up of {meta['warm_up']} s" if meta.get("warm_up") else "")
        + f", think time {meta['wait']} s; run started {meta['started']} UTC.",
        "",
        "| page | requests | errors | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) | steady p50 / p95 (ms) "
        "| server p50 / p95 (ms) | server CPU p50 / p95 (ms) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    total = errors = 0
    for name in [n for n in PAGE_ORDER if n in pages] + sorted(set(pages) - set(PAGE_ORDER)):
        p = pages[name]
        total += p["requests"]
        errors += p["errors"]
        srv = server.get(name)
        inside = (f"{srv['wall_p50']:.0f} / {srv['wall_p95']:.0f} | {srv['cpu_p50']:.0f} / {srv['cpu_p95']:.0f}"
                  if srv else " | ")
        steady = (f"{p['steady_p50']:.0f} / {p['steady_p95']:.0f}" if p.get("steady_requests")
                  else "")
        lines.append(f"| {name} | {p['requests']:,} | {p['errors']:,} | {p['p50']:.0f} | {p['p95']:.0f} | "
                     f"{p['p99']:.0f} | {p['max']:.0f} | {steady} | {inside} |")
    lines.append(f"| **all** | {total:,} | {errors:,} | | | | | | | |")
    lines += ["", "p50/p95/p99/max: as locust saw them (request sent → last byte), every request. Steady: the "
              f"requests that ended more than {RAMP_SETTLE_S} s after the last user started (the ramp-up's logins "
              "hash passwords, deliberately slow, on the same cores)"
              + (f"; the run lasted the duration plus the warm-up of {meta['warm_up']} s, so the steady window is "
                 "the whole duration at full load" if meta.get("warm_up") else "") + ". Server: inside the gunicorn worker "
              "(wall time of the request, and CPU time of the thread that served it — Python and the database driver, "
              "without PostgreSQL's and DuckDB's own threads)."]
    if server:
        cpu = sum(v["cpu_total_s"] for v in server.values())
        lines += [f"Server worker threads used {cpu:.0f} CPU-s in all during the run."]
    rate = total / result["seconds"] if result["seconds"] else 0
    lines += ["", f"Throughput {rate:.1f} requests/s over {result['seconds']:.0f} s."]
    kinds = {f"{n}: {k}": c for n, p in pages.items() for k, c in p["error_kinds"].items()}
    if kinds:
        lines += ["", "Errors: " + "; ".join(f"{k} × {c}" for k, c in sorted(kinds.items()))]
    if cold:
        secs = [c["seconds"] * 1000 for c in cold]
        lines += ["", f"Cold first render of the county dashboard (fresh gunicorn, first request): median "
                  f"{statistics.median(secs):.0f} ms (runs {', '.join(f'{s:.0f}' for s in secs)}; statuses "
                  f"{', '.join(str(c['status']) for c in cold)}); the same page warm right after: "
                  f"{statistics.median(c['then_warm_s'] * 1000 for c in cold):.0f} ms."]
    if load:
        lines += ["", f"1-minute load average during the run: min {min(load):.1f}, median {statistics.median(load):.1f}, "
                  f"max {max(load):.1f} (sampled every 10 s; locust, gunicorn and PostgreSQL share the "
                  f"{os.cpu_count()} cores)."]
    saves = result.get("saves")
    if saves:
        lines += ["", f"Follow-up saves: {saves['acknowledged']:,} acknowledged (302); in the database afterwards "
                  f"{saves['in_database']:,} — lost {saves['lost']}, half-written {saves['half_written']}, written "
                  f"twice {saves['duplicated']}, written without an acknowledgement {saves['unacknowledged_but_written']} "
                  "(each save is checked for its values, enrolment, class, next date and the finished entry batch that wrote it)."]
    page_rows = [p for n, p in pages.items() if n != "login"]
    # the goals are judged on the measured window (every user started and logged in, meta["warm_up"] s into the
    # run) when the run had one; every request, the warm-up's included, is reported beside it
    windowed = bool(meta.get("warm_up")) and all(p.get("steady_requests") for p in page_rows)
    p95 = "steady_p95" if windowed else "p95"
    met_p95 = all(p[p95] < GOALS_MS["p95"] for n, p in pages.items() if n not in ("login", "resident record"))
    rec = pages.get("resident record")
    steady_p95 = [p.get("steady_p95") for n, p in pages.items() if n not in ("login", "resident record")
                  and p.get("steady_requests")]
    steady_met = bool(steady_p95) and all(x < GOALS_MS["p95"] for x in steady_p95)
    every_met = all(p["p95"] < GOALS_MS["p95"] for n, p in pages.items() if n not in ("login", "resident record"))
    if windowed:
        head = (f"Goals, over the {meta['duration']} measured after the warm-up: p95 < 200 ms on every page — "
                + ("met" if met_p95 else "**not met**")
                + f" (every request, the warm-up's logins included: {'met' if every_met else 'not met'})")
    else:
        head = ("Goals: p95 < 200 ms on every page — " + ("met" if met_p95 else "**not met**")
                + (f" (steady state: {'met' if steady_met else 'not met'})" if steady_p95 else ""))
    lines += ["", head + "; no errors — " + ("met" if not any(p["errors"] for p in page_rows) else "**not met**")]
    if rec:
        lines[-1] += "; record page p95 < 300 ms — " + ("met" if rec[p95] < GOALS_MS["record_p95"] else "**not met**")
    if cold:
        lines[-1] += "; county dashboard < 1 s cold — " + (
            "met" if statistics.median(secs) < GOALS_MS["cold"] else "**not met**")
    if saves:
        lines[-1] += "; no lost or half-written save — " + (
            "met" if not (saves["lost"] or saves["half_written"] or saves["duplicated"]) else "**not met**")
    lines[-1] += "."
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gongwei.benchmarks.web",
        description="网页负载基准测试：在 PostgreSQL 中建立合成城市，夜间刷新，用 gunicorn 提供网页，"
        "用 locust 模拟多用户并发访问各页面，报告每页 p50/p95/p99 和错误数，以及冷启动首次渲染县区看板的时间。")
    parser.add_argument("--database-url", default=DEFAULT_URL, help=f"PostgreSQL 数据库（默认 {DEFAULT_URL}；不加 --reuse 时会删除重建）")
    parser.add_argument("--residents", type=int, default=DEFAULT_RESIDENTS, help="合成城市的居民数（默认 2,000,000）")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", default=None, help="合成数据截止日期（默认今天）")
    parser.add_argument("--data-dir", default=None, help="快照和保存结果的目录（默认 data/bench-web/<数据库名>）")
    parser.add_argument("--reuse", action="store_true", help="沿用已建好的数据库和数据目录，不重建")
    parser.add_argument("--build-only", action="store_true", help="只建数据，不测")
    parser.add_argument("--users", type=int, default=50, help="并发用户数（默认 50）")
    parser.add_argument("--spawn-rate", type=float, default=5, help="每秒新增用户数（默认 5）")
    parser.add_argument("--duration", default="5m",
                        help="计时的满负载时长，locust 格式（默认 5m）；之前另有预热：用户逐个启动并登录，再 30 秒")
    parser.add_argument("--wait", default="1,4", help="用户两次打开页面之间的思考时间范围（秒，默认 1,4）")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn 进程数（默认 2，每核一个）")
    parser.add_argument("--threads", type=int, default=8, help="每个 gunicorn 进程的线程数（默认 8）")
    parser.add_argument("--cold-runs", type=int, default=3, help="冷启动首次渲染的次数（取中位数，默认 3；0 不测）")
    parser.add_argument("--cold-only", action="store_true", help="只测冷启动首次渲染，不跑负载")
    parser.add_argument("--port", type=int, default=0, help="服务端口（默认任选一个空闲端口）")
    parser.add_argument("--report", default=None, help="Markdown 报告写入的文件")
    args = parser.parse_args(argv)
    try:
        duration_seconds(args.duration)
    except ValueError as exc:
        parser.error(f"--duration：{exc}")

    url = args.database_url
    name = _db_name(url)
    data_dir = Path(args.data_dir or Path("data") / "bench-web" / name).resolve()
    manifest = data_dir / "bench.json"
    if args.reuse:
        if not (manifest.is_file() and _pg_exists(url)):
            parser.error(f"--reuse：{data_dir} 中没有 bench.json 或数据库 {name} 不存在，请先不带 --reuse 运行以建数据")
        _setup_django(url, data_dir)
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)  # code newer than the build: its new tables
        built = json.loads(manifest.read_text(encoding="utf-8"))
        print(f"沿用已建好的城市：{built['residents']:,} 名居民，截止 {built['as_of']}（建于 {built['built_at']}）。",
              file=sys.stderr)
        t0 = time.perf_counter()
        if redone := refresh_indicators(dt.date.fromisoformat(built["as_of"])):
            print(f"  指标规则已变：重新计算 {'、'.join(redone)}，用时 {time.perf_counter() - t0:.0f} 秒。", file=sys.stderr)
        t0 = time.perf_counter()
        if prepare_worklists():
            print(f"  已按快照生成今日的待办，用时 {time.perf_counter() - t0:.0f} 秒。", file=sys.stderr)
    else:
        as_of = dt.date.fromisoformat(args.as_of) if args.as_of else dt.date.today()
        if data_dir.exists():
            shutil.rmtree(data_dir)
        data_dir.mkdir(parents=True)
        os.chmod(data_dir, 0o700)
        _recreate_pg(url)
        _setup_django(url, data_dir)
        print(f"正在建立合成城市：{args.residents:,} 名居民，载入 {name}，再运行夜间刷新……", file=sys.stderr)
        built = build(args.residents, args.seed, as_of, data_dir)
        print(f"  生成 {built['generate_s']} s，载入 {built['load_s']} s，夜间刷新 {built['nightly_s']} s："
              f"{built['nightly']}", file=sys.stderr)
    if args.build_only:
        return 0

    as_of = dt.date.fromisoformat(built["as_of"])
    plan = targets(as_of, built["seed"])
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    plan_file = data_dir / "targets.json"
    plan_file.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    from django.db import connections

    connections.close_all()
    env = dict(os.environ, DATABASE_URL=url, GONGWEI_DATA_DIR=str(data_dir), GONGWEI_DEBUG="0",
               DJANGO_SETTINGS_MODULE="gongwei.settings")
    port = args.port or _free_port()
    log = data_dir / f"server-{stamp}.log"
    cold = []
    if args.cold_runs:
        print(f"冷启动首次渲染县区看板 {plan['county']}，{args.cold_runs} 次……", file=sys.stderr)
        cold = cold_renders(args.cold_runs, port, args.workers, args.threads, env, log, plan["county"])
    if args.cold_only:
        secs = [c["seconds"] * 1000 for c in cold]
        print(f"Cold first render of the county dashboard: median {statistics.median(secs):.0f} ms (runs "
              f"{', '.join(f'{s:.0f}' for s in secs)}); warm right after "
              f"{statistics.median(c['then_warm_s'] * 1000 for c in cold):.0f} ms; 1-minute load average "
              f"{os.getloadavg()[0]:.1f}.")
        return 0
    samples = data_dir / f"samples-{stamp}.json"
    load: list[float] = []
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
    cpu_dir = data_dir / f"cpu-{stamp}"
    with Server(port, args.workers, args.threads, env, log, cpu_dir=cpu_dir):
        wrong = probe(port, plan)
        since = time.time()
        if wrong:
            print("预检失败（非 200）：\n  " + "\n  ".join(wrong), file=sys.stderr)
        connections.close_all()
        warm_up = warm_up_seconds(args.users, args.spawn_rate)
        run_seconds = duration_seconds(args.duration) + warm_up
        print(f"locust：{args.users} 个用户，预热 {warm_up} 秒后计 {args.duration}……", file=sys.stderr)
        stop = threading.Event()
        sampler = threading.Thread(target=_sample_load, args=(stop, load), daemon=True)
        load.append(os.getloadavg()[0])
        sampler.start()
        try:
            run_locust(port, plan_file, samples, args.users, args.spawn_rate, f"{run_seconds}s", args.wait, env,
                       data_dir / f"locust-{stamp}.log", run=stamp)
        finally:
            stop.set()
            sampler.join()
    result = summarise(samples)
    result["saves"] = check_saves(samples, stamp)
    server = server_side(cpu_dir, plan, since)
    meta = {"database": name, "db_size": _pg_size(url), "residents": built["residents"], "seed": built["seed"],
            "as_of": built["as_of"], "workers": args.workers, "threads": args.threads, "users": args.users,
            "spawn_rate": args.spawn_rate, "duration": args.duration, "wait": args.wait, "started": started,
            "warm_up": warm_up}
    text = report(meta, result, cold, load, server)
    if wrong:
        text += "\n\nProbe before the run (pages not answering 200): " + "; ".join(wrong)
    if not plan["worklist"]:
        text += "\n\nNo worklist page in this build (no URL named web:worklist): not measured."
    (data_dir / f"run-{stamp}.json").write_text(json.dumps(
        {"meta": meta, "built": built, "result": result, "server": server, "cold": cold, "load": load,
         "probe": wrong},
        ensure_ascii=False, indent=1), encoding="utf-8")
    Path(args.report or data_dir / f"report-{stamp}.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
