"""Which evaluator computes each program's state table.

Each module in ``gongwei.engine.programs`` declares ``PROGRAMS``: a mapping from program code to the
rulebook module it evaluates (adding a program = adding a file). Its ``evaluate(engine, spec, period)``
returns the per-person state table.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from functools import cache
from types import ModuleType

import ibis

from gongwei.engine import programs
from gongwei.engine.backends import Engine
from gongwei.spec.periods import Period

Evaluator = Callable[..., ibis.Table]  # (engine, spec module, period, units=None) -> state table


@cache
def evaluators() -> dict[str, tuple[Evaluator, ModuleType]]:
    out: dict[str, tuple[Evaluator, ModuleType]] = {}
    for info in sorted(pkgutil.iter_modules(programs.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{programs.__name__}.{info.name}")
        for code, spec in getattr(module, "PROGRAMS", {}).items():
            if code in out:
                raise ValueError(f"program {code} has two evaluators")
            out[code] = (module.evaluate, spec)
    return out


def state(eng: Engine, program: str, period: Period, units: list[int] | None = None) -> ibis.Table:
    """The per-person state table of ``program`` for ``period``, for all people or those managed by
    ``units`` (cached per engine)."""
    key = (program, period.code, hash(tuple(units)) if units is not None else None)
    cached = eng.states.get(key)
    if cached is not None:
        return cached
    table = evaluators().get(program)
    if table is None:
        raise KeyError(f"没有项目 {program} 的计算规则")
    evaluator, spec = table
    result = evaluator(eng, spec, period, units=units)
    eng.states[key] = result
    return result
