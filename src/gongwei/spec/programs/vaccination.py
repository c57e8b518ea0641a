"""预防接种 — National Immunization Program coverage ([nip-2021] V1–V3).

Sources: 国家免疫规划疫苗儿童免疫程序及说明（2021年版）[nip-2021] (schedule ages and the ages by which each dose
should be completed); 国家疾控局等6部门《关于国家免疫规划百白破疫苗和白破疫苗免疫程序调整相关工作的通知》
(published 26 Dec 2024, in force 1 Jan 2025; document number not found; verified from the Xinhua and China Daily
reports of 27 Dec 2024) [V] — DTaP at 2, 4, 6, 18 months and
6 years instead of DTaP at 3, 4, 5, 18 months plus DT at 6 years. Targets: see ``TARGETS``. Vaccination
statistics follow the calendar year.

Definitions (each a named parameter below):

* **The schedule by year** (``NIP``, a :class:`ByYear`): a period is counted against the schedule in force in its
  year (2021 edition until 2024, the 2025 DTaP change from 2025). One indicator per vaccine and dose of any
  edition (``V2.<vaccine>.<dose>``, e.g. ``V2.MMR.1``, ``V2.DTaP.5``): the domain keeps one base figure per
  dose [appraisal-server] and V3 judges each dose; a dose not in the year's schedule (DT from 2025, DTaP 5 before) has no
  children due that year.
* **应种 (due)**, the way the immunisation information system counts: a resident child (record not merged, not
  closed before that day) who reaches the dose's **deadline age** in the period — the age by which the 2021
  说明 says the dose should be completed ("小于12月龄完成" …; ``Dose.by_months``).
* **实种 (received)**: due, with a record of an accepted (vaccine, dose number) dated from the schedule age up to
  the day before the deadline age. A dose given after the deadline is late and does not count, as in the system's
  coverage report; a dose before the schedule age does not count either.
* **Children straddling the 2025 change**: a record counts from the schedule age of the edition in force on the
  day it was given (a DTaP 3 given at 5 months in 2024 counts for the 2025 schedule's DTaP 3 at 6 months); and a
  DT dose given before 2025 counts for the 2025 schedule's DTaP 5 (it was the 6-year dose then) [I].
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

import datetime as dt
from dataclasses import dataclass

from gongwei.spec.rules import (
    ByYear,
    Comparator,
    DenominatorKind,
    GapReason,
    Indicator,
    ScheduledService,
    Source,
    Target,
)
from gongwei.spec.target_sources import BAOTOU, S4, UNIDENTIFIED_REGION, V28
from gongwei.spec.vocab import OrgLevel, Vaccine

CODE = "vaccination"  # the engine's program code; there is no enrollment for vaccination
NIP_2021 = Source("国家免疫规划疫苗儿童免疫程序及说明（2021年版）[nip-2021]", "V")
NIP_2025_DTAP = Source("国家疾控局等6部门《关于国家免疫规划百白破疫苗和白破疫苗免疫程序调整相关工作的通知》"
                       "（2024年12月26日公布，2025年1月1日起施行；据新华社、中国日报2024年12月27日报道）[nip-2025-dtap]", "V")
# The completion ages ("建议在下述推荐的年龄之前完成") of the 2021 说明 [nip-2021]: HepB 1 within 24 hours; BCG < 3
# months; HepB 3, polio 3 (= bOPV 1), DTaP 3, MMR 1, JE 1 < 12 months; MPSV-A 2 < 18 months; MMR 2, HepA 1,
# DTaP 4 < 24 months; JE 2 < 3 years; MPSV-AC 1 < 4 years; polio 4 (= bOPV 2) < 5 years; DT, MPSV-AC 2 < 7
# years. Earlier doses of a series take the deadline of the series' named dose (HepB 2, IPV 1–2, DTaP 1–2 < 12
# months: "基础免疫 <12月龄完成"; MPSV-A 1 < 18 months) [I]; the 2025 DTaP doses keep the deadline of the dose
# they replace (DTaP 5 takes DT's < 7 years) [I].
DEADLINES_2021 = Source("国家免疫规划疫苗儿童免疫程序及说明（2021年版）：推荐的完成年龄 [nip-2021]；同系列前几剂同末剂 [I]", "V")


@dataclass(frozen=True)
class Dose:
    """One dose of a schedule: which records count for it, from what age, and by what age it is due."""

    vaccine: str       # code in indicator codes ("MMR", "JE")
    dose: int
    months: int        # schedule age in months (0 = at birth): records count from this age
    by_months: int     # deadline age: due (应种) on reaching it, received (实种) only if given before it
    short: str         # plain name in gap reasons ("麻腮风")
    name: str          # full name in indicator names ("麻腮风疫苗")
    accepted: tuple[tuple[str, int], ...]
    by_days: int = 0   # extra days on the deadline age (HepB 1: within 24 hours of birth)
    # products that counted for this dose under the previous edition, accepted when given before this edition
    accepted_before: tuple[tuple[str, int], ...] = ()

    @property
    def key(self) -> str:
        """Column-safe key: ``mmr_1``, ``je_1``, ``mpsv_ac_2``."""
        return f"{self.vaccine.lower().replace('-', '_')}_{self.dose}"

    @property
    def code(self) -> str:
        return f"V2.{self.vaccine}.{self.dose}"

    @property
    def age_text(self) -> str:
        return _age_text(self.months, "出生时")

    @property
    def deadline_text(self) -> str:
        """When the dose should be complete, as the 说明 puts it: "出生后24小时内", "12月龄前", "7岁前"."""
        if self.by_months == 0:
            return "出生后24小时内"
        return f"{_age_text(self.by_months, '')}前"


def _age_text(months: int, at_birth: str) -> str:
    if months == 0:
        return at_birth
    if months >= 24 and months % 12 == 0:
        return f"{months // 12}岁"
    return f"{months}月龄"


def _d(vaccine: Vaccine | str, dose: int, months: int, by_months: int, short: str, name: str,
       also: tuple[tuple[Vaccine, int], ...] = (), *, by_days: int = 0,
       before: tuple[tuple[Vaccine, int], ...] = ()) -> Dose:
    code = vaccine.value if isinstance(vaccine, Vaccine) else vaccine
    accepted = ((code, dose),) if isinstance(vaccine, Vaccine) else ()
    return Dose(code, dose, months, by_months, short, name, accepted + tuple((v.value, n) for v, n in also),
                by_days, tuple((v.value, n) for v, n in before))


@dataclass(frozen=True)
class Schedule:
    """One edition of the NIP children's schedule, in force from 1 January of ``year``."""

    year: int
    doses: tuple[Dose, ...]
    source: Source

    @property
    def effective(self) -> dt.date:
        return dt.date(self.year, 1, 1)

    def dose(self, code: str) -> Dose | None:
        return next((d for d in self.doses if d.code == code), None)


