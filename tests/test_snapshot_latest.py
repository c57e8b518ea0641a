"""Finding the latest snapshot (engine/snapshot.py): every page request asks for it, so a manifest is read once
per process and file, not once per request — with a year of nightly snapshots that was hundreds of manifests
per page. A new snapshot, a removed one and a rewritten manifest are still seen at once."""

from __future__ import annotations

import shutil

import pytest

from gongwei import snapshot_format
from gongwei.engine.snapshot import Snapshot
from gongwei.records import entry
from gongwei.service import snapshots
from tests.regions import ORG_UNITS

pytestmark = pytest.mark.django_db


def test_latest_reads_each_manifest_once_and_sees_new_and_removed_snapshots(tmp_path, monkeypatch):
    entry.submit({"org_units": ORG_UNITS}, actor="test", kind="test")
    root = tmp_path / "snapshots"
    first = snapshots.take(root=root)
    second = snapshots.take(root=root)
    reads = []
    real = snapshot_format.Manifest.read.__func__

    def counting(cls, folder):
        reads.append(folder)
        return real(cls, folder)

    monkeypatch.setattr(snapshot_format.Manifest, "read", classmethod(counting))
    assert Snapshot.latest(root).id == second.id
    assert Snapshot.latest(root).id == second.id
    assert len(reads) <= 2  # at most once per folder (none if this process read them already), not per call
    reads.clear()
    third = snapshots.take(root=root)
    assert Snapshot.latest(root).id == third.id
    shutil.rmtree(third.folder)
    assert Snapshot.latest(root).id == second.id
    assert {str(p) for p in reads} == {str(third.folder)}  # only the new snapshot's manifest was read
    # a manifest rewritten in place (a different file) is read again
    manifest = first.folder / snapshot_format.MANIFEST
    manifest.write_text(manifest.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    reads.clear()
    assert Snapshot.latest(root).id == second.id and [str(p) for p in reads] == [str(first.folder)]
