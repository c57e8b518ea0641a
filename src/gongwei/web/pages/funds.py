"""The funds ledger on the web (资金台账, issue 12): a unit's table of rates with the units just below it as of a
date, the alerts, the village doctors' subsidies, the latest movements and the entry form; the table as XLSX. Each
view parses the request, calls :mod:`gongwei.service.funds` and renders."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from gongwei.reports import funds as report
from gongwei.service import funds as service
from gongwei.service import navigation
from gongwei.service.errors import BadRequest
from gongwei.spec import funds as spec
from gongwei.web.faces import actor, page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORM_FIELDS = ("kind", "year", "item", "level", "org", "amount", "date", "doc_no", "recipient", "note")


@page
@require_GET
def home(request):
    """The main navigation's 资金台账: the login's own unit."""
    here = navigation.landing(actor(request))
    return redirect(reverse("web:funds", args=[here.code]))


def _asked(request) -> dict:
    q = request.GET
    return {"year": q.get("year", "").strip() or None, "as_of": q.get("date", "").strip() or None,
            "item": q.get("item", "").strip() or None}


def _pcts(row) -> list[str]:
    return ["—" if (x := row.figures.rate(r.code)) is None else f"{x * 100:.2f}%" for r in spec.RATES]


@page
@require_http_methods(["GET", "POST"])
def unit_funds(request, code: str):
    who = actor(request)
    asked = _asked(request)
    error, values = "", {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in FORM_FIELDS}
        try:
            if request.POST.get("void"):
                service.void_flow(who, request.POST["void"], request.POST.get("reason", ""))
                messages.success(request, _("已作废，原记录保留"))
            else:
                flow = service.record_flow(who, **{**values, "org": values["org"] or code})
                messages.success(request, _("已录入：%(kind)s %(amount)s 元（%(doc)s）") % {
                    "kind": spec.FLOW_KINDS[flow.kind], "amount": flow.amount, "doc": flow.doc_no})
            return redirect(request.get_full_path())
        except BadRequest as exc:
            error = str(exc)
    table = service.table(who, code, **asked)
    ctx = {"table": table, "here": table.unit, "rows": [(r, _pcts(r)) for r in table.rows],
           "total_pcts": _pcts(table.total), "alerts": service.alerts(who, code, year=table.year, as_of=table.as_of),
           "subsidies": service.village_subsidies(who, code, year=table.year, as_of=table.as_of),
           "flows": service.flows(who, code, year=table.year, limit=50), "can_enter": service.can_enter(who),
           "kinds": spec.FLOW_KINDS, "items": {k: v.name for k, v in spec.FUND_ITEMS.items()},
           "levels": spec.LEVELS, "error": error, "values": values, "title": report.title(table),
           "alert_zh": report.ALERT_ZH,
           "query": request.GET.urlencode()}
    return render(request, "web/funds/unit.html", ctx, status=400 if error else 200)


@page
@require_GET
def unit_export(request, code: str):
    who = actor(request)
    table = service.table(who, code, **_asked(request))
    alerts = service.alerts(who, code, year=table.year, as_of=table.as_of)
    subsidies = service.village_subsidies(who, code, year=table.year, as_of=table.as_of)
    with tempfile.TemporaryDirectory() as folder:
        data = report.funds_xlsx(table, alerts, subsidies, Path(folder) / "funds.xlsx").read_bytes()
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="funds-{code}-{table.as_of:%Y%m%d}.xlsx"'
    return response
