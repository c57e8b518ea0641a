"""Data-quality rules (``gongwei.spec.quality``) evaluated over a snapshot, vectorised.

Each rule family lives in its own module of this package (identity, completeness, plausibility, logic,
temporal, fabrication, forms) and exposes ``EVALUATORS: dict[str, Evaluator]``. An evaluator receives a
:class:`Check` (the engine, the period, the rule and its parameters for the period's year and region) and
returns an Ibis table with one row per offending record:

    table       str    exchange-layout table of the flagged row (e.g. "health_examinations")
    record_id   int64  that row's id (for "residents"/"health_records": the resident id)
    resident_id int64  the person (null for unit-level rows such as activities)
    org_unit_id int64  the unit responsible for the row (encounters: the serving unit; residents: managing unit)
    ...                any other columns are the finding's *values*: shown to the user, filling the rule's
                       Chinese message template together with the rule's parameters

:func:`evaluate` runs the chosen rules, adds ``rule``, ``record_no`` (the person's 健康档案编号, what a
village doctor looks up), ``values`` (JSON) and ``message`` and returns one Arrow table. Messages are
formatted per finding, never per resident; everything else runs in the backend.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gongwei.engine.backends import Engine
from gongwei.spec.periods import Period
from gongwei.spec.quality import QcRule, rules

BASE_COLUMNS = ("table", "record_id", "resident_id", "org_unit_id")
FINDING_SCHEMA = pa.schema([
    ("rule", pa.string()), ("level", pa.string()), ("table", pa.string()), ("record_id", pa.int64()),
    ("record_no", pa.string()), ("resident_id", pa.int64()), ("org_unit_id", pa.int64()),
    ("values", pa.string()), ("message", pa.string()),
])

# every typed encounter table (service_date, resident, org_unit, provider, entered_at, is_void)
ENCOUNTER_TABLES = ("health_examinations", "chronic_follow_ups", "smi_follow_ups", "tb_follow_ups",
                    "newborn_visits", "child_checks", "prenatal_visits", "postpartum_visits", "vaccinations",
                    "tcm_constitutions", "child_tcm_guidance")


@dataclass(frozen=True)
class Check:
    eng: Engine
    period: Period
    rule: QcRule
    params: Mapping[str, object]
    region_code: str = ""

    @property
    def start(self) -> ibis.ir.DateScalar:
        return ibis.date(self.period.start)

    @property
    def end(self) -> ibis.ir.DateScalar:
        return ibis.date(self.period.end)

    def in_period(self, t: ibis.Table, column: str = "service_date") -> ibis.ir.BooleanValue:
        return (t[column] >= self.start) & (t[column] <= self.end)

    def services(self, name: str) -> ibis.Table:
        """Non-void rows of an encounter table dated in the period."""
        t = self.eng.table(name)
        return t.filter(~t.is_void & self.in_period(t))


Evaluator = Callable[[Check], ibis.Table]


@cache
def evaluators() -> dict[str, Evaluator]:
    """Every evaluator of the package's family modules, by rule code."""
    out: dict[str, Evaluator] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for code, fn in getattr(module, "EVALUATORS", {}).items():
            if code in out:
                raise ValueError(f"QC rule {code} evaluated twice ({info.name})")
            out[code] = fn
    unknown = set(out) - set(rules())
    if unknown:
        raise ValueError(f"evaluators for rules not in the rulebook: {sorted(unknown)}")
    return out


def region_code(eng: Engine) -> str:
    """The code of the snapshot's root unit (the region whose overrides apply)."""
    orgs = eng.table("org_units")
    roots = orgs.filter(orgs.parent_id.isnull()).select("code").to_pyarrow()
    return roots.column("code")[0].as_py() if roots.num_rows else ""


def _jsonable(v: Any) -> Any:
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()
    if isinstance(v, float):
        return round(v, 3)
    return v


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _format(template: str, values: Mapping[str, Any]) -> str:
    shown = {k: ("" if v is None else (f"{v:g}" if isinstance(v, float) else v)) for k, v in values.items()}
    return template.format_map(_Blank(shown))


