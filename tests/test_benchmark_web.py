"""The web load benchmark's own logic (gongwei.benchmarks.web): how a request is named, percentiles, the
verdict on the goals. The benchmark itself is run by hand (docs/benchmarks.md §9), never by the test suite."""

from __future__ import annotations

import ast
import datetime as dt
import json
from pathlib import Path

import pytest

from gongwei.benchmarks import web
from gongwei.records import models as m
from gongwei.service import access, encounters
from tests.web_fixtures import VILLAGE, web_region  # noqa: F401 (fixture)

PLAN = {"county": "620802000000", "worklist": "/worklist/"}


@pytest.mark.parametrize(("path", "page"), [
    ("/unit/620802000000/indicators/", "county dashboard"),
    ("/unit/620802100000/indicators/", "township drill-down"),
    ("/unit/620802100000/indicators/H2/", "indicator page"),
    ("/unit/620802100201/indicators/H2/gaps/?period=2026", "gap list (village)"),
    ("/unit/620802000000/findings/", "findings list"),
    ("/unit/620802000000/duplicates/", "duplicate queue"),
    ("/residents/?q=%E7%8E%8B", "resident search"),
    ("/resident/620802100201000123/", "resident record"),
    ("/worklist/", "worklist"),
    ("/resident/620802100201000123/follow-up/hypertension/", "follow-up form"),
    ("/login/", "login"),
    ("/jobs/", "other"),
])
def test_requests_are_named_as_the_locustfile_names_them(path, page):
    assert web.page_of(path, PLAN) == page


def test_every_page_the_locustfile_reports_is_in_the_report_order():
    tree = ast.parse(Path(web.__file__).with_name("locustfile.py").read_text(encoding="utf-8"))
    names = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
             and n.value in web.PAGE_ORDER}
    calls = {a.value for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "page"
             for a in n.args[1:] if isinstance(a, ast.Constant)}
    assert calls and calls <= set(web.PAGE_ORDER)
    assert "gap list (village)" in names and "login" in names


def test_percentiles_by_nearest_rank():
    values = list(range(1, 101))
    assert (web._pct(values, 0.5), web._pct(values, 0.95), web._pct(values, 0.99)) == (50, 95, 99)
    assert web._pct([7.0], 0.99) == 7.0


def _page(p95: float, errors: int = 0) -> dict:
    return {"requests": 100, "errors": errors, "p50": p95 / 2, "p95": p95, "p99": p95 * 1.5, "max": p95 * 2,
            "error_kinds": {"HTTP 500": errors} if errors else {}}


META = {"database": "gw_x", "db_size": "1 GB", "residents": 1000, "seed": 1, "as_of": "2026-11-28", "workers": 2,
        "threads": 8, "users": 50, "spawn_rate": 5, "duration": "5m", "wait": "1,4", "started": "2026-11-28 15:00"}


def test_report_says_which_goals_are_met():
    ok = web.report(META, {"pages": {"county dashboard": _page(150), "resident record": _page(250)}, "seconds": 300},
                    [{"status": 200, "seconds": 0.8, "then_warm_s": 0.1}] * 3, [1.0, 2.0], {})
    assert "p95 < 200 ms on every page — met; no errors — met; record page p95 < 300 ms — met; " \
           "county dashboard < 1 s cold — met." in ok
    bad = web.report(META, {"pages": {"county dashboard": _page(250, errors=2), "resident record": _page(350)},
                            "seconds": 300}, [{"status": 200, "seconds": 1.2, "then_warm_s": 0.1}] * 3, [], {})
    assert bad.count("**not met**") == 4
    assert "county dashboard: HTTP 500 × 2" in bad


def test_help_runs_without_a_database(capsys):
    with pytest.raises(SystemExit) as exit_:
        web.main(["--help"])
    assert exit_.value.code == 0
    assert "--reuse" in capsys.readouterr().out


def test_report_says_whether_saves_were_lost():
    pages = {"follow-up save": _page(150)}
    whole = {"acknowledged": 40, "in_database": 40, "lost": 0, "half_written": 0, "duplicated": 0,
             "unacknowledged_but_written": 0}
    ok = web.report(META, {"pages": pages, "seconds": 300, "saves": whole}, [], [], {})
    assert "Follow-up saves: 40 acknowledged" in ok and "no lost or half-written save — met." in ok
    bad = web.report(META, {"pages": pages, "seconds": 300, "saves": dict(whole, lost=1, in_database=39)}, [], [], {})
    assert "no lost or half-written save — **not met**." in bad


