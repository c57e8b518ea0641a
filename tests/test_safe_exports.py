"""Files gongwei writes for people: a resident named like a formula stays text in CSV and XLSX, files are the
owner's only, and a manifest cannot point outside its folder (docs/security.md)."""

from __future__ import annotations

import csv
import json
import stat

import pyarrow as pa
import pytest
from openpyxl import load_workbook

from gongwei.engine.snapshot import Snapshot
from gongwei.exchange import exporter, layout
from gongwei.exchange.importer import import_dir
from gongwei.records import models as m
from gongwei.records.snapshot import take_snapshot
from tests.test_exchange import good_set, wipe_database

pytestmark = pytest.mark.django_db

FORMULA_NAME = '=HYPERLINK("http://x","点此")'


def _with_formula_name(folder):
    tables = good_set()
    residents = tables["residents"]
    names = residents.column("name").to_pylist()
    names[1] = FORMULA_NAME  # R002, in the diabetes roster
    tables["residents"] = residents.set_column(residents.column_names.index("name"), "name", pa.array(names))
    return layout.write_dir(tables, folder)


def test_exported_csv_escapes_a_formula_name_and_reimports_it_exactly(tmp_path):
    assert import_dir(_with_formula_name(tmp_path / "in"), actor="test").status == "written"
    record_no = m.Resident.objects.get(name=FORMULA_NAME).record_no
    out = tmp_path / "out"
    exporter.export_dir(out)
    with (out / "residents.csv").open(encoding="utf-8", newline="") as f:
        rows = {r["record_no"]: r for r in csv.DictReader(f)}
    assert rows[record_no]["name"] == "'" + FORMULA_NAME  # a spreadsheet shows it, never runs it
    assert stat.S_IMODE((out / "residents.csv").stat().st_mode) == 0o600
    assert stat.S_IMODE((out / layout.MANIFEST).stat().st_mode) == 0o600
    wipe_database()
    assert import_dir(out, actor="test").status == "written"
    assert m.Resident.objects.get(record_no=record_no).name == FORMULA_NAME


def test_roster_xlsx_writes_a_formula_name_as_text(tmp_path, capsys):
    from gongwei.cli.main import main

    assert import_dir(_with_formula_name(tmp_path / "in"), actor="test").status == "written"
    snap = take_snapshot(tmp_path / "snapshots")
    assert stat.S_IMODE(snap.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in snap.iterdir())
    unit = m.Resident.objects.get(name=FORMULA_NAME).managing_unit.code
    out = tmp_path / "roster.xlsx"
    assert main(["roster", "--org", unit, "--as-of", "2025-12-31", "--snapshot", str(snap), "--format", "xlsx",
                 "--out", str(out)]) == 0
    ws = load_workbook(out).active
    cells = [row[3] for row in ws.iter_rows(min_row=2) if row[3].value == FORMULA_NAME]
    assert cells and all(c.data_type == "s" for c in cells)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_a_manifest_naming_a_file_outside_its_folder_is_refused(tmp_path):
    folder = layout.write_dir(good_set(), tmp_path / "in")
    outside = tmp_path / "secret.csv"
    outside.write_text("x\n")
    manifest = json.loads((folder / layout.MANIFEST).read_text())
    manifest["files"][0]["file"] = "../secret.csv"
    (folder / layout.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(layout.LayoutError, match="指向导入目录之外"):
        layout.read_dir(folder)


def test_a_snapshot_manifest_with_a_path_as_table_name_is_refused(tmp_path):
    folder = tmp_path / "snap"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({
        "format": "gongwei-snapshot-1", "id": "x", "taken_at": "", "tables": {"../../etc/passwd": {"rows": 1}}}))
    from gongwei.engine.snapshot import SNAPSHOT_FORMAT

    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["format"] = SNAPSHOT_FORMAT
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="无效的表名"):
        Snapshot.open(folder)
