"""The maternal, child and vaccination forms with the rule at entry (issue 11 §4, ADR 031): the rulebook's schedule
by age (child checks, TCM guidance, prenatal contacts, postpartum visits, vaccine doses by the schedule of the
year), the findings that require a referral, and the service's refusals (out of range, a dose before its minimum
age or interval, a referral missing, a stale edit, scope) — expected figures worked out by hand from the rulebook's
own constants."""

from __future__ import annotations

import datetime as dt

import pytest

from gongwei.records import entry
from gongwei.records import models as m
from gongwei.service import access
from gongwei.service import maternal_child as mc
from gongwei.service.errors import Refused
from gongwei.spec import entry_child_maternal as rules
from gongwei.spec.programs import child, maternal, vaccination
from gongwei.spec.vocab import AccessKind, PostpartumVisitType
from tests.test_admin import _table, id_number
from tests.web_fixtures import VILLAGE, client_for

BIRTH = dt.date(2025, 6, 10)  # the child of 北门村
KID = f"{VILLAGE}00091"
MOTHER = f"{VILLAGE}00092"
LMP = dt.date(2025, 9, 1)  # the mother's last menstrual period
DELIVERED = dt.date(2026, 6, 5)
OTHER = "36042620020100001"  # 高塘村 (vd2's village)


# --- the rulebook ----------------------------------------------------------------------------------------------
def test_child_check_due_by_age_and_the_next_one():
    # 6 months: the 6-month check (window ±15 days), next the 8-month check on 2026-02-10
    got = rules.child_check_due(BIRTH, dt.date(2025, 12, 10))
    assert got.current.months == 6 and got.current.first == dt.date(2025, 11, 25)
    assert got.next.months == 8 and got.next.nominal == dt.date(2026, 2, 10)
    # day 28 after birth: the full-month check (28–30 days)
    day28 = BIRTH + dt.timedelta(days=child.FULL_MONTH_CHECK_DAYS[0])
    assert rules.child_check_due(BIRTH, day28).current.months == 1
    # 2025-07-20 lies between the full-month window (to 07-10) and the 3-month window (from 08-26)
    between = rules.child_check_due(BIRTH, dt.date(2025, 7, 20))
    assert between.current is None and between.next.months == 3 and between.next.nominal == dt.date(2025, 9, 10)
    assert rules.plus_months(dt.date(2025, 1, 31), 1) == dt.date(2025, 2, 28)  # clamped to the month's end


def test_tcm_guidance_at_the_months_the_spec_lists():
    got = rules.tcm_due(BIRTH, dt.date(2025, 12, 10))
    assert got.current.months == child.TCM_MONTHS[0] == 6 and got.next.nominal == dt.date(2026, 6, 10)
    assert rules.tcm_due(BIRTH, dt.date(2025, 10, 10)).current is None  # 4 months: none due
    # the last day served: 36 months + 15 days
    assert rules.tcm_last_day(BIRTH) == dt.date(2028, 6, 10) + dt.timedelta(days=child.TCM_WINDOW.after_days)


def test_child_findings_anaemia_and_development():
    low = rules.ANAEMIA_HB_CHILD - 1
    assert rules.child_findings(8, hemoglobin=low).found and not rules.child_findings(8, hemoglobin=low).refer
    assert not rules.child_findings(8, hemoglobin=rules.ANAEMIA_HB_CHILD).found
    assert not rules.child_findings(rules.ANAEMIA_FROM_MONTHS - 1, hemoglobin=low).found  # under 6 months
    assert rules.child_findings(8, development_ok=False).refer
    assert rules.child_findings(0, weight=2.4, newborn=True).found  # below 2.5 kg: more home visits


