"""Service records of the window, vectorised per program (loops only over schedule items and units)."""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gongwei.spec import constitution
from gongwei.spec import reference as ref
from gongwei.spec import vocab as v
from gongwei.spec.programs import child as child_spec
from gongwei.spec.programs import hypertension as htn_spec
from gongwei.spec.programs import tb as tb_spec
from gongwei.spec.programs import vaccination as nip_spec
from gongwei.synth import util
from gongwei.synth.context import DAY, TOWNSHIP_LEVEL, VILLAGE_LEVEL, Ctx
from gongwei.synth.programs import Enrollments

F2F = np.array([v.FollowUpMode.CLINIC.value, v.FollowUpMode.HOME.value, v.FollowUpMode.PHONE.value])


def _enrollment_of(person: np.ndarray, enrolled_person: np.ndarray, keys: pa.Array) -> pa.Array:
    """Enrollment number for each person (persons must be enrolled)."""
    order = np.argsort(enrolled_person, kind="stable")
    pos = order[np.searchsorted(enrolled_person, person, sorter=order)]
    return keys.take(pa.array(pos))


def _quarter_starts(ctx: Ctx) -> np.ndarray:
    qs = []
    for y in ctx.years:
        for m in (1, 4, 7, 10):
            q = np.datetime64(f"{y:04d}-{m:02d}-01")
            if q <= ctx.as_of and q + 90 * DAY >= ctx.start:
                qs.append(q)
    return np.array(qs, dtype=util.D)


# --- vital signs ---------------------------------------------------------------------------------------
class Vitals:
    """Per-person baselines (synthetic, uncalibrated shapes) so a person's values are stable over time."""

    def __init__(self, ctx: Ctx, truth: dict[str, np.ndarray]):
        p, rng = ctx.people, ctx.rng
        n = p.n
        male = p.sex == "1"
        self.height = np.where(male, rng.normal(168, 6.5, n), rng.normal(157, 6, n)) - np.clip(p.age - 60, 0, 40) * 0.1
        bmi = np.clip(rng.normal(24, 3.3, n), 16, 40)
        self.weight = bmi * (self.height / 100) ** 2
        self.waist = np.clip(self.weight * 0.8 + self.height * 0.1 + rng.normal(0, 4, n), 55, 140)
        htn = truth["hypertension"]
        self.sbp = 112 + np.clip(p.age - 30, 0, 60) * 0.35 + np.where(htn, 22, 0) + rng.normal(0, 9, n)
        self.dbp = 70 + np.where(htn, 10, 0) + rng.normal(0, 6, n)
        self.pulse = rng.normal(76, 8, n)
        dm = truth["diabetes"]
        self.fpg = np.where(dm, rng.lognormal(np.log(7.0), 0.22, n), rng.normal(5.2, 0.5, n))


