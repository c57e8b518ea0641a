"""The quarterly progress bulletin end to end on the small region (tests/web_fixtures.py): drafted from STORED
results, every figure in its text equal to the engine's, every named lagging unit one that misses its target,
opened with python-docx, converted to PDF with LibreOffice, its first page rendered to PNG; frozen, reproducible,
locked once published; the command line."""

from __future__ import annotations

import re
import shutil
import subprocess

import pyarrow as pa
import pytest

from gongwei.bulletins import narrative, numbers, pdf, render
from gongwei.bulletins import template as templates
from gongwei.cli.main import main
from gongwei.service import bulletins
from gongwei.service.access import for_user
from gongwei.service.errors import BadRequest, NotReady, Refused
from tests.ci_policy import not_available
from tests.shared_data import shared_data
from tests.web_fixtures import COUNTY, OTHER_TOWNSHIP, _dashboard_data, make_region, screenshot_path

PERIOD, PREVIOUS = "2025Q2", "2025Q1"


def make_bulletin_region(periods=(PREVIOUS, PERIOD)) -> dict:
    """The dashboard region (2025 follow-ups tell the townships apart) with the quarterly template's indicators
    and QC tallies stored for ``periods`` — what the nightly job and `gongwei qc` would have stored."""
    from gongwei.service import results, snapshots
    from gongwei.spec.periods import parse

    t = templates.load("quarterly")
    made = make_region(periods=periods, codes=t.indicators, prepare=_bulletin_data)
    eng = snapshots.engine(made["snapshot"].folder)
    for p in periods:
        results.qc_tally(eng, parse(p), t.qc_rules)
    return made


ARM_GAP = ("36042610020100002", "36042610020200003", "36042620020100002")  # two in 蒲亭镇, one in 高塘乡


def _bulletin_data(made: dict) -> None:
    """The dashboard's follow-ups, and three exams in May 2025 whose arms differ by 20 mmHg (QC rule F-03)."""
    from gongwei.records import entry

    _dashboard_data(made)
    exams = [dict(encounter_no=f"X25-{no}", resident=no, org_unit=made["residents"][no]["managing_unit"],
                  service_date="2025-05-20", trigger="elderly", height="160", weight="60", waist="80", pulse="72",
                  bmi="23.4", sbp_left="150", dbp_left="85", sbp_right="130", dbp_right="80") for no in ARM_GAP]
    entry.submit({"health_examinations": pa.table({k: [e[k] for e in exams] for k in exams[0]})},
                 actor="test", kind="synth")


@shared_data
def region():
    """Built once for the module; each test starts from it as built (tests/shared_data.py)."""
    return make_bulletin_region()


def _stored(made) -> dict[tuple[str, str], tuple[int, int | None]]:
    """(indicator, unit code) → (numerator, denominator) straight from the results store."""
    from gongwei.engine.orgs import OrgTree
    from gongwei.service import results
    from gongwei.spec.periods import parse

    snap = made["snapshot"]
    tree = OrgTree.load(snap)
    t: pa.Table = results.stored_indicators(snap.id, parse(PERIOD))
    return {(r["indicator"], tree.code[r["org_unit_id"]]): (r["numerator"], r["denominator"]) for r in t.to_pylist()}


