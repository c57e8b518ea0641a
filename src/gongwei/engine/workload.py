"""Workload (工作量) from a frozen snapshot: service equivalents per unit over a period, rolled up the org tree.

The live page (:mod:`gongwei.service.workload`) counts from the database; an evaluation round must score from what it
froze, so this reads the snapshot's service tables — one filtered Parquet scan and one Arrow group-by per service
type, the weights applied to the grouped counts, then :func:`~gongwei.engine.orgs.roll_up` into every ancestor. No
loop over services or units.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from gongwei.engine.orgs import OrgTree, roll_up
from gongwei.engine.snapshot import Snapshot
from gongwei.spec.workload import Weight


def equivalents(snapshot: Snapshot, tree: OrgTree, start: dt.date, end: dt.date,
                weights: Sequence[Weight]) -> pa.Table:
    """``org_unit_id`` (every unit with a service below it, itself included) → ``equivalents`` (float) and
    ``services`` (int): the weighted and plain counts of services not voided, dated ``start``–``end``."""
    parts = []
    for w in weights:  # the service types (a dozen), not the services
        t = pq.read_table(snapshot.path(w.table), columns=["org_unit_id", "service_date", "is_void"],
                          filters=[("service_date", ">=", start), ("service_date", "<=", end),
                                   ("is_void", "=", False)])
        if t.num_rows == 0:
            continue
        n = t.group_by("org_unit_id", use_threads=False).aggregate([("org_unit_id", "count")])
        counts = n.column("org_unit_id_count").cast(pa.int64())
        parts.append(pa.table({"org_unit_id": n.column("org_unit_id").cast(pa.int64()),
                               "equivalents": pc.multiply(counts.cast(pa.float64()), float(w.weight)),
                               "services": counts}))
    if not parts:
        return pa.table({"org_unit_id": pa.array([], pa.int64()), "equivalents": pa.array([], pa.float64()),
                         "services": pa.array([], pa.int64())})
    return roll_up(pa.concat_tables(parts), tree.ancestor_pairs(), ["equivalents", "services"])


__all__ = ["equivalents"]
