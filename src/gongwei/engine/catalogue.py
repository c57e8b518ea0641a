"""Evaluate the indicator catalogue for every org unit at every level, with roll-up.

Per program, one backend query aggregates the per-person state table by managing unit (all flags at
once); the per-unit result is small, so roll-up to every ancestor is done in Arrow (:func:`gongwei.engine.orgs.roll_up`,
the engine's one roll-up). Counts of child
units therefore sum to their parent by construction (people are counted once, at their managing unit) —
except where a regional rule (spec.periods.YEAR_KIND_RULES) counts a child unit over another kind of year
than its parent: each figure is counted over its own unit's period, which the result names.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import importlib
import json
import os
import pkgutil
import re
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from functools import cache
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

import ibis
import ibis.expr.operations as ops
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from gongwei.engine import orgs, registry
from gongwei.engine.backends import Engine
from gongwei.engine.orgs import OrgTree, base_values
from gongwei.spec import catalogue as spec_catalogue
from gongwei.spec import periods as spec_periods
from gongwei.spec.periods import Period, year_kind
from gongwei.spec.rules import DenominatorKind, Indicator

RESULT_COLUMNS = ("indicator", "org_unit_id", "numerator", "denominator", "period")


def _flag_expr(eng: Engine, program: str, period: Period, flags: list[str]) -> ibis.Table:
    state = registry.state(eng, program, period)
    return state.group_by("managing_unit_id").aggregate(**{f: state[f].cast("int64").sum() for f in flags})


def flag_counts(eng: Engine, program: str, period: Period, flags: list[str]) -> pa.Table:
    """Per managing unit, the number of people with each flag set (one query)."""
    return eng.to_arrow(_flag_expr(eng, program, period, flags))


# --- compiled SQL cache -------------------------------------------------------------------------------------
# Building and compiling a program's Ibis expression costs more than running it for small regions and about as
# much for a city; the SQL depends only on the rulebook, the engine's code, the library versions, the snapshot's
# table schemas and the job (program, period, flags) — all in the key — so it is kept on disk and reused. The
# snapshot's name in table names is replaced by a placeholder, so a new snapshot reuses the SQL.
SQL_CACHE_FORMAT = "gongwei-sql/1"
_PLACEHOLDER = "\u2063SNAPSHOT\u2063_"  # invisible separator: cannot occur in compiled SQL


@cache
def engine_code_version() -> str:
    """A digest of the engine's source (the evaluators build the SQL)."""
    return spec_catalogue.source_digest(Path(__file__).parent)[:16]


@cache
def _rule_modules() -> tuple[ModuleType, ...]:
    """Every module of the rulebook and of the evaluators (all imported, so the set is the same in every
    process): their module-level values shape the SQL."""
    from gongwei import spec
    from gongwei.engine import programs

    names = sorted(info.name for package in (spec, programs)
                   for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."))
    return tuple(importlib.import_module(name) for name in names)


_ADDRESS = re.compile(r" at 0x[0-9a-f]+")


def _code_digest(code: CodeType, digest: Any) -> None:
    digest.update(code.co_code)
    for const in code.co_consts:
        if isinstance(const, CodeType):
            _code_digest(const, digest)
        else:
            digest.update(repr(const).encode())
    digest.update(repr(code.co_names).encode())


def _canonical(value: Any, depth: int = 0) -> str:
    """Text of a value that is the same in every process (sets are ordered by hash, which is salted)."""
    if depth > 20:
        return type(value).__name__
    if isinstance(value, set | frozenset):
        return "{" + ",".join(sorted(_canonical(v, depth + 1) for v in value)) + "}"
    if isinstance(value, tuple | list):
        return "(" + ",".join(_canonical(v, depth + 1) for v in value) + ")"
    if isinstance(value, dict):
        return "{" + ",".join(f"{_canonical(k, depth + 1)}:{_canonical(v, depth + 1)}" for k, v in value.items()) + "}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return type(value).__name__ + _canonical({f.name: getattr(value, f.name) for f in dataclasses.fields(value)},
                                                 depth + 1)
    return _ADDRESS.sub("", repr(value))


def rules_in_force() -> str:
    """A digest of the values the rulebook and evaluator modules hold now — parameters, tables and the code
    of their functions. The source hash (``rulebook_version``) misses a parameter set at run time (a
    regional configuration, a test's monkeypatch), which would otherwise reuse SQL compiled for the old one.
    Values whose text is an object address are taken by type only."""
    digest = hashlib.sha256()
    for module in _rule_modules():
        for name, value in sorted(vars(module).items()):
            if name.startswith("__") or isinstance(value, ModuleType | type):
                continue
            digest.update(f"{module.__name__}.{name}=".encode())
            func = getattr(value, "__wrapped__", value)
            code = getattr(func, "__code__", None)
            if isinstance(code, CodeType):
                _code_digest(code, digest)
            else:
                digest.update(_canonical(value).encode())
    return digest.hexdigest()