@dataclass(frozen=True)
class _RecordNumbers:
    """Residents' record numbers by id, sorted once per evaluation so each rule looks its findings up
    with a binary search (findings are few, residents many; a hash join per rule would rebuild a table
    of the whole population 43 times)."""

    ids: np.ndarray
    record_no: pa.Array

    @classmethod
    def load(cls, eng: Engine) -> _RecordNumbers:
        res = eng.table("residents")
        t = eng.to_arrow(res.select(rid=res.id, record_no=res.record_no)).sort_by("rid")
        return cls(t.column("rid").to_numpy(), t.column("record_no").combine_chunks())

    def lookup(self, resident_ids: pa.ChunkedArray) -> pa.Array:
        wanted = resident_ids.cast(pa.int64()).fill_null(-1).to_numpy()
        if not len(self.ids):
            return pa.nulls(len(wanted), pa.string())
        pos = np.minimum(np.searchsorted(self.ids, wanted), len(self.ids) - 1)
        found = self.ids[pos] == wanted
        return pc.if_else(pa.array(found), self.record_no.take(pa.array(pos)), pa.scalar(None, pa.string()))


def _run(check: Check, fn: Evaluator, names: _RecordNumbers) -> pa.Table:
    expr = fn(check)
    missing = [c for c in BASE_COLUMNS if c not in expr.columns]
    if missing:
        raise ValueError(f"evaluator of {check.rule.code} lacks {missing}")
    # looked up in Arrow, not joined in the backend: unit- and doctor-level findings carry a literal null
    # resident, which some backends refuse to join on
    data = expr.to_pyarrow()
    data = data.append_column("record_no", names.lookup(data.column("resident_id")))
    extra = [c for c in data.column_names if c not in (*BASE_COLUMNS, "record_no")]
    params = dict(check.params)
    value_rows = data.select(extra).to_pylist() if extra else [{}] * data.num_rows
    values, messages = [], []
    for row in value_rows:
        row = {k: _jsonable(v) for k, v in row.items()}
        values.append(json.dumps(row, ensure_ascii=False, default=str))
        messages.append(_format(check.rule.message or check.rule.name, {**params, **row}))
    n = data.num_rows
    return pa.table({
        "rule": pa.array([check.rule.code] * n, pa.string()),
        "level": pa.array([check.rule.level.value] * n, pa.string()),
        "table": data.column("table").cast(pa.string()),
        "record_id": data.column("record_id").cast(pa.int64()),
        "record_no": data.column("record_no").cast(pa.string()),
        "resident_id": data.column("resident_id").cast(pa.int64()),
        "org_unit_id": data.column("org_unit_id").cast(pa.int64()),
        "values": pa.array(values, pa.string()),
        "message": pa.array(messages, pa.string()),
    }, schema=FINDING_SCHEMA)


def evaluate(eng: Engine, period: Period, rules_to_run: list[str] | None = None, *,
             region: str | None = None, units: list[int] | None = None,
             progress: Callable[[str], None] | None = None) -> pa.Table:
    """Findings of ``rules_to_run`` (default: every rule with an evaluator) for ``period``.

    ``units``: keep only findings whose responsible unit is one of these ids (an org subtree).
    """
    catalogue = rules()
    impl = evaluators()
    codes = list(rules_to_run) if rules_to_run is not None else [c for c in catalogue if c in impl]
    unknown = [c for c in codes if c not in catalogue]
    if unknown:
        raise ValueError(f"未知的质控规则：{', '.join(unknown)}")
    absent = [c for c in codes if c not in impl]
    if absent:
        raise ValueError(f"质控规则尚未实现：{', '.join(absent)}")
    code = region if region is not None else region_code(eng)
    names = _RecordNumbers.load(eng)
    parts = []
    for c in codes:
        rule = catalogue[c]
        check = Check(eng, period, rule, rule.params_for(period.year, code), code)
        if progress:
            progress(c)
        parts.append(_run(check, impl[c], names))
    out = pa.concat_tables(parts) if parts else FINDING_SCHEMA.empty_table()
    if units is not None:
        out = out.filter(pc.is_in(out.column("org_unit_id"), pa.array(units, pa.int64())))
    return out
