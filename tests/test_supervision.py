"""Supervision rounds and rectification periods (督导与第N期整改, issue 13 §4): rounds, 分片包干/包村, visits with
attachments, rectification items with deadlines refused before the round, status history and overdue as of a date,
and a period's report data (fixed, overdue, open, indicator figures that moved)."""

from __future__ import annotations

import datetime as dt
import os
import stat

import pytest

from gongwei.quality.models import Finding
from gongwei.service import access
from gongwei.service import supervision as sv
from gongwei.service.errors import BadRequest, NotFound, Refused
from gongwei.supervision.models import Attachment, ItemEvent, RectificationItem, SupervisionRound, Visit
from tests.web_fixtures import make_region

pytestmark = pytest.mark.django_db

COUNTY, PUTING, LINQUAN = "360426000000", "360426100000", "360426200000"
CITY = "360400000000"
PUTING_VILLAGE = "360426100201"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


@pytest.fixture
def region(settings, tmp_path, fast_passwords):
    settings.DATA_DIR = tmp_path
    return make_region()


def county_round(actor=None, **kw) -> SupervisionRound:
    args = dict(title="第五期督导", period_no=5, start_date="2025-03-01", methods=["phone", "on_site"],
                leader="王局长", units=[PUTING, LINQUAN])
    return sv.create_round(actor or access.operator(), COUNTY, **{**args, **kw})


def test_a_round_names_who_when_which_units_and_methods(region):
    r = county_round(access.operator("sup"))
    assert r.method_names() == ["电话访谈", "现场核查"] and sorted(u.code for u in r.units.all()) == [PUTING, LINQUAN]
    assert r.created_by.startswith("sup@")
    with pytest.raises(BadRequest, match="督导方式不能为空"):
        county_round(methods=[])
    with pytest.raises(BadRequest, match="整改期数“第五”无效"):
        county_round(period_no="第五")
    with pytest.raises(BadRequest, match="不在组织单位 蒲亭镇卫生院 的辖区内"):
        sv.create_round(access.operator(), PUTING, title="包村督导", period_no=1, start_date="2025-03-01",
                        methods=["on_site"], leader="李", units=[LINQUAN])
    with pytest.raises(Refused, match="只有乡镇公卫人员"):
        county_round(access.operator("vd"))
    with pytest.raises(Refused, match="不在您的权限范围内"):  # a township may not organise a county's round
        county_round(access.operator("ts"))
    assert SupervisionRound.objects.count() == 1


def test_assignments_bureau_staff_to_counties_and_township_staff_to_villages(region):
    city_round = sv.create_round(access.operator(), CITY, title="市级挂点督导", period_no=5, start_date="2025-03-01",
                                 methods=["on_site"], leader="市卫健局", units=[COUNTY])
    a = sv.assign(access.operator(), city_round.pk, person="张副局长", org=COUNTY, kind="area",
                  start_date="2025-03-01", end_date="2025-12-31")
    assert a.get_kind_display() == "分片包干"
    with pytest.raises(BadRequest, match="分片包干的单位应为县（区），蒲亭镇卫生院是乡镇（街道）"):
        sv.assign(access.operator(), city_round.pk, person="张", org=PUTING, kind="area", start_date="2025-03-01")
    village_round = sv.create_round(access.operator("ts"), PUTING, title="包村督导", period_no=5,
                                    start_date="2025-03-02", methods=["phone"], leader="乡镇公卫办",
                                    units=[PUTING_VILLAGE])
    sv.assign(access.operator("ts"), village_round.pk, person="刘医生", org=PUTING_VILLAGE, kind="village",
              start_date="2025-03-02")
    with pytest.raises(BadRequest, match="截止日期 2025-03-01 早于起始日期 2025-03-02"):
        sv.assign(access.operator("ts"), village_round.pk, person="刘", org=PUTING_VILLAGE, kind="village",
                  start_date="2025-03-02", end_date="2025-03-01")


