"""Supervision and base-data pages (督导整改、基础数据, issue 13 §4–5): a unit's rounds and the form to start one;
a round's sheet (assignments, visits with attachments, rectification items and their status); a period's
report; a unit's base data with entry, XLSX import and the template. Each view parses, calls
:mod:`gongwei.service.supervision` or :mod:`gongwei.service.base_data` and renders; scope and rules live there."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from gongwei.service import base_data, navigation
from gongwei.service import supervision as service
from gongwei.service.errors import BadRequest, Refused
from gongwei.spec.supervision import MEASURES, AssignmentKind, ItemStatus, RoundMethod
from gongwei.web.faces import actor, page


def _int(text: str | None, what: str) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise BadRequest(_("%(what)s“%(text)s”应为整数") % {"what": what, "text": text}) from None


def _date(text: str | None) -> dt.date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BadRequest(_("日期“%(text)s”无效：应为如 2025-06-30") % {"text": text}) from None


@page
def home(request):
    """The supervision pages of the login's own unit."""
    return redirect("web:supervision", code=navigation.landing(actor(request)).code)


@page
@require_http_methods(["GET", "POST"])
def rounds(request, code: str):
    who = actor(request)
    here = navigation.place(who, code)
    error, form = "", request.POST if request.method == "POST" else {}
    if request.method == "POST":
        p = request.POST
        try:
            made = service.create_round(who, code, title=p.get("title", ""), period_no=p.get("period_no", ""),
                                        start_date=p.get("start_date", ""), end_date=p.get("end_date", ""),
                                        methods=p.getlist("method"), leader=p.get("leader", ""),
                                        units=p.getlist("unit"), indicator_period=p.get("indicator_period", ""))
        except BadRequest as exc:
            error = str(exc)
        else:
            return redirect("web:supervision_round", round_id=made.pk)
    return render(request, "web/supervision/rounds.html", {
        "here": here, "crumbs": navigation.breadcrumb(who, here), "rounds": service.rounds(who, code),
        "periods": service.periods(who, code), "error": error, "form": form,
        "may_edit": service.may_supervise(who), "children": navigation.children(who, here),
        "methods": RoundMethod.choices(), "today": timezone.localdate().isoformat()}, status=400 if error else 200)


@page
@require_http_methods(["GET", "POST"])
def round_detail(request, round_id: int):
    who = actor(request)
    error, done = "", request.GET.get("done", "")
    form = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        p = request.POST
        action = p.get("action", "")
        try:
            if action == "assign":
                service.assign(who, round_id, person=p.get("person", ""), org=p.get("org", ""),
                               kind=p.get("kind", ""), start_date=p.get("start_date", ""),
                               end_date=p.get("end_date", ""))
                done = _("已添加包干责任")
            elif action == "visit":
                files = [(f.name, f.read()) for f in request.FILES.getlist("files")]
                service.record_visit(who, round_id, org=p.get("org", ""), visit_date=p.get("visit_date", ""),
                                     method=p.get("method", ""), summary=p.get("summary", ""), files=files)
                done = _("已录入督导记录")
            elif action == "item":
                service.add_item(who, round_id, org=p.get("org", ""), problem=p.get("problem", ""),
                                 owner=p.get("owner", ""), deadline=p.get("deadline", ""),
                                 period_no=p.get("period_no", ""), visit_id=_int(p.get("visit"), _("督导记录")),
                                 finding_id=_int(p.get("finding"), _("质控问题编号")))
                done = _("已添加整改事项")
            elif action == "status":
                item = service.set_status(who, _int(p.get("item"), _("整改事项")) or 0, p.get("status", ""),
                                          on=p.get("on", ""), note=p.get("note", ""),
                                          version=_int(p.get("version"), _("版本号")))
                done = _("整改事项 %(id)s 已改为“%(status)s”") % {"id": item.pk,
                                                              "status": ItemStatus(item.status).zh}
            else:
                raise BadRequest(_("未知的操作“%(action)s”") % {"action": action})
        except BadRequest as exc:
            error = str(exc)
        else:
            return redirect(f"{reverse('web:supervision_round', args=[round_id])}?{urlencode({'done': done})}")
    view = service.round_view(who, round_id, _date(request.GET.get("as_of")))
    here = navigation.place(who, view.round.org_unit.code)
    return render(request, "web/supervision/round.html", {
        "v": view, "r": view.round, "here": here, "crumbs": navigation.breadcrumb(who, here), "error": error,
        "done": done, "form": form, "methods": RoundMethod.choices(), "kinds": AssignmentKind.choices(),
        "today": timezone.localdate().isoformat(), "statuses": ItemStatus}, status=400 if error else 200)


