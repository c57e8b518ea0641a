"""Which evaluator computes each program's state table, with a per-engine cache."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import ibis

from gongwei.engine.backends import Engine
from gongwei.engine.programs import chronic
from gongwei.spec.periods import Period
from gongwei.spec.programs import hypertension

Evaluator = Callable[[Engine, ModuleType, Period], ibis.Table]

PROGRAMS: dict[str, tuple[Evaluator, ModuleType]] = {
    "hypertension": (chronic.evaluate, hypertension),
}


def state(eng: Engine, program: str, period: Period) -> ibis.Table:
    if program not in PROGRAMS:
        raise KeyError(f"没有项目 {program} 的计算规则")
    evaluator, spec = PROGRAMS[program]
    return evaluator(eng, spec, period)