def test_a_visit_keeps_its_attachments_owner_only_and_refuses_a_bad_file(region, settings):
    r = county_round()
    with pytest.raises(BadRequest, match="附件“run.exe”类型不支持"):
        sv.record_visit(access.operator(), r.pk, org=PUTING, visit_date="2025-03-03", method="on_site",
                        summary="档案不全", files=[("photo.png", PNG), ("run.exe", b"MZ")])
    assert not Visit.objects.exists() and not list((settings.DATA_DIR / "supervision").glob("*"))
    with pytest.raises(BadRequest, match="督导日期 2025-02-28 早于本次督导开始日期 2025-03-01"):
        sv.record_visit(access.operator(), r.pk, org=PUTING, visit_date="2025-02-28", method="on_site", summary="x")
    v = sv.record_visit(access.operator(), r.pk, org=PUTING, visit_date="2025-03-03", method="on_site",
                        summary="高血压随访记录与门诊日志不符", files=[("../../现场照片.png", PNG)])
    a = Attachment.objects.get(visit=v)
    assert a.name == "现场照片.png" and a.size == len(PNG) and a.content_type == "image/png"
    got, path = sv.attachment(access.operator("sup"), a.pk)
    assert path.parent == (settings.DATA_DIR / "supervision").resolve() and path.read_bytes() == PNG
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with pytest.raises(Refused):  # the county's round is not the township's to read
        sv.attachment(access.operator("ts"), a.pk)


def test_items_refuse_a_deadline_before_the_round_and_keep_their_history(region):
    r = county_round()
    with pytest.raises(BadRequest, match="整改期限 2025-02-28 早于督导日期 2025-03-01：整改期限不能早于督导日期"):
        sv.add_item(access.operator(), r.pk, org=PUTING, problem="档案不全", owner="蒲亭镇卫生院院长",
                    deadline="2025-02-28")
    with pytest.raises(BadRequest, match="整改期数 4 早于本次督导的第5期"):
        sv.add_item(access.operator(), r.pk, org=PUTING, problem="x", owner="y", deadline="2025-03-31", period_no=4)
    assert not RectificationItem.objects.exists()
    item = sv.add_item(access.operator("sup"), r.pk, org=PUTING, problem="档案不全", owner="院长",
                       deadline="2025-03-31")
    assert item.period_no == 5 and item.status == "open"
    # open within its deadline; past it, overdue as of that date (never stored)
    assert sv.status_as_of(item, dt.date(2025, 3, 31)) == "open"
    assert sv.status_as_of(item, dt.date(2025, 4, 1)) == "overdue"
    with pytest.raises(BadRequest, match="当前为“整改中”，不能改为“已核实销号”"):
        sv.set_status(access.operator(), item.pk, "verified", on="2025-03-20")
    with pytest.raises(BadRequest, match="状态“overdue”无效"):
        sv.set_status(access.operator(), item.pk, "overdue", on="2025-03-20")
    sv.set_status(access.operator(), item.pk, "rectified", on="2025-03-20", note="已补录", version=1)
    with pytest.raises(BadRequest, match="已被他人修改"):
        sv.set_status(access.operator(), item.pk, "verified", on="2025-03-25", version=1)
    sv.set_status(access.operator(), item.pk, "verified", on="2025-04-02", version=2)
    item.refresh_from_db()
    # the history answers for any date: open until 03-20, rectified until 04-02, then verified
    assert [(e.status, str(e.on)) for e in ItemEvent.objects.filter(item=item)] == [
        ("open", "2025-03-01"), ("rectified", "2025-03-20"), ("verified", "2025-04-02")]
    assert sv.status_as_of(item, dt.date(2025, 3, 19)) == "open"
    assert sv.status_as_of(item, dt.date(2025, 4, 1)) == "rectified"  # not overdue: rectified in time
    assert sv.status_as_of(item, dt.date(2025, 4, 2)) == "verified"
    with pytest.raises(BadRequest, match="不能改为"):  # a verified item is closed
        sv.set_status(access.operator(), item.pk, "open", on="2025-04-03")
    with pytest.raises(NotFound):
        sv.set_status(access.operator(), 999999, "rectified", on="2025-04-03")


def test_an_item_may_link_a_qc_finding_of_its_unit(region):
    from gongwei.records.models import OrgUnit

    village = OrgUnit.objects.get(code=PUTING_VILLAGE)
    other = OrgUnit.objects.get(code="360426200201")
    f = Finding.objects.create(rule="CP-01", table="health_records", record_id=1, record_no="R1", org_unit=village,
                               assigned_to=village, message="缺项", first_seen="s", last_seen="s", period="2025",
                               rulebook="t")
    g = Finding.objects.create(rule="CP-01", table="health_records", record_id=2, record_no="R2", org_unit=other,
                               assigned_to=other, message="缺项", first_seen="s", last_seen="s", period="2025",
                               rulebook="t")
    r = county_round()
    item = sv.add_item(access.operator(), r.pk, org=PUTING, problem="质控问题未整改", owner="院长",
                       deadline="2025-03-31", finding_id=f.pk)
    assert item.finding_id == f.pk
    with pytest.raises(BadRequest, match="不在整改单位 蒲亭镇卫生院 之下"):
        sv.add_item(access.operator(), r.pk, org=PUTING, problem="x", owner="y", deadline="2025-03-31",
                    finding_id=g.pk)


