"""Supervision and base-data pages (issue 13 §4–5): a supervisor records a visit, creates rectification items and
closes one; refusals come back in Chinese above the form; the round pages (integer keys, not swept) are scoped;
base data entered, imported and shown on the unit page and the dashboard with the change since last period."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from gongwei.service import access, base_data
from gongwei.service import supervision as sv
from gongwei.supervision.models import Attachment, BaseDataValue, RectificationItem, SupervisionRound, Visit
from tests.web_fixtures import COUNTY, TOWNSHIP, browser_as, client_for, make_region, screenshot_path

pytestmark = pytest.mark.django_db

LINQUAN = "360426200000"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


@pytest.fixture
def region(settings, tmp_path, fast_passwords):
    settings.DATA_DIR = tmp_path
    return make_region()


def test_round_form_visit_items_and_closing_through_the_client(region):
    c = client_for("sup")
    html = c.get(f"/unit/{COUNTY}/supervision/").content.decode()
    assert "新建督导" in html and "蒲亭镇卫生院" in html
    r = c.post(f"/unit/{COUNTY}/supervision/", {"title": "第五期督导", "period_no": "5", "start_date": "2025-03-01",
                                               "leader": "王局长", "unit": [TOWNSHIP]})
    assert r.status_code == 400 and "督导方式不能为空" in r.content.decode() and not SupervisionRound.objects.exists()
    r = c.post(f"/unit/{COUNTY}/supervision/", {"title": "第五期督导", "period_no": "5", "start_date": "2025-03-01",
                                               "leader": "王局长", "unit": [TOWNSHIP, LINQUAN],
                                               "method": ["phone", "on_site"]})
    rnd = SupervisionRound.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/supervision/{rnd.pk}/"
    url = f"/supervision/{rnd.pk}/"
    photo = io.BytesIO(PNG)
    photo.name = "现场.png"
    r = c.post(url, {"action": "visit", "org": TOWNSHIP, "visit_date": "2025-03-03", "method": "on_site",
                     "summary": "随访记录与门诊日志不符", "files": [photo]})
    assert r.status_code == 302
    a = Attachment.objects.get()
    download = c.get(f"/supervision/attachments/{a.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG
    r = c.post(url, {"action": "item", "org": TOWNSHIP, "problem": "补录随访", "owner": "院长", "deadline": "2025-02-01"})
    assert r.status_code == 400 and "整改期限不能早于督导日期" in r.content.decode()
    assert c.post(url, {"action": "item", "org": TOWNSHIP, "problem": "补录随访", "owner": "院长",
                        "deadline": "2025-03-31", "visit": str(Visit.objects.get().pk)}).status_code == 302
    item = RectificationItem.objects.get()
    r = c.post(url, {"action": "status", "item": str(item.pk), "status": "rectified", "on": "2025-03-20",
                     "version": "1"})
    assert r.status_code == 302
    item.refresh_from_db()
    assert item.status == "rectified" and str(item.status_date) == "2025-03-20"
    report = c.get(f"/unit/{COUNTY}/supervision/report/?period=5&as_of=2025-04-01").content.decode()
    assert "整改事项 1 项，已整改 1 项，逾期未整改 0 项" in report and "补录随访" in report


def test_round_pages_are_scoped(region):
    rnd = sv.create_round(access.operator(), COUNTY, title="县级督导", period_no=1, start_date="2025-03-01",
                          methods=["phone"], leader="王", units=[TOWNSHIP])
    v = sv.record_visit(access.operator(), rnd.pk, org=TOWNSHIP, visit_date="2025-03-02", method="phone",
                        summary="x", files=[("a.pdf", b"%PDF-1.4")])
    a = Attachment.objects.get(visit=v)
    for login, status in (("sup", 200), ("ev", 200), ("sa", 200), ("ts", 403), ("ta", 403), ("vd", 403)):
        assert client_for(login).get(f"/supervision/{rnd.pk}/").status_code == status, login
        assert client_for(login).get(f"/supervision/attachments/{a.pk}/").status_code == status, login
    # evaluators read, they do not write
    ev = client_for("ev")
    assert "新增整改事项" not in ev.get(f"/supervision/{rnd.pk}/").content.decode()
    r = ev.post(f"/supervision/{rnd.pk}/", {"action": "item", "org": TOWNSHIP, "problem": "x", "owner": "y",
                                            "deadline": "2025-03-31"})
    assert r.status_code == 403 and not RectificationItem.objects.exists()
    assert client_for("sup").get("/supervision/999999/").status_code == 404
    assert client_for("sup").get("/supervision/attachments/999999/").status_code == 404


def test_base_data_entry_import_and_the_panel_on_the_unit_page(region, tmp_path):
    op = access.operator()
    base_data.record(op, TOWNSHIP, "2023-10-31", {"establishment": "8000", "vacancies": "2800"}, source="编办")
    base_data.record(op, LINQUAN, "2023-10-31", {"establishment": "3924", "vacancies": "1329"}, source="编办")
    c = client_for("sup")
    r = c.post(f"/unit/{COUNTY}/base-data/", {"org": LINQUAN, "as_of": "2023-11-08", "source": "统计表",
                                             "vacancies": "4000"})
    assert r.status_code == 400 and "缺编数 4000 大于编制数 3924" in r.content.decode()
    r = c.post(f"/unit/{COUNTY}/base-data/", {"org": TOWNSHIP, "as_of": "2023-11-08", "source": "统计表",
                                             "vacancies": "2805"})
    assert r.status_code == 302 and BaseDataValue.objects.count() == 5
    html = c.get(f"/unit/{COUNTY}/base-data/").content.decode()
    # 4134 / 11924 = 34.67 %, up 5 / 11924 = 0.04 points on 4129 / 11924
    assert "34.67%" in html and "较上期上升0.04％" in html and "较上期增加5个" in html
    unit_page = c.get(f"/unit/{COUNTY}/").content.decode()
    assert 'id="base-data-panel"' in unit_page and "34.67%" in unit_page and "上升0.04％" in unit_page
    template = c.get(f"/unit/{COUNTY}/base-data/template.xlsx")
    wb = load_workbook(io.BytesIO(b"".join(template.streaming_content)))
    wb.active.append([LINQUAN, "2023-11-08", "统计表", None, None, "是"])
    buf = io.BytesIO()
    wb.save(buf)
    upload = io.BytesIO(buf.getvalue())
    upload.name = "base.xlsx"
    assert c.post(f"/unit/{COUNTY}/base-data/", {"action": "import", "file": upload}).status_code == 302
    assert BaseDataValue.objects.filter(measure="special_outpatient", batch__startswith="IMP").count() == 1
    bad = io.BytesIO(b"not a workbook")
    bad.name = "x.xlsx"
    r = c.post(f"/unit/{COUNTY}/base-data/", {"action": "import", "file": bad})
    assert r.status_code == 400 and "文件无法读取" in r.content.decode()
    # a village doctor sees the figures of its own unit but no entry form
    html = client_for("vd").get("/unit/360426100201/base-data/").content.decode()
    assert "填报基础数据" not in html


def test_the_dashboard_shows_the_base_data_panel(settings, tmp_path, fast_passwords):
    from tests.web_fixtures import make_dashboard_region

    settings.DATA_DIR = tmp_path
    make_dashboard_region()
    base_data.record(access.operator(), TOWNSHIP, "2025-06-30", {"fd_teams": "3", "fd_doctors": "7"},
                     source="县卫健局统计表")
    html = client_for("sup").get(f"/unit/{COUNTY}/indicators/?period=2025").content.decode()
    assert 'id="base-data-panel"' in html and "家庭医生团队数" in html
    panel = html.split('id="base-data-panel"')[1]
    assert "<dd>7" in panel and "<dd>3" in panel


@pytest.fixture
def live_supervision_region(transactional_db, settings, tmp_path, fast_passwords):
    settings.DATA_DIR = tmp_path
    made = make_region()
    op = access.operator()
    base_data.record(op, TOWNSHIP, "2023-10-31", {"establishment": "8000", "vacancies": "2800"}, source="编办")
    base_data.record(op, LINQUAN, "2023-10-31", {"establishment": "3924", "vacancies": "1329"}, source="编办")
    base_data.record(op, TOWNSHIP, "2023-11-08", {"vacancies": "2805", "fd_teams": "4", "fd_doctors": "11"},
                     source="县卫健局统计表")
    return made


def test_supervisor_records_a_visit_creates_items_and_closes_one(live_supervision_region, live_server, chromium,
                                                                 tmp_path):
    with browser_as(chromium, live_server, "sup") as (page, offsite):
        page.goto(f"{live_server.url}/unit/{COUNTY}/supervision/")
        page.fill("input[name=title]", "第五期基本公卫督导")
        page.fill("input[name=period_no]", "5")
        page.fill("input[name=start_date]", "2025-03-01")
        page.fill("input[name=leader]", "王局长")
        page.check("input[name=method][value=phone]")
        page.check("input[name=method][value=on_site]")
        page.check(f"input[name=unit][value='{TOWNSHIP}']")
        page.check(f"input[name=unit][value='{LINQUAN}']")
        page.screenshot(path=str(screenshot_path(tmp_path, "supervision-new-round")))
        page.click("#new-round button.primary")
        page.wait_for_load_state("networkidle")
        assert "/supervision/" in page.url and "第五期基本公卫督导" in page.inner_text("h1")
        page.select_option("#visit-form select[name=org]", TOWNSHIP)
        page.fill("#visit-form input[name=visit_date]", "2025-03-03")
        page.select_option("#visit-form select[name=method]", "on_site")
        page.fill("#visit-form textarea[name=summary]", "抽查10份高血压随访记录，3份与门诊日志不符")
        page.set_input_files("#visit-form input[name=files]",
                             files=[{"name": "现场照片.png", "mimeType": "image/png", "buffer": PNG}])
        page.click("#visit-form button.primary")
        page.wait_for_load_state("networkidle")
        assert "现场照片.png" in page.inner_text("#visits")
        # a deadline before the round is refused above the form, and the form keeps what was typed
        page.fill("#item-form input[name=problem]", "补录并核实3份随访记录")
        page.fill("#item-form input[name=owner]", "蒲亭镇卫生院院长")
        page.fill("#item-form input[name=deadline]", "2025-02-20")
        page.click("#item-form button.primary")
        page.wait_for_load_state("networkidle")
        assert "整改期限不能早于督导日期" in page.inner_text("[role=alert]")
        page.fill("#item-form input[name=deadline]", "2025-03-31")
        page.select_option("#item-form select[name=visit]", index=1)
        page.click("#item-form button.primary")
        page.wait_for_load_state("networkidle")
        page.select_option("#item-form select[name=org]", LINQUAN)
        page.fill("#item-form input[name=problem]", "家庭医生团队配置不足")
        page.fill("#item-form input[name=owner]", "林泉乡卫生院院长")
        page.fill("#item-form input[name=deadline]", "2025-06-30")
        page.click("#item-form button.primary")
        page.wait_for_load_state("networkidle")
        assert page.locator("#items tbody tr").count() == 2
        first = page.locator("#items tbody tr").first
        first.locator("input[name=on]").fill("2025-03-20")
        first.locator("input[name=note]").fill("已补录")
        first.locator("button[value=rectified]").click()
        page.wait_for_load_state("networkidle")
        assert "已改为“已整改”" in page.inner_text("[role=status]")
        assert "已整改" in page.locator("#items tbody tr").first.inner_text()
        page.screenshot(path=str(screenshot_path(tmp_path, "supervision-round")), full_page=True)
        page.click("text=本期整改报告")
        page.wait_for_load_state("networkidle")
        assert "第5期整改情况" in page.inner_text("h1")
        page.screenshot(path=str(screenshot_path(tmp_path, "supervision-report")), full_page=True)
        page.goto(f"{live_server.url}/unit/{COUNTY}/base-data/")
        assert "34.67%" in page.inner_text("#base-data")
        page.screenshot(path=str(screenshot_path(tmp_path, "supervision-base-data")), full_page=True)
        page.goto(f"{live_server.url}/unit/{COUNTY}/")
        assert "上升0.04％" in page.inner_text("#base-data-panel")
        page.screenshot(path=str(screenshot_path(tmp_path, "supervision-unit-panel")))
        assert offsite == []
    item = RectificationItem.objects.order_by("pk").first()
    assert item.status == "rectified" and item.history.count() == 2


def test_the_supervision_pages_in_english(region):
    from tests.test_web_i18n import english

    rnd = sv.create_round(access.operator(), COUNTY, title="县级督导", period_no=2, start_date="2025-03-01",
                          methods=["phone"], leader="王", units=[TOWNSHIP])
    c = client_for("sup")
    html = english(c, f"/supervision/{rnd.pk}/").content.decode()
    assert "New rectification item" in html and "Record a visit" in html and "新增整改事项" not in html
    html = c.get(f"/unit/{COUNTY}/base-data/").content.decode()
    assert "Enter base data" in html and "No base data yet." in html and "填报基础数据" not in html
    html = c.get(f"/unit/{COUNTY}/supervision/report/?period=2").content.decode()
    assert "rectification, period 2" in html and "0 rectification items" in html
