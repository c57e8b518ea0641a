"""Household coverage (村不漏户、户不漏人, issue 13 §6, ADR 033): a list from another authority matched to the
register by identity number, then name and birth date in the village; per village the people missing from the
register, registered residents not on the list, the coverage rate; a file that is not the template is refused
and nothing is written; identity numbers masked per role and views audited."""

from __future__ import annotations

import hashlib
import io

import pytest
from openpyxl import Workbook
from stdnum.cn import ric

from gongwei.records.models import AccessLog, Resident
from gongwei.service import access, coverage
from gongwei.service.errors import BadRequest, Refused
from gongwei.verification.models import CoverageEntry, CoverageImport
from tests.web_fixtures import COUNTY, TOWNSHIP, make_region

pytestmark = pytest.mark.django_db

NORTH, SOUTH = "360426100201", "360426100202"  # 北门村, 南门村 of 蒲亭镇: 3 residents each
HEADER = ["身份证号", "姓名", "户号", "村（社区）代码", "出生日期"]


@pytest.fixture
def region(settings, tmp_path, fast_passwords):
    settings.DATA_DIR = tmp_path
    return make_region()


def as_login(made, username: str) -> access.Actor:
    return access.for_user(made["users"][username], address="127.0.0.1", path="/test")


def _csv(rows) -> bytes:
    return "\n".join(",".join(r) for r in [HEADER, *rows]).encode("utf-8-sig")


def _people(village: str) -> list[Resident]:
    return list(Resident.objects.filter(managing_unit__code=village).order_by("record_no"))


