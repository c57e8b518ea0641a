"""The bulletin types beyond the quarterly one (issue 14, ADR 035): the rectification report of period N ([city-rectification-2023]
shape) with its pluggable section providers, and the work-report section ([baotou-2025] shape); each generated on the
test region, opened with python-docx and converted by LibreOffice, every figure in its text the stored result of
its unit, indicator and period, every named lagging unit one that misses its target; the figures' links."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from gongwei.bulletins import narrative, numbers, pdf, render, sections
from gongwei.bulletins import template as templates
from gongwei.cli.main import main
from gongwei.service import bulletins
from gongwei.service.errors import BadRequest
from tests.ci_policy import not_available
from tests.shared_data import shared_data
from tests.test_bulletins import PERIOD, PREVIOUS, _bulletin_data, make_bulletin_region
from tests.web_fixtures import COUNTY, make_region, screenshot_path


@shared_data
def region():
    """Built once for the module; each test starts from it as built (tests/shared_data.py)."""
    return make_bulletin_region()


def _stored(made, period: str) -> dict[tuple[str, str], tuple[int, int | None]]:
    """(indicator, unit code) → (numerator, denominator) straight from the results store."""
    from gongwei.engine.orgs import OrgTree
    from gongwei.service import results
    from gongwei.spec.periods import parse

    snap = made["snapshot"]
    tree = OrgTree.load(snap)
    t = results.stored_indicators(snap.id, parse(period))
    return {(r["indicator"], tree.code[r["org_unit_id"]]): (r["numerator"], r["denominator"]) for r in t.to_pylist()}


def _rate(pair) -> float | None:
    n, d = pair
    return n / d if d else None


def check_every_figure(b, made, period: str, previous: str | None) -> int:
    """Every figure of the text is a link span whose words are the stored figure of its unit and indicator; no
    percentage or count outside a span but targets and changes; each change is the stored rate minus the stored
    previous rate; every unit named as lagging misses its target. Returns how many figures were checked."""
    facts = narrative.Facts.from_json(b.facts)
    stored, before = _stored(made, period), _stored(made, previous) if previous else {}
    by_key = {f.key: f for f in facts.figures}
    checked = changes = lagging = 0
    for p in b.paragraphs:
        for link in p.get("links", []):
            f = by_key[link["ref"]]
            words = p["text"][link["start"]:link["end"]]
            n, d = stored[(f.indicator, f.unit_code)]
            rate = _rate((n, d))
            # the words are the rate (own or 甲镇12.50%), or the numerator or denominator with their unit word
            allowed = {numbers.percent(rate), f"{f.place}{numbers.percent(rate)}", f"{f.place}{numbers.count(n, '人')}"}
            assert words in allowed or re.fullmatch(rf"({re.escape(numbers.count(n))}|{re.escape(numbers.count(d))})[人份]",
                                                    words), (words, f.key)
            checked += 1
            if f.own and words == numbers.percent(rate) and (f.indicator, f.unit_code) in before:
                was = _rate(before[(f.indicator, f.unit_code)])
                after = p["text"][link["end"]:].split("。")[0]
                prefix = "较上年" if "Q" not in period else "较上期"
                if f.change is None:
                    # the previous period without data for the area (nothing counted anywhere): no comparison
                    assert prefix not in after and "持平" not in after, after
                else:
                    assert was is not None and rate is not None
                    assert numbers.change(rate - was, prefix=prefix) in after, (after, rate, was)
                    changes += 1
        # nothing looking like a figure outside the spans except targets (≥62%) and changes (个百分点)
        text = p["text"]
        for m in re.finditer(r"\d+(?:\.\d+)?%", text):
            inside = any(x["start"] <= m.start() < x["end"] for x in p.get("links", []))
            assert inside or text[m.start() - 1] == "≥" or text[m.end():].startswith("个百分点") or \
                re.search(r"整改率|真实率", text[:m.start()][-4:]), (m.group(), text)
        # a unit named as lagging: the figures linked inside "其中…未达到目标值" / "未达到目标值的有…" miss the target
        for m in re.finditer(r"其中[^。]+?未达到目标值|未达到目标值的有[^。]+", text):
            named = [by_key[x["ref"]] for x in p.get("links", []) if m.start() <= x["start"] < m.end()]
            assert named, m.group()
            for f in named:
                assert not f.own and f.met is False and f.rate < f.target_value, (m.group(), f.key)
                lagging += 1
    return checked, changes, lagging


def _docx_and_pdf(b, tmp_path, name: str):
    import docx

    files = render.write_all(b, tmp_path / f"{name}.docx", with_pdf=False)
    doc = docx.Document(str(files["docx"]))
    texts = [p.text for p in doc.paragraphs]
    assert b.title in texts
    if not pdf.available():
        not_available(f"未安装 LibreOffice（{pdf.PACKAGE}），无法检查 DOCX 能否转为 PDF；请运行 make install")
    out = pdf.convert(files["docx"])
    assert out.read_bytes().startswith(b"%PDF")
    import shutil
    import subprocess

    if shutil.which("pdftoppm") is None:
        not_available("未安装 pdftoppm（poppler-utils），无法把 PDF 首页转为图片；请运行 make install")
    png = screenshot_path(tmp_path, f"{name}-p1")
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(out),
                    str(png.with_suffix(""))], check=True, timeout=120)
    assert png.stat().st_size > 10_000
    return texts


# --- the rectification report of period N ------------------------------------------------------------------
def test_rectification_report_figures_changes_and_sections_left_out_without_data(region, tmp_path):
    actor = region["operator"]
    b = bulletins.draft(actor, "rectification", COUNTY, PERIOD, issued_on=dt.date(2025, 8, 28))
    assert b.title == "德安县卫生健康局关于德安县基本公共卫生服务项目第一期整改情况的报告"
    checked, changes, lagging = check_every_figure(b, region, PERIOD, PREVIOUS)
    # own rates of E3, H3, H6 (D3, D6 have no data in 2025), the townships above/below and lagging: 10 spans;
    # H3 is the one compared (2025Q1 had H3 data: 1 of 3 controlled, 33.33% → 25.00%, 下降8.33个百分点)
    # 高塘乡 misses H3's target (≥50%) twice: in the text and in 下一步工作
    assert checked >= 8 and changes == 1 and lagging == 2
    assert "管理人群血压控制率25.00%（国家目标值为≥50%），较上期下降8.33个百分点。" in "".join(p["text"] for p in b.paragraphs)
    text = "\n".join(p["number"] + p["text"] for p in b.paragraphs)
    assert "现将第一期整改情况（数据截至2025年6月30日）报告如下。" in text
    # funds: wired by nobody yet, the template says 暂无数据; staffing, supervision and verification (no samples
    # drawn) are left out with their headings, and the parts after them are numbered without a gap
    assert "（二）资金管理方面整改情况\n暂无资金拨付和支出数据。" in text
    assert "配套政策" not in text and "督导检查" not in text and "抽样核查" not in text
    assert "（三）数据质量问题整改情况" in text
    # no finding in the ledger yet (only tallies stored): the QC rectification provider has no data
    assert "暂无质控问题整改数据。" in text
    # the region's township 高塘乡 has no follow-up in 2025: it misses the H3 target and is named
    assert "高塘乡0.00%" in text
    # the second report of the year is 第二期, and regenerating keeps its number
    again = bulletins.draft(actor, "rectification", COUNTY, PERIOD)
    assert "第二期" in again.title
    assert "第二期" in bulletins.regenerate(actor, again.pk).paragraphs[1]["text"]
    texts = _docx_and_pdf(b, tmp_path, "rectification")
    assert "一、整改落实情况" in texts and "二、下一步工作" in texts


def test_a_section_provider_plugged_in_later_fills_its_part(region):
    """The funds app (built elsewhere) registers a provider: the part then says what it returns; a provider
    returning nothing leaves its part as the template chose."""
    seen = []

    def funds(ctx: sections.Context):
        seen.append((ctx.tree.code[ctx.unit], ctx.period.code, ctx.previous.code))
        return [{"text": "资金拨付率为67.25%，与上期持平。", "refs": []}]

    wired = {name: sections.unregister(name) for name in ("funds", "staffing")}  # the real ones, put back below
    sections.register("funds")(funds)
    sections.register("staffing")(lambda ctx: None)
    try:
        b = bulletins.draft(region["operator"], "rectification", COUNTY, PERIOD)
    finally:
        for name, provider in wired.items():
            sections.unregister(name)
            if provider is not None:
                sections.register(name)(provider)
    assert seen == [(COUNTY, PERIOD, PREVIOUS)]
    text = "\n".join(p["number"] + p["text"] for p in b.paragraphs)
    assert "（二）资金管理方面整改情况\n资金拨付率为67.25%，与上期持平。" in text
    assert "配套政策" not in text  # staffing had no data and its template part says omit
    assert b.facts["sections"]["funds"] == [{"text": "资金拨付率为67.25%，与上期持平。", "refs": []}]
    with pytest.raises(KeyError):
        sections.register("weather")
    assert sections.wired() == ["evaluation", "funds", "qc_rectification", "staffing", "supervision", "verification"]


def test_qc_rectification_counts_the_ledger_of_the_subtree(region):
    from gongwei.quality import services as quality_services
    from gongwei.quality.models import Finding, FindingStatus
    from gongwei.records.models import OrgUnit
    from gongwei.service import quality

    actor = region["operator"]
    quality.evaluate_findings(actor, "2025", rules="F-03")
    found = list(Finding.objects.filter(rule="F-03", period="2025").order_by("record_no"))
    assert len(found) == 3  # the three exams of ARM_GAP: two in 蒲亭镇, one in 高塘乡
    # the one in 高塘乡 rectified: 3 found, 1 rectified → 1/3 = 33.33%, 2 open, both in 蒲亭镇
    gao = OrgUnit.objects.get(code="360426200000")
    (there,) = [f for f in found if f.org_unit.path.startswith(gao.path)]
    quality_services.transition(there, FindingStatus.RECTIFIED, reason="已复测")
    b = bulletins.draft(actor, "rectification", COUNTY, PERIOD)
    text = "\n".join(p["text"] for p in b.paragraphs)
    assert "质控发现问题3条，已整改1条，整改率33.33%，尚待整改2条。待整改问题较多的有：蒲亭镇2条。" in text
    # a dismissed finding is no problem after all: 2 counted, 1 rectified → 50.00%
    quality_services.transition(Finding.objects.get(pk=found[0].pk if found[0] != there else found[1].pk),
                                FindingStatus.DISMISSED, reason="测量误差")
    text = "\n".join(p["text"] for p in bulletins.draft(actor, "rectification", COUNTY, PERIOD).paragraphs)
    assert "质控发现问题2条，已整改1条，整改率50.00%，尚待整改1条。待整改问题较多的有：蒲亭镇1条。" in text


def test_verification_of_samples_fills_its_part(region):
    from gongwei.service import verification
    from tests.test_verification import as_login

    sup = as_login(region, "sup")
    v = verification.draw(sup, "H3", COUNTY, PERIOD, part="denominator", size=4, seed=11)
    assert verification.assign(sup, v.sample_no, "sup", "phone") == 4
    first, second, third, _fourth = (r.position for r in v.items)
    verification.record(sup, v.sample_no, first, "confirmed")
    verification.record(sup, v.sample_no, second, "not_found", note="村委会称无此人")
    verification.record(sup, v.sample_no, third, "wrong_info", note="住址不符", wrong_field="address")
    b = bulletins.draft(region["operator"], "rectification", COUNTY, PERIOD)
    text = "\n".join(p["number"] + p["text"] for p in b.paragraphs)
    # 4 drawn; confirmed counts genuine, not_found and wrong_info not genuine (and not_found is fabrication);
    # one pending: verified 3, genuine 1 → 1/3 = 33.33%
    assert ("抽样核查情况\n抽样核查4人，已核实3人，核实为真实服务1人，真实率33.33%，查无此人或未接受服务1人，"
            "尚未核实1人。") in text


# --- the work-report section --------------------------------------------------------------------------------
@shared_data
def year_region():
    t = templates.load("report")
    return make_region(periods=("2024", "2025"), codes=t.indicators, prepare=_bulletin_data)


def test_work_report_section_is_a_year_with_the_year_before(year_region, tmp_path):
    actor = year_region["operator"]
    b = bulletins.draft(actor, "report", COUNTY, "2025", issued_on=dt.date(2026, 1, 20))
    assert b.title == "德安县2025年基本公共卫生服务工作落实情况"
    checked, _, lagging = check_every_figure(b, year_region, "2025", "2024")
    # 高塘乡 (no follow-up in 2025) misses H3's ≥50%: named in the text and in 下一步工作
    assert checked >= 6 and lagging == 2
    text = "\n".join(p["text"] for p in b.paragraphs)
    assert "（数据截至2025年12月31日）" in text
    assert "较上期" not in text  # a year is compared with the year before: 较上年 / 与上年持平
    with pytest.raises(BadRequest, match="不是年度"):
        bulletins.draft(actor, "report", COUNTY, "2025Q2")
    texts = _docx_and_pdf(b, tmp_path, "report")
    assert any(t.startswith("一、项目完成情况") for t in texts)


def test_the_command_line_offers_the_types(region, tmp_path, capsys):
    out = tmp_path / "r.docx"
    assert main(["bulletin", "--type", "rectification", "--org", COUNTY, "--period", PERIOD, "--out", str(out),
                 "--no-pdf", "--issued-on", "2025-08-28"]) == 0
    assert "第一期整改情况" in capsys.readouterr().err
    assert out.is_file() and out.with_suffix(".xlsx").is_file()
    assert main(["bulletin", "--type", "report", "--org", COUNTY, "--period", PERIOD, "--out", str(out)]) == 2
    assert "不是年度" in capsys.readouterr().err


# --- templates refuse what they cannot do -------------------------------------------------------------------
def test_a_template_naming_an_unknown_provider_or_choice_is_refused():
    source = templates.load("rectification").source
    with pytest.raises(templates.TemplateError, match="数据来源“weather”不存在"):
        templates.parse(source.replace('provider = "funds"', 'provider = "weather"'))
    with pytest.raises(templates.TemplateError, match="when_missing 应为 omit 或 no_data"):
        templates.parse(source.replace('  when_missing = "no_data"\n', '  when_missing = "hide"\n', 1))
    with pytest.raises(templates.TemplateError, match="period 应为 quarter 或 year"):
        templates.parse(templates.load("report").source.replace('period = "year"', 'period = "month"'))


# --- links from each figure to its drill-down ---------------------------------------------------------------
def test_marks_become_spans_and_survive_an_edit_where_the_words_remain():
    text, links = narrative.unmark(f"血压控制率为{narrative.mark('H3@1', '67.62%')}，其中"
                                   f"{narrative.mark('H3@2', '静宁县44.87%')}未达到目标值。")
    assert text == "血压控制率为67.62%，其中静宁县44.87%未达到目标值。"
    assert links == [{"start": 6, "end": 12, "ref": "H3@1"}, {"start": 15, "end": 24, "ref": "H3@2"}]
    p = {"text": text, "links": [{**x, "words": text[x["start"]:x["end"]]} for x in links]}
    assert narrative.segments(p) == [("血压控制率为", ""), ("67.62%", "H3@1"), ("，其中", ""),
                                     ("静宁县44.87%", "H3@2"), ("未达到目标值。", "")]
    edited = "经复核，血压控制率为67.62%。"  # the lagging county edited away: its link goes, the rate's moves
    assert narrative.relink(edited, p["links"]) == [{"start": 10, "end": 16, "ref": "H3@1", "words": "67.62%"}]


def test_the_preview_links_each_figure_to_its_drill_down(region):
    from tests.web_fixtures import client_for

    b = bulletins.draft(region["operator"], "quarterly", COUNTY, PERIOD)
    page = client_for("ev").get(f"/bulletins/{b.pk}/").content.decode()
    facts = narrative.Facts.from_json(b.facts)
    links = [(p["text"][x["start"]:x["end"]], x["ref"]) for p in b.paragraphs for x in p.get("links", [])]
    assert len(links) > 10
    for words, ref in links:
        indicator, unit = ref.split("@")
        assert f'href="/unit/{unit}/indicators/{indicator}/?period={PERIOD}">{words}</a>' in page, (words, ref)
    # the lagging township's figure goes to the township's own drill-down
    gao = next(f for f in facts.figures if f.place == "高塘乡" and f.indicator == "H3")
    assert f'href="/unit/{gao.unit_code}/indicators/H3/?period={PERIOD}">高塘乡0.00%</a>' in page


@pytest.fixture
def live_region(transactional_db, fast_passwords):
    return make_bulletin_region()


def test_in_the_browser_a_figure_of_the_rectification_report_opens_its_drill_down(chromium, live_server, live_region,
                                                                                 tmp_path):
    from tests.web_fixtures import browser_as

    b = bulletins.draft(live_region["operator"], "rectification", COUNTY, PERIOD, issued_on=dt.date(2025, 8, 28))
    gao = next(f for f in narrative.Facts.from_json(b.facts).figures if f.place == "高塘乡" and f.indicator == "H3")
    with browser_as(chromium, live_server, "ev") as (page, offsite):
        page.goto(f"{live_server.url}/bulletins/{b.pk}/")
        page.wait_for_load_state("networkidle")
        assert page.locator("h1.bulletin-title").inner_text() == b.title
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1366, f"the page scrolls sideways at 1366 px ({width})"
        page.locator("a.figure-link").first.scroll_into_view_if_needed()  # the figures, not the letterhead
        page.screenshot(path=str(screenshot_path(tmp_path, "bulletin-rectification-preview")))
        # the lagging township's H3 rate, in the text, opens that township's H3 drill-down for the period
        href = f"/unit/{gao.unit_code}/indicators/H3/?period={PERIOD}"
        page.locator(f'a.figure-link[href="{href}"]', has_text="高塘乡0.00%").first.click()
        page.wait_for_load_state("networkidle")
        assert page.url.endswith(f"/unit/{gao.unit_code}/indicators/H3/?period={PERIOD}")
        assert "高塘乡" in page.locator("body").inner_text()
        assert offsite == []


def test_funds_staffing_and_supervision_fill_their_parts(region):
    """The three providers wired by the funds ledger (ADR 032) and the supervision app (ADR 034), read as of the
    period's last day (2025-06-30). Hand-worked:
    - funds: allocated 1,000,000, arrived 800,000, disbursed 300,000 + 100,000 to the townships, nothing spent →
      到位率 80.00%, 拨付率 40.00%, 支出率 0.00%;
    - staffing: 蒲亭镇 establishment 100 with 30 vacancies on 31 March, 25 on 30 June → the county's 缺编数 25
      (减少5个) and 空编率 25.00%, 30.00% the period before (下降5.00％);
    - supervision: period 5, two items; 高塘乡's rectified on 10 June, 蒲亭镇's deadline 31 May passed → found 2,
      fixed 1, overdue 1, within deadline 0, 蒲亭镇 named."""
    from gongwei.service import access, base_data
    from gongwei.service import funds as sf
    from gongwei.service import supervision as sv

    op = access.operator()
    puting, gaotang = "360426100000", "360426200000"
    for kind, amount, date, recipient in (("allocation", "1000000", "2025-01-10", ""),
                                          ("arrival", "800000", "2025-02-01", ""),
                                          ("disbursement", "300000", "2025-03-01", puting),
                                          ("disbursement", "100000", "2025-04-01", gaotang)):
        sf.record_flow(op, kind=kind, year=2025, item="basic", level="central", org=COUNTY, amount=amount,
                       date=date, doc_no="德卫拨 01", recipient=recipient)
    base_data.record(op, puting, "2025-03-31", {"establishment": "100", "vacancies": "30"}, source="编办核定文件")
    base_data.record(op, puting, "2025-06-30", {"vacancies": "25"}, source="县卫健局统计表")
    r = sv.create_round(op, COUNTY, title="第五期督导", period_no=5, start_date="2025-04-01", methods=["phone"],
                        leader="王局长", units=[puting, gaotang])
    sv.add_item(op, r.pk, org=puting, problem="档案不全", owner="院长", deadline="2025-05-31")
    fixed = sv.add_item(op, r.pk, org=gaotang, problem="随访不规范", owner="院长", deadline="2025-06-15")
    sv.set_status(op, fixed.pk, "rectified", on="2025-06-10")

    text = "\n".join(p["text"] for p in bulletins.draft(op, "rectification", COUNTY, PERIOD).paragraphs)
    assert "基本公共卫生服务资金到位率80.00%、拨付率40.00%、支出率0.00%。" in text
    assert "缺编数25（较上期减少5个）" in text and "空编率25.00%（较上期下降5.00％）" in text
    assert "第五期督导发现问题2个，已整改1个，逾期未整改1个，尚在整改期限内0个。存在逾期未整改问题的有：蒲亭镇" in text


# --- the annual evaluation bulletin -----------------------------------------------------------------------------
def test_annual_evaluation_bulletin_reads_its_round_and_attaches_both_tables(year_region, tmp_path, monkeypatch):
    """Seed 001's annual bulletin: the year's evaluation round of the townships, then the programs' figures, the
    problems and 下一步; 附件1 绩效评价情况表 and 附件2 各单位问题列表 from the round, frozen with the bulletin.
    Hand-worked round (two manual leaves): 蒲亭镇 A1 60/60 and no verified problem → 100; 高塘乡 A1 50/60 and two
    problems at 10 points each on B1 (40 − 20 = 20) → 70. Average 85, one at or above 90, none below 60; both lost
    points are 高塘乡's (A1 10, B1 20)."""
    from openpyxl import load_workbook

    from gongwei.service import access
    from gongwei.service import evaluation as sev
    from gongwei.spec import evaluation as se
    from gongwei.spec.evaluation import Item, Method, Scheme
    from gongwei.spec.rules import Source

    src = Source("test scheme [U]", "U")
    scheme = Scheme("ann-2025", "年度测试考核方案", 2025, 100, source=src, items=(
        Item("A", "组织管理", 60, source=src, children=(Item("A1", "培训督导", 60, method=Method.MANUAL, source=src),)),
        Item("B", "服务效果", 40, source=src, children=(
            Item("B1", "现场核查问题", 40, method=Method.DEDUCT_PER_FINDING, per_finding=10, source=src),)),
    ))
    monkeypatch.setattr(se, "SCHEMES", (*se.SCHEMES, scheme))
    se.schemes.cache_clear()
    actor = year_region["operator"]
    try:
        # no round yet: the evaluation part says so, and the bulletin has no evaluation attachments
        first = bulletins.draft(actor, "annual", COUNTY, "2025", issued_on=dt.date(2026, 1, 20))
        assert "本年度无绩效评价数据。" in "\n".join(p["text"] for p in first.paragraphs)
        assert first.facts["evaluation"] is None

        ev = access.for_user(year_region["users"]["ev"])
        rnd = sev.create_round(ev, "ann-2025", 2025, "year_end", COUNTY)
        puting, gaotang = "360426100000", "360426200000"
        for org, a1, b1 in ((puting, 60, 0), (gaotang, 50, 2)):
            sev.set_manual(ev, rnd.pk, org, "A1", a1, "培训记录")
            sev.set_manual(ev, rnd.pk, org, "B1", b1, "入户核查")
        sev.score_round(ev, rnd.pk)

        b = bulletins.draft(actor, "annual", COUNTY, "2025", issued_on=dt.date(2026, 1, 20))
    finally:
        se.schemes.cache_clear()
    assert b.title == "德安县卫生健康局关于2025年度基本公共卫生服务项目绩效评价情况的通报"
    text = "\n".join(p["text"] for p in b.paragraphs)
    assert ("2025年按《年度测试考核方案》对2个单位进行了绩效评价，平均得分85分；90分及以上1个，60分以下0个。"
            "得分最高的是蒲亭镇（100分），最低的是高塘乡（70分）。") in text
    assert "失分较多的项目有：培训督导（1个单位失分）；现场核查问题（1个单位失分）。各单位失分情况见附件2。" in text
    checked, _, lagging = check_every_figure(b, year_region, "2025", "2024")
    assert checked >= 5 and lagging >= 1
    ev_facts = b.facts["evaluation"]
    assert [(u["name"], u["score"], u["rank"]) for u in ev_facts["units"]] == [("蒲亭镇卫生院", 100, 1),
                                                                                ("高塘乡卫生院", 70, 2)]
    assert sorted((p["item"], p["lost"]) for p in ev_facts["problems"]) == [("A1 培训督导", 10), ("B1 现场核查问题", 20)]
    texts = _docx_and_pdf(b, tmp_path, "annual")
    assert "附件1" in texts and "附件2" in texts
    wb = load_workbook(bulletins.file(actor, b.pk, "xlsx"))
    table = [[c.value for c in row] for row in wb["绩效评价情况表"].iter_rows(min_row=3)]
    assert [(r[2], r[3]) for r in table] == [("蒲亭镇卫生院", 100), ("高塘乡卫生院", 70)]
    problems = [[c.value for c in row] for row in wb["各单位问题列表"].iter_rows(min_row=2)]
    assert len(problems) == 2 and all(r[0] == "高塘乡卫生院" and r[3] for r in problems)
    # a later round of the same year (蒲亭镇 now 50/60 → 90) does not change this bulletin when it is regenerated:
    # it keeps the round it was drafted from; a new draft reads the newer round
    try:
        ev = access.for_user(year_region["users"]["ev"])
        later = sev.create_round(ev, "ann-2025", 2025, "year_end", COUNTY)
        for org, a1 in ((puting, 50), (gaotang, 50)):
            sev.set_manual(ev, later.pk, org, "A1", a1, "复评")
            sev.set_manual(ev, later.pk, org, "B1", 0, "复评")
        sev.score_round(ev, later.pk)
        again = bulletins.regenerate(actor, b.pk)
        fresh = bulletins.draft(actor, "annual", COUNTY, "2025", issued_on=dt.date(2026, 1, 21))
    finally:
        se.schemes.cache_clear()
    assert again.facts["evaluation"] == b.facts["evaluation"] and again.paragraphs == b.paragraphs
    assert fresh.facts["evaluation"]["round"] == later.pk
    assert "平均得分90分" in "\n".join(p["text"] for p in fresh.paragraphs)
