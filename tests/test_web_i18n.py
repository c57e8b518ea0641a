"""English through i18n (ADR 022): Chinese msgids, an ``en`` catalogue committed as .po and compiled .mo.

The catalogue must be complete (no empty msgstr, nothing fuzzy, the same placeholders as the Chinese) and the
committed .mo must hold exactly what the .po says — compared by content, not by file time (a git checkout sets
every file's time). Then the pages: Chinese by default, English after the header's language switch.
"""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest

import gongwei
from tests.ci_policy import not_available
from tests.web_fixtures import COUNTY, TOWNSHIP, client_for

LOCALE = Path(gongwei.__file__).parent / "locale" / "en" / "LC_MESSAGES"
PO, MO = LOCALE / "django.po", LOCALE / "django.mo"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _unquote(lines: list[str]) -> str:
    text = "".join(line.strip()[1:-1] for line in lines)
    return re.sub(r'\\(.)', lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text)


def po_entries(path: Path = PO) -> list[dict]:
    """The entries of a .po file: msgctxt, msgid, msgstr (singular only: the catalogue has no plurals) and flags."""
    entries, current, field = [], None, None
    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            if current and "msgid" in current:
                entries.append(current)
            current, field = None, None
            continue
        current = current if current is not None else {"flags": set(), "msgctxt": None}
        if line.startswith("#,"):
            current["flags"] |= {f.strip() for f in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith(("msgctxt ", "msgid ", "msgstr ", "msgid_plural ", "msgstr[")):
            field, value = line.split(" ", 1)
            current[field] = [value]
        elif line.startswith('"') and field:
            current[field].append(line)
    for e in entries:
        for key in ("msgctxt", "msgid", "msgstr"):
            if isinstance(e.get(key), list):
                e[key] = _unquote(e[key])
    return entries


def test_every_entry_of_the_english_catalogue_is_translated_with_the_same_placeholders():
    entries = [e for e in po_entries() if e["msgid"]]
    assert len(entries) > 200
    assert not [e["msgid"] for e in entries if "msgid_plural" in e or "msgstr[0]" in e], "plurals: extend this test"
    assert [e["msgid"] for e in entries if not e.get("msgstr")] == [], "untranslated: fill msgstr, then make messages"
    assert [e["msgid"] for e in entries if "fuzzy" in e["flags"]] == [], "fuzzy entries are not compiled"
    wrong = [e["msgid"] for e in entries
             if sorted(PLACEHOLDER.findall(e["msgid"])) != sorted(PLACEHOLDER.findall(e["msgstr"]))]
    assert wrong == []


def test_the_compiled_catalogue_holds_exactly_what_the_po_says():
    with MO.open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    expected = {(e["msgctxt"] + "\x04" if e["msgctxt"] else "") + e["msgid"]: e["msgstr"]
                for e in po_entries() if e["msgid"]}
    got = {k: v for k, v in compiled._catalog.items() if k}  # "" is the header
    assert got == expected, "django.mo is out of date: run `make messages` and commit the .mo"


def test_the_parser_sees_an_empty_msgstr(tmp_path):  # the tests above would pass on a parser that sees nothing
    po = tmp_path / "x.po"
    po.write_text('msgid ""\nmsgstr ""\n"Language: en\\n"\n\nmsgid "达标"\nmsgstr ""\n\n#, fuzzy\nmsgid "率"\n'
                  'msgstr ""\n"Ra"\n"te"\n', encoding="utf-8")
    entries = {e["msgid"]: e for e in po_entries(po)}
    assert entries["达标"]["msgstr"] == "" and entries["率"]["msgstr"] == "Rate" and "fuzzy" in entries["率"]["flags"]


def test_every_string_marked_for_translation_is_in_the_catalogue(tmp_path):
    """makemessages on a copy of the package: a {% translate %} added without `make messages` shows up here."""
    import shutil
    import subprocess
    import sys

    if shutil.which("xgettext") is None:
        not_available("未安装 xgettext（gettext），无法检查目录是否完整：请运行 make install")
    package = Path(gongwei.__file__).parent
    copy = tmp_path / "gongwei"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("static", "__pycache__", "*.mo"))
    subprocess.run([sys.executable, "-m", "django", "makemessages", "-l", "en", "--no-location", "--no-obsolete"],
                   cwd=copy, check=True, capture_output=True, timeout=300,
                   env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "gongwei.settings"})
    regenerated = {e["msgid"] for e in po_entries(copy / "locale" / "en" / "LC_MESSAGES" / "django.po") if e["msgid"]}
    committed = {e["msgid"] for e in po_entries() if e["msgid"]}
    assert sorted(regenerated - committed) == [], "new strings: run `make messages`, translate them, commit"
    assert sorted(committed - regenerated) == [], "strings no longer used: run `make messages` and commit"