def sql_cache_key(eng: Engine, program: str, period: Period, flags: list[str], rules: str | None = None) -> str:
    parts = [SQL_CACHE_FORMAT, eng.backend, ibis.__version__, _backend_version(eng.backend),
             spec_catalogue.rulebook_version(), rules or rules_in_force(), engine_code_version(), eng.schema_key(),
             eng.region_code(), program, period.code, period.start.isoformat(), period.end.isoformat(), *flags]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


@cache
def _backend_version(backend: str) -> str:
    import importlib.metadata

    return importlib.metadata.version("duckdb" if backend == "duckdb" else "pyspark")


def _cacheable(eng: Engine, expr: ibis.Table) -> bool:
    """Only SQL over the snapshot's own tables: in-memory tables (``ibis.memtable``, ``Engine.memtable``)
    carry rows of this run that the SQL text does not."""
    op = expr.op()
    if op.find(ops.InMemoryTable):
        return False
    return all(t.name.startswith(eng.table_prefix) for t in op.find(ops.DatabaseTable))


def _compiled(eng: Engine, job: tuple[str, Period, list[str]], rules: str,
              key: str | None = None) -> tuple[str, pa.Schema]:
    """SQL and result schema of one catalogue job on DuckDB: from the cache when there, else built, compiled
    and (when it reads only the snapshot's tables and no data was read while building) stored. ``key``: the job's
    :func:`sql_cache_key`, when the caller has it."""
    program, period, flags = job
    path = None
    if eng.sql_cache is not None:
        path = eng.sql_cache / f"{key or sql_cache_key(eng, program, period, flags, rules)}.json"
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            entry = None
        if entry is not None and entry.get("format") == SQL_CACHE_FORMAT:
            for name in entry["tables"]:
                eng.register_view(name)
            schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(entry["schema"])))
            return entry["sql"].replace(_PLACEHOLDER, eng.table_prefix), schema
    reads = eng.data_reads
    expr = _flag_expr(eng, *job)
    sql, schema = str(eng.con.compile(expr)), expr.schema().to_pyarrow()
    if path is not None and eng.data_reads == reads and _cacheable(eng, expr):
        tables = sorted(t.name.removeprefix(eng.table_prefix) for t in expr.op().find(ops.DatabaseTable))
        entry = {"format": SQL_CACHE_FORMAT, "program": program, "period": period.code, "tables": tables,
                 "schema": base64.b64encode(schema.serialize().to_pybytes()).decode(),
                 "sql": sql.replace(eng.table_prefix, _PLACEHOLDER)}
        tmp = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(entry, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path)  # atomic: a concurrent reader sees no entry or a whole one
        except OSError:  # a read-only or full disk only costs the next run the compilation
            tmp.unlink(missing_ok=True)
    return sql, schema


def _run_on_cursor(con: Any, sql: str, schema: pa.Schema) -> pa.Table:
    cur = con.cursor()
    try:
        # a cursor starts with default session settings; the Ibis connection runs in UTC (dates of timestamps)
        cur.execute("SET TimeZone = 'UTC'")
        return cur.sql(sql).to_arrow_table().cast(schema)
    finally:
        cur.close()


PARALLEL_QUERIES = 2  # the catalogue's queries running at once (one per core of the machines measured)
QUERY_THREADS = 1  # DuckDB threads each, when the engine's database is its own


def _all_flag_counts(eng: Engine, jobs: list[tuple[str, Period, list[str]]]) -> Iterator[tuple[int, pa.Table]]:
    """``flag_counts`` of every job, as (index of the job, counts), in the order they finish. On DuckDB, the SQL
    comes from the cache or is compiled on the main thread, and each query runs on its own cursor in a worker
    thread (DuckDB releases the GIL while it executes), so compiling the next program overlaps running this one,
    and so does the caller's work on the counts already in (rolling them up to every level)."""
    if eng.backend != "duckdb":
        for i, job in enumerate(jobs):
            yield i, flag_counts(eng, *job)
        return
    rules = rules_in_force() if eng.sql_cache is not None else ""
    # Two queries at a time, each on one DuckDB thread, when the engine has its database to itself (a job, the
    # command line): the queries are many and small, and two of them splitting both cores each spent about a
    # tenth more CPU for no shorter wall time (docs/benchmarks.md §2.9). A database shared with the web
    # workers' engines keeps its setting: it is the whole database's, not one cursor's.
    own = eng.owns_database()
    if own:
        eng.con.raw_sql(f"SET threads = {QUERY_THREADS}")
    keys = [sql_cache_key(eng, *job, rules) for job in jobs] if eng.sql_cache is not None else None
    seconds: dict[str, float] = {}
    try:
        with ThreadPoolExecutor(max_workers=PARALLEL_QUERIES) as pool:
            order = longest_first(keys, _last_run_seconds(eng)) if keys else range(len(jobs))
            futures = {pool.submit(_timed_run, eng.con.con,
                                    *_compiled(eng, jobs[i], rules, keys[i] if keys else None)): i for i in order}
            for done in as_completed(futures):
                counts, took = done.result()
                if keys:
                    seconds[keys[futures[done]]] = took
                yield futures[done], counts
    finally:
        if own:
            eng.con.raw_sql("RESET threads")
    if seconds:
        _remember_run_seconds(eng, seconds)