def _new_id(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


def _list() -> bytes:
    n1, n2, n3 = _people(NORTH)
    s1, s2, s3 = _people(SOUTH)
    wrong = n2.id_number[:-1] + ("0" if n2.id_number[-1] != "0" else "1")  # a mistyped check digit
    return _csv([
        [n1.id_number, n1.name, "H1", NORTH, ""],  # exact
        [wrong, n2.name, "H1", NORTH, n2.birth_date.isoformat()],  # unusable number, same name and birth: probable
        [_new_id("36042619800101123"), "新户主", "H2", NORTH, ""],  # nobody registered: missing
        [_new_id("36042620150601124"), "新户孩子", "H2", NORTH, ""],  # same household: the whole household missing
        [s1.id_number, s1.name, "H3", SOUTH, ""],
        [s2.id_number, s2.name, "H3", SOUTH, ""],
        [s3.id_number, s3.name, "H4", SOUTH, ""],
    ])


def test_matching_and_the_report_per_village(region):
    content = _list()
    rep = coverage.import_list(as_login(region, "ts"), TOWNSHIP, "public_security", "户籍.csv", content)
    assert rep.file_hash == hashlib.sha256(content).hexdigest() and rep.rows == 7
    by = {v.village_code: v for v in rep.villages}
    north, south = by[NORTH], by[SOUTH]
    # 北门村: 4 listed, 1 exact + 1 probable = 2 found → 50 %; 2 missing, both of household H2 (1 household
    # missing of 2); the third registered resident is not on the list
    assert (north.listed, north.exact, north.probable, north.missing) == (4, 1, 1, 2)
    assert north.coverage == pytest.approx(0.5) and (north.households, north.households_missing) == (2, 1)
    assert north.not_on_list == 1
    # 南门村: 3 of 3 exact → 100 %, nobody left over
    assert (south.listed, south.exact, south.coverage, south.not_on_list) == (3, 3, 1.0, 0)
    assert (rep.total.listed, rep.total.found, rep.total.missing, rep.total.not_on_list) == (7, 5, 2, 1)
    third = _people(NORTH)[2]
    kinds = {(p.kind, p.name) for p in rep.people}
    assert kinds == {("missing", "新户主"), ("missing", "新户孩子"), ("not_on_list", third.name)}
    entry = CoverageEntry.objects.get(name=_people(NORTH)[1].name)
    assert (entry.match, entry.id_valid, entry.resident_id) == ("probable", False, _people(NORTH)[1].pk)
    # township staff work with identity numbers in full; an evaluator sees them masked; views are audited
    assert any(p.id_number == _new_id("36042619800101123") for p in rep.people)
    assert all("*" in p.id_number for p in coverage.report(as_login(region, "ev"), rep.import_no).people)
    assert AccessLog.objects.filter(purpose__contains=rep.import_no).exists()
    only = coverage.report(as_login(region, "sup"), rep.import_no, village=SOUTH)
    assert only.people == [] and len(only.villages) == 2


def test_an_xlsx_list_is_read_like_a_csv(region):
    n1 = _people(NORTH)[0]
    wb = Workbook()
    wb.active.append(HEADER[:4])
    wb.active.append([n1.id_number, n1.name, "H1", NORTH])
    buf = io.BytesIO()
    wb.save(buf)
    rep = coverage.import_list(region["operator"], COUNTY, "civil_affairs", "民政名单.xlsx", buf.getvalue())
    assert [(v.village_code, v.listed, v.exact, v.not_on_list) for v in rep.villages] == [(NORTH, 1, 1, 2)]


def test_a_file_that_is_not_the_template_is_refused_and_nothing_written(region):
    op = region["operator"]
    with pytest.raises(BadRequest, match="不是户籍人口名单模板：缺少列 户号"):
        coverage.import_list(op, COUNTY, "public_security", "x.csv", "身份证号,姓名,村（社区）代码\n1,张三,1\n".encode())
    with pytest.raises(BadRequest, match="类型不对"):
        coverage.import_list(op, COUNTY, "public_security", "x.pdf", b"%PDF")
    with pytest.raises(BadRequest, match="不是有效的 XLSX"):
        coverage.import_list(op, COUNTY, "public_security", "x.xlsx", b"not a workbook")
    with pytest.raises(BadRequest, match="第 2 行：村（社区）代码 360426200201 不是蒲亭镇卫生院"):
        coverage.import_list(op, TOWNSHIP, "public_security", "x.csv", _csv([["", "李四", "H1", "360426200201", ""]]))
    with pytest.raises(BadRequest, match="第 3 行：姓名不能为空"):
        coverage.import_list(op, TOWNSHIP, "public_security", "x.csv",
                             _csv([["", "李四", "H1", NORTH, ""], ["", "", "H1", NORTH, ""]]))
    with pytest.raises(BadRequest, match="名单来源“police”无效"):
        coverage.import_list(op, TOWNSHIP, "police", "x.csv", _list())
    with pytest.raises(Refused):
        coverage.import_list(as_login(region, "vd"), NORTH, "public_security", "x.csv", _list())
    with pytest.raises(Refused):
        coverage.import_list(as_login(region, "ts"), "360426200000", "public_security", "x.csv", _list())
    assert not CoverageImport.objects.exists() and not CoverageEntry.objects.exists()


def test_upload_page_report_and_refusal(region, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.web_fixtures import client_for

    c = client_for("ts")
    assert "导入名单" in c.get(f"/unit/{TOWNSHIP}/coverage/").content.decode()
    # not the template: refused above the form in Chinese, nothing written
    bad = SimpleUploadedFile("名单.csv", "姓名,村代码\n张三,1\n".encode(), content_type="text/csv")
    r = c.post(f"/unit/{TOWNSHIP}/coverage/", {"authority": "public_security", "file": bad})
    assert r.status_code == 400 and "不是户籍人口名单模板" in r.content.decode() and not CoverageImport.objects.exists()
    good = SimpleUploadedFile("户籍.csv", _list(), content_type="text/csv")
    r = c.post(f"/unit/{TOWNSHIP}/coverage/", {"authority": "public_security", "file": good})
    assert r.status_code == 302
    imp = CoverageImport.objects.get()
    html = c.get(r["Location"]).content.decode()
    assert "50.0%" in html and "新户主" in html  # 北门村 2 of 4 found
    assert client_for("vd2").get(f"/coverage/{imp.import_no}/").status_code == 403  # the other township's village
    assert client_for("sup").get(f"/coverage/{imp.import_no}/").status_code == 200
    assert client_for("sup").get("/coverage/HJ-NONE/").status_code == 404


@pytest.fixture
def live_coverage_region(transactional_db, settings, tmp_path, fast_passwords):
    settings.DATA_DIR = tmp_path
    return make_region()


def test_coverage_upload_in_a_browser(chromium, live_server, live_coverage_region, tmp_path):
    from tests.web_fixtures import browser_as, screenshot_path

    path = tmp_path / "户籍名单.csv"
    path.write_bytes(_list())
    with browser_as(chromium, live_server, "ts") as (page, offsite):
        page.goto(f"{live_server.url}/unit/{TOWNSHIP}/samples/")
        page.click("#to-coverage")
        page.wait_for_load_state("networkidle")
        page.set_input_files("input[name=file]", str(path))
        page.screenshot(path=screenshot_path(tmp_path, "coverage-1-upload"), full_page=True)
        page.click("#upload button.primary")
        page.wait_for_load_state("networkidle")
        assert "/coverage/HJ" in page.url, page.inner_text("main")[:300]
        villages = page.inner_text("#villages")
        assert "50.0%" in villages and "100.0%" in villages  # 北门村 2 of 4, 南门村 3 of 3
        page.screenshot(path=screenshot_path(tmp_path, "coverage-2-report"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366
        assert offsite == []
