"""Family-doctor contracts of a resident (issue 11 §6): sign for one term with a team of the resident's unit or
above, renew after the end, end with a date and reason, record services delivered in the term; scoped, audited,
refused values in Chinese, stale ends refused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from gongwei.records import models as m
from gongwei.service import access
from gongwei.service import contracts as service
from gongwei.service.errors import BadRequest, Refused
from gongwei.spec.programs import family_doctor as fd
from gongwei.spec.vocab import AccessKind
from tests.test_web_residents import ZSF, ZW_OTHER, add_people
from tests.web_fixtures import client_for


def today() -> dt.date:
    """The service's today: the region's local date (Asia/Shanghai), asked when the test runs, not at import."""
    return timezone.localdate()


@pytest.fixture
def people(web_region):
    add_people()
    return web_region


def vd() -> access.Actor:
    return access.operator("vd", command="test")


def test_one_term_ends_the_day_before_the_same_date_a_term_later():
    assert fd.CONTRACT_TERM_MONTHS == 12  # the cases below are worked for the rulebook's one-year term
    assert service.term_end(dt.date(2025, 3, 1)) == dt.date(2026, 2, 28)
    assert service.term_end(dt.date(2024, 2, 29)) == dt.date(2025, 2, 27)  # no 29 February in 2025
    assert service.term_end(dt.date(2025, 1, 1)) == dt.date(2025, 12, 31)


def test_sign_renew_and_end(people):
    start = today() - dt.timedelta(days=400)
    first = service.sign(vd(), ZSF, "T-1", start)
    c = m.Contract.objects.get(contract_no=first)
    assert (c.start_date, c.end_date, c.is_renewal, c.team.code) == (start, service.term_end(start), False, "T-1")
    lapsed = service.page(vd(), ZSF)  # ended 36 days ago: renewable, and a new contract may be signed
    assert lapsed.contracts[0].state == "ended" and lapsed.contracts[0].renewable and lapsed.may_sign
    # a second contract overlapping the first is refused, naming the one in force
    with pytest.raises(BadRequest, match=first):
        service.sign(vd(), ZSF, "T-1", start + dt.timedelta(days=100))
    # renewed 35 days after its end: past the rulebook's grace, so the new term starts today
    second = service.renew(vd(), first, today=c.end_date + dt.timedelta(days=fd.RENEWAL_GRACE_DAYS + 5))
    renewed = m.Contract.objects.get(contract_no=second)
    assert renewed.is_renewal and renewed.start_date == c.end_date + dt.timedelta(days=fd.RENEWAL_GRACE_DAYS + 5)
    with pytest.raises(BadRequest, match="签约期"):
        service.end(vd(), second, renewed.start_date - dt.timedelta(days=1), "request")
    with pytest.raises(BadRequest, match="解约原因"):
        service.end(vd(), second, renewed.start_date, "because")
    service.end(vd(), second, renewed.start_date, "moved", version=renewed.version)
    renewed.refresh_from_db()
    assert renewed.cancelled_on == renewed.start_date and renewed.cancel_reason == "moved"
    log = m.ChangeLog.objects.get(model="records.Contract", object_pk=str(renewed.pk))  # the end, with before/after
    assert log.after["cancelled_on"] == renewed.start_date.isoformat() and log.before["cancelled_on"] is None
    with pytest.raises(BadRequest, match="已于"):
        service.renew(vd(), second)


def test_a_team_of_another_branch_cannot_sign_and_a_stale_end_is_refused(people):
    # 张伟 lives in the other township, which has no team; T-1 belongs to 蒲亭镇
    with pytest.raises(BadRequest, match="签约团队"):
        service.sign(access.operator(), ZW_OTHER, "T-1", today())
    number = service.sign(vd(), ZSF, "T-1", today())
    c = m.Contract.objects.get(contract_no=number)
    service.record_service(vd(), number, "guidance", today(), "低盐饮食")  # a service leaves the contract's version
    stale = c.version
    m.Contract.objects.filter(pk=c.pk).update(version=stale + 1)  # someone else saved it meanwhile
    with pytest.raises(BadRequest, match="保存被拒绝"):
        service.end(vd(), number, today(), "request", version=stale)


def test_services_inside_the_term_only(people):
    number = service.sign(vd(), ZSF, "T-1", today() - dt.timedelta(days=30))
    service.record_service(vd(), number, "follow_up", today() - dt.timedelta(days=2), "血压复测")
    with pytest.raises(BadRequest, match="不在签约期"):
        service.record_service(vd(), number, "follow_up", today() - dt.timedelta(days=31))
    with pytest.raises(BadRequest, match="晚于今天"):
        service.record_service(vd(), number, "follow_up", today() + dt.timedelta(days=1))
    with pytest.raises(BadRequest, match="服务项目"):
        service.record_service(vd(), number, "massage", today())
    shown = service.page(vd(), ZSF)
    assert not shown.may_sign and not shown.contracts[0].renewable  # in force for 11 more months: nothing to sign
    assert [(s.item_name, s.note) for s in shown.contracts[0].services] == [("慢病随访", "血压复测")]
    assert shown.contracts[0].state == "in_force"
    assert m.AccessLog.objects.filter(kind=AccessKind.SERVICE, purpose="家庭医生签约").exists()


def test_scope_and_roles(people):
    with pytest.raises(Refused):
        service.page(access.operator("vd2", command="test"), ZSF)
    sup = access.operator("sup", command="test")
    assert service.page(sup, ZSF).may_edit is False
    with pytest.raises(Refused, match="医务人员"):
        service.sign(sup, ZSF, "T-1", today())


def test_the_page_signs_and_shows_a_refusal_next_to_the_form(people):
    c = client_for("vd")
    url = f"/resident/{ZSF}/contracts/"
    assert "尚未签约" in c.get(url).content.decode()
    r = c.post(url, {"action": "sign", "team": "T-1", "start": today().isoformat()})
    assert r.status_code == 302
    page = c.get(r["Location"]).content.decode()
    assert "履约中" in page and "蒲亭镇家庭医生一队" in page
    refused = c.post(url, {"action": "sign", "team": "T-1", "start": today().isoformat()})
    assert refused.status_code == 400 and "重叠" in refused.content.decode()
    bad_date = c.post(url, {"action": "sign", "team": "T-1", "start": "2025-13-01"})
    assert bad_date.status_code == 400 and "签约开始日期“2025-13-01”无效" in bad_date.content.decode()
    assert client_for("sup").post(url, {"action": "sign", "team": "T-1", "start": today().isoformat()}).status_code == 403


def test_a_village_doctor_signs_and_records_a_service_in_a_browser(chromium, live_server, live_region, tmp_path):
    from tests.web_fixtures import browser_as, screenshot_path

    add_people()
    with browser_as(chromium, live_server, "vd") as (page, offsite):
        page.goto(f"{live_server.url}/resident/{ZSF}/")
        page.click("text=家庭医生签约")
        page.wait_for_load_state("networkidle")
        page.click("section.narrow button.primary")  # 签约 with the proposed team and dates
        page.wait_for_load_state("networkidle")
        assert "履约中" in page.inner_text("table.contracts")
        page.click("text=登记履约服务")
        page.select_option("select[name=item]", "guidance")
        page.fill("input[name=note]", "低盐饮食指导")
        page.click("table.contracts button.primary")
        page.wait_for_load_state("networkidle")
        assert "健康指导与咨询：低盐饮食指导" in page.inner_text("table.contracts")
        page.screenshot(path=str(screenshot_path(tmp_path, "resident_contracts_village_doctor")), full_page=True)
    assert offsite == [], f"requests left the local server: {offsite}"
