"""The snapshot's DuckDB copy (engine/native.py, ADR 038): the engine reads it when it is there and was made from
that snapshot, and the figures are the same as from the Parquet files.

Region: the maternal fixture of tests/engine_fixtures_mch.py (its figures are worked in test_engine_maternal and
test_engine_catalogue); here only the equality of the two storages matters, on every indicator and unit.
"""

from __future__ import annotations

import os
import shutil

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from gongwei.engine import catalogue, native
from gongwei.engine.backends import Engine, SharedDatabase
from gongwei.records import entry
from gongwei.service import snapshots
from gongwei.spec.periods import parse
from tests.engine_fixtures_mch import _rows, maternal_tables
from tests.regions import ORG_UNITS, t

pytestmark = pytest.mark.django_db


@pytest.fixture
def snap(tmp_path, monkeypatch):
    monkeypatch.setenv("GONGWEI_SQL_CACHE", "off")  # the cache reads each Parquet file's schema
    monkeypatch.setattr(native, "MIN_ROWS", 0)  # a fixture is far below the size the copy is written for
    entry.submit({"org_units": ORG_UNITS, **{name: t(**_rows(rows)) for name, rows in maternal_tables().items()}},
                 actor="test", kind="test")
    return snapshots.take(root=tmp_path / "snapshots")


# the maternal indicators the fixture is about, and one each of records, child health and family doctor (all the
# catalogue would only repeat the same reads; each indicator's figures are the other tests' subject)
CODES = ["M1", "M2", "M3", "M4", "R1", "R2", "R3", "C2", "F1"]  # R3 reads the copy's derived blank columns


def _sorted(results):
    return results.sort_by([("indicator", "ascending"), ("org_unit_id", "ascending"), ("period", "ascending")])


def test_taking_a_snapshot_writes_the_copy_and_the_catalogue_reads_it(snap):
    assert native.usable(snap) and native.path(snap).stat().st_mode & 0o077 == 0  # owner only, like the Parquet
    eng = Engine(snap, "duckdb")
    from_copy = _sorted(catalogue.evaluate(eng, parse("2025MCY"), CODES))
    assert eng._native_alias  # the views read the attached copy
    aside = native.path(snap).rename(native.path(snap).with_name("aside"))
    from_parquet = _sorted(catalogue.evaluate(Engine(snap, "duckdb"), parse("2025MCY"), CODES))
    assert from_copy.num_rows > 0 and from_copy.equals(from_parquet)
    # proof that the copy is what is read: without the residents' Parquet file, the copy still gives the figures
    aside.rename(native.path(snap))
    snap.path("residents").rename(snap.path("residents").with_name("gone"))
    assert _sorted(catalogue.evaluate(Engine(snap, "duckdb"), parse("2025MCY"), CODES)).equals(from_parquet)


def test_a_shared_database_attaches_the_copy_once_for_its_engines(snap):
    shared = SharedDatabase()
    first, second = Engine(snap, "duckdb", shared), Engine(snap, "duckdb", shared)
    a = catalogue.evaluate(first, parse("2025"), CODES)
    b = catalogue.evaluate(second, parse("2025"), CODES)
    assert a.equals(b) and first._native_alias
    attached = shared.con.execute("SELECT count(*) FROM duckdb_databases() WHERE database_name = ?",
                                  [first._native_alias]).fetchone()[0]
    views = shared.con.execute("SELECT count(*), count(*) FILTER (WHERE sql LIKE ?) FROM duckdb_views() "
                               "WHERE NOT internal", [f'%{first._native_alias}%']).fetchone()
    assert attached == 1 and views[0] > 0 and views[0] == views[1]  # one attachment; every view reads the copy


def test_a_copy_made_from_another_snapshot_is_not_read(snap, tmp_path):
    other = snapshots.take(root=tmp_path / "other")
    shutil.copyfile(native.path(snap), native.path(other))  # e.g. a folder restored by hand
    eng = Engine(other, "duckdb")
    got = catalogue.evaluate(eng, parse("2025"), CODES)
    assert eng._native_alias == "" and got.num_rows > 0  # the Parquet files were read


def test_a_copy_duckdb_cannot_open_is_passed_over_for_the_parquet_files(snap):
    native.path(snap).write_bytes(b"not a DuckDB database")  # damaged, or written by another storage version
    eng = Engine(snap, "duckdb")
    assert catalogue.evaluate(eng, parse("2025"), CODES).num_rows > 0 and eng._native_alias == ""


