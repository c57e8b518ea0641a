"""Evaluate the indicator catalogue for every org unit at every level, with roll-up.

Per program, one backend query aggregates the per-person state table by managing unit (all flags at
once); the per-unit result is small, so roll-up to every ancestor is done in Arrow. Counts of child
units therefore sum to their parent by construction (people are counted once, at their managing unit).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from gongwei.engine import registry
from gongwei.engine.backends import Engine
from gongwei.engine.orgs import OrgTree, base_values
from gongwei.spec import catalogue as spec_catalogue
from gongwei.spec.periods import Period, PeriodKind, parse
from gongwei.spec.rules import DenominatorKind, Indicator

RESULT_COLUMNS = ("indicator", "org_unit_id", "numerator", "denominator")


def _flag_expr(eng: Engine, program: str, period: Period, flags: list[str]) -> ibis.Table:
    state = registry.state(eng, program, period)
    return state.group_by("managing_unit_id").aggregate(**{f: state[f].cast("int64").sum() for f in flags})


def flag_counts(eng: Engine, program: str, period: Period, flags: list[str]) -> pa.Table:
    """Per managing unit, the number of people with each flag set (one query)."""
    return eng.to_arrow(_flag_expr(eng, program, period, flags))


def _run_on_cursor(con: Any, sql: str, schema: pa.Schema) -> pa.Table:
    cur = con.cursor()
    try:
        # a cursor starts with default session settings; the Ibis connection runs in UTC (dates of timestamps)
        cur.execute("SET TimeZone = 'UTC'")
        return cur.sql(sql).to_arrow_table().cast(schema)
    finally:
        cur.close()


def _all_flag_counts(eng: Engine, jobs: list[tuple[str, Period, list[str]]]) -> list[pa.Table]:
    """``flag_counts`` of every job. On DuckDB, each query runs on its own cursor in a worker thread while
    the main thread builds and compiles the next one (DuckDB releases the GIL while it executes)."""
    if eng.backend != "duckdb" or len(jobs) < 2:
        return [flag_counts(eng, *job) for job in jobs]
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = []
        for job in jobs:
            expr = _flag_expr(eng, *job)
            futures.append(pool.submit(_run_on_cursor, eng.con.con, str(eng.con.compile(expr)),
                                       expr.schema().to_pyarrow()))
        return [f.result() for f in futures]


def _roll_up(per_unit: pa.Table, tree: OrgTree, value_columns: list[str]) -> pa.Table:
    """Sum per-unit counts into every ancestor (and the unit itself)."""
    joined = per_unit.join(tree.ancestor_pairs(), "managing_unit_id", "unit_id")
    grouped = joined.group_by("ancestor_id").aggregate([(c, "sum") for c in value_columns])
    return pa.table({"ancestor_id": grouped.column("ancestor_id"),
                     **{c: grouped.column(f"{c}_sum") for c in value_columns}})


def effective_period(ind: Indicator, period: Period) -> Period:
    """Maternal and child indicators asked for a calendar year use the Oct–Sep statistical year [V 53]."""
    if ind.period == "mcy" and period.kind is PeriodKind.YEAR:
        return parse(f"{period.year}MCY")
    return period


def evaluate(eng: Engine, period: Period, codes: list[str] | None = None) -> pa.Table:
    """Numerator and denominator of each indicator for every org unit (all levels)."""
    tree = OrgTree.load(eng.snapshot)
    catalogue = spec_catalogue.indicators()
    chosen: list[Indicator] = [catalogue[c] for c in (codes or list(catalogue))]
    by_program: dict[tuple[str, str], set[str]] = {}
    periods: dict[str, Period] = {}
    for ind in chosen:
        prog, flag = ind.numerator.split(".")
        p = effective_period(ind, period)
        periods[p.code] = p
        by_program.setdefault((prog, p.code), set()).add(flag)
        if ind.denominator_kind in (DenominatorKind.MANAGED_COHORT, DenominatorKind.EVENTS):
            by_program[(prog, p.code)].add(ind.denominator.split(".")[1])
    rolled: dict[tuple[str, str], dict[tuple[int, str], int]] = {}
    keys = list(by_program)
    counted = _all_flag_counts(eng, [(prog, periods[pcode], sorted(by_program[(prog, pcode)])) for prog, pcode in keys])
    for (prog, pcode), per_unit in zip(keys, counted, strict=True):
        flags_sorted = sorted(by_program[(prog, pcode)])
        up = _roll_up(per_unit, tree, flags_sorted)
        values: dict[tuple[int, str], int] = {}
        ids = up.column("ancestor_id").to_pylist()
        for f in flags_sorted:
            for unit, v in zip(ids, up.column(f).to_pylist(), strict=True):
                values[(unit, f)] = int(v or 0)
        rolled[(prog, pcode)] = values
    rows = {k: [] for k in RESULT_COLUMNS}
    bases_cache: dict[tuple[str, int], dict[int, int]] = {}
    for ind in chosen:
        prog, flag = ind.numerator.split(".")
        p = effective_period(ind, period)
        counts = rolled[(prog, p.code)]
        if ind.denominator_kind in (DenominatorKind.MANAGED_COHORT, DenominatorKind.EVENTS):
            den_flag = ind.denominator.split(".")[1]
            den_of = {u: counts.get((u, den_flag), 0) for u in tree.ids}
        else:
            key = (ind.denominator, p.year)
            if key not in bases_cache:
                bases_cache[key] = base_values(eng.snapshot, tree, p.year, ind.denominator)
            den_of = bases_cache[key]
        for unit in tree.ids:
            rows["indicator"].append(ind.code)
            rows["org_unit_id"].append(unit)
            rows["numerator"].append(counts.get((unit, flag), 0))
            rows["denominator"].append(den_of.get(unit))
    return pa.table({
        "indicator": pa.array(rows["indicator"], pa.string()),
        "org_unit_id": pa.array(rows["org_unit_id"], pa.int64()),
        "numerator": pa.array(rows["numerator"], pa.int64()),
        "denominator": pa.array(rows["denominator"], pa.int64()),
    })


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


