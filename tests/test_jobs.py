"""Background jobs: a real Huey consumer (SQLite and Redis storage) runs jobs that the service starts for an
actor; progress and status reach the Job row; failures keep their error; scope is refused before queueing; the
nightly refresh stores fresh results; the /jobs/ pages in a real browser.

The consumer runs in threads of this process: with an in-memory SQLite test database they share the test's
connection (as Django's live server does), with PostgreSQL they open their own — so every test that runs a
consumer uses a committed (transactional) database.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from gongwei.jobs.models import Job, JobKind, JobStatus
from tests.ci_policy import not_available
from tests.web_fixtures import OTHER_TOWNSHIP, TOWNSHIP, browser_as, client_for, make_region, screenshot_path

REDIS_URL = os.environ.get("GONGWEI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@contextmanager
def consumer(storage=None, *, workers: int = 1):
    """A real Huey consumer (worker threads and scheduler) on the project's queue, optionally on ``storage``."""
    from django.db import connections
    from huey.contrib.djhuey import HUEY

    old = HUEY.storage
    if storage is not None:
        HUEY.storage = storage
    shared = {}
    for alias in connections:
        conn = connections[alias]
        if conn.vendor == "sqlite" and conn.is_in_memory_db():
            conn.inc_thread_sharing()
            shared[alias] = conn

    def share_test_database() -> None:
        for alias, conn in shared.items():
            connections[alias] = conn

    HUEY.on_startup(name="share-test-database")(share_test_database)
    HUEY._startup = {"share-test-database": HUEY._startup.pop("share-test-database"), **HUEY._startup}  # first
    worker = HUEY.create_consumer(workers=workers, worker_type="thread", periodic=False, check_worker_health=False,
                                  initial_delay=0.05, max_delay=0.2)
    worker._set_signal_handlers = lambda: None  # signals belong to pytest's main thread
    worker.start()
    try:
        yield worker
    finally:
        worker.stop(graceful=True)
        HUEY.unregister_on_startup("share-test-database")
        for conn in shared.values():
            conn.dec_thread_sharing()
        HUEY.storage = old


def wait_for(job_id: int, seconds: float = 120) -> Job:
    deadline = time.monotonic() + seconds
    seen = set()
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job_id)
        seen.add(job.status)
        if job.finished:
            job.seen = seen
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish in {seconds} s: {Job.objects.get(pk=job_id).__dict__}")


@pytest.fixture
def region(transactional_db, fast_passwords):
    return make_region()


def operator():
    from gongwei.service import access

    return access.operator()


def login(username: str):
    from django.contrib.auth import get_user_model

    from gongwei.service import access

    return access.for_user(get_user_model().objects.get(username=username), address="127.0.0.1")


# --- the queue's configuration --------------------------------------------------------------------------------
def test_the_queue_is_never_immediate_and_defaults_to_sqlite_in_the_data_dir(settings):
    from huey.contrib.djhuey import HUEY

    from gongwei.jobs.queue import LazySqliteStorage

    assert settings.HUEY["immediate"] is False and HUEY.immediate is False
    if not settings.REDIS_URL:
        assert isinstance(HUEY.storage, LazySqliteStorage)
        assert HUEY.storage.filename == str(settings.DATA_DIR / "queue.sqlite3")


def test_redis_is_chosen_when_configured_and_production_is_not_immediate(tmp_path):
    import subprocess
    import sys

    code = ("import django, os; django.setup(); from huey.contrib.djhuey import HUEY; "
            "print(type(HUEY).__name__, HUEY.immediate, HUEY.storage.conn.connection_pool.connection_kwargs['db'])")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "gongwei.settings", "GONGWEI_DATA_DIR": str(tmp_path),
           "GONGWEI_REDIS_URL": "redis://127.0.0.1:6379/3", "GONGWEI_DEPLOYMENT": "production",
           "GONGWEI_SECRET_KEY": "p" * 60, "GONGWEI_DEBUG": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["RedisHuey", "False", "3"]
    assert not (tmp_path / "queue.sqlite3").exists()


