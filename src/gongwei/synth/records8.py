"""Records added in issue 8: vaccination certificates, outpatient consultations of adults, public-health emergency
reports and the SMI follow-ups' living-at-home flag.

They draw from their own random generator (seeded from the region's seed), so adding them leaves every other
synthetic table exactly as it was. Rates are synthetic shapes, not calibrated figures (:mod:`gongwei.synth.config`).
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gongwei.spec import vocab as v
from gongwei.spec.programs import vaccination as vac_spec
from gongwei.synth import util
from gongwei.synth.context import DAY, TOWNSHIP_LEVEL, VILLAGE_LEVEL, Ctx

STREAM = 8  # the generator of these builders: PCG64([seed, STREAM])


@contextmanager
def own_stream(ctx: Ctx):
    saved = ctx.rng
    ctx.rng = np.random.Generator(np.random.PCG64([ctx.seed, STREAM]))
    try:
        yield ctx.rng
    finally:
        ctx.rng = saved


def certificates(ctx: Ctx, residence_since: np.ndarray) -> None:
    """A certificate for most children under 7 at the window start: shortly after birth, or after arrival for a
    child who came to live here later; a few children have none (``certificate_missing_share``)."""
    p, cfg = ctx.people, ctx.cfg
    with own_stream(ctx) as rng:
        kids = np.flatnonzero((util.add_months(p.birth, (vac_spec.CERTIFICATE_MAX_AGE_YEARS + 1) * 12) > ctx.start)
                              & (p.birth <= ctx.as_of))
        arrived = residence_since[kids] > p.birth[kids]
        due = np.where(arrived, util.add_months(residence_since[kids], vac_spec.CERTIFICATE_MONTHS_AFTER_ARRIVAL),
                       util.add_months(p.birth[kids], vac_spec.CERTIFICATE_MONTHS_AFTER_BIRTH))
        base = np.where(arrived, residence_since[kids], p.birth[kids])
        span = np.maximum((due - base).astype(np.int64), 1)
        date = base + (rng.random(len(kids)) * span).astype(np.int64) * DAY
        late = rng.random(len(kids)) < cfg.certificate_late_share
        date = np.where(late, due + rng.integers(1, 120, len(kids)) * DAY, date)
        open_then = np.isnat(p.end[kids]) | (p.end[kids] > date)
        take = (rng.random(len(kids)) >= cfg.certificate_missing_share) & (date <= ctx.as_of) & open_then
        k, d = kids[take], date[take]
        n = len(k)
        ctx.encounters("vaccination_certificates", k, d, TOWNSHIP_LEVEL, {
            "certificate_no": util.concat("JZZ", util.strs(rng.integers(10**7, 10**8, n))),
            "is_replacement": util.bools(rng.random(n) < 0.01)})


def consultations(ctx: Ctx, sbp: np.ndarray, fpg: np.ndarray) -> None:
    """Outpatient visits at village clinics: each year a share of adults comes 1–3 times; blood pressure is
    taken at most first visits of people 35+ (fewer at later visits), glucose less often."""
    p, cfg = ctx.people, ctx.cfg
    with own_stream(ctx) as rng:
        person_l, date_l = [], []
        for year in ctx.years:  # loop over years only
            lo = max(np.datetime64(f"{year:04d}-01-01"), ctx.start)
            hi = min(np.datetime64(f"{year:04d}-12-31"), ctx.as_of)
            if hi < lo:
                continue
            days = int((hi - lo).astype(np.int64)) + 1
            adults = np.flatnonzero(p.age >= 18)
            who = adults[rng.random(len(adults)) < cfg.consultation_share]
            visits = rng.integers(1, 4, len(who))
            person = np.repeat(who, visits)
            person_l.append(person)
            date_l.append(lo + rng.integers(0, days, len(person)) * DAY)
        if not person_l:
            return
        person, date = np.concatenate(person_l), np.concatenate(date_l)
        keep, _ = ctx.served(person, date, ghosts=False)
        person, date = person[keep], date[keep]
        n = len(person)
        order = np.lexsort((date, person))
        first = np.ones(n, dtype=bool)
        year = date.astype("datetime64[Y]")
        first[order[1:]] = (person[order][1:] != person[order][:-1]) | (year[order][1:] != year[order][:-1])
        age = (date - p.birth[person]).astype(np.int64) / 365.25
        bp_share = np.where(first & (age >= 35), cfg.first_visit_bp_share, 0.5)
        bp = rng.random(n) < bp_share * ctx.diligence[p.township[person]].clip(0, 1.05)
        glucose = rng.random(n) < np.where(first & (age >= 35), cfg.first_visit_glucose_share, 0.2)
        s = np.clip(sbp[person] + rng.normal(0, 6, n), 85, 230).round().astype(np.int64)
        d_ = np.clip(s * 0.6 + rng.normal(0, 5, n), 50, s - 15).round().astype(np.int64)
        none_i = pa.scalar(None, pa.int64())
        ctx.encounters("consultations", person, date, VILLAGE_LEVEL, {
            "bp_measured": util.bools(bp),
            "sbp": pc.if_else(pa.array(bp), util.ints(s), none_i),
            "dbp": pc.if_else(pa.array(bp), util.ints(d_), none_i),
            "glucose_measured": util.bools(glucose),
            "blood_glucose": pc.if_else(pa.array(glucose), util.dec(np.clip(fpg[person] + rng.normal(0, .4, n),
                                                                             3.0, 25.0), 1),
                                        pa.scalar(None, pa.float64())),
            "complaint": util.pick(["头晕", "咳嗽", "腰腿痛", "复诊取药", "发热", "胃部不适"], rng.integers(0, 6, n)),
        })


def emergency_events(ctx: Ctx) -> None:
    """A few public-health emergency reports per township and year; most reported within the 2-hour limit."""
    r, cfg = ctx.region, ctx.cfg
    with own_stream(ctx) as rng:
        towns = len(r.township_code)
        k = rng.poisson(cfg.emergency_events_per_township_year * ctx.window_days / 365.25, towns)
        town = np.repeat(np.arange(towns), k)
        n = len(town)
        found = (ctx.start + rng.integers(0, ctx.window_days, n) * DAY).astype("datetime64[us]") \
            + (rng.uniform(0, 24, n) * 3.6e9).astype("timedelta64[us]")
        late = rng.random(n) < cfg.emergency_late_share
        missing = rng.random(n) < cfg.emergency_unreported_share
        hours = np.where(late, rng.uniform(2.5, 30, n), rng.uniform(0.2, 1.9, n))
        reported = found + (hours * 3.6e9).astype("timedelta64[us]")
        kinds = [v.EmergencyEventType.FOOD_POISONING, v.EmergencyEventType.INFECTIOUS,
                 v.EmergencyEventType.VACCINE_REACTION, v.EmergencyEventType.OCCUPATIONAL,
                 v.EmergencyEventType.UNEXPLAINED]
        kind = rng.choice(len(kinds), n, p=[.35, .35, .1, .1, .1])
        ctx.add("emergency_event_reports", {
            "report_no": ctx.numbers("emergency_event_reports", n),
            "org_unit": util.pick(pa.array(r.township_code), town),
            "event_type": util.pick([k_.value for k_ in kinds], kind),
            "description": util.pick([k_.zh + "事件" for k_ in kinds], kind),
            "found_at": util.timestamps(found),
            "reported_at": pc.if_else(pa.array(missing), pa.scalar(None, pa.timestamp("us", tz="UTC")),
                                      util.timestamps(reported)),
        })


def smi_living_at_home(ctx: Ctx) -> None:
    """Mark a few SMI follow-ups as "not living at home" (in hospital at the visit)."""
    parts = ctx.parts.get("smi_follow_ups", [])
    with own_stream(ctx) as rng:
        for part in parts:
            n = len(part["encounter_no"])
            part["living_at_home"] = util.bools(rng.random(n) >= ctx.cfg.smi_not_at_home_share)
