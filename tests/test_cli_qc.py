"""``gongwei qc`` on the hand-built city of tests/test_scorecard.py (figures worked out there):

德安县 6 findings of 16 records (375.0‰; 2024: 7 of 13), 永修县 1 of 9 (111.1‰; 2024: 0 of 6), the city 7 of 25
(280.0‰; 2024: 7 of 19 = 368.4‰). ID-01 clusters in 德安县蒲亭镇 (2) and 德安县林泉乡 (1), villages 城东村 (2)
and 林泉村 (1).
"""

from __future__ import annotations

import json

import openpyxl
import pytest

from gongwei.cli.main import main
from gongwei.quality.models import Finding, FindingStatus
from tests.test_scorecard import CHENGNAN, CITY, DEAN, YONGXIU, build_snapshot, two_rules  # noqa: F401

pytestmark = pytest.mark.django_db
RULES = "ID-01,F-03"


@pytest.fixture
def snap(tmp_path, settings, two_rules):  # noqa: F811
    settings.DATA_DIR = tmp_path
    return build_snapshot(tmp_path / "snapshots")


def qc(snap, *extra: str) -> int:
    return main(["qc", "--org", CITY, "--period", "2025", "--snapshot", str(snap.folder), "--rule", RULES, *extra])


def test_table_reads_like_a_bulletin(snap, capsys):
    assert qc(snap, "--min-records", "3") == 0
    text = capsys.readouterr().out
    assert "九江市（360400000000）数据质量记分卡（期间 2025，对比 2024" in text
    assert "共检查记录 25 条（在册档案 14、健康体检 11），问题 7 个，每千条 280.0，与上期持平（每千条 368.4 → 280.0）" in text
    assert "按级别：警告 7（每千条 280.0）" in text
    # one block per county, in code order (永修县 360425 before 德安县 360426)
    assert "一、永修县：问题 1 个，每千条 111.1，较上期增加 1（每千条 0.0 → 111.1），在 2 个县（区）中排第 1" in text
    assert ("二、德安县：问题 6 个，每千条 375.0，较上期减少 1（每千条 538.5 → 375.0），在 2 个县（区）中排第 2"
            in text)
    dean = text[text.index("二、德安县"):text.index("问题集中")]
    identity = next(line for line in dean.splitlines() if line.startswith("身份信息"))
    assert identity.split() == ["身份信息", "3", "9", "333.3", "4", "-1", "2/2"]
    fabrication = next(line for line in dean.splitlines() if line.startswith("疑似造假"))
    assert fabrication.split() == ["疑似造假", "3", "7", "428.6", "3", "0", "2/2"]
    assert "主要问题：身份证号为空 3（每千条 333.3，较上期减少 1）" in dean
    clusters = text[text.index("问题集中"):]
    assert ("身份证号为空（ID-01）3 个，主要集中在乡镇：德安县蒲亭镇（2 个）、德安县林泉乡（1 个）；"
            "村（社区）：德安县蒲亭镇城东村（2 个）、德安县林泉乡林泉村（1 个）") in clusters
    # at least 3 records examined: 林泉村 (3 residents) competes on rate, its 2 exams do not
    assert "问题率最高的是乡镇：德安县蒲亭镇（每千条 333.3）、德安县林泉乡（每千条 333.3）" in clusters
    assert "村（社区）：德安县蒲亭镇城东村（每千条 666.7）、永修县涂埠镇城南村（每千条 250.0）" in clusters


