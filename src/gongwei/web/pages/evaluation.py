"""Evaluation rounds on the web (issue 12): the list of rounds, a round's 绩效评价情况表, one unit's items with the
evidence behind each lost point and links to the people (the indicator's gap list) or the QC findings, and the XLSX
of both attachments. Each view parses the URL, calls :mod:`gongwei.service.evaluation` and renders."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from gongwei.reports import evaluation as report
from gongwei.service import evaluation as service
from gongwei.service.errors import BadRequest
from gongwei.spec.evaluation import RoundKind
from gongwei.web.faces import actor, page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KIND_ZH = {k.value: k.zh for k in RoundKind}


@page
def round_list(request):
    rounds = service.rounds(actor(request))
    return render(request, "web/evaluation/list.html", {"rounds": rounds, "kind_zh": KIND_ZH})


def _sections(got, row) -> list[dict]:
    """The scheme's top items, each with its leaves' scores, for the unit page."""
    out = []
    for top in got.scheme.items:
        leaves = [{"item": i, "score": row.items.get(i.code), "lost": round(i.points - row.items[i.code].points, 2)
                   if i.code in row.items else None} for i in top.walk() if i.leaf]
        out.append({"item": top, "score": row.items.get(top.code), "leaves": leaves})
    return out


@page
def round_detail(request, round_id: int):
    got = service.round_report(actor(request), round_id)
    header, rows = report.table_rows(got)
    return render(request, "web/evaluation/round.html", {
        "got": got, "rnd": got.round, "kind": KIND_ZH[got.round.kind], "tops": got.scheme.items,
        "rows": [{"row": r, "tops": [r.items.get(t.code) for t in got.scheme.items]} for r in got.rows],
        "title": report.title(got)})


@page
def round_unit(request, round_id: int):
    code = request.GET.get("unit", "").strip()
    if not code:
        raise BadRequest(_("缺少参数 unit（被考核单位代码）"))
    got, row = service.unit_report(actor(request), round_id, code)
    return render(request, "web/evaluation/unit.html", {
        "got": got, "rnd": got.round, "row": row, "kind": KIND_ZH[got.round.kind], "sections": _sections(got, row),
        "title": report.title(got)})


@page
def round_export(request, round_id: int):
    got = service.round_report(actor(request), round_id)
    with tempfile.TemporaryDirectory() as folder:
        path = report.round_xlsx(got, Path(folder) / "round.xlsx")
        data = path.read_bytes()
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="evaluation-round-{got.round.pk}.xlsx"'
    return response
