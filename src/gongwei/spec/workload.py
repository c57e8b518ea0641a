"""Workload quantification (工作量): service equivalents (服务当量) per institution and staff member, from the records.

A district bureau asks to "量化…工作量" of each institution and staff member from the records [shangdang-2023] but
gives no weights. One chronic-disease follow-up is the unit (1 当量); the other weights are **local settings**
(本地设定 [U]) to be replaced by the province's own workload standard when one is entered — they rank the services
by the time a visit takes, nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass

from gongwei.spec.rules import Source

LOCAL = Source("服务当量权重（本地设定，按一次服务的大致耗时；量化工作量 [shangdang-2023]）[U]", "U")


@dataclass(frozen=True)
class Weight:
    model: str  # records model name
    name: str
    weight: float
    source: Source = LOCAL

    @property
    def table(self) -> str:
        """The snapshot table holding this service (the exchange table name, snake case of the model's plural)."""
        return SNAPSHOT_TABLE[self.model]


WEIGHTS: tuple[Weight, ...] = (
    Weight("HealthExamination", "健康体检", 2.0),
    Weight("ChronicFollowUp", "慢性病随访", 1.0),
    Weight("SmiFollowUp", "严重精神障碍随访", 1.0),
    Weight("TbFollowUp", "肺结核患者随访", 1.0),
    Weight("NewbornVisit", "新生儿访视", 1.0),
    Weight("ChildCheck", "儿童健康检查", 1.0),
    Weight("PrenatalVisit", "产前检查", 1.0),
    Weight("PostpartumVisit", "产后访视", 1.0),
    Weight("Vaccination", "预防接种", 0.5),
    Weight("TcmConstitution", "老年人中医体质辨识", 0.5),
    Weight("ChildTcmGuidance", "儿童中医药健康指导", 0.5),
    Weight("Consultation", "接诊", 0.3),
)


SNAPSHOT_TABLE: dict[str, str] = {
    "HealthExamination": "health_examinations", "ChronicFollowUp": "chronic_follow_ups",
    "SmiFollowUp": "smi_follow_ups", "TbFollowUp": "tb_follow_ups", "NewbornVisit": "newborn_visits",
    "ChildCheck": "child_checks", "PrenatalVisit": "prenatal_visits", "PostpartumVisit": "postpartum_visits",
    "Vaccination": "vaccinations", "TcmConstitution": "tcm_constitutions", "ChildTcmGuidance": "child_tcm_guidance",
    "Consultation": "consultations",
}

# Workload as an evaluation input (issue 12 §5): a unit's service equivalents per PER_RESIDENTS of its resident
# population (常住人口数, the population base entered for the year), so a large township is not rewarded for its size.
# A scheme's workload leaf either names its own target (equivalents per PER_RESIDENTS) or, without one, is compared
# with the median of the units scored in the round — the bureau's own average practice as the yardstick. Neither
# the normalisation nor the median is in a national text: local settings [U], replaceable per scheme.
PER_RESIDENTS = 1000
POPULATION_GROUP = "resident_population"
RELATIVE_TO_MEDIAN = Source("工作量得分：每千常住人口服务当量与参评单位中位数之比（本地设定；量化工作量 [shangdang-2023]）[U]",
                            "U")


def weights() -> dict[str, Weight]:
    return {w.model: w for w in WEIGHTS}
