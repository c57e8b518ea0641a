"""The plain-Python oracle reads only the rulebook's parameters; everything else it works out itself.

If the oracle called the rulebook's helpers (pro-rating, reference dates, required counts), a wrong helper would be
wrong on both sides of tests/test_engine_crosscheck.py and pass unnoticed.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

PLAIN = Path(__file__).parent / "plain"


def helper_calls(path: Path) -> list[str]:
    """``module.function(...)`` calls in ``path`` where ``module`` is a rulebook module and ``function`` one of
    its functions (classes — enums, value types — and methods of parameters such as ``ByYear.for_year`` are data)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gongwei.spec"):
            for name in node.names:
                full = f"{node.module}.{name.name}"
                try:
                    importlib.import_module(full)
                except ModuleNotFoundError:
                    continue
                aliases[name.asname or name.name] = full
    calls = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id in aliases):
            module = importlib.import_module(aliases[node.func.value.id])
            target = getattr(module, node.func.attr, None)
            if inspect.isfunction(target):
                calls.append(f"{path.name}:{node.lineno}: {node.func.value.id}.{node.func.attr}()")
    return calls


def test_the_plain_oracle_calls_no_rulebook_helper():
    calls = [c for path in sorted(PLAIN.glob("*.py")) for c in helper_calls(path)]
    assert not calls, "\n".join(calls)


def test_the_check_sees_a_helper_call(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from gongwei.spec.programs import education\n"
                     "x = education.MINIMUMS.for_year(2025)\n"
                     "y = education.required(12, None)\n", encoding="utf-8")
    assert helper_calls(probe) == ["probe.py:3: education.required()"]