def test_a_bad_nightly_time_is_refused_in_chinese(settings):
    from django.core.exceptions import ImproperlyConfigured

    from gongwei.jobs.tasks import nightly_schedule

    settings.NIGHTLY_REFRESH_AT = "25:00"
    with pytest.raises(ImproperlyConfigured, match="GONGWEI_NIGHTLY_AT"):
        nightly_schedule()
    settings.NIGHTLY_REFRESH_AT = "03:30"
    run = nightly_schedule()
    assert run(dt.datetime(2026, 5, 1, 3, 30)) and not run(dt.datetime(2026, 5, 1, 2, 0))


def test_the_nightly_task_runs_at_the_configured_local_time():
    from huey.contrib.djhuey import HUEY

    from gongwei.jobs.tasks import nightly_refresh

    assert HUEY.utc is False  # the schedule is read in local time (TIME_ZONE)

    def due(at: dt.datetime) -> list[str]:
        return [t.name for t in HUEY.read_periodic(at)]

    assert nightly_refresh.s().name in due(dt.datetime(2026, 3, 4, 2, 0))
    assert nightly_refresh.s().name not in due(dt.datetime(2026, 3, 4, 14, 0))


# --- jobs through a real consumer -------------------------------------------------------------------------------
def test_a_job_runs_through_a_real_consumer_on_sqlite_storage(region, tmp_path):
    from gongwei.jobs.queue import LazySqliteStorage
    from gongwei.service import jobs, results
    from gongwei.spec.periods import parse

    storage = LazySqliteStorage(name=f"test-{uuid.uuid4().hex}", filename=str(tmp_path / "q" / "queue.sqlite3"))
    with consumer(storage):
        job = jobs.start_catalogue(operator(), "2024", codes="h1,H2,h3")
        assert Job.objects.get(pk=job.pk).status in (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DONE)
        done = wait_for(job.pk)
    assert done.status == JobStatus.DONE, done.error
    assert done.progress == 100 and done.started_at and done.finished_at >= done.started_at
    assert "2024" in done.summary and "指标已计算并保存" in done.summary
    stored = results.stored_indicators(region["snapshot"].id, parse("2024"))
    assert stored is not None and {"H1", "H2", "H3"} <= set(stored.column("indicator").to_pylist())
    assert (tmp_path / "q" / "queue.sqlite3").is_file()


def test_a_job_runs_through_a_real_consumer_on_redis_storage(region):
    import redis
    from huey.storage import RedisStorage

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.RedisError as exc:
        not_available(f"Redis 不可用（{REDIS_URL}）：{exc}")
    name = f"gongwei-test-{uuid.uuid4().hex}"
    storage = RedisStorage(name=name, url=REDIS_URL)
    try:
        with consumer(storage):
            job = jobs_start_snapshot()
            done = wait_for(job.pk)
    finally:
        storage.flush_all()
    assert done.status == JobStatus.DONE, done.error
    assert done.progress == 100 and done.summary.startswith("快照 ")


def jobs_start_snapshot() -> Job:
    from gongwei.service import jobs

    return jobs.start_snapshot(operator())


def test_a_failing_job_records_its_error(region, tmp_path, monkeypatch):
    from gongwei.jobs.queue import LazySqliteStorage
    from gongwei.service import jobs

    storage = LazySqliteStorage(name=f"test-{uuid.uuid4().hex}", filename=str(tmp_path / "queue.sqlite3"))
    import shutil

    from gongwei.service.snapshots import snapshot_root

    shutil.rmtree(snapshot_root())  # no snapshot: an indicator workbook job must fail, saying why
    with consumer(storage):
        job = jobs.start_export_indicators(login("ts"), TOWNSHIP, "2024")
        failed = wait_for(job.pk)
    assert failed.status == JobStatus.FAILED and failed.finished_at is not None
    assert "没有快照" in failed.error and failed.output == ""
    assert failed.user.username == "ts" and failed.target.code == TOWNSHIP and failed.unit.code == TOWNSHIP


