"""Rosters (花名册) of key populations per village, with the responsible doctor and family-doctor team lead.

A key population is any program whose state table has a ``managed`` flag (hypertension, diabetes, SMI,
TB, ...); people appear once per program. Seed 000 asks for exactly this: "具体列出各村委重点人群名单及团队负责人".
"""

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa

from gongwei.engine import materialize, registry
from gongwei.engine.backends import Engine
from gongwei.engine.orgs import OrgTree
from gongwei.spec.periods import parse

COLUMNS = ("program", "unit_code", "unit_name", "record_no", "name", "sex", "birth_date", "doctor", "team",
           "team_lead")


def stored_programs(eng: Engine, as_of: dt.date) -> list[str]:
    """The programs whose state tables of the day are materialised (by the worklist job)."""
    period = parse(as_of.isoformat())
    return [p for p in sorted(registry.evaluators()) if materialize.state_path(eng, p, period).exists()]


def roster(eng: Engine, unit_code: str, as_of: dt.date, *, programs: list[str] | None = None,
           tree: OrgTree | None = None, stored: bool = False) -> pa.Table:
    """``stored=True`` (pages): read the day's materialised state tables instead of evaluating the programs, and
    leave out a program whose table is not materialised."""
    tree = tree or OrgTree.load(eng.snapshot)
    units = tree.subtree(tree.by_code(unit_code))
    period = parse(as_of.isoformat())
    parts = []
    ready = set(stored_programs(eng, as_of)) if stored else set()
    for program in sorted(registry.evaluators()):
        if programs and program not in programs:
            continue
        if stored and program not in ready:
            continue
        state = (ibis.memtable(materialize.load_state(eng, program, period, units)) if stored
                 else registry.state(eng, program, period, units=units))
        if "managed" not in state.columns or "resident_id" not in state.columns:
            continue
        parts.append(state.filter(state.managed).select(program=ibis.literal(program), resident_id="resident_id"))
    if not parts:
        return pa.table({c: pa.array([], pa.string()) for c in COLUMNS})
    members = ibis.union(*parts)
    res = eng.table("residents").select(rid="id", record_no="record_no", name="name", sex="sex",
                                        birth_date="birth_date", unit_id="managing_unit_id",
                                        doctor_id="responsible_doctor_id")
    staff = eng.table("staff").select(sid="id", doctor="name")
    day = ibis.date(as_of)
    contracts = eng.table("contracts")
    active = contracts.filter((contracts.start_date <= day) & (contracts.end_date >= day)
                              & (contracts.cancelled_on.isnull() | (contracts.cancelled_on > day)))
    active = active.group_by(cr_resident=active.resident_id).aggregate(team_id=active.team_id.max())
    teams = eng.table("teams").select(tid="id", team="name", lead_id="lead_id")
    leads = eng.table("staff").select(lid="id", team_lead="name")
    j = members.join(res, members.resident_id == res.rid)
    j = j.left_join(staff, j.doctor_id == staff.sid)
    j = j.left_join(active, j.resident_id == active.cr_resident)
    j = j.left_join(teams, j.team_id == teams.tid)
    j = j.left_join(leads, j.lead_id == leads.lid)
    j = j.select("program", "record_no", "name", "sex", "birth_date", "unit_id", "doctor", "team", "team_lead")
    table = eng.to_arrow(j.order_by(["unit_id", "program", "record_no"]))
    ids = table.column("unit_id").to_pylist()
    table = table.append_column("unit_code", pa.array([tree.code[i] for i in ids], pa.string()))
    table = table.append_column("unit_name", pa.array([tree.name[i] for i in ids], pa.string()))
    return table.select(list(COLUMNS))
