"""The period each figure is counted over, and the catalogue's compiled-SQL cache.

Region: the women W1–W6 of tests/engine_fixtures_mch.py (worked through in test_engine_maternal) plus W7 in 林泉村:
LMP 2024-02-10, registered with the first prenatal check at 10 weeks (2024-04-20), delivered 2024-11-20. W7 delivered
inside the maternal and child statistical year 2025MCY (1 Oct 2024 – 30 Sep 2025, 全国妇幼卫生调查制度 [mch-stat-year]) but
not in the calendar year 2025.

M1 早孕建册率 = women delivered in the period who registered with a first check before 13 weeks (
M1 [rpt-jkda]):
- 2025MCY: W1 ✓ (城东), W2 ✗ (15 weeks, 城东), W3 ✓ (城西), W4 ✓ (林泉村), W7 ✓ (林泉村); W5 delivered 2024-09-15,
  before the year → 城东 1, 城西 1, 林泉村 2 → 蒲亭 2, 林泉 2, county 4.
- 2025CY (1 Jan – 31 Dec 2025): delivered W1, W2, W3, W4 (W7 in 2024) → 林泉村 1 → 蒲亭 2, 林泉 1, county 3.
The denominator is the live-birth base of the year 2025 either way: 城东 3, 城西 1, 林泉村 2 → 蒲亭 4, 林泉 2, county 6.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from gongwei.engine import catalogue, gaps
from gongwei.engine.backends import Engine
from gongwei.engine.orgs import OrgTree
from gongwei.engine.snapshot import Snapshot
from gongwei.records import entry
from gongwei.records.snapshot import take_snapshot
from gongwei.spec import catalogue as spec_catalogue
from gongwei.spec import periods as spec_periods
from gongwei.spec.periods import YearKind, YearKindRule, parse
from gongwei.spec.programs import maternal as maternal_spec
from gongwei.spec.rules import Source
from tests.engine_fixtures_mch import COUNTY, LINQUAN, LINQUAN_TOWN, PUTING, _rows, maternal_tables
from tests.engine_results import by_code
from tests.regions import ORG_UNITS, t

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sql_cache_in_its_default_place(monkeypatch):
    """These tests are of the compiled-SQL cache beside the snapshots: not the run's shared one (gongwei.testing)."""
    monkeypatch.delenv("GONGWEI_SQL_CACHE", raising=False)


def _snapshot(root) -> Snapshot:
    tables = maternal_tables()
    tables["residents"].append({"record_no": "W7", "name": "孕W7", "sex": "2", "birth_date": "1994-04-04",
                                "managing_unit": LINQUAN, "residence_type": "1"})
    tables["enrollments"].append({"enrollment_no": "EW7", "resident": "W7", "program": "pregnancy",
                                  "org_unit": LINQUAN, "start_date": "2024-04-20", "end_date": "2025-01-01",
                                  "end_reason": "episode_ended", "lmp_date": "2024-02-10",
                                  "delivery_date": "2024-11-20", "discharge_date": "2024-11-22"})
    tables["prenatal_visits"].append({"encounter_no": "PV-W7-0", "resident": "W7", "org_unit": LINQUAN,
                                      "service_date": "2024-04-20", "gestational_weeks": 10, "is_registration": "1",
                                      "enrollment": "EW7"})
    entry.submit({"org_units": ORG_UNITS, **{name: t(**_rows(rows)) for name, rows in tables.items()}},
                 actor="test", kind="test")
    return Snapshot.open(take_snapshot(root))


@pytest.fixture
def snap(tmp_path):
    return _snapshot(tmp_path / "snapshots")


def _periods(results) -> dict[tuple[str, int], str]:
    return {(r["indicator"], r["org_unit_id"]): r["period"] for r in results.to_pylist()}


