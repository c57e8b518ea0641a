"""Samples and verification through the application layer (issue 13 §1–3, ADR 027): a sample kept with its
frame, re-drawn identically, a changed frame detected; tasks assigned with separation of duties; outcomes change
the verified rate, raise findings in the rectification ledger, and the evaluation reads them per unit."""

from __future__ import annotations

import pyarrow as pa
import pytest

from gongwei.cli.main import main
from gongwei.quality.models import Finding, FindingStatus
from gongwei.records import entry
from gongwei.service import access, snapshots, verification
from gongwei.service.errors import BadRequest, Refused
from gongwei.spec.sampling import sample_size
from gongwei.verification.models import Sample, SampleItem, TaskOutcome, VerificationTask
from tests.web_fixtures import COUNTY, OTHER_TOWNSHIP, TOWNSHIP, make_region

pytestmark = pytest.mark.django_db


@pytest.fixture
def region(settings, tmp_path, fast_passwords):
    settings.DATA_DIR = tmp_path
    return make_region(periods=("2024",), codes=["H2", "H3"])


def as_login(made, username: str) -> access.Actor:
    return access.for_user(made["users"][username], address="127.0.0.1", path="/test")


def test_a_sample_keeps_its_frame_and_is_reproduced(region):
    op = region["operator"]
    v = verification.draw(op, "h2", COUNTY, "2024", part="denominator", size=5, seed=20240601)
    s = Sample.objects.get(sample_no=v.sample_no)
    # the 12 hypertension patients under management in the county, ordered by record number
    assert (s.frame_size, s.size, s.seed, s.method) == (12, 5, 20240601, "interval")
    assert s.frame["source"] == "snapshot" and s.snapshot_id == region["snapshot"].id
    assert s.interval == pytest.approx(12 / 5) and 0 <= s.random_start < 12 / 5
    nos = sorted(region["residents"])
    assert [r.record_no for r in v.items] == [nos[int(s.random_start + i * 12 / 5)] for i in range(5)]
    assert [r.frame_index for r in v.items] == [int(s.random_start + i * 12 / 5) for i in range(5)]
    assert VerificationTask.objects.filter(item__sample=s, outcome="").count() == 5
    # the same frame and seed give the same items
    check = verification.check(op, v.sample_no)
    assert check.same and "可复现" in check.message
    again = verification.draw(op, "H2", COUNTY, "2024", part="denominator", size=5, seed=20240601)
    assert [r.record_no for r in again.items] == [r.record_no for r in v.items]
    assert again.frame_hash == v.frame_hash and again.sample_no != v.sample_no


def test_a_changed_frame_is_detected_by_its_hash(region):
    op = region["operator"]
    v = verification.draw(op, "H2", COUNTY, "2024", part="denominator", size=4, seed=7)
    # a new hypertension patient is registered; the next snapshot holds 13 people
    entry.submit({
        "residents": pa.table({"record_no": ["36042610020100099"], "name": ["新患者"], "sex": ["1"],
                               "birth_date": ["1960-05-05"], "id_type": ["01"], "id_number": [""],
                               "managing_unit": ["360426100201"], "residence_type": ["1"]}),
        "enrollments": pa.table({"enrollment_no": ["E-new"], "resident": ["36042610020100099"],
                                 "program": ["hypertension"], "org_unit": ["360426100201"],
                                 "start_date": ["2023-06-01"]}),
    }, actor="test", kind="test")
    later = snapshots.take()
    check = verification.check(op, v.sample_no, snapshot=str(later.folder))
    assert not check.same and check.frame_size == 13
    assert "抽样框已变化" in check.message and "12 人" in check.message and "13 人" in check.message
    # its own snapshot still reproduces it
    assert verification.check(op, v.sample_no).same


def test_stratified_by_child_unit_and_sized_by_precision(region):
    v = verification.draw(region["operator"], "H2", COUNTY, "2024", method="stratified", part="denominator",
                          seed=3)
    assert v.size == sample_size(12) == 12  # ± 5 % at 95 % on 12 people: everybody
    assert v.size_rule["kind"] == "precision" and v.size_rule["margin"] == 0.05
    assert v.allocation == {TOWNSHIP: 6, OTHER_TOWNSHIP: 6}
    small = verification.draw(region["operator"], "H2", COUNTY, "2024", method="stratified", part="denominator",
                              size=4, seed=3)
    assert small.allocation == {TOWNSHIP: 2, OTHER_TOWNSHIP: 2}
    assert {r.stratum for r in small.items} == {TOWNSHIP, OTHER_TOWNSHIP}
    assert verification.check(region["operator"], small.sample_no).same