def exams(ctx: Ctx, vit: Vitals, enrolled: dict, truth: dict[str, np.ndarray]) -> None:
    """Annual health exams: 65+ (elderly package) and HTN/T2DM patients; elderly TCM constitution."""
    p, rng, cfg = ctx.people, ctx.rng, ctx.cfg
    htn_p, htn_k, _ = enrolled["hypertension"]
    dm_p, dm_k, _ = enrolled["diabetes"]
    old_p, old_k, _ = enrolled["elderly"]
    chronic = np.zeros(p.n, bool)
    chronic[htn_p] = True
    chronic[dm_p] = True
    rows_person, rows_date, rows_year = [], [], []
    for y in ctx.years:
        y0, y1 = util.year_start(y), util.year_start(y + 1) - DAY
        age_end = util.age_years(p.birth, y1)
        elig = np.flatnonzero((age_end >= ref.ELDERLY_MIN_AGE) | chronic)
        d = y0 + rng.integers(0, 365, len(elig)) * DAY
        take = rng.random(len(elig)) < ctx.rate("elderly_exam", elig)
        rows_person.append(elig[take]), rows_date.append(d[take]), rows_year.append(np.full(take.sum(), y))
    person, date, year = np.concatenate(rows_person), np.concatenate(rows_date), np.concatenate(rows_year)
    keep, ghost = ctx.served(person, date)
    person, date, year, ghost = person[keep], date[keep], year[keep], ghost[keep]
    n = len(person)
    age = util.age_years(p.birth[person], date)
    elderly = age >= ref.ELDERLY_MIN_AGE
    is_htn = np.isin(person, htn_p)
    trigger = np.where(elderly, v.ExamTrigger.ELDERLY.value,
                       np.where(is_htn, v.ExamTrigger.HYPERTENSION.value, v.ExamTrigger.DIABETES.value))
    height = np.round(vit.height[person] + rng.normal(0, 0.6, n), 1)
    weight = np.round(vit.weight[person] + rng.normal(0, 1.2, n), 1)
    waist = np.round(vit.waist[person] + rng.normal(0, 1.5, n), 1)
    sbp = np.clip(np.round(vit.sbp[person] + rng.normal(0, 7, n)), 90, 220).astype(np.int64)
    dbp = np.clip(np.round(vit.dbp[person] + rng.normal(0, 5, n)), 50, 130).astype(np.int64)
    dbp = np.minimum(dbp, sbp - 20)
    pulse = np.clip(np.round(vit.pulse[person] + rng.normal(0, 5, n)), 50, 110).astype(np.int64)

    # injected: look-alike exams (F-01) in a few hotspot townships, copied from another resident's exam
    fabricated = np.zeros(n, bool)
    template_of = np.full(n, -1)
    n_fab = int(round(cfg.lookalike_exam_share * elderly.sum()))
    n_town = len(ctx.region.township_code)
    if n_fab and n_town:
        hot = rng.choice(n_town, min(cfg.lookalike_hotspot_townships, n_town), replace=False)
        cand = np.flatnonzero(elderly & np.isin(p.township[person], hot) & ~ghost)
        group = p.township[person[cand]] * 10_000 + year[cand]
        order = np.argsort(group, kind="stable")
        cand, group = cand[order], group[order]
        _, g_start, g_count = np.unique(group, return_index=True, return_counts=True)
        # templates: the first row of each group; copies: the next rows up to the share
        per_group = np.minimum(np.maximum(1, np.round(n_fab * g_count / max(g_count.sum(), 1))).astype(int), g_count - 1)
        for gs, k in zip(g_start, per_group, strict=True):  # loop over (township, year) groups
            if k <= 0:
                continue
            tmpl = cand[gs]
            copies = cand[gs + 1: gs + 1 + k]
            fabricated[copies] = True
            template_of[copies] = tmpl
    fields = [height, weight, waist, sbp, dbp, pulse]
    n_same = np.zeros(n, dtype=np.int64)
    fi = np.flatnonzero(fabricated)
    if len(fi):
        k_same = rng.choice(np.array([4, 5, 6]), len(fi), p=[.4, .3, .3])
        ranks = np.argsort(rng.random((len(fi), 6)), axis=1)
        copy_mask = ranks < k_same[:, None]
        for j, arr in enumerate(fields):
            t = template_of[fi]
            arr[fi] = np.where(copy_mask[:, j], arr[t], arr[fi])
            same = arr[fi] == arr[t]
            arr[fi] = np.where(~copy_mask[:, j] & same, arr[fi] + (1 if arr.dtype.kind == "i" else 0.3), arr[fi])
        n_same[fi] = k_same
    _untangle_lookalikes(fields, p.township[person] * 10_000 + year, fabricated, template_of)
    height, weight, waist, sbp, dbp, pulse = fields
    # a field copied from a template beside one drawn afresh can leave the diastolic at or above the systolic
    # (one exam in two million, seen on 2026-11-29): the entry layer refuses such a reading, so neither may we
    dbp = np.where(dbp >= sbp, sbp - 15, dbp)

    # right-arm SBP: close to the left; injected gaps > 10 and > 20 mmHg (F-03, [pingliang-2020q2])
    gap = np.clip(np.round(rng.normal(0, 3, n)), -8, 8).astype(np.int64)
    u = rng.random(n)
    g20 = u < cfg.arm_gap_20_share
    g10 = ~g20 & (u < cfg.arm_gap_20_share + cfg.arm_gap_10_share)
    sign = np.where(rng.random(n) < 0.5, -1, 1)
    gap = np.where(g10, sign * rng.integers(11, 21, n), np.where(g20, sign * rng.integers(21, 36, n), gap))
    sbp_right = np.clip(sbp + gap, 70, 260)
    gap = sbp_right - sbp
    g10, g20 = (np.abs(gap) > ref.LR_ARM_SBP_GAP_NOTABLE) & (np.abs(gap) <= ref.LR_ARM_SBP_GAP_RECHECK), \
        np.abs(gap) > ref.LR_ARM_SBP_GAP_RECHECK
    dbp_right = np.minimum(np.clip(dbp + rng.integers(-3, 4, n), 40, 140), sbp_right - 15)

    fpg = np.round(np.clip(vit.fpg[person] + rng.normal(0, 0.4, n), 3.0, 25), 1)
    bmi = np.round(weight / (height / 100) ** 2, 1)
    ctrl = htn_spec.CONTROL.for_year(ctx.years[-1])
    abnormal = (sbp >= ctrl.sbp) | (dbp >= ctrl.dbp) | (bmi >= 28) | (fpg >= ref.DM_UNCONTROLLED_FPG)
    enrol = pa.nulls(n, pa.string())
    for prog_p, prog_k, mask in ((old_p, old_k, elderly), (htn_p, htn_k, ~elderly & is_htn),
                                 (dm_p, dm_k, ~elderly & ~is_htn)):
        if mask.any():
            idx = np.flatnonzero(mask)
            ok = np.isin(person[idx], prog_p)
            idx = idx[ok]
            e = _enrollment_of(person[idx], prog_p, prog_k)
            enrol = pc.if_else(_mask(n, idx), _scatter(n, idx, e), enrol)
    smoker = rng.random(n) < np.where(p.sex[person] == "1", 0.45, 0.03)
    cols = {
        "trigger": trigger, "symptoms": np.where(rng.random(n) < .7, "1", "2"),
        "temperature": util.dec(rng.normal(36.5, 0.25, n), 1), "pulse": util.ints(pulse),
        "respiration": util.ints(rng.integers(16, 21, n)), "sbp_left": util.ints(sbp), "dbp_left": util.ints(dbp),
        "sbp_right": util.ints(sbp_right), "dbp_right": util.ints(dbp_right), "height": util.dec(height, 1),
        "weight": util.dec(weight, 1), "waist": util.dec(waist, 1), "bmi": util.dec(bmi, 1),
        "heart_rate": util.ints(pulse), "self_rated_health": rng.choice(np.array(["1", "2", "3"]), n),
        "adl_score": util.ints(np.where(elderly, rng.choice(np.array([0, 0, 0, 1, 2, 3, 5, 9]), n), 0)),
        "cognition": np.where(rng.random(n) < .95, "1", "2"), "affect": np.where(rng.random(n) < .95, "1", "2"),
        "exercise_frequency": rng.choice(np.array(["1", "2", "3", "4"]), n),
        "smoking_status": np.where(smoker, "3", "1"),
        "cigarettes_per_day": util.ints(np.where(smoker, rng.integers(5, 30, n), 0)),
        "drinking_frequency": rng.choice(np.array(["1", "2", "3", "4"]), n, p=[.6, .25, .1, .05]),
        "fasting_glucose": util.dec(fpg, 1), "hemoglobin": util.ints(rng.integers(110, 160, n)),
        "urine_protein": np.where(rng.random(n) < .95, "-", "+"), "urine_glucose": np.where(fpg > 10, "+", "-"),
        "alt": util.ints(rng.integers(8, 50, n)), "ast": util.ints(rng.integers(10, 45, n)),
        "creatinine": util.ints(rng.integers(50, 110, n)), "urea": util.dec(rng.normal(5.5, 1.2, n).clip(2, 12), 1),
        "total_cholesterol": util.dec(rng.normal(4.8, 0.8, n).clip(2.5, 9), 2),
        "triglycerides": util.dec(rng.lognormal(np.log(1.4), 0.4, n).clip(0.3, 9), 2),
        "ldl": util.dec(rng.normal(2.8, 0.6, n).clip(1, 6), 2), "hdl": util.dec(rng.normal(1.3, 0.3, n).clip(.5, 3), 2),
        "ecg": np.where(rng.random(n) < .85, "1", "2"), "abdominal_ultrasound": np.where(rng.random(n) < .8, "1", "2"),
        "health_evaluation": np.where(abnormal, v.HealthEvaluation.ABNORMAL.value, v.HealthEvaluation.NORMAL.value),
        "health_guidance": np.where(abnormal, "1,2", "1"), "risk_factor_control": np.where(smoker, "1,2", "3"),
    }
    keys = ctx.encounters("health_examinations", person, date, TOWNSHIP_LEVEL, cols, enrollment=enrol, ghost_rows=ghost)
    if len(fi):
        tk = keys.take(pa.array(template_of[fi]))
        detail = util.concat("与同机构同年度另一居民体检记录6项指标中", util.strs(n_same[fi]), "项完全相同")
        ctx.label("exam_lookalike", "health_examinations", keys.take(pa.array(fi)), tk, detail)
    for mask, code in ((g10, "bp_arm_gap_10"), (g20, "bp_arm_gap_20")):
        idx = np.flatnonzero(mask)
        detail = util.concat("左侧收缩压", util.strs(sbp[idx]), "，右侧收缩压", util.strs(sbp_right[idx]))
        ctx.label(code, "health_examinations", keys.take(pa.array(idx)), "", detail)

    # elderly TCM constitution (33 answers, item 32 scored from waist [tcm-constitution]) on the exam day or another day
    tcm_p = np.flatnonzero(elderly & (rng.random(n) < np.clip(ref.OBSERVED_RATES["elderly_tcm"].value
                                                                / ref.OBSERVED_RATES["elderly_exam"].value, 0, 1)))
    tp, td = person[tcm_p], date[tcm_p]
    tk, tghost = ctx.served(tp, td, ghosts=False)
    tp, td, tw = tp[tk], td[tk], waist[tcm_p][tk]
    m = len(tp)
    tendency = rng.integers(1, 4, m)[:, None]
    answers = np.clip(tendency + rng.integers(-1, 2, (m, 33)), 1, 5)
    answers[:, 31] = np.select([tw < 80, tw <= 85, tw <= 90, tw <= 105], [1, 2, 3, 4], 5)
    text = pa.array(np.frombuffer((answers + 48).astype(np.uint8).tobytes(), dtype="S33")).cast(pa.string())
    recorded, mismatched = _recorded_constitutions(ctx, answers)
    tkeys = ctx.encounters("tcm_constitutions", tp, td, TOWNSHIP_LEVEL,
                           {"answers": text, "recorded_result": recorded,
                            "guidance_given": util.bools(rng.random(m) < 0.97)})
    mi = np.flatnonzero(mismatched)
    ctx.label("constitution_mismatch", "tcm_constitutions", tkeys.take(pa.array(mi)), "",
              util.concat("记录的体质辨识结果为", recorded.take(pa.array(mi)), "，与问卷计分不符"))