def test_a_plain_year_counts_each_indicator_over_its_own_kind_of_year(snap):
    eng = Engine(snap)
    results = catalogue.evaluate(eng, parse("2025"), ["M1", "R1"])
    got = by_code(eng, results)
    assert got[("M1", COUNTY)] == (4, 6)  # 2025MCY, with W7
    assert got[("M1", LINQUAN_TOWN)] == (2, 2)
    periods = _periods(results)
    # every figure names the period it was counted over: M1 on the maternal and child year, R1 on the calendar year
    assert {p for (code, _), p in periods.items() if code == "M1"} == {"2025MCY"}
    assert {p for (code, _), p in periods.items() if code == "R1"} == {"2025"}


def test_either_kind_of_year_can_be_forced_for_every_indicator(snap):
    eng = Engine(snap)
    calendar = catalogue.evaluate(eng, parse("2025CY"), ["M1", "R1"])
    assert by_code(eng, calendar)[("M1", COUNTY)] == (3, 6)  # W7 delivered in 2024
    assert by_code(eng, calendar)[("M1", LINQUAN_TOWN)] == (1, 2)
    assert set(_periods(calendar).values()) == {"2025CY"}
    mcy = catalogue.evaluate(eng, parse("2025MCY"), ["M1", "R1"])
    assert by_code(eng, mcy)[("M1", COUNTY)] == (4, 6)
    assert set(_periods(mcy).values()) == {"2025MCY"}


def test_a_regional_rule_changes_the_kind_of_year_for_that_region_only(snap, monkeypatch):
    rule = YearKindRule("M1", 2025, YearKind.CALENDAR, Source("test: 林泉乡 counts M1 over the calendar year", "U"),
                        region="3604262")
    later = YearKindRule("M1", 2026, YearKind.CALENDAR, Source("test: from 2026 everywhere", "U"))
    monkeypatch.setattr(spec_periods, "YEAR_KIND_RULES", (rule, later))
    eng = Engine(snap)
    results = catalogue.evaluate(eng, parse("2025"), ["M1"])
    got, periods = by_code(eng, results), _periods(results)
    code_of = {v: k for k, v in OrgTree.load(snap).code.items()}
    # 林泉 (3604262…) on the calendar year: W4 only; 蒲亭 and the county keep 2025MCY (the 2026 rule is not yet in
    # force). The county's figure is its own, over 2025MCY (4), not the sum of its townships' mixed figures (2 + 1).
    assert (got[("M1", LINQUAN_TOWN)], periods[("M1", code_of[LINQUAN_TOWN])]) == ((1, 2), "2025")
    assert (got[("M1", LINQUAN)], periods[("M1", code_of[LINQUAN])]) == ((1, 2), "2025")
    assert (got[("M1", PUTING)], periods[("M1", code_of[PUTING])]) == ((2, 4), "2025MCY")
    assert (got[("M1", COUNTY)], periods[("M1", code_of[COUNTY])]) == ((4, 6), "2025MCY")
    # the drill-down of a unit lists the people of the figure shown for it
    page = gaps.people(eng, "M1", LINQUAN_TOWN, parse("2025"), part="numerator")
    assert (page.period, [p.record_no for p in page.people]) == ("2025", ["W4"])
    assert gaps.people(eng, "M1", COUNTY, parse("2025"), part="numerator").period == "2025MCY"


# --- compiled SQL cache ----------------------------------------------------------------------------------------

def _entries(snap: Snapshot) -> list:
    return sorted((snap.folder.parent / ".sql-cache").glob("*.json"))


def test_cached_sql_gives_the_same_results_as_compiling(snap, monkeypatch):
    codes = ["M1", "M2", "M3", "M4", "R1"]
    cold = catalogue.evaluate(Engine(snap), parse("2025"), codes)
    assert len(_entries(snap)) == 2  # maternal over 2025MCY, records over 2025
    warm = catalogue.evaluate(Engine(snap), parse("2025"), codes)
    monkeypatch.setenv("GONGWEI_SQL_CACHE", "off")
    uncached = catalogue.evaluate(Engine(snap), parse("2025"), codes)
    assert cold.to_pylist() == warm.to_pylist() == uncached.to_pylist()


def _tamper(snap: Snapshot) -> None:
    """Make every cached query return no rows: numerators read from the cache are then all 0."""
    for path in _entries(snap):
        entry_ = json.loads(path.read_text(encoding="utf-8"))
        entry_["sql"] = f"SELECT * FROM ({entry_['sql']}) AS cached WHERE false"
        path.write_text(json.dumps(entry_), encoding="utf-8")