def test_a_small_snapshot_gets_no_copy(tmp_path, monkeypatch):
    monkeypatch.setattr(native, "MIN_ROWS", 10_000)
    entry.submit({"org_units": ORG_UNITS, **{name: t(**_rows(rows)) for name, rows in maternal_tables().items()}},
                 actor="test", kind="test")
    small = snapshots.take(root=tmp_path / "snapshots")
    assert sum(small.tables.values()) < 10_000 and not native.usable(small)
    eng = Engine(small, "duckdb")
    assert catalogue.evaluate(eng, parse("2025"), ["M1"]).num_rows > 0 and eng._native_alias == ""


def test_the_copy_derives_each_checked_text_fields_blankness_as_the_engine_judges_it(tmp_path):
    # blank = no value, or only spaces, tabs and line breaks (what TRIM removes on both backends); a full-width
    # space or a character after the whitespace is a value
    values = [None, "", " ", "\t\n\r", "\x0b\x0c ", " 汉", "汉 ", "\u3000", "x"]
    expected = [True, True, True, True, True, False, False, False, False]
    file = tmp_path / "residents.parquet"
    pq.write_table(pa.table({"id": list(range(len(values))), "name": values, "sex": ["1"] * len(values),
                             "note": values}), file)
    derived: dict[str, list[str]] = {}
    rows = duckdb.connect().sql(native._select_with_derived("residents", file, derived)
                                + " ORDER BY id").to_arrow_table()
    assert derived == {"residents": ["name__blank", "sex__blank"]}  # "note" is no field the rulebook checks
    assert rows.column("name__blank").to_pylist() == expected
    assert rows.column("sex__blank").to_pylist() == [False] * len(values)
    assert rows.column_names[:4] == ["id", "name", "sex", "note"]  # the file's columns first, as they are


def test_the_records_query_reads_the_pairing_from_the_copy_only(snap):
    # from the copy: the residents paired with their records and their fields checked when it was written; from the
    # Parquet files: the join and the checks in the query
    from gongwei.engine import registry
    from gongwei.engine.programs import records

    def records_sql(eng):
        return str(eng.con.compile(registry.state(eng, "records", parse("2025"))))

    from_copy = records_sql(Engine(snap, "duckdb"))
    assert native.DERIVED_PREFIX + records.derived_name(2017) in from_copy
    assert "health_records" not in from_copy and "ascii" not in from_copy.lower()
    native.path(snap).rename(native.path(snap).with_name("aside"))
    from_parquet = records_sql(Engine(snap, "duckdb"))
    assert records.DERIVED_PREFIX not in from_parquet
    assert "health_records" in from_parquet and "ascii" in from_parquet.lower()


def test_a_copy_written_in_another_format_is_passed_over(snap):
    con = duckdb.connect(str(native.path(snap)))
    con.execute("UPDATE _gongwei_snapshot SET format = 'gongwei-native/1'")  # e.g. written before the derived columns
    con.close()
    eng = Engine(snap, "duckdb")
    assert catalogue.evaluate(eng, parse("2025"), CODES).num_rows > 0 and eng._native_alias == ""



def _findings(snap):
    from gongwei.engine import quality

    got = quality.evaluate(Engine(snap, "duckdb"), parse("2025"))
    keys = [c for c in got.column_names
            if pa.types.is_integer(got.schema.field(c).type) or pa.types.is_string(got.schema.field(c).type)]
    return got.sort_by([(c, "ascending") for c in keys])


