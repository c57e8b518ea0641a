"""Shared reading of catalogue results in the engine tests."""

from __future__ import annotations

from gongwei.engine.orgs import OrgTree


def by_code(eng, results) -> dict[tuple[str, str], tuple[int, int | None]]:
    """(indicator, unit code) → (numerator, denominator)."""
    tree = OrgTree.load(eng.snapshot)
    return {(r["indicator"], tree.code[r["org_unit_id"]]): (r["numerator"], r["denominator"])
            for r in results.to_pylist()}
