"""Worklists: services due and overdue per village clinic, from the same state tables the indicators use, so
"overdue" and "missing from the numerator" can never disagree. Reads the materialised state of the year to
the as-of date (engine.materialize)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc

from gongwei.engine import registry
from gongwei.engine.backends import Engine
from gongwei.engine.materialize import load_state
from gongwei.engine.orgs import OrgTree
from gongwei.spec.periods import parse

DUE_SOON_DAYS = 7  # "due this week"
COLUMNS = ("program", "service", "service_name", "resident_id", "record_no", "name", "unit_code", "due_date",
           "status", "days_overdue", "gap")
_SCHEMA = pa.schema([("program", pa.string()), ("service", pa.string()), ("service_name", pa.string()),
                     ("resident_id", pa.int64()), ("record_no", pa.string()), ("name", pa.string()),
                     ("unit_code", pa.string()), ("due_date", pa.date32()), ("status", pa.string()),
                     ("days_overdue", pa.int64()), ("gap", pa.string())])
_STATUS_ORDER = {"overdue": 0, "due_soon": 1, "upcoming": 2}


def items(eng: Engine, unit_code: str, as_of: dt.date, *, programs: list[str] | None = None,
          tree: OrgTree | None = None, include_upcoming: bool = False) -> pa.Table:
    """Every scheduled service of people managed in ``unit_code``'s subtree that is overdue or due within
    a week at the end of ``as_of`` (and, with ``include_upcoming``, later in the year)."""
    tree = tree or OrgTree.load(eng.snapshot)
    units = tree.subtree(tree.by_code(unit_code))
    period = parse(as_of.isoformat())
    cutoff = pa.scalar(as_of, pa.date32())
    soon = pa.scalar(as_of + dt.timedelta(days=DUE_SOON_DAYS), pa.date32())
    parts = []
    for program, (_, spec) in sorted(registry.evaluators().items()):
        if programs and program not in programs:
            continue
        schedule = getattr(spec, "SCHEDULE", ())
        if not schedule:
            continue
        state = load_state(eng, program, period, units)
        for service in schedule:
            due = state.column(service.due_column).cast(pa.date32())
            keep = pc.is_valid(due) if include_upcoming else pc.and_(pc.is_valid(due), pc.less_equal(due, soon))
            sel = state.filter(keep)
            d = sel.column(service.due_column).cast(pa.date32())
            n = sel.num_rows
            status = pc.if_else(pc.less_equal(d, cutoff), "overdue", pc.if_else(pc.less_equal(d, soon), "due_soon",
                                                                                   "upcoming"))
            days = pc.max_element_wise(pc.cast(pc.days_between(d, cutoff), pa.int64()), 0)
            unit_ids = sel.column("managing_unit_id").to_pylist()
            parts.append(pa.table({
                "program": pa.array([program] * n, pa.string()),
                "service": pa.array([service.key] * n, pa.string()),
                "service_name": pa.array([service.name] * n, pa.string()),
                "resident_id": sel.column("resident_id").cast(pa.int64()),
                "record_no": sel.column("record_no"),
                "name": sel.column("name"),
                "unit_code": pa.array([tree.code[u] for u in unit_ids], pa.string()),
                "due_date": d,
                "status": status,
                "days_overdue": days,
                "gap": pa.array([service.gap or ""] * n, pa.string()),
            }, schema=_SCHEMA))
    if not parts:
        return _SCHEMA.empty_table()
    table = pa.concat_tables(parts)
    return table.sort_by([("days_overdue", "descending"), ("due_date", "ascending"), ("record_no", "ascending")])
