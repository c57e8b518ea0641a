"""Bulletins without a database: the number formats, the template checks, and sentences that say only what the
figures support (docs/bulletins.md)."""

from __future__ import annotations

import pytest

from gongwei.bulletins import narrative, numbers
from gongwei.bulletins import template as templates
from gongwei.bulletins.narrative import Facts, FigureRow, QcRow


# --- numbers ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("n", "unit", "text"), [
    (8852, "人", "8852人"), (9999, "", "9999"), (10000, "", "1.00万"), (171200, "人", "17.12万人"),
    (1911700, "份", "191.17万份"), (1600, "份", "1600份"), (24255, "", "2.43万"), (0, "人", "0人"), (None, "", "—"),
])
def test_counts_in_wan_with_two_decimals(n, unit, text):
    assert numbers.count(n, unit) == text


@pytest.mark.parametrize(("rate", "text"), [
    (0.90144, "90.14%"), (0.90145, "90.15%"), (0.5, "50.00%"), (1.0, "100.00%"), (0.0, "0.00%"), (None, "—"),
    (2 / 3, "66.67%"),
])
def test_percentages_with_two_decimals(rate, text):
    assert numbers.percent(rate) == text


@pytest.mark.parametrize(("delta", "text"), [
    (0.0211, "较上期增长2.11个百分点"), (-0.005, "较上期下降0.50个百分点"), (0.00004, "与上期持平"),
    (-0.00004, "与上期持平"), (0.0, "与上期持平"), (None, None),
])
def test_change_in_percentage_points(delta, text):
    assert numbers.change(delta) == text


def test_headings_and_dates():
    import datetime as dt

    assert [numbers.heading_number(level, 2) for level in (1, 2, 3, 4)] == ["二、", "（二）", "2.", "（2）"]
    assert numbers.heading_number(1, 12) == "十二、"
    assert numbers.date(dt.date(2025, 6, 30)) == "2025年6月30日"
    assert narrative.target_words(0.62, ">=", "rate") == "≥62%"
    assert narrative.target_words(0.905, ">=", "rate") == "≥90.5%"
    assert narrative.target_words(1913, ">=", "count") == "≥1913人"
    assert narrative.target_words(0.05, "<=", "rate") == "≤5%"


# --- the template ------------------------------------------------------------------------------------------------
def test_the_quarterly_template_loads_and_names_known_codes():
    t = templates.load("quarterly")
    assert t.name == "季度工作进展情况通报"
    assert "H3" in t.indicators and "F-01" in t.qc_rules
    assert [s.heading for s in t.sections] == ["工作进度和存在问题", "下一步工作要求"]


def test_a_template_with_an_unknown_code_or_a_missing_pattern_is_refused():
    text = templates.load("quarterly").source
    with pytest.raises(templates.TemplateError, match="H99"):
        templates.parse(text.replace('indicator = "H6"', 'indicator = "H99"'))
    with pytest.raises(templates.TemplateError, match="lagging"):
        templates.parse(text.replace("lagging = ", "lagging_x = "))
    with pytest.raises(templates.TemplateError, match="不存在"):
        templates.load("weekly")


# --- sentences ----------------------------------------------------------------------------------------------------
def _row(code, unit, place, *, own=False, num=50, den=100, target=None, met=None, change=None) -> FigureRow:
    return FigureRow(code, "管理人群血压控制率", unit, place + "卫生院", place, own, num, den,
                     None if not den else num / den, None if target is None else f"≥{target * 100:g}%",
                     target, "国家" if target is not None else "", met, None, change)


def _facts(rows, *, previous=True, qc=()) -> Facts:
    return Facts("德安县", "360426000000", "county", 2025, 2, "2025Q2", "2025Q1", "2025-06-30", previous, list(rows),
                 list(qc))


def _text(facts: Facts) -> str:
    return "\n".join(p["text"] for p in narrative.compose(templates.load("quarterly"), facts))


def test_a_figure_with_target_change_lagging_units_in_order_and_sides_of_the_average():
    rows = [_row("H3", "360426000000", "德安县", own=True, num=60, den=100, target=0.5, met=True, change=0.0211),
            _row("H3", "1", "甲镇", num=20, den=100, target=0.5, met=False),
            _row("H3", "2", "乙镇", num=40, den=100, target=0.5, met=False),
            _row("H3", "3", "丙镇", num=90, den=100, target=0.5, met=True)]
    text = _text(_facts(rows))
    assert "管理人群血压控制率为60.00%（国家目标值为≥50%），较上期增长2.11个百分点。" in text
    assert "其中甲镇20.00%、乙镇40.00%未达到目标值" in text  # lowest first, only those that miss
    assert "高于德安县平均水平的有丙镇90.00%；低于德安县平均水平的有甲镇20.00%、乙镇40.00%。" in text
    assert "丙镇90.00%未达到" not in text and "丙镇90.00%、" not in text.split("未达到目标值")[0]


