"""The maternal, child and vaccination forms (issue 11 §4, ADR 031) with the rule applied as they are typed. Each
view parses, calls one use case of :mod:`gongwei.service.maternal_child`, and renders; scope, audit and every
rule live below."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from gongwei.service import maternal_child as mc
from gongwei.service import navigation
from gongwei.service.errors import BadRequest
from gongwei.web.faces import actor, page


def _version(text: str | None) -> int | None:
    if text in (None, ""):
        return None
    try:
        return int(text)
    except ValueError:
        raise BadRequest(_("版本号“%(text)s”无效：应为正整数") % {"text": text}) from None


def _context(request, shown: mc.FormPage, **more) -> dict:
    who = actor(request)
    unit = navigation.place(who, shown.unit_code)
    return {"f": shown, "crumbs": navigation.breadcrumb(who, unit), **more}


@page
@require_http_methods(["GET", "POST"])
def entry_form(request, record_no: str, form: str):
    """GET: a new record, or ``?edit=<encounter_no>``; POST: save (``encounter_no`` and ``version`` for an edit)."""
    who = actor(request)
    if request.method == "GET":
        shown = mc.form(who, record_no, form, request.GET.get("edit", "").strip())
        return render(request, "web/maternal_child/form.html", _context(request, shown))
    post = request.POST
    encounter_no = post.get("encounter_no", "").strip()
    try:
        saved = mc.save(who, record_no, form, post, encounter_no=encounter_no,
                        expected_version=_version(post.get("version")), reason=post.get("reason", ""))
    except (mc.Invalid, mc.Stale) as exc:
        shown = mc.form(who, record_no, form, encounter_no)
        stale = isinstance(exc, mc.Stale)
        if not stale:
            flags = {x.name: "" for x in shown.form.fields if x.kind == "flag"}  # an unticked box is not posted
            shown.initial = {**shown.initial, **flags, **{k: post.get(k, "") for k in post}}
        check = mc.propose(who, record_no, form, post, encounter_no=encounter_no)
        context = _context(request, shown, check=check, errors=getattr(exc, "fields", {}),
                           stale=exc if stale else None)
        return render(request, "web/maternal_child/form.html", context, status=409 if stale else 400)
    c = saved.check
    text = _("%(title)s已保存") % {"title": c.title}
    if c.next_date:
        text += _("：下次%(name)s %(date)s") % {"name": c.next_name, "date": c.next_date.isoformat()}
    messages.success(request, text)
    return redirect(reverse("web:resident", args=[record_no]))


@page
@require_http_methods(["GET", "POST"])
def entry_propose(request, record_no: str, form: str):
    """HTMX: the rulebook's answer to the values typed so far (nothing is written)."""
    values = request.POST if request.method == "POST" else request.GET
    check = mc.propose(actor(request), record_no, form, values, encounter_no=values.get("encounter_no", ""))
    return render(request, "web/maternal_child/proposal.html", {"check": check, "errors": check.errors})
