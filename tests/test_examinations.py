"""The health examination form and the elderly TCM questionnaire with the rule at entry (issue 11 §5): the arm gap
asks for a re-measurement, the annual package is the one definition E1/E2 and C-03 read, evaluation and guidance
are required, an emergency is flagged; the questionnaire is scored by the rulebook and stored as scored."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from gongwei.records import models as m
from gongwei.service import access, examinations
from gongwei.service.errors import Refused
from gongwei.spec import constitution
from gongwei.spec import entry as spec_entry
from gongwei.spec.programs import elderly, hypertension
from gongwei.spec.vocab import AccessKind
from tests.web_fixtures import VILLAGE, client_for

OWN = f"{VILLAGE}00001"  # 北门村, born 1950-01-10: 76 on the exam day, the elderly package applies
OTHER = "36042620020100001"  # 高塘村 (vd2's village)
MONDAY = dt.date(2026, 11, 16)

# Every recordable item of the package filled with a plausible value (lab panels with one result each or more).
FULL = {
    "service_date": MONDAY.isoformat(), "trigger": "elderly",
    "self_rated_health": "2", "adl_score": "0", "cognition": "1", "affect": "1", "symptoms": "无症状",
    "exercise_frequency": "2", "smoking_status": "1", "drinking_frequency": "1",
    "temperature": "36.5", "pulse": "72", "respiration": "18", "height": "165.0", "weight": "62.0", "waist": "84",
    "heart_rate": "72", "sbp_left": "138", "dbp_left": "82", "sbp_right": "134", "dbp_right": "80",
    "fasting_glucose": "5.6", "hemoglobin": "130", "wbc": "6.2", "platelets": "210", "urine_protein": "-",
    "urine_glucose": "-", "alt": "25", "ast": "22", "total_bilirubin": "12.0", "creatinine": "80", "urea": "5.2",
    "total_cholesterol": "4.80", "triglycerides": "1.20", "ldl": "2.60", "hdl": "1.30", "ecg": "1",
    "abdominal_ultrasound": "1", "health_evaluation": "1", "health_guidance": "定期体检，适量运动",
}


def vd() -> access.Actor:
    return access.operator("vd", command="test")


def exam(**kw) -> dict[str, str]:
    return {**FULL, **{k: str(x) for k, x in kw.items()}}


# --- the rulebook ----------------------------------------------------------------------------------------------
def test_exam_completeness_is_the_package_of_e1_e2_and_c03():
    year = MONDAY.year
    labels = {item.label for _, item in elderly.recordable_items(year)}
    # nothing typed: every recordable item of the package is missing, and nothing else
    assert {x for items in spec_entry.exam_missing({}, year).values() for x in items} == labels
    assert spec_entry.exam_missing(FULL, year) == {}
    # 心电图 "9 未检查" counts as not done; a lab panel is recorded by any one of its results
    assert spec_entry.exam_missing({**FULL, "ecg": "9"}, year) == {"tests": ["心电图"]}
    assert spec_entry.exam_missing({**FULL, "wbc": "", "platelets": ""}, year) == {}
    assert spec_entry.exam_missing({**FULL, "hemoglobin": "", "wbc": "", "platelets": ""}, year) == \
        {"tests": ["血常规"]}
    # guidance: 健康指导 or 危险因素控制, either box
    assert spec_entry.exam_missing({**FULL, "health_guidance": "", "risk_factor_control": "戒烟"}, year) == {}
    assert spec_entry.exam_missing({**FULL, "health_evaluation": ""}, year) == {"guidance": ["健康评价"]}


def test_exam_emergency_on_either_arm_uses_the_hypertension_thresholds():
    e = hypertension.EMERGENCY_SBP
    assert spec_entry.exam_emergency(((e - 1, 90), (e - 1, 90))) == ()
    found = spec_entry.exam_emergency(((140, 90), (e, 90)))
    assert len(found) == 1 and found[0].startswith("右侧收缩压")


def test_stored_constitution_is_the_scored_one():
    # all 1: each biased sum 4 (four items × 1) → 否; 平和质 = item 1 (1) + items 2, 4, 5, 13 reversed (5 each) = 21
    # ≥ 17 with every biased sum < 8 → 是
    assert constitution.stored_result("1" * 33) == "balanced"
    # 气虚质 items 2, 3, 4, 14 at 3: sum 12 ≥ 11 → 是; 平和质 = 1 + 3 + 3 + 5 + 5 = 17 but 气虚 12 ≥ 10 → 否
    answers = ["1"] * 33
    for item in constitution.ITEMS[constitution.Constitution.QI_DEFICIENCY]:
        answers[item - 1] = "3"
    assert constitution.stored_result("".join(answers)) == "qi_deficiency"
    assert len(constitution.QUESTIONS) == constitution.QUESTION_COUNT


# --- the service: examination -----------------------------------------------------------------------------------
def test_arm_gap_over_the_threshold_asks_for_a_remeasurement(web_region):
    limit = spec_entry.ARM_GAP_REMEASURE
    gap = limit + 5  # 25 mmHg with the rulebook's 20
    got = examinations.propose_exam(vd(), OWN, exam(sbp_left=140, sbp_right=140 + gap))
    assert got.arm_gap.gap == gap and got.arm_gap.remeasure and got.needs_remeasure
    with pytest.raises(examinations.Invalid) as exc:
        examinations.save_exam(vd(), OWN, exam(sbp_left=140, sbp_right=140 + gap))
    assert "隔天重测" in exc.value.fields["sbp_right"] and "已复测" in exc.value.fields["sbp_right"]
    assert not m.HealthExamination.objects.filter(service_date=MONDAY).exists()
    # a gap at the review threshold only: shown, not blocking
    review = examinations.propose_exam(vd(), OWN, exam(sbp_left=140, sbp_right=140 + limit))
    assert review.arm_gap.review and not review.needs_remeasure
    saved = examinations.save_exam(vd(), OWN, exam(sbp_left=140, sbp_right=140 + gap, remeasured="1"))
    stored = m.HealthExamination.objects.get(encounter_no=saved.encounter_no)
    assert (stored.sbp_left, stored.sbp_right) == (140, 140 + gap)
    assert "已复测" in stored.batch.source


def test_save_stores_every_field_and_the_bmi_and_says_the_package_is_complete(web_region):
    saved = examinations.save_exam(vd(), OWN, exam())
    x = m.HealthExamination.objects.get(encounter_no=saved.encounter_no)
    # 62.0 kg / 1.65² m² = 62 / 2.7225 = 22.77 → 22.8
    assert x.bmi == Decimal("22.8")
    assert (x.sbp_left, x.dbp_left, x.ecg, x.health_evaluation, x.urine_protein) == (138, 82, "1", "1", "-")
    assert x.total_cholesterol == Decimal("4.80") and x.provider.code == "S-vd" and x.org_unit.code == VILLAGE
    assert saved.summary == "年度体检项目完整"
    partial = examinations.save_exam(vd(), OWN, exam(ecg="9", alt="", ast="", total_bilirubin=""))
    assert "辅助检查缺肝功能、心电图" in partial.summary


def test_evaluation_and_guidance_are_required_and_bad_values_refused_with_the_range(web_region):
    with pytest.raises(examinations.Invalid) as exc:
        examinations.save_exam(vd(), OWN, exam(health_evaluation="", health_guidance=""))
    assert "健康评价" in exc.value.fields["health_evaluation"] and "健康指导" in exc.value.fields["health_guidance"]
    low, high = spec_entry.HARD_BOUNDS["health_examinations.height"]
    with pytest.raises(examinations.Invalid) as exc:
        examinations.save_exam(vd(), OWN, exam(height=int(high) + 1, dbp_left=150, ecg="7"))
    f = exc.value.fields
    assert "身高" in f["height"] and f"{low:g}–{high:g}" in f["height"]
    assert "左侧舒张压" in f["dbp_left"] and "必须小于" in f["dbp_left"]  # 150 ≥ 138
    assert "心电图" in f["ecg"] and "值域" in f["ecg"]
    assert not m.HealthExamination.objects.filter(service_date=MONDAY).exists()


def test_emergency_pressure_is_flagged_with_the_referral(web_region):
    got = examinations.propose_exam(vd(), OWN, exam(sbp_left=hypertension.EMERGENCY_SBP + 2, dbp_left=100))
    assert got.emergency and got.emergency_referral == hypertension.EMERGENCY_REFERRAL


def test_exam_edit_with_optimistic_locking_and_scope(web_region):
    saved = examinations.save_exam(vd(), OWN, exam())
    page = examinations.exam_form(vd(), OWN, saved.encounter_no)
    assert page.version == saved.version and page.initial["sbp_left"] == "138" and page.check.complete
    edited = examinations.save_exam(vd(), OWN, exam(sbp_left=142), encounter_no=saved.encounter_no,
                                    expected_version=page.version)
    assert edited.version == page.version + 1 and not edited.created
    with pytest.raises(examinations.Stale):
        examinations.save_exam(vd(), OWN, exam(sbp_left=150), encounter_no=saved.encounter_no,
                               expected_version=page.version)
    assert m.HealthExamination.objects.get(encounter_no=saved.encounter_no).sbp_left == 142
    with pytest.raises(Refused):
        examinations.save_exam(vd(), OTHER, exam())
    with pytest.raises(Refused):
        examinations.exam_form(vd(), OTHER)
    log = m.AccessLog.objects.filter(kind=AccessKind.SERVICE).latest("at")
    assert list(log.people.values_list("resident__record_no", flat=True)) == [OWN]


# --- the service: TCM questionnaire ------------------------------------------------------------------------------
def tcm_answers(text: str, **kw) -> dict[str, str]:
    out = {"service_date": MONDAY.isoformat(), "guidance_given": "1"}
    out.update({f"q{i}": ch for i, ch in enumerate(text, start=1) if ch != " "})
    out.update({k: str(x) for k, x in kw.items()})
    return out


def test_tcm_is_scored_as_answered_and_stored_as_scored(web_region):
    partial = examinations.propose_tcm(vd(), OWN, tcm_answers("1" * 30))
    assert partial.answered == 30 and partial.missing == [31, 32, 33] and partial.scores == ()
    with pytest.raises(examinations.Invalid) as exc:
        examinations.save_tcm(vd(), OWN, tcm_answers("1" * 30))
    assert "第 31、32、33 题未回答" in exc.value.fields["answers"]
    with pytest.raises(examinations.Invalid) as exc:
        examinations.save_tcm(vd(), OWN, tcm_answers("1" * 33, guidance_given=""))
    assert "中医药保健指导" in exc.value.fields["guidance_given"]
    bad = examinations.propose_tcm(vd(), OWN, tcm_answers("1" * 32 + "7"))
    assert "第 33 题" in bad.errors["q33"]
    # 气虚质 items at 4 (sum 16 → 是), the rest 1: the constitution comes from the rulebook, not the form
    answers = ["1"] * 33
    for item in constitution.ITEMS[constitution.Constitution.QI_DEFICIENCY]:
        answers[item - 1] = "4"
    text = "".join(answers)
    got = examinations.propose_tcm(vd(), OWN, tcm_answers(text, recorded_result="balanced"))
    assert [s.constitution.zh for s in got.identified] == ["气虚质"]
    saved = examinations.save_tcm(vd(), OWN, tcm_answers(text, recorded_result="balanced"))
    x = m.TcmConstitution.objects.get(encounter_no=saved.encounter_no)
    assert x.answers == text and x.recorded_result == "qi_deficiency" and x.guidance_given
    assert saved.summary == "气虚质（是）"


def test_an_older_record_with_a_wrong_result_is_shown_and_corrected(web_region):
    saved = examinations.save_tcm(vd(), OWN, tcm_answers("1" * 33))
    m.TcmConstitution.objects.filter(encounter_no=saved.encounter_no).update(recorded_result="yang_deficiency")
    page = examinations.tcm_form(vd(), OWN, saved.encounter_no)
    assert page.check.recorded_differs == "yang_deficiency"
    examinations.save_tcm(vd(), OWN, tcm_answers("1" * 33), encounter_no=saved.encounter_no,
                          expected_version=page.version)
    assert m.TcmConstitution.objects.get(encounter_no=saved.encounter_no).recorded_result == "balanced"
    with pytest.raises(Refused):
        examinations.save_tcm(vd(), OTHER, tcm_answers("1" * 33))


# --- the pages -----------------------------------------------------------------------------------------------------
def test_pages_propose_and_save(web_region):
    c = client_for("vd")
    record = c.get(f"/resident/{OWN}/").content.decode()
    assert f"/resident/{OWN}/exam/" in record and f"/resident/{OWN}/tcm/" in record
    assert c.get(f"/resident/{OWN}/exam/").status_code == 200
    partial = c.post(f"/resident/{OWN}/exam/propose/", exam(sbp_right=165)).content.decode()
    assert "左右臂收缩压相差 27 mmHg" in partial and "隔天重测" in partial  # |138 − 165| = 27
    refused = c.post(f"/resident/{OWN}/exam/", exam(sbp_right=165))
    assert refused.status_code == 400 and "已复测" in refused.content.decode()
    saved = c.post(f"/resident/{OWN}/exam/", exam())
    assert saved.status_code == 302 and saved["Location"] == f"/resident/{OWN}/"
    assert "健康体检已保存：年度体检项目完整" in c.get(f"/resident/{OWN}/").content.decode()
    no = m.HealthExamination.objects.filter(resident__record_no=OWN).latest("id").encounter_no
    assert 'name="version"' in c.get(f"/resident/{OWN}/exam/?no={no}").content.decode()
    assert c.get(f"/resident/{OWN}/tcm/").status_code == 200
    result = c.post(f"/resident/{OWN}/tcm/propose/", tcm_answers("1" * 33)).content.decode()
    assert "平和质（是）" in result
    assert c.post(f"/resident/{OWN}/tcm/", tcm_answers("1" * 33)).status_code == 302
    for url in (f"/resident/{OTHER}/exam/", f"/resident/{OTHER}/tcm/"):
        assert c.get(url).status_code == 403
        assert c.post(url, exam()).status_code == 403


# --- a real browser ------------------------------------------------------------------------------------------------
def test_doctor_enters_an_exam_with_an_arm_gap_and_the_tcm_questionnaire(chromium, live_server, live_region,
                                                                          tmp_path):
    """record page → 录入健康体检 → arm gap of 25 → asked to re-measure → ticks 已复测 → saves; then the 33
    questions → the constitution shown as they are answered → saved as scored."""
    from tests.web_fixtures import browser_as, screenshot_path

    gap = spec_entry.ARM_GAP_REMEASURE + 5
    with browser_as(chromium, live_server, "vd") as (page, offsite):
        page.goto(f"{live_server.url}/resident/{OWN}/")
        page.click("text=录入健康体检")
        page.wait_for_load_state("networkidle")
        for name, value in FULL.items():
            if name in ("service_date",):
                continue
            if page.locator(f"input[name={name}]").count():
                page.fill(f"input[name={name}]", value)
            else:
                page.select_option(f"select[name={name}]", value)
        page.fill("input[name=sbp_right]", str(138 + gap))
        page.wait_for_selector("#arm-gap")
        assert f"相差 {gap} mmHg" in page.inner_text("#arm-gap") and "隔天重测" in page.inner_text("#arm-gap")
        assert page.inner_text("#exam-complete") == "完整"
        page.screenshot(path=str(screenshot_path(tmp_path, "exam_form_arm_gap")), full_page=True)
        page.click("button:has-text('保存体检')")
        page.wait_for_load_state("networkidle")
        assert "请勾选“已复测”后保存" in page.inner_text("main")
        page.check("input[name=remeasured]")
        page.click("button:has-text('保存体检')")
        page.wait_for_load_state("networkidle")
        assert page.url.endswith(f"/resident/{OWN}/") and "健康体检已保存" in page.inner_text("main")
        page.click("text=中医体质辨识")
        page.wait_for_load_state("networkidle")
        for i in range(1, 34):
            page.check(f"input[name=q{i}][value='1']")
        page.wait_for_function("document.querySelector('#constitution') && "
                               "document.querySelector('#constitution').textContent.includes('平和质')")
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(screenshot_path(tmp_path, "tcm_questionnaire")), full_page=True)
        page.click("button:has-text('保存辨识')")
        page.wait_for_load_state("networkidle")
        assert "中医体质辨识已保存：平和质（是）" in page.inner_text("main")
    assert offsite == [], f"requests left the local server: {offsite}"
    x = m.TcmConstitution.objects.filter(resident__record_no=OWN).latest("id")
    assert x.recorded_result == "balanced"
    ex = m.HealthExamination.objects.filter(resident__record_no=OWN).latest("id")
    assert ex.sbp_right - ex.sbp_left == gap


# --- the worklist: team filter and one click to the form ----------------------------------------------------------
def test_worklist_team_filter_and_links_to_the_exam_and_tcm_forms(web_region):
    """蒲亭镇 has six hypertension patients (北门村 and 南门村, three each). 北门村00001's responsible doctor is
    a member of team T-1; 北门村00002 holds a contract in force with team T-3 (the contract wins over the doctor's
    team); the others have no team. Filtering on T-1 leaves only 00001's rows, on T-3 only 00002's."""
    from gongwei.service import analysis
    from gongwei.service import residents as rs

    rs.prepare_due(access.operator())
    today = dt.date.today()
    vd_staff = m.Staff.objects.get(code="S-vd")
    t1 = m.Team.objects.get(code="T-1")
    t3 = m.Team.objects.create(code="T-3", name="蒲亭镇家庭医生二队", org_unit=t1.org_unit)
    m.TeamMembership.objects.create(team=t1, staff=vd_staff, duty="家庭医生")
    second = f"{VILLAGE}00002"
    m.Resident.objects.filter(record_no__in=[OWN, second]).update(responsible_doctor=vd_staff)
    m.Contract.objects.create(contract_no="C-1", resident=m.Resident.objects.get(record_no=second), team=t3,
                              start_date=today - dt.timedelta(days=30), end_date=today + dt.timedelta(days=300))
    ts = access.for_user(m.Staff.objects.get(code="S-ts").user)
    township = "360426100000"
    everyone = analysis.worklist(ts, township, today, upcoming=True, compute=False, people=True)
    assert everyone.teams == [("T-1", t1.name), ("T-3", "蒲亭镇家庭医生二队")]
    assert {r["record_no"] for r in everyone.rows} >= {OWN, second, f"{VILLAGE}00003"}
    only_t1 = analysis.worklist(ts, township, today, upcoming=True, compute=False, people=True, team="T-1")
    assert {r["record_no"] for r in only_t1.rows} == {OWN} and only_t1.team == "T-1"
    only_t3 = analysis.worklist(ts, township, today, upcoming=True, compute=False, people=True, team="T-3")
    assert {r["record_no"] for r in only_t3.rows} == {second}
    html = client_for("ts").get(f"/unit/{township}/worklist/?team=T-1").content.decode()
    assert "家庭医生团队" in html and f"/resident/{second}/" not in html
    # 76 this year: the elderly exam, the TCM service and the hypertension annual exam are due; each row opens
    # its form in one click (the page lists them within its four weeks)
    from gongwei.web.pages.encounters import _link

    links = {r["service"]: _link(r) for r in only_t1.rows}
    assert links["elderly_exam"] == links["annual_exam"] == f"/resident/{OWN}/exam/"
    assert links["elderly_tcm"] == f"/resident/{OWN}/tcm/"
    assert links["follow_up"] == f"/resident/{OWN}/follow-up/hypertension/"


def test_timings_of_the_exam_and_tcm_forms_on_the_small_region(web_region):
    """Figures for the report (no threshold: the machine is shared)."""
    import time

    def ms(call, n=10):
        started = time.perf_counter()
        for _ in range(n):
            call()
        return (time.perf_counter() - started) * 1000 / n

    actor = vd()
    propose = ms(lambda: examinations.propose_exam(actor, OWN, exam()))
    save = ms(lambda: examinations.save_exam(actor, OWN, exam()))
    tcm = ms(lambda: examinations.propose_tcm(actor, OWN, tcm_answers("1" * 33)))
    assert m.HealthExamination.objects.filter(resident__record_no=OWN, service_date=MONDAY).count() == 10
    print(f"\nexam propose {propose:.1f} ms; exam save {save:.1f} ms; tcm propose {tcm:.1f} ms")
