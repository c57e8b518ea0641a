"""健康教育 — health education activities per institution ([spec2017-education] HE).

One state row per primary institution (a township or community health centre, a village clinic or community
health station), at that unit. For each activity kind with a yearly minimum for the institution's class,
``<kind>_due`` marks the institution as bound by it and ``<kind>_met`` says it held at least the required
number of activities in the period. HE indicators are yes/no per institution and, rolled up, the share of
institutions meeting each minimum.

Progress periods pro-rate the minimum by completed months (:func:`required`).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from gongwei.spec.periods import Period
from gongwei.spec.rules import ByYear, DenominatorKind, GapReason, Indicator, Source
from gongwei.spec.vocab import EducationActivityKind as K
from gongwei.spec.vocab import OrgKind

PROGRAM = "education"
V22 = Source("[spec2017-education] 健康教育服务要求（每个机构每年）[spec2017-education]", "V")


class InstitutionClass(StrEnum):
    CENTRE = "centre"    # 乡镇卫生院 / 社区卫生服务中心
    STATION = "station"  # 村卫生室 / 社区卫生服务站


INSTITUTION_CLASS = {
    OrgKind.TOWNSHIP_HEALTH_CENTRE.value: InstitutionClass.CENTRE,
    OrgKind.COMMUNITY_HEALTH_CENTRE.value: InstitutionClass.CENTRE,
    OrgKind.VILLAGE_CLINIC.value: InstitutionClass.STATION,
    OrgKind.COMMUNITY_STATION.value: InstitutionClass.STATION,
}

# Yearly minimums per institution class and activity kind [spec2017-education]:
# printed materials ≥ 12 kinds (each institution); audio-visual ≥ 6 kinds (centres); bulletin-board content
# updated at least once every 2 months → ≥ 6 updates a year (centres ≥ 2 boards, stations ≥ 1: the number of
# boards is not in the records); lectures ≥ 1 a month (centres, 12) or every 2 months (stations, 6);
# public consultation events ≥ 9 a year on health theme days (centres) [B].
# One printed-material activity record counts as one kind (a pamphlet is one kind whatever it covers [spec2017-education]).
MINIMUMS = ByYear({2017: {
    InstitutionClass.CENTRE: {K.PRINTED.value: 12, K.AUDIO_VISUAL.value: 6, K.BOARD.value: 6, K.LECTURE.value: 12,
                              K.CONSULTATION.value: 9},
    InstitutionClass.STATION: {K.PRINTED.value: 12, K.BOARD.value: 6, K.LECTURE.value: 6},
}})
CONSULTATION_SOURCE = Source("[spec2017-education] 公众健康咨询活动 ≥9次/年 [B]", "B")
KINDS = (K.PRINTED.value, K.AUDIO_VISUAL.value, K.BOARD.value, K.LECTURE.value, K.CONSULTATION.value)
UNITS = {K.PRINTED.value: "种", K.AUDIO_VISUAL.value: "种", K.BOARD.value: "次", K.LECTURE.value: "次",
         K.CONSULTATION.value: "次"}
MONTHS_PER_YEAR = 12


def completed_months(period: Period) -> int:
    """Months of the year completed at the period end (a full year: 12; to 30 June: 6; to 15 June: 5)."""
    next_day = period.end + dt.timedelta(days=1)  # a month is complete when its last day is in the period
    return MONTHS_PER_YEAR if next_day.year > period.end.year else next_day.month - 1


def required(minimum: int, period: Period) -> int:
    """The yearly minimum pro-rated to the completed months of a progress period (integer division) [I]."""
    return minimum * completed_months(period) // MONTHS_PER_YEAR


_NAMES = {
    K.PRINTED.value: ("HE1", "印刷资料种类达标率", "每年提供不少于12种印刷资料"),
    K.AUDIO_VISUAL.value: ("HE2", "音像资料种类达标率", "乡镇卫生院、社区卫生服务中心每年播放不少于6种音像资料"),
    K.BOARD.value: ("HE3", "宣传栏更新达标率", "宣传栏每2个月至少更新1次"),
    K.LECTURE.value: ("HE4", "健康知识讲座达标率", "乡镇卫生院、社区卫生服务中心每月至少1次，村卫生室、社区卫生服务站每2个月至少1次"),
    K.CONSULTATION.value: ("HE5", "公众健康咨询活动达标率", "乡镇卫生院、社区卫生服务中心每年至少9次 [B]"),
}

INDICATORS = tuple(
    Indicator(code, name, f"education.{kind}_met", f"education.{kind}_due", DenominatorKind.EVENTS,
              CONSULTATION_SOURCE if kind == K.CONSULTATION.value else V22, PROGRAM,
              note=f"达到最低要求（{rule}，进度期按已过月份折算）的机构数 / 应开展的机构数；单个机构为是/否")
    for kind, (code, name, rule) in _NAMES.items()
)
TARGETS = ()  # the minimums are the requirement: every institution is expected to meet them

GAP_REASONS = {
    f"{kind}_below": GapReason(f"HE-{kind.upper()}",
                               f"{K(kind).zh} {{{kind}_count}} {UNITS[kind]}，少于应达到的 {{{kind}_required}} {UNITS[kind]}")
    for kind in KINDS
}
FLAG_REASONS = {f"{kind}_met": (f"{kind}_below",) for kind in KINDS}
SCHEDULE = ()