# HepB 1 "出生后24小时内": dates carry no time of day, so the day of birth or the next day (deadline birth + 2 days).
_HEPB1_DAYS = 2
_DTAP_2021 = (
    _d(Vaccine.DTAP, 1, 3, 12, "百白破", "百白破疫苗"),
    _d(Vaccine.DTAP, 2, 4, 12, "百白破", "百白破疫苗"),
    _d(Vaccine.DTAP, 3, 5, 12, "百白破", "百白破疫苗"),
    _d(Vaccine.DTAP, 4, 18, 24, "百白破", "百白破疫苗"),
    _d(Vaccine.DT, 1, 72, 84, "白破", "白破疫苗"),
)
_DTAP_2025 = (
    _d(Vaccine.DTAP, 1, 2, 12, "百白破", "百白破疫苗"),
    _d(Vaccine.DTAP, 2, 4, 12, "百白破", "百白破疫苗"),
    _d(Vaccine.DTAP, 3, 6, 12, "百白破", "百白破疫苗"),
    _d(Vaccine.DTAP, 4, 18, 24, "百白破", "百白破疫苗"),
    _d(Vaccine.DTAP, 5, 72, 84, "百白破", "百白破疫苗", before=((Vaccine.DT, 1),)),
)


def _schedule(dtap: tuple[Dose, ...]) -> tuple[Dose, ...]:
    return (
        _d(Vaccine.HEPB, 1, 0, 0, "乙肝疫苗", "乙肝疫苗", by_days=_HEPB1_DAYS),
        _d(Vaccine.HEPB, 2, 1, 12, "乙肝疫苗", "乙肝疫苗"),
        _d(Vaccine.HEPB, 3, 6, 12, "乙肝疫苗", "乙肝疫苗"),
        _d(Vaccine.BCG, 1, 0, 3, "卡介苗", "卡介苗"),
        _d(Vaccine.IPV, 1, 2, 12, "脊灰灭活疫苗", "脊灰灭活疫苗"),
        _d(Vaccine.IPV, 2, 3, 12, "脊灰灭活疫苗", "脊灰灭活疫苗"),
        _d(Vaccine.BOPV, 1, 4, 12, "脊灰减毒活疫苗", "脊灰减毒活疫苗"),
        _d(Vaccine.BOPV, 2, 48, 60, "脊灰减毒活疫苗", "脊灰减毒活疫苗"),
        *dtap,
        _d(Vaccine.MMR, 1, 8, 12, "麻腮风", "麻腮风疫苗"),
        _d(Vaccine.MMR, 2, 18, 24, "麻腮风", "麻腮风疫苗"),
        _d("JE", 1, 8, 12, "乙脑疫苗", "乙脑疫苗", ((Vaccine.JE_L, 1), (Vaccine.JE_I, 1))),
        _d("JE", 2, 24, 36, "乙脑疫苗", "乙脑疫苗", ((Vaccine.JE_L, 2), (Vaccine.JE_I, 3))),
        _d(Vaccine.MPSV_A, 1, 6, 18, "A群流脑多糖疫苗", "A群流脑多糖疫苗"),
        _d(Vaccine.MPSV_A, 2, 9, 18, "A群流脑多糖疫苗", "A群流脑多糖疫苗"),
        _d(Vaccine.MPSV_AC, 1, 36, 48, "A群C群流脑多糖疫苗", "A群C群流脑多糖疫苗"),
        _d(Vaccine.MPSV_AC, 2, 72, 84, "A群C群流脑多糖疫苗", "A群C群流脑多糖疫苗"),
        _d("HepA", 1, 18, 24, "甲肝疫苗", "甲肝疫苗", ((Vaccine.HEPA_L, 1), (Vaccine.HEPA_I, 1))),
    )


