"""Funds pages (web/pages/funds.py): the county table as of a date, alerts and subsidies, entry with its refusals,
the XLSX, who sees and enters what; a browser visit with screenshots. Figures: the ledger of tests/test_funds.py."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from gongwei.funds import models as fm
from gongwei.records import roles
from gongwei.service import access
from tests.test_admin import build_small_region, fast_passwords  # noqa: F401
from tests.test_funds import COUNTY, GAOTANG, LEDGER, PUTING, enter, ledger  # noqa: F401
from tests.web_fixtures import browser_as, client_for, screenshot_path

JUNE = "?year=2025&date=2025-06-30&item=basic"


def test_the_county_table_as_of_a_date_with_alerts_and_subsidies(ledger):  # noqa: F811
    html = client_for("sup").get(f"/unit/{COUNTY}/funds/{JUNE}").content.decode()
    # county by 06-30, basic funds: 到位 800,000 of 1,000,000; 拨付 500,000; spent below 140,000 of 800,000
    assert "<th class=\"num\">80.00%</th><th class=\"num\">50.00%</th><th class=\"num\">17.50%</th>" in html
    # 蒲亭 (12.50 %) is listed before 高塘 (0 %); 高塘: 200,000 of 300,000 arrived → 66.67 %
    assert html.index("蒲亭镇卫生院</a>") < html.index("高塘乡卫生院</a>") and "66.67%" in html
    assert "资金沉淀" in html and "专项未落实到乡村" in html and "下达未拨付" in html
    assert 'id="funds-subsidies"' in html and "6000.00" in html
    assert 'id="funds-form"' in html  # the county supervisor enters


def test_entry_on_the_page_refuses_too_much_and_records_the_rest(ledger):  # noqa: F811
    c = client_for("sup")
    form = {"kind": "expenditure", "year": "2025", "item": "basic", "level": "central", "org": GAOTANG,
            "amount": "250000", "date": "2025-05-01", "doc_no": "高卫支 01"}
    got = c.post(f"/unit/{GAOTANG}/funds/", form)
    assert got.status_code == 400
    assert "支出 250000.00 元超过 高塘乡卫生院 截至 2025-05-01 已到位未拨付、未支出的余额 200000.00 元" in got.content.decode()
    assert 'value="高卫支 01"' in got.content.decode()  # what was typed stays in the form
    got = c.post(f"/unit/{GAOTANG}/funds/", {**form, "amount": "150000"})
    assert got.status_code == 302
    row = fm.FundFlow.objects.get(doc_no="高卫支 01")
    assert row.amount == 150000 and row.entered_by.startswith("sup")
    got = c.post(f"/unit/{GAOTANG}/funds/", {"void": row.pk, "reason": "凭证号录错"})
    assert got.status_code == 302 and fm.FundFlow.objects.get(pk=row.pk).void_reason == "凭证号录错"


def test_a_village_doctor_reads_its_own_and_enters_nothing(ledger):  # noqa: F811
    c = client_for("vd")  # 北门村
    page = c.get("/unit/360426100201/funds/?year=2025&date=2025-06-30")
    assert page.status_code == 200 and 'id="funds-form"' not in page.content.decode()
    got = c.post("/unit/360426100201/funds/", {"kind": "expenditure", "year": "2025", "item": "basic",
                                                "level": "central", "amount": "1", "date": "2025-06-02",
                                                "doc_no": "x"})
    assert got.status_code == 403 and "资金台账只能由" in got.content.decode()
    assert c.get(f"/unit/{PUTING}/funds/").status_code == 403
    assert c.get(f"/unit/{COUNTY}/funds/export.xlsx").status_code == 403
    assert c.get("/funds/")["Location"] == "/unit/360426100201/funds/"


def test_the_funds_table_as_xlsx(ledger):  # noqa: F811
    got = client_for("sup").get(f"/unit/{COUNTY}/funds/export.xlsx{JUNE}")
    assert got.status_code == 200
    wb = load_workbook(io.BytesIO(got.content))
    rows = list(wb["资金情况表"].values)
    assert rows[0][0].startswith("德安县 2025年度基本公卫资金到位、拨付和支出情况（截至 2025-06-30")
    assert rows[2][:6] == ("单位", "代码", "下达（元）", "到位（元）", "拨付（元）", "支出（元，含下级）")
    # rows: 蒲亭, 高塘, then the county's own line with the hand-worked figures
    assert rows[-1] == ("德安县（合计）", COUNTY, 1000000, 800000, 500000, 140000, 80, 50, 17.5)
    # alerts over all items (tests/test_funds.py worked them out): three late, 高塘 idle, the increment kept
    assert [r[0] for r in wb["资金预警"].values][1:] == ["下达未拨付"] * 3 + ["资金沉淀", "专项未落实到乡村"]
    assert list(wb["乡村医生补助"].values)[1] == ("北门村卫生室", "360426100201", 6000, 1)


@pytest.fixture
def live_ledger(transactional_db, fast_passwords):  # noqa: F811
    roles.ensure_groups()
    made = build_small_region()
    op = access.operator()
    for row in LEDGER:
        enter(op, *row)
    return made


def test_a_supervisor_enters_a_disbursement_in_a_browser(live_ledger, live_server, chromium, tmp_path):
    with browser_as(chromium, live_server, "sup") as (page, offsite):
        page.goto(f"{live_server.url}/funds/")
        page.wait_for_load_state("networkidle")
        assert page.url.endswith(f"/unit/{COUNTY}/funds/")
        page.goto(f"{live_server.url}/unit/{COUNTY}/funds/{JUNE}")
        page.screenshot(path=str(screenshot_path(tmp_path, "funds_county")), full_page=True)
        page.select_option("select[name=kind]", "disbursement")
        page.select_option("#funds-form select[name=item]", "increment")
        page.fill("input[name=recipient]", GAOTANG)
        page.fill("input[name=amount]", "40000")
        page.fill("#funds-form input[name=date]", "2025-06-10")
        page.fill("input[name=doc_no]", "德卫拨 05")
        page.click("#save-flow")
        page.wait_for_load_state("networkidle")
        assert "已录入：拨付 40000.00 元（德卫拨 05）" in page.content()
        # the 40,000 of the increment left at the county has now reached 高塘: no 专项 alert any more
        assert "专项未落实到乡村" not in page.content()
        page.screenshot(path=str(screenshot_path(tmp_path, "funds_entered")), full_page=False)
        page.click("#workload-link")
        page.wait_for_load_state("networkidle")
        assert "工作量（服务当量）" in page.content()
        page.goto(f"{live_server.url}/unit/{COUNTY}/workload/?period=2024")
        # the small region's 12 follow-ups of 2024-03-01: 12 equivalents for the county
        assert page.locator("#workload-units tr.own td.num strong").inner_text() == "12"
        # the supervisor types an amount to split by workload: 蒲亭 and 高塘 have 6 follow-ups each → 6,000.00 each
        page.fill("input[name=pool]", "12000")
        page.click("form.funds-filters button")
        page.wait_for_load_state("networkidle")
        shares = page.locator("#workload-units tbody tr:not(.own) td:nth-child(3)").all_inner_texts()
        assert shares == ["6000.00", "6000.00"]
        page.screenshot(path=str(screenshot_path(tmp_path, "workload_county")), full_page=False)
        assert offsite == []
