"""The chronic follow-up form (高血压/糖尿病随访) with the rule applied as it is typed, and the village worklist with
its paper version. Each view parses, calls one use case of :mod:`gongwei.service.encounters` or
:func:`gongwei.service.analysis.worklist`, and renders; scope, audit and every rule live below."""

from __future__ import annotations

import datetime as dt
import functools
from urllib.parse import quote

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from gongwei.service import analysis, encounters, navigation
from gongwei.service.errors import BadRequest
from gongwei.spec.entry import SPECIAL_FOLLOW_UP_FORMS
from gongwei.web.faces import actor, page

STATUS_ORDER = (("overdue", gettext_lazy("已逾期")), ("due_soon", gettext_lazy("本周到期")),
                ("upcoming", gettext_lazy("近期待办")))
_ACTIONS = (("/follow-up/", gettext_lazy("录入随访")), ("/exam/", gettext_lazy("录入体检")),
            ("/tcm/", gettext_lazy("体质辨识")))
_OPEN_RECORD = gettext_lazy("打开档案")
_STATE_TEXT = {"due_soon": gettext_lazy("本周到期"), "upcoming": gettext_lazy("待完成")}
UPCOMING_WEEKS = 4  # the worklist's "due next": the next four weeks (the paper round plans a month)


def _version(text: str | None) -> int | None:
    if text in (None, ""):
        return None
    try:
        return int(text)
    except ValueError:
        raise BadRequest(_("版本号“%(text)s”无效：应为正整数") % {"text": text}) from None


def _form_context(request, shown: encounters.FormPage, **more) -> dict:
    who = actor(request)
    unit = navigation.place(who, shown.unit_code)
    return {"f": shown, "crumbs": navigation.breadcrumb(who, unit), "lines": _lines(shown), **more}


def _lines(shown: encounters.FormPage) -> list[dict]:
    """The medication rows of the form: those entered, then blank ones up to the form's maximum."""
    rows = [{"i": i, "drug": x.drug, "dose": x.dose, "unit": x.unit, "freq": x.frequency}
            for i, x in enumerate(shown.medication)]
    start = len(rows)
    rows += [{"i": i, "drug": "", "dose": "", "unit": "mg", "freq": ""}
             for i in range(start, max(start + 1, 3) if start < shown.max_lines else start)]
    return rows[:shown.max_lines]


def _posted_lines(post, shown: encounters.FormPage) -> list[dict]:
    return [{"i": i, "drug": post.get(f"drug_{i}", ""), "dose": post.get(f"dose_{i}", ""),
             "unit": post.get(f"unit_{i}", "mg"), "freq": post.get(f"freq_{i}", "")}
            for i in range(shown.max_lines) if i < 3 or post.get(f"drug_{i}") or post.get(f"dose_{i}")]


@page
@require_http_methods(["GET", "POST"])
def follow_up(request, record_no: str, program: str, encounter_no: str = ""):
    if program in SPECIAL_FOLLOW_UP_FORMS:  # 严重精神障碍, 肺结核: their own forms and rules (pages/examinations.py)
        from gongwei.web.pages import examinations

        return examinations.special_follow_up(request, record_no, program, encounter_no)
    who = actor(request)
    if request.method == "GET":
        shown = encounters.form(who, record_no, program, encounter_no)
        return render(request, "web/encounters/follow_up.html", _form_context(request, shown))
    post = request.POST
    try:
        saved = encounters.save_follow_up(who, record_no, program, post, encounter_no=encounter_no,
                                          expected_version=_version(post.get("version")),
                                          reason=post.get("reason", ""))
    except (encounters.Invalid, encounters.Stale) as exc:
        shown = encounters.form(who, record_no, program, encounter_no)
        if isinstance(exc, encounters.Invalid):
            flags = {f: "" for f in encounters.FLAGS}  # an unticked box is not posted
            shown.initial = {**shown.initial, **flags, **{k: post.get(k, "") for k in post}}
        check = encounters.propose(who, record_no, program, post, encounter_no=encounter_no)
        status = 409 if isinstance(exc, encounters.Stale) else 400
        context = _form_context(request, shown, check=check,
                                errors=getattr(exc, "fields", {}), stale=exc if status == 409 else None,
                                lines=_posted_lines(post, shown) if status == 400 else _lines(shown))
        return render(request, "web/encounters/follow_up.html", context, status=status)
    cls = saved.proposal.classification
    from gongwei.spec.vocab import FollowUpClass

    messages.success(request, _("随访已保存：%(cls)s，下次随访 %(date)s") % {
        "cls": FollowUpClass(cls).zh if cls else _("未分类"), "date": saved.next_visit_date.isoformat()})
    return redirect(reverse("web:resident", args=[record_no]))


@page
@require_http_methods(["GET", "POST"])
def follow_up_propose(request, record_no: str, program: str, encounter_no: str = ""):
    """HTMX: the rulebook's answer to the values typed so far (nothing is written). The form posts them, so
    readings stay out of URLs and server logs; GET is answered too (it writes nothing either)."""
    if program in SPECIAL_FOLLOW_UP_FORMS:
        from gongwei.web.pages import examinations

        return examinations.special_propose(request, record_no, program)
    values = request.POST if request.method == "POST" else request.GET
    check = encounters.propose(actor(request), record_no, program, values, encounter_no=encounter_no)
    return render(request, "web/encounters/proposal.html", {"check": check, "errors": check.errors})


