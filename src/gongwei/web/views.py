"""Pages of the web application. Each view: parse, call the service, render (architecture.md §3)."""

from __future__ import annotations

from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from gongwei.service import navigation
from gongwei.web.faces import actor, error_page, page


@page
def home(request):
    """Each login lands on its own unit."""
    here = navigation.landing(actor(request))
    return redirect("web:indicators", code=here.code)


@page
def quality_home(request):
    """The data-quality pages of the login's own unit."""
    here = navigation.landing(actor(request))
    return redirect("web:quality", code=here.code)


@page
def unit(request, code: str):
    """A unit's page: where it sits, the units below it (the dashboard grows here, issue 10)."""
    who = actor(request)
    here = navigation.place(who, code)
    return render(request, "web/unit.html", {"here": here, "crumbs": navigation.breadcrumb(who, here),
                                             "children": navigation.children(who, here)})


def not_found(request, exception=None):
    return error_page(request, 404, _("您要找的页面不存在"))


def server_error(request):
    return render(request, "web/error.html", {"status": 500, "title": _("系统出错"),
                                              "message": _("系统出错，已记录，请稍后再试或联系系统管理员")}, status=500)


def forbidden(request, exception=None):
    return error_page(request, 403, _("您无权查看此页面"))
