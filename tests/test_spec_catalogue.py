import importlib.util
import shutil
from pathlib import Path

from gongwei.spec import catalogue


def test_every_indicator_names_a_source_and_every_target_an_indicator():
    inds = catalogue.indicators()
    assert inds
    for ind in inds.values():
        assert ind.source.ref and ind.name
    for t in catalogue.targets().targets:
        assert t.indicator in inds, t


def _version_of_copy(root: Path) -> str:
    """rulebook_version() of a copy of the rulebook at ``root`` (the function hashes its own package folder)."""
    loader = importlib.util.spec_from_file_location("rulebook_copy_catalogue", root / "catalogue.py")
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    return module.rulebook_version()


def test_rulebook_version_follows_the_rulebook_content(tmp_path):
    spec_dir = Path(catalogue.__file__).parent
    copy = tmp_path / "spec"
    shutil.copytree(spec_dir, copy, ignore=shutil.ignore_patterns("__pycache__"))
    original = catalogue.rulebook_version()
    assert original.startswith("spec-") and _version_of_copy(copy) == original
    # one character of one rule changes the version under which results are stored
    rule = copy / "programs" / "education.py"
    text = rule.read_text(encoding="utf-8")
    rule.write_text(text.replace("floor", "ceil", 1) if "floor" in text else text + "\n# changed\n", encoding="utf-8")
    changed = _version_of_copy(copy)
    assert changed.startswith("spec-") and changed != original
    # a file added to the rulebook counts too
    rule.write_text(text, encoding="utf-8")
    assert _version_of_copy(copy) == original
    (copy / "programs" / "extra.py").write_text("X = 1\n", encoding="utf-8")
    assert _version_of_copy(copy) != original
