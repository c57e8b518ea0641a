"""A resident sees their own record (issue 11 §7, ADR 021): the clinic issues a password; the resident signs in
with identity number + password, sees their own record and nobody else's, is locked out after repeated failures,
and every view is audited as the resident's own."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from gongwei.records import models as m
from gongwei.service import access, self_service
from gongwei.service.errors import BadRequest, Refused
from gongwei.spec.vocab import AccessKind
from tests.test_web_residents import LHM, ZSF, ZSF_ID, ZW_OTHER, add_people
from tests.web_fixtures import client_for


@pytest.fixture
def people(web_region):
    add_people()
    return web_region


def issue(username: str, record_no: str) -> str:
    return self_service.issue_password(access.operator(username, command="test"), record_no).password


def resident_client(id_number: str, password: str) -> tuple[Client, object]:
    c = Client()
    return c, c.post("/me/login/", {"id_number": id_number, "password": password})


def test_the_clinic_of_the_resident_issues_a_password_and_only_its_hash_is_kept(people):
    password = issue("vd", ZSF)
    assert len(password) == self_service.PASSWORD_LENGTH
    kept = m.ResidentCredential.objects.get(resident__record_no=ZSF)
    assert password not in kept.password and kept.password.count("$") >= 2  # a hasher's format, not the text
    assert m.ChangeLog.objects.filter(model="records.ResidentCredential", action="issue").count() == 1
    # another village's doctor, a read-only supervisor: refused
    with pytest.raises(Refused):
        issue("vd2", ZSF)
    with pytest.raises(Refused, match="医务人员"):
        issue("sup", ZSF)


def test_a_resident_without_an_identity_number_gets_no_password(people):
    m.Resident.objects.filter(record_no=ZSF).update(id_number="")
    with pytest.raises(BadRequest, match="身份证号"):
        issue("vd", ZSF)


def test_the_resident_sees_their_own_record_and_nobody_elses(people):
    password = issue("vd", ZSF)
    c, response = resident_client(ZSF_ID.lower() if ZSF_ID.endswith("X") else f" {ZSF_ID} ", password)
    assert response.status_code == 302 and response["Location"] == "/me/"
    page = c.get("/me/").content.decode()
    assert "张三丰" in page and ZSF in page and ZSF_ID in page  # their own data, unmasked
    assert "李红梅" not in page  # household members are not theirs to see
    # staff pages stay closed: the resident's session is no staff login
    for url in (f"/resident/{ZSF}/", f"/resident/{LHM}/", "/residents/?q=张", f"/resident/{ZW_OTHER}/"):
        r = c.get(url)
        assert r.status_code == 302 and r["Location"].startswith("/login/"), url
    # the service itself refuses anyone else to the resident's actor
    signed = self_service.sign_in(ZSF_ID, password)
    from gongwei.service import residents

    with pytest.raises(Refused, match="本人"):
        residents.record(signed.actor, LHM)


def test_every_view_of_the_own_record_is_audited_as_the_residents(people):
    password = issue("vd", ZSF)
    c, _ = resident_client(ZSF_ID, password)
    before = m.AccessLog.objects.filter(kind=AccessKind.OWN_RECORD).count()
    c.get("/me/")
    c.get("/me/")
    logs = m.AccessLog.objects.filter(kind=AccessKind.OWN_RECORD).order_by("-at")
    assert logs.count() == before + 2
    log = logs.first()
    assert log.user is None and log.count == 1 and log.address == "127.0.0.1"
    assert list(log.people.values_list("resident__record_no", flat=True)) == [ZSF]


def test_wrong_pairs_get_one_sentence_and_repeated_failures_lock(people, settings):
    settings.AXES_FAILURE_LIMIT = 3
    password = issue("vd", ZSF)
    # an identity number with no password and a wrong password read alike
    _, unknown = resident_client("360426197001020319", password)
    _, wrong = resident_client(ZSF_ID, "wrong-password")
    for r in (unknown, wrong):
        assert r.status_code == 400 and self_service.WRONG in r.content.decode()
    resident_client(ZSF_ID, "wrong-again")
    resident_client(ZSF_ID, "wrong-thrice")  # the third failure locks
    _, locked = resident_client(ZSF_ID, password)  # even the right password now
    assert locked.status_code == 400 and "锁定" in locked.content.decode()
    # the clinic issues a new one: unlocked
    fresh = issue("vd", ZSF)
    _, ok = resident_client(ZSF_ID, fresh)
    assert ok.status_code == 302


def test_a_new_password_ends_the_old_ones_sessions_and_withdrawing_ends_all(people):
    first = issue("vd", ZSF)
    c, _ = resident_client(ZSF_ID, first)
    assert c.get("/me/").status_code == 200
    second = issue("vd", ZSF)
    assert c.get("/me/")["Location"] == "/me/login/"
    _, old = resident_client(ZSF_ID, first)
    assert old.status_code == 400
    c2, _ = resident_client(ZSF_ID, second)
    assert c2.get("/me/").status_code == 200
    self_service.withdraw(access.operator("vd", command="test"), ZSF)
    assert c2.get("/me/")["Location"] == "/me/login/"
    assert m.ChangeLog.objects.filter(model="records.ResidentCredential", action="withdraw").count() == 1


def test_the_clinic_page_shows_the_password_once(people):
    c = client_for("vd")
    preview = c.get(f"/resident/{ZSF}/password/").content.decode()
    assert "尚无查询口令" in preview
    shown = c.post(f"/resident/{ZSF}/password/").content.decode()
    password = re.search(r'class="mono password">([^<]+)<', shown).group(1)
    _, signed = resident_client(ZSF_ID, password)
    assert signed.status_code == 302
    assert "现有口令发放于" in c.get(f"/resident/{ZSF}/password/").content.decode()
    # outside the login's scope: the 403 page
    assert client_for("vd2").get(f"/resident/{ZSF}/password/").status_code == 403
    assert client_for("sup").post(f"/resident/{ZSF}/password/").status_code == 403


# --- a real browser: the clinic issues, the resident signs in (1366×768 and a 10-inch tablet) --------------------
def test_the_clinic_issues_a_password_and_the_resident_reads_their_record(chromium, live_server, live_region, tmp_path):
    from tests.web_fixtures import browser_as, screenshot_path

    add_people()
    with browser_as(chromium, live_server, "vd") as (page, offsite):
        page.goto(f"{live_server.url}/resident/{ZSF}/")
        page.click("text=居民查询口令")
        page.wait_for_load_state("networkidle")
        page.click("button.primary")
        page.wait_for_load_state("networkidle")
        password = page.inner_text(".password").strip()
        assert len(password) == self_service.PASSWORD_LENGTH
        page.screenshot(path=str(screenshot_path(tmp_path, "resident_password_slip")), full_page=True)
        tablet = page.context.browser.new_context(locale="zh-CN", viewport={"width": 800, "height": 1280})
        try:
            resident = tablet.new_page()
            resident.on("request", lambda r: offsite.append(r.url) if not r.url.startswith(live_server.url) else None)
            resident.goto(f"{live_server.url}/me/login/")
            resident.fill("input[name=id_number]", ZSF_ID)
            resident.fill("input[name=password]", "not-it")
            resident.click("button.primary")
            assert self_service.WRONG in resident.inner_text("[role=alert]")
            resident.fill("input[name=password]", password)
            resident.click("button.primary")
            resident.wait_for_load_state("networkidle")
            assert resident.url.endswith("/me/") and "张三丰" in resident.inner_text("h1")
            assert "控制不满意" in resident.inner_text("table.programs")
            assert resident.locator(".mainnav a").count() == 0  # no staff navigation for a resident
            resident.screenshot(path=str(screenshot_path(tmp_path, "resident_own_record_tablet")), full_page=True)
            resident.click("text=退出")
            resident.wait_for_load_state("networkidle")
            assert resident.url.endswith("/me/login/")
        finally:
            tablet.close()
    assert offsite == [], f"requests left the local server: {offsite}"


def test_a_merge_keeps_each_password_with_its_own_record(people):
    """Both records of a merged pair have a password: the merge moves neither (the duplicate's must never open the
    survivor's record), and the merged record signs nobody in; the survivor's password still works."""
    from gongwei.service import quality

    m.Resident.objects.filter(record_no=LHM).update(id_number=ZSF_ID.replace(ZSF_ID[-4:-1], "999"))
    lhm_id = m.Resident.objects.get(record_no=LHM).id_number
    kept, dropped = issue("vd", ZSF), issue("vd", LHM)
    quality.merge(access.operator(), ZSF, LHM, reason="测试：同一人")
    assert m.ResidentCredential.objects.get(resident__record_no=LHM).resident.record_no == LHM
    with pytest.raises(Refused):
        self_service.sign_in(lhm_id, dropped)
    assert self_service.sign_in(ZSF_ID, kept).actor.own_record == ZSF
