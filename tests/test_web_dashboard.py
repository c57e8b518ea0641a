"""The indicator dashboard (issue 10 §2–3): the bulletin table from stored results, one indicator's trend and
ranking, the drill-down to the people in a gap with reasons, the XLSX export — scoped, audited, no CDN.

The region (tests.web_fixtures.make_dashboard_region): in 2025 蒲亭镇 meets H3 (北门村 all controlled), 高塘乡
has no follow-up at all (far) — the supervisor's lagging township; one 高塘村 resident is named like a formula.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from gongwei.engine.compare import Figure
from gongwei.service import dashboard as service
from gongwei.spec.rules import Comparator, Target
from tests.web_fixtures import (
    COUNTY,
    FORMULA_NAME,
    FORMULA_RECORD,
    OTHER_TOWNSHIP,
    TOWNSHIP,
    VILLAGE,
    browser_as,
    client_for,
    screenshot_path,
)

LAGGING = OTHER_TOWNSHIP  # 高塘乡卫生院
LAGGING_VILLAGE = "360426200201"  # 高塘村卫生室
VENDOR = Path(__file__).resolve().parents[1] / "src/gongwei/web/static/vendor"


def html(response) -> str:
    return response.content.decode()


def row_of(page: str, tbody: str, unit: str) -> str:
    """The <tr> of ``unit`` inside the bulletin's tbody of one indicator."""
    body = re.search(rf'<tbody id="ind-{tbody}">(.*?)</tbody>', page, re.S).group(1)
    return re.search(rf'<tr class="[^"]*" data-unit="{unit}">(.*?)</tr>', body, re.S).group(1)


# --- met / near / far ---------------------------------------------------------------------------------------
def _fig(rate, target, comparator=Comparator.GE, unit="rate", numerator=0):
    t = Target(indicator="H3", year=2025, value=target, source=None, comparator=comparator, region="", unit=unit)
    f = Figure("H3", "x", 1, "c", "n", numerator, 100, rate, target=t)
    value = numerator if unit == "count" else rate
    f.met = {Comparator.GE: value >= target, Comparator.LE: value <= target}[comparator]
    return f


def test_near_is_within_the_named_margin_below_the_target():
    m = service.NEAR_MARGIN
    assert service.standing(_fig(0.90, 0.90)) == service.MET
    assert service.standing(_fig(0.90 - m, 0.90)) == service.NEAR
    assert service.standing(_fig(0.90 - m - 0.001, 0.90)) == service.FAR
    # a ceiling (≤): above it by less than the margin is near
    assert service.standing(_fig(0.10 + m / 2, 0.10, Comparator.LE)) == service.NEAR
    assert service.standing(_fig(0.10 + m * 2, 0.10, Comparator.LE)) == service.FAR
    # a count target: near within the margin as a share of the target
    assert service.standing(_fig(None, 1000, unit="count", numerator=int(1000 * (1 - m)))) == service.NEAR
    assert service.standing(_fig(None, 1000, unit="count", numerator=int(1000 * (1 - m)) - 1)) == service.FAR
    no_target = Figure("H2", "x", 1, "c", "n", 0, 10, 0.0)
    assert service.standing(no_target) is None


