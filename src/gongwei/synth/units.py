"""Unit-level records: health education, supervision, notifiable-disease cards, contracts, population bases."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gongwei.spec import reference as ref
from gongwei.spec import vocab as v
from gongwei.synth import util
from gongwei.synth.context import DAY, Ctx

TOPICS = ["高血压防治", "糖尿病防治", "合理膳食", "控烟限酒", "科学运动", "老年人健康管理", "中医药养生保健",
          "预防接种", "母婴保健", "传染病防控", "肺结核防治", "心理健康", "慢阻肺防治", "食品安全", "饮水卫生",
          "防跌倒", "口腔健康", "健康素养66条"]
DISEASES = {  # notifiable diseases by class (传染病防治法 classification)
    "B": ["病毒性肝炎", "梅毒", "细菌性和阿米巴性痢疾", "布鲁氏菌病", "淋病", "猩红热"],
    "C": ["手足口病", "其它感染性腹泻病", "流行性感冒", "流行性腮腺炎", "急性出血性结膜炎"],
}
SITES = {"food": "农贸市场", "water": "农村集中式供水站", "school": "中心小学", "illegal_practice": "个体诊所",
         "family_planning": "村委会"}


def education(ctx: Ctx) -> None:
    r, rng = ctx.region, ctx.rng
    n_t, n_v = len(r.township_code), len(r.village_code)
    units = np.concatenate([r.township_code, r.village_code])
    town_of = np.concatenate([np.arange(n_t), r.village_township])
    is_centre = np.arange(n_t + n_v) < n_t
    cols = {k: [] for k in ("unit", "date", "kind")}
    for y in ctx.years:
        y0 = util.year_start(y)
        for level, mins in (("centre", ref.EDUCATION_MINIMUMS["centre"]), ("station", ref.EDUCATION_MINIMUMS["station"])):
            sel = np.flatnonzero(is_centre if level == "centre" else ~is_centre)
            for kind, minimum in mins.items():  # loop over activity kinds
                count = np.round(minimum * np.clip(ctx.diligence[town_of[sel]] * rng.normal(1, .08, len(sel)), .3, 1.3))
                count = count.astype(np.int64)
                unit = np.repeat(sel, count)
                rank = util.rank_in_group(np.repeat(np.arange(len(sel)), count), len(sel))
                frac = (rank + rng.random(len(unit))) / np.repeat(np.maximum(count, 1), count)
                d = y0 + np.floor(frac * 365).astype(np.int64) * DAY
                ok = (d >= ctx.start) & (d <= ctx.as_of)
                cols["unit"].append(unit[ok]), cols["date"].append(d[ok]), cols["kind"].append(np.full(ok.sum(), kind))
    unit = np.concatenate(cols["unit"])
    date = np.concatenate(cols["date"])
    kind = np.concatenate(cols["kind"])
    n = len(unit)
    lecture = kind == "lecture"
    ctx.add("health_education_activities", {
        "activity_no": ctx.numbers("health_education_activities", n), "org_unit": util.pick(pa.array(units), unit),
        "activity_date": util.dates(date), "kind": pa.array(kind),
        "topic": util.pick(TOPICS, rng.integers(0, len(TOPICS), n)), "tcm_content": util.bools(rng.random(n) < .25),
        "attendance": pc.if_else(pa.array(lecture | (kind == "consultation")), util.ints(rng.integers(15, 90, n)),
                                 pa.scalar(None, pa.int64())),
        "materials_count": pc.if_else(pa.array(kind == "printed"), util.ints(rng.integers(50, 500, n)),
                                      pa.scalar(None, pa.int64())),
    })


def supervision(ctx: Ctx) -> None:
    r, rng = ctx.region, ctx.rng
    n_t = len(r.township_code)
    cats = [c.value for c in v.SupervisionCategory]
    unit_l, date_l, cat_l = [], [], []
    for y in ctx.years:
        y0 = util.year_start(y)
        for cat in cats:  # loop over supervision categories
            count = np.where(rng.random(n_t) < np.clip(ctx.diligence, 0, 1) ** 2, ref.SUPERVISION_PATROLS_PER_YEAR,
                             ref.SUPERVISION_PATROLS_PER_YEAR - 1)
            unit = np.repeat(np.arange(n_t), count)
            rank = util.rank_in_group(unit, n_t)
            d = y0 + (rank * 182 + rng.integers(0, 150, len(unit))) * DAY
            ok = (d >= ctx.start) & (d <= ctx.as_of)
            unit_l.append(unit[ok]), date_l.append(d[ok]), cat_l.append(np.full(ok.sum(), cat))
    unit, date, cat = np.concatenate(unit_l), np.concatenate(date_l), np.concatenate(cat_l)
    clue = rng.random(len(unit)) < .05
    # each clue found on a patrol produces an information report
    ci = np.flatnonzero(clue)
    unit = np.concatenate([unit, unit[ci]])
    date = np.concatenate([date, np.minimum(date[ci] + rng.integers(0, 3, len(ci)) * DAY, ctx.as_of)])
    cat = np.concatenate([cat, cat[ci]])
    kind = np.concatenate([np.full(len(clue), v.SupervisionKind.PATROL.value), np.full(len(ci), v.SupervisionKind.REPORT.value)])
    clue = np.concatenate([clue, np.ones(len(ci), bool)])
    n = len(unit)
    ctx.add("supervision_reports", {
        "report_no": ctx.numbers("supervision_reports", n), "org_unit": util.pick(pa.array(r.township_code), unit),
        "report_date": util.dates(date), "category": pa.array(cat), "kind": pa.array(kind),
        "site": util.concat(util.pick(pa.array(r.township_name), unit),
                            util.pick([SITES[c] for c in cats], _index_of(cats, cat))),
        "clue_found": util.bools(clue), "reported": util.bools(clue),
    })


def _index_of(values: list[str], arr: np.ndarray) -> np.ndarray:
    order = np.argsort(values)
    return order[np.searchsorted(np.array(values)[order], arr)]


def infectious_reports(ctx: Ctx) -> None:
    p, rng, cfg = ctx.people, ctx.rng, ctx.cfg
    person_l, diag_l, disease_l, cls_l = [], [], [], []
    for cls, names in DISEASES.items():
        expected = ref.NOTIFIABLE_INCIDENCE[cls].value * p.n * ctx.window_days / 365.25
        k = int(rng.poisson(expected))
        person = rng.integers(0, p.n, k)
        d = ctx.start + rng.integers(0, ctx.window_days, k) * DAY
        ok = (np.isnat(p.end[person]) | (p.end[person] > d)) & (p.birth[person] < d)
        person, d = person[ok], d[ok]
        person_l.append(person), diag_l.append(d.astype("datetime64[us]") + (rng.uniform(0, 24, len(d)) * 3.6e9)
                                               .astype("timedelta64[us]"))
        disease_l.append(util.pick(names, rng.integers(0, len(names), len(person)))), cls_l.append(np.full(len(person), cls))
    tb_person, tb_diag = getattr(ctx, "tb_reports", (np.array([], np.int64), np.array([], "datetime64[us]")))
    person_l.append(tb_person), diag_l.append(tb_diag.astype("datetime64[us]"))
    disease_l.append(pa.array(["肺结核"] * len(tb_person), pa.string())), cls_l.append(np.full(len(tb_person), "B"))
    person = np.concatenate(person_l)
    diag = np.concatenate(diag_l)
    disease = pa.concat_arrays([a.cast(pa.string()) for a in disease_l])
    cls = np.concatenate(cls_l)
    n = len(person)
    deadline = np.array([ref.REPORT_DEADLINE_HOURS[c] for c in ["A", "B_as_A", "B", "C"]])[
        _index_of(["A", "B_as_A", "B", "C"], cls)]
    late_share = 1 - ref.OBSERVED_RATES["report_on_time"].value + cfg.late_report_extra
    late = rng.random(n) < np.clip(late_share / ctx.diligence[p.township[person]], 0, 1)
    unreported = rng.random(n) < cfg.report_unreported_share
    if n and cfg.report_unreported_share > 0 and not unreported.any():
        unreported[rng.integers(n)] = True  # a small region still shows the problem, so its label can be checked
    hours = np.where(late, deadline + rng.uniform(1, 72, n), rng.uniform(0.1, 0.9, n) * deadline)
    reported = diag + (hours * 3.6e9).astype("timedelta64[us]")
    keys = ctx.numbers("infectious_disease_reports", n)
    town = p.township[person]
    ctx.add("infectious_disease_reports", {
        "report_no": keys, "resident": p.record_no.take(pa.array(person)),
        "org_unit": util.pick(pa.array(ctx.region.township_code), town), "disease": disease,
        "disease_class": pa.array(cls), "diagnosed_at": util.timestamps(diag),
        "reported_at": pc.if_else(pa.array(unreported), pa.scalar(None, pa.timestamp("us", tz="UTC")),
                                  util.timestamps(reported)),
    })
    li = np.flatnonzero(late & ~unreported)
    ctx.label("report_late", "infectious_disease_reports", keys.take(pa.array(li)), "",
              util.concat("诊断后", util.strs(np.round(hours[li]).astype(np.int64)), "小时报告，时限",
                          util.strs(deadline[li]), "小时"))
    ui = np.flatnonzero(unreported)
    ctx.label("report_missing", "infectious_disease_reports", keys.take(pa.array(ui)), "", "未进行网络直报")


def contracts(ctx: Ctx, truth: dict[str, np.ndarray], enrolled: dict, pregnant: np.ndarray) -> None:
    """Family-doctor contracts in force at as_of; signing rates vary by township, key groups sign more."""
    p, rng, cfg = ctx.people, ctx.rng, ctx.cfg
    start = ctx.as_of - rng.integers(0, 365, p.n) * DAY
    start = np.maximum(start, p.birth)
    alive_at_start = np.isnat(p.end) | (p.end > start)
    groups = {
        v.KeyGroup.CHILD: p.age <= ref.CHILD_MAX_AGE_YEARS, v.KeyGroup.ELDERLY: p.age >= ref.ELDERLY_MIN_AGE,
        v.KeyGroup.MATERNAL: pregnant,
        v.KeyGroup.HYPERTENSION: truth["hypertension_managed"], v.KeyGroup.DIABETES: truth["diabetes_managed"],
        v.KeyGroup.SMI: truth["smi_managed"], v.KeyGroup.TB: np.isin(np.arange(p.n), enrolled.get("tb", np.array([], int))),
    }
    mask = np.zeros(p.n, dtype=np.int64)
    for bit, g in enumerate(groups.values()):
        mask |= g.astype(np.int64) << bit
    key = mask > 0
    lo, hi = cfg.signing_rate_range
    town_rate = np.clip(lo + (hi - lo) * rng.random(len(ctx.region.township_code)) * np.clip(ctx.diligence, 0, 1), lo, hi)
    rate = np.where(key, np.maximum(town_rate[p.township], ref.OBSERVED_RATES["signing_key"].value
                                    * np.clip(ctx.diligence[p.township], 0, 1.05)), town_rate[p.township])
    signs = alive_at_start & (rng.random(p.n) < np.clip(rate, 0, 0.99))
    person = np.flatnonzero(signs)
    codes = list(groups)
    labels = [",".join(c.value for b, c in enumerate(codes) if m >> b & 1) for m in range(1 << len(codes))]
    n = len(person)
    s = start[person]
    cancelled = np.where(~np.isnat(p.end[person]) & (p.end[person] > s), p.end[person], np.datetime64("NaT"))
    ctx.add("contracts", {
        "contract_no": util.concat("QY", p.record_no.take(pa.array(person))),
        "resident": p.record_no.take(pa.array(person)),
        "team": util.pick(pa.array(ctx.region.village_team), p.village[person]),
        "start_date": util.dates(s), "end_date": util.dates(s + 364 * DAY),
        "key_groups": pa.array(labels).take(pa.array(mask[person])),
        "is_renewal": util.bools((rng.random(n) < cfg.renewal_share) & (p.age[person] >= 1)),
        "cancelled_on": util.dates(cancelled),
    })


def population_bases(ctx: Ctx, usual: np.ndarray) -> None:
    """Population bases and estimated task numbers per unit (every level) and year, source ``synthetic``.
    Each row covers the unit's whole area, so rows of different levels must not be added up."""
    p, r = ctx.people, ctx.region
    n_v, n_t, n_c = len(r.village_code), len(r.township_code), len(r.county_code)
    rows_unit, rows_year, rows_group, rows_value = [], [], [], []
    units = np.concatenate([r.village_code, r.township_code, r.county_code, [r.city_code, r.province_code]])
    htn_factor = ref.PREVALENCE["hypertension_18plus"].value * ref.MANAGED_SHARE_OF_PREVALENT["hypertension"].value
    dm_factor = ref.PREVALENCE["diabetes_18plus"].value * ref.MANAGED_SHARE_OF_PREVALENT["diabetes"].value
    copd_factor = ref.PREVALENCE["copd_40plus"].value * ref.MANAGED_SHARE_OF_PREVALENT["copd"].value
    for y in ctx.years:
        refdate = min(util.year_start(y + 1) - DAY, ctx.as_of)
        alive = usual & (p.birth <= refdate) & (np.isnat(p.end) | (p.end > refdate))
        age = util.age_years(p.birth, refdate)
        months = (refdate.astype("datetime64[M]") - p.birth.astype("datetime64[M]")).astype(np.int64)
        born = (p.birth >= util.year_start(y)) & (p.birth <= refdate)
        counts = {
            v.BaseGroup.RESIDENT_POPULATION: alive, v.BaseGroup.AGED_65_PLUS: alive & (age >= ref.ELDERLY_MIN_AGE),
            v.BaseGroup.CHILDREN_0_6: alive & (age <= ref.CHILD_MAX_AGE_YEARS), v.BaseGroup.CHILDREN_UNDER_3: alive & (age < 3),
            v.BaseGroup.CHILDREN_0_36M: alive & (months <= 36), v.BaseGroup.LIVE_BIRTHS: born,
        }
        per_village = {g: np.bincount(p.village, weights=m, minlength=n_v) for g, m in counts.items()}
        adults = np.bincount(p.village, weights=alive & (age >= ref.ADULT_MIN_AGE), minlength=n_v)
        over40 = np.bincount(p.village, weights=alive & (age >= ref.COPD_PREVALENCE_MIN_AGE), minlength=n_v)
        per_village[v.BaseGroup.TASK_HYPERTENSION] = adults * htn_factor
        per_village[v.BaseGroup.TASK_DIABETES] = adults * dm_factor
        per_village[v.BaseGroup.TASK_SMI] = per_village[v.BaseGroup.RESIDENT_POPULATION] * \
            ref.PREVALENCE["smi_registered_all_ages"].value
        per_village[v.BaseGroup.TASK_COPD] = over40 * copd_factor
        for g, vals in per_village.items():  # loop over base groups
            town = np.bincount(r.village_township, weights=vals, minlength=n_t)
            county = np.bincount(r.township_county, weights=town, minlength=n_c)
            allv = np.concatenate([vals, town, county, [county.sum(), county.sum()]])
            value = np.ceil(allv - 1e-9) if g.value.startswith("task_") else np.round(allv)
            rows_unit.append(np.arange(len(units))), rows_year.append(np.full(len(units), y))
            rows_group.append(np.full(len(units), g.value)), rows_value.append(value.astype(np.int64))
    unit = np.concatenate(rows_unit)
    group = np.concatenate(rows_group)
    n = len(unit)
    note = np.where(np.char.startswith(group, "task_"), "按患病率×管理比例估算（spec.reference）", "合成数据统计")
    ctx.add("population_bases", {
        "org_unit": util.pick(pa.array(units), unit), "year": util.ints(np.concatenate(rows_year)),
        "group": pa.array(group), "value": util.ints(np.concatenate(rows_value)),
        "source": pa.array(np.full(n, v.BaseSource.SYNTHETIC.value)), "note": pa.array(note),
    })