def test_prenatal_contacts_early_registration_and_high_risk():
    weeks_before = maternal.EARLY_REGISTRATION_BEFORE_WEEKS - 1
    got = rules.prenatal_due(weeks_before, LMP, registration=True)
    assert got.early_registration and got.contact.key == "prenatal_1"
    assert got.next.key == "prenatal_2" and got.next_from == LMP + dt.timedelta(days=16 * 7)
    late = rules.prenatal_due(maternal.EARLY_REGISTRATION_BEFORE_WEEKS, LMP, registration=True)
    assert not late.early_registration and late.contact is None  # week 13: between the 1st and the 2nd contact
    assert rules.gestational_weeks(LMP, LMP + dt.timedelta(days=7 * 10 + 6)) == 10
    high = rules.prenatal_findings(sbp=rules.PREGNANCY_SBP, dbp=80)
    assert high.refer and high.high_risk and high.referral == rules.PRENATAL_REFERRAL
    assert not rules.prenatal_findings(sbp=rules.PREGNANCY_SBP - 1, dbp=rules.PREGNANCY_DBP - 1).found
    assert rules.prenatal_findings(hemoglobin=rules.ANAEMIA_HB_PREGNANCY - 1).refer


def test_postpartum_visit_type_dates_and_referral():
    day42 = DELIVERED + dt.timedelta(days=maternal.POSTPARTUM_CHECK_DAY)
    assert rules.postpartum_type(DELIVERED, day42 - dt.timedelta(days=1)) == PostpartumVisitType.HOME_VISIT
    assert rules.postpartum_type(DELIVERED, day42) == PostpartumVisitType.CHECK_42D
    dates = rules.postpartum_dates(DELIVERED, DELIVERED + dt.timedelta(days=3))
    assert dates["home_visit_by"] == DELIVERED + dt.timedelta(days=3 + maternal.POSTPARTUM_VISIT_SCHEDULE_DAYS)
    assert dates["check_42d_by"] == day42 + dt.timedelta(days=maternal.POSTPARTUM_CHECK_WINDOW.after_days)
    f = rules.postpartum_findings(PostpartumVisitType.CHECK_42D, recovered=False)
    assert f.refer and f.referral == rules.CHECK_42D_REFERRAL
    assert rules.postpartum_findings(PostpartumVisitType.HOME_VISIT, sbp=150, dbp=95).referral == \
        rules.POSTPARTUM_REFERRAL


def test_vaccine_due_by_the_schedule_of_the_year():
    """At 2 months with HepB 1–2 and BCG given: in 2025 IPV 1 and DTaP 1 (the 2025 change moved DTaP 1 to 2
    months); the same age in 2024 (2021 edition, DTaP 1 at 3 months) only IPV 1."""
    def given(birth):
        return [rules.Given("HepB", 1, birth), rules.Given("BCG", 1, birth),
                rules.Given("HepB", 2, rules.plus_months(birth, 1))]
    now = [d.dose.code for d in rules.vaccine_due(BIRTH, rules.plus_months(BIRTH, 2), given(BIRTH))
           if d.from_date <= rules.plus_months(BIRTH, 2)]
    assert sorted(now) == ["V2.DTaP.1", "V2.IPV.1"]
    born_2024 = dt.date(2024, 6, 10)
    then = [d.dose.code for d in rules.vaccine_due(born_2024, rules.plus_months(born_2024, 2), given(born_2024))
            if d.from_date <= rules.plus_months(born_2024, 2)]
    assert then == ["V2.IPV.1"]
    assert vaccination.schedule_for(2024).dose("V2.DTaP.1").months == 3


def test_dose_before_minimum_age_or_interval_is_a_problem():
    mmr = vaccination.schedule_for(2026).dose("V2.MMR.1")
    eight = rules.plus_months(BIRTH, mmr.months)  # 2026-02-10
    early = rules.dose_problems("MMR", 1, eight - dt.timedelta(days=1), BIRTH, [])
    assert len(early) == 1 and "最小接种年龄为8月龄" in early[0] and str(eight) in early[0]
    assert rules.dose_problems("MMR", 1, eight, BIRTH, []) == []
    # HepB 3 needs 60 days after HepB 2 (and 6 months of age): HepB 2 on 2025-12-01, HepB 3 on 2026-01-29 is 59 days
    hepb2 = [rules.Given("HepB", 2, dt.date(2025, 12, 1))]
    gap = rules.MIN_INTERVAL_DAYS[("HepB", 3)]
    too_soon = rules.dose_problems("HepB", 3, dt.date(2025, 12, 1) + dt.timedelta(days=gap - 1), BIRTH, hepb2)
    assert too_soon and f"至少 {gap} 天" in too_soon[0] and f"仅间隔 {gap - 1} 天" in too_soon[0]
    assert rules.dose_problems("HepB", 3, dt.date(2025, 12, 1) + dt.timedelta(days=gap), BIRTH, hepb2) == []
    assert "重复" in rules.dose_problems("HepB", 2, dt.date(2026, 1, 1), BIRTH, hepb2)[0]