# --- the bulletin table -------------------------------------------------------------------------------------
def test_county_dashboard_shows_the_stored_bulletin_coloured_with_the_time_of_the_data(dashboard_region):
    snap = dashboard_region["snapshot"]
    c = client_for("sup")
    response = c.get(f"/unit/{COUNTY}/indicators/?period=2025")
    assert response.status_code == 200
    page = html(response)
    assert f"快照 {snap.id}" in page and "数据时间：" in page
    assert [m for m in re.findall(r'<tbody id="ind-(\w+)">', page)] == ["H1", "H2", "H3"]
    assert "本期已计算 3 项指标" in page  # the rest of the catalogue is said to be missing, not hidden
    # H3 2025: 蒲亭镇 3/6 meets ≥50 %, 高塘乡 0/6 is far; ranks among the two townships
    met = row_of(page, "H3", TOWNSHIP)
    far = row_of(page, "H3", LAGGING)
    assert 'class="num met"' in met and "达标" in met and "1/2" in met
    assert 'class="num far"' in far and "未达标" in far and "2/2" in far
    # the gap count of the lagging township links to its gap list
    assert f'href="/unit/{LAGGING}/indicators/H3/gaps/?period=2025">6</a>' in far
    # each child links to its own dashboard (drill-down), the previous period 2024 is stored (a link)
    assert f'href="/unit/{LAGGING}/indicators/?period=2025#ind-H3"' in far
    assert 'href="?period=2024"' in page
    # no period: the latest stored one
    latest = html(c.get(f"/unit/{COUNTY}/indicators/"))
    assert "2025（" in latest and 'id="ind-H3"' in latest
    assert '<script src="/static/gongwei/dashboard.js" defer></script>' in page


def test_scope_unknown_units_and_periods_are_chinese_pages_never_computed_inline(dashboard_region):
    from gongwei.service import results
    from gongwei.spec.periods import parse

    vd = client_for("vd")
    for url in (f"/unit/{COUNTY}/indicators/?period=2025", f"/unit/{COUNTY}/indicators/H3/?period=2025",
                f"/unit/{COUNTY}/indicators/H3/gaps/?period=2025",
                f"/unit/{COUNTY}/indicators/H3/gaps.xlsx?period=2025",
                f"/unit/{COUNTY}/indicators/?period=2023"):  # refused before "not computed"
        refused = vd.get(url)
        assert refused.status_code == 403, url
        assert "不在您的权限范围内" in html(refused)
    ts = client_for("ts")
    assert ts.get(f"/unit/{LAGGING}/indicators/?period=2025").status_code == 403
    sup = client_for("sup")
    missing = sup.get("/unit/999999999999/indicators/?period=2025")
    assert missing.status_code == 404 and "机构代码 999999999999 不存在" in html(missing)
    no_indicator = sup.get(f"/unit/{COUNTY}/indicators/Z99/?period=2025")
    assert no_indicator.status_code == 404 and "指标代码 Z99 不存在" in html(no_indicator)
    bad = sup.get(f"/unit/{COUNTY}/indicators/?period=2025Q5")
    assert bad.status_code == 400 and "期间“2025Q5”无效" in html(bad)
    bad_page = sup.get(f"/unit/{LAGGING}/indicators/H3/gaps/?period=2025&page=x")
    assert bad_page.status_code == 400 and "页码" in html(bad_page)
    # a period not computed: the message names the command that computes it; nothing is computed by the page
    snap = dashboard_region["snapshot"]
    not_ready = sup.get(f"/unit/{COUNTY}/indicators/?period=2023")
    assert not_ready.status_code == 409
    assert f"gongwei indicators --org {COUNTY} --period 2023" in html(not_ready) and "尚未计算" in html(not_ready)
    assert sup.get(f"/unit/{COUNTY}/indicators/H3/gaps/?period=2023").status_code == 409
    assert results.stored_indicators(snap.id, parse("2023")) is None
    # an indicator of the catalogue not stored for a stored period: not computed either
    assert sup.get(f"/unit/{COUNTY}/indicators/D1/?period=2025").status_code == 409
    assert "D1" not in set(results.stored_indicators(snap.id, parse("2025")).column("indicator").to_pylist())


