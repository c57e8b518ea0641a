"""Who has which condition (calibrated to spec.reference) and who is enrolled in which program."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from gongwei.spec import reference as ref
from gongwei.spec import vocab as v
from gongwei.spec.programs import hypertension as htn_spec
from gongwei.synth import util
from gongwei.synth.context import DAY, Ctx


def _by_age(age: np.ndarray, shape: dict[int, float]) -> np.ndarray:
    bands = np.array(sorted(shape))
    vals = np.array([shape[b] for b in bands])
    idx = np.searchsorted(bands, age, side="right") - 1
    return np.where(idx >= 0, vals[np.clip(idx, 0, None)], 0.0)


def prevalent(ctx: Ctx, shape: dict[int, float], overall: float, denominator_min_age: int) -> np.ndarray:
    """Draw a condition with the age shape of ``shape`` and the overall prevalence ``overall`` among
    people aged ``denominator_min_age`` and over."""
    age = ctx.people.age
    rel = _by_age(age, shape)
    denom = age >= denominator_min_age
    scale = overall * denom.sum() / max(rel[denom].sum(), 1e-9)
    return ctx.rng.random(len(age)) < np.clip(rel * scale, 0, 0.95)


def conditions(ctx: Ctx) -> dict[str, np.ndarray]:
    p, rng = ctx.people, ctx.rng
    truth: dict[str, np.ndarray] = {}
    truth["hypertension"] = prevalent(ctx, ref.HYPERTENSION_BY_AGE.value, ref.PREVALENCE["hypertension_18plus"].value,
                                      ref.ADULT_MIN_AGE)
    truth["diabetes"] = prevalent(ctx, ref.DIABETES_BY_AGE.value, ref.PREVALENCE["diabetes_18plus"].value,
                                  ref.ADULT_MIN_AGE)
    truth["copd"] = prevalent(ctx, ref.COPD_BY_AGE.value, ref.PREVALENCE["copd_40plus"].value,
                              ref.COPD_PREVALENCE_MIN_AGE)
    adult = p.age >= ref.ADULT_MIN_AGE
    smi_p = ref.PREVALENCE["smi_registered_all_ages"].value * p.n / max(adult.sum(), 1)
    truth["smi"] = adult & (rng.random(p.n) < smi_p)
    # managed (enrolled) patients: the age floor of the program, then the managed share × unit diligence
    d = ctx.diligence[p.township]
    for key, min_age in (("hypertension", htn_spec.MIN_AGE), ("diabetes", ref.DIABETES_MIN_AGE),
                         ("copd", ref.COPD_PREVALENCE_MIN_AGE)):
        share = ref.MANAGED_SHARE_OF_PREVALENT[key].value
        truth[f"{key}_managed"] = truth[key] & (p.age >= min_age) & (rng.random(p.n) < np.clip(share * d, 0, 1))
    truth["smi_managed"] = truth["smi"].copy()
    return truth


class Enrollments:
    """Collects enrollment rows; returns their numbers so encounters can reference them."""

    def __init__(self, ctx: Ctx):
        self.ctx = ctx
        self.by_program: dict[str, tuple[np.ndarray, pa.Array]] = {}  # program → (person, enrollment_no)

    def add(self, program: str, person: np.ndarray, start: np.ndarray, *, end: np.ndarray | None = None,
            end_reason: np.ndarray | None = None, level: str = "village", **extra: pa.Array) -> pa.Array:
        ctx, p = self.ctx, self.ctx.people
        n = len(person)
        closed = p.end[person]
        close_end = ~np.isnat(closed) & (closed >= start)
        end_d = np.full(n, np.datetime64("NaT"), dtype=util.D) if end is None else end.copy()
        reason = np.full(n, "", dtype=object) if end_reason is None else end_reason.astype(object)
        use_close = close_end & (np.isnat(end_d) | (closed < end_d))
        end_d = np.where(use_close, closed, end_d)
        dead = ~np.isnat(p.death[person])
        reason = np.where(use_close, np.where(dead, v.EnrollmentEndReason.DEATH.value,
                                              v.EnrollmentEndReason.MOVED_OUT.value), reason)
        end_d = np.where(~np.isnat(end_d) & (end_d > ctx.as_of), np.datetime64("NaT"), end_d)
        reason = np.where(np.isnat(end_d), "", reason)
        keys = ctx.numbers("enrollments", n)
        unit, _ = ctx.provider(person, level)
        cols = {"enrollment_no": keys, "resident": p.record_no.take(pa.array(person)), "program": pa.array([program] * n),
                "org_unit": unit, "start_date": util.dates(start), "end_date": util.dates(end_d),
                "end_reason": pa.array(reason.astype(str))}
        cols.update(extra)
        ctx.add("enrollments", cols)
        self.by_program[program] = (person, keys)
        return keys


def chronic_enrollments(ctx: Ctx, enr: Enrollments, truth: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, pa.Array, np.ndarray]]:
    """HTN, T2DM, COPD, SMI, elderly enrollments. Returns program → (person, enrollment_no, start)."""
    p, rng = ctx.people, ctx.rng
    out = {}
    for program, key, min_age in ((v.Program.HYPERTENSION, "hypertension", htn_spec.MIN_AGE),
                                  (v.Program.DIABETES, "diabetes", ref.DIABETES_MIN_AGE),
                                  (v.Program.COPD, "copd", ref.COPD_PREVALENCE_MIN_AGE),
                                  (v.Program.SMI, "smi", ref.ADULT_MIN_AGE)):
        person = np.flatnonzero(truth[f"{key}_managed"])
        floor = util.add_months(p.birth[person], min_age * 12)
        start = ctx.as_of - rng.integers(0, 10 * 365, len(person)) * DAY
        start = np.maximum(start, floor)
        start = np.where(~np.isnat(p.end[person]) & (start >= p.end[person]), p.end[person] - 30 * DAY, start)
        start = np.maximum(start, p.birth[person] + DAY)
        extra = {}
        if program == v.Program.SMI:
            codes = np.array([c.value for c in v.SmiDiagnosis])
            extra["diagnosis"] = pa.array(codes[rng.choice(len(codes), len(person), p=[.55, .08, .05, .15, .07, .10])])
            extra["diagnosis_date"] = util.dates(start - rng.integers(30, 720, len(person)) * DAY)
        else:
            extra["diagnosis_date"] = util.dates(start - rng.integers(0, 60, len(person)) * DAY)
        keys = enr.add(program.value, person, start, **extra)
        out[key] = (person, keys, start)
    # elderly: everyone 65+ during the window, from the 65th birthday (or 10 years back at most)
    last_day = ctx.as_of
    elderly = np.flatnonzero(util.add_months(p.birth, ref.ELDERLY_MIN_AGE * 12) <= last_day)
    elderly = elderly[np.isnat(p.end[elderly]) | (p.end[elderly] > ctx.start)]
    start = np.maximum(util.add_months(p.birth[elderly], ref.ELDERLY_MIN_AGE * 12), ctx.as_of - 3650 * DAY)
    keys = enr.add(v.Program.ELDERLY.value, elderly, start, level="township")
    out["elderly"] = (elderly, keys, start)
    return out
