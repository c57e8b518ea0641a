"""Materialised state tables: each program's per-person state for a period, computed once per snapshot and
rulebook version and kept as Parquet sorted by managing unit, so one village's gap list or worklist is a
filtered read (row groups pruned by unit) instead of a fresh evaluation."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from gongwei.engine import registry
from gongwei.engine.backends import Engine
from gongwei.spec import catalogue as spec_catalogue
from gongwei.spec.periods import Period

ROW_GROUP = 20_000


def state_path(eng: Engine, program: str, period: Period) -> Path:
    return eng.snapshot.folder / "state" / spec_catalogue.rulebook_version() / period.code / f"{program}.parquet"


def materialize(eng: Engine, program: str, period: Period) -> Path:
    """Evaluate ``program`` for every unit, add record number and name, store sorted by unit."""
    path = state_path(eng, program, period)
    state = registry.state(eng, program, period)
    res = eng.table("residents").select(rid="id", record_no="record_no", name="name")
    joined = state.left_join(res, state.resident_id == res.rid).drop("rid")
    table = eng.to_arrow(joined.order_by(["managing_unit_id", "record_no"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
    pq.write_table(table, tmp, row_group_size=ROW_GROUP)
    os.replace(tmp, path)  # atomic: concurrent readers see the old file or the new one
    return path


def load_state(eng: Engine, program: str, period: Period, units: list[int] | None = None) -> pa.Table:
    """The state rows of people managed by ``units`` (all when None), materialising on first use."""
    path = state_path(eng, program, period)
    if not path.exists():
        materialize(eng, program, period)
    dataset = ds.dataset(path, format="parquet")
    if units is None:
        return dataset.to_table()
    return dataset.to_table(filter=ds.field("managing_unit_id").isin(units))