def test_every_figure_in_the_text_is_the_engines_and_every_lagging_unit_misses_its_target(region):
    b = bulletins.draft(region["operator"], "quarterly", COUNTY, PERIOD)
    facts = narrative.Facts.from_json(b.facts)
    stored = _stored(region)
    # the frozen facts are the store's figures, unit by unit
    assert facts.figures
    for f in facts.figures:
        assert (f.numerator, f.denominator) == stored[(f.indicator, f.unit_code)], f.key
        assert f.rate == (f.numerator / f.denominator if f.denominator else None)
    by_key = {f.key: f for f in facts.figures}
    by_place = {(f.indicator, f.place): f for f in facts.figures}
    checked = lagging = 0
    for p in b.paragraphs:
        if not p["refs"]:
            continue
        cited = [by_key[k] for k in p["refs"]]
        allowed = ({numbers.percent(f.rate) for f in cited} | {f"{f.target}" for f in cited if f.target}
                   | {f"{numbers.points(abs(f.change))}个百分点" for f in cited if f.change is not None})
        for pct in re.findall(r"\d+\.\d{2}%", p["text"]):
            assert any(pct in a for a in allowed), (pct, p["text"])
            checked += 1
        counts = {numbers.count(n) for f in cited for n in (f.numerator, f.denominator) if n is not None}
        for n in re.findall(r"(\d+(?:\.\d{2}万)?)[人份]", p["text"]):
            assert n in counts, (n, p["text"])
            checked += 1
        names_of = {f.name: f.indicator for f in cited}
        current = p["indicator"]
        for sentence in p["text"].split("。"):
            said = [code for name, code in names_of.items() if f"{name}为" in sentence or f"{name}未达到" in sentence]
            current = said[0] if said else current
            named = re.search(r"(?:其中|未达到目标值的有)(.+?)(?:未达到目标值|，要)", sentence)
            for name, pct in re.findall(r"([^、\d]+?)(\d+\.\d{2}%)", named[1] if named else ""):
                f = by_place[(current, name)]
                assert f.met is False and f.rate < f.target_value and numbers.percent(f.rate) == pct, sentence
                lagging += 1
    assert checked > 0 and lagging > 0  # the region has a lagging township (高塘乡: no follow-up in 2025)
    text = "\n".join(p["text"] for p in b.paragraphs)
    assert "其中高塘乡0.00%未达到目标值" in text
    # QC: the counts are the scorecard's, the places those where the findings are
    from gongwei.service.quality import qc_scorecard

    t = templates.load("quarterly")
    card = qc_scorecard(region["operator"], COUNTY, PERIOD, rules=",".join(t.qc_rules)).card
    root = card.root
    assert {q.rule: q.findings for q in facts.qc} == {c: card.figure(root, "rule", c)["findings"] for c in t.qc_rules}
    qc_text = next(p["text"] for p in b.paragraphs if "比较集中的有" in p["text"])
    said = {int(n) for n in re.findall(r"(\d+)条", qc_text)}
    assert said <= {q.findings for q in facts.qc} | {abs(q.change) for q in facts.qc if q.change is not None}
    gap = next(q for q in facts.qc if q.rule == "F-03")
    assert gap.findings == len(ARM_GAP) and gap.clusters == ["蒲亭镇", "高塘乡"]
    assert "“左右臂血压差 >10 mmHg”3条（较上期增加3条），比较集中的有：蒲亭镇、高塘乡" in text
    assert b.document_number.endswith(f"〔{b.issued_on.year}〕1号")
    assert b.title == "德安县2025年第二季度基本公共卫生服务项目工作进展情况的通报"


def test_regenerating_from_the_same_snapshot_gives_identical_figures_and_publishing_locks(region, tmp_path):
    actor = region["operator"]
    b = bulletins.draft(actor, "quarterly", COUNTY, PERIOD)
    b = bulletins.edit(actor, b.pk, 1, "现将有关情况通报如下：", expected_version=b.version)
    with pytest.raises(BadRequest, match="已被修改"):
        bulletins.edit(actor, b.pk, 1, "旧版本的修改", expected_version=1)
    before = b.facts
    again = bulletins.regenerate(actor, b.pk, expected_version=b.version)
    assert again.facts == before
    assert again.paragraphs == narrative.compose(templates.parse(again.template), narrative.Facts.from_json(before))
    done = bulletins.publish(actor, b.pk, folder=tmp_path / "issued")
    assert done.status == "published" and {"docx", "xlsx"} <= set(done.files)
    with pytest.raises(Refused, match="已.*发布"):
        bulletins.edit(actor, b.pk, 1, "发布后再改", expected_version=done.version)
    with pytest.raises(Refused, match="已.*发布"):
        bulletins.regenerate(actor, b.pk)
    with pytest.raises(Refused, match="已.*发布"):
        bulletins.publish(actor, b.pk)
    assert [h["action"] for h in done.history] == ["draft", "edit", "regenerate", "publish"]