# --- the pages ---------------------------------------------------------------------------------------------------
def english(client, path: str):
    switched = client.post("/i18n/setlang/", {"language": "en", "next": path})
    assert switched.status_code == 302 and switched["Location"] == path
    return client.get(path)


def test_dashboard_in_chinese_by_default_and_in_english_after_the_switch(web_region_with_results):
    client = client_for("sup")
    path = f"/unit/{COUNTY}/indicators/?period=2025"
    zh = client.get(path, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")  # an English browser still gets Chinese
    html = zh.content.decode()
    assert zh.headers["Content-Language"] == "zh-hans" and '<html lang="zh-hans"' in html
    assert "德安县 基本公共卫生服务指标" in html and "<th" in html and ">分子</th>" in html and "数据时间：" in html
    assert 'value="en"' in html and ">English</button>" in html  # the switch, a POST form with CSRF
    assert 'name="csrfmiddlewaretoken"' in html.split('id="lang-switch"')[0].rsplit("<form", 1)[1]
    en = english(client, path)
    html = en.content.decode()
    assert en.headers["Content-Language"] == "en" and '<html lang="en"' in html
    assert "德安县 Basic public health service indicators" in html
    for heading in (">Numerator</th>", ">Denominator</th>", ">Rate</th>", ">Target</th>", ">Rank</th>"):
        assert heading in html
    assert "Data as of" in html and "this page shows stored results only" in html
    assert ">Indicators</a>" in html and ">Data quality</a>" in html  # the main navigation
    assert "基本公共卫生服务指标" not in html and "分子" not in html
    assert ">中文</button>" in html and 'value="zh-hans"' in html
    back = client.post("/i18n/setlang/", {"language": "zh-hans", "next": path})
    assert back.status_code == 302 and "基本公共卫生服务指标" in client.get(path).content.decode()


def test_indicator_and_gap_pages_in_english(web_region_with_results):
    client = client_for("sup")
    html = english(client, f"/unit/{COUNTY}/indicators/H3/?period=2025").content.decode()
    assert "Year-end forecast" in html and "Child units" in html and "年底预测" not in html
    assert 'data-sort-hint="Click to sort"' in html and '"words": {"target": "Target", "rate": "Rate"}' in html
    html = client.get(f"/unit/{TOWNSHIP}/indicators/H3/gaps/?period=2025").content.decode()
    assert "Reason for the gap" in html and "Export to Excel" in html and "缺口原因" not in html


def test_quality_scorecard_in_chinese_by_default_and_in_english(quality_region):
    client = client_for("sup")
    path = f"/unit/{COUNTY}/quality/?period=2025"
    html = client.get(path).content.decode()
    assert "德安县 数据质量记分卡" in html and "按规则" in html and re.search(r"问题 <strong>25</strong> 个", html)
    html = english(client, path).content.decode()
    assert "德安县 data quality scorecard" in html and "<h2>By rule</h2>" in html
    assert ">QC scorecard</a>" in html and ">Rectification ledger</a>" in html
    assert re.search(r"<strong>25</strong> findings", html) and "Period 2025, compared with" in html
    assert "德安县 数据质量记分卡" not in html and "按规则" not in html  # the bulletin text (reports) stays Chinese


def test_error_pages_and_job_labels_in_english(web_region):
    client = client_for("ts")
    english(client, "/jobs/")
    missing = client.get("/unit/999999999999/indicators/")
    assert missing.status_code == 404 and "Not found" in missing.content.decode()
    assert client.get("/no-such-page/").content.decode().count("The page you asked for does not exist") == 1
    assert "Job history" in client.get("/jobs/").content.decode()


@pytest.fixture
def quality_region(db, fast_passwords):
    from tests.test_web_quality import build_quality_region

    return build_quality_region()