@page
def attachment(request, attachment_id: int):
    a, path = service.attachment(actor(request), attachment_id)
    if not path.is_file():
        raise BadRequest(_("附件文件已不在存储目录中，请联系系统管理员"))
    return FileResponse(path.open("rb"), as_attachment=True, filename=a.name, content_type=a.content_type)


@page
def period_report(request, code: str):
    who = actor(request)
    here = navigation.place(who, code)
    nos = service.periods(who, code)
    period_no = _int(request.GET.get("period"), _("整改期数")) or (nos[0] if nos else 1)
    report = service.period_report(who, code, period_no, as_of=_date(request.GET.get("as_of")),
                                   indicator_period=request.GET.get("indicators") or None)
    return render(request, "web/supervision/report.html", {
        "here": here, "crumbs": navigation.breadcrumb(who, here), "report": report, "periods": nos})


# --- base data ----------------------------------------------------------------------------------------------
def _entry_fields() -> list[dict]:
    return [{"code": m.code, "name": m.name, "kind": m.kind, "levels": m.levels,
             "choices": m.codes.choices() if m.codes else []} for m in MEASURES.values()]


# the base-data table, one row per measure: staffing, institutions, training, doctors sent down, teams, policy
TABLE_ORDER = ("establishment", "vacancies", "vacancy_rate", "special_outpatient", "capability_grade",
               "training_sessions", "training_due", "training_trained", "training_coverage", "experts_sent",
               "village_rounds", "fd_teams", "fd_doctors", "policy_status")


def _table(report) -> list[tuple[str, list]]:
    return [(report.unit.cells[c].name, [row.cells[c] for row in report.rows]) for c in TABLE_ORDER]


def _history(who, code: str) -> list:
    rows = base_data.history(who, code)
    for h in rows:
        m = MEASURES.get(h.measure)
        h.measure_name = m.name if m else h.measure
        h.shown = dict(m.codes.choices()).get(h.code, h.code) if m and m.codes else h.number
    return rows


@page
@require_http_methods(["GET", "POST"])
def base_data_page(request, code: str):
    who = actor(request)
    here = navigation.place(who, code)
    error, done = "", request.GET.get("done", "")
    form = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        p = request.POST
        try:
            if p.get("action") == "import":
                upload = request.FILES.get("file")
                if upload is None:
                    raise BadRequest(_("请选择要导入的 .xlsx 文件"))
                n = base_data.import_xlsx(who, upload)
            else:
                n = base_data.record(who, p.get("org", code), p.get("as_of", ""),
                                     {m: p.get(m, "") for m in MEASURES}, source=p.get("source", ""))
        except (BadRequest, Refused) as exc:
            error = str(exc)
        else:
            return redirect(f"{reverse('web:base_data', args=[code])}?"
                            f"{urlencode({'done': _('已保存 %(n)s 项') % {'n': n}})}")
    report = base_data.base_data_by_unit(who, code, request.GET.get("as_of") or None)
    units = [here, *navigation.children(who, here)]
    return render(request, "web/supervision/base_data.html", {
        "here": here, "crumbs": navigation.breadcrumb(who, here), "report": report, "table": _table(report),
        "error": error, "done": done, "form": form, "may_enter": base_data.may_enter(who), "fields": _entry_fields(),
        "units": units, "history": _history(who, code), "today": timezone.localdate().isoformat()}, status=400 if error else 200)


@page
def base_data_template(request, code: str):
    navigation.place(actor(request), code)  # scoped like the page it is offered on
    folder = Path(tempfile.mkdtemp(prefix="gongwei-template-"))
    path = base_data.write_template(folder / "base-data-template.xlsx")
    return FileResponse(path.open("rb"), as_attachment=True, filename="基础数据导入模板.xlsx")
