"""The health examination form (健康体检表) and the elderly TCM constitution questionnaire (中医体质辨识), each with
the rulebook's answer shown as it is typed (HTMX). Each view parses, calls one use case of
:mod:`gongwei.service.examinations`, and renders; scope, audit and every rule live below."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from gongwei.service import examinations, navigation, smi_followups, tb_followups
from gongwei.service.errors import BadRequest
from gongwei.spec.vocab import SmiClass
from gongwei.web.faces import actor, page


def _version(text: str | None) -> int | None:
    if text in (None, ""):
        return None
    try:
        return int(text)
    except ValueError:
        raise BadRequest(_("版本号“%(text)s”无效：应为正整数") % {"text": text}) from None


def _context(request, shown, **more) -> dict:
    who = actor(request)
    unit = navigation.place(who, shown.unit_code)
    return {"f": shown, "crumbs": navigation.breadcrumb(who, unit), **more}


def _encounter_no(request) -> str:
    """The record being edited: ``?no=`` when the form is opened, the hidden field when it is posted."""
    return (request.POST.get("encounter_no") if request.method == "POST" else request.GET.get("no", "")) or ""


@page
@require_http_methods(["GET", "POST"])
def exam(request, record_no: str):
    who = actor(request)
    encounter_no = _encounter_no(request)
    if request.method == "GET":
        shown = examinations.exam_form(who, record_no, encounter_no)
        return render(request, "web/encounters/exam.html", _context(request, shown, check=shown.check))
    post = request.POST
    try:
        saved = examinations.save_exam(who, record_no, post, encounter_no=encounter_no,
                                       expected_version=_version(post.get("version")))
    except (examinations.Invalid, examinations.Stale) as exc:
        shown = examinations.exam_form(who, record_no, encounter_no)
        stale = isinstance(exc, examinations.Stale)
        if not stale:
            shown.initial = {**shown.initial, "remeasured": "", **{k: post.get(k, "") for k in post}}
        check = examinations.propose_exam(who, record_no, post)
        return render(request, "web/encounters/exam.html",
                      _context(request, shown, check=check, errors=getattr(exc, "fields", {}),
                               stale=exc if stale else None), status=409 if stale else 400)
    text = _("健康体检已保存")
    if saved.summary:
        text = f"{text}：{saved.summary}"
    messages.success(request, text)
    return redirect(reverse("web:resident", args=[record_no]))


@page
@require_http_methods(["GET", "POST"])
def exam_propose(request, record_no: str):
    """HTMX: arm gap, emergency and package completeness of the exam as typed (nothing is written)."""
    values = request.POST if request.method == "POST" else request.GET
    check = examinations.propose_exam(actor(request), record_no, values)
    return render(request, "web/encounters/exam_check.html", {"check": check, "errors": check.errors})


@page
@require_http_methods(["GET", "POST"])
def tcm(request, record_no: str):
    who = actor(request)
    encounter_no = _encounter_no(request)
    if request.method == "GET":
        shown = examinations.tcm_form(who, record_no, encounter_no)
        return render(request, "web/encounters/tcm.html", _context(request, shown, check=shown.check))
    post = request.POST
    try:
        saved = examinations.save_tcm(who, record_no, post, encounter_no=encounter_no,
                                      expected_version=_version(post.get("version")))
    except (examinations.Invalid, examinations.Stale) as exc:
        shown = examinations.tcm_form(who, record_no, encounter_no)
        stale = isinstance(exc, examinations.Stale)
        check = examinations.propose_tcm(who, record_no, post)
        if not stale:
            shown.service_date = post.get("service_date", shown.service_date)
        else:
            check = shown.check
        return render(request, "web/encounters/tcm.html",
                      _context(request, shown, check=check, errors=getattr(exc, "fields", {}),
                               stale=exc if stale else None), status=409 if stale else 400)
    messages.success(request, _("中医体质辨识已保存：%(result)s") % {"result": saved.summary})
    return redirect(reverse("web:resident", args=[record_no]))


@page
@require_http_methods(["GET", "POST"])
def tcm_propose(request, record_no: str):
    """HTMX: the constitution scored from the answers typed so far (nothing is written)."""
    values = request.POST if request.method == "POST" else request.GET
    check = examinations.propose_tcm(actor(request), record_no, values)
    return render(request, "web/encounters/tcm_result.html", {"check": check, "errors": check.errors})


# --- 严重精神障碍 / 肺结核患者随访 (served under /resident/<record_no>/follow-up/<program>/, beside the chronic forms) --
SPECIAL = {"smi": (smi_followups, "smi"), "tb": (tb_followups, "tb")}  # program → (use cases, template name)


def special_follow_up(request, record_no: str, program: str, encounter_no: str = ""):
    who = actor(request)
    cases, name = SPECIAL[program]
    if request.method == "GET":
        shown = cases.form(who, record_no, encounter_no)
        return render(request, f"web/encounters/{name}.html", _context(request, shown, check=shown.check))
    post = request.POST
    try:
        saved = cases.save(who, record_no, post, encounter_no=encounter_no,
                           expected_version=_version(post.get("version")))
    except (cases.Invalid, cases.Stale) as exc:
        shown = cases.form(who, record_no, encounter_no)
        stale = isinstance(exc, cases.Stale)
        if not stale:
            flags = {f: "" for f in cases.FLAGS}  # an unticked box is not posted
            shown.initial = {**shown.initial, **flags, **{k: post.get(k, "") for k in post}}
        check = cases.propose(who, record_no, post)
        return render(request, f"web/encounters/{name}.html",
                      _context(request, shown, check=check, errors=getattr(exc, "fields", {}),
                               stale=exc if stale else None), status=409 if stale else 400)
    if program == "smi":
        messages.success(request, _("随访已保存：%(cls)s，下次随访 %(date)s") % {
            "cls": SmiClass(saved.classification).zh, "date": saved.next_visit_date.isoformat()})
    else:
        messages.success(request, _("随访已保存，下次随访 %(date)s") % {
            "date": saved.next_visit_date.isoformat() if saved.next_visit_date else "—"})
    return redirect(reverse("web:resident", args=[record_no]))


def special_propose(request, record_no: str, program: str):
    values = request.POST if request.method == "POST" else request.GET
    cases, name = SPECIAL[program]
    check = cases.propose(actor(request), record_no, values)
    return render(request, f"web/encounters/{name}_check.html", {"check": check, "errors": check.errors})