# Each job's last run time, beside the cached SQL (one small file): the next run starts the longest queries first,
# so that the two at a time end together rather than one long query running alone at the end (at 2 M the
# heaviest program takes a sixth of the whole; in the order of the catalogue it could start last)
RUN_SECONDS = "run-seconds"  # JSON, named apart from the cached entries (*.json)
_KEPT_RUN_SECONDS = 2000  # entries kept: a few hundred jobs a night, over many periods and rulebook versions


def longest_first(keys: list[str], seconds: dict[str, float]) -> list[int]:
    """Indices of ``keys``: those never run first (their cost is unknown, and they may need compiling), then the
    rest by their last run time, longest first; ties in their given order."""
    return sorted(range(len(keys)), key=lambda i: (keys[i] in seconds, -seconds.get(keys[i], 0.0), i))


def _last_run_seconds(eng: Engine) -> dict[str, float]:
    assert eng.sql_cache is not None
    try:
        got = json.loads((eng.sql_cache / RUN_SECONDS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: float(v) for k, v in got.items()} if isinstance(got, dict) else {}


def _remember_run_seconds(eng: Engine, seconds: dict[str, float]) -> None:
    assert eng.sql_cache is not None
    merged = {k: v for k, v in _last_run_seconds(eng).items() if k not in seconds}
    merged.update((k, round(v, 4)) for k, v in seconds.items())
    kept = dict(list(merged.items())[-_KEPT_RUN_SECONDS:])  # the newest (a dict keeps the order of insertion)
    path = eng.sql_cache / RUN_SECONDS
    tmp = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(kept), encoding="utf-8")
        os.replace(tmp, path)  # atomic, as the SQL entries
    except OSError:  # only the next run's order is lost
        tmp.unlink(missing_ok=True)


def _timed_run(con: Any, sql: str, schema: pa.Schema) -> tuple[pa.Table, float]:
    started = time.perf_counter()
    counts = _run_on_cursor(con, sql, schema)
    return counts, time.perf_counter() - started


def effective_period(ind: Indicator, period: Period, region_code: str = "") -> Period:
    """The period ``ind`` is counted over when ``period`` is asked for, for a unit with statistical code
    ``region_code``: a plain year becomes the indicator's kind of year there (spec.periods.year_kind —
    maternal and child indicators on the Oct–Sep statistical year [mch-stat-year]); other periods are used as asked."""
    return period.for_year_kind(year_kind(ind.code, ind.period, period.year, region_code))


def unit_periods(ind: Indicator, period: Period, tree: OrgTree) -> dict[int, Period]:
    """The effective period of ``ind`` for every unit (one lookup when no regional rule names it)."""
    if not any(r.indicator == ind.code and r.region for r in spec_periods.YEAR_KIND_RULES):
        p = effective_period(ind, period)
        return dict.fromkeys(tree.ids, p)
    return {u: effective_period(ind, period, tree.code[u]) for u in tree.ids}


def _plan(chosen: list[Indicator], period: Period, tree: OrgTree) -> tuple[
        dict[tuple[str, str], set[str]], dict[str, Period], dict[str, dict[int, Period]]]:
    """The flags each (program, period code) must count, the periods by code, and each indicator's period by unit."""
    by_program: dict[tuple[str, str], set[str]] = {}
    periods: dict[str, Period] = {}
    of_unit: dict[str, dict[int, Period]] = {}
    for ind in chosen:
        prog, flag = ind.numerator.split(".")
        of_unit[ind.code] = unit_periods(ind, period, tree)
        for p in set(of_unit[ind.code].values()):
            periods[p.code] = p
            by_program.setdefault((prog, p.code), set()).add(flag)
            if ind.denominator_kind in (DenominatorKind.MANAGED_COHORT, DenominatorKind.EVENTS):
                by_program[(prog, p.code)].add(ind.denominator.split(".")[1])
    return by_program, periods, of_unit