def test_bad_requests_are_refused_in_chinese_and_write_nothing(region):
    op = region["operator"]
    with pytest.raises(BadRequest, match="抽样框为空"):
        verification.draw(op, "H2", COUNTY, "2024")  # nobody met the standardized-management rule in 2024
    with pytest.raises(BadRequest, match="样本量 13 无效"):
        verification.draw(op, "H2", COUNTY, "2024", part="denominator", size=13)
    with pytest.raises(BadRequest, match="无法逐人抽样"):
        verification.draw(op, "H1", COUNTY, "2024")
    with pytest.raises(BadRequest, match="指标“X9”无效"):
        verification.draw(op, "X9", COUNTY, "2024")
    with pytest.raises(Refused):
        verification.draw(as_login(region, "vd"), "H2", "360426100201", "2024", part="denominator")
    with pytest.raises(Refused):
        verification.draw(as_login(region, "ts"), "H2", OTHER_TOWNSHIP, "2024", part="denominator")
    assert Sample.objects.count() == 0 and SampleItem.objects.count() == 0


def test_assign_record_rates_findings_and_the_evaluation(region):
    sup = as_login(region, "sup")
    v = verification.draw(sup, "H2", COUNTY, "2024", part="denominator", size=6, seed=11)
    # a village doctor may not verify; a township may verify only its villages (separation of duties)
    with pytest.raises(BadRequest, match="角色不能承担核查"):
        verification.assign(sup, v.sample_no, "vd", "phone")
    other = [r.position for r in v.items if r.stratum == OTHER_TOWNSHIP]
    with pytest.raises(BadRequest, match="上级单位"):
        verification.assign(sup, v.sample_no, "ts", "phone", positions=other)
    assert not VerificationTask.objects.filter(item__sample__sample_no=v.sample_no, assignee__isnull=False).exists()
    assert verification.assign(sup, v.sample_no, "sup", "phone") == 6
    me = as_login(region, "sup")
    first, second, third, fourth = (r.position for r in v.items[:4])
    with pytest.raises(BadRequest, match="核查说明不能为空"):
        verification.record(me, v.sample_no, first, "refused")
    with pytest.raises(BadRequest, match="不符项"):
        verification.record(me, v.sample_no, first, "wrong_info", note="电话号码错一位")
    with pytest.raises(Refused, match="只有核查人本人"):
        verification.record(as_login(region, "ev"), v.sample_no, first, "confirmed")
    row = verification.record(me, v.sample_no, first, "confirmed")
    assert row.outcome_name == "服务属实" and row.version == 3
    with pytest.raises(BadRequest, match="已被他人修改"):
        verification.record(me, v.sample_no, first, "confirmed", version=2)
    fake = verification.record(me, v.sample_no, second, "not_found", note="村委会称无此人")
    verification.record(me, v.sample_no, third, "wrong_info", note="住址不符", wrong_field="address")
    verification.record(me, v.sample_no, fourth, "unreachable", note="空号")
    f = Finding.objects.get(pk=fake.finding_id)
    item = SampleItem.objects.get(sample__sample_no=v.sample_no, position=second)
    assert (f.rule, f.table, f.record_id, f.status) == ("VF-01", "verification_items", item.pk, FindingStatus.OPEN)
    assert f.org_unit_id == item.org_unit_id and f.values["sample"] == v.sample_no and "查无此人" in f.message

    report = verification.rates(sup, v.sample_no)
    t = report.total
    assert (t.drawn, t.genuine, t.not_genuine, t.excluded, t.pending, t.fabrication) == (6, 1, 2, 1, 2, 1)
    assert t.rate == pytest.approx(1 / 3) and t.interval[0] < 1 / 3 < t.interval[1]
    assert t.platform_denominator == 12 and t.platform_rate is not None  # H2 stored for 2024 beside it
    assert sum(u.drawn for u in report.units) == 6

    found = verification.verified_by_unit(sup, "2024")
    county = found[COUNTY]
    assert county.all.fabrication == 1 and county.all.genuine == 1 and county.samples == [v.sample_no]
    assert found[item.org_unit.code].all.fabrication == 1
    assert "H2" in county.by_indicator
    # the rectification ledger lists it under its own rule, by name, and filters by it
    from gongwei.service import ledger

    listed = ledger.findings(sup, COUNTY, rule="VF-01")
    assert [r.rule_name for r in listed.rows] == ["核查查无此人（疑似虚假档案）"]

    # a correction keeps the history and withdraws the finding it no longer supports
    verification.record(me, v.sample_no, second, "confirmed", note="复核：本人在外地，家属确认")
    f.refresh_from_db()
    assert f.status == FindingStatus.DISMISSED
    assert TaskOutcome.objects.filter(task__item=item).count() == 2
    assert verification.verified_by_unit(sup, "2024")[COUNTY].all.fabrication == 0