def test_a_region_with_blank_fields_counts_and_finds_the_same_from_the_copy(tmp_path, monkeypatch):
    # the population region (tests/engine_fixtures_population.py): resident A2's health record leaves blood type
    # and education blank, so R3 (standardized records) and QC rule C-01 (basic information incomplete) read the
    # copy's derived columns where they would otherwise check the fields in the query
    from tests.engine_fixtures_population import build_snapshot

    monkeypatch.setenv("GONGWEI_SQL_CACHE", "off")
    snap = build_snapshot(tmp_path)
    native.write(snap)
    eng = Engine(snap, "duckdb")
    from_copy = _sorted(catalogue.evaluate(eng, parse("2025")))
    findings_from_copy = _findings(snap)

    # and the records' state rows, from the copy's pairing as from the query's, row for row: A6 died on 1 March
    # 2025 (recorded to 2024, not in the first quarter), C3's record was created in 2026, A5 was merged, B4
    # holds B3's identity key (a duplicate from its creation), A7 is no usual resident
    def records_states(eng):
        from gongwei.engine import registry

        return [sorted(eng.to_arrow(registry.state(eng, "records", parse(p))).to_pylist(),
                       key=lambda r: r["resident_id"]) for p in ("2025", "2024", "2025Q1", "2026")]

    states_from_copy = records_states(eng)
    counts = [(len(rows), sum(r["is_duplicate_id"] for r in rows), sum(r["is_merged"] for r in rows))
              for rows in states_from_copy]
    assert counts[2][0] < counts[1][0] and counts[3][0] > counts[0][0] and all(c[1] and c[2] for c in counts)
    assert eng._native_alias
    native.path(snap).rename(native.path(snap).with_name("aside"))
    assert _sorted(catalogue.evaluate(Engine(snap, "duckdb"), parse("2025"))).equals(from_copy)
    assert _findings(snap).equals(findings_from_copy)
    assert records_states(Engine(snap, "duckdb")) == states_from_copy
    rules = findings_from_copy.column("rule").to_pylist()
    assert "C-01" in rules  # A2's blank fields, found from the derived columns as from the fields themselves
    r1, r3 = (from_copy.filter(pc.equal(from_copy.column("indicator"), code)) for code in ("R1", "R3"))
    assert sum(r3.column("numerator").to_pylist()) < sum(r1.column("numerator").to_pylist())



def test_the_child_and_vaccination_facts_are_read_from_the_copy_as_the_queries_would_count_them(tmp_path, monkeypatch):
    # the child and vaccination regions of test_engine_child and test_engine_vaccination (checks inside and outside
    # their windows, the full-month window, a voided newborn visit, TCM guidance done and missed; doses on time,
    # late, early, of another edition, straddling the 2025 change): the state tables and indicators from the
    # copy's derived tables are the ones the queries compute from the records, row for row and null for null —
    # for a year and for a quarter (a dose given after the quarter's end counts only later)
    from gongwei.engine import registry
    from gongwei.engine.programs import child, vaccination
    from gongwei.spec import catalogue as spec_catalogue
    from gongwei.spec.programs import vaccination as vaccination_spec
    from tests.engine_fixtures_mch import build_snapshot

    monkeypatch.setenv("GONGWEI_SQL_CACHE", "off")
    snap = build_snapshot(tmp_path, ("child", "vaccination"))
    native.write(snap)
    codes = [c for c, ind in spec_catalogue.indicators().items() if ind.program_code in ("child", "vaccination")]
    runs = [("child", "2025MCY"), ("vaccination", "2025"), ("vaccination", "2025Q2"), ("vaccination", "2024")]

    def states_and_figures(eng):
        states = [sorted(eng.to_arrow(registry.state(eng, program, parse(period))).to_pylist(),
                         key=lambda r: r["resident_id"]) for program, period in runs]
        return states, [_sorted(catalogue.evaluate(eng, parse(p), codes)) for p in ("2025", "2025Q2")]

    def sql(eng, program, period):
        return str(eng.con.compile(registry.state(eng, program, parse(period))))

    copy_eng = Engine(snap, "duckdb")
    tables = [child.DERIVED] + [vaccination.derived_name(e) for e in vaccination_spec.EDITIONS]
    assert all(copy_eng.derived(name) is not None for name in tables)
    # the TCM guidance is read only for its windows, and vaccinations only for their dates: from the copy, not at all
    assert native.DERIVED_PREFIX + child.DERIVED in sql(copy_eng, "child", "2025MCY")
    assert "child_tcm_guidance" not in sql(copy_eng, "child", "2025MCY")
    assert "_vaccinations" not in sql(copy_eng, "vaccination", "2025")
    from_copy = states_and_figures(copy_eng)
    native.path(snap).rename(native.path(snap).with_name("aside"))
    parquet_eng = Engine(snap, "duckdb")
    assert all(parquet_eng.derived(name) is None for name in tables)
    assert "child_tcm_guidance" in sql(parquet_eng, "child", "2025MCY")
    assert "_vaccinations" in sql(parquet_eng, "vaccination", "2025")
    from_parquet = states_and_figures(parquet_eng)
    assert from_copy[0] == from_parquet[0]
    assert all(a.equals(b) for a, b in zip(from_copy[1], from_parquet[1], strict=True))
    kids, vaccinated = from_copy[0][0], from_copy[0][1]
    done = [r[f"check_{i.key}_done"] for r in kids for i in child.child.CHECKS]
    assert {0, 1, None} <= set(done)  # done, a record outside the window, and no check at all
    has = [r[f"has_{d.key}"] for r in vaccinated for d in vaccination_spec.schedule_for(2025).doses]
    assert {0, 1, None} <= set(has)  # given on time, only records that do not count, no record by the period end
    assert all(sum(f.column("numerator").to_pylist()) > 0 for f in from_copy[1])