# The NIP schedule by year: the 2021 edition ([nip-2021]) — also used for records dated before
# 2021, whose ages for these doses were the same — and from 2025 the DTaP change (NIP_2025_DTAP).
SCHEDULE_2021 = Schedule(2021, _schedule(_DTAP_2021), NIP_2021)
SCHEDULE_2025 = Schedule(2025, _schedule(_DTAP_2025), NIP_2025_DTAP)
NIP = ByYear({2021: SCHEDULE_2021, 2025: SCHEDULE_2025})
EDITIONS: tuple[Schedule, ...] = tuple(NIP.values[y] for y in sorted(NIP.values))


def schedule_for(year: int) -> Schedule:
    """The edition in force in ``year`` (the earliest edition stands in for earlier years)."""
    return NIP.for_year(max(year, EDITIONS[0].year))


def _every_dose() -> tuple[Dose, ...]:
    """One entry per dose code of any edition, described by the latest edition that has it."""
    out: dict[str, Dose] = {}
    for edition in EDITIONS:
        for d in edition.doses:
            out.pop(d.code, None)
            out[d.code] = d
    order = [d.code for e in EDITIONS for d in e.doses]
    return tuple(sorted(out.values(), key=lambda d: order.index(d.code)))


DOSES = _every_dose()


def _note(d: Dose) -> str:
    editions = [(e.year, x) for e in EDITIONS if (x := e.dose(d.code)) is not None]
    if len({x.months for _, x in editions}) == 1:
        ages = f"应于{d.age_text}接种"
    else:
        ages = "接种年龄：" + "；".join(f"{y}年版起{x.age_text}" for y, x in editions)
    gone = [e.year for e in EDITIONS if e.dose(d.code) is None]
    scope = f"（{'、'.join(map(str, gone))}年版程序无此剂次）" if gone else ""
    before = "；2025年前接种的白破疫苗计入" if d.accepted_before else ""
    return f"{ages}{scope}{before}；统计期内达到完成期限（{d.deadline_text}）者为应种，期限前接种者为实种"


