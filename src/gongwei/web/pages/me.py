"""A resident's own record (居民查看本人健康档案, ADR 021), and the clinic issuing the resident's password.

The resident's session is not a staff login: it holds the credential's id and a stamp of its hash, which
:func:`gongwei.service.self_service.session_actor` turns back into an actor seeing this one person (or nothing, once
the password is withdrawn or issued anew). Parse, call the service, render.
"""

from __future__ import annotations

from django.contrib.auth import logout
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from gongwei.service import navigation, self_service
from gongwei.service.errors import BadRequest, Refused
from gongwei.web.faces import actor, client_address, page

SESSION_KEY = "gongwei_resident"


def _resident(request):
    credential_id, stamp = (request.session.get(SESSION_KEY) or (None, None))
    return self_service.session_actor(credential_id, stamp, address=client_address(request),
                                      path=request.get_full_path())


@require_http_methods(["GET", "POST"])
def sign_in(request):
    error, id_number = "", ""
    if request.method == "POST":
        id_number = request.POST.get("id_number", "").strip()
        try:
            signed = self_service.sign_in(id_number, request.POST.get("password", ""),
                                          address=client_address(request), path=request.path)
        except (BadRequest, Refused) as exc:
            error = str(exc)
        else:
            logout(request)  # a clinic PC: no staff session survives a resident signing in, and a new session key
            request.session[SESSION_KEY] = [signed.credential_id, signed.stamp]
            return redirect("web:me")
    return render(request, "web/me/login.html", {"error": error, "id_number": id_number},
                  status=400 if error else 200)


def home(request):
    who = _resident(request)
    if who is None:
        return redirect("web:me_login")
    shown = self_service.own_record(who)
    return render(request, "web/me/record.html", {"r": shown, "self_view": True, "unmasked": True})


@require_POST
def sign_out(request):
    request.session.flush()
    return redirect("web:me_login")


@page
@require_http_methods(["GET", "POST"])
def issue(request, record_no: str):
    who = actor(request)
    if request.method == "POST":
        issued = self_service.issue_password(who, record_no)
        return render(request, "web/me/issued.html", {"issued": issued})
    shown = self_service.issue_preview(who, record_no)
    return render(request, "web/me/issue.html", {
        "p": shown, "crumbs": navigation.breadcrumb(who, navigation.place(who, shown.unit_code))})
