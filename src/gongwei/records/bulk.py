"""Bulk writes for the entry layer: COPY on PostgreSQL, executemany on SQLite — never row-by-row saves.

Only :mod:`gongwei.records.entry` calls this, after validation; ids are pre-assigned there so rows of
one batch can reference each other.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.db import connection

from gongwei.records import models as m
from gongwei.records.schema import Table

CHUNK = 200_000
SQLITE_CACHE_KIB = 1_048_576  # 1 GiB page cache during bulk inserts on SQLite
# A load of at least this many rows into a table that holds fewer rows than the load drops the table's
# secondary indexes (and, on PostgreSQL, its foreign keys), writes, and re-creates them: building an
# index once is far cheaper than updating it row by row, and re-adding a foreign key validates the whole
# table with one join instead of one trigger query per row. Unique indexes stay, so duplicates still fail
# at insert time; the foreign keys are validated when they are re-added, inside the same transaction.
REBUILD_MIN_ROWS = 50_000


def _columns(table: Table, data: dict[str, pa.Array], ids: np.ndarray, mask: np.ndarray, batch_id: int,
             now: dt.datetime) -> dict[str, pa.Array]:
    sel = pa.array(mask)
    model = table.model
    out: dict[str, pa.Array] = {}
    pk = model._meta.pk
    if not pk.is_relation:
        out[pk.column] = pa.array(ids[mask], pa.int64())
    for col in table.columns:
        f = model._meta.get_field(col.name)
        out[f.column] = pc.filter(data[col.name], sel)
    n = int(mask.sum())
    field_names = {f.name for f in model._meta.concrete_fields}
    if "batch" in field_names:
        out["batch_id"] = pa.array(np.full(n, batch_id, dtype=np.int64))
    if "version" in field_names:  # every row starts at version 1 (ADR 015)
        out["version"] = pa.array(np.ones(n, dtype=np.int64))
    for name in ("created_at", "updated_at"):
        if name in field_names:
            out[name] = pa.array([now] * n, pa.timestamp("us", tz="UTC")) if n else pa.array([], pa.timestamp("us", tz="UTC"))
    if table.name == "residents":
        for extra in ("id_number_raw", "id_status"):
            out[extra] = pc.filter(data[extra], sel)
        out["id_number"] = pc.filter(data["id_number"], sel)
    if table.name == "org_units":
        out["path"] = _org_paths(out["id"].to_numpy(), out["parent_id"])
    return out


def _org_paths(ids: np.ndarray, parents: pa.Array) -> pa.Array:
    known = dict(m.OrgUnit.objects.values_list("id", "path"))
    parent_list = parents.to_pylist()
    paths: dict[int, str] = {}
    remaining = list(range(len(ids)))
    while remaining:
        progressed = []
        for i in remaining:
            p = parent_list[i]
            if p is None:
                paths[i] = f"/{ids[i]}/"
            elif p in known:
                paths[i] = f"{known[p]}{ids[i]}/"
            else:
                continue
            known[int(ids[i])] = paths[i]
            progressed.append(i)
        if not progressed:
            raise ValueError("机构上级关系存在循环")
        remaining = [i for i in remaining if i not in paths]
    return pa.array([paths[i] for i in range(len(ids))], pa.string())


def insert(table: Table, data: dict[str, pa.Array], ids: np.ndarray, mask: np.ndarray, batch_id: int,
           now: dt.datetime) -> int:
    n = int(mask.sum())
    if not n:
        return 0
    cols = _columns(table, data, ids, mask, batch_id, now)
    db_table = table.model._meta.db_table
    with _indexes_suspended(db_table, n):
        if connection.vendor == "postgresql":
            _copy_postgres(db_table, cols)
        else:
            _executemany(db_table, cols)
    if connection.vendor == "postgresql":
        _analyze_if_grown(db_table, n)
    return n


def _analyze_if_grown(db_table: str, added: int) -> None:
    """Fresh planner statistics after a load into a table never analysed, or that grew it by autovacuum's own
    measure (50 rows and a tenth of the table). The pages' plans depend on them, and where autovacuum is off or has
    not come round yet, a table loaded a minute ago is planned as if empty (issue 11: the unit tree, never
    analysed, was estimated at one unit per county, and a county's pinyin search read all 320,000 residents one by
    one: 0.7 s for a 20-row page)."""
    with connection.cursor() as cur:
        cur.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [db_table])
        row = cur.fetchone()
        before = float(row[0]) if row else 0.0
        if before < 0 or added >= 50 + 0.1 * before:  # -1: never analysed
            cur.execute(f"ANALYZE {connection.ops.quote_name(db_table)}")


def stage(name: str, table: Table, data: dict[str, pa.Array], ids: np.ndarray, mask: np.ndarray,
          now: dt.datetime) -> list[str]:
    """Write the new rows of ``table`` into the SQLite staging table ``name`` (entry's publish step copies them
    into the real table with the batch's id); returns the columns written."""
    cols = _columns(table, data, ids, mask, 0, now)
    _executemany(name, cols)
    return list(cols)


@contextmanager
def _indexes_suspended(db_table: str, n: int) -> Iterator[None]:
    """Drop secondary indexes (and PostgreSQL foreign keys) around a large load; re-create them after.

    Runs inside the caller's transaction (DDL is transactional on both databases), so a failure rolls the
    drop back with everything else.
    """
    if n < REBUILD_MIN_ROWS:
        yield
        return
    q = connection.ops.quote_name
    with connection.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM (SELECT 1 FROM {q(db_table)} LIMIT {int(n)}) AS s")
        if cur.fetchone()[0] >= n:
            yield
            return
        if connection.vendor == "postgresql":
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # fire pending checks so the table can be altered
            cur.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                        "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname", [db_table])
            fks = cur.fetchall()
            cur.execute("SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                        "WHERE x.indrelid = %s::regclass AND NOT x.indisunique AND NOT x.indisprimary "
                        "ORDER BY i.relname", [db_table])
            indexes = cur.fetchall()
            for name, _ in fks:
                cur.execute(f"ALTER TABLE {q(db_table)} DROP CONSTRAINT {q(name)}")
            for name, _ in indexes:
                cur.execute(f"DROP INDEX {q(name)}")
        else:
            cur.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                        "AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%%' ORDER BY name", [db_table])
            indexes, fks = cur.fetchall(), []
            for name, _ in indexes:
                cur.execute(f"DROP INDEX {q(name)}")
    yield
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for _, sql in indexes:
            cur.execute(sql)
        for name, definition in fks:
            cur.execute(f"ALTER TABLE {q(db_table)} ADD CONSTRAINT {q(name)} {definition}")
        # the table grew at least twofold at once: statistics taken before the load make the planner choose
        # full scans for the pages' queries until autovacuum comes by (seen at 2 M residents: the worklist's
        # contract query 124 → 5 ms after ANALYZE); take them now, in the load's transaction
        cur.execute(f"ANALYZE {q(db_table)}")
        if connection.vendor == "postgresql":
            cur.execute("SET CONSTRAINTS ALL DEFERRED")