def test_without_stored_results_the_bulletin_names_the_command(db, fast_passwords):
    made = make_region(periods=(PERIOD,), codes=["H3"])
    with pytest.raises(NotReady, match=f"gongwei indicators --org {COUNTY} --period {PERIOD}"):
        bulletins.draft(made["operator"], "quarterly", COUNTY, PERIOD)
    from gongwei.service import results, snapshots
    from gongwei.spec.periods import parse

    results.indicators(snapshots.engine(made["snapshot"].folder), parse(PERIOD), templates.load("quarterly").indicators)
    with pytest.raises(NotReady, match=f"gongwei qc --org {COUNTY} --period {PERIOD}"):
        bulletins.draft(made["operator"], "quarterly", COUNTY, PERIOD)
    with pytest.raises(BadRequest, match="不是季度"):
        bulletins.draft(made["operator"], "quarterly", COUNTY, "2025")


def test_a_unit_outside_the_scope_is_refused(region):
    from django.contrib.auth import get_user_model

    township_staff = for_user(get_user_model().objects.get(username="ts"))
    with pytest.raises(Refused):
        bulletins.draft(township_staff, "quarterly", COUNTY, PERIOD)
    with pytest.raises(Refused):
        bulletins.draft(township_staff, "quarterly", OTHER_TOWNSHIP, PERIOD)


def test_the_docx_opens_and_converts_to_pdf_and_its_first_page_is_an_artefact(region, tmp_path):
    import datetime as dt

    import docx

    # a fixed date: the page is docs/bulletins/quarterly-p1.png under `make bulletin-samples`
    b = bulletins.draft(region["operator"], "quarterly", COUNTY, PERIOD, issued_on=dt.date(2025, 8, 28))
    files = render.write_all(b, tmp_path / "quarterly.docx", with_pdf=False)
    doc = docx.Document(str(files["docx"]))
    texts = [p.text for p in doc.paragraphs]
    assert b.title in texts and b.document_number in texts
    assert any(t.startswith("一、工作进度和存在问题") for t in texts)
    assert any(t.startswith("（一）居民健康档案管理") for t in texts)
    assert len(doc.inline_shapes) >= 1  # the H3 ranking chart
    assert len(doc.tables) == len(templates.load("quarterly").indicators)
    assert doc.tables[0].rows[0].cells[0].text == "单位"
    title = next(p for p in doc.paragraphs if p.text == b.title)
    assert title.alignment == 1  # centred
    from docx.oxml.ns import qn

    assert title.runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) == "方正小标宋简体"

    from openpyxl import load_workbook

    ws = load_workbook(files["xlsx"])["进展数据"]
    assert ws.freeze_panes == "A3" and ws["A2"].value == "指标代码"

    if not pdf.available():
        not_available(f"未安装 LibreOffice（{pdf.PACKAGE}），无法检查 DOCX 能否打开并转为 PDF；请运行 make install")
    out = pdf.convert(files["docx"])
    assert out.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftoppm") is None:
        not_available("未安装 pdftoppm（poppler-utils），无法把 PDF 首页转为图片；请运行 make install")
    png = screenshot_path(tmp_path, "quarterly-p1")
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(out),
                    str(png.with_suffix(""))], check=True, timeout=120)
    assert png.stat().st_size > 10_000


def test_the_command_line(region, tmp_path, capsys):
    out = tmp_path / "q2.docx"
    assert main(["bulletin", "--type", "quarterly", "--org", COUNTY, "--period", PERIOD, "--out", str(out),
                 "--no-pdf", "--issued-on", "2025-08-28"]) == 0
    printed = capsys.readouterr()
    assert str(out) in printed.out and str(out.with_suffix(".xlsx")) in printed.out
    assert "〔2025〕1号" in printed.err
    assert main(["bulletin", "--type", "quarterly", "--org", COUNTY, "--period", "2025", "--out", str(out)]) == 2
    assert "不是季度" in capsys.readouterr().err
    assert main(["bulletin", "--type", "quarterly", "--org", COUNTY, "--period", "2025Q3", "--out", str(out)]) == 2
    assert "gongwei indicators" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["bulletin", "--type", "weekly", "--org", COUNTY, "--period", PERIOD, "--out", str(out)])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["bulletin", "--help"])
    assert exc.value.code == 0
