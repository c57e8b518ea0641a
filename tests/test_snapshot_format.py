"""One snapshot contract (gongwei.snapshot_format) between the writer (records) and the reader (engine).

A manifest the writer wrote is read back by the reader through the contract, field for field; a bad format
version, a malformed field or a file name leading out of the folder is refused with one Chinese sentence.
"""

from __future__ import annotations

import json
import os
import re
import stat

import pytest

from gongwei import snapshot_format as contract
from gongwei.engine.snapshot import Snapshot
from gongwei.errors import UserError
from gongwei.records import snapshot as writer
from gongwei.records.schema import TABLES
from tests.engine_fixtures import build_snapshot

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_the_writer_writes_the_contracts_tables_in_its_order():
    assert [name for name, _ in writer.snapshot_models()] == list(contract.TABLES)
    assert list(contract.EXCHANGE_TABLES) == [name for name, _, _ in TABLES]


@pytest.mark.django_db
def test_a_manifest_written_by_the_writer_is_read_by_the_reader_through_the_contract(tmp_path):
    snap = build_snapshot(tmp_path)
    text = (snap.folder / contract.MANIFEST).read_text(encoding="utf-8")
    manifest = contract.Manifest.from_json(text, snap.folder)
    assert manifest.format == contract.FORMAT and manifest.database in ("sqlite", "postgresql")
    assert list(manifest.tables) == list(contract.TABLES)
    assert all(len(t.sha256) == 64 for t in manifest.tables.values())
    # the reader's view is the contract's, field for field
    assert (snap.id, snap.taken_at) == (manifest.id, manifest.taken_at)
    assert snap.tables == {name: t.rows for name, t in manifest.tables.items()}
    assert snap.tables["residents"] == 6
    assert snap.path("residents") == contract.table_path(snap.folder, "residents")
    # round trip: what the contract writes, it reads back unchanged
    assert contract.Manifest.from_json(manifest.to_json(), snap.folder) == manifest
    assert stat.S_IMODE((snap.folder / contract.MANIFEST).stat().st_mode) == 0o600


def _folder_with(tmp_path, name: str, manifest: dict, files: tuple[str, ...] = ("residents",)):
    folder = tmp_path / name
    folder.mkdir()
    for f in files:
        (folder / f"{f}.parquet").write_bytes(b"")
    (folder / contract.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return folder


GOOD = {"format": contract.FORMAT, "id": "s1", "taken_at": "2025-01-01T00:00:00+00:00", "database": "sqlite",
        "tables": {"residents": {"rows": 1, "sha256": ""}}}


@pytest.mark.parametrize(("change", "named"), [
    ({"format": "gongwei-snapshot/3"}, "gongwei-snapshot/3"),  # a later format than this version knows
    ({"format": None}, "None"),
    ({"tables": {"../../etc/passwd": {"rows": 1}}}, "无效的表名"),
    ({"tables": {"/etc/passwd": {"rows": 1}}}, "无效的表名"),
    ({"tables": {"residents": {"rows": -1}}}, "非负整数"),
    ({"tables": {"residents": {"rows": "1"}}}, "非负整数"),
    ({"tables": ["residents"]}, "tables"),
    ({"id": 7}, "id"),
])
def test_a_bad_manifest_is_refused_in_one_chinese_sentence(tmp_path, change, named):
    folder = _folder_with(tmp_path, "snap", {**GOOD, **change})
    with pytest.raises(contract.SnapshotInvalid) as caught:
        Snapshot.open(folder)
    message = str(caught.value)
    assert isinstance(caught.value, UserError) and CHINESE.search(message) and "\n" not in message
    assert str(folder) in message and named in message
    assert Snapshot.open(_folder_with(tmp_path, "good", GOOD)).tables == {"residents": 1}


def test_a_format_1_snapshot_is_still_read(tmp_path):
    """Format /2 only added residents.id_key_holders (ADR 028), which the engine does without: /1 stays readable,
    and its manifest says which it is."""
    assert contract.FORMAT == "gongwei-snapshot/2"
    manifest = contract.Manifest.read(_folder_with(tmp_path, "old", {**GOOD, "format": "gongwei-snapshot/1"}))
    assert manifest.format == "gongwei-snapshot/1" and manifest.tables["residents"].rows == 1


def test_a_data_file_linked_outside_the_folder_is_refused(tmp_path):
    outside = tmp_path / "secret.parquet"
    outside.write_bytes(b"")
    folder = _folder_with(tmp_path, "snap", GOOD, files=())
    os.symlink(outside, folder / "residents.parquet")
    with pytest.raises(contract.SnapshotInvalid, match="指向快照目录之外"):
        Snapshot.open(folder)


def test_the_writer_refuses_a_table_name_that_would_leave_the_folder(tmp_path):
    manifest = contract.Manifest("s1", "2025-01-01T00:00:00+00:00", "sqlite",
                                 {"../escape": contract.TableEntry(1)})
    with pytest.raises(contract.SnapshotInvalid, match="无效的表名"):
        manifest.write(tmp_path)
    assert not (tmp_path / contract.MANIFEST).exists()