def test_progress_is_written_at_most_about_once_a_second(region):
    from gongwei.service import jobs

    job = Job.objects.create(kind=JobKind.SNAPSHOT)
    reporter = jobs.Reporter(job.pk)
    step = reporter.span(0, 100, 1000, "第")
    for i in range(1000):
        step(f"{i} 步")
    assert reporter.writes == 1 and reporter.percent == 99
    assert Job.objects.get(pk=job.pk).progress == 0  # the first write, before the steps moved the bar
    reporter(99, "最后", force=True)
    assert Job.objects.get(pk=job.pk).step == "最后" and reporter.writes == 2


def test_progress_inside_a_read_only_snapshot_transaction_reaches_the_page(transactional_db):
    from django.db import connection, transaction

    from gongwei.service import jobs

    job = Job.objects.create(kind=JobKind.SNAPSHOT)
    reporter = jobs.Reporter(job.pk)
    with transaction.atomic():
        if connection.vendor == "postgresql":  # as records.snapshot reads
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        reporter(40, "快照：residents", force=True)
        written_inside = reporter.writes
    if connection.vendor == "postgresql":  # through a second connection, committed at once
        assert written_inside == 1 and Job.objects.get(pk=job.pk).progress == 40
    else:  # SQLite has one writer at a time: the write waits for the transaction's end
        assert written_inside == 0
    reporter(41, "快照：households", force=True)
    reporter.close()
    assert Job.objects.get(pk=job.pk).progress == 41


# --- scope ---------------------------------------------------------------------------------------------------------
def test_scope_is_refused_before_anything_is_queued(web_region):
    from gongwei.service import jobs
    from gongwei.service.errors import BadRequest, NotFound, Refused

    ts = login("ts")
    for start in (lambda: jobs.start_snapshot(ts), lambda: jobs.start_catalogue(ts, "2024"),
                  lambda: jobs.start_import(ts, [("residents.csv", b"x")]),
                  lambda: jobs.start_export_indicators(ts, OTHER_TOWNSHIP, "2024"),
                  lambda: jobs.start_export_indicators(login("sup"), "360400000000", "2024")):
        with pytest.raises(Refused, match="系统管理员|不在您的权限范围内"):
            start()
    with pytest.raises(NotFound, match="机构代码 999999999999 不存在"):
        jobs.start_export_indicators(ts, "999999999999", "2024")
    with pytest.raises(BadRequest, match="期间“20x4”无效"):
        jobs.start_qc(ts, "20x4")
    with pytest.raises(BadRequest, match="不是 CSV 文件"):
        jobs.start_import(operator(), [("../etc/passwd", b"x")])
    assert not Job.objects.exists()


def test_a_township_sees_only_jobs_on_its_subtree(web_region, django_capture_on_commit_callbacks):
    from gongwei.service import jobs
    from gongwei.service.errors import NotFound, Refused

    with django_capture_on_commit_callbacks(execute=False):  # no worker here: the rows are what is tested
        mine = jobs.start_qc(login("ts"), "2024")
        county = jobs.start_export_indicators(login("sup"), OTHER_TOWNSHIP, "2024")
        whole = jobs.start_snapshot(operator())
    assert mine.target.code == TOWNSHIP
    assert list(jobs.visible(login("ts"))) == [mine]
    assert set(jobs.visible(login("sup"))) == {mine, county}
    assert set(jobs.visible(login("sa"))) == {mine, county, whole}
    with pytest.raises(Refused):
        jobs.get(login("ts"), county.pk)
    with pytest.raises(Refused):
        jobs.get(login("sup"), whole.pk)
    with pytest.raises(NotFound):
        jobs.get(login("sa"), 10**9)


