"""Survey pages (issue 13 §3): start a survey on a drawn sample, one questionnaire form per respondent with
refusals coded, the rate per unit; refusals of bad input in Chinese above the form; scope of the survey pages;
the evaluator's journey in a real browser at 1366×768."""

from __future__ import annotations

import pytest

from gongwei.service import surveys, verification
from gongwei.verification.models import Survey, SurveyResponseEntry
from tests.web_fixtures import COUNTY, OTHER_TOWNSHIP, browser_as, client_for, make_region, screenshot_path

pytestmark = pytest.mark.django_db


@pytest.fixture
def region(settings, tmp_path, fast_passwords):
    settings.DATA_DIR = tmp_path
    return make_region(periods=("2024",), codes=["H2"])


def test_start_answer_and_see_the_rate(region):
    s = verification.draw(region["operator"], "H2", COUNTY, "2024", part="denominator", size=4, seed=77)
    c = client_for("ev")
    page = c.get(f"/unit/{COUNTY}/surveys/?period=2024")
    assert page.status_code == 200 and "发起调查" in page.content.decode() and s.sample_no in page.content.decode()
    r = c.post(f"/unit/{COUNTY}/surveys/", {"sample": "CY-NONE", "questionnaire": "satisfaction", "mode": "phone"})
    assert r.status_code == 404 and not Survey.objects.exists()
    r = c.post(f"/unit/{COUNTY}/surveys/", {"sample": s.sample_no, "questionnaire": "satisfaction", "mode": "phone"})
    assert r.status_code == 302
    sv = Survey.objects.get()
    url = f"/surveys/{sv.survey_no}/"
    assert r["Location"] == url
    form = c.get(f"{url}1/").content.decode()
    assert "总体来说" in form and "很不满意" in form and "拒绝调查" in form
    # a valid questionnaire must answer every required question: refused above the form, nothing written
    r = c.post(f"{url}1/", {"status": "answered", "q-S1": "1", "version": "1"})
    assert r.status_code == 400 and "问题 S2" in r.content.decode() and "必须回答" in r.content.decode()
    assert not SurveyResponseEntry.objects.exists()
    # 很满意, 满意, 一般, refused → 2 satisfied of 3 valid = 66.7 %
    for position, s1 in ((1, "1"), (2, "2"), (3, "3")):
        r = c.post(f"{url}{position}/", {"status": "answered", "q-S1": s1, "q-S2": "2", "q-S3": "2", "version": "1"})
        assert r.status_code == 302, r.content.decode()[:500]
    assert c.post(f"{url}4/", {"status": "refused", "note": "不愿回答"}).status_code == 302
    html = c.get(url).content.decode()
    assert "66.7%" in html and "各机构满意度" in html
    listing = c.get(f"/unit/{COUNTY}/surveys/?period=2024").content.decode()
    assert "66.7%" in listing  # the unit's satisfaction for the period, read through survey_rates_by_unit


def test_survey_pages_are_scoped(region):
    s = verification.draw(region["operator"], "H2", OTHER_TOWNSHIP, "2024", part="denominator", size=2, seed=1)
    sv = surveys.start(region["operator"], s.sample_no, "awareness")
    assert client_for("ts").get(f"/surveys/{sv.survey_no}/").status_code == 403  # the other township's survey
    assert client_for("ts").get(f"/surveys/{sv.survey_no}/1/").status_code == 403
    assert client_for("ts").post(f"/surveys/{sv.survey_no}/1/", {"status": "refused"}).status_code == 403
    assert client_for("sup").get(f"/surveys/{sv.survey_no}/").status_code == 200
    assert client_for("sup").get(f"/surveys/{sv.survey_no}/9/").status_code == 404
    assert client_for("ev").get("/surveys/DC-NONE/").status_code == 404
    assert client_for("vd").post("/unit/360426100201/surveys/", {"sample": s.sample_no,
                                                                 "questionnaire": "awareness"}).status_code == 403


@pytest.fixture
def live_survey_region(transactional_db, settings, tmp_path, fast_passwords):
    settings.DATA_DIR = tmp_path
    return make_region(periods=("2024",), codes=["H2"])


def test_evaluator_survey_journey_in_a_browser(chromium, live_server, live_survey_region, tmp_path):
    with browser_as(chromium, live_server, "ev") as (page, offsite):
        page.goto(f"{live_server.url}/unit/{COUNTY}/samples/")
        page.select_option("select[name=indicator]", "H2")
        page.fill("input[name=period]", "2024")
        page.select_option("select[name=part]", "denominator")
        page.fill("input[name=size]", "4")
        page.fill("input[name=seed]", "77")
        page.click("#draw button.primary")
        page.wait_for_load_state("networkidle")
        assert "/samples/CY" in page.url, page.inner_text("main")[:300]
        page.goto(f"{live_server.url}/unit/{COUNTY}/samples/")
        page.click("#to-surveys")
        page.wait_for_load_state("networkidle")
        page.select_option("select[name=questionnaire]", "satisfaction")
        page.screenshot(path=screenshot_path(tmp_path, "surveys-1-start"), full_page=True)
        page.click("#start button.primary")
        page.wait_for_load_state("networkidle")
        assert "/surveys/DC" in page.url, page.inner_text("main")[:300]
        # 很满意, 满意, 一般, refused → 2 of 3 valid = 66.7 %
        for position, s1 in ((1, "1"), (2, "2"), (3, "3"), (4, None)):
            page.click(f"#respondent-{position} a")
            page.wait_for_load_state("networkidle")
            if s1 is None:
                page.check("input[name=status][value=refused]")
                page.fill("input[name=note]", "不愿回答")
            else:
                page.check(f"input[name=q-S1][value='{s1}']")
                page.check("input[name=q-S2][value='2']")
                page.check("input[name=q-S3][value='1']")
            if position == 1:
                page.screenshot(path=screenshot_path(tmp_path, "surveys-2-questionnaire"), full_page=True)
            page.click("#questionnaire button.primary")
            page.wait_for_load_state("networkidle")
            assert "已录入序号" in page.inner_text("main"), page.inner_text("main")[:300]
        rates = page.inner_text("#rates")
        assert "66.7%" in rates and "满意度" in rates
        page.screenshot(path=screenshot_path(tmp_path, "surveys-3-rates"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1366, f"page wider than the screen: {width}"
        assert offsite == []
