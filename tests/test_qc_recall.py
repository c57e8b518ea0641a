"""Recall and precision of the labelled QC rules on a synthetic region (gongwei.benchmarks.quality.compare):
every rule that answers an injected problem finds at least 95 % of the labelled rows, and at least 95 % of what
it flags is labelled. Rules not implemented yet are left out of the comparison (and named in the benchmark)."""

from __future__ import annotations

import datetime as dt

import pytest

from gongwei.benchmarks.quality import RULE_LABELS, compare, evaluation_period
from gongwei.engine.backends import Engine
from gongwei.engine.quality import evaluate, evaluators
from gongwei.engine.snapshot import Snapshot
from gongwei.records.snapshot import take_snapshot
from gongwei.synth.generate import generate_region
from gongwei.synth.load import load_region
from tests.ci_policy import not_available

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 6, 30)
OURS = {"F-01", "F-03", "F-03b", "F-10", "T-03", "T-03b"}  # temporal and fabrication rules with labels


@pytest.fixture(scope="module")
def scores(tmp_path_factory, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        region = generate_region(25_000, seed=5, as_of=AS_OF)
        load_region(region, progress=False)
        snap = Snapshot.open(take_snapshot(tmp_path_factory.mktemp("snap")))
        eng = Engine(snap, "duckdb")
        period = evaluation_period(AS_OF)
        codes = [rule for rule, _, _ in RULE_LABELS if rule in evaluators()]
        yield {s.rule: s for s in compare(eng, region.labels, evaluate(eng, period, codes), period)}
        from django.core.management import call_command

        call_command("flush", interactive=False, verbosity=0)


def test_every_implemented_labelled_rule_is_compared(scores):
    assert set(scores) >= OURS
    assert set(scores) == {rule for rule, _, _ in RULE_LABELS if rule in evaluators()}


@pytest.mark.parametrize("rule", [rule for rule, _, _ in RULE_LABELS])
def test_recall_and_precision(scores, rule):
    if rule not in evaluators():
        not_available(f"质控规则 {rule} 没有注册的评估器，无法计算查全率")
    s = scores[rule]
    assert s.labelled > 0, f"{rule}: no {s.label} label in the period"
    assert s.recall >= 0.95, (rule, s)
    assert s.precision >= 0.95, (rule, s)
