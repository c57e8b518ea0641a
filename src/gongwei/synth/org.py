"""The org-unit tree, staff and family-doctor teams of a synthetic region (loops over units only)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pyarrow as pa
from stdnum.cn import ric

from gongwei.records.identity import region_code_known
from gongwei.spec import vocab as v
from gongwei.synth import names, pingliang, util
from gongwei.synth.config import SynthConfig


@dataclass
class Region:
    """Arrays describing the tree; index i of village arrays is village i."""

    codes: list[str]            # every unit, tree order
    village_code: np.ndarray    # str, per village
    village_name: np.ndarray
    village_township: np.ndarray  # township index per village
    village_urban: np.ndarray
    township_code: np.ndarray
    township_name: np.ndarray
    township_county: np.ndarray
    county_code: np.ndarray     # 12-digit
    county_name: np.ndarray
    county_gb6: np.ndarray      # 6-digit GB/T 2260 code (ID address codes)
    province_code: str
    city_code: str
    province_gb6_pool: np.ndarray  # other counties of the province (people born elsewhere)
    org_units: pa.Table
    staff: pa.Table
    teams: pa.Table
    team_members: pa.Table
    village_doctor_start: np.ndarray  # per village: first index into village_doctor_codes
    village_doctor_count: np.ndarray
    village_doctor_codes: np.ndarray
    township_staff_start: np.ndarray
    township_staff_count: np.ndarray
    township_staff_codes: np.ndarray
    village_team: np.ndarray    # team code per village


@cache
def _county_candidates(cfg: SynthConfig, first_year: int, last_year: int) -> tuple[list[tuple[str, str]], list[str]]:
    """(code, name) of the city's counties whose code is valid in stdnum for every birth year; + province pool."""
    city, province = [], []
    prefix = cfg.province_code
    for code6 in (f"{prefix}{c:02d}{d:02d}" for c in range(1, 100) for d in range(1, 100)):
        if code6[4:] == "01":
            continue  # 市辖区 is not a real county
        try:
            info = ric.get_birth_place(f"{code6}{last_year:04d}01010000")
        except Exception:  # noqa: BLE001 - stdnum raises several kinds for unknown codes
            continue
        if not region_code_known(code6):
            continue
        name = info.get("county", "")
        if not name or name.endswith("市辖区"):
            continue
        province.append(code6)
        if code6.startswith(cfg.city_code):
            city.append((code6, name.split(",")[-1].split("]")[-1]))
    return city, province


