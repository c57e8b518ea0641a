"""Workload on the web (工作量, issue 12): service equivalents of a unit, the units just below it and the staff of its
subtree over a period. Parses, calls :mod:`gongwei.service.workload`, renders."""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from gongwei.service import workload as service
from gongwei.web.faces import actor, page


@page
@require_GET
def unit_workload(request, code: str):
    period = request.GET.get("period", "").strip() or str(timezone.localdate().year)
    got = service.workload(actor(request), code, period)
    pool = service.parse_pool(request.GET.get("pool", ""))
    # 按工作量分配: the units just below and the staff, each share of the pool typed (nothing is stored)
    unit_amounts = {id(x.line): x for x in service.allocate(pool, got.units[1:])} if pool else {}
    staff_amounts = {id(x.line): x for x in service.allocate(pool, got.staff)} if pool else {}
    return render(request, "web/funds/workload.html", {
        "got": got, "here": got.unit, "pool": pool,
        "units": [(u, [u.counts.get(t.model, 0) for t in got.types], unit_amounts.get(id(u))) for u in got.units],
        "staff": [(s, [s.counts.get(t.model, 0) for t in got.types], staff_amounts.get(id(s)))
                  for s in got.staff[:200]]})