def test_indicator_page_trend_ranking_and_forecast(dashboard_region):
    from gongwei.service import analysis, results, snapshots
    from gongwei.spec.periods import parse

    c = client_for("sup")
    page = html(c.get(f"/unit/{COUNTY}/indicators/H3/?period=2025"))
    chart = json.loads(re.search(r'<script id="chart-data" type="application/json">(.*?)</script>', page,
                                 re.S).group(1))
    op = dashboard_region["operator"]
    for_year = {p: analysis.indicators(op, COUNTY, p, codes="H3", compute=False) for p in ("2024", "2025")}
    expected = [round(next(f for f in for_year[p].figures if f.unit_code == COUNTY).rate * 100, 2)
                for p in ("2024", "2025")]
    assert chart["trend"]["labels"] == ["2024", "2025"] and chart["trend"]["rates"] == expected
    assert expected[0] < expected[1]  # the 2025 follow-ups show as a rise
    assert chart["target"] == 50.0 and chart["trend"]["targets"] == [50.0, 50.0]
    # ranking: lowest first (a horizontal bar chart draws the first at the bottom), coloured by standing
    assert chart["ranking"]["labels"] == ["高塘乡卫生院", "蒲亭镇卫生院"]
    assert chart["ranking"]["standing"] == ["far", "met"]
    assert '<script src="/static/vendor/echarts.min.js" defer></script>' in page
    assert "仅对“截至某日/季度”的期间预测" in page  # a whole year has no forecast
    # an as-of date: the year-end forecast and the extra people per week of the engine's figure
    eng = snapshots.engine(dashboard_region["snapshot"].folder)
    results.indicators(eng, parse("2025-06-30"), ["H3"])
    asof = html(c.get(f"/unit/{LAGGING}/indicators/H3/?period=2025-06-30"))
    fig = next(f for f in analysis.indicators(op, LAGGING, "2025-06-30", codes="H3", compute=False).figures
               if f.unit_code == LAGGING)
    assert fig.extra_per_week and fig.extra_per_week > 0
    assert f"需每周增加 {fig.extra_per_week} 人" in asof
    assert f"{fig.forecast_rate * 100:.2f}%" in asof
    # the trend keeps to periods of the kind asked (an as-of date is not drawn beside whole years)
    asof_chart = json.loads(re.search(r'id="chart-data" type="application/json">(.*?)</script>', asof).group(1))
    assert asof_chart["trend"]["labels"] == ["2025-06-30"]


def test_gap_list_filters_by_reason_pages_audits_and_links_records_for_admins_only(dashboard_region):
    from gongwei.records import models as m
    from gongwei.service import access

    op = dashboard_region["operator"]
    everyone = service.gap_list(op, COUNTY, "H2", "2025", size=1000)
    people = everyone.result.page.people
    assert everyone.result.page.total == len(people) > 0
    by_reason: dict[str, set[str]] = {}
    for p in people:
        for code, _ in p.reasons:
            by_reason.setdefault(code, set()).add(p.record_no)
    assert len(by_reason) >= 2  # the filter has something to tell apart
    for code, nos in by_reason.items():
        only = service.gap_list(op, COUNTY, "H2", "2025", reason=code, size=1000)
        assert {p.record_no for p in only.result.page.people} == nos and only.result.page.total == len(nos)
    # paging: the pages together are the whole list, in order
    paged = [p.record_no for n in (1, 2, 3, 4, 5, 6) for p in
             service.gap_list(op, COUNTY, "H2", "2025", page=n, size=3).result.page.people]
    assert paged == [p.record_no for p in people]

    sup = client_for("sup")
    before = m.AccessLog.objects.filter(kind="gaps", user__username="sup").count()
    reason = sorted(by_reason)[0]
    response = sup.get(f"/unit/{COUNTY}/indicators/H2/gaps/?period=2025&reason={reason}")
    page = html(response)
    assert response.status_code == 200 and f'<option value="{reason}" selected>' in page
    assert f'<strong id="gap-total">{len(by_reason[reason])}</strong>' in page
    log = m.AccessLog.objects.filter(kind="gaps", user__username="sup").order_by("-at").first()
    assert m.AccessLog.objects.filter(kind="gaps", user__username="sup").count() == before + 1
    assert log.count == len(by_reason[reason]) and reason in log.purpose and log.scope == COUNTY
    # the supervisor gets the record number, not a link into the admin; the system administrator gets the link
    assert "/admin/records/resident/" not in page
    admin_page = html(client_for("sa").get(f"/unit/{COUNTY}/indicators/H2/gaps/?period=2025"))
    resident = m.Resident.objects.get(record_no=people[0].record_no)
    assert f'href="/admin/records/resident/{resident.pk}/change/"' in admin_page
    # htmx asks for the list only
    fragment = html(sup.get(f"/unit/{COUNTY}/indicators/H2/gaps/?period=2025&reason={reason}",
                            HTTP_HX_REQUEST="true"))
    assert "<html" not in fragment and 'id="gaps"' in fragment
    # a reason of another indicator: a Chinese 400 naming the reason and what is allowed
    wrong = sup.get(f"/unit/{COUNTY}/indicators/H3/gaps/?period=2025&reason=HTN-EXAM")
    assert wrong.status_code == 400 and "缺口原因“HTN-EXAM”不适用于指标 H3" in html(wrong)
    # an indicator whose gap is not a list of people says so
    h1 = html(sup.get(f"/unit/{COUNTY}/indicators/H1/gaps/?period=2025"))
    assert "无法逐人列出" in h1
    assert access.operator().scope.everything  # (the operator used above sees everything)


