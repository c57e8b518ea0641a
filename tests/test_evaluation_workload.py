"""Workload as an evaluation input (issue 12 §5): a scheme leaf scored from the service equivalents per 1,000
residents that the round's frozen snapshot holds (engine.workload), against the leaf's target or the median of the
units scored — hand-worked on the small region."""

from __future__ import annotations

import datetime as dt

import pytest

from gongwei.engine import workload as engine_workload
from gongwei.engine.orgs import OrgTree
from gongwei.records import models as m
from gongwei.service import evaluation as sev
from gongwei.service import snapshots
from gongwei.spec import evaluation as se
from gongwei.spec import workload as spec_workload
from gongwei.spec.evaluation import Item, Method, Scheme
from gongwei.spec.rules import Source
from tests.web_fixtures import make_region

SRC = Source("test scheme [U]", "U")
COUNTY, PUTING, GAOTANG = "360426000000", "360426100000", "360426200000"


def _scheme(target):
    return Scheme("w-2024", "工作量测试方案", 2024, 100, source=SRC, items=(
        Item("A", "组织管理", 90, source=SRC, children=(
            Item("A1", "培训督导", 90, method=Method.MANUAL, source=SRC),)),
        Item("W", "工作量", 10, method=Method.PROPORTIONAL_TO_TARGET, workload=True, target=target, source=SRC),
    ))


def _prepare(made):
    # The small region: one hypertension follow-up per resident on 2024-03-01, 3 residents per village, two villages
    # per township. One of 高塘's follow-ups is voided (it must not count); 蒲亭 also had a follow-up in 2023 (not in
    # the period). Resident population 2024: 蒲亭 2,000, 高塘 1,000 (entered per township).
    gaotang_fu = m.ChronicFollowUp.objects.filter(org_unit__path__startswith=m.OrgUnit.objects.get(code=GAOTANG).path)
    m.ChronicFollowUp.objects.filter(pk=gaotang_fu.order_by("pk").first().pk).update(is_void=True)
    m.ChronicFollowUp.objects.filter(pk=m.ChronicFollowUp.objects.filter(org_unit__code="360426100201")
                                     .order_by("pk").first().pk).update(service_date=dt.date(2023, 12, 31))
    for code, value in ((PUTING, 2000), (GAOTANG, 1000)):
        m.PopulationBase.objects.create(org_unit=m.OrgUnit.objects.get(code=code), year=2024,
                                        group=spec_workload.POPULATION_GROUP, value=value, source="statistics")


@pytest.fixture
def region(db, fast_passwords):
    return make_region(prepare=_prepare)


def _score(made, monkeypatch, target):
    monkeypatch.setattr(se, "SCHEMES", (*se.SCHEMES, _scheme(target)))
    se.schemes.cache_clear()
    ev = sev_actor(made)
    rnd = sev.create_round(ev, "w-2024", 2024, "year_end", COUNTY)
    for org in (PUTING, GAOTANG):
        sev.set_manual(ev, rnd.pk, org, "A1", 90, "齐全")
    sev.score_round(ev, rnd.pk)
    report = sev.round_report(ev, rnd.pk)
    se.schemes.cache_clear()
    return {r.code: r for r in report.rows}


def sev_actor(made):
    from gongwei.service import access

    return access.for_user(made["users"]["ev"])


def test_equivalents_come_from_the_frozen_snapshot(region):
    snap = snapshots.open_snapshot(region["snapshot"].folder)
    tree = OrgTree.load(snap)
    got = engine_workload.equivalents(snap, tree, dt.date(2024, 1, 1), dt.date(2024, 12, 31), spec_workload.WEIGHTS)
    by = dict(zip([tree.code[i] for i in got.column("org_unit_id").to_pylist()],
                  got.column("equivalents").to_pylist(), strict=True))
    w = spec_workload.weights()["ChronicFollowUp"].weight
    # 蒲亭: 6 follow-ups, one dated 2023 → 5; 高塘: 6, one voided → 5; the county 10
    assert (by[PUTING], by[GAOTANG], by[COUNTY]) == (5 * w, 5 * w, 10 * w)
    # a service saved after the snapshot does not move a round frozen on it
    m.ChronicFollowUp.objects.filter(org_unit__code="360426100201").update(service_date=dt.date(2024, 5, 1))
    again = engine_workload.equivalents(snap, tree, dt.date(2024, 1, 1), dt.date(2024, 12, 31), spec_workload.WEIGHTS)
    assert again.equals(got)


