"""Bulletins in the browser (issue 14 §6): a unit's bulletins with the form to draft one, a bulletin's preview
with its paragraphs editable while a draft, regenerate and publish, and the downloads."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from gongwei.bulletins import narrative
from gongwei.bulletins.template import TYPES
from gongwei.service import bulletins, navigation
from gongwei.service.errors import BadRequest
from gongwei.web.faces import actor, page


def _int(text: str | None, what: str) -> int:
    try:
        return int(text or "")
    except ValueError:
        raise BadRequest(_("%(what)s“%(text)s”不是整数") % {"what": what, "text": text}) from None


@page
@require_GET
def home(request):
    return redirect("web:bulletins", code=navigation.landing(actor(request)).code)


@page
@require_http_methods(["GET", "POST"])
def unit_list(request, code: str):
    who = actor(request)
    if request.method == "POST":
        b = bulletins.draft(who, request.POST.get("kind", ""), code, request.POST.get("period", ""))
        return redirect("web:bulletin", pk=b.pk)
    here = navigation.place(who, code)
    return render(request, "web/bulletins/list.html", {
        "here": here, "crumbs": navigation.breadcrumb(who, here), "items": bulletins.for_unit(who, code),
        "types": TYPES, "period": request.GET.get("period", "")})


@page
@require_http_methods(["GET", "POST"])
def detail(request, pk: int):
    who = actor(request)
    if request.method == "POST":
        action = request.POST.get("action")
        version = _int(request.POST.get("version"), _("版本"))
        if action == "edit":
            bulletins.edit(who, pk, _int(request.POST.get("index"), _("段落序号")), request.POST.get("text", ""),
                           expected_version=version)
        elif action == "regenerate":
            bulletins.regenerate(who, pk, expected_version=version)
        elif action == "publish":
            bulletins.publish(who, pk, expected_version=version)
        else:
            raise BadRequest(_("操作“%(action)s”不存在（可选：edit、regenerate、publish）") % {"action": action})
        return redirect("web:bulletin", pk=pk)
    b = bulletins.get(who, pk)
    here = navigation.place(who, b.org_code)
    return render(request, "web/bulletins/detail.html", {
        "b": b, "here": here, "crumbs": navigation.breadcrumb(who, here), "draft": b.status == "draft",
        "paragraphs": [(i, p, _linked(p, b.period)) for i, p in enumerate(b.paragraphs)],
        "formats": bulletins.FORMATS})


def _linked(p: dict, period: str) -> list[tuple[str, str]]:
    """A paragraph as (words, url) pieces: each figure links to its indicator's drill-down for the bulletin's
    unit or child unit and period (issue 14 §4); url is "" for the words around the figures."""
    out = []
    for words, ref in narrative.segments(p):
        url = ""
        if ref:
            indicator, unit = ref.split("@", 1)
            url = f"{reverse('web:indicator', args=[unit, indicator])}?{urlencode({'period': period})}"
        out.append((words, url))
    return out


@page
@require_GET
def download(request, pk: int, fmt: str):
    path = bulletins.file(actor(request), pk, fmt)
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name)
