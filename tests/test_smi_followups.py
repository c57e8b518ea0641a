"""The severe-mental-illness follow-up form with the rule at entry (issue 11 §5): the risk grade is required, the
class and the next-visit date come from spec.programs.smi, scope and enrolment are checked."""

from __future__ import annotations

import datetime as dt

import pytest

from gongwei.records import models as m
from gongwei.service import access, smi_followups
from gongwei.service.errors import BadRequest, Refused
from gongwei.spec import entry as spec_entry
from gongwei.spec.followup import next_visit_on
from gongwei.spec.programs import smi
from gongwei.spec.vocab import SmiClass
from tests.web_fixtures import VILLAGE, client_for

OWN = f"{VILLAGE}00001"
NOT_ENROLLED = f"{VILLAGE}00002"
OTHER = "36042620020100001"
MONDAY = dt.date(2026, 11, 16)


def vd() -> access.Actor:
    return access.operator("vd", command="test")


@pytest.fixture
def smi_patient(web_region):
    r = m.Resident.objects.get(record_no=OWN)
    return m.Enrollment.objects.create(enrollment_no=f"E-SMI-{OWN}", resident=r, program="smi",
                                       org_unit=r.managing_unit, start_date=dt.date(2024, 1, 5))


def visit(**kw) -> dict[str, str]:
    base = {"service_date": MONDAY.isoformat(), "mode": "2", "risk_grade": "3", "living_at_home": "1"}
    base.update({k: str(x) for k, x in kw.items()})
    return base


def test_class_and_next_visit_by_the_risk_grade(smi_patient):
    for grade, cls in smi.CLASS_BY_RISK_GRADE.items():
        got = smi_followups.propose(vd(), OWN, visit(risk_grade=grade))
        assert got.classification == cls.value
        assert got.next_visit_date == next_visit_on(MONDAY, smi.NEXT_VISIT_DAYS[cls])
    # by hand: 2026-11-16 + 14 days = 2026-11-30, a Monday; + 90 days = 2027-02-14, a Sunday → Friday 2027-02-12
    assert smi_followups.propose(vd(), OWN, visit(risk_grade=3)).next_visit_date == dt.date(2026, 11, 30)
    stable = smi_followups.propose(vd(), OWN, visit(risk_grade=0))
    assert stable.class_name == "病情稳定" and stable.next_visit_date == dt.date(2027, 2, 12)
    assert smi_followups.propose(vd(), OWN, visit(risk_grade="")).classification == ""


def test_risk_grade_required_and_bounded(smi_patient):
    with pytest.raises(smi_followups.Invalid) as exc:
        smi_followups.save(vd(), OWN, visit(risk_grade=""))
    assert "危险性评估为必填项" in exc.value.fields["risk_grade"]
    low, high = spec_entry.HARD_BOUNDS["risk_grade"]
    with pytest.raises(smi_followups.Invalid) as exc:
        smi_followups.save(vd(), OWN, visit(risk_grade=int(high) + 2, insight="9"))
    assert f"{low:g}–{high:g}" in exc.value.fields["risk_grade"] and "自知力" in exc.value.fields["insight"]
    assert not m.SmiFollowUp.objects.exists()


def test_save_stores_the_class_and_date_and_edits_with_locking(smi_patient):
    saved = smi_followups.save(vd(), OWN, visit(risk_grade=1, insight="2", on_medication="1", adherence="1"))
    fu = m.SmiFollowUp.objects.get(encounter_no=saved.encounter_no)
    assert fu.classification == SmiClass.BASICALLY_STABLE and fu.risk_grade == 1 and fu.living_at_home
    assert fu.next_visit_date == next_visit_on(MONDAY, smi.NEXT_VISIT_DAYS[SmiClass.BASICALLY_STABLE])
    assert fu.enrollment == smi_patient and fu.on_medication and not fu.adverse_reaction
    page = smi_followups.form(vd(), OWN, saved.encounter_no)
    assert page.initial["risk_grade"] == "1"
    smi_followups.save(vd(), OWN, visit(risk_grade=0), encounter_no=saved.encounter_no,
                       expected_version=page.version)
    with pytest.raises(smi_followups.Stale):
        smi_followups.save(vd(), OWN, visit(risk_grade=4), encounter_no=saved.encounter_no,
                           expected_version=page.version)
    assert m.SmiFollowUp.objects.get(encounter_no=saved.encounter_no).classification == SmiClass.STABLE


