"""The engine's per-unit counts equal a plain-Python computation of the same rules on a synthetic region."""

from __future__ import annotations

import datetime as dt

import pytest

from gongwei.engine import catalogue
from gongwei.engine.backends import Engine
from gongwei.engine.snapshot import Snapshot
from gongwei.records.snapshot import take_snapshot
from gongwei.spec.periods import parse
from gongwei.synth.generate import generate_region
from gongwei.synth.load import load_region
from tests import plain

pytestmark = pytest.mark.django_db

PERIODS = ("2025", "2025Q2", "2026-11-24")


@pytest.fixture(scope="module")
def synthetic_snapshot(tmp_path_factory, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        region = generate_region(20_000, seed=7, as_of=dt.date(2026, 11, 24))
        load_region(region, progress=False)
        folder = take_snapshot(tmp_path_factory.mktemp("snap"))
        yield Snapshot.open(folder)
        from django.core.management import call_command

        call_command("flush", interactive=False, verbosity=0)


@pytest.mark.parametrize("period_code", PERIODS)
def test_engine_equals_plain_python(synthetic_snapshot, period_code):
    period = parse(period_code)
    eng = Engine(synthetic_snapshot, "duckdb")
    compared = 0
    for module in plain.modules():
        tables = plain.load_tables(synthetic_snapshot.folder, module.TABLES)
        for program in module.PROGRAMS:
            expected = module.state(tables, program, period)
            flags = sorted(expected)
            got = catalogue.flag_counts(eng, program, period, flags).to_pylist()
            for flag in flags:
                engine_counts = {r["managing_unit_id"]: r[flag] for r in got if r[flag]}
                assert engine_counts == dict(expected[flag]), (program, flag, period_code)
                compared += sum(expected[flag].values())
    assert compared > 0


@pytest.mark.sqlite_only  # the Spark backend on a snapshot: once, not per database (docs/testing.md)
def test_whole_catalogue_duckdb_equals_pyspark(synthetic_snapshot, monkeypatch):
    """Every indicator of the catalogue, for every unit, on the synthetic region: PySpark gives the same
    numerators and denominators as DuckDB (one definition, two backends)."""
    monkeypatch.delenv("GONGWEI_SQL_CACHE", raising=False)  # the cache's default place, beside the snapshot
    from gongwei.spec import catalogue as spec_catalogue

    codes = sorted(spec_catalogue.indicators())
    order = [("indicator", "ascending"), ("org_unit_id", "ascending")]
    keep = ["indicator", "org_unit_id", "numerator", "denominator"]
    period = parse("2025")
    duck = catalogue.evaluate(Engine(synthetic_snapshot, "duckdb"), period, codes).select(keep).sort_by(order)
    spark = catalogue.evaluate(Engine(synthetic_snapshot, "pyspark"), period, codes).select(keep).sort_by(order)
    assert duck.num_rows > 0 and {r["indicator"] for r in duck.to_pylist()} == set(codes)
    assert duck.to_pylist() == spark.to_pylist()
    # a second DuckDB run reads every program's SQL from the compiled-SQL cache the first one filled
    assert list((synthetic_snapshot.folder.parent / ".sql-cache").glob("*.json"))
    cached = catalogue.evaluate(Engine(synthetic_snapshot, "duckdb"), period, codes).select(keep).sort_by(order)
    assert cached.to_pylist() == spark.to_pylist()