# --- the service -------------------------------------------------------------------------------------------------
def add_people() -> None:
    """A girl born 2025-06-10 and a mother (pregnant from LMP 2025-09-01, delivered 2026-06-05) in 北门村."""
    residents = [
        dict(record_no=KID, name="王小花", sex="2", birth_date=BIRTH.isoformat(), id_type="01",
             id_number=id_number("360426", BIRTH.isoformat(), "912"), phone="13800009134", managing_unit=VILLAGE,
             residence_type="1", address="北门村1号"),
        dict(record_no=MOTHER, name="李芳", sex="2", birth_date="1996-03-02", id_type="01",
             id_number=id_number("360426", "1996-03-02", "922"), phone="13800009234", managing_unit=VILLAGE,
             residence_type="1", address="北门村1号"),
    ]
    episode = [dict(enrollment_no=f"P-{MOTHER}", resident=MOTHER, program="pregnancy", org_unit=VILLAGE,
                    start_date="2025-11-01", lmp_date=LMP.isoformat(), delivery_date="", discharge_date="")]
    entry.submit({"residents": _table(residents), "enrollments": _table(episode)}, actor="test", kind="synth")


@pytest.fixture
def people(web_region):
    add_people()
    return web_region


@pytest.fixture
def live_people(live_region):
    add_people()
    return live_region


def vd() -> access.Actor:
    return access.operator("vd", command="test")


def deliver() -> None:
    m.Enrollment.objects.filter(enrollment_no=f"P-{MOTHER}").update(delivery_date=DELIVERED,
                                                                     discharge_date=DELIVERED + dt.timedelta(days=3))


def test_child_check_saves_the_age_in_months_and_proposes_the_next(people):
    on = dt.date(2025, 12, 10)
    got = mc.propose(vd(), KID, "child-check", {"service_date": on.isoformat(), "weight": "7.6", "height": "66.0"})
    assert got.next_date == dt.date(2026, 2, 10) and "8月龄" in got.next_name and not got.errors
    low, high = rules.RANGES["child_checks.weight"]
    with pytest.raises(mc.Invalid) as exc:
        mc.save(vd(), KID, "child-check", {"service_date": on.isoformat(), "weight": str(int(high) + 1)})
    assert "体重" in exc.value.fields["weight"] and f"{high:g}" in exc.value.fields["weight"]
    saved = mc.save(vd(), KID, "child-check", {"service_date": on.isoformat(), "weight": "7.6", "height": "66.0",
                                                "hemoglobin": "118", "development_ok": "1", "eye_check": "1"})
    row = m.ChildCheck.objects.get(encounter_no=saved.encounter_no)
    assert row.age_months == 6 and str(row.weight) == "7.6" and row.eye_check and row.development_ok
    assert row.provider.code == "S-vd" and row.batch.source.startswith("儿童健康检查录入")
    # development not passed: a referral is required, or a reason
    with pytest.raises(mc.Invalid) as exc:
        mc.save(vd(), KID, "child-check", {"service_date": on.isoformat(), "weight": "7.6"})
    assert "发育" in exc.value.fields["referral"] and "未转诊的原因" in exc.value.fields["referral"]
    kept = mc.save(vd(), KID, "child-check", {"service_date": on.isoformat(), "weight": "7.6"}, reason="家长拒绝")
    assert "家长拒绝" in m.ChildCheck.objects.get(encounter_no=kept.encounter_no).batch.source


