"""The COPD follow-up form (慢阻肺病随访, issue 11 §4): the chronic form with COPD's own rule at entry — no control
target (its 2024 specification was not found, spec.programs.copd), so a visit is classed only by a drug reaction
or a complication; the next visit one routine interval (the configured visits of the year spread evenly) later,
or within 2 weeks after a reaction or complication."""

from __future__ import annotations

import datetime as dt

import pytest

from gongwei.records import models as m
from gongwei.service import encounters
from gongwei.spec import entry as spec_entry
from gongwei.spec.followup import next_visit_on
from gongwei.spec.programs import copd
from gongwei.spec.vocab import FollowUpClass
from tests.test_encounters import MONDAY, OWN, typed, vd

C = FollowUpClass


def test_copd_visits_are_classed_only_by_reaction_or_complication():
    routine = 365 // copd.FOLLOW_UP.for_year(2026).min_visits  # 4 a year (configured, [U]) → 91 days
    plain = copd.propose(MONDAY)
    assert plain.classification is None and plain.why == copd.NO_CONTROL_TARGET
    assert (plain.next_visit_days, plain.next_visit_date) == (routine, next_visit_on(MONDAY, routine))
    assert not plain.refer and not plain.needs_answer
    reaction = copd.propose(MONDAY, adverse_reaction=True)
    assert (reaction.classification, reaction.next_visit_days) == (C.ADVERSE_REACTION, 14)
    worse = copd.propose(MONDAY, complication=True)
    assert worse.classification == C.COMPLICATION and worse.refer and worse.notes == (copd.COMPLICATION_REFERRAL,)
    # before the service existed the first year's rule is used (no KeyError for an old date)
    assert copd.propose(dt.date(2023, 6, 1)).next_visit_days == routine
    assert spec_entry.follow_up_rules("copd") is copd and "copd" in spec_entry.FOLLOW_UP_FORMS


@pytest.fixture
def copd_patient(web_region):
    r = m.Resident.objects.get(record_no=OWN)
    m.Enrollment.objects.create(enrollment_no=f"COPD-{OWN}", resident=r, program="copd", org_unit=r.managing_unit,
                                start_date=dt.date(2025, 3, 1))
    return r


def test_a_copd_follow_up_is_saved_with_the_proposed_date_and_no_measurement_warning(copd_patient):
    check = encounters.propose(vd(), OWN, "copd", typed(sbp="", dbp=""))
    assert check.proposal.classification is None and not any("应测量" in w for w in check.warnings)
    saved = encounters.save_follow_up(vd(), OWN, "copd", typed(
        sbp="", dbp="", symptoms="活动后气短", drug_0="噻托溴铵吸入粉雾剂", dose_0="18", unit_0="μg", freq_0="每日1次"))
    fu = m.ChronicFollowUp.objects.get(encounter_no=saved.encounter_no)
    assert (fu.program, fu.classification, fu.enrollment.enrollment_no) == ("copd", "", f"COPD-{OWN}")
    assert fu.next_visit_date == next_visit_on(MONDAY, 365 // copd.FOLLOW_UP.for_year(MONDAY.year).min_visits)
    assert fu.medication == "噻托溴铵吸入粉雾剂 18μg 每日1次"


def test_a_copd_complication_is_classed_and_its_referral_asked(copd_patient):
    check = encounters.propose(vd(), OWN, "copd", typed(sbp="", dbp="", complication="1"))
    assert check.proposal.classification == C.COMPLICATION and check.proposal.refer
    assert any("转诊" in w for w in check.warnings)


def test_the_copd_form_page_and_a_patient_without_copd(copd_patient):
    from tests.web_fixtures import client_for

    c = client_for("vd")
    html = c.get(f"/resident/{OWN}/follow-up/copd/").content.decode()
    assert "慢阻肺" in html and 'name="service_date"' in html
    m.Enrollment.objects.filter(program="copd").delete()
    with pytest.raises(Exception, match="未纳入慢阻肺"):
        encounters.form(vd(), OWN, "copd")
