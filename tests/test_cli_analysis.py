"""The analysis commands on the hand-built hypertension region (expected values in test_engine_hypertension)."""

from __future__ import annotations

import json

import openpyxl
import pytest

from gongwei.cli.main import main
from tests.engine_fixtures import build_snapshot

pytestmark = pytest.mark.django_db
COUNTY = "360426000000"


def test_indicators_table_json_and_xlsx(tmp_path, capsys, settings):
    settings.DATA_DIR = tmp_path
    snap = build_snapshot(tmp_path / "snapshots")
    assert main(["indicators", "--org", COUNTY, "--period", "2025", "--snapshot", str(snap.folder),
                 "--indicators", "H2,H3"]) == 0
    text = capsys.readouterr().out
    # 江西 (36…) has no target in the rulebook: none is borrowed from another province, and none is judged
    assert "H2 高血压患者基层规范管理服务率：50.00%（无目标）" in text
    assert "未达标" not in text
    assert main(["indicators", "--org", COUNTY, "--period", "2025", "--snapshot", str(snap.folder), "--format", "json",
                 "--indicators", "H3"]) == 0
    payload = json.loads(capsys.readouterr().out)
    county = next(f for f in payload["figures"] if f["org"] == COUNTY)
    assert (county["numerator"], county["denominator"]) == (3, 4)
    # H3 has a national figure (控制率 50%, [htn-dm-formulas-old]): region-less, it applies to Jiangxi too; 3/4 = 75% meets it
    assert (county["target"]["region"], county["target"]["year"], county["target_text"], county["met"]) == (
        "", 2013, ">=50.00%", True)
    out = tmp_path / "ind.xlsx"
    assert main(["indicators", "--org", COUNTY, "--period", "2025", "--snapshot", str(snap.folder), "--format", "xlsx",
                 "--out", str(out), "--indicators", "H1,H2,H3,H4"]) == 0
    rows = list(openpyxl.load_workbook(out).active.iter_rows(min_row=3, values_only=True))
    h2 = next(r for r in rows if r[0] == "H2" and r[2] == COUNTY)
    assert (h2[4], h2[5], h2[7], h2[8]) == (2, 4, "无目标", None)
    stored = list((tmp_path / "results" / snap.id / "2025").glob("spec-*.parquet"))
    assert len(stored) == 1  # results kept per snapshot × period × rulebook version


def test_gaps_and_worklist(tmp_path, capsys, settings):
    settings.DATA_DIR = tmp_path
    snap = build_snapshot(tmp_path / "snapshots")
    assert main(["gaps", "--indicator", "H2", "--org", COUNTY, "--period", "2025", "--snapshot", str(snap.folder)]) == 0
    text = capsys.readouterr().out
    assert "缺口人员共 2 人" in text and "本期有效面对面随访 3 次，少于应随访 4 次" in text and "本年未做健康体检" in text
    assert main(["worklist", "--org", "360426100202", "--as-of", "2025-08-15", "--snapshot", str(snap.folder)]) == 0
    assert "血压控制不满意2周内复诊" in capsys.readouterr().out


def test_bad_input_gets_a_clear_message(tmp_path, capsys, settings):
    settings.DATA_DIR = tmp_path
    snap = build_snapshot(tmp_path / "snapshots")
    assert main(["indicators", "--org", COUNTY, "--period", "2025H1", "--snapshot", str(snap.folder)]) == 2
    assert "期间“2025H1”无法识别" in capsys.readouterr().err
    assert main(["indicators", "--org", "999", "--period", "2025", "--snapshot", str(snap.folder)]) == 2
    assert "机构代码 999 不存在" in capsys.readouterr().err


