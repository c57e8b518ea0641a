"""Evaluation rounds on the web (issue 12): the list of rounds, a round's 绩效评价情况表, one unit's items with the
evidence behind each lost point and links to the people (the indicator's gap list) or the QC findings, and the XLSX
of both attachments. Each view parses the URL, calls :mod:`gongwei.service.evaluation` and renders."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from django.contrib import messages
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gongwei.reports import evaluation as report
from gongwei.service import evaluation as service
from gongwei.service import navigation
from gongwei.service.errors import BadRequest
from gongwei.spec.evaluation import RoundKind
from gongwei.web.faces import actor, error_page, page

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
        "editable": service.can_edit(actor(request), got.round),
        "can_correct": actor(request).role in service.EVALUATOR_ROLES,
        "rows": [{"row": r, "tops": [r.items.get(t.code) for t in got.scheme.items]} for r in got.rows],
        "title": report.title(got)})


@page
def round_unit(request, round_id: int):
    code = request.GET.get("unit", "").strip()
    if not code:
        raise BadRequest(_("缺少参数 unit（被考核单位代码）"))
    got, row = service.unit_report(actor(request), round_id, code)
    return render(request, "web/evaluation/unit.html", {
        "got": got, "rnd": got.round, "row": row, "editable": service.can_edit(actor(request), got.round),
        "veto": service.VETO, "kind": KIND_ZH[got.round.kind], "sections": _sections(got, row),
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


# --- the evaluator's actions (issue 12): enter a manual item, score, publish, correct -----------------------------
def _unit_url(round_id: int, code: str, item: str = "") -> str:
    return f"{reverse('web:evaluation-unit', args=[round_id])}?unit={code}" + (f"#item-{item}" if item else "")


@page
@require_http_methods(["GET", "POST"])
def manual_entry(request, round_id: int):
    who = actor(request)
    source = request.POST if request.method == "POST" else request.GET
    code, item = source.get("unit", "").strip(), source.get("item", "").strip()
    if not code or not item:
        raise BadRequest(_("缺少参数 unit（被考核单位代码）或 item（项目代码）"))
    form = service.manual_form(who, round_id, code, item)
    ctx = {"form": form, "rnd": form.round, "editable": service.can_edit(who, form.round), "veto": service.VETO,
           "values": {}, "bounded": math.isfinite(form.high)}
    if request.method == "GET":
        return render(request, "web/evaluation/manual.html", ctx)
    upload = request.FILES.get("evidence")
    try:
        got = (upload.name, upload.read()) if upload is not None and upload.size <= service.MAX_EVIDENCE else None
        if upload is not None and got is None:
            raise BadRequest(_("项目 %(item)s 的佐证文件超过 %(mb)d MB") % {
                "item": item, "mb": service.MAX_EVIDENCE // (1024 * 1024)})
        service.set_manual(who, round_id, code, item, request.POST.get("value", "").strip(),
                           request.POST.get("note", ""), reason=request.POST.get("reason", ""), upload=got)
    except BadRequest as exc:
        return render(request, "web/evaluation/manual.html", {**ctx, "error": str(exc), "values": request.POST},
                      status=400)
    messages.success(request, _("已保存，重新评分后计入得分"))
    return redirect(_unit_url(round_id, code, item))


@page
@require_POST
def score(request, round_id: int):
    got = service.score_round(actor(request), round_id)
    messages.success(request, _("已评分：%(n)d 个单位，待录入人工评分项 %(p)d 个") % {"n": got.units, "p": got.pending})
    return redirect("web:evaluation-round", round_id=round_id)


@page
@require_POST
def publish(request, round_id: int):
    try:
        service.publish(actor(request), round_id)
    except BadRequest as exc:  # pending entries, entries after the scoring: back to the round with the reason
        messages.error(request, str(exc))
        return redirect("web:evaluation-round", round_id=round_id)
    messages.success(request, _("已发布，本轮结果已锁定"))
    return redirect("web:evaluation-round", round_id=round_id)


@page
@require_POST
def correct(request, round_id: int):
    who = actor(request)
    rnd = service.get_round(who, round_id)
    try:
        fixed = service.create_round(who, rnd.scheme, rnd.year, rnd.kind, rnd.root.code, period=rnd.period,
                                     level=rnd.level, corrects=rnd.pk, note=request.POST.get("note", ""))
    except BadRequest as exc:
        return error_page(request, 400, str(exc))
    messages.success(request, _("已新建更正轮次 %(n)d（草稿），录入更正内容后评分、发布") % {"n": fixed.pk})
    return redirect("web:evaluation")


@page
@require_GET
def evidence(request, round_id: int, entry_id: int):
    path, name = service.evidence_file(actor(request), round_id, entry_id)
    return FileResponse(path.open("rb"), as_attachment=True, filename=name)


# --- a region's own scheme for a year (issue 12 §1) ---------------------------------------------------------------
@page
@require_http_methods(["GET", "POST"])
def scheme_list(request):
    """The schemes the login may use: the shipped ones and its region's; an evaluator copies one for a region and
    year to adapt it."""
    who = actor(request)
    if request.method == "POST":
        try:
            made = service.copy_scheme(who, request.POST.get("base", "").strip(), request.POST.get("org", "").strip(),
                                       request.POST.get("year", "").strip(), name=request.POST.get("name", ""),
                                       note=request.POST.get("note", ""))
        except BadRequest as exc:
            return error_page(request, 400, str(exc))
        messages.success(request, _("已复制为地区方案 %(code)s，请调整分值和目标值") % {"code": made.code})
        return redirect("web:evaluation-scheme", scheme_code=made.code)
    rows = service.schemes_for(who)
    return render(request, "web/evaluation/schemes.html", {
        "rows": rows, "may_copy": who.role in service.EVALUATOR_ROLES, "own_unit": navigation.landing(who).code,
        "year": timezone.localdate().year})


@page
@require_http_methods(["GET", "POST"])
def scheme_detail(request, scheme_code: str):
    who = actor(request)
    regional, sch = service.regional_scheme(who, scheme_code)
    error = ""
    if request.method == "POST":
        values = {k: v for k, v in request.POST.items() if "." in k}
        try:
            service.edit_scheme(who, scheme_code, values, expected_version=int(request.POST.get("version", "0")))
        except BadRequest as exc:
            error = str(exc)
        else:
            messages.success(request, _("已保存地区方案的调整"))
            return redirect("web:evaluation-scheme", scheme_code=scheme_code)
        regional, sch = service.regional_scheme(who, scheme_code)
    editable = next((r.editable for r in service.schemes_for(who) if r.code == scheme_code), False)
    rows = [{"item": i, "depth": _depth(sch, i.code), "changed": i.code in regional.overrides,
             "target_pct": None if i.target is None else (i.target if i.workload else round(i.target * 100, 4)),
             "limit_pct": None if i.limit is None else round(i.limit * 100, 4)} for i in sch.walk()]
    return render(request, "web/evaluation/scheme.html", {
        "regional": regional, "scheme": sch, "rows": rows, "editable": editable, "error": error,
        "posted": request.POST if error else {}}, status=400 if error else 200)


def _depth(sch, code: str) -> int:
    parents, n = sch.parents(), 0
    while parents.get(code):
        code, n = parents[code], n + 1
    return n