def test_scope_and_enrolment(smi_patient):
    with pytest.raises(BadRequest, match="未纳入严重精神障碍"):
        smi_followups.form(vd(), NOT_ENROLLED)
    with pytest.raises(Refused):
        smi_followups.save(vd(), OTHER, visit())
    c = client_for("vd")
    assert c.get(f"/resident/{OWN}/").content.decode().count(f"/resident/{OWN}/follow-up/smi/") == 1
    assert c.get(f"/resident/{OWN}/follow-up/smi/").status_code == 200
    partial = c.post(f"/resident/{OWN}/follow-up/smi/propose/", visit()).content.decode()
    assert "病情不稳定" in partial and "2026-11-30" in partial
    refused = c.post(f"/resident/{OWN}/follow-up/smi/", visit(risk_grade=""))
    assert refused.status_code == 400 and "危险性评估为必填项" in refused.content.decode()
    saved = c.post(f"/resident/{OWN}/follow-up/smi/", visit())
    assert saved.status_code == 302
    assert "随访已保存：病情不稳定，下次随访 2026-11-30" in c.get(f"/resident/{OWN}/").content.decode()
    assert c.get(f"/resident/{OTHER}/follow-up/smi/").status_code == 403
    assert c.post(f"/resident/{OTHER}/follow-up/smi/", visit()).status_code == 403


def test_doctor_enters_an_smi_visit_and_filters_the_worklist_by_team(chromium, live_server, live_region, tmp_path):
    """risk grade 3 → 病情不稳定 and a date two weeks on, shown as chosen; the township's worklist filtered to a
    family-doctor team."""
    from gongwei.service import residents as rs
    from tests.web_fixtures import browser_as, screenshot_path

    r = m.Resident.objects.get(record_no=OWN)
    m.Enrollment.objects.create(enrollment_no=f"E-SMI-{OWN}", resident=r, program="smi", org_unit=r.managing_unit,
                                start_date=dt.date(2024, 1, 5))
    vd_staff = m.Staff.objects.get(code="S-vd")
    m.TeamMembership.objects.create(team=m.Team.objects.get(code="T-1"), staff=vd_staff)
    m.Resident.objects.filter(record_no=OWN).update(responsible_doctor=vd_staff)
    rs.prepare_due(access.operator())
    with browser_as(chromium, live_server, "vd") as (page, offsite):
        page.goto(f"{live_server.url}/resident/{OWN}/")
        page.click("text=录入随访 · 严重精神障碍患者管理")
        page.wait_for_load_state("networkidle")
        page.select_option("select[name=risk_grade]", "3")
        page.wait_for_function("document.querySelector('#proposed-class') && "
                               "document.querySelector('#proposed-class').textContent.includes('病情不稳定')")
        page.screenshot(path=str(screenshot_path(tmp_path, "smi_follow_up_form")), full_page=True)
    with browser_as(chromium, live_server, "ts") as (page, more):
        page.goto(f"{live_server.url}/unit/360426100000/worklist/")
        page.select_option("select[name=team]", "T-1")
        page.click("button:has-text('筛选')")
        page.wait_for_load_state("networkidle")
        assert "team=T-1" in page.url and OWN in page.inner_text("main")
        assert f"{VILLAGE}00002" not in page.inner_text("main")
        page.screenshot(path=str(screenshot_path(tmp_path, "worklist_team_filter")), full_page=True)
    assert offsite == [] and more == [], f"requests left the local server: {offsite + more}"