def test_nothing_is_said_that_the_figures_do_not_support():
    # no target: no target clause, nobody lagging, nobody "met"; no previous results: no change; one child: no
    # average comparison; no denominator: "no data"; QC without findings: says so
    rows = [_row("H3", "360426000000", "德安县", own=True, num=60, den=100),
            _row("H3", "1", "甲镇", num=20, den=100),
            _row("H6", "360426000000", "德安县", own=True, num=0, den=0)]
    rows[2].name = "高血压患者随访率（至少2次随访）"
    text = _text(_facts(rows, previous=False, qc=[QcRow("F-01", "体检数据雷同", 0, None, [])]))
    assert "目标值为" not in text and "未达到目标值" not in text and "均达到目标值" not in text
    assert "较上期" not in text.replace("本通报不作较上期比较", "") and "持平" not in text
    assert "平均水平" not in text
    assert "本期无高血压患者随访率（至少2次随访）数据。" in text
    assert "上期（2025年第一季度）无存储的计算结果，本通报不作较上期比较。" in text
    assert "本期所列质控规则未发现问题。" in text
    assert "体检数据雷同0条" not in text and "0条" not in text
    assert "提高数据质量" not in text  # its fixed text speaks of findings: left out when there are none


def test_qc_findings_with_their_places_and_change():
    rows = [_row("H3", "360426000000", "德安县", own=True)]
    qc = [QcRow("F-01", "体检数据雷同（6项中≥4项相同）", 495, -31300, ["蒲亭镇", "高塘乡"]),
          QcRow("F-03", "左右臂血压差 >10 mmHg", 12000, None, [])]
    text = _text(_facts(rows, qc=qc))
    assert "“体检数据雷同（6项中≥4项相同）”495条（较上期减少3.13万条），比较集中的有：蒲亭镇、高塘乡；" in text
    assert "“左右臂血压差 >10 mmHg”1.20万条。" in text
    assert "提高数据质量" in text


def test_a_group_without_data_says_so_once_and_a_base_is_not_repeated():
    rows = [_row("H6", "360426000000", "德安县", own=True, num=3, den=12),
            _row("H3", "360426000000", "德安县", own=True, num=6, den=12)]
    rows[0].name = "高血压患者随访率（至少2次随访）"
    text = _text(_facts(rows))
    assert text.count("管理高血压患者12人") == 1
    assert "至少随访2次3人，高血压患者随访率（至少2次随访）为25.00%。血压控制达标6人，管理人群血压控制率为50.00%" in text
    assert "本期无电子健康档案建档率、居民规范化电子健康档案覆盖率、有效建档率数据。" in text


def test_facts_round_trip_through_json():
    f = _facts([_row("H3", "1", "甲镇", target=0.5, met=False)], qc=[QcRow("F-01", "x", 3, 1, ["甲镇"])])
    assert Facts.from_json(f.to_json()) == f


# --- files without a database ----------------------------------------------------------------------------------
def _record(facts: Facts):
    import datetime as dt
    from types import SimpleNamespace

    t = templates.load("quarterly")
    words = facts.words()
    return SimpleNamespace(
        title=t.text["title"].format(**words), issuer=t.text["issuer"].format(**words), document_number="公卫通〔2025〕3号",
        snapshot_id="s1", snapshot_taken_at="2025-08-20T08:00:00", rulebook="r1", period=facts.period, kind="quarterly",
        org_code=facts.unit_code, issued_on=dt.date(2025, 8, 28), data_cutoff=dt.date(2025, 6, 30), template=t.source,
        facts=facts.to_json(), paragraphs=narrative.compose(t, facts))


def test_the_xlsx_keeps_a_formula_like_name_as_text_and_freezes_its_header(tmp_path):
    from openpyxl import load_workbook

    from gongwei.bulletins import workbook

    rows = [_row("H3", "360426000000", "德安县", own=True, target=0.5, met=True),
            _row("H3", "1", '=HYPERLINK("http://example.invalid","x")', target=0.5, met=False)]
    rows[1].unit_name = rows[1].place
    facts = _facts(rows, qc=[QcRow("F-01", "=1+1", 3, 1, ["甲镇"])])
    out = workbook.write(_record(facts), facts, tmp_path / "a.xlsx")
    wb = load_workbook(out)
    ws = wb["进展数据"]
    assert ws.freeze_panes == "A3"
    cell = next(c for c in ws["D"] if c.value and str(c.value).startswith("=HYPERLINK"))
    assert cell.data_type == "s"
    assert wb["质控问题"]["B2"].data_type == "s"
    assert ws["H3"].number_format == "0.00%"
    assert oct(out.stat().st_mode & 0o777) == "0o600"


def test_without_a_cjk_font_the_chart_names_the_package(monkeypatch):
    from gongwei.bulletins import charts

    pytest.importorskip("matplotlib")
    charts.cjk_font.cache_clear()
    monkeypatch.setattr(charts, "CJK_FAMILIES", ("No Such Font Family",))
    try:
        with pytest.raises(charts.ChartError, match="fonts-wqy-microhei"):
            charts.ranking_png("x", "德安县", "乡镇", [], None)
    finally:
        charts.cjk_font.cache_clear()


def test_a_ranking_chart_is_a_png(tmp_path):
    from gongwei.bulletins import charts

    pytest.importorskip("matplotlib")
    try:
        charts.cjk_font()
    except charts.ChartError as exc:
        from tests.ci_policy import not_available

        not_available(str(exc))
    rows = [_row("H3", str(i), f"{n}镇", num=n_, den=100, target=0.5, met=n_ >= 50)
            for i, (n, n_) in enumerate((("甲", 20), ("乙", 70), ("丙", 55)))]
    png = charts.ranking_png("管理人群血压控制率", "德安县", "乡镇", rows, 0.5)
    assert png.startswith(b"\x89PNG") and len(png) > 5000
