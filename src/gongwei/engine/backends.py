"""Ibis connections for the two backends, with the snapshot's tables registered on them.

An engine may keep compiled SQL between runs (:attr:`Engine.sql_cache`, see ``engine.catalogue``): by default
in ``.sql-cache`` beside the snapshot folders; ``GONGWEI_SQL_CACHE`` names another folder, or ``off``.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
from dataclasses import InitVar, dataclass, field
from pathlib import Path
from typing import Any

import ibis

from gongwei.engine.snapshot import Snapshot

BACKENDS = ("duckdb", "pyspark")
log = logging.getLogger(__name__)
_SPARK: Any = None


def _spark_session() -> Any:
    global _SPARK
    if _SPARK is None:
        import os

        from pyspark.sql import SparkSession

        # Keep Spark's driver on loopback: the health private network allows no other traffic.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        _SPARK = (
            SparkSession.builder.master("local[2]")
            .appName("gongwei")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.driver.memory", "2g")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .getOrCreate()
        )
        _SPARK.sparkContext.setLogLevel("ERROR")
    return _SPARK


@dataclass
class SharedDatabase:
    """One DuckDB database for a snapshot, shared by many engines: each engine works on its own cursor (cheap, and
    safe to use beside the others' in other threads), and the snapshot's views are created once, for all."""

    con: Any = field(default_factory=lambda: __import__("duckdb").connect())
    views: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def close(self) -> None:
        self.con.close()


@dataclass
class Engine:
    """A snapshot opened on one backend. ``table(name)`` gives an Ibis table expression.

    With ``database`` (DuckDB only) the engine runs on a cursor of that shared database instead of opening its own
    (``gongwei.service.snapshots`` keeps one per snapshot and process)."""

    snapshot: Snapshot
    backend: str = "duckdb"
    database: InitVar[SharedDatabase | None] = None
    _con: Any = field(init=False, default=None)
    _tables: dict[str, ibis.Table] = field(init=False, default_factory=dict)
    states: dict[tuple, ibis.Table] = field(init=False, default_factory=dict)
    sql_cache: Path | None = field(init=False, default=None)
    # queries run and data registered: the SQL cache compares it before and after building an expression, as
    # a program that reads data to build its expression makes SQL that depends on the rows (not cached)
    data_reads: int = field(init=False, default=0)
    _schema_key: str | None = field(init=False, default=None)
    _region_code: str | None = field(init=False, default=None)
    _views: set[str] = field(init=False, default_factory=set)
    _shared: SharedDatabase | None = field(init=False, default=None)
    _native_alias: str | None = field(init=False, default=None)  # None: not looked for yet; "": Parquet
    _native_derived: str = field(init=False, default="")  # the derived columns the copy adds (JSON), when read

    def __post_init__(self, database: SharedDatabase | None) -> None:
        setting = os.environ.get("GONGWEI_SQL_CACHE", "")
        if setting.lower() != "off":
            self.sql_cache = Path(setting) if setting else self.snapshot.folder.parent / ".sql-cache"
        if database is not None and self.backend != "duckdb":
            raise ValueError("只有 DuckDB 后端可以共享数据库连接")
        if self.backend not in ("duckdb", "pyspark"):
            raise ValueError(f"未知的计算后端 {self.backend!r}（可选：{', '.join(BACKENDS)}）")
        self._shared = database

    @property
    def con(self) -> Any:
        """The backend's connection, made on first use: a page that reads only what a job stored (a worklist, a
        dashboard) never needs one, and making an Ibis backend on a new cursor cost a millisecond per request."""
        if self._con is None:
            if self._shared is not None:
                self._con = ibis.duckdb.from_connection(self._shared.con.cursor())
            elif self.backend == "duckdb":
                self._con = ibis.duckdb.connect()
            else:
                self._con = ibis.pyspark.connect(_spark_session())
        return self._con

    @property
    def table_prefix(self) -> str:
        """Names of the snapshot's tables on the backend start with this (it names the snapshot)."""
        return f"s_{self.snapshot.id.replace('-', '_')}_"

    def table(self, name: str) -> ibis.Table:
        if name not in self._tables:
            table_name = self.table_prefix + name
            if self.backend == "duckdb":
                self.register_view(name)
                self._tables[name] = self.con.table(table_name)
            else:
                self._tables[name] = self.con.read_parquet(str(self.snapshot.path(name)), table_name=table_name)
        return self._tables[name]

    def owns_database(self) -> bool:
        """DuckDB, on a database of its own (not a :class:`SharedDatabase` other engines use)."""
        return self.backend == "duckdb" and self._shared is None

    def derived(self, name: str) -> ibis.Table | None:
        """A table the snapshot's DuckDB copy derived from its rows when it was written (``engine.native``), or
        None when the engine does not read such a copy (PySpark, the Parquet files): then the program computes
        the same rows in its query."""
        from gongwei.engine import native

        if self.backend != "duckdb" or not self._native():
            return None
        stored = native.DERIVED_PREFIX + name
        if stored not in native.derived_tables(self._native_derived):
            return None
        return self.table(stored)

    def register_view(self, name: str) -> None:
        """DuckDB: the snapshot table as a view, without building an Ibis table (for cached SQL). A plain (not
        temporary) view, so that cursors of this connection see it too: the catalogue runs queries on cursors
        in worker threads. The view reads the snapshot's copy in DuckDB's storage when it has one
        (:mod:`gongwei.engine.native`), else its Parquet file: the same rows either way."""
        if name in self._views:
            return
        if self._shared is None:
            self.con.raw_sql(self._view_sql(name))
        else:  # once per shared database: two cursors replacing one view at once would conflict
            with self._shared.lock:
                if name not in self._shared.views:
                    self.con.raw_sql(self._view_sql(name))
                    self._shared.views.add(name)
        self._views.add(name)

    def _native(self) -> str:
        """The alias of the attached copy the views read, or "" for the Parquet files (looked for once)."""
        if self._native_alias is None:
            self._native_alias = self._attach_native()
        return self._native_alias

    def _view_sql(self, name: str) -> str:
        self._native()
        view = f'"{self.table_prefix}{name}"'
        if self._native_alias:
            return f'CREATE OR REPLACE VIEW {view} AS SELECT * FROM "{self._native_alias}"."{name}"'
        path = str(self.snapshot.path(name)).replace("'", "''")
        return f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM read_parquet('{path}')"

    def _attach_native(self) -> str:
        """Attach the snapshot's DuckDB copy (read only) and return its alias; "" when there is none, it was
        made from another snapshot, or DuckDB cannot open it (a damaged file, another DuckDB's storage version):
        then the Parquet files are read, which are the snapshot."""
        import duckdb

        from gongwei.engine import native

        if not native.usable(self.snapshot):
            return ""
        alias = "n_" + self.snapshot.id.replace("-", "_")
        try:
            self.con.raw_sql(native.attach_sql(self.snapshot, alias))
            cur = self.con.con.execute(native.check_sql(alias))
            rows = cur.fetchall()  # to the end: a result left open blocks the cursor's next statement
            row = rows[0] if rows else None
            about = dict(zip([d[0] for d in cur.description], row, strict=True)) if row else {}
        except duckdb.Error as exc:
            log.warning("快照 %s 的 DuckDB 副本无法读取（%s），改读 Parquet 文件", self.snapshot.id, exc)
            with contextlib.suppress(duckdb.Error):
                self.con.raw_sql(f'DETACH DATABASE IF EXISTS "{alias}"')
            return ""
        if not native.made_for(about, self.snapshot):  # another snapshot's copy, or written by other code
            self.con.raw_sql(f'DETACH "{alias}"')
            return ""
        self._native_derived = str(about.get("derived", ""))
        return alias

    def schema_key(self) -> str:
        """A digest of the snapshot's table names and column types, and of the derived columns its DuckDB copy
        adds when the views read it: compiled SQL depends on them (a program may check a column only when the
        table has it), not on the rows."""
        if self._schema_key is None:
            import pyarrow.parquet as pq

            digest = hashlib.sha256()
            for name in sorted(self.snapshot.tables):
                digest.update(name.encode())
                digest.update(str(pq.read_schema(self.snapshot.path(name))).encode())
            if self.backend == "duckdb" and self._native():
                digest.update(self._native_derived.encode())
            self._schema_key = digest.hexdigest()
        return self._schema_key

    def region_code(self) -> str:
        """The statistical code of the snapshot's root unit: the region whose rule overrides apply. Read from the
        Parquet file, not through the backend: the SQL cache keys on it (a rule chosen by region shapes the SQL)."""
        if self._region_code is None:
            import pyarrow.compute as pc
            import pyarrow.parquet as pq

            orgs = pq.read_table(self.snapshot.path("org_units"), columns=["code", "parent_id"])
            roots = orgs.filter(pc.is_null(orgs.column("parent_id")))
            self._region_code = roots.column("code")[0].as_py() if roots.num_rows else ""
        return self._region_code

    def memtable(self, data: Any, name: str) -> ibis.Table:
        """Register small engine-made data (the org tree's ancestor pairs, bases) on this backend."""
        self.data_reads += 1  # its rows are the snapshot's: SQL that reads it is not cached
        table_name = f"m_{self.snapshot.id.replace('-', '_')}_{name}"
        if self.backend == "duckdb":
            self.con.con.register(table_name, data)
            return self.con.table(table_name)
        import pyarrow.parquet as pq

        path = self.snapshot.folder / f".engine_{name}.parquet"
        pq.write_table(data, path)
        return self.con.read_parquet(str(path), table_name=table_name)

    def to_arrow(self, expr: ibis.Expr):
        self.data_reads += 1
        return self.con.to_pyarrow(expr)
