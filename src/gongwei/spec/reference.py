"""Reference statistics used to estimate task numbers and to calibrate synthetic regions.

These are published national figures, not rules of the specification; they live in the rulebook
because task-number estimation (domain-spec.md §6) multiplies population bases by prevalence.
Tags: [V] verified in a source during research, [B] background knowledge (configurable).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    value: float
    source: str
    tag: str = "B"


# Seventh national population census (第七次全国人口普查), reference moment 2020-11-01.
CENSUS_2020_SOURCE = "第七次全国人口普查公报（第五号）——人口年龄构成情况，国家统计局 2021-05-11"
CENSUS_2020_BROAD_GROUPS = {  # [V] share of total population
    "0-14": Figure(0.1795, CENSUS_2020_SOURCE, "V"),
    "15-59": Figure(0.6335, CENSUS_2020_SOURCE, "V"),
    "60+": Figure(0.1870, CENSUS_2020_SOURCE, "V"),
    "65+": Figure(0.1350, CENSUS_2020_SOURCE, "V"),
}
CENSUS_2020_SEX_RATIO = Figure(105.07, CENSUS_2020_SOURCE, "V")  # males per 100 females [V]

# Five-year age groups (lower bound of the group → share of total population), 2020 census long-form
# tables as remembered [B]; their sums agree with the verified broad groups above within 0.1 point,
# which tests/test_synth_calibration.py checks.
CENSUS_2020_FIVE_YEAR_SHARES: dict[int, float] = {
    0: 0.0552, 5: 0.0640, 10: 0.0604, 15: 0.0515, 20: 0.0531, 25: 0.0651, 30: 0.0880, 35: 0.0702,
    40: 0.0661, 45: 0.0810, 50: 0.0859, 55: 0.0719, 60: 0.0520, 65: 0.0525, 70: 0.0352, 75: 0.0220,
    80: 0.0145, 85: 0.0112,
}
CENSUS_OLDEST_AGE = 100  # the open 85+ group is spread over 85–100 in synthetic data

# Crude birth rate (出生率), per 1,000 population [B: 国家统计局 统计公报 2020: 8.52‰; 2023: 6.39‰].
CRUDE_BIRTH_RATE = {
    2020: Figure(8.52 / 1000, "2020年国民经济和社会发展统计公报"),
    2021: Figure(7.52 / 1000, "2021年国民经济和社会发展统计公报"),
    2022: Figure(6.77 / 1000, "2022年国民经济和社会发展统计公报"),
    2023: Figure(6.39 / 1000, "2023年国民经济和社会发展统计公报"),
    2024: Figure(6.77 / 1000, "2024年国民经济和社会发展统计公报"),
}

# Prevalence among adults (share of the stated age group) [B unless tagged].
PREVALENCE = {
    # China Chronic Disease and Risk Factor Surveillance / 中国居民营养与慢性病状况报告（2020年）: adults 18+ 27.5%.
    "hypertension_18plus": Figure(0.275, "中国居民营养与慢性病状况报告（2020年）"),
    # 2010 national survey quoted in domain-spec.md §6 [V 56]: adults 18+ 33.5%.
    "hypertension_18plus_2010": Figure(0.335, "domain-spec.md §6 [V 56]", "V"),
    # Li Y et al., BMJ 2020;369:m997 (2015–2017 survey, ADA criteria): 12.8%; WHO criteria 11.2%.
    "diabetes_18plus": Figure(0.112, "Li Y, et al. BMJ 2020;369:m997"),
    # Registered severe mental disorder patients ≈ 0.45% of the population (national registry, ~6.6 M).
    "smi_registered_all_ages": Figure(0.0045, "国家严重精神障碍信息系统在册患者数（约660万）"),
    # Reported pulmonary TB incidence ≈ 45 per 100,000 (法定传染病报告, 2022).
    "tb_incidence_all_ages": Figure(45 / 100_000, "全国法定传染病疫情概况 2022"),
    # COPD among adults 40+: 13.7% (Wang C, et al. Lancet 2018;391:1706-17, China Pulmonary Health study).
    "copd_40plus": Figure(0.137, "Wang C, et al. Lancet 2018;391:1706-17"),
}

# Share of prevalent patients found and managed by primary care; varies widely by unit, and seeds
# 002/004 imply roughly 8–9% of residents are managed hypertensives [S 2][S 4][I].
MANAGED_SHARE_OF_PREVALENT = {
    "hypertension": Figure(0.40, "inferred from seeds 002 and 004 [I]", "I"),
    "diabetes": Figure(0.35, "inferred from seeds 002 and 004 [I]", "I"),
    "copd": Figure(0.02, "seed 004: 2,306 managed of ~2.7 M residents [S 4][I]", "I"),
}
