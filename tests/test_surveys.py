"""Awareness and satisfaction surveys on a sample (issue 13 §3, ADR 033): the questionnaires as data, the
published 152-of-187 figure, one questionnaire per respondent with coded refusals, rates per unit with Wilson
intervals, the change since the last survey, and the reader the evaluation and bulletins use."""

from __future__ import annotations

import pytest

from gongwei.records.models import AccessLog
from gongwei.service import access, surveys, verification
from gongwei.service.errors import BadRequest, Refused
from gongwei.spec import surveys as spec
from gongwei.verification.models import Sample, Survey, SurveyResponse, SurveyResponseEntry
from tests.web_fixtures import COUNTY, OTHER_TOWNSHIP, TOWNSHIP, make_region


def test_the_published_satisfaction_figure_152_of_187():
    # seed: 有效问卷187人，表示满意的152人 — refusals and unreachable people are not valid questionnaires
    rate = surveys.SurveyRate("x", "x")
    for i in range(200):
        status = "answered" if i < 187 else "refused" if i < 195 else "unreachable"
        surveys._tally(rate, status, status == "answered" and i < 152)
    assert (rate.drawn, rate.valid, rate.positive, rate.refused, rate.unreachable) == (200, 187, 152, 8, 5)
    # 152 / 187 = 0.812834… → 81.28 %
    assert round(rate.rate * 100, 2) == 81.28
    # Wilson, z = 1.96: centre = (p + z²/2n)/(1 + z²/n) = 0.82310/1.02054 = 0.80653;
    # half = z/(1 + z²/n)·√(p(1−p)/n + z²/4n²) = 1.92055 × 0.029001 = 0.05570 → 75.08 % … 86.22 %
    low, high = rate.interval
    assert round(low * 100, 1) == 75.1 and round(high * 100, 1) == 86.2


def test_questionnaires_are_data_with_a_deciding_question():
    sat = spec.QUESTIONNAIRES["satisfaction"]
    assert sat.question(sat.deciding).answer("2").text == "满意"
    assert sat.positive == {"1", "2"}  # 很满意, 满意 count; 一般 does not
    aware = spec.QUESTIONNAIRES["awareness"]
    assert aware.positive == {"1"} and aware.question("A1").answer("1").text == "知道"
    assert "[shangdang-2023]" in sat.source.ref and "[survey-questionnaire]" in aware.source.ref


@pytest.fixture
def region(settings, tmp_path, fast_passwords):
    settings.DATA_DIR = tmp_path
    return make_region(periods=("2024",), codes=["H2"])


def as_login(made, username: str) -> access.Actor:
    return access.for_user(made["users"][username], address="127.0.0.1", path="/test")


SAT = {"S2": "2", "S3": "2"}  # the other required questions, answered the same way each time


def _everyone(region, seed: int) -> str:
    """All 12 hypertension patients of the county (k = 12/12 = 1: frame positions 0…11, by record number, so
    positions 1–6 are 蒲亭镇's and 7–12 高塘乡's)."""
    v = verification.draw(region["operator"], "H2", COUNTY, "2024", part="denominator", size=12, seed=seed)
    assert [r.stratum for r in v.items] == [TOWNSHIP] * 6 + [OTHER_TOWNSHIP] * 6
    return v.sample_no