def catalogue_jobs(eng: Engine, period: Period) -> list[tuple[str, Period, list[str]]]:
    """The (program, period, flags) queries :func:`evaluate` runs for the whole catalogue (for benchmarks)."""
    by_program, periods, _ = _plan(list(spec_catalogue.indicators().values()), period, OrgTree.load(eng.snapshot))
    return [(prog, periods[pcode], sorted(flags)) for (prog, pcode), flags in by_program.items()]


def evaluate(eng: Engine, period: Period, codes: list[str] | None = None) -> pa.Table:
    """Numerator and denominator of each indicator for every org unit (all levels), with the period each
    figure was counted over (``period``: a plain year asked for may be counted over the maternal and child
    year for some indicators, and where a region counts differently, for some units)."""
    tree = OrgTree.load(eng.snapshot)
    catalogue = spec_catalogue.indicators()
    chosen: list[Indicator] = [catalogue[c] for c in (codes or list(catalogue))]
    by_program, periods, of_unit = _plan(chosen, period, tree)
    keys = list(by_program)
    jobs = [(prog, periods[pcode], sorted(by_program[(prog, pcode)])) for prog, pcode in keys]
    ids = pa.array(tree.ids, pa.int64())
    # each (program, period)'s flags rolled up to every unit, as columns in the order of tree.ids
    rolled: dict[tuple[str, str], dict[str, pa.Array]] = {}
    for i, per_unit in _all_flag_counts(eng, jobs):
        up = orgs.roll_up(per_unit, tree.ancestor_pairs(), jobs[i][2], unit="managing_unit_id")
        at = pc.index_in(ids, value_set=up.column("org_unit_id"))  # null for a unit nobody counts in
        rolled[keys[i]] = {f: pc.fill_null(pc.take(up.column(f), at), 0).cast(pa.int64()) for f in jobs[i][2]}
    parts: list[pa.Table] = []
    bases_cache: dict[tuple[str, int], pa.Array] = {}

    def columns(ind: Indicator, pcode: str) -> tuple[pa.Array, pa.Array]:
        """Numerator and denominator of ``ind`` over ``pcode`` for every unit, in the order of tree.ids."""
        prog, flag = ind.numerator.split(".")
        counts = rolled[(prog, pcode)]
        if ind.denominator_kind in (DenominatorKind.MANAGED_COHORT, DenominatorKind.EVENTS):
            return counts[flag], counts[ind.denominator.split(".")[1]]
        key = (ind.denominator, periods[pcode].year)
        if key not in bases_cache:
            values = base_values(eng.snapshot, tree, key[1], ind.denominator)
            bases_cache[key] = pa.array([values.get(u) for u in tree.ids], pa.int64())
        return counts[flag], bases_cache[key]

    for ind in chosen:
        by_unit = of_unit[ind.code]
        codes_of_units = [by_unit[u].code for u in tree.ids]
        first, *others = sorted(set(codes_of_units))  # mostly one: where a regional rule counts some units apart, more
        num, den = columns(ind, first)
        for pcode in others:
            here = pa.array([c == pcode for c in codes_of_units], pa.bool_())
            other_num, other_den = columns(ind, pcode)
            num, den = pc.if_else(here, other_num, num), pc.if_else(here, other_den, den)
        parts.append(pa.table({
            "indicator": pa.array([ind.code] * len(ids), pa.string()), "org_unit_id": ids, "numerator": num,
            "denominator": den, "period": pa.array(codes_of_units, pa.string())}))
    if not parts:
        return pa.table({c: pa.array([], t) for c, t in zip(RESULT_COLUMNS, (pa.string(), pa.int64(), pa.int64(),
                                                                            pa.int64(), pa.string()), strict=True)})
    return pa.concat_tables(parts)


def with_rates(results: pa.Table) -> pa.Table:
    den = results.column("denominator")
    rate = pc.if_else(pc.fill_null(pc.greater(den, 0), False),
                      pc.divide(pc.cast(results.column("numerator"), pa.float64()), pc.cast(den, pa.float64())),
                      pa.scalar(None, pa.float64()))
    return results.append_column("rate", rate)


def store(results: pa.Table, root: Path, snapshot_id: str, period: Period) -> Path:
    """Keep results keyed by (snapshot, period, rulebook version) so a published figure can be reproduced."""
    folder = Path(root) / snapshot_id / period.code
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{spec_catalogue.rulebook_version()}.parquet"
    pq.write_table(results, path)
    return path