def test_tcm_and_newborn_forms_by_age(people):
    tcm = mc.save(vd(), KID, "child-tcm", {"service_date": "2025-12-12"})
    assert m.ChildTcmGuidance.objects.get(encounter_no=tcm.encounter_no).age_months == 6
    with pytest.raises(mc.Invalid) as exc:  # 5 months old: no newborn visit any more
        mc.save(vd(), KID, "newborn-visit", {"service_date": "2025-11-10", "weight": "3.4"})
    assert f"{child.NEWBORN_VISIT_WITHIN_DAYS}天内" in exc.value.fields["service_date"]
    nb = mc.save(vd(), KID, "newborn-visit", {"service_date": "2025-06-15", "weight": "3.4", "feeding": "1"})
    assert nb.check.next_date == BIRTH + dt.timedelta(days=child.FULL_MONTH_CHECK_DAYS[0])  # the full-month check
    # an adult: the page says why, no save
    page = mc.form(vd(), f"{VILLAGE}00001", "child-check")
    assert "不属于0～6岁儿童" in page.blocked


def test_vaccination_proposes_the_dose_due_and_refuses_one_too_early(people):
    for vaccine, dose, on in (("HepB", 1, "2025-06-10"), ("BCG", 1, "2025-06-11"), ("HepB", 2, "2025-07-10")):
        mc.save(vd(), KID, "vaccination", {"service_date": on, "vaccine": vaccine, "dose_no": str(dose)})
    got = mc.propose(vd(), KID, "vaccination", {"service_date": "2025-08-11"})
    assert "脊灰灭活疫苗第1剂" in dict(got.facts)["此日应种"] and "百白破第1剂" in dict(got.facts)["此日应种"]
    assert got.stored["proposed"] in {("IPV", 1), ("DTaP", 1)}
    with pytest.raises(mc.Invalid) as exc:
        mc.save(vd(), KID, "vaccination", {"service_date": "2026-02-09", "vaccine": "MMR", "dose_no": "1"})
    assert "最小接种年龄为8月龄" in exc.value.fields["dose_no"]
    saved = mc.save(vd(), KID, "vaccination", {"service_date": "2025-08-11", "vaccine": "IPV", "dose_no": "1",
                                               "lot_no": "202501A"})
    # next: DTaP 1 was due from 2025-08-10 already, so the next date after today is the first still to come
    assert saved.check.next_date is not None and saved.check.next_date > dt.date(2025, 8, 11)
    assert m.Vaccination.objects.filter(resident__record_no=KID).count() == 4


def test_prenatal_registration_high_risk_and_postpartum(people):
    ten_weeks = LMP + dt.timedelta(days=70)  # 10 completed weeks
    first = mc.save(vd(), MOTHER, "prenatal", {"service_date": ten_weeks.isoformat(), "sbp": "112", "dbp": "70",
                                                "hemoglobin": "120"})
    row = m.PrenatalVisit.objects.get(encounter_no=first.encounter_no)
    assert row.is_registration and row.gestational_weeks == 10 and not row.high_risk
    assert row.enrollment.enrollment_no == f"P-{MOTHER}"
    assert first.check.next_date == LMP + dt.timedelta(days=16 * 7)  # the 2nd contact from week 16
    assert dict(first.check.facts)["早孕建册"].startswith("是")
    week18 = LMP + dt.timedelta(days=18 * 7)
    values = {"service_date": week18.isoformat(), "sbp": str(rules.PREGNANCY_SBP + 5), "dbp": "92"}
    with pytest.raises(mc.Invalid) as exc:
        mc.save(vd(), MOTHER, "prenatal", values)
    assert "妊娠期高血压" in exc.value.fields["referral"] and rules.PRENATAL_REFERRAL in exc.value.fields["referral"]
    second = mc.save(vd(), MOTHER, "prenatal", {**values, "referral": "1"})
    row = m.PrenatalVisit.objects.get(encounter_no=second.encounter_no)
    assert row.high_risk and row.referral and not row.is_registration and row.gestational_weeks == 18
    assert second.check.next_date == week18 + dt.timedelta(days=rules.REFERRAL_FOLLOW_UP_DAYS)
    # postpartum only after the delivery is recorded
    with pytest.raises(mc.Invalid):
        mc.save(vd(), MOTHER, "postpartum", {"service_date": "2026-06-10"})
    deliver()
    home = mc.save(vd(), MOTHER, "postpartum", {"service_date": "2026-06-10", "recovered": "1"})
    assert m.PostpartumVisit.objects.get(encounter_no=home.encounter_no).visit_type == PostpartumVisitType.HOME_VISIT
    assert home.check.next_date == DELIVERED + dt.timedelta(days=maternal.POSTPARTUM_CHECK_DAY)
    day42 = DELIVERED + dt.timedelta(days=maternal.POSTPARTUM_CHECK_DAY)
    check = mc.save(vd(), MOTHER, "postpartum", {"service_date": day42.isoformat(), "recovered": "1"})
    assert m.PostpartumVisit.objects.get(encounter_no=check.encounter_no).visit_type == PostpartumVisitType.CHECK_42D


