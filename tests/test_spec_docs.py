"""docs/indicators.md cannot drift from the rulebook, and every indicator the rulebook declares is in it."""

from __future__ import annotations

from gongwei.spec import catalogue, docgen


def test_indicator_reference_is_current():
    assert docgen.DOC.read_text(encoding="utf-8") == docgen.render(), (
        "docs/indicators.md is out of date: run `python -m gongwei.spec.docgen`")


def test_every_indicator_is_listed_with_its_source():
    doc = docgen.DOC.read_text(encoding="utf-8")
    for code, ind in catalogue.indicators().items():
        row = next(line for line in doc.splitlines() if line.startswith(f"| {code} |"))
        assert str(ind.source) in row, code
