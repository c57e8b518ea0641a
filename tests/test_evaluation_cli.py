"""``gongwei evaluate``: the face parses, calls one use case and renders; bad input is one Chinese sentence, exit 2."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from gongwei.cli.main import main
from gongwei.evaluation import models as em
from tests.test_evaluation_rounds import COUNTY, GAOTANG, PUTING, region, scheme  # noqa: F401

pytestmark = pytest.mark.django_db


def test_help_lists_the_subcommands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for word in ("schemes", "create", "score", "manual", "publish", "export"):
        assert word in out


def test_schemes_are_listed(capsys):
    assert main(["evaluate", "schemes"]) == 0
    out = capsys.readouterr().out
    assert "subdistrict-2017" in out and "district-2023" in out and "项目执行" in out


def test_bad_input_exits_2_with_one_chinese_sentence(capsys):
    assert main(["evaluate", "create", "--scheme", "nope", "--year", "2025", "--kind", "year_end",
                 "--org", COUNTY]) == 2
    assert "考核方案 nope 不存在" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", "create", "--scheme", "x", "--year", "2025", "--kind", "monthly", "--org", COUNTY])
    assert exc.value.code == 2
    assert "不在可选范围内" in capsys.readouterr().err
    assert main(["evaluate", "score", "--round", "999"]) == 2
    assert "考核轮次 999 不存在" in capsys.readouterr().err


def test_a_round_from_create_to_export(region, tmp_path, capsys):  # noqa: F811
    assert main(["evaluate", "create", "--scheme", "t-2025", "--year", "2025", "--kind", "year_end",
                 "--org", COUNTY]) == 0
    rnd = em.Round.objects.get()
    rid = str(rnd.pk)
    for org in (PUTING, GAOTANG):
        for item, value in (("A1", "9"), ("C2", "0"), ("D1", "1")):
            assert main(["evaluate", "manual", "--round", rid, "--org", org, "--item", item, "--value", value,
                         "--note", "现场核查"]) == 0
    assert main(["evaluate", "manual", "--round", rid, "--org", PUTING, "--item", "A1", "--value", "11",
                 "--note", "x", "--reason", "y"]) == 2
    assert "超出范围（0–10）" in capsys.readouterr().err
    assert main(["evaluate", "score", "--round", rid]) == 0
    assert "2 个单位" in capsys.readouterr().out
    assert main(["evaluate", "publish", "--round", rid]) == 0
    assert main(["evaluate", "score", "--round", rid]) == 2
    assert "已发布的考核轮次不能修改，请新建一轮更正" in capsys.readouterr().err
    assert main(["evaluate", "export", "--round", rid]) == 0
    text = capsys.readouterr().out
    assert "绩效评价情况表" in text and "蒲亭镇卫生院" in text
    out = tmp_path / "round.xlsx"
    assert main(["evaluate", "export", "--round", rid, "--out", str(out)]) == 0
    assert load_workbook(out).sheetnames == ["绩效评价情况表", "各单位问题列表"]
