"""The indicator dashboard (issue 10 §2–3): a unit's bulletin table, one indicator's trend and ranking, the gap
list with its reasons and its XLSX export. Each view parses the URL, calls :mod:`gongwei.service.dashboard`
(stored results only; scope, masking and audit live there) and renders.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from gongwei.reports.dashboard import gaps_xlsx
from gongwei.service import dashboard as service
from gongwei.service import navigation
from gongwei.service.errors import BadRequest
from gongwei.web import fragments
from gongwei.web.faces import actor, page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def data_time(basis) -> str:
    """The snapshot's time in the server's zone (Asia/Shanghai), as every page states it."""
    try:
        return timezone.localtime(dt.datetime.fromisoformat(basis.taken_at)).strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return str(basis.taken_at)


def _int(request, name: str, default: int) -> int:
    text = request.GET.get(name, "").strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise BadRequest(_("参数 %(name)s（页码）应为正整数，收到“%(text)s”") % {"name": name, "text": text}) from None


def _context(request, place, report) -> dict:
    who = actor(request)
    return {"here": place, "period": report.period, "basis": report.basis, "data_time": data_time(report.basis),
            "trail": navigation.breadcrumb(who, place), "margin_pp": round(service.NEAR_MARGIN * 100)}


@page
def indicators(request, code: str):
    """The bulletin table: indicators × (the unit and its child units), coloured against the targets. The table
    (~1,000 rows at a township) is rendered once per version of what it shows and then kept (ADR 029)."""
    who = actor(request)
    version = service.dashboard_version(who, code, request.GET.get("period"))

    def table() -> str:
        board = service.dashboard(who, code, version.period.code)
        ctx = _context(request, board.place, board.report)
        ctx.update(board=board, report=board.report, standing_zh=service.STANDING_ZH)
        return render_to_string("web/dashboard/bulletin.html", ctx)  # no request: nothing of the login inside

    return render(request, "web/dashboard/indicators.html", {
        "here": version.place, "period": version.period, "trail": navigation.breadcrumb(who, version.place),
        "table": fragments.cached(version.key, table)})


@page
def indicator(request, code: str, indicator: str):
    """One indicator: the unit's figure, forecast, trend over the stored periods and the ranking of its children."""
    got = service.indicator(actor(request), code, indicator, request.GET.get("period"))
    ctx = _context(request, got.dashboard.place, got.dashboard.report)
    ctx.update(got=got, ind=got.block, own=got.block.own, report=got.dashboard.report,
               chart={**got.chart_data(), "words": {"target": _("目标"), "rate": _("率")}}, standing_zh=service.STANDING_ZH)
    return render(request, "web/dashboard/indicator.html", ctx)


@page
def gaps(request, code: str, indicator: str):
    """The people in the gap, with reasons, paged and filtered by reason; htmx asks for the list only."""
    period = request.GET.get("period", "").strip()
    if not period:
        raise BadRequest(_("缺少参数 period（期间），如 ?period=2025"))
    got = service.gap_list(actor(request), code, indicator, period, reason=request.GET.get("reason"),
                           page=_int(request, "page", 1))
    people = [{"person": p, "record_url": reverse("web:resident", args=[p.record_no])}
              for p in got.result.page.people]
    ctx = {"here": got.place, "got": got, "people": people, "result": got.result, "basis": got.result.basis,
           "data_time": data_time(got.result.basis), "period_code": period,
           "trail": navigation.breadcrumb(actor(request), got.place)}
    template = "web/dashboard/gap_rows.html" if request.htmx else "web/dashboard/gaps.html"
    return render(request, template, ctx)


@page
def gaps_export(request, code: str, indicator: str):
    """The whole gap list (with the reason filter) as XLSX: audited as an export of every person in it."""
    period = request.GET.get("period", "").strip()
    if not period:
        raise BadRequest(_("缺少参数 period（期间），如 ?period=2025"))
    got = service.gap_list(actor(request), code, indicator, period, reason=request.GET.get("reason"), export=True)
    with tempfile.TemporaryDirectory() as tmp:  # owner-only; the file leaves only in the response
        path = gaps_xlsx(got, Path(tmp) / "gaps.xlsx")
        body = path.read_bytes()
    name = f"{_('缺口人员')}_{got.indicator}_{got.place.code}_{got.result.page.period}"
    if got.reason:
        name += f"_{got.reason}"
    response = HttpResponse(body, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename=\"gaps.xlsx\"; filename*=UTF-8''{_quote(name)}.xlsx"
    return response


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")
