"""The per-process DuckDB database of each snapshot (gongwei.service.snapshots.EngineCache): engines share it on
their own cursors, from many threads at once; a newer snapshot replaces it and it is closed once unused; bounded."""

from __future__ import annotations

import gc
import json
import threading
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gongwei.engine.snapshot import SNAPSHOT_FORMAT, Snapshot
from gongwei.service.snapshots import EngineCache


def make_snapshot(root, name: str, rows: int) -> Snapshot:
    folder = root / name
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"n": list(range(rows))}), folder / "people.parquet")
    (folder / "manifest.json").write_text(json.dumps({
        "format": SNAPSHOT_FORMAT, "id": name, "taken_at": f"2026-11-28T0{len(name) % 9}:00:00",
        "tables": {"people": {"rows": rows}}}), encoding="utf-8")
    return Snapshot.open(folder)


def rows(eng) -> int:
    return int(eng.con.execute(eng.table("people").count()))


def test_engines_of_one_snapshot_share_one_database_on_their_own_cursors(tmp_path):
    cache = EngineCache()
    snap = make_snapshot(tmp_path, "a", 5)
    first, second = cache.engine(snap, latest=True), cache.engine(snap, latest=True)
    assert first is not second and first.con.con is not second.con.con  # two cursors
    assert rows(first) == 5 and rows(second) == 5
    assert cache.opened == 1 and len(cache) == 1


def test_many_threads_at_once_read_the_same_snapshot(tmp_path):
    cache = EngineCache()
    snap = make_snapshot(tmp_path, "a", 1000)
    got, errors = [], []

    def page() -> None:
        try:
            for _ in range(5):
                got.append(rows(cache.engine(snap, latest=True)))
        except Exception as exc:  # pragma: no cover - the assertion below shows it
            errors.append(exc)

    threads = [threading.Thread(target=page) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and got == [1000] * 40 and cache.opened == 1


def test_a_newer_snapshot_replaces_the_old_database_which_is_closed_once_unused(tmp_path):
    cache = EngineCache()
    old_snap, new_snap = make_snapshot(tmp_path, "a", 3), make_snapshot(tmp_path, "bb", 4)
    held = cache.engine(old_snap, latest=True)
    old_db = cache._entries[next(iter(cache._entries))].database
    newer = cache.engine(new_snap, latest=True)
    assert cache.opened == 2 and len(cache) == 1 and rows(newer) == 4
    assert rows(held) == 3  # a request still reading the old snapshot finishes
    del held
    gc.collect()
    with pytest.raises(Exception, match="(?i)closed"):
        old_db.con.execute("SELECT 1")
    assert rows(cache.engine(new_snap, latest=True)) == 4 and cache.opened == 2


def test_the_cache_is_bounded_and_a_changed_folder_is_opened_again(tmp_path):
    cache = EngineCache(size=2)
    snaps = [make_snapshot(tmp_path, n, i + 1) for i, n in enumerate(("a", "b", "c"))]
    for s in snaps:
        assert rows(cache.engine(s)) == s.tables["people"]
    assert len(cache) == 2 and cache.opened == 3
    manifest = snaps[2].folder / "manifest.json"
    time.sleep(0.01)
    manifest.write_text(manifest.read_text(encoding="utf-8"), encoding="utf-8")  # rewritten: another folder state
    cache.engine(Snapshot.open(snaps[2].folder))
    assert cache.opened == 4


@pytest.mark.django_db
def test_the_service_hands_out_engines_of_the_cached_database(tmp_path, settings):
    from gongwei.service import snapshots

    settings.DATA_DIR = tmp_path
    make_snapshot(snapshots.snapshot_root(), "a", 2)
    before = snapshots.ENGINES.opened
    engines = [snapshots.engine(None, take_if_missing=False) for _ in range(3)]
    assert [rows(e) for e in engines] == [2, 2, 2] and snapshots.ENGINES.opened == before + 1
