"""Export the database in the exchange layout (``gongwei export DIR [--org CODE]``).

One query per table (joins fetch the natural keys of referenced rows), streamed in chunks of
:data:`CHUNK_ROWS` rows, ordered by primary key so that export → import into an empty database →
export gives byte-identical CSV files (the import assigns keys in file order).

With ``org`` only that org unit's subtree is exported, with its residents and everything recorded about
them, and then *closed over references*: every row an exported row refers to (the ancestors of the unit,
a provider or team from another unit...) is exported too, so the set re-imports cleanly elsewhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.db import connection, transaction
from django.db.models import BooleanField, Case, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce, NullIf

from gongwei.exchange.layout import DirWriter
from gongwei.records import models as m
from gongwei.records.entry import KEY_SEP
from gongwei.records.schema import Column, Table, tables

CHUNK_ROWS = 50_000

Progress = Callable[[str, int, int], None]  # (table, rows written so far, total rows)


class ExportError(ValueError):
    pass


# --- what to export ----------------------------------------------------------------------------------
def _key_lookups(table_name: str, prefix: str) -> list[str]:
    """ORM lookups yielding the natural-key parts of ``table_name`` reached through ``prefix``."""
    table = tables()[table_name]
    out: list[str] = []
    for k in table.natural_key:
        col = table.column(k)
        if col.kind == "ref":
            out += _key_lookups(col.ref_table, f"{prefix}{k}__")
        else:
            out.append(f"{prefix}{k}")
    return out


# Which rows belong to an org unit's export, before closing over references: a Q per table given the
# subtree path. Residents are those managed in the subtree; records about them follow the resident.
def _core_filters(path: str) -> dict[str, Q]:
    sub = Q(org_unit__path__startswith=path)
    res = Q(resident__managing_unit__path__startswith=path)
    q: dict[str, Q] = {
        "org_units": Q(path__startswith=path),
        "staff": sub, "teams": sub, "team_members": Q(team__org_unit__path__startswith=path),
        "households": sub,
        "residents": Q(managing_unit__path__startswith=path),
        "health_records": res, "enrollments": res, "contracts": res,
        "contract_services": Q(contract__resident__managing_unit__path__startswith=path),
        "health_education_activities": sub, "supervision_reports": sub, "population_bases": sub,
        "infectious_disease_reports": res | (sub & Q(resident__isnull=True)),
    }
    for name, table in tables().items():
        q.setdefault(name, res if "resident" in table.column_names else sub)
    return q


@dataclass
class Selection:
    """Rows of one table to export: those matching ``core`` plus the extra primary keys ``extra``."""

    core: Q
    extra: np.ndarray

    def queryset(self, model) -> tuple[QuerySet, np.ndarray | None]:
        """The query to stream and, for very long ``extra`` lists, the keys to keep from a flagged scan."""
        if not len(self.extra):
            return model.objects.filter(self.core), None
        if len(self.extra) <= _MAX_IN:
            return model.objects.filter(self.core | Q(pk__in=self.extra.tolist())), None
        # Too many keys for one IN list: scan the table with a core flag and filter in NumPy.
        flagged = model.objects.annotate(_core=Case(When(self.core, then=Value(True)), default=Value(False),
                                                    output_field=BooleanField()))
        return flagged, self.extra


_MAX_IN = 2_000


def _ids(values) -> np.ndarray:
    return np.unique(np.fromiter((x for x in values if x is not None), dtype=np.int64))


def _in_chunks(model, ids: np.ndarray, *fields: str) -> list[tuple]:
    out: list[tuple] = []
    for start in range(0, len(ids), _MAX_IN):
        part = ids[start:start + _MAX_IN].tolist()
        out += list(model.objects.filter(pk__in=part).values_list(*fields))
    return out


def _closed_selection(code: str) -> dict[str, Selection]:
    """The rows of ``code``'s export, closed over references (flat queries, id sets in NumPy)."""
    try:
        unit = m.OrgUnit.objects.get(code=code)
    except m.OrgUnit.DoesNotExist as exc:
        raise ExportError(f"机构代码“{code}”不存在") from exc
    schema = tables()
    core = _core_filters(unit.path)
    referenced = {c.ref_table for t in schema.values() for c in t.columns if c.kind == "ref"}
    core_ids = {name: _ids(schema[name].model.objects.filter(core[name]).values_list("pk", flat=True))
                for name in referenced}
    extra: dict[str, np.ndarray] = {name: np.array([], dtype=np.int64) for name in schema}

    def add(target: str, ids: np.ndarray) -> np.ndarray:
        new = np.setdiff1d(np.setdiff1d(ids, core_ids.get(target, np.array([], np.int64))), extra[target])
        extra[target] = np.union1d(extra[target], new)
        return new

    # References point to earlier tables, so walking backwards visits every referencing table before the
    # tables it references; rows added to a table are followed when that table's turn comes.
    for name in reversed(list(schema)):
        table = schema[name]
        model = table.model
        refs = [c for c in table.columns if c.kind == "ref"]
        for col in (c for c in refs if c.ref_table == name and name != "org_units"):  # merged_into chains
            frontier = add(name, _ids(model.objects.filter(core[name]).values_list(col.attname, flat=True)
                                      .distinct()))
            while len(frontier):
                frontier = add(name, _ids(r[0] for r in _in_chunks(model, frontier, col.attname)))
        for col in refs:
            if col.ref_table == name:
                continue
            ids = _ids(model.objects.filter(core[name]).values_list(col.attname, flat=True).distinct())
            ids = np.union1d(ids, _ids(r[0] for r in _in_chunks(model, extra[name], col.attname)))
            add(col.ref_table, ids)
    # Org units: the subtree, every unit referenced from outside it, and all their ancestors.
    paths = [unit.path] + [p for (p,) in _in_chunks(m.OrgUnit, extra["org_units"], "path")]
    ancestors = _ids(int(x) for path in paths for x in path.strip("/").split("/") if x)
    add("org_units", ancestors)
    return {name: Selection(core[name], extra[name]) for name in schema}


