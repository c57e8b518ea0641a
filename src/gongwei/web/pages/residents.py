"""Find a resident, and the record's home page (健康档案首页): parse, call :mod:`gongwei.service.residents`,
render. Scope, masking and audit happen in the service."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext as _

from gongwei.service import navigation
from gongwei.service import residents as service
from gongwei.service.errors import BadRequest
from gongwei.web.faces import actor, page


def _int(value: str | None, what: str, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise BadRequest(_("%(what)s“%(value)s”无效：应为正整数") % {"what": what, "value": value}) from None


@page
def search(request):
    who = actor(request)
    g = request.GET
    found = service.search(who, g.get("q", ""), village=g.get("village", "").strip(),
                           program=g.get("program", "").strip(), status=g.get("status", "").strip(),
                           page=_int(g.get("page"), _("页码"), 1))
    here = navigation.landing(who)
    keep = {k: g.get(k, "") for k in ("q", "village", "program", "status") if g.get(k)}
    return render(request, "web/residents/search.html", {
        "found": found, "keep": keep, "crumbs": navigation.breadcrumb(who, here),
        "unmasked": who.unmasked})


@page
def record(request, record_no: str):
    who = actor(request)
    shown = service.record(who, record_no)
    unit = navigation.place(who, shown.unit_code)
    return render(request, "web/residents/record.html", {
        "r": shown, "crumbs": navigation.breadcrumb(who, unit), "unmasked": who.unmasked})