# --- the nightly refresh -----------------------------------------------------------------------------------------
def test_the_nightly_refresh_stores_fresh_results(region):
    from gongwei.quality.models import Finding
    from gongwei.service import jobs, results, snapshots
    from gongwei.spec.periods import parse

    before = region["snapshot"].id
    job = jobs.nightly(dt.date(2024, 11, 15), codes=["H1", "H2"])
    assert job.status == JobStatus.DONE, job.error
    assert jobs.nightly_periods(dt.date(2024, 11, 15)) == ["2024", "2023", "2025MCY", "2024MCY"]
    taken = job.summary.split("快照 ")[1].split("；")[0]  # two snapshots in one second sort by their random part
    assert taken != before and snapshots.open_snapshot(str(snapshots.snapshot_root() / taken)).id == taken
    for p in ("2024", "2023", "2025MCY", "2024MCY"):
        stored = results.stored_indicators(taken, parse(p))
        assert stored is not None and set(stored.column("indicator").to_pylist()) == {"H1", "H2"}
    assert results.qc_path(taken, parse("2024")).is_file()
    # the quarterly bulletin's quarters (ADR 035): 15 November is in Q4, so Q4 to date and Q3 before it, with the
    # QC tallies of the bulletin's rules — a bulletin of 2024Q4 needs no `gongwei indicators` run first
    assert jobs.nightly_quarters(dt.date(2024, 11, 15)) == ["2024Q4", "2024Q3"]
    assert jobs.nightly_quarters(dt.date(2025, 1, 2)) == ["2025Q1", "2024Q4"]  # Q1's previous is last year's Q4
    from gongwei.bulletins import template as templates

    for q in ("2024Q4", "2024Q3"):
        stored = results.stored_indicators(taken, parse(q))
        assert stored is not None and set(stored.column("indicator").to_pylist()) == {"H1", "H2"}
        assert set(results.stored_qc_rules(taken, parse(q))) >= set(templates.load("quarterly").qc_rules)
    assert "季度质控汇总 2024Q4、2024Q3 已保存" in job.summary
    found = int(job.summary.split("质控 2024 发现 ")[1].split(" ")[0])
    assert Finding.objects.filter(period="2024").count() >= found
    assert job.requested_by == "夜间刷新" and job.user is None and job.progress == 100


# --- jobs left running by a worker that stopped ----------------------------------------------------------------
def _dead_pid() -> int:
    import subprocess

    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _running(worker: str, started_hours_ago: float = 0.01) -> Job:
    from django.utils import timezone

    return Job.objects.create(kind=JobKind.SNAPSHOT, status=JobStatus.RUNNING, progress=40, step="写入表",
                              worker=worker, started_at=timezone.now() - dt.timedelta(hours=started_hours_ago))


def test_jobs_of_a_stopped_worker_or_running_too_long_are_marked_failed(region, settings):
    import socket

    from gongwei.service import jobs

    settings.JOB_STUCK_AFTER_HOURS = 6
    host = socket.gethostname()
    dead = _running(f"{host}:{_dead_pid()}")
    alive = _running(jobs.this_worker(), started_hours_ago=1)  # this process claimed it: still running
    elsewhere = _running("other-host:1", started_hours_ago=5)  # another host's worker: only the age limit
    too_long = _running("other-host:2", started_hours_ago=7)
    done = Job.objects.create(kind=JobKind.SNAPSHOT, status=JobStatus.DONE, worker=f"{host}:{_dead_pid()}",
                              summary="好")
    assert jobs.reap_interrupted() == 2
    got = {j.pk: j for j in Job.objects.all()}
    assert got[dead.pk].status == JobStatus.FAILED and got[dead.pk].error == "中断：后台进程已停止"
    assert got[dead.pk].finished_at is not None and got[dead.pk].progress == 40  # how far it got stays visible
    assert got[too_long.pk].status == JobStatus.FAILED
    assert got[too_long.pk].error == "中断：后台进程已停止（运行超过 6 小时未结束）"
    assert {got[j.pk].status for j in (alive, elsewhere)} == {JobStatus.RUNNING}
    assert got[done.pk].status == JobStatus.DONE and got[done.pk].error == ""
    assert jobs.reap_interrupted() == 0  # once