def test_the_cache_is_used_and_a_new_rulebook_version_invalidates_it(snap, monkeypatch):
    period = parse("2025MCY")
    first = by_code(Engine(snap), catalogue.evaluate(Engine(snap), period, ["M1"]))
    assert first[("M1", COUNTY)] == (4, 6)
    _tamper(snap)
    eng = Engine(snap)
    assert by_code(eng, catalogue.evaluate(eng, period, ["M1"]))[("M1", COUNTY)] == (0, 6)  # served from the cache
    # a changed rulebook (its content hash) must not reuse SQL compiled for the old one
    monkeypatch.setattr(spec_catalogue, "rulebook_version", lambda: "spec-changed")
    eng = Engine(snap)
    assert by_code(eng, catalogue.evaluate(eng, period, ["M1"]))[("M1", COUNTY)] == (4, 6)


def test_a_parameter_changed_at_run_time_invalidates_the_cache(snap, monkeypatch):
    """M4 counts women with ≥ MIN_PRENATAL_VISITS (5) contacts [wuzhishan-2020]: W1, W3, W4 → 3 in 2025MCY (W2 has 4, W7 1).
    With the parameter set to 4 at run time (a regional setting, a test), W2 counts too → 4; the SQL compiled
    for 5 must not be reused although the rulebook's source is unchanged."""
    period = parse("2025MCY")
    eng = Engine(snap)
    assert by_code(eng, catalogue.evaluate(eng, period, ["M4"]))[("M4", COUNTY)] == (3, 6)
    monkeypatch.setattr(maternal_spec, "MIN_PRENATAL_VISITS", 4)
    eng = Engine(snap)
    assert by_code(eng, catalogue.evaluate(eng, period, ["M4"]))[("M4", COUNTY)] == (4, 6)


def test_rules_in_force_is_the_same_in_every_process_and_follows_values():
    # sets print in hash order, which differs between processes (PYTHONHASHSEED): the digest must not
    code = "from gongwei.engine.catalogue import rules_in_force; print(rules_in_force())"
    runs = {subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed},
                           capture_output=True, text=True, check=True).stdout.strip() for seed in ("1", "2")}
    before = catalogue.rules_in_force()
    assert runs == {before}
    old = spec_periods.MATERNAL_CHILD_YEAR_START_MONTH
    try:
        spec_periods.MATERNAL_CHILD_YEAR_START_MONTH = 9
        assert catalogue.rules_in_force() != before
    finally:
        spec_periods.MATERNAL_CHILD_YEAR_START_MONTH = old


def test_sql_of_a_program_that_reads_data_while_building_is_not_cached(snap, monkeypatch):
    """Such SQL may embed values of this snapshot's rows, which the key (schemas, not rows) does not cover."""
    from gongwei.engine import registry

    original = registry.state

    def reading_state(eng, program, period, units=None):
        eng.to_arrow(eng.table("org_units").count())  # e.g. a threshold taken from the data
        return original(eng, program, period, units)

    monkeypatch.setattr(registry, "state", reading_state)
    eng = Engine(snap)
    assert by_code(eng, catalogue.evaluate(eng, parse("2025MCY"), ["M1"]))[("M1", COUNTY)] == (4, 6)
    assert _entries(snap) == []


def test_the_snapshot_region_is_part_of_the_key(snap):
    """The hypertension evaluator picks the blood-pressure target by the region of the snapshot's root unit
    (hypertension.control_for) while it builds the SQL, so SQL compiled for one region must not serve a snapshot of
    another that shares the cache folder (the schemas, and so the rest of the key, are the same). The region is
    read from the org-unit table without running a backend query, so it does not make the SQL uncacheable."""
    eng = Engine(snap)
    assert eng.region_code() == "360000000000"  # 江西省, the root of tests/regions.ORG_UNITS
    job = ("hypertension", parse("2025"), ["controlled", "managed"])
    key = catalogue.sql_cache_key(eng, *job)
    other = Engine(snap)
    other._region_code = "440300000000"  # the same snapshot, as if it were another province's
    assert catalogue.sql_cache_key(other, *job) != key
    assert catalogue.sql_cache_key(Engine(snap), *job) == key
    reads = eng.data_reads
    catalogue.evaluate(eng, parse("2025"), ["H3"])
    assert eng.data_reads == reads  # nothing read while building: the SQL went to the cache
    assert len(_entries(snap)) == 1


