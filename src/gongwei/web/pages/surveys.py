"""Survey pages (知晓率 / 满意度调查, issue 13 §3): a unit's surveys, its rates per unit and the form to start a
survey on a drawn sample; a survey's rates per unit with the change since the last survey and its respondents;
one questionnaire form per respondent. Each view parses, calls :mod:`gongwei.service.surveys` and renders."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from gongwei.reports.verification import interval_text, pct
from gongwei.service import navigation, verification
from gongwei.service import surveys as service
from gongwei.service.errors import BadRequest
from gongwei.spec.surveys import QUESTIONNAIRES, RespondentStatus, SurveyMode
from gongwei.web.faces import actor, page


def _change(rate) -> str:
    if rate.change is None:
        return "—"
    return f"{rate.change * 100:+.1f}"


def _rate_row(rate, label: str) -> dict:
    return {"u": rate, "label": label, "rate": pct(rate.rate), "interval": interval_text(rate.interval),
            "change": _change(rate), "previous": pct(rate.previous.rate) if rate.previous else "—"}


@page
@require_http_methods(["GET", "POST"])
def surveys(request, code: str):
    who = actor(request)
    here = navigation.place(who, code)
    error = ""
    form = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        p = request.POST
        try:
            started = service.start(who, p.get("sample", ""), p.get("questionnaire", ""),
                                    mode=p.get("mode", SurveyMode.PHONE))
        except BadRequest as exc:
            error = str(exc)
        else:
            return redirect(reverse("web:survey", args=[started.survey_no]))
    found = service.surveys(who, code)
    # the period of the latest survey by default: a survey is usually read the season it was made
    period = request.GET.get("period", "") or (found[0].period if found else str(dt.date.today().year - 1))
    by_unit = service.survey_rates_by_unit(who, period, units=[code])
    rates = [{"name": QUESTIONNAIRES[q].rate_name, **_rate_row(r, here.name)}
             for q, r in sorted(by_unit.get(code, {}).items())]
    return render(request, "web/surveys/surveys.html", {
        "here": here, "crumbs": navigation.breadcrumb(who, here), "surveys": found, "error": error, "form": form,
        "may_start": verification.may_sample(who), "samples": verification.samples(who, code),
        "questionnaires": service.questionnaire_options(), "modes": SurveyMode.choices(), "period": period,
        "rates": rates}, status=400 if error else 200)


@page
def survey(request, survey_no: str):
    who = actor(request)
    report = service.rates(who, survey_no)
    v = report.survey
    here = navigation.place(who, v.unit_code)
    rows = [_rate_row(report.total, _("合计：%(unit)s") % {"unit": report.total.unit_name}),
            *[_rate_row(u, u.unit_name) for u in report.units]]
    return render(request, "web/surveys/survey.html", {
        "v": v, "report": report, "rows": rows, "here": here, "crumbs": navigation.breadcrumb(who, here),
        "done": request.GET.get("done", "")})


def _position(text: str) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        raise BadRequest(f"序号“{text}”应为整数") from None


@page
@require_http_methods(["GET", "POST"])
def respondent(request, survey_no: str, position: int):
    who = actor(request)
    error = ""
    form = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        p = request.POST
        answers = {k[2:]: v for k, v in p.items() if k.startswith("q-")}
        version = p.get("version", "").strip()
        try:
            row = service.answer(who, survey_no, position, p.get("status", ""), answers, note=p.get("note", ""),
                                 version=_position(version) if version else None)
        except BadRequest as exc:
            error = str(exc)
        else:
            done = _("已录入序号 %(n)s：%(status)s") % {"n": row.position, "status": row.status_name}
            return redirect(f"{reverse('web:survey', args=[survey_no])}?done={done}")
    v, row = service.respondent(who, survey_no, position)
    here = navigation.place(who, v.unit_code)
    chosen = form.get("status") if form else (row.status or RespondentStatus.ANSWERED)
    questions = [{**q, "chosen": (form.get(f"q-{q['code']}") if form else row.answers.get(q["code"], ""))}
                 for q in v.definition["questions"]]
    return render(request, "web/surveys/respondent.html", {
        "v": v, "r": row, "here": here, "crumbs": navigation.breadcrumb(who, here), "error": error,
        "statuses": RespondentStatus.choices(), "chosen": chosen, "questions": questions,
        "note": form.get("note", row.note) if form else row.note}, status=400 if error else 200)