def test_the_assignee_sees_the_phone_others_see_it_masked(region):
    sup = as_login(region, "sup")
    v = verification.draw(sup, "H2", COUNTY, "2024", part="denominator", size=2, seed=1)
    verification.assign(sup, v.sample_no, "sup", "phone")
    mine = verification.show(sup, v.sample_no)
    assert "*" not in mine.items[0].phone
    ev = verification.show(as_login(region, "ev"), v.sample_no)
    assert "*" in ev.items[0].phone


def test_command_line(region, capsys):
    assert main(["sample", "draw", "H2", COUNTY, "2024", "--part", "denominator", "--size", "3", "--seed", "5"]) == 0
    out = capsys.readouterr().out
    no = Sample.objects.get().sample_no
    assert no in out and "等间距抽样" in out and "随机种子 5" in out and "抽样间距 k = 12/3" in out
    assert main(["sample", "check", no]) == 0 and "可复现" in capsys.readouterr().out
    assert main(["sample", "assign", no, "sup", "--method", "visit"]) == 0
    capsys.readouterr()
    assert main(["--as", "sup", "sample", "record", no, "1", "not_received", "--note", "本人称未随访"]) == 0
    assert "整改台账" in capsys.readouterr().out
    assert main(["sample", "rates", no]) == 0
    out = capsys.readouterr().out
    assert "核实真实率" in out and "Wilson" in out
    assert main(["sample", "units", "2024", "--unit", COUNTY]) == 0
    assert "疑似造假 1 人" in capsys.readouterr().out
    # a refusal: one Chinese sentence, exit code 2
    assert main(["sample", "draw", "H2", COUNTY, "2024"]) == 2
    err = capsys.readouterr().err
    assert "抽样框为空" in err and "Traceback" not in err
    assert main(["--as", "sup", "sample", "record", no, "2", "refused"]) == 2
    assert "核查说明不能为空" in capsys.readouterr().err


def test_fabrication_found_by_verification_is_deducted_by_the_evaluation(region, monkeypatch):
    """A scheme leaf scored from verification (issue 13 §2 → issue 12): each outcome that revealed fabrication
    (查无此人 → VF-01) costs per_finding points at the sampled person's township and is withdrawn with the outcome.
    Hand-worked: one leaf of 100 points, 10 per problem; the township of the person not found scores 100 − 10 = 90,
    the other township 100; after the outcome is corrected to 服务属实 both score 100."""
    from gongwei.service import evaluation as sev
    from gongwei.spec import evaluation as se
    from gongwei.spec.evaluation import Item, Method, Scheme
    from gongwei.spec.rules import Source

    src = Source("test scheme [U]", "U")
    scheme = Scheme("vf-2024", "核查扣分测试方案", 2024, 100, source=src, items=(
        Item("E", "服务效果", 100, source=src, children=(
            Item("E2", "核实问题", 100, method=Method.DEDUCT_PER_FINDING, per_finding=10, verified=True, source=src),
        )),))
    assert not se.problems(scheme) and not scheme.leaves()[0].manual
    monkeypatch.setattr(se, "SCHEMES", (*se.SCHEMES, scheme))
    se.schemes.cache_clear()
    try:
        sup = as_login(region, "sup")
        v = verification.draw(sup, "H2", COUNTY, "2024", part="denominator", size=4, seed=3)
        verification.assign(sup, v.sample_no, "sup", "phone")
        me = as_login(region, "sup")
        first = v.items[0]
        township = SampleItem.objects.get(sample__sample_no=v.sample_no, position=first.position).org_unit
        township_code = township.parent.code  # the sampled person's village → its township
        verification.record(me, v.sample_no, first.position, "not_found", note="村委会称无此人")

        ev = as_login(region, "ev")
        rnd = sev.create_round(ev, "vf-2024", 2024, "year_end", COUNTY)
        sev.score_round(ev, rnd.pk)
        scores = {r.code: r.score.score for r in sev.round_report(ev, rnd.pk).rows}
        assert scores[township_code] == pytest.approx(90)
        assert all(s == pytest.approx(100) for c, s in scores.items() if c != township_code)

        verification.record(me, v.sample_no, first.position, "confirmed", note="复核：本人在外地")
        sev.score_round(ev, rnd.pk)
        assert all(r.score.score == pytest.approx(100) for r in sev.round_report(ev, rnd.pk).rows)
    finally:
        se.schemes.cache_clear()