def test_a_worker_that_starts_marks_the_jobs_of_a_killed_worker_failed_and_the_page_says_so(region, tmp_path):
    import socket

    from gongwei.jobs.queue import LazySqliteStorage

    stuck = _running(f"{socket.gethostname()}:{_dead_pid()}")
    storage = LazySqliteStorage(name=f"test-{uuid.uuid4().hex}", filename=str(tmp_path / "queue.sqlite3"))
    with consumer(storage):
        failed = wait_for(stuck.pk, seconds=30)
    assert failed.status == JobStatus.FAILED and failed.error == "中断：后台进程已停止"
    page = client_for("sa").get(f"/jobs/{stuck.pk}/").content.decode()
    assert "失败" in page and "中断：后台进程已停止" in page
    assert client_for("sa").get(f"/jobs/{stuck.pk}/status.json").json()["status"] == "failed"


def test_a_job_claimed_by_a_worker_records_which_process(region, tmp_path):
    from gongwei.jobs.queue import LazySqliteStorage
    from gongwei.service import jobs

    storage = LazySqliteStorage(name=f"test-{uuid.uuid4().hex}", filename=str(tmp_path / "queue.sqlite3"))
    with consumer(storage):
        job = wait_for(jobs.start_snapshot(operator()).pk)
    assert job.status == JobStatus.DONE and job.worker == jobs.this_worker()


# --- pages ---------------------------------------------------------------------------------------------------------
def test_job_pages_are_scoped_and_refusals_are_chinese(web_region, django_capture_on_commit_callbacks):
    from gongwei.service import jobs

    with django_capture_on_commit_callbacks(execute=False):
        county = jobs.start_export_indicators(login("sup"), OTHER_TOWNSHIP, "2024")
        whole = jobs.start_snapshot(operator())
    ts = client_for("ts")
    listed = ts.get("/jobs/")
    assert listed.status_code == 200
    assert f"#{county.pk}" not in listed.content.decode() and "生成快照" not in listed.content.decode()
    for job in (county, whole):
        for url in (f"/jobs/{job.pk}/", f"/jobs/{job.pk}/status.json", f"/jobs/{job.pk}/download/"):
            refused = ts.get(url)
            assert refused.status_code == 403 and "不在您的权限范围内" in refused.content.decode(), url
    for url in ("/jobs/999999/", "/jobs/999999/status.json", "/jobs/999999/download/"):
        missing = ts.get(url)
        assert missing.status_code == 404 and "任务 #999999 不存在" in missing.content.decode()
    started = Job.objects.count()
    refused = ts.post("/jobs/", {"kind": "snapshot"})
    assert refused.status_code == 403 and "您无权启动“生成快照”任务" in refused.content.decode()
    bad = ts.post("/jobs/", {"kind": "qc", "period": "2024Q9"})
    assert bad.status_code == 400 and "期间“2024Q9”无效" in bad.content.decode()
    assert Job.objects.count() == started
    sup = client_for("sup").get(f"/jobs/{county.pk}/")
    assert sup.status_code == 200 and "导出指标工作簿" in sup.content.decode()
    assert client_for("sa").get(f"/jobs/{whole.pk}/status.json").json()["status"] == "queued"


