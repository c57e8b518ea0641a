"""Modules depend one way (docs/architecture.md): checked on the source, so a wrong import fails CI.

Faces (cli, web, and the Django admin modules, which are faces living beside their models) may import the
application layer; nothing below the application layer imports it or a face.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "gongwei"

# package → gongwei packages it must never import
FORBIDDEN = {
    "spec": {"files", "records", "exchange", "synth", "engine", "quality", "service", "reports", "cli", "web", "jobs", "bulletins"},
    # the snapshot contract, shared by its writer (records) and its reader (engine): it may use files and errors only
    "snapshot_format": {"spec", "records", "exchange", "synth", "engine", "quality", "service", "reports", "cli",
                        "web", "jobs", "bulletins"},
    "files": {"spec", "records", "exchange", "synth", "engine", "quality", "service", "reports", "cli", "web", "jobs", "bulletins"},
    "engine": {"records", "exchange", "synth", "quality", "service", "reports", "cli", "web", "jobs", "bulletins"},
    "records": {"exchange", "synth", "engine", "quality", "service", "reports", "cli", "web", "jobs", "bulletins"},
    "quality": {"exchange", "synth", "service", "reports", "cli", "web", "jobs", "bulletins"},
    "evaluation": {"exchange", "synth", "engine", "quality", "service", "reports", "cli", "web", "jobs", "bulletins"},
    "verification": {"exchange", "synth", "service", "reports", "cli", "web", "jobs", "bulletins"},
    "exchange": {"synth", "engine", "service", "reports", "cli", "web", "jobs", "bulletins"},
    "synth": {"engine", "service", "reports", "cli", "web", "jobs", "bulletins"},
    "service": {"cli", "web"},
    "reports": {"service", "cli", "web", "jobs", "bulletins"},
    "bulletins": {"service", "cli", "web", "jobs", "records", "quality", "exchange", "synth"},
    "cli": {"web"},
    "web": {"cli"},
}
FACE_MODULES = {"admin.py"}  # the Django admin is a face: it may use the application layer


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gongwei."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("gongwei.")}
    return found


def test_modules_depend_one_way():
    wrong = []
    for package, forbidden in FORBIDDEN.items():
        root = SRC / package
        files = [root.with_suffix(".py")] if not root.is_dir() else sorted(root.rglob("*.py"))
        for path in files:
            if "migrations" in path.parts or not path.exists():
                continue
            bad = _imports(path) & forbidden
            if path.name in FACE_MODULES:
                bad -= {"service"}
            if bad:
                wrong.append(f"{path.relative_to(SRC)} imports {sorted(bad)}")
    assert wrong == []


def test_engine_never_imports_django():
    offenders = [str(p.relative_to(SRC)) for p in (SRC / "engine").rglob("*.py")
                 if "django" in {n.split(".")[0] for n in _all_names(p)}]
    assert offenders == []


def _all_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
    return names