@pytest.mark.django_db
def test_a_survey_on_a_sample_rates_per_unit_and_change(region):
    sup = as_login(region, "sup")
    first = surveys.start(sup, _everyone(region, 1), "satisfaction", mode="phone")
    assert len(first.rows) == 12 and all(not r.status for r in first.rows)
    assert first.definition["deciding"] == "S1" and Survey.objects.get().definition["positive"] == ["1", "2"]
    # 蒲亭镇: 很满意, 满意, 满意, 一般, 不满意, refused → 3 of 5 valid = 60 %
    # 高塘乡: 满意 ×4, 一般, unreachable → 4 of 5 valid = 80 %; together 7 of 10 = 70 %
    plan = {1: "1", 2: "2", 3: "2", 4: "3", 5: "4", 6: None, 7: "2", 8: "2", 9: "2", 10: "2", 11: "3", 12: None}
    for position, s1 in plan.items():
        if s1 is None:
            surveys.answer(sup, first.survey_no, position, "refused" if position == 6 else "unreachable",
                           note="空号" if position == 12 else "")
        else:
            surveys.answer(sup, first.survey_no, position, "answered", {"S1": s1, **SAT})
    report = surveys.rates(sup, first.survey_no)
    t = report.total
    assert (t.drawn, t.valid, t.positive, t.refused, t.unreachable, t.pending) == (12, 10, 7, 1, 1, 0)
    assert t.rate == pytest.approx(0.7) and t.previous is None and t.change is None
    assert [(u.unit_code, u.valid, u.positive) for u in report.units] == [(TOWNSHIP, 5, 3), (OTHER_TOWNSHIP, 5, 4)]

    # a second survey, later: 蒲亭镇 5 of 6, 高塘乡 6 of 6 → 11 of 12 = 91.67 %
    second = surveys.start(sup, _everyone(region, 2), "satisfaction", mode="visit")
    for position in range(1, 13):
        surveys.answer(sup, second.survey_no, position, "answered", {"S1": "3" if position == 2 else "1", **SAT})
    report = surveys.rates(sup, second.survey_no)
    t = report.total
    assert t.rate == pytest.approx(11 / 12) and t.previous_ref == first.survey_no
    # change: 91.67 − 70 = +21.67 points; 蒲亭镇 83.33 − 60 = +23.33; 高塘乡 100 − 80 = +20
    assert t.change == pytest.approx(11 / 12 - 0.7)
    by = {u.unit_code: u for u in report.units}
    assert by[TOWNSHIP].change == pytest.approx(5 / 6 - 0.6) and by[OTHER_TOWNSHIP].change == pytest.approx(0.2)
    # an awareness survey is another questionnaire: no earlier one to compare with
    aware = surveys.start(sup, second.sample_no, "awareness")
    surveys.answer(sup, aware.survey_no, 1, "answered", {"A1": "1", "A2": "1", "A3": "2"})
    assert surveys.rates(sup, aware.survey_no).total.previous is None


@pytest.mark.django_db
def test_rates_by_unit_for_the_evaluation_and_bulletins(region):
    sup = as_login(region, "sup")
    last_year = surveys.start(sup, _everyone(region, 1), "satisfaction")
    for position in range(1, 11):  # 7 of 10 satisfied, 2 pending
        surveys.answer(sup, last_year.survey_no, position, "answered", {"S1": "2" if position <= 7 else "4", **SAT})
    # the region's frame exists for 2024 only: the first survey is moved to 2023 as if drawn a year earlier
    Survey.objects.filter(survey_no=last_year.survey_no).update(period="2023")
    this_year = surveys.start(sup, _everyone(region, 2), "satisfaction")
    for position in range(1, 13):  # 蒲亭镇 1–6 all satisfied, 高塘乡 7–12: 3 satisfied, 3 not → 9 of 12
        surveys.answer(sup, this_year.survey_no, position, "answered", {"S1": "1" if position <= 9 else "5", **SAT})
    found = surveys.survey_rates_by_unit(sup, "2024", questionnaire="satisfaction")
    county = found[COUNTY]["satisfaction"]
    assert (county.valid, county.positive) == (12, 9) and county.rate == pytest.approx(0.75)
    # last year at the county: positions 1–7 satisfied of 1–10 answered = 70 % → +5 points
    assert county.previous_ref == "2023" and county.previous.rate == pytest.approx(0.7)
    assert county.change == pytest.approx(0.05)
    assert found[TOWNSHIP]["satisfaction"].rate == 1.0 and found[OTHER_TOWNSHIP]["satisfaction"].rate == 0.5
    # last year 高塘乡 had positions 7 (satisfied), 8–10 (not) answered: 1 of 4 = 25 % → +25 points
    assert found[OTHER_TOWNSHIP]["satisfaction"].change == pytest.approx(0.25)
    # a township sees only its own subtree; asking for a unit outside it is refused
    ts = as_login(region, "ts")
    mine = surveys.survey_rates_by_unit(ts, "2024")
    assert COUNTY not in mine and OTHER_TOWNSHIP not in mine and mine[TOWNSHIP]["satisfaction"].valid == 6
    with pytest.raises(Refused):
        surveys.survey_rates_by_unit(ts, "2024", units=[OTHER_TOWNSHIP])