@pytest.mark.django_db
def test_check_saves_finds_lost_and_half_written_saves(web_region, tmp_path):  # noqa: F811
    """Two saves written through the service (as the page writes them), one acknowledged save never written, and
    then the entry batch of one of the written saves is made unfinished: 1 lost, 1 half-written, 1 whole."""
    doctor = access.operator("vd", command="test")
    record_no = f"{VILLAGE}00001"  # 北门村: hypertension since 2023 (tests/web_fixtures.py)
    day = dt.date(2026, 11, 16)
    saved = []
    for marker, (sbp, dbp) in (("bench-r1-a", (128, 80)), ("bench-r1-b", (126, 78))):
        encounters.save_follow_up(doctor, record_no, "hypertension", {
            "service_date": day.isoformat(), "mode": "1", "sbp": str(sbp), "dbp": str(dbp), "guidance": marker})
        saved.append({"marker": marker, "record_no": record_no, "sbp": sbp, "dbp": dbp})
    saved.append({"marker": "bench-r1-never", "record_no": record_no, "sbp": 120, "dbp": 70})
    samples = tmp_path / "samples.json"
    samples.write_text(json.dumps({"pages": {}, "seconds": 1, "saves": saved}), encoding="utf-8")
    got = web.check_saves(samples, "r1")
    assert (got["acknowledged"], got["in_database"], got["lost"], got["half_written"]) == (3, 2, 1, 0)
    b = m.ChronicFollowUp.objects.get(guidance="bench-r1-b")
    m.LoadBatch.objects.filter(pk=b.batch_id).update(finished_at=None)
    got = web.check_saves(samples, "r1")
    assert (got["lost"], got["half_written"], got["half_markers"]) == (1, 1, ["bench-r1-b"])


def test_the_steady_state_leaves_out_the_ramp_up(tmp_path):
    """Requests ending within RAMP_SETTLE_S of the last user's start are in the overall percentiles only."""
    spawned = 1000.0
    early = [(5000.0, spawned + 1 + i) for i in range(10)]  # slow, during the logins
    late = [(100.0 + i, spawned + web.RAMP_SETTLE_S + 1 + i) for i in range(90)]
    ms, at = zip(*(early + late), strict=True)
    samples = tmp_path / "s.json"
    samples.write_text(json.dumps({"pages": {"county dashboard": {"requests": 100, "errors": 0, "error_kinds": {},
                                                                  "ms": ms, "at": at}},
                                   "seconds": 300, "spawned_at": spawned}), encoding="utf-8")
    page = web.summarise(samples)["pages"]["county dashboard"]
    assert page["p95"] == 5000.0 and page["steady_requests"] == 90 and page["steady_p95"] == 185.0
    text = web.report(META, web.summarise(samples), [], [], {})
    assert "p95 < 200 ms on every page — **not met** (steady state: met)" in text


def test_the_goals_are_judged_after_the_warm_up_when_the_run_had_one(tmp_path):
    """With a warm-up (every user started and logged in, then RAMP_SETTLE_S), the run lasts the duration plus the
    warm-up and the goals are judged on the window after it; every request is still reported beside it."""
    assert web.duration_seconds("5m") == 300 and web.duration_seconds("1h30m") == 5400
    assert web.duration_seconds("90s") == 90 and web.duration_seconds("300") == 300
    with pytest.raises(ValueError):
        web.duration_seconds("five minutes")
    assert web.warm_up_seconds(50, 5) == 10 + web.RAMP_SETTLE_S
    assert web.warm_up_seconds(50, 3) == 17 + web.RAMP_SETTLE_S  # the last user starts after 16.7 s
    spawned = 1000.0
    early = [(5000.0, spawned + 1 + i) for i in range(10)]
    late = [(100.0 + i, spawned + web.RAMP_SETTLE_S + 1 + i) for i in range(90)]
    slow_record = [(280.0, spawned + web.RAMP_SETTLE_S + 1 + i) for i in range(90)]
    ms, at = zip(*(early + late), strict=True)
    rms, rat = zip(*(early + slow_record), strict=True)
    samples = tmp_path / "s.json"
    samples.write_text(json.dumps({"pages": {
        "county dashboard": {"requests": 100, "errors": 0, "error_kinds": {}, "ms": ms, "at": at},
        "resident record": {"requests": 100, "errors": 0, "error_kinds": {}, "ms": rms, "at": rat}},
        "seconds": 340, "spawned_at": spawned}), encoding="utf-8")
    windowed = web.report({**META, "warm_up": 40}, web.summarise(samples), [], [], {})
    assert "5m measured after a warm-up of 40 s" in windowed
    assert ("Goals, over the 5m measured after the warm-up: p95 < 200 ms on every page — met (every request, "
            "the warm-up's logins included: not met); no errors — met; record page p95 < 300 ms — met") in windowed
    # the same samples from a run without a warm-up: judged on every request, as before
    plain = web.report(META, web.summarise(samples), [], [], {})
    assert "p95 < 200 ms on every page — **not met** (steady state: met)" in plain
    assert "record page p95 < 300 ms — **not met**" in plain


def test_a_duration_locust_cannot_read_is_refused_before_anything_is_built(capsys):
    with pytest.raises(SystemExit):
        web.main(["--duration", "five minutes", "--database-url", "postgres://nobody@127.0.0.1:1/none"])
    assert "--duration" in capsys.readouterr().err