def _recorded_constitutions(ctx: Ctx, answers: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """体质辨识结果 as the doctor ticks it: the constitutions the answers score to (是 or 倾向是, and 平和质 when it
    is 是 or 基本是; the rules of spec.constitution, vectorised), and for an injected share a different one
    (L-12: [shangdang-2023] "中医体质辨识有偏差"). A generator of its own, so the rest of the region does not change."""
    con = constitution
    sums = {c: (np.where(np.isin(np.array(items), list(con.BALANCED_REVERSED_ITEMS))
                         & (c is con.Constitution.BALANCED),
                         con.MIN_ANSWER + con.MAX_ANSWER - answers[:, np.array(items) - 1],
                         answers[:, np.array(items) - 1])).sum(axis=1)
            for c, items in con.ITEMS.items()}
    max_biased = np.max(np.stack([sums[c] for c in con.BIASED]), axis=0)
    flags = [(c, sums[c] >= con.BIASED_TENDS_MIN) for c in con.BIASED]
    flags.append((con.Constitution.BALANCED, (sums[con.Constitution.BALANCED] >= con.BALANCED_MIN)
                  & (max_biased < con.BALANCED_BASIC_BIASED_BELOW)))
    parts = [pa.array(np.where(flag, "," + c.value, "")) for c, flag in flags]
    joined = pc.binary_join_element_wise(*parts, "")
    recorded = pc.utf8_slice_codeunits(joined, 1)
    rng = np.random.default_rng([ctx.seed, 1_012])
    mismatched = rng.random(len(answers)) < ctx.cfg.constitution_mismatch_share
    other = pc.if_else(pc.equal(recorded, con.Constitution.BALANCED.value),
                       con.Constitution.QI_DEFICIENCY.value, con.Constitution.BALANCED.value)
    return pc.if_else(pa.array(mismatched), other, recorded), mismatched


def _mask(n: int, idx: np.ndarray) -> pa.Array:
    m = np.zeros(n, bool)
    m[idx] = True
    return pa.array(m)


def _scatter(n: int, idx: np.ndarray, values: pa.Array) -> pa.Array:
    pos = np.zeros(n, dtype=np.int64)
    pos[idx] = np.arange(len(idx))
    return values.take(pa.array(pos))


def _untangle_lookalikes(fields: list[np.ndarray], group: np.ndarray, fabricated: np.ndarray,
                         template_of: np.ndarray) -> None:
    """Nudge exams that share ≥ 4 of the 6 values with an unrelated exam by chance, so that every
    look-alike pair in the data is an injected one (labels are then the complete truth)."""
    n = len(group)
    family = np.where(fabricated, template_of, np.arange(n))
    scaled = [np.round(f * 10).astype(np.uint64) for f in fields]
    mix = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
                    0xFF51AFD7ED558CCD], dtype=np.uint64)
    g = group.astype(np.uint64)
    for _ in range(4):
        touched = False
        for combo in itertools.combinations(range(6), 4):
            # one 64-bit hash per row of (group, the 4 values); a rare hash collision only nudges a row
            h = g * mix[0]
            for j, col in enumerate(combo):
                h = (h ^ (scaled[col] + np.uint64(j + 1))) * mix[j + 1]
            _, inv, counts = np.unique(h, return_inverse=True, return_counts=True)
            inv = inv.ravel()
            multi = counts[inv] > 1
            if not multi.any():
                continue
            idx = np.flatnonzero(multi)
            fam_min = np.full(len(counts), np.iinfo(np.int64).max)
            fam_max = np.full(len(counts), -1)
            np.minimum.at(fam_min, inv[idx], family[idx])
            np.maximum.at(fam_max, inv[idx], family[idx])
            mixed = idx[fam_min[inv[idx]] != fam_max[inv[idx]]]
            victims = mixed[~fabricated[mixed] & (family[mixed] == mixed)]
            # a template in a mixed group: nudge the other, unrelated members only
            victims = victims[~np.isin(victims, template_of[fabricated])]
            if len(victims):
                # a group of unrelated exams only keeps its first as it is: nudging all of them alike would
                # leave them equal to each other
                with_family = np.zeros(len(counts), bool)
                with_family[inv[np.setdiff1d(mixed, victims)]] = True
                first = np.full(len(counts), n, dtype=np.int64)
                np.minimum.at(first, inv[victims], victims)
                victims = victims[with_family[inv[victims]] | (victims != first[inv[victims]])]
            if len(victims):
                touched = True
                # nudge a field of this combination (height, weight or waist): one outside it keeps the match
                j = combo[0]
                fields[j][victims] = np.round(fields[j][victims] + 0.7, 1)
                scaled[j][victims] = np.round(fields[j][victims] * 10).astype(np.uint64)
        if not touched:
            break