def build_region(rng: np.random.Generator, cfg: SynthConfig, residents: int, first_year: int,
                 last_year: int) -> tuple[Region, np.ndarray]:
    """The tree and the number of residents per village."""
    lo, hi = cfg.village_size
    n_villages = max(1, int(round(residents / ((lo + hi) / 2))))
    sizes = rng.uniform(lo, hi, n_villages)
    sizes = np.floor(sizes / sizes.sum() * residents).astype(np.int64)
    sizes[: residents - int(sizes.sum())] += 1
    n_townships = max(1, min(n_villages, int(round(residents / cfg.township_size))))
    city_counties, pool = _county_candidates(cfg, first_year, last_year)
    if not city_counties:
        raise ValueError(f"城市代码 {cfg.city_code} 下没有可用的县级代码")
    n_counties = max(1, min(len(city_counties), int(round(n_townships / cfg.townships_per_county))))
    counties = city_counties[:n_counties]
    village_township = np.sort(np.arange(n_villages) % n_townships)
    township_county = np.sort(np.arange(n_townships) % n_counties)

    words = names.place_words()
    # drawn even when every name comes from a list, so the later draws (people, services) do not depend on it
    word_idx = rng.permutation(len(words))
    wi = iter(word_idx.tolist() * (1 + (n_villages + n_townships) // len(words)))

    prov12 = f"{cfg.province_code}0000000000"
    city12 = f"{cfg.city_code}00000000"
    codes, unit_names, levels, kinds, parents = [prov12, city12], ["甘肃省卫生健康委员会", "平凉市卫生健康委员会"], \
        [v.OrgLevel.PROVINCE, v.OrgLevel.CITY], [v.OrgKind.HEALTH_BUREAU] * 2, ["", prov12]
    if cfg.province_code != "62" or cfg.city_code != "6208":
        unit_names[:2] = [f"{cfg.province_code}省卫生健康委员会", f"{cfg.city_code}市卫生健康委员会"]
    county_code, county_name, county_gb6 = [], [], []
    township_code, township_name = [], []
    village_code, village_name, village_urban = [], [], []
    for c, (gb6, cname) in enumerate(counties):
        c12 = f"{gb6}000000"
        urban_county = cfg.urban_county_first and c == 0 and cname.endswith("区")
        county_code.append(c12), county_name.append(cname), county_gb6.append(gb6)
        codes.append(c12), unit_names.append(f"{cname}卫生健康局"), levels.append(v.OrgLevel.COUNTY)
        kinds.append(v.OrgKind.HEALTH_BUREAU), parents.append(city12)
        t_idx = np.flatnonzero(township_county == c)
        n_vill = [int((village_township == t).sum()) for t in t_idx]
        if cfg.city_code == "6208" and gb6 in pingliang.TOWNSHIPS:
            plan = _listed_places(gb6, n_vill)
        else:
            plan = _word_places(gb6, n_vill, urban_county, lambda: words[next(wi)])
        for t3, tname, places in plan:
            t12 = f"{gb6}{t3}000"
            if tname.endswith("街道"):
                tkind, unit = v.OrgKind.COMMUNITY_HEALTH_CENTRE, f"{tname}社区卫生服务中心"
            else:
                tkind, unit = v.OrgKind.TOWNSHIP_HEALTH_CENTRE, f"{tname}卫生院"
            township_code.append(t12), township_name.append(tname)
            codes.append(t12), unit_names.append(unit), levels.append(v.OrgLevel.TOWNSHIP)
            kinds.append(tkind), parents.append(c12)
            for v3, vname in places:
                v12, urban = f"{t12[:9]}{v3}", vname.endswith("社区")
                vkind, vunit = ((v.OrgKind.COMMUNITY_STATION, f"{vname}卫生服务站") if urban
                                else (v.OrgKind.VILLAGE_CLINIC, f"{vname}卫生室"))
                village_code.append(v12), village_name.append(vname), village_urban.append(urban)
                codes.append(v12), unit_names.append(vunit), levels.append(v.OrgLevel.VILLAGE)
                kinds.append(vkind), parents.append(t12)
    org_units = pa.table({
        "code": pa.array(codes), "institution_code": pa.array([""] * len(codes)), "name": pa.array(unit_names),
        "level": pa.array([str(x) for x in levels]), "kind": pa.array([str(x) for x in kinds]),
        "parent": pa.array(parents), "is_active": pa.array([True] * len(codes)),
    })

    # staff: village doctors per village, public-health staff + an administrator per township, county supervisors
    vd_count = rng.integers(cfg.village_doctors[0], cfg.village_doctors[1] + 1, n_villages)
    vd_village = np.repeat(np.arange(n_villages), vd_count)
    vd_rank = util.rank_in_group(vd_village, n_villages)
    village_code_arr = np.array(village_code)
    vd_codes = np.char.add(np.char.add(village_code_arr[vd_village], "V"), np.char.zfill((vd_rank + 1).astype(str), 2))
    t_pop = np.bincount(village_township, weights=sizes, minlength=n_townships)
    ts_count = np.maximum(3, np.round(t_pop / cfg.residents_per_township_staff)).astype(np.int64)
    ts_town = np.repeat(np.arange(n_townships), ts_count)
    ts_rank = util.rank_in_group(ts_town, n_townships)
    township_code_arr = np.array(township_code)
    ts_codes = np.char.add(np.char.add(township_code_arr[ts_town], "P"), np.char.zfill((ts_rank + 1).astype(str), 3))
    admin_codes = np.char.add(township_code_arr, "A01")
    county_code_arr = np.array(county_code)
    sup_county = np.repeat(np.arange(n_counties), cfg.supervisors_per_county)
    sup_codes = np.char.add(np.char.add(county_code_arr[sup_county], "S"),
                            np.char.zfill((util.rank_in_group(sup_county, n_counties) + 1).astype(str), 2))
    staff_codes = np.concatenate([vd_codes, ts_codes, admin_codes, sup_codes])
    staff_units = np.concatenate([village_code_arr[vd_village], township_code_arr[ts_town], township_code_arr,
                                  county_code_arr[sup_county]])
    staff_roles = np.concatenate([np.full(len(vd_codes), v.Role.VILLAGE_DOCTOR.value),
                                  np.full(len(ts_codes), v.Role.TOWNSHIP_STAFF.value),
                                  np.full(n_townships, v.Role.TOWNSHIP_ADMIN.value),
                                  np.full(len(sup_codes), v.Role.SUPERVISOR.value)])
    n_staff = len(staff_codes)
    sn, sp = names.surnames()
    sex = rng.choice(np.array(["1", "2"]), n_staff)
    male, female = names.given_names("1"), names.given_names("2")
    given = np.where(sex == "1", np.array(male)[rng.integers(0, len(male), n_staff)],
                     np.array(female)[rng.integers(0, len(female), n_staff)])
    staff_names = np.char.add(np.array(sn)[rng.choice(len(sn), n_staff, p=sp)], given)
    phones = _phones(rng, n_staff)
    staff = pa.table({"code": util.strs(staff_codes), "org_unit": util.strs(staff_units),
                      "role": util.strs(staff_roles), "name": util.strs(staff_names), "phone": phones})

    # family-doctor teams: one per `villages_per_team` villages of a township, led by township staff
    v_rank = util.rank_in_group(village_township, n_townships)
    team_local = v_rank // cfg.villages_per_team
    team_key = village_township * 1000 + team_local
    team_keys, village_team_idx = np.unique(team_key, return_inverse=True)
    team_town = team_keys // 1000
    team_codes = np.char.add(np.char.add(township_code_arr[team_town], "T"),
                             np.char.zfill(((team_keys % 1000) + 1).astype(str), 2))
    ts_start, ts_cnt = util.group_starts(ts_town, n_townships)
    team_lead = ts_codes[ts_start[team_town] + (team_keys % 1000) % ts_cnt[team_town]]
    teams = pa.table({"code": util.strs(team_codes),
                      "name": util.strs(np.char.add(np.array(township_name)[team_town],
                                                    np.char.add(np.char.zfill(((team_keys % 1000) + 1).astype(str), 2),
                                                                "家庭医生团队"))),
                      "org_unit": util.strs(township_code_arr[team_town]), "lead": util.strs(team_lead)})
    vd_start, _ = util.group_starts(vd_village, n_villages)
    member_team = np.concatenate([village_team_idx[vd_village], np.arange(len(team_codes))])
    member_staff = np.concatenate([vd_codes, team_lead])
    duty = np.concatenate([np.full(len(vd_codes), "签约医生"), np.full(len(team_codes), "团队长")])
    start = np.datetime64(f"{first_year:04d}-01-01")
    team_members = pa.table({"team": util.strs(team_codes[member_team]), "staff": util.strs(member_staff),
                             "duty": util.strs(duty), "start_date": util.dates(np.full(len(duty), start)),
                             "end_date": pa.nulls(len(duty), pa.date32())})
    region = Region(
        codes=codes, village_code=village_code_arr, village_name=np.array(village_name),
        village_township=village_township, village_urban=np.array(village_urban, dtype=bool),
        township_code=township_code_arr, township_name=np.array(township_name), township_county=township_county,
        county_code=county_code_arr, county_name=np.array(county_name), county_gb6=np.array(county_gb6),
        province_code=prov12, city_code=city12, province_gb6_pool=np.array(pool),
        org_units=org_units, staff=staff, teams=teams, team_members=team_members,
        village_doctor_start=vd_start, village_doctor_count=vd_count, village_doctor_codes=vd_codes,
        township_staff_start=ts_start, township_staff_count=ts_cnt, township_staff_codes=ts_codes,
        village_team=team_codes[village_team_idx],
    )
    return region, sizes


Plan = list[tuple[str, str, list[tuple[str, str]]]]  # (township code, name, [(village code, name)]) per township


def _word_places(gb6: str, n_villages: list[int], urban: bool, word) -> Plan:
    """Townships and villages named by place words: an urban county has 街道 and 社区, others 镇 and 村."""
    plan: Plan = []
    for k, m in enumerate(n_villages):
        t3, tname = (f"{k + 1:03d}", f"{word()}街道") if urban else (f"{100 + k + 1:03d}", f"{word()}镇")
        plan.append((t3, tname, [(f"{j + 1:03d}", f"{word()}社区") if urban else (f"{200 + j + 1:03d}", f"{word()}村")
                                 for j in range(m)]))
    return plan


_DIGITS = "零一二三四五六七八九"


def chinese_ordinal(n: int) -> str:
    """第 n in Chinese numerals (1 ≤ n ≤ 999): 第一, 第十二, 第一百零五."""
    h, t, u = n // 100, n // 10 % 10, n % 10
    text = f"{_DIGITS[h]}百" if h else ""
    if t:
        text += ("" if t == 1 and not h else _DIGITS[t]) + "十"
    elif h and u:
        text += "零"
    return "第" + text + (_DIGITS[u] if u else "")


def _next_free(used: set[int], lo: int, hi: int) -> int:
    code = next((c for c in range(lo, hi + 1) if c not in used), None)
    if code is None:
        raise ValueError(f"区划代码 {lo:03d}–{hi:03d} 段已用完，无法再增加单位")
    used.add(code)
    return code


def _listed_places(gb6: str, n_villages: list[int]) -> Plan:
    """The county's real townships and villages (gongwei.synth.pingliang), as many as the region needs, in code
    order; a region that needs more gets plainly numbered ones (第十五村), never names from elsewhere."""
    listed = pingliang.TOWNSHIPS[gb6]
    used_t = {int(t3) for t3, _n, _v in listed}
    towns = sorted(listed[:len(n_villages)])
    for k in range(len(listed), len(n_villages)):
        towns.append((f"{_next_free(used_t, 100, 199):03d}", f"{chinese_ordinal(k + 1)}镇", ""))
    plan: Plan = []
    for (t3, tname, villages), m in zip(towns, n_villages, strict=True):
        names_ = villages.split()
        places, used = [], set()
        for name in names_[:m]:
            lo, hi = (1, 199) if name.endswith("社区") else (200, 399)
            places.append((f"{_next_free(used, lo, hi):03d}", name))
        urban = tname.endswith("街道")
        for j in range(len(names_), m):
            lo, hi, kind = (1, 199, "社区") if urban else (200, 399, "村")
            places.append((f"{_next_free(used, lo, hi):03d}", f"{chinese_ordinal(j + 1)}{kind}"))
        plan.append((t3, tname, places))
    return plan


def _phones(rng: np.random.Generator, n: int) -> pa.Array:
    second = rng.integers(3, 10, n)
    rest = rng.integers(0, 10**9, n)
    return util.concat("1", util.strs(second), pa.compute.utf8_lpad(util.strs(rest), 9, "0"))