# --- rows → Arrow --------------------------------------------------------------------------------------
def _arrow(col: Column, values: list) -> pa.Array:
    if col.kind in ("str", "ref"):
        return pa.array(values, pa.string())
    if col.kind == "int":
        return pa.array(values, pa.int64())
    if col.kind == "bool":
        return pa.array(values, pa.bool_())
    if col.kind == "date":
        return pa.array(values, pa.date32())
    if col.kind == "datetime":
        return pa.array([None if x is None else (x if x.tzinfo else x.replace(tzinfo=dt.UTC)) for x in values],
                        pa.timestamp("us", tz="UTC"))
    if col.kind == "dec":
        return pa.array([None if x is None else format(x if isinstance(x, Decimal) else Decimal(str(x)), "f")
                         for x in values], pa.string())
    raise AssertionError(col.kind)


def _select(table: Table) -> tuple[list[str], list[tuple[Column, list[int]]]]:
    """values_list lookups for ``table`` and, per column, the positions of its parts in a row."""
    lookups: list[str] = []
    layout: list[tuple[Column, list[int]]] = []
    for col in table.columns:
        if col.kind == "ref":
            parts = _key_lookups(col.ref_table, f"{col.name}__")
        elif table.name == "residents" and col.name == "id_number":
            parts = ["_id_export"]  # the number as received, so re-import reproduces id_status
        else:
            parts = [col.name]
        layout.append((col, list(range(len(lookups), len(lookups) + len(parts)))))
        lookups += parts
    return lookups, layout


def _chunks(table: Table, qs: QuerySet, keep: np.ndarray | None = None) -> Iterator[pa.Table]:
    """Stream ``qs`` (ordered by primary key) as Arrow tables of at most :data:`CHUNK_ROWS` rows.

    With ``keep``, ``qs`` carries a ``_core`` flag and rows are kept when flagged or their key is in ``keep``.
    """
    lookups, layout = _select(table)
    if keep is not None:
        lookups += ["pk", "_core"]
    if table.name == "residents":
        qs = qs.annotate(_id_export=Coalesce(NullIf("id_number_raw", Value("")), "id_number"))
    rows_iter = qs.order_by("pk").values_list(*lookups).iterator(chunk_size=CHUNK_ROWS)
    buf: list[tuple] = []
    while True:
        buf.clear()
        for row in rows_iter:
            buf.append(row)
            if len(buf) >= CHUNK_ROWS:
                break
        if not buf:
            return
        full = len(buf) >= CHUNK_ROWS
        if keep is not None:
            pks = np.array([r[-2] for r in buf], dtype=np.int64)
            flags = np.array([bool(r[-1]) for r in buf]) | np.isin(pks, keep)
            buf = [r for r, f in zip(buf, flags, strict=True) if f]
            if not buf:
                if full:
                    continue
                return
        columns = list(zip(*buf, strict=True))
        arrays = []
        for col, pos in layout:
            if len(pos) == 1:
                arrays.append(_arrow(col, list(columns[pos[0]])))
            else:  # composite natural key of the referenced row
                parts = [pa.array(["" if x is None else str(x) for x in columns[p]], pa.string()) for p in pos]
                joined = pc.binary_join_element_wise(*parts, KEY_SEP)
                arrays.append(pc.if_else(pc.equal(joined, KEY_SEP * (len(pos) - 1)), pa.scalar(None, pa.string()),
                                         joined))
        yield pa.table(arrays, names=[c.name for c, _ in layout])
        if not full:
            return


# --- the export --------------------------------------------------------------------------------------
def export_dir(out_dir: Path, *, org: str | None = None, progress: Progress | None = None) -> dict[str, int]:
    """Write every table (schema order) to ``out_dir``; returns rows per table."""
    out_dir = Path(out_dir)
    counts: dict[str, int] = {}
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":  # one consistent snapshot for all tables
            with connection.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        schema = tables()
        if org:
            closed = _closed_selection(org)
            selection = {name: closed[name].queryset(t.model) for name, t in schema.items()}
            source = f"gongwei export --org {org}"
        else:
            selection = {name: (t.model.objects.all(), None) for name, t in schema.items()}
            source = "gongwei export"
        writer = DirWriter(out_dir, source=source)
        for name, table in schema.items():
            qs, keep = selection[name]
            total = (qs.count() if keep is None else len(keep) + qs.filter(_core=True).count()) if progress else 0
            done = 0

            def chunks(table=table, name=name, total=total, qs=qs, keep=keep):
                nonlocal done
                for chunk in _chunks(table, qs, keep):
                    done += chunk.num_rows
                    if progress:
                        progress(name, done, total)
                    yield chunk

            counts[name] = writer.write_table(name, chunks())
            if progress and not total:
                progress(name, 0, 0)
        writer.close()
    return counts
