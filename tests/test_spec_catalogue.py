from gongwei.spec import catalogue


def test_every_indicator_names_a_source_and_every_target_an_indicator():
    inds = catalogue.indicators()
    assert inds
    for ind in inds.values():
        assert ind.source.ref and ind.name
    for t in catalogue.targets().targets:
        assert t.indicator in inds, t


def test_rulebook_version_is_stable_within_a_build():
    assert catalogue.rulebook_version() == catalogue.rulebook_version()
    assert catalogue.rulebook_version().startswith("spec-")
