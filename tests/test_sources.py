"""Every citation names a key defined in docs/sources.md, and nothing cites material outside the repository."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType

import pytest

import gongwei.spec
from gongwei.spec.reference import Figure
from gongwei.spec.rules import ByYear, Source

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "docs" / "sources.md"
KEY = re.compile(r"\[([a-z][a-z0-9-]*)\]")  # keys start with a letter; "[0-9]" in a pattern is no key
# The team's research notes live outside the repository; naming them is no citation a reader can follow.
OUTSIDE = re.compile("|".join(re.escape(s) for s in (
    "domain-" + "spec.md", "data-" + "quality.md", "anchors" + ".md", "shared/" + "seeds", "shared/" + "domain",
)) + r"|seeds? 00\d|\[[VS] \d+[a-d]?\]")


def defined_keys() -> list[str]:
    return re.findall(r"^\| `([a-z][a-z0-9-]*)` \|", SOURCES.read_text(encoding="utf-8"), re.M)


def spec_modules() -> list[ModuleType]:
    return [importlib.import_module(m.name)
            for m in pkgutil.walk_packages(gongwei.spec.__path__, "gongwei.spec.")]


def citations(obj: object, seen: set[int]) -> Iterator[tuple[str, str]]:
    """(where, text) for every Source and reference Figure reachable from ``obj``."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, Source):
        yield repr(obj), obj.ref
    elif isinstance(obj, Figure):
        yield repr(obj), obj.source
    elif isinstance(obj, ByYear):
        yield from citations(obj.values, seen)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            yield from citations(getattr(obj, f.name), seen)
    elif isinstance(obj, Mapping):
        for v in obj.values():
            yield from citations(v, seen)
    elif isinstance(obj, tuple | list | set | frozenset):
        for v in obj:
            yield from citations(v, seen)


def all_citations() -> list[tuple[str, str]]:
    seen: set[int] = set()
    found = []
    for module in spec_modules():
        for name, value in vars(module).items():
            if not name.startswith("__"):
                found += [(f"{module.__name__}.{name}: {where}", text) for where, text in citations(value, seen)]
    return found


def test_sources_page_defines_each_key_once() -> None:
    keys = defined_keys()
    assert len(keys) > 50
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)


def test_rulebook_reaches_its_citations() -> None:
    # the walk itself must see the rulebook: indicators, targets, QC rules, reference figures
    texts = [t for _, t in all_citations()]
    assert len(texts) > 250


def test_every_citation_names_a_defined_key() -> None:
    keys = set(defined_keys())
    problems = []
    for where, text in all_citations():
        cited = KEY.findall(text)
        if not cited:
            problems.append(f"no key: {where}")
        problems += [f"undefined key [{k}]: {where}" for k in cited if k not in keys]
    assert not problems, "\n".join(problems[:40])


@pytest.mark.parametrize("folder", ["src", "docs", "tests"])
def test_nothing_cites_material_outside_the_repository(folder: str) -> None:
    hits = []
    for path in sorted((ROOT / folder).rglob("*")):
        if path.suffix not in {".py", ".md", ".html", ".txt"} or path == Path(__file__).resolve():
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if OUTSIDE.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()[:120]}")
    assert not hits, "\n".join(hits[:40])


def test_generated_docs_cite_only_defined_keys() -> None:
    keys = set(defined_keys())
    for name in ("indicators.md", "quality.md"):
        text = (ROOT / "docs" / name).read_text(encoding="utf-8")
        cited = {k for k in KEY.findall(text)}
        assert cited, name
        assert cited <= keys, (name, sorted(cited - keys))
