"""The org tree inside the engine: ancestor pairs for roll-up and population bases per unit.

The tree is metadata-sized (a city has a few thousand units), so it is handled with Arrow in memory and
handed to the backend as a small table; person-level data never leaves the backend.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
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
        t = pq.read_table(snapshot.path("org_units"), columns=["id", "parent_id", "code", "name", "level", "path"])
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

    def ancestor_pairs(self) -> pa.Table:
        """(unit_id, ancestor_id) for every unit and each of its ancestors including itself."""
        units, ancestors = [], []
        for i in self.ids:
            for a in self.ancestors(i):
                units.append(i)
                ancestors.append(a)
        return pa.table({"unit_id": pa.array(units, pa.int64()), "ancestor_id": pa.array(ancestors, pa.int64())})


def base_values(snapshot: Snapshot, tree: OrgTree, year: int, group: str) -> dict[int, int]:
    """Population base or task number per unit for ``year`` and ``group``.

    A unit's own entry wins; a unit without one gets the sum of its children's values (recursively), so
    bases entered per village roll up, and a county-level assignment overrides its townships' sum.
    """
    t = pq.read_table(snapshot.path("population_bases"), columns=["org_unit_id", "year", "group", "value"])
    own: dict[int, int] = {}
    for r in t.to_pylist():
        if r["year"] == year and r["group"] == group:
            own[r["org_unit_id"]] = own.get(r["org_unit_id"], 0) + r["value"]
    children: dict[int, list[int]] = {}
    for i in tree.ids:
        p = tree.parent[i]
        if p is not None:
            children.setdefault(p, []).append(i)
    out: dict[int, int] = {}

    def value(i: int) -> int | None:
        if i in out:
            return out[i]
        if i in own:
            out[i] = own[i]
            return own[i]
        kids = [value(c) for c in children.get(i, [])]
        known = [k for k in kids if k is not None]
        result = sum(known) if known else None
        if result is not None:
            out[i] = result
        return result

    for i in sorted(tree.ids, key=lambda x: -tree.path[x].count("/")):
        value(i)
    return out
