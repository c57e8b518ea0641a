"""Screenshots of the main pages at 1366×768, each as the role that uses it, on the demo region (平凉市崆峒区).

`make screenshots` runs this module with GONGWEI_SCREENSHOT_DIR=docs/screenshots and the PNGs are committed
(docs/web.md lists them); in the suite they go to a temporary folder and the test checks that every page
rendered (status 200, no request to another host, the charts drawn). The region is what `gongwei demo` builds
(5,000 residents, its first nightly refresh: snapshot, indicators, QC findings, duplicate queues), plus one job
shown while running.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from tests.test_admin_browser import CHROMIUM_ARGS
from tests.web_fixtures import screenshot_path

VENDOR = Path(__file__).resolve().parents[1] / "src/gongwei/web/static/vendor"
RESIDENTS = int(os.environ.get("GONGWEI_SCREENSHOT_RESIDENTS", "5000"))


@pytest.fixture
def demo_region(transactional_db, settings):
    """What `gongwei demo` builds, with smaller townships and villages than its default (a county of several
    townships in a few thousand residents, so the ranking and the lagging township show): the region, its first
    nightly refresh and one login per role."""
    import dataclasses

    from django.utils import timezone

    from gongwei.cli import demo
    from gongwei.records import demo as demo_marker
    from gongwei.records import roles
    from gongwei.synth.config import SynthConfig
    from gongwei.synth.generate import generate_region
    from gongwei.synth.load import load_region

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    roles.ensure_groups()
    demo_marker.mark_demo_database()
    config = dataclasses.replace(SynthConfig(), village_size=(250, 450), township_size=RESIDENTS // 4)
    load_region(generate_region(RESIDENTS, 20240601, as_of=timezone.localdate(), config=config))
    demo.first_evaluation()
    demo.ensure_logins()
    return demo


class Shots:
    """One browser; ``login(user)`` opens a fresh context; ``shot(name)`` saves the viewport (1366×768)."""

    def __init__(self, playwright, chromium: str, live_server, tmp_path: Path, password: str):
        self.browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        self.url, self.tmp, self.password = live_server.url, tmp_path, password
        self.offsite: list[str] = []
        self.saved: list[str] = []
        self.context = self.page = None

    def open(self):
        if self.context is not None:
            self.context.close()
        self.context = self.browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768})
        self.page = self.context.new_page()
        self.page.on("request", lambda r: self.offsite.append(r.url)
                     if not r.url.startswith(self.url) and not r.url.startswith("data:") else None)
        return self.page

    def login(self, username: str):
        page = self.open()
        page.goto(f"{self.url}/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", self.password)
        page.click("button.primary")
        page.wait_for_load_state("networkidle")
        return page

    def go(self, path: str):
        response = self.page.goto(f"{self.url}{path}")
        self.page.wait_for_load_state("networkidle")
        assert response.status == 200, f"{path}: {response.status} {self.page.inner_text('main')[:300]}"
        return self.page

    def shot(self, name: str, *, full_page: bool = False) -> None:
        self.page.screenshot(path=str(screenshot_path(self.tmp, name)), full_page=full_page)
        self.saved.append(name)

    def close(self):
        self.browser.close()


def test_screenshots_of_the_main_pages(chromium, live_server, demo_region, tmp_path):
    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from playwright import sync_api

    from gongwei.jobs.models import Job, JobKind, JobStatus
    from gongwei.records import models as rm
    from gongwei.records.scoping import scope_for

    assert (VENDOR / "echarts.min.js").is_file(), "htmx/ECharts 未安装到 static/vendor：请运行 make assets"
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    User = get_user_model()

    def unit_of(username: str) -> rm.OrgUnit:
        return rm.OrgUnit.objects.get(path=scope_for(User.objects.get(username=username)).path)

    county, township, village = unit_of("supervisor"), unit_of("township_staff"), unit_of("village_doctor")
    year = str(timezone.localdate().year)
    admin = User.objects.get(username="sysadmin")
    done = Job.objects.filter(status=JobStatus.DONE).latest("finished_at")
    running = Job.objects.create(kind=JobKind.CATALOGUE, user=admin, requested_by=admin.username,
                                 parameters={"period": year}, status=JobStatus.RUNNING, progress=45,
                                 step="计算指标：0～6岁儿童健康管理（5/12）",
                                 started_at=timezone.now() - dt.timedelta(seconds=83))

    with sync_api.sync_playwright() as p:
        shots = Shots(p, chromium, live_server, tmp_path, demo_region.DEMO_PASSWORD)
        try:
            shots.open().goto(f"{live_server.url}/login/")
            shots.shot("login")

            # the county supervisor: dashboard → indicator → lagging township → its gap list
            page = shots.login("supervisor")
            shots.go(f"/unit/{county.code}/indicators/?period={year}")
            assert county.name in page.inner_text("h1")
            shots.shot("dashboard_county")
            # an indicator the county does not meet, with people in its gap (else the first one)
            lagging_blocks = page.locator("#bulletin tbody:has(tr.own.far-row):has(a[href*='/gaps/'])")
            block = lagging_blocks.first if lagging_blocks.count() else page.locator("#bulletin tbody").first
            indicator = block.get_attribute("id").removeprefix("ind-")
            shots.go(f"/unit/{county.code}/indicators/{indicator}/?period={year}")
            page.wait_for_selector("#trend-chart svg")
            shots.shot(f"indicator_{indicator}")
            page.go_back()
            lagging = page.locator(f"#ind-{indicator} tr.far-row:not(.own) td a").first
            if not lagging.count():
                lagging = page.locator(f"#ind-{indicator} tr:not(.own) td a").first
            lagging.click()
            page.wait_for_load_state("networkidle")
            page.evaluate("window.scrollTo(0, 0)")  # the link opens at the indicator's block; show the page's head
            shots.shot("dashboard_township")
            gaps = page.locator(f'#ind-{indicator} a[href*="/gaps/"]').first
            gaps.click()
            page.wait_for_load_state("networkidle")
            assert page.locator("#gaps tbody tr").count() > 0
            shots.shot("gap_list")
            shots.go(f"/unit/{county.code}/quality/")
            shots.shot("quality_scorecard")
            # the same dashboard in English (the header's switch)
            shots.go(f"/unit/{county.code}/indicators/?period={year}")
            page.click("#lang-switch")
            page.wait_for_load_state("networkidle")
            assert "Basic public health service indicators" in page.inner_text("h1")
            shots.shot("dashboard_county_en")

            # township staff: the rectification ledger; township admin: duplicates and a closing list preview
            shots.login("township_staff")
            shots.go(f"/unit/{township.code}/findings/")
            shots.shot("findings")
            page = shots.login("township_admin")
            shots.go(f"/unit/{township.code}/duplicates/")
            shots.shot("duplicates")
            shots.go(f"/unit/{township.code}/close/")
            people = list(rm.Resident.objects.filter(managing_unit__path__startswith=township.path, status="active")
                          .order_by("record_no").values_list("record_no", flat=True)[:3])
            day = (timezone.localdate() - dt.timedelta(days=12)).isoformat()
            listed = tmp_path / "结案名单.csv"
            listed.write_text("record_no,status,date,reason\n"
                              f"{people[0]},死亡,{day},户籍注销\n{people[1]},迁出,{day},迁往兰州市\n"
                              f"{people[2]},失访,{day},连续三次随访未见本人\n", encoding="utf-8")
            page.set_input_files("input[name=list]", str(listed))
            page.click("#preview-close")
            page.wait_for_load_state("networkidle")
            assert page.locator("#close-preview tbody tr").count() == 3
            shots.shot("closing_list")

            # the system administrator: the job history, a job running and a job done
            page = shots.login("sysadmin")
            shots.go("/jobs/")
            shots.shot("jobs")
            shots.go(f"/jobs/{running.pk}/")
            shots.shot("job_running")
            shots.go(f"/jobs/{done.pk}/")
            shots.shot("job_done")

            # the village doctor: own village's dashboard, finding a resident, the record's home page
            page = shots.login("village_doctor")
            shots.go(f"/unit/{village.code}/indicators/?period={year}")
            shots.shot("dashboard_village_doctor")
            surname = rm.Resident.objects.filter(managing_unit=village).order_by("record_no").first().name[0]
            shots.go(f"/residents/?q={surname}")
            assert page.locator("table.found tbody tr").count() > 0
            shots.shot("resident_search")
            page.locator("table.found tbody tr td a").first.click()
            page.wait_for_load_state("networkidle")
            shots.shot("resident_record")
        finally:
            shots.close()
    assert shots.offsite == []
    assert len(shots.saved) == 16
