"""Workload (service.workload, web/pages/workload.py): service equivalents per institution and staff member from the
records, one grouped query per service type; voided records not counted; scoped to the login's subtree."""

from __future__ import annotations

import pytest

from gongwei.records import models as m
from gongwei.records import roles
from gongwei.service import access
from gongwei.service import workload as sw
from gongwei.service.errors import Refused
from gongwei.spec import workload as spec
from tests.test_admin import build_small_region, fast_passwords  # noqa: F401
from tests.web_fixtures import client_for

COUNTY, PUTING, GAOTANG = "360426000000", "360426100000", "360426200000"


@pytest.fixture
def region(db):
    roles.ensure_groups()
    made = build_small_region()
    # the small region has one hypertension follow-up per resident on 2024-03-01, 3 residents per village:
    # 北门 3, 南门 3, 高塘村 3, 罗桥 3. 北门's are the village doctor's; one of 罗桥's is voided.
    vd = m.Staff.objects.get(code="S-vd")
    m.ChronicFollowUp.objects.filter(org_unit__code="360426100201").update(provider=vd)
    m.ChronicFollowUp.objects.filter(pk=m.ChronicFollowUp.objects.filter(org_unit__code="360426200202")
                                     .order_by("pk").first().pk).update(is_void=True)
    return made


def test_equivalents_per_institution_and_staff_member(region, django_assert_max_num_queries):
    op = access.operator()
    # one grouped query per service type, one for the staff names, a few for the place: not one per record
    with django_assert_max_num_queries(len(spec.WEIGHTS) + 5):
        got = sw.workload(op, COUNTY, "2024")
    weight = spec.weights()["ChronicFollowUp"].weight  # 1.0: a follow-up is the unit
    lines = {line.code: line for line in got.units}
    # county: 12 follow-ups − 1 voided = 11; 蒲亭 = 北门 3 + 南门 3 = 6; 高塘 = 3 + (3 − 1) = 5
    assert lines[COUNTY].equivalents == 11 * weight and lines[COUNTY].counts == {"ChronicFollowUp": 11}
    assert (lines[PUTING].equivalents, lines[GAOTANG].equivalents) == (6 * weight, 5 * weight)
    assert [line.code for line in got.units] == [COUNTY, PUTING, GAOTANG]  # own line, then by equivalents
    staff = {line.label: line.equivalents for line in got.staff}
    assert staff == {"未注明服务医生": 8 * weight, "职工vd": 3 * weight}
    assert sw.workload(op, COUNTY, "2025").units[0].equivalents == 0


def test_a_health_examination_weighs_twice_a_follow_up(region):
    # weights are data: the same records weigh what the rulebook says
    assert spec.weights()["HealthExamination"].weight == 2 * spec.weights()["ChronicFollowUp"].weight
    assert all(w.source.tag == "U" for w in spec.WEIGHTS)  # all local settings until a province's standard


def test_scope_and_page(region):
    ta = access.for_user(region["users"]["ta"])
    with pytest.raises(Refused):
        sw.workload(ta, COUNTY, "2024")
    assert [line.code for line in sw.workload(ta, PUTING, "2024").units] == [PUTING, "360426100201", "360426100202"]
    c = client_for("ta")
    html = c.get(f"/unit/{PUTING}/workload/?period=2024").content.decode()
    assert 'id="workload-units"' in html and "职工vd" in html
    assert c.get(f"/unit/{GAOTANG}/workload/?period=2024").status_code == 403
    assert c.get(f"/unit/{PUTING}/workload/?period=2024-13").status_code == 400


def test_a_pool_is_split_by_equivalents_to_the_fen(region):
    from decimal import Decimal

    got = sw.workload(access.operator(), COUNTY, "2024")
    shares = {x.line.code: x.amount for x in sw.allocate(Decimal("100.00"), got.units[1:])}
    # 蒲亭 6 and 高塘 5 equivalents of 11: 54.5454… and 45.4545… → 54.54 + 45.45 = 99.99; the fen left goes to the
    # larger remainder (蒲亭's .0054… over 高塘's .0045…)
    assert shares == {PUTING: Decimal("54.55"), GAOTANG: Decimal("45.45")}
    # staff: work no doctor is named on is shown, not paid — the named doctor's 3 equivalents take the pool
    staff = {x.line.label: x.amount for x in sw.allocate(Decimal("100.00"), got.staff)}
    assert staff == {"未注明服务医生": Decimal("0.00"), "职工vd": Decimal("100.00")}
    # three equal lines and 0.10: 0.03 each, the one fen left to the first code
    lines = [sw.Line(c, c, equivalents=1.0) for c in ("b", "a", "c")]
    assert [x.amount for x in sw.allocate(Decimal("0.10"), lines)] == [Decimal("0.03"), Decimal("0.04"),
                                                                       Decimal("0.03")]


def test_the_pool_on_the_page_and_bad_amounts(region):
    from gongwei.service.errors import BadRequest

    for bad in ("abc", "-5", "0", "1.234"):
        with pytest.raises(BadRequest, match="分配金额"):
            sw.parse_pool(bad)
    assert sw.parse_pool("") is None and str(sw.parse_pool("50,000")) == "50000"
    c = client_for("ta")
    html = c.get(f"/unit/{PUTING}/workload/?period=2024&pool=300").content.decode()
    assert "分配金额（元）" in html and "300.00" in html  # 职工vd: all of 北门's named work
    assert c.get(f"/unit/{PUTING}/workload/?period=2024&pool=x").status_code == 400
