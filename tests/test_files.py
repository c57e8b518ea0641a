"""Files we write: cells a spreadsheet never runs, owner-only permissions, names that stay in their folder."""

from __future__ import annotations

import csv
import os
import stat

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from gongwei.files import (
    append_text_safe,
    inside,
    open_private,
    safe_column,
    safe_text,
    save_workbook,
    unescape_column,
    unescape_text,
    write_csv,
)

FORMULA_NAMES = ['=HYPERLINK("http://x","点击")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1"]
texts = st.text(alphabet=st.sampled_from("=+-@'\t\r0123456789.eE 张王a"), max_size=8)


def test_formula_looking_text_is_escaped_and_numbers_are_not():
    for name in FORMULA_NAMES:
        assert safe_text(name) == "'" + name
    for number in ("-5", "+3.5", "-1e3", "12", "-.5"):
        assert safe_text(number) == number
    assert safe_text("张三") == "张三" and safe_text(42) == 42 and safe_text(None) is None
    assert safe_text("'=1") == "''=1"  # an apostrophe already there is kept through a round trip


@settings(deadline=None)
@given(texts)
def test_unescape_gives_back_exactly_what_was_escaped(value):
    assert unescape_text(safe_text(value)) == value
    escaped = safe_text(value)
    assert not escaped.startswith(("=", "+", "-", "@", "\t", "\r")) or escaped.lstrip("+-").replace(".", "", 1)[:1].isdigit()


@settings(deadline=None)
@given(st.lists(st.one_of(st.none(), texts), max_size=12))
def test_column_escaping_agrees_with_the_value_rule(values):
    column = pa.array(values, pa.string())
    assert safe_column(column).to_pylist() == [safe_text(v) for v in values]
    assert unescape_column(safe_column(column)).to_pylist() == values


def test_csv_cells_are_text_and_the_file_is_private(tmp_path):
    path = write_csv(tmp_path / "名单.csv", ["姓名", "电话"], [[n, "-5"] for n in FORMULA_NAMES])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["姓名", "电话"]
    assert [r[0] for r in rows[1:]] == ["'" + n for n in FORMULA_NAMES]
    assert {r[1] for r in rows[1:]} == {"-5"}


def test_xlsx_text_cells_are_strings_not_formulas(tmp_path):
    wb = Workbook()
    append_text_safe(wb.active, ["姓名", "年龄"])
    for name in FORMULA_NAMES:
        append_text_safe(wb.active, [name, 70])
    path = save_workbook(wb, tmp_path / "名单.xlsx")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    ws = load_workbook(path).active
    cells = list(ws.iter_rows(min_row=2))
    # every value comes back as text, exactly — but a carriage return, which XML turns into a line feed unless the
    # writer escapes it (openpyxl does with lxml, a dependency of python-docx; its own writer does not)
    assert all(c[0].data_type == "s" for c in cells)
    assert [c[0].value for c in cells] in ([n for n in FORMULA_NAMES], [n.replace("\r", "\n") for n in FORMULA_NAMES])
    assert [(c[1].value, c[1].data_type) for c in cells] == [(70, "n")] * len(FORMULA_NAMES)


def test_an_existing_file_is_made_private_when_rewritten(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("old")
    os.chmod(path, 0o644)
    with open_private(path, "w", encoding="utf-8") as f:
        f.write("new")
    assert path.read_text() == "new" and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_name_cannot_leave_its_folder(tmp_path):
    folder = tmp_path / "snapshot"
    folder.mkdir()
    assert inside(folder, "residents.parquet") == (folder / "residents.parquet").resolve()
    for name in ("../residents.parquet", "/etc/passwd", "a/../../x", ".", ""):
        with pytest.raises(ValueError, match="之外"):
            inside(folder, name)
    (folder / "link").symlink_to(tmp_path)
    with pytest.raises(ValueError, match="之外"):
        inside(folder, "link/secret.parquet")


def test_a_new_folder_is_private_and_an_existing_one_is_left_alone(tmp_path):
    from gongwei.files import private_dir

    new = private_dir(tmp_path / "exports" / "2025")
    assert stat.S_IMODE(new.stat().st_mode) == 0o700
    os.chmod(tmp_path, 0o755)
    private_dir(tmp_path)
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755