INDICATORS = tuple(
    Indicator(d.code, f"{d.name}第{d.dose}剂次接种率", f"{CODE}.vaccinated_{d.key}", f"{CODE}.eligible_{d.key}",
              DenominatorKind.MANAGED_COHORT,
              Source(f" V2 [appraisal-server][B]; 程序 {NIP_2021.ref}、{NIP_2025_DTAP.ref}; 期限 {DEADLINES_2021.ref}",
                     "V"),
              CODE, note=_note(d))
    for d in DOSES
)

# 适龄儿童国家免疫规划疫苗接种率 ≥ 90% per vaccine and dose at township level [prov-targets-2023][baotou-2025].
TARGET_RATE_SOURCE_2023 = Source(f"{V28}：适龄儿童国家免疫规划疫苗接种率 ≥ 90%", "V")
TARGET_RATE_SOURCE_2024 = Source(f"{S4}：适龄儿童国家免疫规划疫苗接种率均达到90%以上", "S")
TARGETS = (
    *(Target(d.code, 2023, 0.90, TARGET_RATE_SOURCE_2023, region=UNIDENTIFIED_REGION) for d in DOSES),
    *(Target(d.code, 2024, 0.90, TARGET_RATE_SOURCE_2024, region=BAOTOU) for d in DOSES),
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
                       Source(" V3：乡镇级每种疫苗每剂次 ≥ 90% [prov-targets-2023][baotou-2025]", "V"))
PASS_RULES = (V3,)

# V1 建证率 ([nip-2021] V1). The guardian gets the certificate within one month of birth
# (疫苗管理法（2019）第四十七条；疫苗流通和预防接种管理条例: 儿童出生后一个月内办理预防接种证 [B]); children who
# move in get one once they have lived here 3 months (居住满3个月的0～6岁儿童建卡建证, 国家卫生城市标准 [health-city-2021]).
CERTIFICATE_MAX_AGE_YEARS = 6
CERTIFICATE_MONTHS_AFTER_BIRTH = 1
CERTIFICATE_MONTHS_AFTER_ARRIVAL = 3
CERTIFICATE_SOURCE = Source("[nip-2021] V1 [appraisal-server][health-city-2021][B]; 疫苗管理法（2019）第四十七条（出生后一个月内办理"
                            "预防接种证）；国家卫生城市标准（居住满3个月适龄儿童建卡建证率）", "B")
V1 = Indicator("V1", "预防接种建证率", f"{CODE}.has_certificate", f"{CODE}.certificate_due_child",
               DenominatorKind.MANAGED_COHORT, CERTIFICATE_SOURCE, CODE,
               note=f"0–{CERTIFICATE_MAX_AGE_YEARS}岁儿童中出生满{CERTIFICATE_MONTHS_AFTER_BIRTH}个月（迁入者居住满"
                    f"{CERTIFICATE_MONTHS_AFTER_ARRIVAL}个月）者应建证；统计期末前有接种证记录者为已建证")
INDICATORS = (*INDICATORS, V1)

DIRECTION = Comparator.GE

GAP_REASONS = {
    f"missing_{d.key}": GapReason(f"VAC-{d.vaccine}-{d.dose}", f"{d.short}第{d.dose}剂未在{d.deadline_text}接种")
    for d in DOSES
}
GAP_REASONS["no_certificate"] = GapReason("VAC-CERT", "未办理预防接种证（应于 {certificate_deadline} 前办理）")
FLAG_REASONS = {f"vaccinated_{d.key}": (f"missing_{d.key}",) for d in DOSES}
FLAG_REASONS["has_certificate"] = ("no_certificate",)
SCHEDULE = tuple(
    ScheduledService(d.key, f"{d.short}第{d.dose}剂（{d.age_text}）", f"{d.key}_due", gap=f"missing_{d.key}")
    for d in DOSES
) + (ScheduledService("certificate", "办理预防接种证", "certificate_due", gap="no_certificate"),)