@page
def worklist(request, code: str):
    who = actor(request)
    here = navigation.place(who, code)
    today = dt.date.today()
    got = analysis.worklist(who, code, today, upcoming=True, compute=False, people=True,
                            doctor=request.GET.get("doctor", "").strip(), upcoming_days=UPCOMING_WEEKS * 7,
                            team=request.GET.get("team", "").strip())
    printing = request.GET.get("print") == "1"
    # the row's words translated once for the request, not once per row (a lazy string translates on each use)
    overdue = _("逾期 %(n)s 天")
    actions = [(part, str(label)) for part, label in _ACTIONS]
    open_record = str(_OPEN_RECORD)
    state_text = {k: str(label) for k, label in _STATE_TEXT.items()}
    groups = []
    for status, title in STATUS_ORDER:
        if printing and status == "upcoming":
            continue
        rows = [r for r in got.rows if r["status"] == status]
        by_unit: dict[str, list[dict]] = {}
        for r in rows:
            r["link"] = _link(r)
            r["home"] = _url("web:resident", r["record_no"])
            # the row's words, once per distinct value rather than as template tags on each of hundreds of rows
            r["action"] = next((label for part, label in actions if part in r["link"]), open_record)
            r["state"] = (overdue % {"n": r["days_overdue"]} if status == "overdue"
                          else state_text.get(status, ""))
            by_unit.setdefault(r["unit_code"], []).append(r)
        groups.append({"status": status, "title": title, "count": len(rows),
                       "units": [{"code": c, "name": got.unit_names.get(c, c), "rows": rs}
                                 for c, rs in sorted(by_unit.items())]})
    return render(request, "web/encounters/worklist_print.html" if printing else "web/encounters/worklist.html", {
        "here": here, "crumbs": navigation.breadcrumb(who, here), "got": got, "groups": groups, "today": today,
        "week_end": got.due_soon_until, "many_units": len(got.unit_names) > 1,
        "upcoming_weeks": UPCOMING_WEEKS})


# the worklist services whose form is the exam or the TCM questionnaire (one click to it; issue 11 §5)
# (the chronic programs' 年度健康体检 "annual_exam" is entered on the same 健康体检表)
SERVICE_FORMS = {"elderly_exam": "web:exam", "annual_exam": "web:exam", "elderly_tcm": "web:tcm"}
# the scheduled services entered on a program's follow-up form (SMI's class visit, TB's first visit and closing too)
FOLLOW_UP_SERVICES = ("follow_up", "recheck", "class_visit", "first_visit", "closing")


_RECORD = "__record_no__"


@functools.lru_cache(maxsize=64)
def _pattern(name: str, *rest: str) -> str:
    """The URL of ``name`` with a marker where the record number goes: reversed once per form, not once per row
    (a village's list is hundreds of rows; reversing each was a third of the page)."""
    return reverse(name, args=[_RECORD, *rest])


def _url(name: str, record_no: str, *rest: str) -> str:
    return _pattern(name, *rest).replace(_RECORD, quote(record_no, safe=""))


def _link(row: dict) -> str:
    from gongwei.spec.entry import FOLLOW_UP_FORMS

    if row["program"] in (*FOLLOW_UP_FORMS, *SPECIAL_FOLLOW_UP_FORMS) and row["service"] in FOLLOW_UP_SERVICES:
        return _url("web:follow_up", row["record_no"], row["program"])
    if row["service"] in SERVICE_FORMS:
        return _url(SERVICE_FORMS[row["service"]], row["record_no"])
    form = _mch_form(row["program"], row["service"])
    if form:
        return _url(f"web:mch_{form}", row["record_no"])
    return _url("web:resident", row["record_no"])


def _mch_form(program: str, service: str) -> str:
    """The maternal, child or vaccination form (web/pages/maternal_child.py) that records a scheduled service."""
    if program == "child":
        return "newborn-visit" if service == "newborn_visit" else "child-tcm" if service.startswith("tcm_") else (
            "child-check" if service.startswith("check_") else "")
    if program == "maternal":
        return "postpartum" if service in ("postpartum_visit", "check_42d") else "prenatal"
    if program == "vaccination":
        return "" if service == "certificate" else "vaccination"
    return ""


@page
def worklist_home(request):
    """The main navigation's 待办: the worklist of the login's own unit."""
    here = navigation.landing(actor(request))
    return redirect(reverse("web:worklist", args=[here.code]))


@page
def roster(request, code: str):
    """花名册: the key populations of each village with their responsible doctor, team and team lead ([city-rectification-2023]),
    from the day's materialised state tables (409 until the worklist job has run)."""
    who = actor(request)
    here = navigation.place(who, code)
    today = timezone.localdate()
    got = analysis.roster(who, code, today, compute=False)
    villages: dict[str, dict] = {}
    for r in got.rows:
        v = villages.setdefault(r["unit_code"], {"code": r["unit_code"], "name": r["unit_name"], "programs": {}})
        v["programs"].setdefault(r["program"], []).append(r)
    units = [{"code": v["code"], "name": v["name"], "count": sum(len(rs) for rs in v["programs"].values()),
              "programs": [{"name": got.program_names.get(p, p), "rows": rs} for p, rs in sorted(v["programs"].items())]}
             for _c, v in sorted(villages.items())]
    return render(request, "web/encounters/roster.html", {
        "here": here, "crumbs": navigation.breadcrumb(who, here), "got": got, "units": units, "today": today})
