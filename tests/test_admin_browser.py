"""A real browser (system Chromium driven by Playwright) logs in as the village doctor.

``make install`` installs both. Without Playwright or Chromium the test fails under CI=true and is skipped (and
listed as not run) locally. Playwright's own browser download is never used: the Debian ``chromium`` package is
launched directly; ``GONGWEI_CHROMIUM`` names another executable (and only that one).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from gongwei.records import roles
from tests.test_admin import OTHER, OWN, PASSWORD, build_small_region

CHROMIUM = os.environ.get("GONGWEI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]

try:
    from playwright import sync_api
except ImportError:  # reported by the chromium fixture: a failure under CI, a listed skip locally
    sync_api = None


def find_chromium() -> str | None:
    if "GONGWEI_CHROMIUM" in os.environ:
        return CHROMIUM if Path(CHROMIUM).exists() else None
    return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")


@pytest.fixture
def browser_region(transactional_db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    roles.ensure_groups()
    return build_small_region()


def test_village_doctor_sees_chinese_resident_list_with_only_own_residents(chromium, live_server, browser_region,
                                                                           tmp_path, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the server thread does the database work.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    shot = Path(os.environ.get("GONGWEI_SCREENSHOT_DIR", tmp_path)) / "village_doctor_residents.png"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="zh-CN", viewport={"width": 1400, "height": 900})
            offline = []
            page.on("request", lambda r: offline.append(r.url) if not r.url.startswith(live_server.url) else None)
            page.goto(f"{live_server.url}/admin/")
            assert "登录" in page.title()
            page.fill("#id_username", "vd")
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_selector("#site-name")
            assert "公卫 gongwei 管理" in page.inner_text("#site-name")
            page.goto(f"{live_server.url}/admin/records/resident/")
            page.wait_for_selector("#result_list")
            rows = page.locator("#result_list tbody tr")
            assert rows.count() == 3
            body = page.inner_text("body")
            assert page.inner_text("#content h1") == "选择 居民 来修改"  # Django's zh-Hans change-list heading
            assert OWN in body and OTHER not in body
            assert "北门村卫生室" in body
            # the admin stylesheet loaded from the local server (no CDN): the header is styled
            header_bg = page.eval_on_selector("#header", "e => getComputedStyle(e).backgroundColor")
            assert header_bg not in ("rgba(0, 0, 0, 0)", "transparent")
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert shot.exists() and shot.stat().st_size > 10_000
    assert offline == [], f"requests left the local server: {offline}"
