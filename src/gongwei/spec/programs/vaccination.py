"""预防接种 — National Immunization Program coverage (domain-spec.md §2.3, §4.1 V1–V3, §5).

Source: 国家免疫规划疫苗儿童免疫程序（2021年版）[V 26]; targets from a provincial 2023 list and a city's 2024
report [V 28][S 4]. Vaccination statistics follow the calendar year.

Definitions chosen where the domain reference is unsure (each is a named parameter below):

* **One indicator per vaccine and dose** (``V2.<vaccine>.<dose>``, e.g. ``V2.MMR.1``), generated from the
  schedule table: the domain keeps one base figure per dose [V 55a], the township rule (V3) judges each dose
  separately, and a drill-down per dose says exactly which child misses which dose. The codes are data, so a
  province that adds a vaccine adds a row, not code.
* **Due (应种)**: a resident child (record not merged, not closed before the deadline) whose deadline for the
  dose — birth date + the schedule age + ``DOSE_WINDOW.after_days`` — falls in the period.
* **Received (实种)**: a record of an accepted (vaccine, dose number) dated from the schedule age
  (− ``before_days``; doses before the minimum age do not count) to the period end. Late doses count.
* **Alternatives**: the live JE and hepatitis-A vaccines are the defaults; a dose of the inactivated product at
  the same age is accepted (JE-I dose 1 for JE dose 1, JE-I dose 3 for JE dose 2, HepA-I dose 1 for HepA
  dose 1). Doses only the inactivated products have (JE-I doses 2 and 4, HepA-I dose 2) have no indicator.
* **V3**: a unit passes when every V2 dose with children due reaches ``V3.min_rate`` (township level).
* **V1 建证率**: children who should have a vaccination certificate (预防接种证) and have one. Should have one: a
  resident child 0–``CERTIFICATE_MAX_AGE_YEARS`` at some time in the period whose certificate due date —
  birth + ``CERTIFICATE_MONTHS_AFTER_BIRTH`` months, or for a child who came to live here after birth
  (``residence_since``) that date + ``CERTIFICATE_MONTHS_AFTER_ARRIVAL`` months — is on or before the period end,
  record not closed before that date. Has one: a certificate record (not void, any unit) dated by the period end.
"""

from __future__ import annotations

from dataclasses import dataclass

from gongwei.spec.rules import (
    Comparator,
    DenominatorKind,
    GapReason,
    Indicator,
    ScheduledService,
    Source,
    Target,
    Window,
)
from gongwei.spec.vocab import OrgLevel, Vaccine

CODE = "vaccination"  # the engine's program code; there is no enrollment for vaccination
NIP_2021 = Source("国家免疫规划疫苗儿童免疫程序（2021年版）[V 26]", "V")

# A dose counts from the schedule age (no early doses) and is due within 30 days of it: the timeliness
# rule was not found in a source [U].
DOSE_WINDOW = Window(before_days=0, after_days=30)


@dataclass(frozen=True)
class Dose:
    """One dose of the schedule: which records count for it, and at what age it is due."""

    vaccine: str       # code in indicator codes ("MMR", "JE")
    dose: int
    months: int        # schedule age in months (0 = at birth)
    short: str         # plain name in gap reasons ("麻腮风")
    name: str          # full name in indicator names ("麻腮风疫苗")
    accepted: tuple[tuple[str, int], ...]
    window: Window = DOSE_WINDOW

    @property
    def key(self) -> str:
        """Column-safe key: ``mmr_1``, ``je_1``, ``mpsv_ac_2``."""
        return f"{self.vaccine.lower().replace('-', '_')}_{self.dose}"

    @property
    def code(self) -> str:
        return f"V2.{self.vaccine}.{self.dose}"

    @property
    def age_text(self) -> str:
        if self.months == 0:
            return "出生时"
        if self.months >= 24 and self.months % 12 == 0:
            return f"{self.months // 12}岁"
        return f"{self.months}月龄"


def _d(vaccine: Vaccine | str, dose: int, months: int, short: str, name: str,
       also: tuple[tuple[Vaccine, int], ...] = ()) -> Dose:
    code = vaccine.value if isinstance(vaccine, Vaccine) else vaccine
    accepted = ((code, dose),) if isinstance(vaccine, Vaccine) else ()
    return Dose(code, dose, months, short, name, accepted + tuple((v.value, n) for v, n in also))