@pytest.mark.django_db
def test_bad_answers_are_refused_and_write_nothing(region):
    sup = as_login(region, "sup")
    sample_no = _everyone(region, 3)
    with pytest.raises(BadRequest, match="问卷“happiness”无效"):
        surveys.start(sup, sample_no, "happiness")
    with pytest.raises(BadRequest, match="调查方式“fax”无效"):
        surveys.start(sup, sample_no, "satisfaction", mode="fax")
    with pytest.raises(Refused):
        surveys.start(as_login(region, "vd"), sample_no, "satisfaction")
    sv = surveys.start(sup, sample_no, "satisfaction")
    with pytest.raises(BadRequest, match="同一样本每种问卷只调查一次"):
        surveys.start(sup, sample_no, "satisfaction")
    with pytest.raises(BadRequest, match="调查结果“maybe”无效"):
        surveys.answer(sup, sv.survey_no, 1, "maybe")
    with pytest.raises(BadRequest, match="问题 S2.*必须回答"):
        surveys.answer(sup, sv.survey_no, 1, "answered", {"S1": "1", "S3": "1"})
    with pytest.raises(BadRequest, match="问题 S1 的答案“7”无效"):
        surveys.answer(sup, sv.survey_no, 1, "answered", {"S1": "7", **SAT})
    with pytest.raises(BadRequest, match="不应填写答案"):
        surveys.answer(sup, sv.survey_no, 1, "refused", {"S1": "1"})
    with pytest.raises(BadRequest, match="问题“Q9”不在"):
        surveys.answer(sup, sv.survey_no, 1, "answered", {"S1": "1", "Q9": "1", **SAT})
    # a county survey is outside a township's subtree; a village doctor surveys nobody
    with pytest.raises(Refused):
        surveys.answer(as_login(region, "ts"), sv.survey_no, 7, "answered", {"S1": "1", **SAT})
    with pytest.raises(Refused):
        surveys.answer(as_login(region, "vd"), sv.survey_no, 1, "answered", {"S1": "1", **SAT})
    assert SurveyResponseEntry.objects.count() == 0 and not SurveyResponse.objects.exclude(status="").exists()
    # a correction keeps the first entry; a stale version is refused
    row = surveys.answer(sup, sv.survey_no, 1, "answered", {"S1": "4", **SAT})
    assert row.positive is False and row.version == 2
    row = surveys.answer(sup, sv.survey_no, 1, "answered", {"S1": "1", **SAT}, version=2)
    assert row.positive is True and row.deciding_answer == "很满意"
    with pytest.raises(BadRequest, match="已被他人修改"):
        surveys.answer(sup, sv.survey_no, 1, "refused", version=2)
    assert [e.answers["S1"] for e in SurveyResponseEntry.objects.order_by("id")] == ["4", "1"]


@pytest.mark.django_db
def test_phones_are_masked_except_for_the_interviewer_and_views_are_audited(region):
    sup = as_login(region, "sup")
    sv = surveys.start(sup, _everyone(region, 4), "awareness")
    shown = surveys.show(as_login(region, "ev"), sv.survey_no)
    assert all("*" in r.phone for r in shown.rows)  # an evaluator's list is masked
    _, row = surveys.respondent(sup, sv.survey_no, 1)
    assert "*" not in row.phone and len(row.phone) == 11  # the interviewer calls: the number in full
    surveys.answer(sup, sv.survey_no, 1, "answered", {"A1": "2", "A2": "1", "A3": "2"})
    _, row = surveys.respondent(sup, sv.survey_no, 1)
    assert "*" in row.phone  # entered: no more reason to see it
    assert AccessLog.objects.filter(purpose__contains=sv.survey_no).count() >= 3
    with pytest.raises(Refused):
        surveys.show(as_login(region, "vd2"), sv.survey_no)  # a county survey is outside a village's subtree


@pytest.mark.django_db
def test_command_line(region, capsys):
    from gongwei.cli.main import main

    assert main(["sample", "draw", "H2", COUNTY, "2024", "--part", "denominator", "--size", "3", "--seed", "5"]) == 0
    capsys.readouterr()
    sample_no = Sample.objects.get().sample_no
    assert main(["survey", "start", sample_no, "satisfaction", "--mode", "visit"]) == 0
    assert "满意度调查问卷" in capsys.readouterr().out
    no = Survey.objects.get().survey_no
    assert main(["--as", "sup", "survey", "answer", no, "1", "answered", "--answers", "S1=2,S2=1,S3=2"]) == 0
    assert "有效问卷，满意" in capsys.readouterr().out
    assert main(["--as", "sup", "survey", "answer", no, "2", "answered", "--answers", "S1=4,S2=4,S3=4"]) == 0
    assert main(["--as", "sup", "survey", "answer", no, "3", "unreachable", "--note", "空号"]) == 0
    capsys.readouterr()
    # 1 satisfied of 2 valid: 50.0 %
    assert main(["survey", "rates", no]) == 0
    out = capsys.readouterr().out
    assert "满意度 50.0%（1/2" in out and "Wilson" in out and "无法联系 1" in out
    assert main(["survey", "units", "2024", "--unit", COUNTY]) == 0
    assert "满意度 50.0%" in capsys.readouterr().out
    # a refusal: one Chinese sentence, exit code 2
    assert main(["--as", "sup", "survey", "answer", no, "1", "answered", "--answers", "S1=2"]) == 2
    err = capsys.readouterr().err
    assert "必须回答" in err and "Traceback" not in err