def test_edit_with_optimistic_locking_keeps_history(people):
    saved = mc.save(vd(), KID, "child-check", {"service_date": "2025-12-10", "weight": "7.6", "development_ok": "1"})
    page = mc.form(vd(), KID, "child-check", saved.encounter_no)
    assert page.version == saved.version and page.initial["weight"] == "7.6"
    edited = mc.save(vd(), KID, "child-check", {"service_date": "2025-12-10", "weight": "7.8", "development_ok": "1"},
                     encounter_no=saved.encounter_no, expected_version=page.version)
    assert edited.version == page.version + 1
    with pytest.raises(mc.Stale):
        mc.save(vd(), KID, "child-check", {"service_date": "2025-12-10", "weight": "8.0", "development_ok": "1"},
                encounter_no=saved.encounter_no, expected_version=page.version)
    row = m.ChildCheck.objects.get(encounter_no=saved.encounter_no)
    assert str(row.weight) == "7.8"
    # the change is kept: 7.6 before, 7.8 after
    log = m.ChangeLog.objects.filter(model="records.ChildCheck", object_pk=str(row.pk), action="update").get()
    assert "7.6" in str(log.before) and "7.8" in str(log.after)


def test_scope_and_audit(people):
    with pytest.raises(Refused):
        mc.propose(vd(), OTHER, "vaccination", {"service_date": "2025-08-11"})
    with pytest.raises(Refused):
        mc.save(vd(), OTHER, "child-check", {"service_date": "2025-12-10"})
    mc.form(vd(), KID, "vaccination")
    log = m.AccessLog.objects.filter(kind=AccessKind.SERVICE).latest("at")
    assert list(log.people.values_list("resident__record_no", flat=True)) == [KID]


# --- the pages -----------------------------------------------------------------------------------------------------
def test_pages_link_propose_and_save(people):
    c = client_for("vd")
    record = c.get(f"/resident/{KID}/").content.decode()
    for slug in ("child-check", "child-tcm", "vaccination"):
        assert f"/resident/{KID}/{slug}/" in record
    assert f"/resident/{KID}/prenatal/" not in record
    assert f"/resident/{MOTHER}/prenatal/" in c.get(f"/resident/{MOTHER}/").content.decode()
    html = c.get(f"/resident/{KID}/vaccination/").content.decode()
    assert f'hx-post="/resident/{KID}/vaccination/propose/"' in html
    partial = c.post(f"/resident/{KID}/child-check/propose/", {"service_date": "2025-12-10", "weight": "7.6"})
    assert "2026-02-10" in partial.content.decode() and "8月龄健康检查" in partial.content.decode()
    refused = c.post(f"/resident/{KID}/vaccination/", {"service_date": "2026-02-09", "vaccine": "MMR", "dose_no": "1"})
    assert refused.status_code == 400 and "最小接种年龄为8月龄" in refused.content.decode()
    saved = c.post(f"/resident/{KID}/child-check/", {"service_date": "2025-12-10", "weight": "7.6",
                                                       "development_ok": "1"})
    assert saved.status_code == 302 and saved["Location"] == f"/resident/{KID}/"
    assert "儿童健康检查已保存：下次8月龄健康检查 2026-02-10" in c.get(f"/resident/{KID}/").content.decode()
    assert client_for("vd2").get(f"/resident/{KID}/child-check/").status_code == 403
    # the county supervisor sees the form (in scope) but may not write: no save button, a POST is refused
    sup = client_for("sup")
    shown = sup.get(f"/resident/{KID}/child-check/")
    assert shown.status_code == 200 and 'type="submit"' not in shown.content.decode()
    before = m.ChildCheck.objects.count()
    assert sup.post(f"/resident/{KID}/child-check/", {"service_date": "2025-12-10", "weight": "7.6",
                                                       "development_ok": "1"}).status_code == 403
    assert m.ChildCheck.objects.count() == before


