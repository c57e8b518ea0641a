"""Bulletin pages: draft from a unit's page, preview, edit a paragraph, download, publish (then locked); every
bulletin page as every role on a bulletin of every unit; the preview in a real browser at 1366×768."""

from __future__ import annotations

import datetime as dt

import pytest

from gongwei.bulletins import narrative
from gongwei.bulletins import template as templates
from gongwei.bulletins.models import Bulletin
from tests.test_admin import LOGINS, ORG_UNITS
from tests.test_bulletins import PERIOD, make_bulletin_region
from tests.test_scope_sweep import in_subtree
from tests.web_fixtures import COUNTY, browser_as, client_for, screenshot_path


@pytest.fixture
def region(db, fast_passwords):
    return make_bulletin_region()


def test_draft_edit_download_publish_in_the_browser_pages(region):
    c = client_for("ev")  # the city evaluator: 德安县 is in the city
    listed = c.get(f"/unit/{COUNTY}/bulletins/")
    assert listed.status_code == 200 and "起草通报" in listed.content.decode()
    made = c.post(f"/unit/{COUNTY}/bulletins/", {"kind": "quarterly", "period": PERIOD})
    assert made.status_code == 302
    b = Bulletin.objects.get()
    assert made["Location"] == f"/bulletins/{b.pk}/"
    page = c.get(made["Location"]).content.decode()
    assert b.title in page and "其中高塘乡0.00%未达到目标值" in page
    assert c.post(made["Location"], {"action": "edit", "index": "1", "text": "现将情况通报如下：",
                                     "version": str(b.version)}).status_code == 302
    stale = c.post(made["Location"], {"action": "edit", "index": "1", "text": "x", "version": str(b.version)})
    assert stale.status_code == 400 and "已被修改" in stale.content.decode()
    assert "现将情况通报如下：" in c.get(made["Location"]).content.decode()
    docx = c.get(f"/bulletins/{b.pk}/file.docx")
    assert docx.status_code == 200 and b"".join(docx.streaming_content).startswith(b"PK")
    assert c.get(f"/bulletins/{b.pk}/file.xlsx").status_code == 200
    assert c.get(f"/bulletins/{b.pk}/file.pdf").status_code == 404  # a draft has no PDF
    assert c.get(f"/bulletins/{b.pk}/file.exe").status_code == 404
    b.refresh_from_db()
    assert c.post(made["Location"], {"action": "publish", "version": str(b.version)}).status_code == 302
    b.refresh_from_db()
    assert b.status == "published"
    locked = c.post(made["Location"], {"action": "edit", "index": "1", "text": "发布后", "version": str(b.version)})
    assert locked.status_code == 403 and "已" in locked.content.decode()
    assert c.get(f"/bulletins/{b.pk}/file.docx").status_code == 200
    not_stored = c.post(f"/unit/{COUNTY}/bulletins/", {"kind": "quarterly", "period": "2025Q3"})
    assert not_stored.status_code == 409 and "gongwei indicators" in not_stored.content.decode()
    bad = c.post(f"/unit/{COUNTY}/bulletins/", {"kind": "quarterly", "period": "2025"})
    assert bad.status_code == 400


def _bulletin_of(code: str, name: str) -> Bulletin:
    t = templates.load("quarterly")
    facts = narrative.Facts(name, code, "county", 2025, 2, PERIOD, "2025Q1", "2025-06-30", False, [], [])
    return Bulletin.objects.create(
        kind="quarterly", org_code=code, org_name=name, period=PERIOD, snapshot_id="s", snapshot_folder="/nonexistent",
        snapshot_taken_at="", rulebook="r", data_cutoff=dt.date(2025, 6, 30), year=2025, sequence=1,
        document_number="公卫通〔2025〕1号", title=f"{name}通报", issuer=f"{name}卫生健康委员会", issued_on=dt.date(2025, 8, 28),
        template=t.source, facts=facts.to_json(), paragraphs=narrative.compose(t, facts), created_by_label="test")


def test_every_bulletin_page_as_every_role_on_a_bulletin_of_every_unit(db, fast_passwords):
    from tests.web_fixtures import make_region

    make_region()
    made = {code: _bulletin_of(code, name) for code, name, *_ in ORG_UNITS}
    for username, _role, _unit in LOGINS:
        c = client_for(username)
        for code, b in made.items():
            visible = in_subtree(username, code)
            for url, ok in ((f"/bulletins/{b.pk}/", 200), (f"/bulletins/{b.pk}/file.docx", 200),
                            (f"/bulletins/{b.pk}/file.pdf", 404)):
                status = c.get(url).status_code
                assert status == (ok if visible else 403), f"{username} {url} ({code}): {status}"
            # writes are refused outside the scope and change nothing
            if not visible:
                status = c.post(f"/bulletins/{b.pk}/", {"action": "publish", "version": "1"}).status_code
                assert status == 403
        assert c.get("/bulletins/").status_code == 302
    assert not Bulletin.objects.filter(status="published").exists()


@pytest.fixture
def live_bulletin_region(transactional_db, fast_passwords):
    return make_bulletin_region()


def test_the_preview_at_1366x768(chromium, live_server, live_bulletin_region, tmp_path):
    from gongwei.service import bulletins

    b = bulletins.draft(live_bulletin_region["operator"], "quarterly", COUNTY, PERIOD, issued_on=dt.date(2025, 8, 28))
    with browser_as(chromium, live_server, "ev") as (page, offsite):
        page.goto(f"{live_server.url}/bulletins/{b.pk}/")
        page.wait_for_load_state("networkidle")
        assert page.locator("h1.bulletin-title").inner_text() == b.title
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1366, f"the page scrolls sideways at 1366 px ({width})"
        page.locator("details summary").first.click()
        assert page.locator("details[open] textarea").count() == 1
        page.screenshot(path=str(screenshot_path(tmp_path, "bulletin-preview")))
        assert offsite == []
