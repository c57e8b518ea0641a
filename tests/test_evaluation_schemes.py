"""A region's own evaluation scheme for a year (issue 12 §1): an evaluator copies a shipped scheme, changes points
and targets; the same rules as the shipped schemes check it (points add up, ranges); a round scores by it; once a
round uses it, it no longer changes."""

from __future__ import annotations

import pytest

from gongwei.evaluation import models as em
from gongwei.service import access
from gongwei.service import evaluation as sev
from gongwei.service.errors import BadRequest, Refused
from gongwei.spec import evaluation as se
from tests.test_evaluation_rounds import COUNTY, GAOTANG, PUTING, TEST_SCHEME, enter_all, ev_actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def region(db, fast_passwords, monkeypatch):
    from gongwei.service import results, snapshots
    from gongwei.spec.periods import parse
    from tests.web_fixtures import make_dashboard_region

    monkeypatch.setattr(se, "SCHEMES", (*se.SCHEMES, TEST_SCHEME))
    se.schemes.cache_clear()
    made = make_dashboard_region(periods=("2025",))
    results.qc_tally(snapshots.engine(made["snapshot"].folder), parse("2025"), ["C-06"])
    yield made
    se.schemes.cache_clear()


def test_copy_edit_validate_and_score_by_a_regional_scheme(region):
    ev = ev_actor(region)
    mine = sev.copy_scheme(ev, "t-2025", COUNTY, 2025)
    assert mine.code == f"t-2025@{COUNTY}-2025" and mine.overrides == {} and mine.version == 1
    # B1 30 → 25 alone: B's children would add up to 55, not 60 — refused whole, naming the item and rule
    with pytest.raises(BadRequest, match="项目 B（项目执行）：下级项目分值合计 55 分，与本项 60 分不符"):
        sev.edit_scheme(ev, mine.code, {"B1.points": "25"}, expected_version=1)
    with pytest.raises(BadRequest, match="目标值（%）“120”超出范围"):
        sev.edit_scheme(ev, mine.code, {"B1.target": "120"}, expected_version=1)
    with pytest.raises(BadRequest, match="“abc”不是数字"):
        sev.edit_scheme(ev, mine.code, {"B2.points": "abc"}, expected_version=1)
    mine.refresh_from_db()
    assert mine.overrides == {} and mine.version == 1  # nothing written by a refused edit
    # B1 30 → 25 and B2 20 → 25 (B still 60); B1's target 80 % → 50 %
    sev.edit_scheme(ev, mine.code, {"B1.points": "25", "B2.points": "25", "B1.target": "50"}, expected_version=1)
    mine.refresh_from_db()
    assert mine.overrides == {"B1": {"points": 25.0, "target": 0.5}, "B2": {"points": 25.0}} and mine.version == 2
    assert sorted((c["item"], c["field"]) for c in mine.history[-1]["changes"]) == [("B1", "points"), ("B1", "target"),
                                                                                  ("B2", "points")]
    with pytest.raises(BadRequest, match="已被他人修改"):
        sev.edit_scheme(ev, mine.code, {"B1.points": "25"}, expected_version=1)
    built = sev.scheme_of(mine.code)
    assert built.item("B1").points == 25 and built.item("B1").target == 0.5 and built.item("B2").points == 25

    # a round scores by it: B1 is H2 proportional to its target, so the same rate now weighs against 50 %, not 80 %
    shipped = sev.create_round(ev, "t-2025", 2025, "year_end", COUNTY)
    local = sev.create_round(ev, mine.code, 2025, "year_end", COUNTY)
    for rnd in (shipped, local):
        enter_all(ev, rnd)
        sev.score_round(ev, rnd.pk)
    b1 = {rnd.pk: {r.code: r.items["B1"] for r in sev.round_report(ev, rnd.pk).rows} for rnd in (shipped, local)}
    for unit in (PUTING, GAOTANG):
        old, new = b1[shipped.pk][unit], b1[local.pk][unit]
        assert (old.max_points, new.max_points) == (30, 25)
        h2 = old.evidence["rate"]  # the unit's H2 rate, the same in both rounds
        assert new.points == pytest.approx(min(h2 / 0.5, 1) * 25, abs=0.01)
        assert old.points == pytest.approx(min(h2 / 0.8, 1) * 30, abs=0.01)
    # used by a round: it no longer changes; a copy carries its changes over
    with pytest.raises(Refused, match="已有考核轮次使用"):
        sev.edit_scheme(ev, mine.code, {"B1.points": "30", "B2.points": "20"}, expected_version=2)
    again = sev.copy_scheme(ev, mine.code, COUNTY, 2025)
    assert again.code == f"t-2025@{COUNTY}-2025-v2" and again.overrides == mine.overrides