def analyze(*models: type) -> None:
    """Fresh planner statistics for tables a job has just filled (QC findings, the pinyin search table): the
    pages' queries on them are planned from these. Autovacuum would take them later — where it runs at all
    (the PostgreSQL of the development machine has it off: at 2 M residents the findings list and pinyin search
    ran 5–10 times slower on tables never analysed)."""
    with connection.cursor() as cur:
        for model in models:
            cur.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _copy_postgres(db_table: str, cols: dict[str, pa.Array]) -> None:
    names = list(cols)
    arrow = pa.table({k: (v.cast(pa.int8()) if pa.types.is_boolean(v.type) else v) for k, v in cols.items()})
    # Booleans go as 0/1 text; PostgreSQL's boolean input accepts them.
    column_list = ", ".join(connection.ops.quote_name(c) for c in names)
    sql = f"COPY {connection.ops.quote_name(db_table)} ({column_list}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
    with connection.cursor() as cur:
        raw = cur.cursor  # the psycopg cursor
        for start in range(0, arrow.num_rows, CHUNK):
            part = arrow.slice(start, CHUNK)
            buf = io.BytesIO()
            pacsv.write_csv(part, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed",
                                                          null_string="\\N"))
            with raw.copy(sql) as copy:
                copy.write(buf.getvalue())


def _py(arr: pa.Array) -> list:
    t = arr.type
    if pa.types.is_date(t):
        return arr.cast(pa.date32()).cast(pa.string()).to_pylist()  # YYYY-MM-DD (Arrow's cast, no strftime)
    if pa.types.is_timestamp(t):
        # Django stores aware datetimes on SQLite as naive UTC text "YYYY-MM-DD HH:MM:SS.ffffff"
        return arr.cast(pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us")).cast(pa.string()).to_pylist()
    if pa.types.is_boolean(t):
        return arr.cast(pa.int8()).to_pylist()
    return arr.to_pylist()


def _executemany(db_table: str, cols: dict[str, pa.Array]) -> None:
    names = list(cols)
    placeholders = ", ".join(["%s"] * len(names))
    column_list = ", ".join(connection.ops.quote_name(c) for c in names)
    sql = f"INSERT INTO {connection.ops.quote_name(db_table)} ({column_list}) VALUES ({placeholders})"
    n = len(next(iter(cols.values())))
    with connection.cursor() as cur:
        # A large page cache keeps the indexes of big tables in memory while rows stream in (the default
        # 2 MB cache makes every index insert a page read once a table outgrows it).
        cur.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        for start in range(0, n, CHUNK):
            lists = [_py(cols[c].slice(start, CHUNK)) for c in names]
            cur.executemany(sql, list(zip(*lists, strict=True)))


def append_rows(db_table: str, cols: dict[str, pa.Array]) -> None:
    """Insert rows given as columns into a table whose id the database assigns (derived tables such as evaluation
    scores): COPY on PostgreSQL, executemany on SQLite, inside the caller's transaction."""
    if not cols or len(next(iter(cols.values()))) == 0:
        return
    if connection.vendor == "postgresql":
        _copy_postgres(db_table, cols)
    else:
        _executemany(db_table, cols)
