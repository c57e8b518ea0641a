"""Worklists: services due and overdue per village clinic (and its doctors), from the same state tables
the indicators use, so "overdue" and "missing from the numerator" can never disagree."""

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa

from gongwei.engine import registry
from gongwei.engine.backends import Engine
from gongwei.engine.orgs import OrgTree
from gongwei.spec.periods import parse

DUE_SOON_DAYS = 7  # "due this week"
COLUMNS = ("program", "service", "service_name", "resident_id", "record_no", "name", "unit_code", "due_date",
           "status", "days_overdue", "gap")


def items(eng: Engine, unit_code: str, as_of: dt.date, *, programs: list[str] | None = None,
          tree: OrgTree | None = None, include_upcoming: bool = False) -> pa.Table:
    """Every scheduled service of people managed in ``unit_code``'s subtree that is overdue or due within
    a week at the end of ``as_of`` (and, with ``include_upcoming``, later in the year)."""
    tree = tree or OrgTree.load(eng.snapshot)
    unit = tree.by_code(unit_code)
    units = tree.subtree(unit)
    period = parse(as_of.isoformat())
    cutoff = ibis.date(as_of)
    soon = ibis.date(as_of + dt.timedelta(days=DUE_SOON_DAYS))
    residents = eng.table("residents").select(rid="id", record_no="record_no", name="name")
    parts = []
    for program, (_, spec) in sorted(registry.evaluators().items()):
        if programs and program not in programs:
            continue
        schedule = getattr(spec, "SCHEDULE", ())
        if not schedule:
            continue
        state = registry.state(eng, program, period, units=units)
        for service in schedule:
            due = state[service.due_column]
            sel = state.filter(due.notnull() if include_upcoming else (due.notnull() & (due <= soon)))
            status = ibis.cases((sel[service.due_column] <= cutoff, "overdue"),
                                (sel[service.due_column] <= soon, "due_soon"), else_="upcoming")
            parts.append(sel.select(
                program=ibis.literal(program), service=ibis.literal(service.key),
                service_name=ibis.literal(service.name), resident_id=sel.resident_id,
                managing_unit_id=sel.managing_unit_id, due_date=sel[service.due_column], status=status,
                days_overdue=ibis.greatest(cutoff.delta(sel[service.due_column], unit="day"), 0),
                gap=ibis.literal(service.gap or ""),
            ))
    if not parts:
        return pa.table({c: pa.array([]) for c in COLUMNS})
    union = ibis.union(*parts)
    joined = union.join(residents, union.resident_id == residents.rid)
    ordered = joined.order_by([ibis.desc(joined.days_overdue), joined.due_date, joined.record_no])
    table = eng.to_arrow(ordered)
    unit_codes = pa.array([tree.code[u] for u in table.column("managing_unit_id").to_pylist()], pa.string())
    table = table.append_column("unit_code", unit_codes)
    return table.select(list(COLUMNS))