def test_who_may_adapt_a_scheme_and_where_it_applies(region):
    ev = ev_actor(region)
    sup = access.for_user(region["users"]["sup"])
    with pytest.raises(Refused):
        sev.copy_scheme(sup, "t-2025", COUNTY, 2025)  # a supervisor reads schemes, an evaluator adapts them
    township = sev.copy_scheme(ev, "t-2025", PUTING, 2025)
    with pytest.raises(BadRequest, match="只适用于"):
        sev.create_round(ev, township.code, 2025, "year_end", COUNTY)  # a township's scheme is not the county's
    rows = {r.code: r for r in sev.schemes_for(sup)}
    assert "t-2025" in rows and township.code in rows and not rows[township.code].editable
    assert rows[township.code].region and rows["t-2025"].region == ""
    assert em.RegionalScheme.objects.count() == 1


def test_the_scheme_pages_copy_edit_and_refuse_in_chinese(region):
    from tests.web_fixtures import client_for

    ev, sup = client_for("ev"), client_for("sup")
    listing = ev.get("/evaluation/schemes/").content.decode()
    assert "t-2025" in listing and "复制为本地区方案" in listing
    assert "复制为本地区方案" not in sup.get("/evaluation/schemes/").content.decode()  # reads, does not adapt
    made = ev.post("/evaluation/schemes/", {"base": "t-2025", "org": COUNTY, "year": "2025"})
    code = f"t-2025@{COUNTY}-2025"
    assert made.status_code == 302 and made["Location"] == f"/evaluation/schemes/{code}/"
    page = ev.get(made["Location"]).content.decode()
    assert 'name="B1.points"' in page and 'name="B1.target"' in page and 'name="C1.per_finding"' in page
    bad = ev.post(made["Location"], {"version": "1", "B1.points": "25"})
    assert bad.status_code == 400 and "下级项目分值合计 55 分，与本项 60 分不符" in bad.content.decode()
    good = ev.post(made["Location"], {"version": "1", "B1.points": "25", "B2.points": "25"})
    assert good.status_code == 302
    assert em.RegionalScheme.objects.get(code=code).overrides == {"B1": {"points": 25.0}, "B2": {"points": 25.0}}
    # a supervisor sees it read-only, and a write is refused (403) and changes nothing
    assert 'name="B1.points"' not in sup.get(made["Location"]).content.decode()
    assert sup.post(made["Location"], {"version": "2", "B1.points": "30", "B2.points": "20"}).status_code == 403
    assert em.RegionalScheme.objects.get(code=code).version == 2
    # a unit under the region reads the scheme it is evaluated by (as it reads its round); another township's
    # village does not see 蒲亭镇's own scheme
    assert client_for("vd").get(made["Location"]).status_code == 200
    township = ev.post("/evaluation/schemes/", {"base": "t-2025", "org": PUTING, "year": "2025"})["Location"]
    assert client_for("vd").get(township).status_code == 200 and client_for("vd2").get(township).status_code == 403


@pytest.fixture
def live_region(transactional_db, fast_passwords, monkeypatch):
    from tests.web_fixtures import make_dashboard_region

    monkeypatch.setattr(se, "SCHEMES", (*se.SCHEMES, TEST_SCHEME))
    se.schemes.cache_clear()
    yield make_dashboard_region(periods=("2025",))
    se.schemes.cache_clear()


def test_an_evaluator_adapts_a_scheme_in_a_browser(live_region, live_server, chromium, tmp_path):
    from tests.web_fixtures import browser_as, screenshot_path

    with browser_as(chromium, live_server, "ev") as (page, offsite):
        page.goto(f"{live_server.url}/evaluation/")
        page.click("text=考核方案")
        page.wait_for_load_state("networkidle")
        page.select_option("select[name=base]", "t-2025")
        page.fill("input[name=org]", COUNTY)
        page.click("text=复制 >> nth=-1")
        page.wait_for_load_state("networkidle")
        assert "/evaluation/schemes/t-2025@" in page.url
        page.fill("input[name='B1.points']", "25")
        page.click("text=保存调整")
        page.wait_for_load_state("networkidle")
        assert "下级项目分值合计 55 分" in page.inner_text("main")  # refused whole, in Chinese
        page.fill("input[name='B1.points']", "25")
        page.fill("input[name='B2.points']", "25")
        page.fill("input[name='B1.target']", "70")
        page.click("text=保存调整")
        page.wait_for_load_state("networkidle")
        assert "已保存地区方案的调整" in page.inner_text("main")
        page.screenshot(path=screenshot_path(tmp_path, "evaluation-scheme"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366
        assert offsite == []
    got = em.RegionalScheme.objects.get()
    assert got.overrides == {"B1": {"points": 25.0, "target": 0.7}, "B2": {"points": 25.0}}
