"""Snapshots: a consistent, columnar copy of the system of record for the engine.

One Parquet file per table (database ids kept, so the engine joins on integers) plus ``manifest.json``; the
folder's shape (format, manifest fields, table list, file names) is the contract in :mod:`gongwei.snapshot_format`,
which the reader (:mod:`gongwei.engine.snapshot`) uses too.
All tables are read inside one read-only transaction — REPEATABLE READ on PostgreSQL, a single read
transaction on SQLite — so the snapshot is consistent as of one moment. PostgreSQL is read with
``COPY ... TO STDOUT`` and parsed by Arrow's multithreaded CSV reader.

Identity numbers, phones and addresses are not copied: the engine needs ``id_status``, not the number.
What quality control needs of them is derived on the way out (:data:`PSEUDONYMISED`): a keyed hash of the
normalised identity number and of the phone (equal numbers → equal keys, so duplicates and shared phones
are found without the numbers), a masked identity number for messages, the phone's *shape* (digits after
the third replaced by 9, so format rules still apply) and ``<field>_present`` flags for completeness.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.utils import timezone

from gongwei import snapshot_format as contract
from gongwei.files import PRIVATE_DIR, make_private
from gongwei.records import models as m
from gongwei.records.schema import TABLES

EXCLUDED_COLUMNS = {"id_number", "id_number_raw", "phone", "address", "contact_name", "contact_phone",
                    "work_unit", "batch_id"}
# Tables the engine reads that are not exchange tables: the change trail, and the load batches with their
# per-unit row tallies (上传数据有效率).
EXTRA_TABLES: tuple[tuple[str, type[models.Model]], ...] = (
    ("change_log", m.ChangeLog), ("load_batches", m.LoadBatch), ("load_tallies", m.LoadTally),
)


def _arrow_type(f: models.Field) -> pa.DataType:
    if isinstance(f, models.ForeignKey | models.AutoField | models.BigAutoField):
        return pa.int64()
    if isinstance(f, models.BooleanField):
        return pa.bool_()
    if isinstance(f, models.DateTimeField):
        return pa.timestamp("us", tz="UTC")
    if isinstance(f, models.DateField):
        return pa.date32()
    if isinstance(f, models.DecimalField):
        return pa.float64()
    if isinstance(f, models.IntegerField):
        return pa.int64()
    if isinstance(f, models.JSONField):
        return pa.string()
    return pa.string()


# table → raw columns read only to derive pseudonymised ones, then dropped
PSEUDONYMISED: dict[str, tuple[str, ...]] = {
    "residents": ("id_number", "phone", "address"),
    "health_records": ("work_unit", "contact_name", "contact_phone"),
}


# excluded columns a table still needs: a tally belongs to its batch (batch_id elsewhere is only provenance)
KEPT: dict[str, tuple[str, ...]] = {"load_tallies": ("batch_id",)}


def _fields(model: type[models.Model], keep: tuple[str, ...] = ()) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if f.column not in EXCLUDED_COLUMNS or f.column in keep]


def _pseudonym_salt() -> str:
    from django.conf import settings

    from gongwei.records.demo import is_demo_database

    if settings.SECRET_KEY == settings.DEV_SECRET_KEY and not is_demo_database():
        # anyone knowing the published development key could test candidate numbers against the keyed hashes
        raise ImproperlyConfigured(
            "快照中的身份证号和电话以密钥做散列；当前使用的是公开的开发默认密钥，而此数据库不是 gongwei demo 建立的演示库，"
            "拒绝生成快照。请设置环境变量 GONGWEI_SECRET_KEY（至少 50 个随机字符）后重试。")

    # stable across snapshots of one installation (so keys can be compared over time), unknown outside it
    return hashlib.sha256(("gongwei-snapshot-key:" + settings.SECRET_KEY).encode()).hexdigest()[:32]


def key_holders(keys: pa.ChunkedArray) -> pa.Array:
    """For each row, how many rows hold its identity key (null where there is no key): written with the snapshot
    (format /2, ADR 028) so that finding duplicate keys reads an integer instead of grouping every key per run."""
    import pyarrow.compute as pc

    counts = pa.table({"k": keys}).group_by("k").aggregate([("k", "count")])
    holders = pc.take(counts.column("k_count"), pc.index_in(keys, value_set=counts.column("k")))
    return pc.if_else(pc.is_null(keys), pa.scalar(None, pa.int32()), pc.cast(holders, pa.int32()))


def pseudonymise(name: str, table: pa.Table) -> pa.Table:
    """Replace the raw personal columns of ``name`` by keys, masks, shapes and presence flags (vectorised)."""
    raw = PSEUDONYMISED.get(name, ())
    if not raw:
        return table
    import duckdb

    con = duckdb.connect()
    con.register("t", table.select(list(raw)))
    salt = _pseudonym_salt().replace("'", "")
    exprs = [f"(coalesce(trim({c}), '') <> '') AS {c}_present" for c in raw]
    if "id_number" in raw:
        exprs += [
            f"CASE WHEN coalesce(trim(id_number), '') = '' THEN NULL "
            f"ELSE substr(sha256('{salt}' || upper(trim(id_number))), 1, 20) END AS id_key",
            "CASE WHEN length(trim(id_number)) >= 10 THEN substr(trim(id_number), 1, 6) || "
            "repeat('*', length(trim(id_number)) - 10) || right(trim(id_number), 4) "
            "ELSE repeat('*', length(coalesce(trim(id_number), ''))) END AS id_masked",
        ]
    for c in ("phone", "contact_phone"):
        if c in raw:
            exprs += [
                f"CASE WHEN coalesce(trim({c}), '') = '' THEN NULL "
                f"ELSE substr(sha256('{salt}' || regexp_replace(trim({c}), '[^0-9]', '', 'g')), 1, 20) END AS {c}_key",
                f"substr(trim({c}), 1, 3) || regexp_replace(substr(trim({c}), 4), '[0-9]', '9', 'g') AS {c}_shape",
            ]
    derived = con.sql(f"SELECT {', '.join(exprs)} FROM t").to_arrow_table()
    con.close()
    if "id_key" in derived.column_names:
        derived = derived.append_column("id_key_holders", key_holders(derived.column("id_key")))
    out = table.drop_columns(list(raw))
    for col in derived.column_names:
        out = out.append_column(col, derived.column(col))
    return out


def _read_postgres(model: type[models.Model], keep: tuple[str, ...] = ()) -> pa.Table:
    fields = _fields(model, keep)
    cols = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"COPY (SELECT {cols} FROM {connection.ops.quote_name(model._meta.db_table)}) TO STDOUT WITH (FORMAT csv)"
    buf = io.BytesIO()
    with connection.cursor() as cur, cur.cursor.copy(sql) as copy:
        for chunk in copy:
            buf.write(chunk)
    schema = {f.column: _arrow_type(f) for f in fields}
    string_schema = {k: (pa.string() if t == pa.bool_() else t) for k, t in schema.items()}
    buf.seek(0)
    if not buf.getbuffer().nbytes:
        return pa.table({k: pa.array([], t) for k, t in schema.items()})
    table = pacsv.read_csv(
        buf,
        read_options=pacsv.ReadOptions(column_names=list(schema)),
        convert_options=pacsv.ConvertOptions(column_types=string_schema, strings_can_be_null=False,
                                             quoted_strings_can_be_null=False, true_values=["t"],
                                             false_values=["f"]),
    )
    # PostgreSQL writes NULL as an unquoted empty field; strings_can_be_null=False keeps "" for text columns
    out = {}
    for name, typ in schema.items():
        col = table.column(name)
        out[name] = pa.compute.equal(col, "t") if typ == pa.bool_() else col
    return pa.table(out)


def _read_generic(model: type[models.Model], keep: tuple[str, ...] = ()) -> pa.Table:
    fields = _fields(model, keep)
    cols = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"SELECT {cols} FROM {connection.ops.quote_name(model._meta.db_table)}"
    arrays: list[list] = [[] for _ in fields]
    with connection.cursor() as cur:
        cur.execute(sql)
        while True:
            rows = cur.fetchmany(100_000)
            if not rows:
                break
            for j, col in enumerate(zip(*rows, strict=True)):
                arrays[j].extend(col)
    out = {}
    for f, values in zip(fields, arrays, strict=True):
        typ = _arrow_type(f)
        if typ == pa.date32():
            values = [None if x is None else (x if isinstance(x, dt.date) else dt.date.fromisoformat(x)) for x in values]
        elif pa.types.is_timestamp(typ):
            values = [None if x is None else (x if isinstance(x, dt.datetime) else dt.datetime.fromisoformat(x))
                      for x in values]
            values = [None if x is None else (x if x.tzinfo else x.replace(tzinfo=dt.UTC)) for x in values]
        elif typ == pa.bool_():
            values = [None if x is None else bool(x) for x in values]
        elif typ == pa.float64():
            values = [None if x is None else float(x) for x in values]
        elif isinstance(f, models.JSONField):
            values = [None if x is None else (x if isinstance(x, str) else json.dumps(x, ensure_ascii=False))
                      for x in values]
        out[f.column] = pa.array(values, typ)
    return pa.table(out)


def take_snapshot(root: Path, *, progress: Callable[[str, int], None] | None = None) -> Path:
    """Write a consistent snapshot under ``root/<snapshot id>/`` and return its folder."""
    taken_at = timezone.now()
    snapshot_id = taken_at.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    _pseudonym_salt()  # refuses the published development key outside a demo database, before anything is written
    folder = Path(root) / snapshot_id
    folder.mkdir(parents=True, exist_ok=False)
    os.chmod(folder, PRIVATE_DIR)  # pseudonymised, but still personal data (names, dates): owner only
    entries: dict[str, contract.TableEntry] = {}
    tables = snapshot_models()
    # one consistent read: a transaction of its own at REPEATABLE READ; inside a caller's transaction (tests,
    # a larger job) that transaction already gives one consistent view and its level cannot change any more
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        for name, model in tables:
            keep = PSEUDONYMISED.get(name, ()) + KEPT.get(name, ())
            table = _read_postgres(model, keep) if connection.vendor == "postgresql" else _read_generic(model, keep)
            table = pseudonymise(name, table)
            path = contract.table_path(folder, name)
            pq.write_table(table, path)
            make_private(path)
            entries[name] = contract.TableEntry(table.num_rows, _sha256(path))
            if progress:
                progress(name, table.num_rows)
    contract.Manifest(snapshot_id, taken_at.isoformat(), connection.vendor, entries).write(folder)
    return folder


def snapshot_models() -> list[tuple[str, type[models.Model]]]:
    """(table, model) in the contract's order; a model list out of step with the contract is a bug, not data."""
    by_name = {name: model for name, model, _ in TABLES} | dict(EXTRA_TABLES)
    if set(by_name) != set(contract.TABLES):
        raise RuntimeError(f"snapshot tables differ from gongwei.snapshot_format.TABLES: "
                           f"{sorted(set(by_name) ^ set(contract.TABLES))}")
    return [(name, by_name[name]) for name in contract.TABLES]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
