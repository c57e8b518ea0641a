"""Shared fixtures of the web tests: a small region with one login per role, a snapshot with stored results,
logged-in clients, and a Playwright page that records every request leaving the test server.

Loaded as a plugin by tests/conftest.py, so its fixtures are available everywhere; import the constants and
helpers (``client_for``, ``browser_as``, ``screenshot_path``).
The region is ``tests.test_admin.build_small_region`` (德安县: two townships, four villages, three residents each,
hypertension enrolments and 2024 follow-ups); logins: vd, vd2 (village doctors), ts (township staff), ta
(township admin), sup (county supervisor), ev (city evaluator), sa (system admin) — all with ``PASSWORD``.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.test import Client

from gongwei.records import roles
from tests.ci_policy import not_available
from tests.shared_data import shared_data
from tests.test_admin import LOGINS, ORG_UNITS, PASSWORD, build_small_region

COUNTY = "360426000000"
TOWNSHIP = "360426100000"
VILLAGE = "360426100201"
OTHER_TOWNSHIP = "360426200000"
ROLE_OF = {u: r for u, r, _ in LOGINS}
UNIT_OF = {u: c for u, _, c in LOGINS}
UNIT_NAMES = {c: n for c, n, *_ in ORG_UNITS}
SCREENSHOT_DIR_ENV = "GONGWEI_SCREENSHOT_DIR"


@pytest.fixture
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_region(*, periods: tuple[str, ...] = (), codes: list[str] | None = None, prepare=None) -> dict:
    """The small region, a snapshot of it and stored indicator results of ``codes`` (default all; the whole
    catalogue takes ~10 s per period) for ``periods`` (the operator computes them, as the nightly job would).
    ``prepare(made)`` adds data to the region before the snapshot is taken.
    Returns build_small_region's dict plus ``snapshot`` and ``operator``."""
    from gongwei.service import access, results, snapshots
    from gongwei.spec.periods import parse

    roles.ensure_groups()
    made = build_small_region()
    if prepare is not None:
        prepare(made)
    snap = snapshots.take()
    eng = snapshots.engine(snap.folder)
    for p in periods:
        results.indicators(eng, parse(p), codes)
    made["snapshot"] = snap
    made["operator"] = access.operator()
    return made


@shared_data
def web_region():
    """Built once per test module; each test starts from it as built (tests/shared_data.py)."""
    return make_region()


@shared_data
def web_region_with_results():
    """The region with H1–H3 stored for 2024 and 2025 (a dashboard has something to show); built once per test
    module, each test starting from it as built (tests/shared_data.py)."""
    return make_region(periods=("2024", "2025"), codes=["H1", "H2", "H3"])


@pytest.fixture
def live_region(transactional_db, fast_passwords):
    """The same region for a live server (Playwright): committed, visible to the server thread."""
    return make_region()


def client_for(username: str) -> Client:
    """A client logged in through gongwei's own login page."""
    c = Client()
    response = c.post("/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:2000]
    return c


# --- a real browser ------------------------------------------------------------------------------------------
@pytest.fixture
def chromium() -> str:
    from tests.test_admin_browser import CHROMIUM, find_chromium, sync_api

    if sync_api is None:
        not_available("未安装 Playwright（playwright 包），浏览器测试无法运行；请运行 make install")
    executable = find_chromium()
    if executable is None:
        not_available(f"找不到 Chromium（{CHROMIUM}），浏览器测试无法运行；请运行 make install（apt 安装 chromium）")
    return executable


def screenshot_path(tmp_path: Path, name: str) -> Path:
    folder = Path(os.environ.get(SCREENSHOT_DIR_ENV, tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.png"


@contextmanager
def browser_as(chromium: str, live_server, username: str, *, width: int = 1366, height: int = 768):
    """A Playwright page logged in as ``username`` at 1366×768; yields (page, offsite) where ``offsite`` lists
    every request that went anywhere but the test server (a test asserts it stays empty: no CDN)."""
    from playwright import sync_api

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop runs in this thread; the server in its own
    with sync_api.sync_playwright() as p:
        from tests.test_admin_browser import CHROMIUM_ARGS

        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="zh-CN", viewport={"width": width, "height": height})
            offsite: list[str] = []
            page.on("request", lambda r: offsite.append(r.url)
                    if not r.url.startswith(live_server.url) and not r.url.startswith("data:") else None)
            page.goto(f"{live_server.url}/login/")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", PASSWORD)
            page.click("button.primary")
            page.wait_for_load_state("networkidle")
            yield page, offsite
        finally:
            browser.close()


# --- the indicator dashboard (issue 10 §2–3, tests/test_web_dashboard.py) ----------------------------------------
FORMULA_NAME = '=HYPERLINK("http://example.invalid","点我")'
FORMULA_RECORD = "36042620020100001"  # 高塘村: in the gap of H3 in 2025 (no follow-up that year)


def make_dashboard_region(periods: tuple[str, ...] = ("2024", "2025"), codes: list[str] | None = None) -> dict:
    """The small region where 2025 tells townships apart: every 北门村 resident has four controlled follow-ups in
    2025, one 南门村 resident has one, 高塘乡 has none (it lags) — and a 高塘村 resident is named like a
    spreadsheet formula (an export must keep it text). H1–H3 stored for ``periods``."""
    return make_region(periods=periods, codes=codes or ["H1", "H2", "H3"], prepare=_dashboard_data)


def _dashboard_data(made: dict) -> None:
    import pyarrow as pa

    from gongwei.records import entry
    from gongwei.records import models as m

    visits = []
    for no, r in made["residents"].items():
        village = r["managing_unit"]
        dates = (("2025-02-10", "2025-05-12", "2025-08-11", "2025-11-10") if village == "360426100201"
                 else ("2025-03-03",) if no == "36042610020200001" else ())
        visits += [dict(encounter_no=f"F25-{no}-{i}", resident=no, org_unit=village, service_date=d,
                        enrollment=f"E-{no}", program="hypertension", mode="1", sbp="128", dbp="78")
                   for i, d in enumerate(dates)]
    entry.submit({"chronic_follow_ups": pa.table({k: [v[k] for v in visits] for k in visits[0]})},
                 actor="test", kind="synth")
    person = m.Resident.objects.get(record_no=FORMULA_RECORD)
    person.name = FORMULA_NAME
    entry.submit_instance(person, reason="测试：像公式的姓名")


@pytest.fixture
def dashboard_region(db, fast_passwords):
    return make_dashboard_region()


@pytest.fixture
def live_dashboard_region(transactional_db, fast_passwords):
    return make_dashboard_region()
