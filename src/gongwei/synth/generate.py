"""Deterministic synthetic regions: ``generate_region(residents, seed, as_of, months)``.

Same seed and arguments → identical tables. Every draw comes from one ``numpy.random.Generator(PCG64(seed))``
in a fixed order; Faker only supplies word lists. Everything is vectorised with NumPy/Arrow: the code
loops over org units, programs, schedule items and vaccines, never over residents or encounters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from gongwei.spec import reference as ref
from gongwei.synth import org, people, problems, programs, records8, services, units, util
from gongwei.synth.config import SynthConfig
from gongwei.synth.context import Ctx

LABEL_COLUMNS = ("problem", "table", "natural_key", "related_key", "detail", "seed")


@dataclass
class SyntheticRegion:
    tables: dict[str, pa.Table]          # exchange layout (gongwei.records.schema), loading order
    labels: pa.Table                     # ground truth of injected problems (LABEL_COLUMNS)
    seed: int
    as_of: dt.date
    start: dt.date
    residents: int
    truth: dict[str, np.ndarray] = field(default_factory=dict, repr=False)  # per true person, for calibration

    @property
    def row_count(self) -> int:
        return sum(t.num_rows for t in self.tables.values())


def default_start(as_of: dt.date, months: int | None) -> dt.date:
    """Window start: 1 January of the previous year by default (a full calendar year exists), or
    ``months`` calendar months back from ``as_of`` (exclusive)."""
    if months is None:
        return dt.date(as_of.year - 1, 1, 1)
    d = util.add_months(np.array([np.datetime64(as_of, "D")]), -months)[0] + np.timedelta64(1, "D")
    return d.astype(dt.date)


def _diligence(rng: np.random.Generator, cfg: SynthConfig, region: org.Region) -> np.ndarray:
    """Per-township factor on typical service rates: lagging counties work at the rate [pingliang-2020q2] reports."""
    n_c, n_t = len(region.county_code), len(region.township_code)
    county = rng.uniform(*cfg.county_diligence, n_c)
    lag = ref.OBSERVED_RATES["elderly_exam_lagging"].value / ref.OBSERVED_RATES["elderly_exam"].value
    town = np.clip(rng.normal(1, cfg.township_diligence_sd, n_t), 0.8, 1.2)
    if n_c >= 3 and cfg.lagging_counties:
        lagging = rng.choice(np.arange(1, n_c), min(cfg.lagging_counties, n_c - 1), replace=False)
        county[lagging] = lag
    elif n_t >= 2 and cfg.lagging_counties:
        town[n_t - 1] = lag  # small regions: one township lags
    return county[region.township_county] * town


def _column_type(kind: str) -> pa.DataType:
    return {"int": pa.int64(), "dec": pa.float64(), "date": pa.date32(), "bool": pa.bool_(),
            "datetime": pa.timestamp("us", tz="UTC")}.get(kind, pa.string())


def _assemble(name: str, parts: list[dict[str, pa.Array]]) -> pa.Table:
    from gongwei.records.schema import tables

    spec = tables()[name]
    cols = {}
    for c in spec.columns:
        typ = _column_type(c.kind)
        arrays = []
        for part in parts:
            n = len(next(iter(part.values())))
            a = part.get(c.name)
            if a is None:
                a = pa.nulls(n, typ)
            else:
                a = a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a
                if a.type != typ:
                    a = a.cast(typ)
            arrays.append(a)
        cols[c.name] = pa.concat_arrays(arrays) if arrays else pa.array([], typ)
    return pa.table(cols)


def generate_region(residents: int, seed: int, as_of: dt.date | None = None, months: int | None = None, *,
                    config: SynthConfig | None = None,
                    progress: Callable[[str], None] | None = None) -> SyntheticRegion:
    """Build a synthetic region of about ``residents`` people with services from the window start to ``as_of``."""
    from gongwei.records.schema import TABLES

    cfg = config or SynthConfig()
    as_of = as_of or dt.date.today()
    start = default_start(as_of, months)
    step = progress or (lambda _msg: None)
    rng = np.random.Generator(np.random.PCG64(seed))
    as_of64, start64 = np.datetime64(as_of, "D"), np.datetime64(start, "D")

    step("机构")
    region, sizes = org.build_region(rng, cfg, residents, as_of.year - ref.CENSUS_OLDEST_AGE - 1, as_of.year)
    step("居民")
    pop = people.build_people(rng, cfg, region, sizes, as_of64, start64)
    ctx = Ctx(rng=rng, cfg=cfg, seed=seed, region=region, people=pop, as_of=as_of64, start=start64,
              diligence=_diligence(rng, cfg, region))
    truth = programs.conditions(ctx)
    _pick_ghosts(ctx, truth)
    step("专案")
    enr = programs.Enrollments(ctx)
    enrolled = programs.chronic_enrollments(ctx, enr, truth)
    vit = services.Vitals(ctx, truth)
    step("体检")
    services.exams(ctx, vit, enrolled, truth)
    step("随访")
    services.chronic_follow_ups(ctx, vit, enrolled)
    services.smi_follow_ups(ctx, enrolled)
    services.tuberculosis(ctx, enr)
    step("妇幼")
    pregnant = services.maternal_and_child(ctx, enr)
    step("机构活动")
    units.education(ctx)
    units.supervision(ctx)
    units.infectious_reports(ctx)
    tb_person = enr.by_program.get("tb", (np.array([], np.int64), None))[0]
    units.contracts(ctx, truth, {"tb": tb_person}, pregnant)
    step("居民表")
    res = people.residents_table(rng, cfg, region, pop, as_of64)
    usual = np.asarray(res.column("usual_resident").to_numpy(zero_copy_only=False), dtype=bool)
    units.population_bases(ctx, usual)
    step("接种证、接诊、突发事件")
    since = np.asarray(res.column("residence_since").to_numpy(zero_copy_only=False), dtype="datetime64[D]")
    records8.certificates(ctx, since)
    records8.consultations(ctx, vit.sbp, vit.fpg)
    records8.emergency_events(ctx)
    records8.smi_living_at_home(ctx)
    hr = people.health_records_table(rng, region, pop, as_of64, truth)
    res, hr = problems.apply(ctx, res, hr)
    ctx.add("residents", dict(zip(res.column_names, res.columns, strict=True)))
    ctx.add("health_records", dict(zip(hr.column_names, hr.columns, strict=True)))
    hh = people.households_table(region, pop)
    ctx.add("households", dict(zip(hh.column_names, hh.columns, strict=True)))
    for name, tbl in (("org_units", region.org_units), ("staff", region.staff), ("teams", region.teams),
                      ("team_members", region.team_members)):
        ctx.add(name, dict(zip(tbl.column_names, tbl.columns, strict=True)))
    step("汇总")
    tables = {name: _assemble(name, ctx.parts[name]) for name, _m, _k in TABLES if name in ctx.parts}
    if ctx.labels:
        lab = {k: pa.concat_arrays([d[k] for d in ctx.labels]) for k in LABEL_COLUMNS[:-1]}
    else:
        lab = {k: pa.array([], pa.string()) for k in LABEL_COLUMNS[:-1]}
    lab["seed"] = pa.array(np.full(len(lab["problem"]), seed, dtype=np.int64))
    truth["village"] = pop.village
    truth["township"] = pop.township
    truth["county"] = pop.county
    truth["age"] = pop.age
    truth["sex"] = pop.sex
    truth["birth"] = pop.birth
    truth["end"] = pop.end
    truth["diligence"] = ctx.diligence
    return SyntheticRegion(tables=tables, labels=pa.table(lab), seed=seed, as_of=as_of, start=start,
                           residents=pop.n, truth=truth)


def _pick_ghosts(ctx: Ctx, truth: dict[str, np.ndarray]) -> None:
    """Persons whose record closed in the window and who still get one service afterwards (injected)."""
    p, rng, cfg = ctx.people, ctx.rng, ctx.cfg
    served = truth["hypertension_managed"] | truth["diabetes_managed"] | truth["smi_managed"] | (p.age >= 65)
    ghost = np.zeros(p.n, bool)
    for closed, share in ((~np.isnat(p.death), cfg.after_death_share), (~np.isnat(p.moved), cfg.after_moveout_share)):
        cand = np.flatnonzero(closed & served & (p.end > ctx.start + np.timedelta64(30, "D")))
        k = min(len(cand), max(3, int(round(share * closed.sum()))))
        if k:
            ghost[rng.choice(cand, k, replace=False)] = True
    ctx.ghost = ghost
