"""Loading synthetic regions through entry.submit, on SQLite and PostgreSQL; the `gongwei synth` command."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from django.db import connection

from gongwei.cli.main import build_parser, main
from gongwei.records import bulk
from gongwei.records.schema import tables as schema_tables
from gongwei.synth.generate import generate_region
from gongwei.synth.load import load_region
from gongwei.synth.models import InjectedProblem

AS_OF = dt.date(2026, 6, 30)


@pytest.fixture(scope="module")
def small():
    return generate_region(5_000, 21, AS_OF, months=12)


def _counts() -> dict[str, int]:
    return {name: t.model.objects.count() for name, t in schema_tables().items()}


@pytest.mark.django_db
def test_load_writes_every_row_and_label_and_reload_changes_nothing(small):
    result = load_region(small, progress=False)
    assert not result.issues
    for name, t in small.tables.items():
        tr = result.tables[name]
        assert (tr.received, tr.inserted, tr.rejected) == (t.num_rows, t.num_rows, 0), name
    counts = _counts()
    for name, t in small.tables.items():
        assert counts[name] == t.num_rows, name
    assert InjectedProblem.objects.count() == small.labels.num_rows
    assert InjectedProblem.objects.filter(seed=21).count() == small.labels.num_rows
    if connection.vendor == "postgresql":  # planner statistics after the load (bulk._analyze_if_grown)
        from gongwei.records import models as m

        def rows_planned(model) -> float:
            with connection.cursor() as cur:
                cur.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
                return cur.fetchone()[0]

        # the residents grew by far more than a tenth: analysed, so the planner knows the 5,000; the unit tree is
        # too small for that rule, but a table never analysed (-1) is analysed on its first load (earlier tests of
        # the same database may have done so, with their own rows)
        assert rows_planned(m.Resident) == m.Resident.objects.count()
        assert rows_planned(m.OrgUnit) >= 0

    again = load_region(small, progress=False)
    assert again.written == 0
    assert all(tr.unchanged == tr.received for tr in again.tables.values())
    assert _counts() == counts
    assert InjectedProblem.objects.count() == small.labels.num_rows


def _schema_objects() -> set[tuple]:
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()")
            idx = set(cur.fetchall())
            cur.execute("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                        "WHERE contype = 'f'")
            return idx | set(cur.fetchall())
        cur.execute("SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'index'")
        return set(cur.fetchall())


@pytest.mark.django_db
def test_large_load_path_restores_indexes_and_foreign_keys(small, monkeypatch):
    """The bulk writer's drop-and-rebuild path (used from 50k rows) leaves the schema as it found it."""
    before = _schema_objects()
    monkeypatch.setattr(bulk, "REBUILD_MIN_ROWS", 100)
    result = load_region(small, progress=False)
    assert result.written == small.row_count
    assert _schema_objects() == before
    counts = _counts()
    for name, t in small.tables.items():
        assert counts[name] == t.num_rows, name
    # and the planner's statistics describe the loaded table, not the empty one it found
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT count(*) FROM pg_stats WHERE tablename = 'records_resident' AND attname = 'birth_date' "
                        "AND histogram_bounds IS NOT NULL")
            assert cur.fetchone()[0] == 1
        else:
            cur.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = 'records_resident' AND idx IS NOT NULL LIMIT 1")
            assert int(cur.fetchone()[0].split()[0]) == counts["residents"]


@pytest.mark.django_db
def test_synth_command_loads_the_database(capsys):
    assert main(["synth", "--residents", "800", "--seed", "3", "--as-of", "2026-06-30", "--months", "6",
                 "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "已写入数据库" in out
    from gongwei.records.models import Resident

    assert Resident.objects.count() >= 800
    assert InjectedProblem.objects.filter(seed=3).exists()


def test_synth_command_writes_the_import_folder(tmp_path, capsys):
    out_dir = tmp_path / "region"
    assert main(["synth", "--residents", "800", "--seed", "3", "--as-of", "2026-06-30", "--format", "csv",
                 "--out", str(out_dir), "--no-progress"]) == 0
    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    files = {f["file"] for f in manifest["files"]}
    assert {"residents.csv", "chronic_follow_ups.csv", "labels.csv"} <= files
    header = (out_dir / "labels.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.lstrip("\ufeff") == "problem,table,natural_key,related_key,detail,seed"


def test_synth_help_is_chinese():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    text = sub.choices["synth"].format_help()
    assert "--residents" in text and "--seed" in text and "居民人数" in text and "随机种子" in text
    with pytest.raises(SystemExit):
        main(["synth", "--residents", "0", "--seed", "1"])


@pytest.mark.scale
@pytest.mark.django_db
def test_one_million_residents():
    """Heavy: generation + load of 1 M residents with 12 months of services (deselected by default; run
    with ``pytest -m scale``)."""
    t0 = time.perf_counter()
    region = generate_region(1_000_000, 1, AS_OF, months=12)
    t1 = time.perf_counter()
    result = load_region(region, progress=False)
    t2 = time.perf_counter()
    assert result.written == region.row_count
    print(f"1M residents: generate {t1 - t0:.1f}s, load {t2 - t1:.1f}s, rows {region.row_count}")


@pytest.mark.django_db(transaction=True)
def test_load_outside_a_transaction(small):
    """The normal CLI path (no surrounding transaction): on SQLite keys are checked once, then re-enabled."""
    result = load_region(small, progress=False)
    assert result.written == small.row_count
    assert _counts()["residents"] == small.tables["residents"].num_rows
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("PRAGMA foreign_keys")
            assert cur.fetchone()[0] == 1
            cur.execute("PRAGMA foreign_key_check")
            assert cur.fetchall() == []
