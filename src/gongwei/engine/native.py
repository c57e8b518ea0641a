"""The snapshot's tables in DuckDB's own storage, beside its Parquet files (ADR 038).

The Parquet files are the snapshot (hashed in its manifest, read by both backends, exchanged); ``tables.duckdb``
is a copy of the same rows in DuckDB's format, written once when the snapshot is taken. DuckDB scans its own
format with less work than Parquet (no page decompression or dictionary decoding, zone maps for the date and
status filters every program applies), and the catalogue reads the residents and encounters once per program:
on the 2 M-resident city the whole catalogue needed about a fifth less CPU (docs/benchmarks.md §2.5).

The copy is derived and optional. It is written under a temporary name and renamed when complete, carries the
snapshot's id, and is used only when that id matches; without it the engine reads the Parquet files as before,
and PySpark always does.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from gongwei.engine.snapshot import Snapshot

FILE = "tables.duckdb"
# a snapshot with fewer rows is read from its Parquet files: writing the copy (a tenth of a second and more) would
# cost more than it saves (a demo region, a test's fixture); measured at 2 M residents, docs/benchmarks.md §2.5
MIN_ROWS = 100_000
_META = "_gongwei_snapshot"  # one row: the snapshot id the copy was made from


def path(snapshot: Snapshot) -> Path:
    return snapshot.folder / FILE


def worth_writing(snapshot: Snapshot) -> bool:
    return sum(snapshot.tables.values()) >= MIN_ROWS


def usable(snapshot: Snapshot) -> bool:
    """The copy exists (it is renamed into place only when whole); its id is checked when it is attached."""
    return path(snapshot).is_file()


def write(snapshot: Snapshot) -> Path:
    """Copy every table of ``snapshot`` into ``tables.duckdb`` (replacing an earlier copy) and return its path."""
    import duckdb

    target = path(snapshot)
    tmp = target.with_name(f".{FILE}.{uuid.uuid4().hex}.tmp")
    try:
        con = duckdb.connect(str(tmp))
        try:
            con.execute("SET TimeZone = 'UTC'")
            con.execute("BEGIN")
            for name in snapshot.tables:
                source = str(snapshot.path(name)).replace("'", "''")
                con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM read_parquet(\'{source}\')')
            con.execute(f'CREATE TABLE "{_META}" AS SELECT ? AS snapshot_id', [snapshot.id])
            con.execute("COMMIT")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.chmod(tmp, 0o600)  # pseudonymised, but still personal data, like the Parquet files beside it
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
    return target


def attach_sql(snapshot: Snapshot, alias: str) -> str:
    p = str(path(snapshot)).replace("'", "''")
    return f"ATTACH IF NOT EXISTS '{p}' AS \"{alias}\" (READ_ONLY)"


def check_sql(alias: str) -> str:
    return f'SELECT snapshot_id FROM "{alias}"."{_META}"'
