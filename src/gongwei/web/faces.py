"""What every page shares as a face: the actor of a request, and service errors turned into Chinese pages.

A view parses the URL, calls :mod:`gongwei.service` with :func:`actor` and renders a template; it never checks
scope itself. :func:`page` wraps a view so that the service's refusals become the 403/404/400 pages.
"""

from __future__ import annotations

import functools

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from gongwei.service import access
from gongwei.service.errors import BadRequest, NotFound, NotReady, Refused


def client_address(request) -> str:
    # behind the county's reverse proxy the proxy's address is what Django sees; configure it to pass REMOTE_ADDR
    return request.META.get("REMOTE_ADDR", "")


def actor(request) -> access.Actor:
    cached = getattr(request, "_gongwei_actor", None)
    if cached is None:
        cached = access.for_user(request.user, address=client_address(request), path=request.get_full_path())
        request._gongwei_actor = cached
    return cached


STATUS = {Refused: 403, NotFound: 404, BadRequest: 400, NotReady: 409}
TITLES = {403: _("无权查看"), 404: _("未找到"), 400: _("请求有误"), 409: _("数据尚未计算")}


def error_page(request, status: int, message: str):
    return render(request, "web/error.html", {"status": status, "title": TITLES.get(status, _("出错了")),
                                              "message": message}, status=status)


def page(view):
    """Login required; service refusals rendered as Chinese error pages with the right status."""

    @login_required
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except (Refused, NotFound, BadRequest, NotReady) as exc:
            return error_page(request, STATUS[type(exc)], str(exc))

    return wrapped
