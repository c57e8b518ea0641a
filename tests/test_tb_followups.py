"""The tuberculosis follow-up form with the rule at entry (issue 11 §5): the next-visit date by supervision and
phase, regular medication by the doses taken, refusals naming the field, scope and enrolment checked."""

from __future__ import annotations

import datetime as dt

import pytest

from gongwei.records import models as m
from gongwei.service import access, tb_followups
from gongwei.service.errors import BadRequest, Refused
from gongwei.spec.programs import tb
from tests.web_fixtures import VILLAGE, client_for

OWN = f"{VILLAGE}00001"
OTHER = "36042620020100001"
MONDAY = dt.date(2026, 11, 16)


def vd() -> access.Actor:
    return access.operator("vd", command="test")


@pytest.fixture
def tb_patient(web_region):
    r = m.Resident.objects.get(record_no=OWN)
    return m.Enrollment.objects.create(enrollment_no=f"E-TB-{OWN}", resident=r, program="tb", org_unit=r.managing_unit,
                                       start_date=dt.date(2026, 10, 1), tb_supervisor="family")


def visit(**kw) -> dict[str, str]:
    base = {"service_date": MONDAY.isoformat(), "visit_type": "follow_up", "mode": "2", "phase": "intensive"}
    base.update({k: str(x) for k, x in kw.items()})
    return base


def test_next_visit_by_supervision_and_phase(tb_patient):
    # family supervision, intensive phase: every INTENSIVE_VISIT_DAYS (10): 2026-11-16 + 10 = 2026-11-26, a Thursday
    assert tb.INTENSIVE_VISIT_DAYS == 10
    assert tb_followups.propose(vd(), OWN, visit()).next_visit_date == dt.date(2026, 11, 26)
    # continuation phase: monthly (30): 2026-11-16 + 30 = 2026-12-16, a Wednesday
    assert tb_followups.propose(vd(), OWN, visit(phase="continuation")).next_visit_date == \
        MONDAY + dt.timedelta(days=tb.MONTHLY_VISIT_DAYS) == dt.date(2026, 12, 16)
    # medical-staff supervision: monthly even in the intensive phase
    m.Enrollment.objects.filter(pk=tb_patient.pk).update(tb_supervisor="medical")
    assert tb_followups.propose(vd(), OWN, visit()).next_visit_days == tb.MONTHLY_VISIT_DAYS
    # a closing assessment has no next visit
    assert tb_followups.propose(vd(), OWN, visit(visit_type="closing")).next_visit_date is None


def test_regular_medication_and_refusals(tb_patient):
    # 27 of 30: 2700 ≥ 30 × 90 = 2700 → regular at 90%; 26 of 30 → 86%, not regular
    got = tb_followups.propose(vd(), OWN, visit(doses_due=30, doses_taken=27))
    assert got.regular and got.percent == 90
    got = tb_followups.propose(vd(), OWN, visit(doses_due=30, doses_taken=26))
    assert got.regular is False and got.percent == 86
    with pytest.raises(tb_followups.Invalid) as exc:
        tb_followups.save(vd(), OWN, visit(doses_due=30, doses_taken=31, phase="x"))
    assert "不能多于应服药次数" in exc.value.fields["doses_taken"] and "治疗阶段" in exc.value.fields["phase"]
    assert not m.TbFollowUp.objects.exists()


def test_save_edit_scope_and_pages(tb_patient):
    saved = tb_followups.save(vd(), OWN, visit(doses_due=10, doses_taken=10))
    fu = m.TbFollowUp.objects.get(encounter_no=saved.encounter_no)
    assert fu.next_visit_date == dt.date(2026, 11, 26) and fu.enrollment == tb_patient and fu.doses_taken == 10
    page = tb_followups.form(vd(), OWN, saved.encounter_no)
    assert page.initial["doses_due"] == "10" and page.supervisor == "家庭成员"
    tb_followups.save(vd(), OWN, visit(doses_due=10, doses_taken=9), encounter_no=saved.encounter_no,
                      expected_version=page.version)
    with pytest.raises(tb_followups.Stale):
        tb_followups.save(vd(), OWN, visit(), encounter_no=saved.encounter_no, expected_version=page.version)
    with pytest.raises(BadRequest, match="未纳入肺结核"):
        tb_followups.form(vd(), f"{VILLAGE}00002")
    with pytest.raises(Refused):
        tb_followups.save(vd(), OTHER, visit())
    c = client_for("vd")
    assert f"/resident/{OWN}/follow-up/tb/" in c.get(f"/resident/{OWN}/").content.decode()
    assert c.get(f"/resident/{OWN}/follow-up/tb/").status_code == 200
    partial = c.post(f"/resident/{OWN}/follow-up/tb/propose/", visit(doses_due=30, doses_taken=26)).content.decode()
    assert "不规则（86%）" in partial and "2026-11-26" in partial
    assert c.post(f"/resident/{OWN}/follow-up/tb/", visit(doses_due=3, doses_taken=4)).status_code == 400
    assert c.post(f"/resident/{OWN}/follow-up/tb/", visit()).status_code == 302
    assert c.get(f"/resident/{OTHER}/follow-up/tb/").status_code == 403


def test_worklist_rows_of_smi_and_tb_open_their_forms():
    from gongwei.web.pages.encounters import _link

    for program, service in (("tb", "first_visit"), ("tb", "follow_up"), ("tb", "closing"), ("smi", "class_visit")):
        assert _link({"program": program, "service": service, "record_no": OWN}) == \
            f"/resident/{OWN}/follow-up/{program}/"
    assert _link({"program": "tb", "service": "other", "record_no": OWN}) == f"/resident/{OWN}/"
