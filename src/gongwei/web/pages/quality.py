"""Data-quality pages (issue 10 point 4): the QC scorecard, the rectification ledger with bulk actions, the
duplicate review queue and closing records from an uploaded list. Each view parses, calls
:mod:`gongwei.service.ledger` and renders; scope, audit and the workflow's rules live in the service."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from gongwei.engine.scorecard import LEVEL_NAMES, change_text, place_label, rate_text
from gongwei.service import ledger, navigation
from gongwei.service.errors import BadRequest
from gongwei.web.faces import actor, page

ACTION_CHOICES = [("rectify", gettext_lazy("标记已整改")), ("verify", gettext_lazy("核实整改")),
                  ("assign", gettext_lazy("指派给单位")), ("dismiss", gettext_lazy("排除（须填原因）")),
                  ("reopen", gettext_lazy("重新打开"))]
MAX_UPLOAD = 5 * 1024 * 1024  # a 10,000-row list is well under 1 MB


def _int(text: str | None, default: int = 1) -> int:
    try:
        return int(text or default)
    except ValueError:
        raise BadRequest(_("页码“%(text)s”应为正整数") % {"text": text}) from None


def _context(request, who, here, tab: str, **more) -> dict:
    return {"here": here, "crumbs": navigation.breadcrumb(who, here), "tab": tab, **more}


# --- scorecard ----------------------------------------------------------------------------------------------
@page
def scorecard(request, code: str):
    from gongwei.reports.quality import bulletin_text
    from gongwei.spec.quality import rules

    who = actor(request)
    here = navigation.place(who, code)
    got = ledger.scorecard(who, code, request.GET.get("period") or None)
    report, card, tree = got.report, got.report.card, got.report.tree
    root = card.root
    catalogue = rules()

    def shown(r: dict) -> dict:
        return {**r, "rate_text": rate_text(r["rate"]), "change_text": change_text(r["change"]),
                "rank_text": "" if r["rank"] is None or r["siblings"] < 2 else f"{r['rank']}/{r['siblings']}"}

    total = shown(card.figure(root, "all"))
    by_rule = [{**shown(r), "level_name": LEVEL_NAMES.get(catalogue[r["group"]].level, "") if r["group"] in catalogue else ""}
               for r in card.rows(root, "rule")]
    children = sorted(tree.children(root), key=lambda u: tree.code[u])
    units = [{**shown(card.figure(u, "all")), "label": place_label(tree, root, u),
              "main": sorted((r for r in card.rows(u, "rule") if r["findings"]), key=lambda r: -r["findings"])[:3]}
             for u in children]
    text = bulletin_text(report)
    clusters = text.split("\n问题集中\n", 1)[1].splitlines() if "\n问题集中\n" in text else []
    return render(request, "web/quality/scorecard.html", _context(
        request, who, here, "quality", got=got, card=card, total=total, by_rule=by_rule, units=units,
        clusters=clusters, bulletin=text, basis=report.basis, taken=ledger.taken_time(report.basis),
        levels=[shown(r) for r in card.rows(root, "level")]))


# --- the rectification ledger -----------------------------------------------------------------------------------
@page
@require_http_methods(["GET", "POST"])
def findings(request, code: str):
    who = actor(request)
    here = navigation.place(who, code)
    refused = None
    status = 200
    if request.method == "POST":
        ids = request.POST.getlist("finding")
        try:
            chosen = [int(i) for i in ids]
        except ValueError:
            raise BadRequest(_("勾选的质控问题编号无效")) from None
        try:
            done = ledger.act(who, chosen, request.POST.get("action", ""), reason=request.POST.get("reason", ""),
                              unit=request.POST.get("unit", ""))
        except ledger.BulkRefused as exc:
            refused, status = exc, 403
        else:
            messages.success(request, done.text)
            return redirect(request.get_full_path())
    q = request.GET
    got = ledger.findings(who, code, rule=q.get("rule", ""), status=q.get("status", "open"), unit=q.get("unit", ""),
                          period=q.get("period", ""), page=_int(q.get("page")))
    keep = {k: v for k, v in got.filters.items() if v}
    return render(request, "web/quality/findings.html", _context(
        request, who, here, "findings", got=got, refused=refused, statuses=ledger.STATUS_LABELS,
        query=urlencode(keep), chosen=request.POST.getlist("finding"), actions=ACTION_CHOICES,
        posted_action=request.POST.get("action", "")),
        status=status)


# --- duplicates -----------------------------------------------------------------------------------------------
@page
@require_http_methods(["GET", "POST"])
def duplicates(request, code: str):
    who = actor(request)
    here = navigation.place(who, code)
    if request.method == "POST":
        p = request.POST
        text = ledger.decide(who, code, p.get("survivor", ""), p.get("duplicate", ""), p.get("decision", ""),
                             reason=p.get("reason", ""))
        messages.success(request, text)
        return redirect(request.get_full_path())
    got = ledger.duplicate_queue(who, code, state=request.GET.get("state", "pending"),
                                 page=_int(request.GET.get("page")))
    return render(request, "web/quality/duplicates.html", _context(
        request, who, here, "duplicates", got=got, states=ledger.STATES, taken=ledger.taken_time(got.basis)))


# --- closing records from a list --------------------------------------------------------------------------------
@page
@require_http_methods(["GET", "POST"])
def close(request, code: str):
    who = actor(request)
    here = navigation.place(who, code)
    ctx = _context(request, who, here, "close", columns=",".join(ledger.CLOSE_COLUMNS))
    if request.method == "GET":
        return render(request, "web/quality/close.html", ctx)
    confirm = request.POST.get("step") == "confirm"
    try:
        if confirm:
            data = request.POST.get("content", "").encode("utf-8")
        else:
            upload = request.FILES.get("list")
            if upload is None:
                raise BadRequest(_("请选择要上传的结案名单（CSV 文件）"))
            if upload.size > MAX_UPLOAD:
                raise BadRequest(_("上传的文件超过 5 MB：请分批上传"))
            data = upload.read()
        rows = ledger.read_close_list(data)
        if confirm:
            n = ledger.close_list(who, code, rows)
            messages.success(request, _("已结案 %(n)d 份档案") % {"n": n})
            return redirect(reverse("web:quality-close", args=[code]))
        preview = ledger.preview_close(who, code, rows)
    except BadRequest as exc:
        return render(request, "web/quality/close.html", {**ctx, "error": str(exc)}, status=400)
    return render(request, "web/quality/close.html", {**ctx, "preview": preview,
                                                      "content": data.decode("utf-8-sig")})
