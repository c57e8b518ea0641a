"""The funds ledger (service.funds): movements entered at one entry point, the rates of a county and its institutions
as of a date, the refusals, the alerts and the village doctors' subsidies — every figure worked out by hand below."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from gongwei.funds import models as fm
from gongwei.records import roles
from gongwei.service import access
from gongwei.service import funds as sf
from gongwei.service.errors import BadRequest, NotFound, Refused
from tests.test_admin import build_small_region, fast_passwords  # noqa: F401

COUNTY, PUTING, GAOTANG = "360426000000", "360426100000", "360426200000"
BEIMEN, NANMEN = "360426100201", "360426100202"

# The ledger of 德安县 for 2025 (yuan). "basic" unless said otherwise:
#   01-10 下达 to the county 1,000,000 (central)       01-20 下达 to 蒲亭 400,000 and to 高塘 300,000 (county)
#   02-01 到位 at the county 800,000; village_doctor 20,000    03-01 county → 蒲亭 拨付 300,000; village_doctor 12,000
#   03-01 increment 到位 at the county 100,000          03-20 蒲亭 支出 120,000
#   04-01 county → 高塘 拨付 200,000                     04-15 county → 蒲亭 increment 60,000
#   05-01 蒲亭 → 北门村 拨付 50,000                      05-10 蒲亭 → 北门村 village_doctor 6,000
#   06-01 北门村 支出 20,000
LEDGER = [
    ("allocation", "basic", "central", COUNTY, "1000000", "2025-01-10", "赣财社〔2025〕1号", ""),
    ("allocation", "basic", "county", PUTING, "400000", "2025-01-20", "德财社〔2025〕3号", ""),
    ("allocation", "basic", "county", GAOTANG, "300000", "2025-01-20", "德财社〔2025〕3号", ""),
    ("arrival", "basic", "central", COUNTY, "800000", "2025-02-01", "国库 0201", ""),
    ("arrival", "village_doctor", "province", COUNTY, "20000", "2025-02-01", "国库 0202", ""),
    ("disbursement", "basic", "central", COUNTY, "300000", "2025-03-01", "德卫拨 01", PUTING),
    ("disbursement", "village_doctor", "province", COUNTY, "12000", "2025-03-01", "德卫拨 02", PUTING),
    ("arrival", "increment", "central", COUNTY, "100000", "2025-03-01", "国库 0301", ""),
    ("expenditure", "basic", "central", PUTING, "120000", "2025-03-20", "蒲卫支 07", ""),
    ("disbursement", "basic", "central", COUNTY, "200000", "2025-04-01", "德卫拨 03", GAOTANG),
    ("disbursement", "increment", "central", COUNTY, "60000", "2025-04-15", "德卫拨 04", PUTING),
    ("disbursement", "basic", "central", PUTING, "50000", "2025-05-01", "蒲卫拨 01", BEIMEN),
    ("disbursement", "village_doctor", "province", PUTING, "6000", "2025-05-10", "蒲卫拨 02", BEIMEN),
    ("expenditure", "basic", "central", BEIMEN, "20000", "2025-06-01", "北门支 01", ""),
]


def enter(actor, kind, item, level, org, amount, date, doc_no, recipient=""):
    return sf.record_flow(actor, kind=kind, year=2025, item=item, level=level, org=org, amount=amount, date=date,
                          doc_no=doc_no, recipient=recipient)


@pytest.fixture
def ledger(db):
    roles.ensure_groups()
    made = build_small_region()
    op = access.operator()
    for row in LEDGER:
        enter(op, *row)
    made["op"] = op
    return made


def _by_code(table):
    return {r.unit.code: r.figures for r in table.rows}


def test_rates_of_the_county_and_its_institutions_as_of_a_date(ledger):
    op = ledger["op"]
    march = sf.table(op, COUNTY, year=2025, as_of="2025-03-31", item="basic")
    # county by 03-31: 下达 1,000,000, 到位 800,000, 拨付 300,000 (to 蒲亭), spent below 120,000 (蒲亭 03-20)
    c = march.total.figures
    assert (c.allocated, c.arrived, c.disbursed, c.spent_below) == (1000000, 800000, 300000, 120000)
    assert c.rates == {"arrival_rate": 0.8, "disbursement_rate": 0.3, "expenditure_rate": 0.15}
    rows = _by_code(march)
    # 蒲亭: 下达 400,000; 到位 = the county's 300,000 拨付; nothing passed down; spent 120,000 → 120/300 = 0.4
    assert rows[PUTING].rates == {"arrival_rate": 0.75, "disbursement_rate": 0.0, "expenditure_rate": 0.4}
    # 高塘: 下达 300,000, its money comes on 04-01: nothing arrived yet, no expenditure rate (nothing to divide by)
    assert rows[GAOTANG].rates == {"arrival_rate": 0.0, "disbursement_rate": 0.0, "expenditure_rate": None}

    june = sf.table(op, COUNTY, year=2025, as_of=dt.date(2025, 6, 30), item="basic")
    # county: 拨付 300,000 + 200,000 = 500,000 of 1,000,000; spent below 120,000 + 20,000 (北门村) = 140,000 of 800,000
    assert june.total.figures.rates == {"arrival_rate": 0.8, "disbursement_rate": 0.5, "expenditure_rate": 0.175}
    rows = _by_code(june)
    # 蒲亭 passed 50,000 down to 北门村: 50/400 = 0.125; its subtree spent 140,000 of the 300,000 it received
    assert rows[PUTING].rate("disbursement_rate") == 0.125
    assert rows[PUTING].rate("expenditure_rate") == pytest.approx(140000 / 300000)
    assert rows[GAOTANG].rate("arrival_rate") == pytest.approx(200000 / 300000)
    assert rows[GAOTANG].rate("expenditure_rate") == 0.0
    # the seed report lists counties by disbursement rate, highest first
    assert [r.unit.code for r in june.rows] == [PUTING, GAOTANG]
    # all items together: 到位 at the county 800,000 + 20,000 (village doctors) + 100,000 (increment)
    assert sf.table(op, COUNTY, year=2025, as_of="2025-06-30").total.figures.arrived == 920000
    # the day before anything happened: no rates at all
    assert sf.table(op, COUNTY, year=2025, as_of="2025-01-01").total.figures.rates == {
        "arrival_rate": None, "disbursement_rate": None, "expenditure_rate": None}


def test_a_disbursement_or_expenditure_larger_than_what_arrived_is_refused(ledger):
    op = ledger["op"]
    before = fm.FundFlow.objects.count()
    # 高塘 received 200,000 on 04-01 and spent nothing: 250,000 is 50,000 too much
    with pytest.raises(BadRequest, match=r"资金项目“基本公共卫生服务补助资金”支出 250000\.00 元超过 高塘乡卫生院 截至 "
                                         r"2025-05-01 已到位未拨付、未支出的余额 200000\.00 元：拨付和支出不得超过已到位的资金"):
        enter(op, "expenditure", "basic", "central", GAOTANG, "250000", "2025-05-01", "高卫支 01")
    # money cannot leave before it arrives: on 03-15 高塘 had nothing
    with pytest.raises(BadRequest, match=r"截至 2025-03-15 已到位未拨付、未支出的余额 0\.00 元"):
        enter(op, "expenditure", "basic", "central", GAOTANG, "1000", "2025-03-15", "高卫支 02")
    # back-dated 600,000 on 02-15 fits that day (800,000 arrived) but not the later days: by 04-01 the 300,000 to 蒲亭
    # and the 200,000 to 高塘 have left too, 800,000 − 300,000 − 200,000 = 300,000 is the most a 02-15 payment may be
    with pytest.raises(BadRequest, match=r"拨付 600000\.00 元超过 德安县 截至 2025-04-01 .*余额 300000\.00 元"):
        enter(op, "disbursement", "basic", "central", COUNTY, "600000", "2025-02-15", "德卫拨 09", GAOTANG)
    # each item keeps its own money: the increment's 40,000 left at the county does not pay village doctors
    with pytest.raises(BadRequest, match=r"资金项目“乡村医生补助”拨付 9000\.00 元超过 德安县 截至 2025-06-01 .*余额 8000\.00 元"):
        enter(op, "disbursement", "village_doctor", "province", COUNTY, "9000", "2025-06-01", "德卫拨 10", GAOTANG)
    assert fm.FundFlow.objects.count() == before
    # exactly what is left is accepted: 300,000 on 04-01
    enter(op, "disbursement", "basic", "central", COUNTY, "300000", "2025-04-01", "德卫拨 11", GAOTANG)


def test_bad_input_is_refused_naming_the_field(ledger):
    op = ledger["op"]
    cases = [
        (dict(kind="refund"), "类别“refund”无效"),
        (dict(item="misc"), "资金项目“misc”无效"),
        (dict(level="town"), "资金来源层级“town”无效"),
        (dict(amount="0"), "金额“0”应大于 0"),
        (dict(amount="12.345"), "最多保留两位小数"),
        (dict(amount="十万"), "金额“十万”不是数字"),
        (dict(date="2025-13-01"), "日期“2025-13-01”不是有效日期"),
        (dict(date="2099-01-01"), "晚于今天"),
        (dict(date="2024-12-31"), "早于资金年度 2025"),
        (dict(doc_no=" "), "须填写文号或凭证号"),
        (dict(kind="disbursement"), "拨付须填写拨付对象"),
        (dict(kind="disbursement", recipient="360426200201"), "不是 蒲亭镇卫生院 的下级单位"),
        (dict(recipient=BEIMEN), "只有拨付才填写拨付对象"),
    ]
    good = dict(kind="expenditure", year=2025, item="basic", level="central", org=PUTING, amount="100",
                date="2025-06-01", doc_no="蒲卫支 08", recipient="")
    for change, message in cases:
        with pytest.raises(BadRequest, match=message):
            sf.record_flow(op, **{**good, **change})
    with pytest.raises(NotFound, match="单位代码 999999999999 不存在"):
        sf.record_flow(op, **{**good, "org": "999999999999"})
    sf.record_flow(op, **good)


def test_who_may_enter_and_see(ledger):
    users = ledger["users"]
    vd = access.for_user(users["vd"])
    with pytest.raises(Refused, match="资金台账只能由"):
        enter(vd, "expenditure", "basic", "central", BEIMEN, "10", "2025-06-02", "x")
    ta = access.for_user(users["ta"])  # 蒲亭's administrator: its own subtree only
    enter(ta, "expenditure", "basic", "central", PUTING, "10", "2025-06-02", "蒲卫支 09")
    with pytest.raises(Refused, match="不在您的权限范围内"):
        enter(ta, "expenditure", "basic", "central", GAOTANG, "10", "2025-06-02", "x")
    with pytest.raises(Refused, match="不在您的权限范围内"):
        sf.table(ta, COUNTY, year=2025)
    assert [r.unit.code for r in sf.table(ta, PUTING, year=2025, as_of="2025-06-30").rows] == [BEIMEN, NANMEN]


def test_voiding_keeps_the_row_and_cannot_strand_later_payments(ledger):
    op = ledger["op"]
    arrival = fm.FundFlow.objects.get(kind="arrival", item="basic", org_unit__code=COUNTY)
    with pytest.raises(BadRequest, match="请先作废其后的拨付或支出"):
        sf.void_flow(op, arrival.pk, "金额录错")
    assert fm.FundFlow.objects.get(pk=arrival.pk).voided_at is None  # the refused void was rolled back
    to_gaotang = fm.FundFlow.objects.get(kind="disbursement", item="basic", recipient__code=GAOTANG)
    with pytest.raises(BadRequest, match="作废须说明原因"):
        sf.void_flow(op, to_gaotang.pk, "")
    sf.void_flow(op, to_gaotang.pk, "拨付对象录错")
    kept = fm.FundFlow.objects.get(pk=to_gaotang.pk)
    assert kept.voided_at is not None and kept.void_reason == "拨付对象录错"
    rows = _by_code(sf.table(op, COUNTY, year=2025, as_of="2025-06-30", item="basic"))
    assert rows[GAOTANG].arrived == 0  # the voided row no longer counts, and is still there
    with pytest.raises(BadRequest, match="已于"):
        sf.void_flow(op, to_gaotang.pk, "again")


def test_alerts_not_disbursed_idle_and_increment_kept_above_villages(ledger):
    got = sf.alerts(ledger["op"], COUNTY, year=2025, as_of="2025-06-30")
    found = {(a.rule, a.unit.code): a.amount for a in got.items}
    # 下达 by 05-31 (30 days before) less what was passed on or spent by 06-30, all items:
    #   county 1,000,000 − (300,000 + 12,000 + 200,000 + 60,000) = 428,000; 蒲亭 400,000 − (50,000 + 6,000) − 120,000
    #   = 224,000; 高塘 300,000 − 0 = 300,000
    # idle (arrived by 04-01, 90 days before, still unused by 06-30, above half of it):
    #   county 920,000 − 572,000 = 348,000 ≤ 460,000: no; 蒲亭 312,000 − 176,000 = 136,000 ≤ 156,000: no;
    #   高塘 200,000 − 0 = 200,000 > 100,000: idle
    # increment (must all reach townships and villages): 100,000 arrived at the county by 05-31, 60,000 passed down
    assert found == {("not_disbursed", COUNTY): Decimal("428000"), ("not_disbursed", PUTING): Decimal("224000"),
                     ("not_disbursed", GAOTANG): Decimal("300000"), ("idle", GAOTANG): Decimal("200000"),
                     ("not_passed_down", COUNTY): Decimal("40000")}
    kept = next(a for a in got.items if a.rule == "not_passed_down")
    assert "未全部落实到乡镇（街道）、村（社区）" in kept.message and "pingliang-2020q2" in kept.source
    # 30 days after the 03-01 arrival the increment was all at the county: on 03-30 nothing is late yet (29 days)
    early = sf.alerts(ledger["op"], COUNTY, year=2025, as_of="2025-03-30")
    assert not [a for a in early.items if a.rule == "not_passed_down"]
    assert [a.amount for a in sf.alerts(ledger["op"], COUNTY, year=2025, as_of="2025-03-31").items
            if a.rule == "not_passed_down"] == [Decimal("100000")]


def test_village_doctor_subsidies_paid_per_village(ledger):
    got = {s.village.code: (s.paid, s.payments) for s in sf.village_subsidies(ledger["op"], COUNTY, year=2025,
                                                                               as_of="2025-06-30")}
    # only 北门村 was paid (05-10, 6,000); the others show 0, which is what the bureau asks after
    assert got == {BEIMEN: (6000, 1), NANMEN: (0, 0), "360426200201": (0, 0), "360426200202": (0, 0)}
    assert sf.village_subsidies(ledger["op"], COUNTY, year=2025, as_of="2025-05-09")[0].paid == 0