def test_a_township_starts_qc_and_downloads_a_workbook_which_is_audited(web_region_with_results,
                                                                        django_capture_on_commit_callbacks):
    from openpyxl import load_workbook

    from gongwei.records.models import AccessLog
    from gongwei.service import jobs
    from gongwei.spec.vocab import AccessKind

    ts = client_for("ts")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = ts.post("/jobs/", {"kind": "export_indicators", "org": TOWNSHIP, "period": "2025",
                                      "codes": "h1"})
    assert response.status_code == 302 and len(queued) == 1  # queued once, after the commit
    job = Job.objects.get()
    assert response["Location"] == f"/jobs/{job.pk}/" and job.status == JobStatus.QUEUED
    assert job.user.username == "ts" and job.target.code == TOWNSHIP
    jobs.execute(job.pk)  # what the worker does (the consumer itself is tested above)
    state = ts.get(f"/jobs/{job.pk}/status.json").json()
    assert state["status"] == "done" and state["progress"] == 100 and state["download"], state
    page = ts.get(f"/jobs/{job.pk}/").content.decode()
    assert "下载输出文件" in page and "蒲亭镇卫生院" in page
    before = AccessLog.objects.filter(kind=AccessKind.EXPORT).count()
    download = ts.get(f"/jobs/{job.pk}/download/")
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    body = b"".join(download.streaming_content)
    import io

    sheet = load_workbook(io.BytesIO(body)).active
    assert any("H1" in str(c.value) for row in sheet.iter_rows() for c in row)
    log = AccessLog.objects.filter(kind=AccessKind.EXPORT).latest("pk")
    assert AccessLog.objects.filter(kind=AccessKind.EXPORT).count() == before + 1
    assert log.user.username == "ts" and log.scope == TOWNSHIP and f"任务 #{job.pk}" in log.purpose
    listed = ts.get("/jobs/").content.decode()
    assert f"#{job.pk}" in listed and "已完成" in listed and "ts" in listed


def test_an_import_through_the_page_keeps_its_report_and_a_rejected_one_fails(web_region,
                                                                              django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from gongwei.records.models import OrgUnit
    from gongwei.service import jobs

    sa = client_for("sa")
    head = "code,institution_code,name,level,kind,parent,is_active\n"
    good = head + "360426100203,,东门村卫生室,village,village_clinic,360426100000,1\n"
    bad = head + "360426100204,,西门村卫生室,nowhere,village_clinic,360426100000,1\n"
    for content in (good, bad):
        with django_capture_on_commit_callbacks(execute=False):
            sa.post("/jobs/", {"kind": "import", "files": SimpleUploadedFile("org_units.csv", content.encode())})
        jobs.execute(Job.objects.latest("pk").pk)
    done, rejected = Job.objects.order_by("pk")
    assert done.status == JobStatus.DONE and "新增 1" in done.summary, (done.error, done.summary)
    assert OrgUnit.objects.filter(code="360426100203").exists()
    assert rejected.status == JobStatus.FAILED and "整批未写入" in rejected.error
    assert not OrgUnit.objects.filter(code="360426100204").exists()
    report = sa.get(f"/jobs/{rejected.pk}/download/")
    assert report.status_code == 200 and "nowhere" in b"".join(report.streaming_content).decode("utf-8-sig")


def test_system_admin_starts_a_job_and_watches_it_reach_100_percent(chromium, live_server, live_region, tmp_path):
    from gongwei.jobs.queue import LazySqliteStorage

    storage = LazySqliteStorage(name=f"test-{uuid.uuid4().hex}", filename=str(tmp_path / "queue.sqlite3"))
    with consumer(storage), browser_as(chromium, live_server, "sa") as (page, offsite):
        page.goto(f"{live_server.url}/jobs/")
        form = page.locator("form.jobform:has(input[value=catalogue])")
        form.locator("input[name=period]").fill("2024")
        form.locator("input[name=codes]").fill("h1,h2")
        form.locator("button.primary").click()
        page.wait_for_url("**/jobs/*/")
        page.wait_for_selector(".job[data-state=done]", timeout=120_000)
        assert page.inner_text("[data-field=percent]") == "100 %"
        assert page.get_attribute(".jobbar", "aria-valuenow") == "100"
        page.wait_for_timeout(600)  # the bar's width transition (0.4 s)
        width = page.eval_on_selector(".jobbar span", "e => e.getBoundingClientRect().width / "
                                                      "e.parentElement.getBoundingClientRect().width")
        assert width > 0.97
        assert "指标已计算并保存" in page.inner_text("[data-field=summary]")
        assert page.inner_text("[data-field=started]").startswith("20")  # filled in by the polling script
        page.screenshot(path=str(screenshot_path(tmp_path, "jobs_detail_sysadmin")), full_page=True)
        page.goto(f"{live_server.url}/jobs/")
        assert "计算全部指标" in page.inner_text("table.jobs") and "已完成" in page.inner_text("table.jobs")
        page.screenshot(path=str(screenshot_path(tmp_path, "jobs_list_sysadmin")), full_page=True)
    assert offsite == [], f"requests left the local server: {offsite}"
    with browser_as(chromium, live_server, "ts") as (page, offsite):
        page.goto(f"{live_server.url}/jobs/")
        forms = page.locator("form.jobform input[name=kind]")
        assert sorted(forms.evaluate_all("es => es.map(e => e.value)")) == ["export_indicators", "qc"]
        assert "计算全部指标" not in page.inner_text("main")  # sa's whole-tree job is not shown to a township
        assert page.input_value("form.jobform:has(input[value=export_indicators]) input[name=org]") == TOWNSHIP
        page.screenshot(path=str(screenshot_path(tmp_path, "jobs_list_township")), full_page=True)
    assert offsite == [], f"requests left the local server: {offsite}"


# --- serving: the web server and the worker together ---------------------------------------------------------------
def _children(pid: int) -> list[int]:
    from pathlib import Path

    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(x) for x in (task / "children").read_text().split()]
        except FileNotFoundError:  # a thread that ended between the listing and the read has no children
            continue
    return found


