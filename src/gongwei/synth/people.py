"""Residents, households and basic-information forms, drawn column by column with NumPy."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gongwei.records import identity
from gongwei.spec import reference as ref
from gongwei.spec import vocab as v
from gongwei.synth import names, util
from gongwei.synth.config import SynthConfig
from gongwei.synth.org import Region

DAY = np.timedelta64(1, "D")


@dataclass
class People:
    """One entry per (true) person; index i is the same person in every array."""

    n: int
    village: np.ndarray
    township: np.ndarray
    county: np.ndarray
    birth: np.ndarray
    sex: np.ndarray            # "1" / "2"
    age: np.ndarray            # completed years at as_of
    end: np.ndarray            # date the record closed (death / move-out), NaT if active
    death: np.ndarray
    moved: np.ndarray
    record_no: pa.Array
    name: pa.Array
    id_number: np.ndarray      # valid numbers (before injected problems)
    household: pa.Array
    doctor: np.ndarray         # responsible village doctor code
    truth: dict[str, np.ndarray] = field(default_factory=dict)


def _single_year_weights(as_of_year: int) -> np.ndarray:
    """Single-year age weights 0..CENSUS_OLDEST_AGE from the census; recent birth cohorts follow the
    crude birth rate, and the 0–14 total stays the census share."""
    top = ref.CENSUS_OLDEST_AGE
    w = np.zeros(top + 1)
    for lo, share in ref.CENSUS_2020_FIVE_YEAR_SHARES.items():
        hi = lo + 5 if lo < 85 else top + 1
        w[lo:hi] = share / (hi - lo)
    child_total = w[:15].sum()
    years = sorted(ref.CRUDE_BIRTH_RATE)
    fixed = {}
    for a in range(15):
        y = as_of_year - a
        if y >= years[0]:
            fixed[a] = ref.CRUDE_BIRTH_RATE[min(y, years[-1])].value
    rest = [a for a in range(15) if a not in fixed]
    if rest:
        w[rest] *= (child_total - sum(fixed.values())) / w[rest].sum()
    for a, x in fixed.items():
        w[a] = x
    return w / w.sum()


def _death_rate(year: int) -> float:
    years = sorted(ref.CRUDE_DEATH_RATE)
    return ref.CRUDE_DEATH_RATE[min(max(year, years[0]), years[-1])].value


def build_people(rng: np.random.Generator, cfg: SynthConfig, region: Region, sizes: np.ndarray,
                 as_of: np.datetime64, start: np.datetime64) -> People:
    n = int(sizes.sum())
    village = np.repeat(np.arange(len(sizes)), sizes)
    township = region.village_township[village]
    county = region.township_county[township]
    as_of_year = int(str(as_of)[:4])

    # age and sex (census 2020)
    age0 = rng.choice(ref.CENSUS_OLDEST_AGE + 1, n, p=_single_year_weights(as_of_year))
    birth = as_of - np.round((age0 + rng.random(n)) * 365.2425).astype(np.int64) * DAY
    male_p = ref.CENSUS_2020_SEX_RATIO.value / (100 + ref.CENSUS_2020_SEX_RATIO.value)
    sex = np.array(["2", "1"])[(rng.random(n) < male_p).astype(np.int64)]
    age = util.age_years(birth, as_of)

    # deaths in the service window (Gompertz hazard scaled to the crude death rate of each year)
    days = (as_of - start).astype(np.int64) + 1
    hazard = np.exp(np.log(2) / ref.MORTALITY_DOUBLING_YEARS.value * age)
    rate = np.mean([_death_rate(y) for y in range(int(str(start)[:4]), as_of_year + 1)])
    p_death = np.clip(hazard / hazard.mean() * rate * days / 365.25, 0, 0.9)
    dies = rng.random(n) < p_death
    death = np.full(n, np.datetime64("NaT"), dtype=util.D)
    death[dies] = start + rng.integers(0, days, int(dies.sum())) * DAY
    death = np.where(dies & (death <= birth), birth + DAY, death)
    dies &= death <= as_of
    death[~dies] = np.datetime64("NaT")
    moves = ~dies & (rng.random(n) < cfg.moved_out_share_per_year * days / 365.25)
    moved = np.full(n, np.datetime64("NaT"), dtype=util.D)
    moved[moves] = start + rng.integers(0, days, int(moves.sum())) * DAY
    moved = np.where(moves & (moved <= birth), birth + DAY, moved)
    moves &= moved <= as_of
    moved[~moves] = np.datetime64("NaT")
    end = np.where(dies, death, moved)

    # households of 2–4 within each village
    sizes_hh = rng.choice(np.array([2, 3, 4]), n // 2 + 2, p=np.array(cfg.household_size_probs))
    hh_global = np.searchsorted(np.cumsum(sizes_hh), np.arange(n), side="right")
    hh_key = village.astype(np.int64) * (n + 1) + hh_global
    _, hh_idx = np.unique(hh_key, return_inverse=True)
    hh_village = np.zeros(hh_idx.max() + 1, dtype=np.int64)
    hh_village[hh_idx] = village
    hh_rank = util.rank_in_group(hh_village, len(sizes))
    hh_no = util.concat(util.pick(pa.array(region.village_code), hh_village), "H",
                        pc.utf8_lpad(util.strs(hh_rank + 1), 5, "0"))

    # names: most members share the household surname
    sn, sp = names.surnames()
    hh_surname = rng.choice(len(sn), len(hh_village), p=sp)
    own = rng.choice(len(sn), n, p=sp)
    surname = np.where(rng.random(n) < cfg.shared_surname_share, hh_surname[hh_idx], own)
    male, female = names.given_names("1"), names.given_names("2")
    gm = rng.integers(0, len(male), n)
    gf = rng.integers(0, len(female), n)
    given = pc.if_else(pa.array(sex == "1"), util.pick(male, gm), util.pick(female, gf))
    # a third of the given names have two characters
    second = pc.if_else(pa.array(sex == "1"), util.pick(male, rng.integers(0, len(male), n)),
                        util.pick(female, rng.integers(0, len(female), n)))
    two = pa.array(rng.random(n) < 0.33)
    given = pc.if_else(two, util.concat(given, pc.utf8_slice_codeunits(second, 0, 1)), given)
    name = util.concat(util.pick(sn, surname), given)

    # record numbers: 12-digit village code + 5-digit sequence ([ws-ehr-standards])
    seq = util.rank_in_group(village, len(sizes)) + 1
    record_no = util.concat(util.pick(pa.array(region.village_code), village), pc.utf8_lpad(util.strs(seq), 5, "0"))

    # identity numbers: address code of the home county (some born elsewhere in the province)
    region6 = region.county_gb6.astype(np.int64)[county]
    elsewhere = rng.random(n) < cfg.born_elsewhere_share
    pool = region.province_gb6_pool.astype(np.int64)
    region6 = np.where(elsewhere, pool[rng.integers(0, len(pool), n)], region6)
    id_number = _unique_numbers(rng, region6, birth, sex)

    doctor_idx = util.pick_in_group(rng, village, np.repeat(np.arange(len(sizes)), region.village_doctor_count),
                                    len(sizes))
    doctor = region.village_doctor_codes[doctor_idx]
    return People(n=n, village=village, township=township, county=county, birth=birth, sex=sex, age=age,
                  end=end, death=death, moved=moved, record_no=record_no, name=name, id_number=id_number,
                  household=hh_no.take(pa.array(hh_idx)), doctor=doctor)


def _unique_numbers(rng: np.random.Generator, region6: np.ndarray, birth: np.ndarray, sex: np.ndarray) -> np.ndarray:
    n = len(birth)
    male = sex == "1"

    def draw(k: int, m: np.ndarray) -> np.ndarray:
        base = rng.integers(0, 499, k) * 2 + 2  # even 2..998 (never "000")
        return np.where(m, base - 1, base)      # odd for men (GB 11643: odd = male)

    seq = draw(n, male)
    base = region6.astype(np.int64) * 100_000 + (birth - np.datetime64("1900-01-01")).astype(np.int64)
    for _ in range(20):
        key = base * 1000 + seq
        _, first = np.unique(key, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        seq[dup] = draw(int(dup.sum()), male[dup])
    return identity.make_number(region6, birth, seq)


def households_table(region: Region, people: People) -> pa.Table:
    hh, first = np.unique(np.asarray(people.household.to_numpy(zero_copy_only=False)).astype(str), return_index=True)
    vill = people.village[first]
    addr = util.concat(util.pick(pa.array(region.township_name), region.village_township[vill]),
                       util.pick(pa.array(region.village_name), vill))
    return pa.table({"household_no": pa.array(hh), "org_unit": util.pick(pa.array(region.village_code), vill),
                     "address": addr})


def residents_table(rng: np.random.Generator, cfg: SynthConfig, region: Region, p: People,
                    as_of: np.datetime64) -> pa.Table:
    n = p.n
    registered = rng.random(n) >= cfg.not_registered_share
    since_days = np.minimum((as_of - p.birth).astype(np.int64), rng.integers(200, 20_000, n))
    recent = rng.random(n) < cfg.recent_arrival_share
    since_days = np.where(recent, rng.integers(1, 180, n), since_days)
    since_days = np.minimum(since_days, (as_of - p.birth).astype(np.int64))
    usual = since_days >= 183  # USUAL_RESIDENCE_MIN_MONTHS = 6
    state = np.where(~np.isnat(p.death), 2, np.where(~np.isnat(p.moved), 1, 0))
    status = util.pick([v.ResidentStatus.ACTIVE.value, v.ResidentStatus.MOVED_OUT.value, v.ResidentStatus.DEAD.value], state)
    reason = util.pick(["", "迁出辖区", "死亡"], state)
    ethnicity = util.where(rng.random(n) < ref.HAN_SHARE.value, "01", "99")
    addr = util.concat(util.pick(pa.array(region.township_name), p.township),
                       util.pick(pa.array(region.village_name), p.village),
                       util.strs(rng.integers(1, 12, n)), "组", util.strs(rng.integers(1, 80, n)), "号")
    second = rng.integers(3, 10, n)
    rest = rng.integers(0, 10**9, n)
    phone = util.concat("1", util.strs(second), pc.utf8_lpad(util.strs(rest), 9, "0"))
    return pa.table({
        "record_no": p.record_no, "name": p.name, "sex": util.strs(p.sex), "birth_date": util.dates(p.birth),
        "id_type": util.const(v.IdType.RESIDENT_ID.value, n), "id_number": util.strs(p.id_number),
        "phone": phone, "address": addr, "household": p.household,
        "managing_unit": util.pick(pa.array(region.village_code), p.village),
        "residence_type": util.where(registered, "1", "2"), "usual_resident": util.bools(usual),
        "residence_since": util.dates(as_of - since_days * DAY), "ethnicity": ethnicity,
        "status": status, "status_date": util.dates(p.end),
        "status_reason": reason, "merged_into": util.const("", n),
        "responsible_doctor": util.strs(p.doctor),
    })


_EDU = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]


def health_records_table(rng: np.random.Generator, region: Region, p: People, as_of: np.datetime64,
                         truth: dict[str, np.ndarray]) -> pa.Table:
    n = p.n
    age_days = (as_of - p.birth).astype(np.int64)
    created = as_of - np.minimum(age_days, rng.integers(0, 12 * 365, n)) * DAY
    created = np.where(~np.isnat(p.end) & (created > p.end), p.end, created)
    adult = p.age >= 18
    occ = rng.choice(7, n, p=[.05, .05, .1, .5, .15, .05, .1])
    occupation = util.pick(["1", "2", "3", "4", "5", "7", "8"], np.where(adult, occ, 6))
    mar = rng.choice(4, n, p=[.05, .82, .09, .04])
    marital = util.pick(["1", "2", "3", "4"], np.where(p.age >= 22, mar, 0))
    codes = (("2", "hypertension"), ("3", "diabetes"), ("5", "copd"), ("8", "smi"))
    mask = np.zeros(n, dtype=np.int64)
    for bit, (_, key) in enumerate(codes):
        has = truth.get(key, np.zeros(n, bool)) & truth.get(f"{key}_managed", np.ones(n, bool))
        mask |= has.astype(np.int64) << bit
    combos = np.arange(1 << len(codes))
    labels = [",".join(c for b, (c, _) in enumerate(codes) if m >> b & 1) or "1" for m in combos]
    past = pa.array(labels).take(pa.array(mask))
    return pa.table({
        "resident": p.record_no, "created_on": util.dates(created),
        "created_by_unit": util.pick(pa.array(region.township_code), p.township),
        "is_electronic": util.bools(np.ones(n, bool)), "work_unit": util.const("", n),
        "contact_name": util.const("", n), "contact_phone": util.const("", n),
        "blood_abo": util.choose(rng, ["1", "2", "3", "4", "5"], n, [.28, .24, .33, .09, .06]),
        "blood_rh": util.where(rng.random(n) < 0.004, "1", "2"),
        "education": util.pick(_EDU, rng.integers(2, 10, n)), "occupation": occupation,
        "marital_status": marital, "payment_methods": util.where(rng.random(n) < .8, "2", "1"),
        "drug_allergy": util.where(rng.random(n) < .95, "1", "2"),
        "exposure": util.const("1", n), "past_history": past,
        "family_history": util.where(rng.random(n) < .7, "1", "2"),
        "disability": util.where(rng.random(n) < .95, "1", "5"),
        "kitchen_exhaust": util.choose(rng, ["1", "2", "3"], n),
        "fuel": util.choose(rng, ["1", "2", "3", "4"], n),
        "drinking_water": util.choose(rng, ["1", "2"], n),
        "toilet": util.choose(rng, ["1", "2", "3"], n),
        "livestock_pen": util.choose(rng, ["1", "2", "3"], n),
    })
