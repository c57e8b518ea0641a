"""The org tree inside the engine: ancestor pairs, the one roll-up, and population bases per unit.

The tree is metadata-sized (a city has a few thousand units), so it is handled with Arrow in memory and
handed to the backend as a small table; person-level data never leaves the backend.

:func:`roll_up` is the only roll-up of the engine: a per-unit table (counts already aggregated by the backend)
is joined to (unit, ancestor) pairs and summed per ancestor. The indicator catalogue, the QC scorecard and the
population bases all go through it, so a unit's total is the sum of its own rows and its children's totals in
every one of them (tests/test_rollup.py).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from gongwei.engine.snapshot import Snapshot


@dataclass(frozen=True)
class OrgTree:
    ids: list[int]
    parent: dict[int, int | None]
    code: dict[int, str]
    name: dict[int, str]
    level: dict[int, str]
    path: dict[int, str]

    @classmethod
    def load(cls, snapshot: Snapshot) -> OrgTree:
        """The snapshot's org tree, read once per process: a page asks for it on every request (a record page
        spent a tenth of its time reading and converting the file). Keyed by the file's identity, which a snapshot
        never changes; callers treat the tree as read-only."""
        path = snapshot.path("org_units")
        st = path.stat()
        return cls._read(str(path), st.st_ino, st.st_mtime_ns, st.st_size)

    @classmethod
    @functools.lru_cache(maxsize=16)
    def _read(cls, path: str, _inode: int, _mtime_ns: int, _size: int) -> OrgTree:
        t = pq.read_table(path, columns=["id", "parent_id", "code", "name", "level", "path"])
        rows = t.to_pylist()
        return cls(
            ids=[r["id"] for r in rows],
            parent={r["id"]: r["parent_id"] for r in rows},
            code={r["id"]: r["code"] for r in rows},
            name={r["id"]: r["name"] for r in rows},
            level={r["id"]: r["level"] for r in rows},
            path={r["id"]: r["path"] for r in rows},
        )

    def by_code(self, code: str) -> int:
        for i, c in self.code.items():
            if c == code:
                return i
        raise KeyError(f"机构代码 {code} 不存在")

    def ancestors(self, unit: int) -> list[int]:
        """The unit itself and every unit above it."""
        return [int(x) for x in self.path[unit].strip("/").split("/")]

    def children(self, unit: int) -> list[int]:
        return [i for i in self.ids if self.parent[i] == unit]

    def subtree(self, unit: int) -> list[int]:
        prefix = self.path[unit]
        return [i for i in self.ids if self.path[i].startswith(prefix)]

    @cached_property
    def _pairs(self) -> pa.Table:
        units, ancestors = [], []
        for i in self.ids:
            for a in self.ancestors(i):
                units.append(i)
                ancestors.append(a)
        return pa.table({"unit_id": pa.array(units, pa.int64()), "ancestor_id": pa.array(ancestors, pa.int64())})

    def ancestor_pairs(self, within: int | None = None) -> pa.Table:
        """(unit_id, ancestor_id) for every unit and each of its ancestors including itself; ``within``: only
        the pairs whose ancestor lies in that unit's subtree (then so does the unit)."""
        if within is None:
            return self._pairs
        inside = pa.array(self.subtree(within), pa.int64())
        return self._pairs.filter(pc.is_in(self._pairs.column("ancestor_id"), value_set=inside))


def roll_up(per_unit: pa.Table, pairs: pa.Table, values: Sequence[str], *, unit: str = "org_unit_id",
            by: Sequence[str] = (), out: str = "org_unit_id") -> pa.Table:
    """Sum ``values`` of a per-unit table into every ancestor of each unit (the unit included), per ``by``.

    ``pairs`` are (unit_id, ancestor_id) rows — :meth:`OrgTree.ancestor_pairs`, or a subset of them (a subtree,
    or the pairs left when a unit's own figure overrides its children's sum). Rows of units without pairs drop
    out; nulls count as nothing. Returns ``out`` (the ancestor), ``by`` and the summed ``values``, one row per
    ancestor that has at least one row below it. Arrow join and group-by: no Python loop over the rows.
    """
    joined = per_unit.select([unit, *by, *values]).join(pairs, unit, "unit_id", join_type="inner")
    grouped = joined.group_by(["ancestor_id", *by], use_threads=False).aggregate([(c, "sum") for c in values])
    return pa.table({out: grouped.column("ancestor_id"), **{c: grouped.column(c) for c in by},
                     **{c: grouped.column(f"{c}_sum") for c in values}})


def base_values(snapshot: Snapshot, tree: OrgTree, year: int, group: str) -> dict[int, int]:
    """Population base or task number per unit for ``year`` and ``group``.

    A unit's own entry wins; a unit without one gets the sum of its children's values (recursively), so
    bases entered per village roll up, and a county-level assignment overrides its townships' sum. Done with
    :func:`roll_up` over the pairs that survive the override: a unit's own value reaches each ancestor up to,
    not including, the nearest ancestor that has an entry of its own.
    """
    t = pq.read_table(snapshot.path("population_bases"), columns=["org_unit_id", "year", "group", "value"])
    t = t.filter(pc.and_(pc.equal(t.column("year"), year), pc.equal(t.column("group"), group)))
    own = t.group_by("org_unit_id", use_threads=False).aggregate([("value", "sum")]) \
        .rename_columns(["org_unit_id", "value"])
    owned = set(own.column("org_unit_id").to_pylist()) & set(tree.parent)
    units, ancestors = [], []
    for u in owned:  # units with an entry: metadata-sized
        for a in reversed(tree.ancestors(u)):  # the unit itself, then upwards
            if a != u and a in owned:
                break
            units.append(u)
            ancestors.append(a)
    pairs = pa.table({"unit_id": pa.array(units, pa.int64()), "ancestor_id": pa.array(ancestors, pa.int64())})
    up = roll_up(own, pairs, ["value"])
    return {int(k): int(v) for k, v in zip(up.column("org_unit_id").to_pylist(), up.column("value").to_pylist(),
                                             strict=True) if v is not None}
