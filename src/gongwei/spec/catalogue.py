"""The indicator catalogue and targets: every program module's INDICATORS and TARGETS, in one place."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from types import ModuleType

from gongwei.spec.programs import hypertension
from gongwei.spec.rules import Indicator, TargetBook

PROGRAM_MODULES: tuple[ModuleType, ...] = (hypertension,)


@cache
def indicators() -> dict[str, Indicator]:
    out: dict[str, Indicator] = {}
    for module in PROGRAM_MODULES:
        for ind in module.INDICATORS:
            if ind.code in out:
                raise ValueError(f"indicator code {ind.code} declared twice")
            out[ind.code] = ind
    return out


@cache
def targets() -> TargetBook:
    return TargetBook(tuple(t for module in PROGRAM_MODULES for t in module.TARGETS))


@cache
def rulebook_version() -> str:
    """A content hash of the rulebook's source: results are stored under it, so figures stay reproducible."""
    digest = hashlib.sha256()
    root = Path(__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return "spec-" + digest.hexdigest()[:10]