# --- chronic follow-ups ------------------------------------------------------------------------------
def chronic_follow_ups(ctx: Ctx, vit: Vitals, enrolled: dict) -> None:
    p, rng, cfg = ctx.people, ctx.rng, ctx.cfg
    qs = _quarter_starts(ctx)
    ctrl = htn_spec.CONTROL.for_year(ctx.years[-1])
    for key, program in (("hypertension", v.Program.HYPERTENSION), ("diabetes", v.Program.DIABETES),
                         ("copd", v.Program.COPD)):
        e_person, e_keys, e_start = enrolled[key]
        if not len(e_person) or not len(qs):
            continue
        k = len(qs)
        idx = np.repeat(np.arange(len(e_person)), k)
        date = np.tile(qs, len(e_person)) + rng.integers(0, 80, len(idx)) * DAY
        take = (rng.random(len(idx)) < ctx.rate("chronic_visit", e_person[idx])) & (date >= e_start[idx])
        idx, date = idx[take], date[take]
        person = e_person[idx]
        keep, ghost = ctx.served(person, date)
        idx, person, date, ghost = idx[keep], person[keep], date[keep], ghost[keep]
        n = len(idx)
        sbp = np.clip(np.round(vit.sbp[person] + rng.normal(-4, 9, n)), 95, 230).astype(np.int64)
        dbp = np.minimum(np.clip(np.round(vit.dbp[person] + rng.normal(-2, 6, n)), 55, 135), sbp - 20).astype(np.int64)
        fpg = np.round(np.clip(vit.fpg[person] + rng.normal(0, 0.6, n), 3.0, 25), 1)
        if program == v.Program.HYPERTENSION:
            uncontrolled = (sbp >= ctrl.sbp) | (dbp >= ctrl.dbp)
            emergency = (sbp >= htn_spec.EMERGENCY_SBP) | (dbp >= htn_spec.EMERGENCY_DBP)
        elif program == v.Program.DIABETES:
            uncontrolled = fpg >= ref.DM_UNCONTROLLED_FPG
            emergency = (fpg >= 16.7) | (sbp >= htn_spec.EMERGENCY_SBP)
        else:
            uncontrolled = np.zeros(n, bool)
            emergency = np.zeros(n, bool)
        adverse = ~uncontrolled & (rng.random(n) < 0.02)
        complication = ~uncontrolled & ~adverse & (rng.random(n) < 0.01)
        cls = np.select([uncontrolled, adverse, complication], [v.FollowUpClass.UNCONTROLLED.value,
                        v.FollowUpClass.ADVERSE_REACTION.value, v.FollowUpClass.COMPLICATION.value],
                        v.FollowUpClass.CONTROLLED.value)
        if program == v.Program.COPD:
            cls = np.full(n, "")
        # two consecutive uncontrolled visits → referral [spec2017-htn]
        order = np.lexsort((date, person))
        prev_unc = np.zeros(n, bool)
        so = order
        prev_unc[so[1:]] = (person[so[1:]] == person[so[:-1]]) & uncontrolled[so[:-1]]
        referral = emergency | complication | (uncontrolled & prev_unc)
        adjusted = uncontrolled | adverse
        guided = uncontrolled | adverse | complication
        # injected: uncontrolled visits without guidance, drug change or referral ([pingliang-2020q2], F-10)
        unguided = uncontrolled & ~emergency & (rng.random(n) >= ctx.rate("uncontrolled_guided", person) ** 0.5
                                                * ref.OBSERVED_RATES["uncontrolled_guided"].value ** 0.5)
        referral &= ~unguided
        adjusted &= ~unguided
        nv = np.where((uncontrolled | adverse | complication) & ~unguided,
                      htn_spec.NEXT_VISIT_DAYS[v.FollowUpClass.UNCONTROLLED],
                      htn_spec.NEXT_VISIT_DAYS[v.FollowUpClass.CONTROLLED])
        mode = F2F[rng.choice(3, n, p=np.array(cfg.follow_up_mode_probs))]
        guidance = np.where(guided & ~unguided, "调整用药，低盐饮食，两周内复查", np.where(unguided, "", "维持治疗，低盐饮食，规律运动"))
        weight = np.round(vit.weight[person] + rng.normal(0, 1.2, n), 1)
        bmi = np.round(weight / (vit.height[person] / 100) ** 2, 1)
        smoker = rng.random(n) < 0.2
        medication, irregular = _medication(ctx, program, person)
        cols = {
            "program": np.full(n, program.value), "mode": mode,
            "symptoms": np.where(rng.random(n) < .75, "1", "2"),
            "sbp": util.ints(sbp), "dbp": util.ints(dbp), "weight": util.dec(weight, 1), "bmi": util.dec(bmi, 1),
            "heart_rate": util.ints(np.clip(np.round(vit.pulse[person] + rng.normal(0, 5, n)), 50, 110)),
            "fasting_glucose": util.dec(np.where(program == v.Program.DIABETES, fpg, np.nan), 1),
            "hba1c": util.dec(np.where(program == v.Program.DIABETES, np.clip(fpg * 0.6 + 2.6, 4, 15), np.nan), 1),
            "dorsalis_pedis": np.full(n, "1" if program == v.Program.DIABETES else ""),
            "cigarettes_per_day": util.ints(np.where(smoker, rng.integers(5, 20, n), 0)),
            "salt_intake": np.where(rng.random(n) < .7, "1", "2"),
            "cat_score": pa.array(np.where(program == v.Program.COPD, rng.integers(3, 30, n), 0), pa.int64()) if
            program == v.Program.COPD else pa.nulls(n, pa.int64()),
            "adherence": rng.choice(np.array(["1", "2", "3"]), n, p=[.8, .15, .05]),
            "adverse_reaction": util.bools(adverse), "adverse_reaction_text": np.where(adverse, "头晕、乏力", ""),
            "classification": cls, "medication": medication,
            "medication_adjusted": util.bools(adjusted), "guidance": guidance, "referral": util.bools(referral),
            "referral_reason": np.where(referral, np.where(emergency, "紧急转诊", "连续两次控制不满意"), ""),
            "referral_institution": np.where(referral, "县人民医院 内科", ""),
            "next_visit_date": util.dates(date + nv * DAY),
        }
        enrol = e_keys.take(pa.array(idx))
        keys = ctx.encounters("chronic_follow_ups", person, date, VILLAGE_LEVEL, cols, enrollment=enrol,
                              ghost_rows=ghost)
        mi = np.flatnonzero(irregular)
        ctx.label("medication_irregular", "chronic_follow_ups", keys.take(pa.array(mi)), "",
                  util.concat("用药情况“", pa.array(medication[mi], pa.string()), "”未逐药写明名称、剂量和次数"))
        ui = np.flatnonzero(unguided)
        ctx.label("uncontrolled_no_guidance", "chronic_follow_ups", keys.take(pa.array(ui)),
                  p.record_no.take(pa.array(person[ui])),
                  util.concat(f"{program.zh}控制不满意（", util.strs(sbp[ui]), "/", util.strs(dbp[ui]),
                              "）无指导、调药或转诊"))


