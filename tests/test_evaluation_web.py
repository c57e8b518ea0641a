"""Evaluation pages (web/pages/evaluation.py): rounds → a round → a unit → the people behind a lost point; each
page as every role (the scope sweep's equivalent for URLs keyed by round) and the evaluator's journey in a browser."""

from __future__ import annotations

import pytest

from gongwei.service import access, results
from gongwei.service import evaluation as sev
from gongwei.spec.periods import parse
from tests.test_admin import LOGINS, ORG_UNITS
from tests.test_evaluation_rounds import COUNTY, GAOTANG, PUTING, enter_all, scheme  # noqa: F401
from tests.web_fixtures import browser_as, client_for, make_dashboard_region, screenshot_path

PARENT = {c: p for c, _n, _l, _k, p in ORG_UNITS}
OWN = {u: c for u, _r, c in LOGINS}


def _region_with_round():
    from gongwei.service import snapshots

    made = make_dashboard_region(periods=("2025",))
    results.qc_tally(snapshots.engine(made["snapshot"].folder), parse("2025"), ["C-06"])
    ev = access.for_user(made["users"]["ev"])
    rnd = sev.create_round(ev, "t-2025", 2025, "year_end", COUNTY)
    enter_all(ev, rnd)
    sev.score_round(ev, rnd.pk)
    made["round"] = rnd
    return made


@pytest.fixture
def scored(db, fast_passwords, scheme):  # noqa: F811
    return _region_with_round()


@pytest.fixture
def live_scored(transactional_db, fast_passwords, scheme):  # noqa: F811
    return _region_with_round()


def _above_or_at(username: str, code: str) -> bool:
    """The login's unit is the unit or above it."""
    own = OWN[username]
    while code:
        if code == own:
            return True
        code = PARENT.get(code, "")
    return username == "sa"


def test_every_round_page_as_every_role_on_every_unit(scored):
    rnd = scored["round"]
    for username, _role, _own in LOGINS:
        c = client_for(username)
        listed = c.get("/evaluation/")
        assert listed.status_code == 200
        sees_units = [u for u in (PUTING, GAOTANG) if _above_or_at(username, u)]
        expected = 200 if sees_units else 403
        for url in (f"/evaluation/{rnd.pk}/", f"/evaluation/{rnd.pk}/export.xlsx"):
            status = c.get(url).status_code
            assert status == expected, f"{username} {url}: {status}"
        for code, *_ in ORG_UNITS:
            status = c.get(f"/evaluation/{rnd.pk}/unit/?unit={code}").status_code
            if not _above_or_at(username, code):
                assert status == 403, f"{username} unit {code}: {status}"
            else:  # inside the subtree: a scored unit is shown; another unit is not one of the round's (404), unless
                # the login sees none of the round's units at all (403, like the round page)
                want = 200 if code in (PUTING, GAOTANG) else (404 if sees_units else 403)
                assert status == want, f"{username} unit {code}: {status}"
        if sees_units:
            page = c.get(f"/evaluation/{rnd.pk}/").content.decode()
            others = {PUTING: "蒲亭镇卫生院", GAOTANG: "高塘乡卫生院"}
            for u, name in others.items():
                assert (name in page) == (u in sees_units), (username, u)


def test_the_unit_page_links_each_lost_point_to_its_people(scored):
    rnd = scored["round"]
    c = client_for("ev")
    html = c.get(f"/evaluation/{rnd.pk}/unit/?unit={PUTING}").content.decode()
    assert "高血压规范管理" in html and "现场核查问题" in html
    assert f'href="/unit/{PUTING}/indicators/H2/gaps/?period=2025"' in html or "H2：" in html
    assert f'href="/unit/{PUTING}/findings/?rule=C-06"' in html
    assert c.get(f"/evaluation/{rnd.pk}/unit/").status_code == 400
    assert c.get("/evaluation/999/").status_code == 404


def test_evaluator_journey_round_unit_item_people(live_scored, live_server, chromium, tmp_path):
    rnd = live_scored["round"]
    with browser_as(chromium, live_server, "ev") as (page, offsite):
        page.goto(f"{live_server.url}/evaluation/")
        page.click(f"a[href='/evaluation/{rnd.pk}/']")
        page.wait_for_load_state("networkidle")
        assert "绩效评价情况表" in page.content()
        page.screenshot(path=str(screenshot_path(tmp_path, "evaluation_round")), full_page=False)
        page.click("text=蒲亭镇卫生院")
        page.wait_for_load_state("networkidle")
        assert "总分" in page.content()
        page.screenshot(path=str(screenshot_path(tmp_path, "evaluation_unit")), full_page=True)
        link = page.locator("a", has_text="缺口人员").first
        if link.count():
            link.click()
            page.wait_for_load_state("networkidle")
            assert page.url.startswith(f"{live_server.url}/unit/{PUTING}/indicators/")
            page.screenshot(path=str(screenshot_path(tmp_path, "evaluation_people")), full_page=False)
        assert offsite == []