def test_export_is_audited_and_keeps_a_formula_looking_name_as_text(dashboard_region):
    from openpyxl import load_workbook

    from gongwei.records import models as m

    sup = client_for("sup")
    response = sup.get(f"/unit/{LAGGING_VILLAGE}/indicators/H3/gaps.xlsx?period=2025")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[1][:5] == ("档案编号", "姓名", "管理机构", "机构代码", "缺口原因")
    body = {r[0]: r for r in rows[2:]}
    assert set(body) == {f"{LAGGING_VILLAGE}0000{i}" for i in (1, 2, 3)}
    assert body[FORMULA_RECORD][1] == FORMULA_NAME
    cell = next(c for c in ws["B"] if c.value == FORMULA_NAME)
    assert cell.data_type == "s"
    assert all(r[4] for r in rows[2:])  # every person carries a reason
    log = m.AccessLog.objects.filter(kind="export", user__username="sup").get()
    assert log.count == 3 and log.scope == LAGGING_VILLAGE
    assert set(log.people.values_list("resident__record_no", flat=True)) == set(body)


# --- the supervisor's journey in a real browser ----------------------------------------------------------------
def test_browser_supervisor_journey_dashboard_to_export(chromium, live_server, live_dashboard_region, tmp_path):
    from openpyxl import load_workbook

    assert (VENDOR / "echarts.min.js").is_file() and (VENDOR / "htmx.min.js").is_file(), \
        "htmx/ECharts 未安装到 static/vendor：请运行 make assets（make install 会运行它）"
    with browser_as(chromium, live_server, "sup") as (page, offsite):
        page.goto(f"{live_server.url}/unit/{COUNTY}/indicators/?period=2025")
        assert "德安县" in page.inner_text("h1")
        lagging = page.locator(f'#ind-H3 tr[data-unit="{LAGGING}"]')
        assert "未达标" in lagging.inner_text()
        colour = lagging.locator("td.far").first.evaluate("e => getComputedStyle(e).color")
        assert colour == "rgb(197, 48, 48)"  # --far from app.css
        # sorting by rate (ascending) puts the lagging township first under the county's own row
        page.click("#bulletin thead th:text-is('率')")
        units = page.eval_on_selector_all("#ind-H3 tr[data-unit]", "rs => rs.map(r => r.dataset.unit)")
        assert units == [COUNTY, LAGGING, TOWNSHIP]
        page.screenshot(path=str(screenshot_path(tmp_path, "dashboard_county")), full_page=False)

        page.goto(f"{live_server.url}/unit/{COUNTY}/indicators/H3/?period=2025")
        page.wait_for_selector("#trend-chart svg")
        page.wait_for_selector("#ranking-chart svg")
        assert "高塘乡卫生院" in page.inner_text("#ranking-chart")  # the Chinese labels are drawn
        page.screenshot(path=str(screenshot_path(tmp_path, "indicator_H3")), full_page=True)

        page.goto(f"{live_server.url}/unit/{COUNTY}/indicators/?period=2025")
        page.click(f'#ind-H3 tr[data-unit="{LAGGING}"] td:first-child a')
        page.wait_for_load_state("networkidle")
        assert page.url.startswith(f"{live_server.url}/unit/{LAGGING}/indicators/")
        assert "高塘乡卫生院" in page.inner_text("h1")
        page.screenshot(path=str(screenshot_path(tmp_path, "dashboard_township")), full_page=False)
        page.click(f'#ind-H3 tr[data-unit="{LAGGING_VILLAGE}"] td:first-child a')
        page.wait_for_load_state("networkidle")
        assert "高塘村卫生室" in page.inner_text("h1")
        page.click(f'#ind-H3 tr[data-unit="{LAGGING_VILLAGE}"] td:last-child a')
        page.wait_for_load_state("networkidle")
        assert "/indicators/H3/gaps/" in page.url
        assert page.inner_text("#gap-total") == "3"
        assert FORMULA_NAME in page.inner_text("#gaps")
        # filter by a reason through htmx: the list is replaced, the address follows
        page.select_option("#reason", "HTN-BP")
        page.wait_for_function("document.getElementById('gap-total').textContent === '0'")
        assert "reason=HTN-BP" in page.url and "没有符合条件的人员" in page.inner_text("#gaps")
        page.select_option("#reason", "HTN-NOBP")
        page.wait_for_function("document.getElementById('gap-total').textContent === '3'")
        page.screenshot(path=str(screenshot_path(tmp_path, "gap_list")), full_page=False)
        with page.expect_download() as download:
            page.click("a.export")
        saved = tmp_path / "gaps.xlsx"
        download.value.save_as(saved)
    assert offsite == [], f"requests left the local server: {offsite}"
    # the village doctor: their own village's dashboard, and the county's refused in Chinese
    with browser_as(chromium, live_server, "vd") as (page, offsite):
        page.goto(f"{live_server.url}/unit/{VILLAGE}/indicators/?period=2025")
        assert "北门村卫生室" in page.inner_text("h1") and "达标" in page.inner_text("#ind-H3")
        page.screenshot(path=str(screenshot_path(tmp_path, "dashboard_village_doctor")), full_page=False)
        refused = page.goto(f"{live_server.url}/unit/{COUNTY}/indicators/?period=2025")
        assert refused.status == 403 and "不在您的权限范围内" in page.inner_text("main")
    assert offsite == [], f"requests left the local server: {offsite}"
    ws = load_workbook(saved).active
    names = [r[1] for r in ws.iter_rows(min_row=3, values_only=True)]
    assert FORMULA_NAME in names and len(names) == 3
    assert next(c for c in ws["B"] if c.value == FORMULA_NAME).data_type == "s"


@pytest.mark.parametrize("path", ["vendor/htmx.min.js", "vendor/echarts.min.js", "gongwei/dashboard.js"])
def test_assets_are_served_by_this_host(path):
    from django.contrib.staticfiles import finders

    assert finders.find(path), f"{path} 不在静态文件中：请运行 make assets"


def test_a_numerator_above_its_denominator_leaves_nobody_in_the_gap_not_a_negative_count():
    from types import SimpleNamespace

    over = Figure("C1", "新生儿访视率", 1, "c", "n", 29, 28, 29 / 28)
    under = Figure("C1", "新生儿访视率", 2, "c2", "n2", 20, 28, 20 / 28)
    blocks = service._blocks(SimpleNamespace(figures=[over, under], unit=SimpleNamespace(id=1)))
    assert blocks[0].listable and [r.gap for r in blocks[0].rows] == [0, 8]
