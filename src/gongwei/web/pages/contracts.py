"""A resident's family-doctor contracts (家庭医生签约): sign, renew, end, record services delivered. Parse, call
:mod:`gongwei.service.contracts`, render; a refused value comes back above the form, in Chinese."""

from __future__ import annotations

from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from gongwei.service import contracts as service
from gongwei.service import navigation
from gongwei.service.errors import BadRequest
from gongwei.web.faces import actor, page


def _version(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        raise BadRequest(_("版本号“%(text)s”无效") % {"text": text}) from None


@page
@require_http_methods(["GET", "POST"])
def contracts(request, record_no: str):
    who = actor(request)
    error, done = "", request.GET.get("done", "")
    if request.method == "POST":
        p = request.POST
        action = p.get("action", "")
        try:
            if action == "sign":
                done = service.sign(who, record_no, p.get("team", ""), p.get("start", ""))
            elif action == "renew":
                done = service.renew(who, p.get("contract", ""))
            elif action == "end":
                service.end(who, p.get("contract", ""), p.get("on", ""), p.get("reason", ""),
                            version=_version(p.get("version")))
                done = p.get("contract", "")
            elif action == "service":
                done = service.record_service(who, p.get("contract", ""), p.get("item", ""), p.get("on", ""),
                                              p.get("note", ""))
            else:
                raise BadRequest(_("未知的操作“%(action)s”") % {"action": action})
        except BadRequest as exc:
            error = str(exc)
        else:
            return redirect(f"{request.path}?done={done}")
    shown = service.page(who, record_no)
    unit = navigation.place(who, shown.unit_code)
    return render(request, "web/contracts/page.html", {
        "p": shown, "error": error, "done": done, "form": request.POST if error else {},
        "crumbs": navigation.breadcrumb(who, unit)}, status=400 if error else 200)
