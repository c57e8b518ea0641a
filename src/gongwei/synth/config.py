"""Knobs of the synthetic-region generator.

These are *synthetic-data* settings (how many problems to inject, how unevenly units work), not domain
figures: every population, prevalence, schedule and target number comes from :mod:`gongwei.spec.reference`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SynthConfig:
    # region shape
    province_code: str = "62"          # 甘肃省
    city_code: str = "6208"            # 平凉市 ([pingliang-2020q2] names its counties)
    village_size: tuple[int, int] = (1500, 3000)
    township_size: int = 30_000
    townships_per_county: int = 5
    urban_county_first: bool = True    # the first county (a 区) has sub-districts and communities
    village_doctors: tuple[int, int] = (1, 3)
    residents_per_township_staff: int = 2_000
    supervisors_per_county: int = 2
    villages_per_team: int = 2

    # people
    born_elsewhere_share: float = 0.08     # ID address code of another county in the province
    not_registered_share: float = 0.12     # 非户籍 residents
    recent_arrival_share: float = 0.01     # lived here < 6 months (not usual residents)
    moved_out_share_per_year: float = 0.008
    household_size_probs: tuple[float, float, float] = (0.50, 0.38, 0.12)  # sizes 2, 3, 4 (mean 2.62)
    shared_surname_share: float = 0.7

    # how unevenly units work (multiplies the typical rates of spec.reference.OBSERVED_RATES)
    county_diligence: tuple[float, float] = (0.95, 1.08)
    township_diligence_sd: float = 0.06
    lagging_counties: int = 2              # counties that lag like [pingliang-2020q2]'s 崇信/华亭
    renewal_share: float = 0.8
    signing_rate_range: tuple[float, float] = (0.60, 0.90)  # overall signing rate by township (issue brief)
    follow_up_mode_probs: tuple[float, float, float] = (0.55, 0.30, 0.15)
    smi_risk_probs: tuple[float, ...] = (0.80, 0.10, 0.06, 0.03, 0.007, 0.003)  # grades 0–5
    tb_medical_supervision_share: float = 0.6
    report_unreported_share: float = 0.01
    # issue-8 records (synth/records8.py): synthetic shapes, not calibrated figures
    certificate_missing_share: float = 0.01    # [baotou-2025] reports 建证率 100%; a few gaps keep V1 informative
    certificate_late_share: float = 0.05
    consultation_share: float = 0.35           # adults with at least one outpatient visit a year
    first_visit_bp_share: float = 0.93
    first_visit_glucose_share: float = 0.40
    emergency_events_per_township_year: float = 1.5
    emergency_late_share: float = 0.08
    emergency_unreported_share: float = 0.03
    smi_not_at_home_share: float = 0.03

    # injected problems (shares of the eligible rows)
    duplicate_share: float = 0.003         # residents recorded twice
    duplicate_without_id_share: float = 0.5
    # the second registration often has no phone or another one (a new SIM, a relative's number)
    duplicate_phone_blank_share: float = 0.3
    duplicate_phone_changed_share: float = 0.2
    id_empty_share: float = 0.006
    id_empty_hotspot_factor: float = 4.0   # the urban county has many more empty numbers ([pingliang-2020q2] 崆峒区)
    id_bad_checksum_share: float = 0.002
    id_malformed_share: float = 0.001
    id_birth_mismatch_share: float = 0.002
    lookalike_exam_share: float = 0.004    # elderly exams copied from another resident's (F-01)
    lookalike_hotspot_townships: int = 3   # [pingliang-2020q2]: 华亭 东华镇、安口镇 ...
    arm_gap_10_share: float = 0.055        # [pingliang-2020q2]: 7,749 of 119,000 exams had |L−R| > 10
    arm_gap_20_share: float = 0.01
    constitution_mismatch_share: float = 0.03  # TCM forms whose recorded 体质辨识结果 disagrees with the answers (L-12)
    medication_irregular_share: float = 0.03  # HTN/DM follow-ups whose 用药情况 is boilerplate or a name alone (C-06)
    after_death_share: float = 0.05        # share of deaths in the window with a later service
    after_moveout_share: float = 0.05
    late_report_extra: float = 0.0         # added to 1 − OBSERVED_RATES["report_on_time"]