def test_the_period_report_lists_fixed_overdue_and_open(region):
    r = county_round()
    op = access.operator()
    fixed = sv.add_item(op, r.pk, org=PUTING, problem="档案不全", owner="甲", deadline="2025-03-31")
    late = sv.add_item(op, r.pk, org=LINQUAN, problem="随访造假", owner="乙", deadline="2025-03-15")
    still = sv.add_item(op, r.pk, org=LINQUAN, problem="设备不足", owner="丙", deadline="2025-06-30")
    sv.add_item(op, r.pk, org=PUTING, problem="下期再办", owner="丁", deadline="2025-06-30", period_no=6)
    sv.set_status(op, fixed.pk, "rectified", on="2025-03-10")
    report = sv.period_report(op, COUNTY, 5, as_of="2025-04-01")
    # as of 04-01: one rectified; the 03-15 item still open is overdue; the 06-30 one is open; period 6 not counted
    assert [x.item.pk for x in report.fixed] == [fixed.pk]
    assert [x.item.pk for x in report.overdue] == [late.pk]
    assert [x.item.pk for x in report.open] == [still.pk] and report.total == 3
    assert report.rounds == [r] and report.indicator_period == "" and report.moved == []
    # a township sees its own part only
    puting = sv.period_report(access.operator("ts"), PUTING, 5, as_of="2025-04-01")
    assert [x.item.pk for x in puting.fixed] == [fixed.pk] and not puting.overdue and not puting.open
    with pytest.raises(Refused):
        sv.period_report(access.operator("ts"), LINQUAN, 5, as_of="2025-04-01")
    assert sv.periods(op, COUNTY) == [6, 5]


def _one_controlled_in_2024(made: dict) -> None:
    """The dashboard region, plus one 城东村 patient with four controlled follow-ups (128/78) in 2024."""
    import pyarrow as pa

    from gongwei.records import entry
    from tests.web_fixtures import _dashboard_data

    _dashboard_data(made)
    no = f"{PUTING_VILLAGE}00001"
    dates = ["2024-02-10", "2024-05-12", "2024-08-11", "2024-11-10"]  # a quarterly schedule, as in 2025
    entry.submit({"chronic_follow_ups": pa.table({
        "encounter_no": [f"F24-{i}" for i in range(4)], "resident": [no] * 4, "org_unit": [PUTING_VILLAGE] * 4,
        "service_date": dates, "enrollment": [f"E-{no}"] * 4, "program": ["hypertension"] * 4, "mode": ["1"] * 4,
        "sbp": ["128"] * 4, "dbp": ["78"] * 4})}, actor="test", kind="synth")


def test_the_period_report_reads_the_indicator_figures_that_moved(settings, tmp_path, fast_passwords):
    settings.DATA_DIR = tmp_path
    make_region(periods=("2024", "2025"), codes=["H1", "H2", "H3"], prepare=_one_controlled_in_2024)
    r = county_round(indicator_period="2025")
    report = sv.period_report(access.operator(), COUNTY, 5, as_of="2025-04-01")
    assert report.indicator_period == "2025" and report.compare_period == "2024" and report.figures_ready
    # H3 (blood pressure controlled among the 12 managed patients of the county): in 2024 only the one patient
    # with four follow-ups at 128/78 → 1/12; in 2025 the three 城东村 patients with four controlled follow-ups
    # → 3/12; change 2/12 = 0.1667. H1 has no denominator (no rate); H2 is 0 in 2024 (no services counted then,
    # so no change is claimed): neither moved.
    assert [(f.indicator, f.numerator, f.denominator) for f in report.moved] == [("H3", 3, 12)]
    assert report.moved[0].change == pytest.approx(2 / 12) and report.moved[0].previous_rate == pytest.approx(1 / 12)
    # a period whose results are not stored says so instead of computing them
    r.indicator_period = "2023"
    r.save()
    stale = sv.period_report(access.operator(), COUNTY, 5, as_of="2025-04-01")
    assert stale.indicator_period == "2023" and not stale.figures_ready and stale.moved == []