# one regimen per patient, written as the form asks: drug name, times per day, dose per time (C-06)
REGIMENS = {
    v.Program.HYPERTENSION: ("氨氯地平片 每日1次 每次5mg", "硝苯地平缓释片 每日2次 每次10mg", "厄贝沙坦片 每日1次 每次150mg",
                             "缬沙坦胶囊 每日1次 每次80mg；吲达帕胺片 每日1次 每次2.5mg"),
    v.Program.DIABETES: ("二甲双胍片 每日3次 每次0.5g", "格列美脲片 每日1次 每次2mg", "阿卡波糖片 每日3次 每次50mg"),
    v.Program.COPD: ("噻托溴铵粉吸入剂 每日1次 每次1吸",),
}


def _medication(ctx: Ctx, program: v.Program, person: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """用药情况 of each follow-up and which were written irregularly (injected, C-06: [shangdang-2023]'s
    "用药情况填写不规范" — a boilerplate phrase or a drug name alone). A generator of its own, so the rest of
    the region does not change with it."""
    regimens = np.array(REGIMENS[program])
    text = regimens[person % len(regimens)]
    irregular = np.zeros(len(person), bool)
    if program in (v.Program.HYPERTENSION, v.Program.DIABETES):
        rng = np.random.default_rng([ctx.seed, 1_006])
        irregular = rng.random(len(person)) < ctx.cfg.medication_irregular_share
        name_only = np.array([r.split(" ", 1)[0] for r in regimens])[person % len(regimens)]
        text = np.where(irregular, np.where(rng.random(len(person)) < 0.5, "按医嘱服药", name_only), text)
    return text, irregular


def smi_follow_ups(ctx: Ctx, enrolled: dict) -> None:
    rng, cfg = ctx.rng, ctx.cfg
    e_person, e_keys, e_start = enrolled["smi"]
    qs = _quarter_starts(ctx)
    if not len(e_person) or not len(qs):
        return
    idx = np.repeat(np.arange(len(e_person)), len(qs))
    date = np.tile(qs, len(e_person)) + rng.integers(0, 80, len(idx)) * DAY
    take = (rng.random(len(idx)) < ctx.rate("smi_visit", e_person[idx])) & (date >= e_start[idx])
    idx, date = idx[take], date[take]
    person = e_person[idx]
    keep, ghost = ctx.served(person, date)
    idx, person, date, ghost = idx[keep], person[keep], date[keep], ghost[keep]
    n = len(idx)
    grade = rng.choice(6, n, p=np.array(cfg.smi_risk_probs) / sum(cfg.smi_risk_probs))
    cls = np.where(grade == 0, v.SmiClass.STABLE.value,
                   np.where(grade <= 2, v.SmiClass.BASICALLY_STABLE.value, v.SmiClass.UNSTABLE.value))
    nv = np.where(grade == 0, 90, 14)
    on_med = rng.random(n) < 0.85
    cols = {"mode": F2F[rng.choice(3, n, p=np.array(cfg.follow_up_mode_probs))], "risk_grade": util.ints(grade),
            "insight": np.where(grade == 0, "1", "2"), "social_function": np.where(grade <= 1, "1", "2"),
            "on_medication": util.bools(on_med),
            "adherence": np.where(on_med, rng.choice(np.array(["1", "2"]), n, p=[.8, .2]), "3"),
            "adverse_reaction": util.bools(rng.random(n) < .03), "classification": cls,
            "referral": util.bools(grade >= 3), "next_visit_date": util.dates(date + nv * DAY)}
    ctx.encounters("smi_follow_ups", person, date, VILLAGE_LEVEL, cols, enrollment=e_keys.take(pa.array(idx)),
                   ghost_rows=ghost)


def tuberculosis(ctx: Ctx, enr: Enrollments) -> None:
    """Incident TB cases: enrollment at notification, first visit ≤ 72 h, supervised visits, closing."""
    p, rng, cfg = ctx.people, ctx.rng, ctx.cfg
    lead = ref.TB_TREATMENT_DAYS
    span = ctx.window_days + lead
    expected = ref.PREVALENCE["tb_incidence_all_ages"].value * p.n * span / 365.25
    n_cases = int(rng.poisson(expected))
    adults = np.flatnonzero(p.age >= 15)
    if not n_cases or not len(adults):
        return
    person = adults[rng.integers(0, len(adults), n_cases)]
    notify = ctx.start - lead * DAY + rng.integers(0, span, n_cases) * DAY
    ok = (np.isnat(p.end[person]) | (p.end[person] > notify)) & (notify <= ctx.as_of) & (notify > p.birth[person])
    person, first = np.unique(person[ok], return_index=True)  # one episode per person
    notify = notify[ok][first]
    n = len(person)
    medical = rng.random(n) < cfg.tb_medical_supervision_share
    finish = notify + lead * DAY
    end = np.where(finish <= ctx.as_of, finish, np.datetime64("NaT"))
    reason = np.where(~np.isnat(end), v.EnrollmentEndReason.TREATMENT_COMPLETED.value, "")
    keys = enr.add(v.Program.TB.value, person, notify, end=end, end_reason=reason,
                   tb_supervisor=pa.array(np.where(medical, v.TbSupervisor.MEDICAL_STAFF.value,
                                                   v.TbSupervisor.FAMILY.value)),
                   diagnosis_date=util.dates(notify - rng.integers(1, 7, n) * DAY))
    family_offsets = [0] + list(range(ref.TB_INTENSIVE_VISIT_DAYS, ref.TB_INTENSIVE_DAYS + 1, ref.TB_INTENSIVE_VISIT_DAYS)) + \
        list(range(ref.TB_INTENSIVE_DAYS + ref.TB_CONTINUATION_VISIT_DAYS, lead, ref.TB_CONTINUATION_VISIT_DAYS)) + [lead]
    medical_offsets = [0] + list(range(ref.TB_CONTINUATION_VISIT_DAYS, lead, ref.TB_CONTINUATION_VISIT_DAYS)) + [lead]
    parts = []
    for sup, offsets in ((~medical, family_offsets), (medical, medical_offsets)):
        for j, off in enumerate(offsets):  # loop over schedule items
            sel = np.flatnonzero(sup)
            first = j == 0
            closing = off == lead
            jitter = rng.integers(0, tb_spec.first_visit_max_days(int(str(ctx.as_of)[:4])) + 1, len(sel)) if first else \
                rng.integers(-2, 3, len(sel))
            d = notify[sel] + (off + jitter) * DAY
            due = np.full(len(sel), 0 if first else off - offsets[j - 1])
            take = rng.random(len(sel)) < (1.0 if first else ctx.rate("tb_visit", person[sel]))
            parts.append((sel[take], d[take], np.full(take.sum(), "first" if first else ("closing" if closing else "follow_up")),
                          np.full(take.sum(), off), due[take]))
    sel = np.concatenate([x[0] for x in parts])
    date = np.concatenate([x[1] for x in parts])
    vtype = np.concatenate([x[2] for x in parts])
    off = np.concatenate([x[3] for x in parts])
    due = np.concatenate([x[4] for x in parts])
    keep, ghost = ctx.served(person[sel], date)
    sel, date, vtype, off, due, ghost = sel[keep], date[keep], vtype[keep], off[keep], due[keep], ghost[keep]
    m = len(sel)
    taken = due - rng.binomial(due, 0.03)
    phase = np.where(off <= ref.TB_INTENSIVE_DAYS, v.TbPhase.INTENSIVE.value, v.TbPhase.CONTINUATION.value)
    nv = np.where(vtype == "closing", np.datetime64("NaT"),
                  date + np.where(off < ref.TB_INTENSIVE_DAYS, ref.TB_INTENSIVE_VISIT_DAYS, ref.TB_CONTINUATION_VISIT_DAYS) * DAY)
    cols = {"visit_type": vtype, "mode": np.where(vtype == "first", v.FollowUpMode.HOME.value,
                                                  F2F[rng.choice(3, m, p=[.5, .4, .1])]),
            "phase": phase, "doses_due": util.ints(due), "doses_taken": util.ints(taken),
            "adverse_reaction": util.bools(rng.random(m) < .05), "referral": util.bools(np.zeros(m, bool)),
            "outcome": np.where(vtype == "closing", "治愈", ""), "next_visit_date": util.dates(nv)}
    ctx.encounters("tb_follow_ups", person[sel], date, VILLAGE_LEVEL, cols, enrollment=keys.take(pa.array(sel)),
                   ghost_rows=ghost)
    # notification cards for the cases diagnosed in the window
    in_window = notify >= ctx.start
    diag = notify[in_window].astype("datetime64[us]") + (rng.uniform(1, 9, in_window.sum()) * 3.6e9).astype("timedelta64[us]")
    ctx.tb_reports = (person[in_window], diag)  # type: ignore[attr-defined]


def maternal_and_child(ctx: Ctx, enr: Enrollments) -> np.ndarray:
    """Pregnancies (mothers chosen in the child's village), prenatal and postpartum care, newborn visits,
    child checks, child TCM guidance and NIP vaccinations."""
    p, rng = ctx.people, ctx.rng
    # children born in the window are residents already; births still to come are current pregnancies
    child = np.flatnonzero((p.birth >= ctx.start) & (p.birth <= ctx.as_of))
    per_day = p.n * np.mean([ref.CRUDE_BIRTH_RATE[min(y, max(ref.CRUDE_BIRTH_RATE))].value for y in ctx.years]) / 365.25
    n_future = int(rng.poisson(per_day * ref.GESTATION_DAYS))
    lo, hi = ref.MATERNAL_AGE_RANGE
    women = np.flatnonzero((p.sex == "2") & (p.age >= lo) & (p.age <= hi) & np.isnat(p.end))
    women = women[np.argsort(p.village[women], kind="stable")]
    n_v = len(ctx.region.village_code)
    mother = util.pick_in_group(rng, p.village[child], p.village[women], n_v)
    has_mother = mother >= 0
    child = child[has_mother]
    mothers = women[mother[has_mother]]
    future_mothers = women[rng.integers(0, len(women), n_future)] if len(women) else np.array([], dtype=np.int64)
    delivery = np.concatenate([p.birth[child], ctx.as_of + rng.integers(1, ref.GESTATION_DAYS, len(future_mothers)) * DAY])
    mom = np.concatenate([mothers, future_mothers])
    mom, first = np.unique(mom, return_index=True)  # one pregnancy per woman in the window
    delivery = delivery[first]
    lmp = delivery - (ref.GESTATION_DAYS + rng.integers(-10, 11, len(mom))) * DAY
    m = len(mom)
    early = rng.random(m) < ctx.rate("early_registration", mom)
    reg_week = np.where(early, rng.integers(6, ref.EARLY_REGISTRATION_BEFORE_WEEKS, m),
                        rng.integers(ref.EARLY_REGISTRATION_BEFORE_WEEKS, 21, m))
    reg = lmp + reg_week * 7 * DAY
    registered = reg <= ctx.as_of
    discharge = delivery + rng.integers(2, 6, m) * DAY
    delivered = delivery <= ctx.as_of
    end = np.where(delivery + ref.POSTPARTUM_CHECK_DAY * DAY <= ctx.as_of, delivery + ref.POSTPARTUM_CHECK_DAY * DAY,
                   np.datetime64("NaT"))
    ri = np.flatnonzero(registered)
    pregnant = np.zeros(p.n, bool)
    pregnant[mom[ri][np.isnat(end[ri])]] = True
    preg_keys = enr.add(v.Program.PREGNANCY.value, mom[ri], reg[ri], end=end[ri],
                        end_reason=np.where(np.isnat(end[ri]), "", v.EnrollmentEndReason.EPISODE_ENDED.value),
                        level=TOWNSHIP_LEVEL, lmp_date=util.dates(lmp[ri]),
                        delivery_date=util.dates(np.where(delivered[ri], delivery[ri], np.datetime64("NaT"))),
                        discharge_date=util.dates(np.where(delivered[ri], discharge[ri], np.datetime64("NaT"))))
    # prenatal contacts: the registration visit + the 4 later windows
    parts = []
    for j, (w0, w1) in enumerate(ref.PRENATAL_WINDOWS_WEEKS):
        if j == 0:
            wk = reg_week[ri]
            take = np.ones(len(ri), bool)
        else:
            wk = rng.integers(w0, w1 + 1, len(ri))
            take = rng.random(len(ri)) < ctx.rate("early_registration", mom[ri])
        d = lmp[ri] + wk * 7 * DAY + rng.integers(0, 7, len(ri)) * DAY
        take &= (d < delivery[ri]) & (d >= reg[ri])
        parts.append((np.flatnonzero(take), d[take], wk[take], np.full(take.sum(), j == 0)))
    k = np.concatenate([x[0] for x in parts])
    d = np.concatenate([x[1] for x in parts])
    wk = np.concatenate([x[2] for x in parts])
    is_reg = np.concatenate([x[3] for x in parts])
    keep, ghost = ctx.served(mom[ri][k], d)
    k, d, wk, is_reg, ghost = k[keep], d[keep], wk[keep], is_reg[keep], ghost[keep]
    n = len(k)
    sbp = rng.integers(95, 135, n)
    ctx.encounters("prenatal_visits", mom[ri][k], d, TOWNSHIP_LEVEL, {
        "gestational_weeks": util.ints(wk), "is_registration": util.bools(is_reg),
        "weight": util.dec((rng.normal(58, 8, n) + wk * 0.35).clip(38, 120), 1), "sbp": util.ints(sbp),
        "dbp": util.ints(np.minimum(rng.integers(60, 88, n), sbp - 20)), "hemoglobin": util.ints(rng.integers(95, 140, n)),
        "high_risk": util.bools(rng.random(n) < .1), "referral": util.bools(rng.random(n) < .03),
        "guidance": np.full(n, "孕期保健指导")}, enrollment=preg_keys.take(pa.array(k)), ghost_rows=ghost)
    # postpartum home visit (≤ 7 days after discharge) and the 42-day check
    dl = np.flatnonzero(delivered[ri])
    parts = []
    for vt, base, lo_d, hi_d in ((v.PostpartumVisitType.HOME_VISIT.value, discharge, 1, ref.POSTPARTUM_VISIT_MAX_DAYS + 1),
                                 (v.PostpartumVisitType.CHECK_42D.value, delivery, ref.POSTPARTUM_CHECK_DAY,
                                  ref.POSTPARTUM_CHECK_DAY + 7)):
        d = base[ri][dl] + rng.integers(lo_d, hi_d, len(dl)) * DAY
        take = rng.random(len(dl)) < ctx.rate("postpartum_visit", mom[ri][dl])
        parts.append((dl[take], d[take], np.full(take.sum(), vt)))
    k = np.concatenate([x[0] for x in parts])
    d = np.concatenate([x[1] for x in parts])
    vt = np.concatenate([x[2] for x in parts])
    keep, ghost = ctx.served(mom[ri][k], d)
    k, d, vt, ghost = k[keep], d[keep], vt[keep], ghost[keep]
    n = len(k)
    sbp = rng.integers(95, 135, n)
    ctx.encounters("postpartum_visits", mom[ri][k], d, TOWNSHIP_LEVEL, {
        "visit_type": vt, "sbp": util.ints(sbp), "dbp": util.ints(np.minimum(rng.integers(60, 88, n), sbp - 20)),
        "recovered": util.bools(rng.random(n) < .97), "referral": util.bools(rng.random(n) < .02),
        "guidance": np.full(n, "产褥期保健、母乳喂养指导")}, enrollment=preg_keys.take(pa.array(k)), ghost_rows=ghost)

    # children 0–6 in the window: enrollment, newborn visit, checks, TCM guidance, vaccinations
    kids = np.flatnonzero(util.add_months(p.birth, (ref.CHILD_MAX_AGE_YEARS + 1) * 12) > ctx.start)
    kids = kids[np.isnat(p.end[kids]) | (p.end[kids] > ctx.start)]
    aged_out = util.add_months(p.birth[kids], (ref.CHILD_MAX_AGE_YEARS + 1) * 12)
    k_start = p.birth[kids] + rng.integers(3, 30, len(kids)) * DAY
    k_start = np.minimum(k_start, ctx.as_of)
    child_keys = enr.add(v.Program.CHILD.value, kids, k_start, end=aged_out,
                         end_reason=np.full(len(kids), v.EnrollmentEndReason.AGED_OUT.value), level=TOWNSHIP_LEVEL)
    newborn = np.flatnonzero(p.birth[kids] >= ctx.start)
    nd = p.birth[kids][newborn] + rng.integers(3, 3 + ref.NEWBORN_VISIT_MAX_DAYS + 4, len(newborn)) * DAY
    take = rng.random(len(newborn)) < ctx.rate("postpartum_visit", kids[newborn])
    newborn, nd = newborn[take], nd[take]
    keep, ghost = ctx.served(kids[newborn], nd, ghosts=False)
    newborn, nd = newborn[keep], nd[keep]
    n = len(newborn)
    ctx.encounters("newborn_visits", kids[newborn], nd, TOWNSHIP_LEVEL, {
        "weight": util.dec(rng.normal(3.3, 0.45, n).clip(1.5, 5.5), 2), "jaundice": util.bools(rng.random(n) < .2),
        "feeding": rng.choice(np.array(["1", "2", "3"]), n, p=[.6, .3, .1]), "eye_check": util.bools(np.ones(n, bool)),
        "referral": util.bools(rng.random(n) < .02), "guidance": np.full(n, "喂养、护理、疾病预防指导")},
        enrollment=child_keys.take(pa.array(newborn)))
    parts = []
    first, last = child_spec.FULL_MONTH_CHECK_DAYS
    for months in ref.CHILD_CHECK_MONTHS:  # loop over schedule items
        due = util.add_months(p.birth[kids], months)
        # the full-month check falls on day 28–30 after birth; later checks within a couple of weeks of the age
        d = (p.birth[kids] + rng.integers(first, last + 1, len(kids)) * DAY if months == 1
             else due + rng.integers(-5, 15, len(kids)) * DAY)
        take = rng.random(len(kids)) < ctx.rate("child_check", kids)
        parts.append((np.flatnonzero(take), d[take], np.full(take.sum(), months)))
    k = np.concatenate([x[0] for x in parts])
    d = np.concatenate([x[1] for x in parts])
    mo = np.concatenate([x[2] for x in parts])
    keep, _ = ctx.served(kids[k], d, ghosts=False)
    k, d, mo = k[keep], d[keep], mo[keep]
    n = len(k)
    m = mo.astype(np.float64)
    weight = 3.3 + 0.65 * np.minimum(m, 6) + 0.3 * np.clip(m - 6, 0, 6) + 0.17 * np.clip(m - 12, 0, None)
    height = 50 + 2.6 * np.minimum(m, 6) + 1.4 * np.clip(m - 6, 0, 6) + 0.75 * np.clip(m - 12, 0, None)
    head = np.where(m <= 36, 34 + 4.5 * np.log1p(m), np.nan)
    ctx.encounters("child_checks", kids[k], d, TOWNSHIP_LEVEL, {
        "age_months": util.ints(mo), "weight": util.dec(weight * rng.normal(1, .08, n), 1),
        "height": util.dec(height * rng.normal(1, .03, n), 1), "head_circumference": util.dec(head * rng.normal(1, .02, n), 1),
        "hemoglobin": pc.if_else(pa.array(np.isin(mo, [6, 8, 18, 30])), util.ints(rng.integers(100, 140, n)),
                                 pa.scalar(None, pa.int64())),
        "development_ok": util.bools(rng.random(n) < .97), "eye_check": util.bools(np.ones(n, bool)),
        "hearing_check": util.bools(np.isin(mo, [6, 12, 24, 36])), "referral": util.bools(rng.random(n) < .01),
        "guidance": np.full(n, "喂养、发育、口腔保健指导")}, enrollment=child_keys.take(pa.array(k)))
    tcm_rate = ref.OBSERVED_RATES["child_tcm"].value / ref.OBSERVED_RATES["child_check"].value
    tsel = np.isin(mo, ref.CHILD_TCM_MONTHS) & (rng.random(n) < tcm_rate)
    ctx.encounters("child_tcm_guidance", kids[k][tsel], d[tsel], TOWNSHIP_LEVEL, {"age_months": util.ints(mo[tsel])})
    # vaccinations: each dose at the age of the schedule edition in force on its due date (the 2025 DTaP change)
    vparts = []
    editions = nip_spec.EDITIONS
    for i, edition in enumerate(editions):  # loop over editions and their doses
        since = np.datetime64(edition.effective, "D") if i else np.datetime64("1900-01-01", "D")
        until = (np.datetime64(editions[i + 1].effective, "D") if i + 1 < len(editions)
                 else np.datetime64("9999-12-31", "D"))
        for dose in edition.doses:
            vaccine, number = dose.accepted[0]
            due = util.add_months(p.birth[kids], dose.months)
            delay = np.where(dose.months == 0, rng.integers(0, 2, len(kids)), rng.integers(0, 21, len(kids)))
            d = due + delay * DAY
            take = (rng.random(len(kids)) < ctx.rate("vaccination", kids)) & (due >= since) & (due < until)
            vparts.append((np.flatnonzero(take), d[take], np.full(take.sum(), str(vaccine)),
                           np.full(take.sum(), number)))
    k = np.concatenate([x[0] for x in vparts])
    d = np.concatenate([x[1] for x in vparts])
    vac = np.concatenate([x[2] for x in vparts])
    dose = np.concatenate([x[3] for x in vparts])
    keep, _ = ctx.served(kids[k], d, ghosts=False)
    k, d, vac, dose = k[keep], d[keep], vac[keep], dose[keep]
    n = len(k)
    lot = util.concat(pa.array(vac), util.dates(d).cast(pa.string()).cast(pa.string()), "-",
                      pc.utf8_lpad(util.strs(rng.integers(1, 40, n)), 3, "0"))
    lot = pc.replace_substring(lot, "-", "")
    ctx.encounters("vaccinations", kids[k], d, TOWNSHIP_LEVEL, {
        "vaccine": vac, "dose_no": util.ints(dose), "lot_no": pc.utf8_slice_codeunits(lot, 0, 30),
        "adverse_event": util.bools(rng.random(n) < .001)})
    return pregnant
