"""Ibis connections for the two backends, with the snapshot's tables registered on them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import ibis

from gongwei.engine.snapshot import Snapshot

BACKENDS = ("duckdb", "pyspark")
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
class Engine:
    """A snapshot opened on one backend. ``table(name)`` gives an Ibis table expression."""

    snapshot: Snapshot
    backend: str = "duckdb"
    con: Any = field(init=False)
    _tables: dict[str, ibis.Table] = field(init=False, default_factory=dict)
    states: dict[tuple, ibis.Table] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        if self.backend == "duckdb":
            self.con = ibis.duckdb.connect()
        elif self.backend == "pyspark":
            self.con = ibis.pyspark.connect(_spark_session())
        else:
            raise ValueError(f"未知的计算后端 {self.backend!r}（可选：{', '.join(BACKENDS)}）")

    def table(self, name: str) -> ibis.Table:
        if name not in self._tables:
            table_name = f"s_{self.snapshot.id.replace('-', '_')}_{name}"
            if self.backend == "duckdb":
                # a plain (not temporary) view, so that cursors of this connection see it too: the catalogue
                # runs one program's query on a cursor while the next program is being compiled
                path = str(self.snapshot.path(name)).replace("'", "''")
                self.con.raw_sql(f'CREATE OR REPLACE VIEW "{table_name}" AS SELECT * FROM read_parquet(\'{path}\')')
                self._tables[name] = self.con.table(table_name)
            else:
                self._tables[name] = self.con.read_parquet(str(self.snapshot.path(name)), table_name=table_name)
        return self._tables[name]

    def memtable(self, data: Any, name: str) -> ibis.Table:
        """Register small engine-made data (the org tree's ancestor pairs, bases) on this backend."""
        table_name = f"m_{self.snapshot.id.replace('-', '_')}_{name}"
        if self.backend == "duckdb":
            self.con.con.register(table_name, data)
            return self.con.table(table_name)
        import pyarrow.parquet as pq

        path = self.snapshot.folder / f".engine_{name}.parquet"
        pq.write_table(data, path)
        return self.con.read_parquet(str(path), table_name=table_name)

    def to_arrow(self, expr: ibis.Expr):
        return self.con.to_pyarrow(expr)
