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


def weights() -> dict[str, Weight]:
    return {w.model: w for w in WEIGHTS}
