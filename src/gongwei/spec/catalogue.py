"""The indicator catalogue and targets: every program module's INDICATORS and TARGETS, in one place."""

from __future__ import annotations

import hashlib
import importlib
import pkgutil
from functools import cache
from pathlib import Path
from types import ModuleType

from gongwei.spec import programs
from gongwei.spec.rules import Indicator, TargetBook


def _program_modules() -> tuple[ModuleType, ...]:
    """Every module in ``gongwei.spec.programs`` (adding a program = adding a file)."""
    names = sorted(m.name for m in pkgutil.iter_modules(programs.__path__))
    return tuple(importlib.import_module(f"{programs.__name__}.{n}") for n in names)


PROGRAM_MODULES: tuple[ModuleType, ...] = _program_modules()


@cache
def indicators() -> dict[str, Indicator]:
    out: dict[str, Indicator] = {}
    for module in PROGRAM_MODULES:
        for ind in getattr(module, "INDICATORS", ()):
            if ind.code in out:
                raise ValueError(f"indicator code {ind.code} declared twice")
            out[ind.code] = ind
    return out


@cache
def targets() -> TargetBook:
    return TargetBook(tuple(t for module in PROGRAM_MODULES for t in getattr(module, "TARGETS", ())))


def source_digest(root: Path) -> str:
    """SHA-256 over the names and contents of the Python files under ``root`` (hex)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def canonical_code(code: str) -> str | None:
    """The catalogue's spelling of an indicator code typed in any case (``h2`` → ``H2``, ``v2.dtap.1`` →
    ``V2.DTaP.1``); None when there is no such indicator."""
    wanted = code.strip().casefold()
    return next((c for c in indicators() if c.casefold() == wanted), None)


@cache
def rulebook_version() -> str:
    """A content hash of the rulebook's source: results are stored under it, so figures stay reproducible."""
    return "spec-" + source_digest(Path(__file__).parent)[:10]