def test_workload_leaf_against_the_median_of_the_scored_units(region, monkeypatch):
    rows = _score(region, monkeypatch, None)
    w = spec_workload.weights()["ChronicFollowUp"].weight
    # per 1,000 residents: 蒲亭 5 / 2,000 × 1,000 = 2.5; 高塘 5 / 1,000 × 1,000 = 5.0; the median of {2.5, 5.0} = 3.75
    # 蒲亭 2.5 / 3.75 × 10 = 6.6667 points; 高塘 at or above the median: all 10
    puting, gaotang = rows[PUTING].items["W"], rows[GAOTANG].items["W"]
    assert puting.points == pytest.approx(10 * (2.5 * w) / (3.75 * w), abs=1e-4)
    assert gaotang.points == 10
    assert puting.evidence["per_thousand"] == 2.5 * w and puting.evidence["target"] == 3.75 * w
    assert puting.evidence["population"] == 2000 and puting.evidence["services"] == 5
    assert "低于参评单位中位数" in puting.reason and gaotang.reason == ""
    assert rows[PUTING].score.score == round(90 + 20 / 3, 2)  # scores are kept to 2 decimals


def test_workload_leaf_against_its_own_target_and_without_a_population(region, monkeypatch):
    m.PopulationBase.objects.filter(org_unit__code=GAOTANG).delete()  # the database only: the round is frozen
    rows = _score(region, monkeypatch, 2.0)
    assert rows[PUTING].items["W"].points == 10  # 2.5 ≥ 2.0
    # the snapshot still holds 高塘's population (frozen before the delete): scored, 5.0 ≥ 2.0
    assert rows[GAOTANG].items["W"].points == 10


def test_a_unit_without_a_population_base_is_not_scored_on_workload(db, fast_passwords, monkeypatch):
    def prepare(made):
        _prepare(made)
        m.PopulationBase.objects.filter(org_unit__code=GAOTANG).delete()

    made = make_region(prepare=prepare)
    rows = _score(made, monkeypatch, None)
    gaotang = rows[GAOTANG].items["W"]
    assert gaotang.status == "no_denominator" and "未录入常住人口数" in gaotang.reason
    # the median is 蒲亭's own 2.5: full points; 高塘's total is rescaled over its 90 applicable points
    assert rows[PUTING].items["W"].points == 10
    assert rows[GAOTANG].score.score == pytest.approx(100.0)


def test_a_workload_leaf_is_checked_like_any_other():
    bad = Scheme("w-bad", "x", 2024, 10, source=SRC, items=(
        Item("W", "工作量", 10, method=Method.YES_NO, workload=True, indicator="H2", target=-1, source=SRC),))
    found = "；".join(se.problems(bad))
    assert "按工作量评分只适用于" in found and "不与指标" in found and "应大于 0" in found
    assert se.problems(_scheme(None)) == []
    assert any(i.workload for i in se.scheme("district-2023").leaves())  # the shipped district scheme uses it


def test_every_weighted_service_is_a_snapshot_table():
    from gongwei.snapshot_format import EXCHANGE_TABLES

    assert {w.table for w in spec_workload.WEIGHTS} <= set(EXCHANGE_TABLES)
    assert set(spec_workload.SNAPSHOT_TABLE) == {w.model for w in spec_workload.WEIGHTS}


def test_an_evaluator_sets_a_workload_target_in_equivalents_not_percent(region):
    ev = sev_actor(region)
    mine = sev.copy_scheme(ev, "district-2023", COUNTY, 2024)
    sev.edit_scheme(ev, mine.code, {"B12.target": "150", "B11.target": "80"}, expected_version=1)
    _, built = sev.regional_scheme(ev, mine.code)
    # 150 equivalents per 1,000 residents stays 150; a rate leaf's 80 (%) becomes 0.8
    assert (built.item("B12").target, built.item("B11").target) == (150, 0.8)