def test_a_copy_whose_derived_tables_were_defined_otherwise_is_passed_over(snap, monkeypatch):
    # a change to the schedule (here: the TCM windows) changes the derived table's SQL, hence the copy's format
    from gongwei.spec.programs import child as child_spec

    assert native.made_for({"snapshot_id": snap.id, "format": native.format_version()}, snap)
    written = native.format_version()
    native.format_version.cache_clear()
    monkeypatch.setattr(child_spec, "TCM_ITEMS", child_spec.TCM_ITEMS[:-1])
    try:
        assert native.format_version() != written
    finally:
        native.format_version.cache_clear()


def test_the_first_visits_are_read_from_the_copy_as_the_query_would_find_them(tmp_path, monkeypatch):
    # the region of test_engine_records8 (a visit in December 2024 before the 2025 one, two visits on one day told
    # apart by their number, a void first visit, a first visit after the second quarter, a 34-year-old): the
    # consultation state and H5/D5 from the copy's first visits per year are the ones the query finds from the
    # visits, for a year, a quarter, a year to date, the year before, and a maternal–child year (which spans two
    # calendar years, so it is computed from the visits even when the copy is there)
    from gongwei.engine import registry
    from gongwei.engine.programs import consultation
    from tests.engine_fixtures_records8 import build_snapshot

    monkeypatch.setenv("GONGWEI_SQL_CACHE", "off")
    snap = build_snapshot(tmp_path)
    native.write(snap)
    periods = ["2025", "2025Q2", "2025-07-07", "2024", "2025MCY"]

    def states_and_figures(eng):
        states = [sorted(eng.to_arrow(registry.state(eng, "consultation", parse(p))).to_pylist(),
                         key=lambda r: r["resident_id"]) for p in periods]
        return states, [_sorted(catalogue.evaluate(eng, parse(p), ["H5", "D5"])) for p in periods]

    def sql(eng, period):
        return str(eng.con.compile(registry.state(eng, "consultation", parse(period))))

    copy_eng = Engine(snap, "duckdb")
    assert copy_eng.derived(consultation.DERIVED) is not None
    assert native.DERIVED_PREFIX + consultation.DERIVED in sql(copy_eng, "2025Q2")
    assert native.DERIVED_PREFIX + consultation.DERIVED not in sql(copy_eng, "2025MCY")
    from_copy = states_and_figures(copy_eng)
    native.path(snap).rename(native.path(snap).with_name("aside"))
    parquet_eng = Engine(snap, "duckdb")
    assert parquet_eng.derived(consultation.DERIVED) is None
    from_parquet = states_and_figures(parquet_eng)
    assert from_copy[0] == from_parquet[0]
    assert all(a.equals(b) for a, b in zip(from_copy[1], from_parquet[1], strict=True))
    first_in = {p: {r["first_visit_date"].isoformat() for r in rows} for p, rows in zip(periods, from_copy[0], strict=True)}
    assert "2024-12-20" in first_in["2024"] and "2025-02-02" in first_in["2025"]  # A3: one first visit per year
    assert "2025-07-07" in first_in["2025-07-07"] and "2025-07-07" not in first_in["2025Q2"]  # A5, after Q2


def test_the_copys_format_is_the_same_in_every_process():
    # the format digests the derived tables' compiled SQL; a column list or an IN list built from a set compiles in
    # an order that follows the process's string hashing, and a copy would then be passed over by every other
    # process (the web workers, the next night's catalogue) as written in another format
    import subprocess
    import sys

    code = "from gongwei.engine import native; print(native.format_version())"
    seen = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip() for seed in ("1", "2", "3")}
    assert seen == {native.format_version()}
