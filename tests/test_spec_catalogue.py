import importlib.util
import shutil
from pathlib import Path

from gongwei.spec import catalogue
from gongwei.spec.rules import UNIDENTIFIED_REGION
from gongwei.spec.target_sources import S0, S4, V28
from gongwei.synth.config import SynthConfig


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


def test_local_target_lists_are_keyed_to_their_region():
    """Only national figures are region-less: a province's or city's list ([city-rectification-2023] = 广东, [baotou-2025] = 包头,
    the unidentified provincial list [prov-targets-2023]) never serves as the default for everyone."""
    book = catalogue.targets().targets
    local = {S0: {"44"}, S4: {"1502", "150200000000"}, V28: {UNIDENTIFIED_REGION}}
    for t in book:
        for title, regions in local.items():
            if title in t.source.ref:
                assert t.region in regions, t
        if t.national:
            assert not any(word in t.source.ref for word in ("一省", "某省", "省目标", "seed", "包头", "典型")), t


def test_targets_resolve_by_own_region_and_year():
    book = catalogue.targets()
    baotou_township, baotou_2024 = "150203100000", 2024
    assert book.resolve("H2", baotou_2024, baotou_township).value == 0.64  # [baotou-2025]
    assert book.resolve("H2", 2023, baotou_township) is None  # Baotou's list starts in 2024
    assert book.resolve("E2", 2023, "440802100000").value == 0.62  # [city-rectification-2023], 广东省目标值
    assert book.resolve("E2", 2023, "360426100000") is None  # not Guangdong's for a Jiangxi unit
    assert book.resolve("H1", 2025, "360426100000").value == 0.30  # early national figure [htn-dm-formulas-old]
    # the unidentified provincial list applies nowhere, not even where nothing else exists
    assert all(book.resolve(t.indicator, 2030, code) is not t for t in book.targets
               if t.region == UNIDENTIFIED_REGION for code in ("", "360426100000", "440802100000"))


def test_demo_region_gets_only_its_own_or_national_targets():
    """The synthetic region (甘肃省平凉市 by default) never borrows Baotou's or Guangdong's targets: where neither
    Gansu, Pingliang nor the nation set one, the figure shows 无目标."""
    cfg = SynthConfig()
    unit = cfg.city_code + "02100000"
    book = catalogue.targets()
    for code in catalogue.indicators():
        for year in (2023, 2024, 2025):
            t = book.resolve(code, year, unit.ljust(12, "0"))
            assert t is None or t.region in ("", cfg.province_code, cfg.city_code), (code, year, t)
    assert book.resolve("H2", 2024, unit) is None and book.resolve("V2.MMR.1", 2025, unit) is None


def test_indicator_codes_are_found_in_any_case():
    assert catalogue.canonical_code("h2") == "H2"
    assert catalogue.canonical_code(" v2.dtap.1 ") == "V2.DTaP.1"
    assert catalogue.canonical_code("f4-child") == "F4-CHILD"
    assert catalogue.canonical_code("H99") is None