def test_every_figure_shows_the_period_it_was_counted_over(tmp_path, capsys, settings):
    """Asked for 2025, M1 is counted over the maternal and child year 2025MCY (1 Oct 2024 – 30 Sep 2025 [mch-stat-year])
    and R1 over the calendar year: the table, JSON, xlsx and drill-down say so for each figure (women of
    tests/engine_fixtures_mch.py: M1 in the county = W1, W3, W4 of 6 live births, see test_engine_maternal)."""
    from tests.engine_fixtures_mch import build_snapshot as build_mch

    settings.DATA_DIR = tmp_path
    snap = build_mch(tmp_path / "snapshots", ("maternal",))
    args = ["indicators", "--org", COUNTY, "--period", "2025", "--snapshot", str(snap.folder), "--indicators", "M1,R1"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "期间 2025，各指标按其统计年度" in text
    assert "M1 早孕建册率：50.00%" in text and "统计期间 2025MCY（2024-10-01～2025-09-30）" in text
    assert "统计期间 2025（2025-01-01～2025-12-31）" in text  # R1
    assert any(line.startswith("德安县") and " 2025MCY " in line for line in text.splitlines())
    assert main([*args, "--format", "json"]) == 0
    figures = {f["indicator"]: f for f in json.loads(capsys.readouterr().out)["figures"] if f["org"] == COUNTY}
    assert (figures["M1"]["period"], figures["M1"]["period_start"], figures["M1"]["period_end"]) == (
        "2025MCY", "2024-10-01", "2025-09-30")
    assert (figures["M1"]["previous_period"], figures["R1"]["period"]) == ("2024MCY", "2025")
    out = tmp_path / "mch.xlsx"
    assert main([*args, "--format", "xlsx", "--out", str(out)]) == 0
    capsys.readouterr()
    sheet = openpyxl.load_workbook(out).active
    header = [c.value for c in sheet[2]]
    m1 = next(r for r in sheet.iter_rows(min_row=3, values_only=True) if r[0] == "M1" and r[2] == COUNTY)
    assert m1[header.index("统计期间")] == "2025MCY" and (m1[4], m1[5]) == (3, 6)
    # forcing the calendar year: M1 over 1 Jan – 31 Dec 2025 (the same three women delivered in 2025)
    assert main(["indicators", "--org", COUNTY, "--period", "2025CY", "--snapshot", str(snap.folder),
                 "--indicators", "M1", "--format", "json"]) == 0
    m1 = next(f for f in json.loads(capsys.readouterr().out)["figures"] if f["org"] == COUNTY)
    assert (m1["period"], m1["numerator"], m1["denominator"]) == ("2025CY", 3, 6)
    assert main(["gaps", "--indicator", "M1", "--org", COUNTY, "--period", "2025", "--snapshot", str(snap.folder)]) == 0
    assert "M1 德安县（360426000000） 2025MCY（妇幼卫生统计年度 2024-10-01～2025-09-30）缺口人员共 1 人" in capsys.readouterr().out


def test_codes_in_any_case_and_format_errors_before_any_work(tmp_path, capsys, settings, monkeypatch):
    settings.DATA_DIR = tmp_path
    snap = build_snapshot(tmp_path / "snapshots")
    # indicator codes are matched whatever their case (the catalogue's spelling is shown)
    assert main(["indicators", "--org", COUNTY, "--period", "2025", "--snapshot", str(snap.folder),
                 "--indicators", "h2"]) == 0
    assert "H2 高血压患者基层规范管理服务率：50.00%" in capsys.readouterr().out
    assert main(["gaps", "--indicator", "h2", "--org", COUNTY, "--period", "2025", "--snapshot", str(snap.folder)]) == 0
    assert "缺口人员共 2 人" in capsys.readouterr().out
    assert main(["indicators", "--org", COUNTY, "--period", "2025", "--snapshot", str(snap.folder),
                 "--indicators", "h2,zz9"]) == 2
    assert "未知的指标代码：zz9" in capsys.readouterr().err

    # xlsx without --out is refused before a snapshot is opened or anything is computed
    from gongwei.service import snapshots

    def no_engine(*args, **kwargs):
        raise AssertionError("opened an engine before checking the output format")

    monkeypatch.setattr(snapshots, "engine", no_engine)
    for command in (["indicators", "--period", "2025"], ["roster"]):
        assert main([*command, "--org", COUNTY, "--format", "xlsx", "--snapshot", str(snap.folder)]) == 2
        assert "xlsx 格式需要 --out 文件名" in capsys.readouterr().err
