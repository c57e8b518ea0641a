"""Verification pages (抽样核查, issue 13 §1–2): a unit's samples and the draw form; a sample's sheet with its
frame, the verified rate beside the platform's, assignment and outcome entry. Each view parses, calls
:mod:`gongwei.service.verification` and renders; scope, roles and the rules live in the service."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from gongwei.reports.verification import interval_text, pct, sample_heading
from gongwei.service import navigation
from gongwei.service import verification as service
from gongwei.service.errors import BadRequest
from gongwei.spec.sampling import Method
from gongwei.spec.verification import CheckMethod, Outcome, WrongField
from gongwei.web.faces import actor, page


def _int(text: str | None, what: str) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise BadRequest(f"{what}“{text}”应为整数") from None


def _margin(text: str | None) -> float | None:
    text = (text or "").strip().rstrip("%").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise BadRequest(f"允许误差“{text}”应为数字，如 5 表示 ±5%") from None
    return value / 100  # typed in percent: 5 → ± 5 %


@page
def home(request):
    """The verification pages of the login's own unit."""
    return redirect("web:samples", code=navigation.landing(actor(request)).code)


@page
@require_http_methods(["GET", "POST"])
def samples(request, code: str):
    who = actor(request)
    here = navigation.place(who, code)
    error = ""
    form = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        p = request.POST
        try:
            drawn = service.draw(who, p.get("indicator", ""), code, p.get("period", ""),
                                 method=p.get("method", Method.INTERVAL), part=p.get("part", "numerator"),
                                 size=_int(p.get("size"), "样本量"), margin=_margin(p.get("margin")),
                                 seed=_int(p.get("seed"), "随机种子"))
        except BadRequest as exc:
            error = str(exc)
        else:
            return redirect(reverse("web:sample", args=[drawn.sample_no]))
    period = request.GET.get("period", "")
    found = service.samples(who, code, period=period)
    return render(request, "web/verification/samples.html", {
        "here": here, "crumbs": navigation.breadcrumb(who, here), "samples": found, "error": error, "form": form,
        "may_sample": service.may_sample(who), "indicators": service.indicator_options(),
        "methods": Method.choices(), "parts": list(service.PART_NAMES.items()),
        "default_period": str(dt.date.today().year - 1)}, status=400 if error else 200)


@page
@require_http_methods(["GET", "POST"])
def sample(request, sample_no: str):
    who = actor(request)
    error, done = "", request.GET.get("done", "")
    form = request.POST if request.method == "POST" else {}
    check = None
    if request.method == "POST":
        p = request.POST
        action = p.get("action", "")
        try:
            if action == "assign":
                n = service.assign(who, sample_no, p.get("login", ""), p.get("method", ""),
                                   positions=[x for x in (_int(v, "序号") for v in p.getlist("item")) if x] or None)
                done = f"已派发 {n} 个核查任务"
            elif action == "record":
                row = service.record(who, sample_no, _int(p.get("position"), "序号") or 0, p.get("outcome", ""),
                                     note=p.get("note", ""), wrong_field=p.get("field", ""),
                                     version=_int(p.get("version"), "版本号"))
                done = f"已录入序号 {row.position}：{row.outcome_name}"
            elif action == "check":
                check = service.check(who, sample_no)
            else:
                raise BadRequest(f"未知的操作“{action}”")
        except BadRequest as exc:
            error = str(exc)
        else:
            if check is None:
                return redirect(f"{reverse('web:sample', args=[sample_no])}?done={done}")
    report = service.rates(who, sample_no)
    v = report.sample
    here = navigation.place(who, v.unit_code)
    rows = [{"u": u, "label": label, "rate": pct(u.rate), "interval": interval_text(u.interval),
             "platform": pct(u.platform_rate)}
            for u, label in [(report.total, f"合计：{report.total.unit_name}"), *[(u, u.unit_name) for u in report.units]]]
    return render(request, "web/verification/sample.html", {
        "v": v, "report": report, "rows": rows, "heading": sample_heading(v), "here": here,
        "crumbs": navigation.breadcrumb(who, here), "error": error, "done": done, "form": form, "check": check,
        "verifiers": service.verifiers(who, sample_no) if v.may_assign else [],
        "check_methods": CheckMethod.choices(), "outcomes": Outcome.choices(), "fields": WrongField.choices(),
        "pending": sum(1 for r in v.items if not r.method), "mine": [r for r in v.items if r.may_record]}, status=400 if error else 200)
