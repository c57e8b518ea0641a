"""Reference statistics used to estimate task numbers and to calibrate synthetic regions.

These are published national figures, not rules of the specification; they live in the rulebook
because task-number estimation ([appraisal-server]) multiplies population bases by prevalence.
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
CENSUS_2020_SOURCE = "第七次全国人口普查公报（第五号）——人口年龄构成情况，国家统计局 2021-05-11 [census-2020]"
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
    2020: Figure(8.52 / 1000, "2020年国民经济和社会发展统计公报 [nbs-bulletin]"),
    2021: Figure(7.52 / 1000, "2021年国民经济和社会发展统计公报 [nbs-bulletin]"),
    2022: Figure(6.77 / 1000, "2022年国民经济和社会发展统计公报 [nbs-bulletin]"),
    2023: Figure(6.39 / 1000, "2023年国民经济和社会发展统计公报 [nbs-bulletin]"),
    2024: Figure(6.77 / 1000, "2024年国民经济和社会发展统计公报 [nbs-bulletin]"),
}

# Prevalence among adults (share of the stated age group) [B unless tagged].
PREVALENCE = {
    # China Chronic Disease and Risk Factor Surveillance / 中国居民营养与慢性病状况报告（2020年）: adults 18+ 27.5%.
    "hypertension_18plus": Figure(0.275, "中国居民营养与慢性病状况报告（2020年） [chronic-report-2020]"),
    # 2010 national survey quoted in [appraisal-server] [prevalence]: adults 18+ 33.5%.
    "hypertension_18plus_2010": Figure(0.335, "[appraisal-server] [prevalence]", "V"),
    # Li Y et al., BMJ 2020;369:m997 (2015–2017 survey, ADA criteria): 12.8%; WHO criteria 11.2%.
    "diabetes_18plus": Figure(0.112, "Li Y, et al. BMJ 2020;369:m997 [dm-prevalence-2020]"),
    # Registered severe mental disorder patients ≈ 0.45% of the population (national registry, ~6.6 M).
    "smi_registered_all_ages": Figure(0.0045, "国家严重精神障碍信息系统在册患者数（约660万） [smi-indicators-2017]"),
    # Reported pulmonary TB incidence ≈ 45 per 100,000 (法定传染病报告, 2022).
    "tb_incidence_all_ages": Figure(45 / 100_000, "全国法定传染病疫情概况 2022 [notifiable-bulletin]"),
    # COPD among adults 40+: 13.7% (Wang C, et al. Lancet 2018;391:1706-17, China Pulmonary Health study).
    "copd_40plus": Figure(0.137, "Wang C, et al. Lancet 2018;391:1706-17 [copd-prevalence-2018]"),
}

# Share of prevalent patients found and managed by primary care; varies widely by unit, and seeds
# 002/004 imply roughly 8–9% of residents are managed hypertensives [pingliang-2020q2][baotou-2025][I].
MANAGED_SHARE_OF_PREVALENT = {
    "hypertension": Figure(0.40, "inferred from [pingliang-2020q2] and 004 [I]", "I"),
    "diabetes": Figure(0.35, "inferred from [pingliang-2020q2] and 004 [I]", "I"),
    "copd": Figure(0.02, "[baotou-2025]: 2,306 managed of ~2.7 M residents [baotou-2025][I]", "I"),
}


# --- figures added for synthetic regions (gongwei.synth) --------------------------------------------
# Each is a published figure or a rule of the specification; synth code reads them from here and holds
# no domain numbers of its own. Shapes tagged [B] are background knowledge: approximate, configurable.

# Crude death rate (死亡率), per 1,000 population [B: 国家统计局 统计公报].
CRUDE_DEATH_RATE = {
    2020: Figure(7.07 / 1000, "2020年国民经济和社会发展统计公报 [nbs-bulletin]"),
    2021: Figure(7.18 / 1000, "2021年国民经济和社会发展统计公报 [nbs-bulletin]"),
    2022: Figure(7.37 / 1000, "2022年国民经济和社会发展统计公报 [nbs-bulletin]"),
    2023: Figure(7.87 / 1000, "2023年国民经济和社会发展统计公报 [nbs-bulletin]"),
    2024: Figure(7.76 / 1000, "2024年国民经济和社会发展统计公报 [nbs-bulletin]"),
}
# Gompertz law: adult mortality roughly doubles every ~8 years of age [B: standard demography].
MORTALITY_DOUBLING_YEARS = Figure(8.0, "Gompertz law of mortality (adult hazard doubling time) [gompertz]")

# Average size of a family household (家庭户) [V: 第七次全国人口普查公报（第二号）: 2.62 人].
HOUSEHOLD_MEAN_SIZE = Figure(2.62, "第七次全国人口普查公报（第二号） [census-2020]", "V")
# Han share of the population [B: 第七次全国人口普查公报（第四号）: 汉族 91.11%].
HAN_SHARE = Figure(0.9111, "第七次全国人口普查公报（第四号） [census-2020]")

# Relative prevalence by age band (lower bound of the band → prevalence in that band). Only the *shape*
# is used: synthetic regions rescale it so the overall figure matches PREVALENCE above [B].
HYPERTENSION_BY_AGE = Figure(
    {18: 0.040, 25: 0.061, 35: 0.150, 45: 0.296, 55: 0.446, 65: 0.557, 75: 0.602},
    "Wang Z, et al. Circulation 2018;137:2344-56 (China Hypertension Survey 2012–2015), by age [htn-survey-2018]")
DIABETES_BY_AGE = Figure(
    {18: 0.020, 30: 0.052, 40: 0.094, 50: 0.150, 60: 0.195, 70: 0.215},
    "Li Y, et al. BMJ 2020;369:m997, by age (approximate) [dm-prevalence-2020]")
COPD_BY_AGE = Figure(
    {40: 0.077, 50: 0.131, 60: 0.205, 70: 0.355},
    "Wang C, et al. Lancet 2018;391:1706-17, by age (approximate) [copd-prevalence-2018]")

# Age floors of the programs ([spec2017-elderly][spec2017-htn][spec2017-dm][copd-2024]).
HYPERTENSION_MIN_AGE = 35   # [spec2017-htn]
DIABETES_MIN_AGE = 35       # [spec2017-dm][dm-guide-cq]
ELDERLY_MIN_AGE = 65        # [spec2017-elderly]
COPD_PREVALENCE_MIN_AGE = 40  # the survey population of PREVALENCE["copd_40plus"]
ADULT_MIN_AGE = 18          # prevalence denominators above

# Follow-up rules not yet in spec.programs (hypertension lives in spec/programs/hypertension.py):
# T2DM uncontrolled at fasting glucose >= 7.0 mmol/L [B] ([spec2017-dm]); >= 4 follow-ups a year [dm-fpg-4].
DM_UNCONTROLLED_FPG = 7.0
DM_FOLLOW_UPS_PER_YEAR = 4
SMI_FOLLOW_UPS_PER_YEAR = 4               # [spec2017-smi]
COPD_FOLLOW_UPS_PER_YEAR = 4              # spec not found ([copd-2024]): HTN/DM rule assumed [U]
LR_ARM_SBP_GAP_NOTABLE = 10               #  F-03 / [pingliang-2020q2]: > 10 mmHg notable [pingliang-2020q2]
LR_ARM_SBP_GAP_RECHECK = 20               # > 20 mmHg: recheck on another day [pingliang-2020q2]
LOOKALIKE_EXAM_FIELDS = ("height", "weight", "waist", "sbp", "dbp", "pulse")  # F-01 [pingliang-2020q2]
LOOKALIKE_EXAM_MIN_SAME = 4               # "6项体检指标中4项以上指标完全一致" [pingliang-2020q2]

# Child health management ([spec2017]): nominal check ages in months (满月 = 1) [spec2011-child][child-schedule-county];
# newborn home visit within 7 days of discharge [spec2011-child]; TCM guidance months [spec2017-tcm-child].
CHILD_CHECK_MONTHS = (1, 3, 6, 8, 12, 18, 24, 30, 36, 48, 60, 72)
CHILD_TCM_MONTHS = (6, 12, 18, 24, 30, 36)
NEWBORN_VISIT_MAX_DAYS = 7
CHILD_MAX_AGE_YEARS = 6

# Maternal care ([spec2017-maternal][maternal-services]): prenatal contacts as gestational-week windows;
# registration (建册) and first check before 13 weeks; postpartum visit within 1 week; 42-day check.
PRENATAL_WINDOWS_WEEKS = ((6, 12), (16, 20), (21, 24), (28, 36), (37, 40))
EARLY_REGISTRATION_BEFORE_WEEKS = 13
GESTATION_DAYS = 280
POSTPARTUM_VISIT_MAX_DAYS = 7
POSTPARTUM_CHECK_DAY = 42
MATERNAL_AGE_RANGE = (20, 40)  # childbearing ages used to pick mothers (most births; 15–49 bounds in L-02)

# Tuberculosis ([spec2017-tb]): first home visit within 72 h [spec2017-tb]; family supervision every
# 10 days in the intensive phase, monthly in the continuation phase [spec2017-tb][B]; standard 6-month
# regimen, 2 months intensive [B].
TB_INTENSIVE_DAYS = 60
TB_TREATMENT_DAYS = 180
TB_INTENSIVE_VISIT_DAYS = 10
TB_CONTINUATION_VISIT_DAYS = 30

# Health-education minimums per institution and year ([spec2017-education]).
EDUCATION_MINIMUMS = {
    "centre": {"printed": 12, "audio_visual": 6, "board": 6, "lecture": 12, "consultation": 9},
    "station": {"printed": 12, "board": 6, "lecture": 6},
}
# Supervision assistance: 2 patrols per area per year ([spec2017-supervision] [prov-targets-2023]).
SUPERVISION_PATROLS_PER_YEAR = 2

# Notifiable infectious diseases, reported incidence per 100,000 a year [B: 全国法定传染病疫情概况 2019:
# 甲乙类 220.00/10万; 丙类 about 513/10万]. Reporting deadlines in hours ([spec2017-reporting]).
NOTIFIABLE_INCIDENCE = {
    "B": Figure(220.0 / 100_000, "2019年全国法定传染病疫情概况（甲乙类） [notifiable-bulletin]"),
    "C": Figure(513.0 / 100_000, "2019年全国法定传染病疫情概况（丙类） [notifiable-bulletin]"),
}
REPORT_DEADLINE_HOURS = {"A": 2, "B_as_A": 2, "B": 24, "C": 24}

# Observed service rates in bulletins (seeds), used as typical completion levels of synthetic units
# before each unit's own diligence is applied (bureau documents: keys in docs/sources.md).
OBSERVED_RATES = {
    "elderly_exam": Figure(0.66, "[shangdang-2023] 67.38%, [baotou-2025] 65.85% [shangdang-2023][baotou-2025]", "S"),
    "elderly_exam_lagging": Figure(0.40, "[pingliang-2020q2]: 崇信39.98%、华亭40.66% [pingliang-2020q2]", "S"),
    "elderly_tcm": Figure(0.79, "[shangdang-2023] 78.72%, [baotou-2025] 80.52% [shangdang-2023][baotou-2025]", "S"),
    "chronic_visit": Figure(0.94, "[pingliang-2020q2] 随访率 94.06% (HTN), 95.26% (DM) [pingliang-2020q2]", "S"),
    "uncontrolled_guided": Figure(0.95, "[pingliang-2020q2]: 95.46% (HTN) / 91.84% (DM) given guidance [pingliang-2020q2]", "S"),
    "child_check": Figure(0.92, "[shangdang-2023] 91.51%; target ≥ 90% [shangdang-2023][prov-targets-2023]", "S"),
    "child_tcm": Figure(0.88, "[shangdang-2023] 87.72% [shangdang-2023]", "S"),
    "early_registration": Figure(0.92, "[shangdang-2023] 92.42% [shangdang-2023]", "S"),
    "postpartum_visit": Figure(0.90, "target ≥ 90%; [pingliang-2020q2] lagging counties 43–46% [baotou-2025][pingliang-2020q2]", "S"),
    "vaccination": Figure(0.95, "target ≥ 90% per dose [prov-targets-2023]; health-city card rate ≥ 95% [health-city-2021]", "S"),
    "smi_visit": Figure(0.885, "[pingliang-2020q2] 随访率 88.5% [pingliang-2020q2]", "S"),
    "tb_visit": Figure(0.90, "target ≥ 90% [prov-targets-2023][baotou-2025]", "S"),
    "signing_overall": Figure(0.75, "[baotou-2025] 58%, [shangdang-2023] 89.37% [baotou-2025][shangdang-2023]", "S"),
    "signing_key": Figure(0.91, "[baotou-2025] key populations 91% [baotou-2025]", "S"),
    "report_on_time": Figure(0.95, "传染病报告率 target ≥ 95% [prov-targets-2023][baotou-2025]", "S"),
}