# --- a real browser ------------------------------------------------------------------------------------------------
def test_village_doctor_enters_a_child_check_and_a_vaccination(chromium, live_server, live_people, tmp_path):
    """record page → 录入 · 儿童健康检查 → the 6-month check and the next (8-month) date as typed → save → 录入 · 预防接种
    → 麻腮风 dose 1 at 6 months refused by its minimum age → 流脑 A dose 1 → the next dose date → save."""
    from tests.web_fixtures import browser_as, screenshot_path

    on = dt.date(2025, 12, 10)  # 6 months old
    eight_months = rules.plus_months(BIRTH, 8)  # 2026-02-10: the 8-month check, and MMR 1's minimum age
    next_dose = min(d.from_date for d in rules.vaccine_due(BIRTH, on, [rules.Given("MPSV-A", 1, on)])
                    if d.from_date > on)
    assert next_dose == eight_months  # MMR 1 and JE 1 at 8 months come before MPSV-A 2 at 9
    with browser_as(chromium, live_server, "vd") as (page, offsite):
        page.goto(f"{live_server.url}/resident/{KID}/")
        page.click("text=录入 · 儿童健康检查")
        page.wait_for_load_state("networkidle")
        page.fill("input[name=service_date]", on.isoformat())
        page.fill("input[name=weight]", "7.6")
        page.fill("input[name=height]", "66.0")
        page.fill("input[name=hemoglobin]", "105")
        page.wait_for_function("document.querySelector('#proposal').textContent.includes('贫血')")
        text = page.inner_text("#proposal")
        assert page.inner_text("#proposed-date") == eight_months.isoformat()
        assert "6月龄健康检查" in text and "贫血" in text  # 105 g/L below 110 at 6 months
        page.screenshot(path=str(screenshot_path(tmp_path, "child_check_form")), full_page=True)
        page.click("button:has-text('保存')")
        page.wait_for_load_state("networkidle")
        assert page.url.endswith(f"/resident/{KID}/")
        assert f"儿童健康检查已保存：下次8月龄健康检查 {eight_months}" in page.inner_text("main")
        page.click("text=录入 · 预防接种")
        page.wait_for_load_state("networkidle")
        page.fill("input[name=service_date]", on.isoformat())
        page.select_option("select[name=vaccine]", "MMR")
        page.fill("input[name=dose_no]", "1")
        page.wait_for_function("document.querySelector('#proposal .field-errors') && "
                               "document.querySelector('#proposal .field-errors').textContent.includes('最小接种年龄')")
        page.screenshot(path=str(screenshot_path(tmp_path, "vaccination_too_early")), full_page=True)
        page.select_option("select[name=vaccine]", "MPSV-A")
        page.wait_for_selector("#proposal .field-errors", state="detached")
        page.wait_for_function("document.querySelector('#proposed-date') && "
                               f"document.querySelector('#proposed-date').textContent == '{next_dose}'")
        page.screenshot(path=str(screenshot_path(tmp_path, "vaccination_form")), full_page=True)
        page.click("button:has-text('保存')")
        page.wait_for_load_state("networkidle")
        assert f"预防接种已保存：下次麻腮风第1剂 {next_dose}" in page.inner_text("main")
        page.screenshot(path=str(screenshot_path(tmp_path, "record_after_child_forms")), full_page=True)
    assert offsite == [], f"requests left the local server: {offsite}"
    assert m.Vaccination.objects.filter(resident__record_no=KID, vaccine="MPSV-A", dose_no=1).exists()