# The NIP schedule, 2021 edition (domain-spec.md §2.3 [V 26]).
SCHEDULE_2021: tuple[Dose, ...] = (
    _d(Vaccine.HEPB, 1, 0, "乙肝疫苗", "乙肝疫苗"),
    _d(Vaccine.HEPB, 2, 1, "乙肝疫苗", "乙肝疫苗"),
    _d(Vaccine.HEPB, 3, 6, "乙肝疫苗", "乙肝疫苗"),
    _d(Vaccine.BCG, 1, 0, "卡介苗", "卡介苗"),
    _d(Vaccine.IPV, 1, 2, "脊灰灭活疫苗", "脊灰灭活疫苗"),
    _d(Vaccine.IPV, 2, 3, "脊灰灭活疫苗", "脊灰灭活疫苗"),
    _d(Vaccine.BOPV, 1, 4, "脊灰减毒活疫苗", "脊灰减毒活疫苗"),
    _d(Vaccine.BOPV, 2, 48, "脊灰减毒活疫苗", "脊灰减毒活疫苗"),
    _d(Vaccine.DTAP, 1, 3, "百白破", "百白破疫苗"),
    _d(Vaccine.DTAP, 2, 4, "百白破", "百白破疫苗"),
    _d(Vaccine.DTAP, 3, 5, "百白破", "百白破疫苗"),
    _d(Vaccine.DTAP, 4, 18, "百白破", "百白破疫苗"),
    _d(Vaccine.DT, 1, 72, "白破", "白破疫苗"),
    _d(Vaccine.MMR, 1, 8, "麻腮风", "麻腮风疫苗"),
    _d(Vaccine.MMR, 2, 18, "麻腮风", "麻腮风疫苗"),
    _d("JE", 1, 8, "乙脑疫苗", "乙脑疫苗", ((Vaccine.JE_L, 1), (Vaccine.JE_I, 1))),
    _d("JE", 2, 24, "乙脑疫苗", "乙脑疫苗", ((Vaccine.JE_L, 2), (Vaccine.JE_I, 3))),
    _d(Vaccine.MPSV_A, 1, 6, "A群流脑多糖疫苗", "A群流脑多糖疫苗"),
    _d(Vaccine.MPSV_A, 2, 9, "A群流脑多糖疫苗", "A群流脑多糖疫苗"),
    _d(Vaccine.MPSV_AC, 1, 36, "A群C群流脑多糖疫苗", "A群C群流脑多糖疫苗"),
    _d(Vaccine.MPSV_AC, 2, 72, "A群C群流脑多糖疫苗", "A群C群流脑多糖疫苗"),
    _d("HepA", 1, 18, "甲肝疫苗", "甲肝疫苗", ((Vaccine.HEPA_L, 1), (Vaccine.HEPA_I, 1))),
)
DOSES = SCHEDULE_2021

INDICATORS = tuple(
    Indicator(d.code, f"{d.name}第{d.dose}剂次接种率", f"{CODE}.vaccinated_{d.key}", f"{CODE}.eligible_{d.key}",
              DenominatorKind.MANAGED_COHORT, Source(f"domain-spec.md §4.1 V2 [V 55a][B]; 程序 {NIP_2021}", "V"),
              CODE, note=f"应于{d.age_text}接种；期限为该年龄后 {d.window.after_days} 天，统计期内到期者为应种")
    for d in DOSES
)

# 适龄儿童国家免疫规划疫苗接种率 ≥ 90% per vaccine and dose at township level [V 28][S 4].
TARGET_RATE_SOURCE_2023 = Source("一省 2023 年目标：适龄儿童国家免疫规划疫苗接种率 ≥ 90% [V 28]", "V")
TARGET_RATE_SOURCE_2024 = Source("包头市 2024 年度目标（seed 004）", "S")
TARGETS = (
    *(Target(d.code, 2023, 0.90, TARGET_RATE_SOURCE_2023) for d in DOSES),
    *(Target(d.code, 2024, 0.90, TARGET_RATE_SOURCE_2024, region="1502") for d in DOSES),
)


@dataclass(frozen=True)
class AllComponentsRule:
    """A unit passes when every component indicator (code prefix) with a denominator reaches ``min_rate``."""

    code: str
    name: str
    components: str
    min_rate: float
    level: OrgLevel
    source: Source


V3 = AllComponentsRule("V3", "适龄儿童国家免疫规划疫苗接种率（各疫苗各剂次均达标）", "V2.", 0.90, OrgLevel.TOWNSHIP,
                       Source("domain-spec.md §4.1 V3：乡镇级每种疫苗每剂次 ≥ 90% [V 28][S 4]", "V"))
PASS_RULES = (V3,)

# V1 建证率 (domain-spec.md §2.3, §4.1 V1). The guardian gets the certificate within one month of birth
# (疫苗管理法（2019）第四十七条；疫苗流通和预防接种管理条例: 儿童出生后一个月内办理预防接种证 [B]); children who
# move in get one once they have lived here 3 months (居住满3个月的0～6岁儿童建卡建证, 国家卫生城市标准 [V 27]).
CERTIFICATE_MAX_AGE_YEARS = 6
CERTIFICATE_MONTHS_AFTER_BIRTH = 1
CERTIFICATE_MONTHS_AFTER_ARRIVAL = 3
CERTIFICATE_SOURCE = Source("domain-spec.md §2.3, §4.1 V1 [V 55a][V 27][B]; 疫苗管理法（2019）第四十七条（出生后一个月内办理"
                            "预防接种证）；国家卫生城市标准（居住满3个月适龄儿童建卡建证率）", "B")
V1 = Indicator("V1", "预防接种建证率", f"{CODE}.has_certificate", f"{CODE}.certificate_due_child",
               DenominatorKind.MANAGED_COHORT, CERTIFICATE_SOURCE, CODE,
               note=f"0–{CERTIFICATE_MAX_AGE_YEARS}岁儿童中出生满{CERTIFICATE_MONTHS_AFTER_BIRTH}个月（迁入者居住满"
                    f"{CERTIFICATE_MONTHS_AFTER_ARRIVAL}个月）者应建证；统计期末前有接种证记录者为已建证")
INDICATORS = (*INDICATORS, V1)

DIRECTION = Comparator.GE

GAP_REASONS = {
    f"missing_{d.key}": GapReason(f"VAC-{d.vaccine}-{d.dose}", f"{d.short}第{d.dose}剂未接种（应于{d.age_text}接种）")
    for d in DOSES
}
GAP_REASONS["no_certificate"] = GapReason("VAC-CERT", "未办理预防接种证（应于 {certificate_deadline} 前办理）")
FLAG_REASONS = {f"vaccinated_{d.key}": (f"missing_{d.key}",) for d in DOSES}
FLAG_REASONS["has_certificate"] = ("no_certificate",)
SCHEDULE = tuple(
    ScheduledService(d.key, f"{d.short}第{d.dose}剂（{d.age_text}）", f"{d.key}_due", gap=f"missing_{d.key}")
    for d in DOSES
) + (ScheduledService("certificate", "办理预防接种证", "certificate_due", gap="no_certificate"),)
