"""docs/import-format.md cannot drift from the schema the importer validates with."""

from __future__ import annotations

import re

from gongwei.exchange import docgen
from gongwei.exchange.importer import RULE_NAMES
from gongwei.records import entry
from gongwei.records.schema import tables


def _doc() -> str:
    return docgen.DOC.read_text(encoding="utf-8")


def test_generated_reference_is_current():
    doc = _doc()
    assert docgen.splice(doc, docgen.render()) == doc, (
        "docs/import-format.md is out of date: run `python -m gongwei.exchange.docgen`")


def test_every_table_and_column_is_documented():
    doc = _doc()
    for name, table in tables().items():
        section = doc.split(f"#### {name}\n", 1)[1].split("\n#### ", 1)[0]
        documented = re.findall(r"^\| `([a-z_0-9]+)` \|", section, flags=re.M)
        assert documented == table.column_names, name


def test_every_rule_is_documented():
    doc = _doc()
    for rule in entry.RULE_MESSAGES:
        assert f"| `{rule}` |" in doc, rule
        assert rule in RULE_NAMES, rule