def test_high_risk_prenatal_visit_shows_the_referral_in_the_browser(chromium, live_server, live_people, tmp_path):
    """A prenatal visit at 18 weeks with 150/95: the alert names 妊娠期高血压 and the referral the specification
    requires; saving without a referral or a reason is refused on the page."""
    from tests.web_fixtures import browser_as, screenshot_path

    week18 = LMP + dt.timedelta(days=18 * 7)
    with browser_as(chromium, live_server, "vd") as (page, offsite):
        page.goto(f"{live_server.url}/resident/{MOTHER}/")
        page.click("text=录入 · 产前随访")
        page.wait_for_load_state("networkidle")
        page.fill("input[name=service_date]", week18.isoformat())
        page.fill("input[name=sbp]", "150")
        page.fill("input[name=dbp]", "95")
        page.wait_for_selector("#proposal .emergency")
        alert = page.inner_text("#proposal .emergency")
        assert "妊娠期高血压" in alert and rules.PRENATAL_REFERRAL in alert
        assert "第2次产前检查" in page.inner_text("#proposal")  # 18 weeks: the 16–20 week contact
        page.screenshot(path=str(screenshot_path(tmp_path, "prenatal_high_risk")), full_page=True)
        page.click("button:has-text('保存')")
        page.wait_for_load_state("networkidle")
        assert "未转诊的原因" in page.inner_text("main") and not m.PrenatalVisit.objects.exists()
    assert offsite == [], f"requests left the local server: {offsite}"


def test_timings_of_the_forms_on_the_small_region(people):
    """Figures for the report (no threshold): propose and save of a child check and a vaccination."""
    import time

    def ms(call, n=10):
        started = time.perf_counter()
        for _ in range(n):
            call()
        return (time.perf_counter() - started) * 1000 / n

    actor = vd()
    check = {"service_date": "2025-12-10", "weight": "7.6", "development_ok": "1"}
    shot = {"service_date": "2025-12-10", "vaccine": "MPSV-A", "dose_no": "1"}
    propose_check = ms(lambda: mc.propose(actor, KID, "child-check", check))
    propose_shot = ms(lambda: mc.propose(actor, KID, "vaccination", shot))
    save_check = ms(lambda: mc.save(actor, KID, "child-check", check))
    assert m.ChildCheck.objects.filter(resident__record_no=KID).count() == 10
    print(f"\npropose child check {propose_check:.1f} ms; propose vaccination {propose_shot:.1f} ms; "
          f"save child check {save_check:.1f} ms")


def test_worklist_rows_of_the_maternal_child_programs_open_their_form():
    """A due row opens the form that records it: checks and TCM guidance by their service key's prefix, the
    postpartum visit and the 42-day check on the postpartum form, every dose on the vaccination form, and the
    vaccination certificate (no form) on the record page."""
    from gongwei.spec.programs import child, maternal, vaccination
    from gongwei.web.pages.encounters import _link

    def link(program, service):
        return _link({"program": program, "service": service, "record_no": "R1"})

    for s in child.SCHEDULE:
        expected = {"newborn_visit": "newborn-visit"}.get(s.key) or ("child-tcm" if s.key.startswith("tcm_")
                                                                      else "child-check")
        assert link("child", s.key) == f"/resident/R1/{expected}/", s.key
    for s in maternal.SCHEDULE:
        expected = "postpartum" if s.key in ("postpartum_visit", "check_42d") else "prenatal"
        assert link("maternal", s.key) == f"/resident/R1/{expected}/", s.key
    assert link("vaccination", vaccination.SCHEDULE[0].key) == "/resident/R1/vaccination/"
    assert link("vaccination", "certificate") == "/resident/R1/"