def test_json_and_xlsx(snap, capsys, tmp_path):
    assert qc(snap, "--format", "json") == 0
    payload = json.loads(capsys.readouterr().out)
    assert (payload["org"], payload["period"], payload["compare"]) == (CITY, "2025", "2024")
    assert [r["code"] for r in payload["rules"]] == ["ID-01", "F-03"]
    assert payload["examined"] == {"residents": 14, "health_examinations": 11}
    dean = next(f for f in payload["figures"] if f["code"] == DEAN and f["group_kind"] == "all")
    assert (dean["findings"], dean["examined"], dean["previous_findings"], dean["change"], dean["rank"],
            dean["siblings"], dean["parent"]) == (6, 16, 7, -1, 2, 2, CITY)
    assert dean["rate"] == pytest.approx(375.0)
    first = next(c for c in payload["clusters"] if (c["rule"], c["level"], c["by"], c["position"]) == (
        "ID-01", "village", "count", 1))
    assert (first["label"], first["findings"]) == ("德安县蒲亭镇城东村", 2)
    assert (tmp_path / "results" / payload["snapshot"] / "2025").is_dir()
    # without --rule: every rule that has an evaluator (here the two)
    assert main(["qc", "--org", CITY, "--period", "2025", "--snapshot", str(snap.folder), "--format", "json"]) == 0
    assert [r["code"] for r in json.loads(capsys.readouterr().out)["rules"]] == ["ID-01", "F-03"]

    out = tmp_path / "qc.xlsx"
    assert qc(snap, "--format", "xlsx", "--out", str(out)) == 0
    book = openpyxl.load_workbook(out)
    sheet = book["记分卡"]
    assert sheet["A1"].value == "九江市 数据质量记分卡" and sheet["B1"].value == "期间 2025"
    assert [c.value for c in sheet[2]][:10] == ["单位代码", "单位", "层级", "上级单位代码", "分组类型", "分组", "名称",
                                                "问题数", "检查记录数", "每千条"]
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    yx = next(r for r in rows if r[0] == YONGXIU and r[5] == "F-03")
    assert yx[1:9] == ("永修县", "county", CITY, "规则", "F-03", "左右臂血压差 >10 mmHg", 1, 4)
    assert yx[9] == pytest.approx(250.0) and yx[10:12] == (0, 2) and yx[13] == 1 and yx[15:17] == (1, 2)
    clusters = list(book["问题集中"].iter_rows(min_row=2, values_only=True))
    top_village = next(c for c in clusters if c[:5] == ("F-03", "左右臂血压差 >10 mmHg", "village", "问题数", 1))
    assert top_village[5:9] == ("360426100201", "德安县蒲亭镇城东村", 2, 3)


def test_store_keeps_the_ledger_for_the_subtree(snap, capsys):
    base = ["qc", "--period", "2025", "--snapshot", str(snap.folder), "--rule", RULES, "--store"]
    assert main([*base, "--org", YONGXIU]) == 0
    captured = capsys.readouterr()
    assert "发现 1 个问题；新增 1" in captured.err
    # its only township: named by its place, not ranked among one, no clusters to name
    assert "一、涂埠镇：问题 1 个，每千条 111.1，较上期增加 1（每千条 0.0 → 111.1）。" in captured.out
    assert "排第" not in captured.out and "问题集中" not in captured.out
    yongxiu = Finding.objects.get()
    assert (yongxiu.rule, yongxiu.record_no, yongxiu.org_unit.code) == ("F-03", "D1", CHENGNAN)
    assert main([*base, "--org", DEAN]) == 0
    assert "发现 6 个问题；新增 6，持续 0，重新出现 0，数据已修正（自动标记已整改） 0" in capsys.readouterr().err
    # evaluating 德安县 says nothing about 永修县: its finding stays open
    yongxiu.refresh_from_db()
    assert yongxiu.status == FindingStatus.OPEN and Finding.objects.count() == 7
    # gongwei findings takes the same path, for the whole region
    assert main(["findings", "--period", "2025", "--snapshot", str(snap.folder), "--rules", RULES]) == 0
    assert "发现 7 个问题；新增 0，持续 7" in capsys.readouterr().out


def test_bad_input_gets_a_clear_message(snap, capsys):
    assert main(["qc", "--org", CITY, "--period", "2025", "--snapshot", str(snap.folder), "--rule", "ID-99"]) == 2
    assert "未知的质控规则：ID-99" in capsys.readouterr().err
    assert main(["qc", "--org", CITY, "--period", "2025", "--snapshot", str(snap.folder), "--rule", "C-04"]) == 2
    assert "质控规则尚未实现：C-04" in capsys.readouterr().err
    assert qc(snap, "--format", "xlsx") == 2
    assert "xlsx 格式需要 --out" in capsys.readouterr().err
    assert main(["qc", "--org", "999", "--period", "2025", "--snapshot", str(snap.folder), "--rule", RULES]) == 2
    assert "机构代码 999 不存在" in capsys.readouterr().err
    assert main(["qc", "--org", CITY, "--period", "2025H1", "--snapshot", str(snap.folder)]) == 2
    assert "期间“2025H1”无法识别" in capsys.readouterr().err


def test_compare_snapshot_and_quarters(snap, capsys, tmp_path):
    # the previous period evaluated on another snapshot (here: the same data, so the same figures)
    assert qc(snap, "--period", "2025Q2", "--compare-snapshot", str(snap.folder), "--format", "json") == 0
    captured = capsys.readouterr()
    payload = json.loads(captured.out)
    assert payload["compare"] == "2025Q1" and "对比期间 2025Q1 使用快照" in captured.err
    # Q2 (Jan–Jun): exams X01–X03, X05–X12 less the void X04; Q1 (Jan–Mar): X01, X05, X06, X09–X12
    city_f03 = next(f for f in payload["figures"] if f["code"] == CITY and f["group"] == "F-03")
    assert (city_f03["findings"], city_f03["examined"], city_f03["previous_findings"],
            city_f03["previous_examined"]) == (4, 11, 2, 7)
