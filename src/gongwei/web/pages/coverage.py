"""Household coverage pages (村不漏户、户不漏人, issue 13 §6): upload a list from another authority for a unit and
see the lists imported; an import's report per village with the people behind the gaps. Each view parses, calls
:mod:`gongwei.service.coverage` and renders."""

from __future__ import annotations

from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from gongwei.reports.verification import pct
from gongwei.service import coverage as service
from gongwei.service import navigation, verification
from gongwei.service.errors import BadRequest
from gongwei.spec.coverage import ListAuthority
from gongwei.web.faces import actor, page


@page
@require_http_methods(["GET", "POST"])
def lists(request, code: str):
    who = actor(request)
    here = navigation.place(who, code)
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise BadRequest("请选择名单文件：户籍人口名单模板（.xlsx 或 .csv）")
            done = service.import_list(who, code, request.POST.get("authority", ""), upload.name, upload.read())
        except BadRequest as exc:
            error = str(exc)
        else:
            return redirect(reverse("web:coverage", args=[done.import_no]))
    return render(request, "web/surveys/coverage_lists.html", {
        "here": here, "crumbs": navigation.breadcrumb(who, here), "imports": service.imports(who, code),
        "error": error, "may_import": verification.may_sample(who), "authorities": ListAuthority.choices(),
        "template": service.TEMPLATE_TEXT}, status=400 if error else 200)


@page
def report(request, import_no: str):
    who = actor(request)
    village = request.GET.get("village", "")
    rep = service.report(who, import_no, village=village)
    here = navigation.place(who, rep.unit_code)
    rows = [{"v": v, "coverage": pct(v.coverage)} for v in [rep.total, *rep.villages]]
    return render(request, "web/surveys/coverage.html", {
        "rep": rep, "rows": rows, "here": here, "crumbs": navigation.breadcrumb(who, here), "village": village,
        "missing": [p for p in rep.people if p.kind == "missing"],
        "not_on_list": [p for p in rep.people if p.kind == "not_on_list"]})