def test_serve_starts_the_worker_with_the_server_and_stops_both(tmp_path):
    import signal
    import socket
    import sqlite3
    import subprocess
    import sys
    import urllib.request

    from gongwei.jobs.management.commands.serve import GRACE_SECONDS

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "GONGWEI_REDIS_URL")}
    env.update(GONGWEI_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="gongwei.settings")
    gongwei = [sys.executable, "-m", "gongwei.cli.main"]
    subprocess.run([*gongwei, "migrate"], env=env, check=True, capture_output=True, timeout=300)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Ctrl+C as at a terminal, whatever the test run inherited: a command started in the background by a script
    # (`make test &`) ignores SIGINT, and so would the server (seen as a server that never stopped)
    server = subprocess.Popen([*gongwei, "manage", "serve", "--port", str(port), "--workers", "1"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2).status == 200
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
                time.sleep(0.3)
        workers = _children(server.pid)
        assert len(workers) == 1 and b"run_huey" in Path(f"/proc/{workers[0]}/cmdline").read_bytes()
        start = ("import django; django.setup(); from gongwei.service import access, jobs; "
                 "print(jobs.start_snapshot(access.operator()).pk)")
        job_id = int(subprocess.run([sys.executable, "-c", start], env=env, check=True, capture_output=True,
                                    text=True, timeout=120).stdout)
        deadline = time.monotonic() + 120
        while True:
            with sqlite3.connect(tmp_path / "gongwei.sqlite3") as db:
                status, summary = db.execute("select status, summary from jobs_job where id = ?", (job_id,)).fetchone()
            if status in ("done", "failed") or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert status == "done" and summary.startswith("快照 "), (status, summary)
    finally:
        server.send_signal(signal.SIGINT)
        # the worker has GRACE_SECONDS to finish a running step before it is killed, then the server exits; on a
        # busy machine (the other test worker running Spark) starting and stopping take a while longer
        try:
            out = server.communicate(timeout=GRACE_SECONDS + 60)[0]
        except subprocess.TimeoutExpired:
            left = {pid: Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                    for pid in _children(server.pid) if Path(f"/proc/{pid}/cmdline").exists()}
            server.kill()
            try:
                out = server.communicate(timeout=10)[0]
            except subprocess.TimeoutExpired:  # a process it started still holds its output
                out = "(output still held open by a child process)"
            pytest.fail(f"serve did not stop within {GRACE_SECONDS + 60} s of Ctrl+C; children {left}; output:\n{out}")
    assert "后台任务进程已启动" in out
    assert not Path(f"/proc/{workers[0]}").exists() or b"zombie" in Path(f"/proc/{workers[0]}/status").read_bytes()
