"""Verification pages (issue 13): the evaluator draws a sample, assigns the calls, enters outcomes and sees the
verified rate beside the platform's; refusals come back in Chinese above the form; a real browser at 1366×768."""

from __future__ import annotations

import re

import pytest

from gongwei.quality.models import Finding
from gongwei.verification.models import Sample, VerificationTask
from tests.web_fixtures import (
    COUNTY,
    browser_as,
    client_for,
    make_dashboard_region,
    make_region,
    screenshot_path,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def region(settings, tmp_path, fast_passwords):
    settings.DATA_DIR = tmp_path
    return make_region(periods=("2024",), codes=["H2"])


def test_draw_assign_record_and_see_the_rate(region):
    c = client_for("ev")
    page = c.get(f"/unit/{COUNTY}/samples/")
    assert page.status_code == 200 and "抽取样本" in page.content.decode()
    # an empty frame is refused in Chinese above the form, nothing written
    r = c.post(f"/unit/{COUNTY}/samples/", {"indicator": "H2", "period": "2024", "part": "numerator"})
    assert r.status_code == 400 and "抽样框为空" in r.content.decode() and not Sample.objects.exists()
    r = c.post(f"/unit/{COUNTY}/samples/", {"indicator": "H2", "period": "2024", "part": "denominator",
                                           "method": "interval", "size": "4", "seed": "77"})
    assert r.status_code == 302
    s = Sample.objects.get()
    assert r["Location"] == f"/samples/{s.sample_no}/" and s.seed == 77 and s.size == 4
    url = f"/samples/{s.sample_no}/"
    html = c.get(url).content.decode()
    assert "核实真实率与平台指标" in html and "抽样依据" in html and str(s.frame_hash) in html
    assert c.post(url, {"action": "assign", "login": "ev", "method": "phone"}).status_code == 302
    assert VerificationTask.objects.filter(item__sample=s, assignee__username="ev").count() == 4
    r = c.post(url, {"action": "record", "position": "1", "outcome": "refused", "version": "2"})
    assert r.status_code == 400 and "核查说明不能为空" in r.content.decode()
    assert c.post(url, {"action": "record", "position": "1", "outcome": "confirmed", "version": "2"}).status_code == 302
    assert c.post(url, {"action": "record", "position": "2", "outcome": "not_found", "note": "村里无此人",
                        "version": "2"}).status_code == 302
    assert Finding.objects.filter(rule="VF-01").count() == 1
    html = c.get(url).content.decode()
    assert "50.0%" in html  # 1 genuine of 2 verified
    assert re.search(r"平台比率", html)
    r = c.post(url, {"action": "check"})
    assert r.status_code == 200 and "可复现" in r.content.decode()


def test_a_village_doctor_sees_no_draw_form_and_may_not_draw(region):
    c = client_for("vd")
    html = c.get("/unit/360426100201/samples/").content.decode()
    assert "抽取样本" not in html
    r = c.post("/unit/360426100201/samples/", {"indicator": "H2", "period": "2024", "part": "denominator"})
    assert r.status_code == 403


def test_sample_pages_are_scoped(region):
    from gongwei.service import verification

    s = verification.draw(region["operator"], "H2", "360426200000", "2024", part="denominator", size=2, seed=1)
    assert client_for("ts").get(f"/samples/{s.sample_no}/").status_code == 403  # the other township's sample
    assert client_for("sup").get(f"/samples/{s.sample_no}/").status_code == 200
    assert client_for("ev").get("/samples/CY-NONE/").status_code == 404


@pytest.fixture
def live_verification_region(transactional_db, settings, tmp_path, fast_passwords):
    """The dashboard region: in 2025 the three 北门村 patients have their blood pressure controlled (H3)."""
    settings.DATA_DIR = tmp_path
    return make_dashboard_region(periods=("2025",), codes=["H3"])


def test_evaluator_journey_in_a_browser(chromium, live_server, live_verification_region, tmp_path):
    with browser_as(chromium, live_server, "ev") as (page, offsite):
        page.click("nav.mainnav >> text=抽样核查")
        page.wait_for_load_state("networkidle")
        page.goto(f"{live_server.url}/unit/{COUNTY}/samples/")
        page.select_option("select[name=indicator]", "H3")
        page.fill("input[name=period]", "2025")  # part: the numerator, the people the platform counts as served
        page.fill("input[name=seed]", "20250601")  # size: from the precision (± 5 % at 95 %): all 3 of 3
        page.screenshot(path=screenshot_path(tmp_path, "verification-1-draw"), full_page=True)
        page.click("#draw button.primary")
        page.wait_for_load_state("networkidle")
        assert "/samples/CY" in page.url, page.inner_text("main")[:300]
        assert page.locator("#verifier").input_value() == "ev"  # the evaluator makes the calls herself
        page.click("#assign")
        page.wait_for_load_state("networkidle")
        assert "已派发 3 个核查任务" in page.inner_text("main")
        outcomes = {1: ("confirmed", "", ""), 2: ("not_received", "", "本人称今年只随访过一次"),
                    3: ("unreachable", "", "空号")}
        for position, (outcome, field, note) in outcomes.items():
            form = page.locator(f"#outcome-{position}")
            form.locator("select[name=outcome]").select_option(outcome)
            if field:
                form.locator("select[name=field]").select_option(field)
            if note:
                form.locator("input[name=note]").fill(note)
            form.locator("button").click()
            page.wait_for_load_state("networkidle")
            assert "已录入序号" in page.inner_text("main")
        rates = page.inner_text("#rates")
        assert "50.0%" in rates and "平台比率" in rates and "3/" in rates  # 1 genuine of 2 verified; platform 3/…
        page.screenshot(path=screenshot_path(tmp_path, "verification-2-rates"), full_page=False)
        page.screenshot(path=screenshot_path(tmp_path, "verification-3-sheet"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1366, f"page wider than the screen: {width}"
        assert offsite == []