def test_queries_run_on_one_duckdb_thread_each_only_on_a_database_of_the_engines_own(tmp_path, monkeypatch):
    # two queries at a time on one thread each (docs/benchmarks.md §2.9), and the setting restored afterwards; a
    # database the web workers' engines share is left as it is (the setting is the whole database's)
    from gongwei.engine.backends import SharedDatabase
    from tests.engine_fixtures_mch import build_snapshot

    snap = build_snapshot(tmp_path, ("child",))
    seen: list[int] = []
    run = catalogue._run_on_cursor

    def watching(con, sql, schema):
        seen.append(int(con.execute("SELECT current_setting('threads')").fetchone()[0]))
        return run(con, sql, schema)

    monkeypatch.setattr(catalogue, "_run_on_cursor", watching)
    own = Engine(snap, "duckdb")
    default = int(own.con.con.execute("SELECT current_setting('threads')").fetchone()[0])
    assert catalogue.evaluate(own, parse("2025"), ["C2"]).num_rows > 0
    assert seen and set(seen) == {catalogue.QUERY_THREADS}
    assert int(own.con.con.execute("SELECT current_setting('threads')").fetchone()[0]) == default
    seen.clear()
    shared = Engine(snap, "duckdb", SharedDatabase())
    catalogue.evaluate(shared, parse("2025"), ["C2"])
    assert seen and set(seen) == {default}


def test_longest_first_puts_jobs_never_run_first_then_the_longest():
    keys = ["a", "b", "c", "d", "e"]
    assert catalogue.longest_first(keys, {"a": 1.0, "b": 3.0, "d": 2.0, "e": 1.0}) == [2, 1, 3, 0, 4]
    assert catalogue.longest_first(keys, {}) == [0, 1, 2, 3, 4]


def test_the_next_run_starts_the_queries_that_took_longest_first(tmp_path, monkeypatch):
    # each job's run time is kept beside the cached SQL, and the next run submits the jobs in that order, longest
    # first (two at a time: the longest starting last would run alone at the end)
    from tests.engine_fixtures_mch import build_snapshot

    monkeypatch.setenv("GONGWEI_SQL_CACHE", str(tmp_path / "cache"))
    snap = build_snapshot(tmp_path, ("child", "vaccination"))
    submitted: list[tuple[str, str]] = []
    compiled = catalogue._compiled

    def watching(eng, job, *args):
        submitted.append((job[0], job[1].code))
        return compiled(eng, job, *args)

    monkeypatch.setattr(catalogue, "_compiled", watching)
    eng = Engine(snap, "duckdb")
    first = catalogue.evaluate(eng, parse("2025"))
    jobs = catalogue.catalogue_jobs(eng, parse("2025"))
    keys = [catalogue.sql_cache_key(eng, *job) for job in jobs]
    path = eng.sql_cache / catalogue.RUN_SECONDS
    kept = json.loads(path.read_text(encoding="utf-8"))
    assert set(keys) <= set(kept) and all(kept[k] > 0 for k in keys)
    assert submitted == [(p, period.code) for p, period, _ in jobs]  # nothing known yet: the catalogue's order
    # say the catalogue's last job took longest, then the one before it, and so on
    path.write_text(json.dumps({k: float(i + 1) for i, k in enumerate(keys)}), encoding="utf-8")
    submitted.clear()
    again = catalogue.evaluate(Engine(snap, "duckdb"), parse("2025"))
    assert submitted == [(p, period.code) for p, period, _ in reversed(jobs)]
    order = [("indicator", "ascending"), ("org_unit_id", "ascending"), ("period", "ascending")]
    assert again.sort_by(order).equals(first.sort_by(order))
