"""The command line as a new user meets it: every mistake is one Chinese sentence, exit code 2, no traceback,
and a command that finds no database says where it looked and creates nothing."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import gongwei
from gongwei.cli.main import main
from gongwei.engine.snapshot import SNAPSHOT_FORMAT
from gongwei.exchange import layout
from gongwei.records import models as m
from tests.engine_fixtures import build_snapshot
from tests.test_exchange import write_good

SRC = Path(gongwei.__file__).resolve().parent.parent
COUNTY = "360426000000"  # 德安县 in tests/regions.py
PG_URL = os.environ.get("GONGWEI_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/test")


def run_gongwei(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The real entry point in a clean environment: no database or data folder chosen by the test run."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GONGWEI_", "DATABASE_URL", "DJANGO_"))}
    return subprocess.run([sys.executable, "-m", "gongwei.cli.main", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env={**base, "PYTHONPATH": str(SRC), **(env or {})})


def files_under(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


def one_chinese_sentence(stderr: str) -> str:
    assert "Traceback" not in stderr and "error:" not in stderr and "usage:" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert any("\u4e00" <= ch <= "\u9fff" for ch in lines[0]), stderr
    return lines[0]


# --- no database ---------------------------------------------------------------------------------------
NEEDS_DATABASE = [
    ["worklist", "--org", COUNTY],
    ["indicators", "--org", COUNTY, "--period", "2025"],
    ["snapshot"],
    ["export", "out"],
    ["import", "in"],
    ["merge", "R001", "R002"],
    ["manage", "createsuperuser", "--noinput", "--username", "x"],
]


@pytest.mark.parametrize("args", NEEDS_DATABASE, ids=lambda a: a[0] if a[0] != "manage" else "manage-" + a[1])
def test_outside_the_project_a_command_says_where_it_looked_and_creates_nothing(tmp_path, args):
    here = tmp_path / "elsewhere"
    here.mkdir()
    (here / "in").mkdir()
    # the folder is found the way git finds a repository, so nothing above the temp folder may hold one
    assert not any((p / "data" / "gongwei.sqlite3").exists() for p in here.parents)
    before = files_under(tmp_path)
    proc = run_gongwei(here, *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    message = one_chinese_sentence(proc.stderr)
    assert "没有找到数据库" in message and str(here) in message
    assert str(here / "data" / "gongwei.sqlite3") in message  # where migrate would create it
    assert "gongwei migrate" in message and "gongwei demo" in message
    assert "GONGWEI_DATA_DIR" in message and "DATABASE_URL" in message
    assert files_under(tmp_path) == before  # no data folder, no empty database


def test_an_explicit_location_is_named_in_the_message(tmp_path):
    data = tmp_path / "nowhere" / "data"
    proc = run_gongwei(tmp_path, "worklist", "--org", COUNTY, env={"GONGWEI_DATA_DIR": str(data)})
    assert proc.returncode == 2
    message = one_chinese_sentence(proc.stderr)
    assert "GONGWEI_DATA_DIR" in message and str(data / "gongwei.sqlite3") in message
    assert not (tmp_path / "nowhere").exists()
    data.mkdir(parents=True)  # the folder is there, the file is not: SQLite would create an empty one
    proc = run_gongwei(tmp_path, "worklist", "--org", COUNTY, env={"GONGWEI_DATA_DIR": str(data)})
    assert proc.returncode == 2 and str(data / "gongwei.sqlite3") in one_chinese_sentence(proc.stderr)
    assert not any(data.iterdir())

    db = tmp_path / "other.sqlite3"
    proc = run_gongwei(tmp_path, "export", "out", env={"DATABASE_URL": f"sqlite:///{db}"})
    assert proc.returncode == 2
    message = one_chinese_sentence(proc.stderr)
    assert "DATABASE_URL" in message and str(db) in message and "不存在" in message
    assert not db.exists() and not (tmp_path / "out").exists()


def test_commands_that_need_no_database_run_and_create_nothing(tmp_path):
    proc = run_gongwei(tmp_path, "manage", "check")
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "data").exists()


def test_migrate_creates_it_and_a_subfolder_finds_it(tmp_path):
    assert run_gongwei(tmp_path, "migrate").returncode == 0
    db = tmp_path / "data" / "gongwei.sqlite3"
    assert db.stat().st_size > 0
    assert (tmp_path / "data").stat().st_mode & 0o077 == 0  # personal data: owner only
    deeper = tmp_path / "exports" / "2025"
    deeper.mkdir(parents=True)
    proc = run_gongwei(deeper, "export", "out")
    assert proc.returncode == 0, proc.stderr
    assert (deeper / "out" / "manifest.json").exists()
    assert not (deeper / "data").exists() and not (tmp_path / "exports" / "data").exists()


def test_an_empty_or_unbuilt_database_file_is_refused_with_the_fix(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "gongwei.sqlite3").touch()  # what older versions left behind
    proc = run_gongwei(tmp_path, "export", "out")
    assert proc.returncode == 2
    assert "空文件" in one_chinese_sentence(proc.stderr)

    (data / "gongwei.sqlite3").unlink()
    with sqlite3.connect(data / "gongwei.sqlite3") as con:  # a real database, but not built by migrate
        con.execute("create table unrelated (x int)")
    proc = run_gongwei(tmp_path, "export", "out")
    assert proc.returncode == 2
    message = one_chinese_sentence(proc.stderr)
    assert "还没有建表" in message and "gongwei migrate" in message and str(data / "gongwei.sqlite3") in message


def test_a_postgresql_database_that_does_not_exist(tmp_path):
    url = PG_URL.rsplit("/", 1)[0] + "/gongwei_no_such_database"
    proc = run_gongwei(tmp_path, "export", "out", env={"DATABASE_URL": url})
    assert proc.returncode == 2
    message = one_chinese_sentence(proc.stderr)
    assert "无法连接" in message and "gongwei_no_such_database" in message


# --- arguments -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("args", "named"), [
    (["worklist", "--org", COUNTY, "--as-of", "2025-13-01"], ["--as-of", "2025-13-01", "YYYY-MM-DD"]),
    (["roster", "--org", COUNTY, "--as-of", "2025-02-30"], ["--as-of", "2025-02-30", "YYYY-MM-DD"]),
    (["gaps", "--indicator", "H2", "--org", COUNTY, "--period", "2025", "--size", "ten"], ["--size", "ten", "整数"]),
    (["qc", "--org", COUNTY, "--period", "2025", "--format", "pdf"], ["--format", "pdf", "xlsx"]),
    (["worklist"], ["缺少必需的参数", "--org"]),
    (["wroklist"], ["没有命令", "wroklist", "worklist"]),
    (["import", "in", "--encoding", "big-5-ish"], ["big-5-ish", "gb18030"]),
])
def test_bad_arguments_get_one_chinese_sentence(tmp_path, args, named):
    proc = run_gongwei(tmp_path, *args)
    assert proc.returncode == 2
    message = one_chinese_sentence(proc.stderr)
    for thing in named:
        assert thing in message
    assert not (tmp_path / "data").exists()


# --- snapshots and output files (the command reaches its own work) ----------------------------------------
def write_manifest(folder: Path, manifest: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(manifest if isinstance(manifest, str) else json.dumps(manifest))
    return folder


@pytest.mark.django_db
@pytest.mark.parametrize("command", [
    ["worklist", "--org", COUNTY], ["indicators", "--org", COUNTY, "--period", "2025"],
    ["qc", "--org", COUNTY, "--period", "2025"], ["findings", "--period", "2025"],
])
def test_bad_snapshot_paths(tmp_path, capsys, command):
    good = {"format": SNAPSHOT_FORMAT, "id": "s1", "taken_at": "2025-01-01T00:00:00", "tables": {"residents": {"rows": 1}}}
    cases = {
        tmp_path / "nonexistent": "不存在",
        tmp_path / "empty": "没有 manifest.json",
        write_manifest(tmp_path / "format", {**good, "format": "other/9"}): "other/9",
        write_manifest(tmp_path / "json", "{not json"): "不是有效的 JSON",
        write_manifest(tmp_path / "keys", {"format": SNAPSHOT_FORMAT}): "tables",
        write_manifest(tmp_path / "files", good): "residents.parquet",
    }
    (tmp_path / "empty").mkdir()
    for folder, named in cases.items():
        assert main([*command, "--snapshot", str(folder)]) == 2, folder
        message = one_chinese_sentence(capsys.readouterr().err)
        assert str(folder) in message and named in message


@pytest.mark.django_db
@pytest.mark.parametrize("command", [
    ["indicators", "--org", COUNTY, "--period", "2025", "--format", "xlsx"],
    ["roster", "--org", COUNTY, "--format", "json"],
    ["worklist", "--org", COUNTY],
    ["qc", "--org", COUNTY, "--period", "2025", "--format", "xlsx"],
    ["dedup", "--org", COUNTY, "--format", "csv"],
])
def test_an_output_file_that_cannot_be_written_is_refused_before_any_work(tmp_path, capsys, command):
    if os.geteuid() == 0:  # root writes through permission bits; sysfs refuses new files even to root
        unwritable = Path("/sys/gongwei-cli-test.xlsx")
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        unwritable = locked / "out.xlsx"
    cases = {
        tmp_path / "missing" / "out.xlsx": ["目录", str(tmp_path / "missing"), "不存在"],
        unwritable: [str(unwritable), "无法写入"],
        tmp_path: [str(tmp_path), "目录"],
    }
    # the snapshot does not exist either: a message about it would mean the work had started
    for out, named in cases.items():
        assert main([*command, "--snapshot", str(tmp_path / "no-snapshot"), "--out", str(out)]) == 2
        message = one_chinese_sentence(capsys.readouterr().err)
        for thing in named:
            assert thing in message
        assert "快照" not in message
    assert not (tmp_path / "missing").exists() and not unwritable.exists()


@pytest.mark.django_db
def test_a_good_output_file_is_still_written(tmp_path, capsys):
    snap = build_snapshot(tmp_path / "snaps")
    out = tmp_path / "worklist.txt"
    out.write_text("old")
    assert main(["worklist", "--org", COUNTY, "--as-of", "2025-08-15", "--snapshot", str(snap.folder),
                 "--out", str(out)]) == 0
    assert COUNTY in out.read_text(encoding="utf-8")


# --- encodings -----------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_gbk_file_is_named_with_its_line_and_reads_with_gb18030(tmp_path, capsys):
    folder = write_good(tmp_path / "in")
    (folder / layout.MANIFEST).unlink()  # a hand-made folder from another platform has none
    texts = {p: p.read_bytes().decode("utf-8-sig") for p in folder.glob("*.csv")}
    for p, text in texts.items():  # a whole export from an older platform, in GBK
        p.write_bytes(text.encode("gbk"))
    path = next(p for p in sorted(texts) if not texts[p].isascii())  # the first file that cannot be read
    first_chinese = next(i for i, line in enumerate(texts[path].splitlines(), start=1) if not line.isascii())

    assert main(["import", str(folder)]) == 2
    message = one_chinese_sentence(capsys.readouterr().err)
    assert path.name in message and f"第 {first_chinese} 行" in message
    assert "utf-8" in message and "--encoding gb18030" in message
    assert not m.OrgUnit.objects.exists()

    assert main(["import", str(folder), "--encoding", "gb18030"]) == 0
    assert m.OrgUnit.objects.filter(name="江西省").exists()
