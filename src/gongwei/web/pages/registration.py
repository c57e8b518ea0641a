"""Create, edit and close residents (issue 11 §3): parse the form, call one use case of
:mod:`gongwei.service.registration`, render. Scope, permissions, duplicates, audit and every rule live in the
service; a refused value comes back as field → message and the form is shown again with the user's input."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gongwei.service import navigation
from gongwei.service import registration as service
from gongwei.web.faces import actor, page


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str  # text | date | select | check | textarea
    value: str
    error: str
    options: list | None = None
    required: bool = False
    hint: str = ""
    width: str = ""  # CSS class for the field's width


def _person_fields(values, errors, options: service.FormOptions) -> tuple[list[Field], list[Field]]:
    def f(name, label, kind="text", opts=None, required=False, hint="", width=""):
        return Field(name, label, kind, str(values.get(name, "") or ""), errors.get(name, ""), opts, required, hint,
                     width)

    person = [
        f("name", _("姓名"), required=True),
        f("id_type", _("证件类型"), "select", options.id_types),
        f("id_number", _("身份证号"), hint=_("离开输入框即校验；出生日期、性别按号码推算填入"), width="wide"),
        f("birth_date", _("出生日期"), "date", required=True),
        f("sex", _("性别"), "select", options.sexes, required=True),
        f("phone", _("本人电话")),
        f("address", _("现住址"), width="wide"),
        f("residence_type", _("常住类型"), "select", options.residence_types, required=True),
        f("usual_resident", _("常住（居住满6个月）"), "check"),
        f("residence_since", _("本地居住起始日期"), "date"),
        f("ethnicity", _("民族")),
    ]
    record = [
        f("contact_name", _("联系人姓名")), f("contact_phone", _("联系人电话")), f("work_unit", _("工作单位")),
        f("drug_allergy", _("药物过敏史")), f("past_history", _("既往史"), width="wide"),
        f("family_history", _("家族史"), width="wide"), f("disability", _("残疾情况")),
    ]
    return person, record


def _new_context(who, values, errors=None, dups=None) -> dict:
    options = service.form_options(who)
    person, record = _person_fields(values, errors or {}, options)
    return {"options": options, "values": values, "errors": errors or {}, "dups": dups, "person": person,
            "record": record, "unmasked": who.unmasked, "crumbs": navigation.breadcrumb(who, navigation.landing(who))}


@page
@require_http_methods(["GET", "POST"])
def new(request):
    who = actor(request)
    if request.method == "POST":
        try:
            done = service.create(who, request.POST)
        except service.Invalid as exc:
            return render(request, "web/registration/new.html",
                          _new_context(who, request.POST, exc.errors, exc.duplicates), status=400)
        messages.success(request, done.message)
        return redirect("web:resident", done.record_no)
    village = request.GET.get("village", "").strip()
    options = service.new_form(who, village)
    if not village and len(options.villages) == 1:
        village = options.villages[0].value
    values = {"village": village, "id_type": "01", "residence_type": "1", "usual_resident": "1",
              "household_mode": "new"}
    return render(request, "web/registration/new.html", _new_context(who, values))


@page
@require_POST
def check(request):
    """HTMX: the identity number's verdict beside its field, proposed birth date and sex, and the duplicates."""
    who = actor(request)
    try:
        got = service.check(who, request.POST, record_no=request.POST.get("record_no", ""))
    except service.Invalid as exc:
        return render(request, "web/registration/_check.html", {"errors": exc.errors, "values": request.POST})
    options = service.form_options(who)
    person, _record = _person_fields(request.POST, {}, options)
    proposed = {}
    if got.identity is not None and got.identity.ok and got.identity.birth_date:
        if not request.POST.get("birth_date"):
            proposed["birth_date"] = got.identity.birth_date.isoformat()
        if request.POST.get("sex", "") in ("", "0", "9"):
            proposed["sex"] = got.identity.sex
    oob = [Field(f.name, f.label, f.kind, proposed[f.name], "", f.options, f.required, f.hint, f.width)
           for f in person if f.name in proposed]
    return render(request, "web/registration/_check.html", {
        "got": got, "errors": got.errors, "dups": got.duplicates, "oob": oob, "unmasked": who.unmasked})


@page
@require_GET
def households(request):
    """HTMX: households of the chosen village by number or a member's name."""
    who = actor(request)
    try:
        found = service.households(who, request.GET.get("village", ""), request.GET.get("q", ""))
    except service.Invalid as exc:
        return render(request, "web/registration/_households.html", {"error": exc.errors.get("village", str(exc))})
    return render(request, "web/registration/_households.html", {
        "found": found, "chosen": request.GET.get("household_no", "")})


@page
@require_http_methods(["GET", "POST"])
def edit(request, record_no: str):
    who = actor(request)
    errors, stale, status, both = {}, "", 200, []
    values = request.POST
    if request.method == "POST":
        try:
            text = service.update(who, record_no, request.POST)
        except service.Invalid as exc:
            errors, status = exc.errors, 400
        except service.Stale as exc:
            stale, status = str(exc), 409
            values, both = exc.merged(request.POST)
        else:
            messages.success(request, text)
            return redirect("web:resident", record_no)
    form = service.edit_form(who, record_no)
    if request.method != "POST":
        values = form.values
    person, record = _person_fields(values, errors, form.options)
    return render(request, "web/registration/edit.html", {
        "form": form, "person": person, "record": record, "errors": errors, "stale": stale,
        "reason": request.POST.get("edit_reason", ""), "crumbs": _crumbs(who, form.unit_code), "both": both},
        status=status)


@page
@require_http_methods(["GET", "POST"])
def close(request, record_no: str):
    who = actor(request)
    errors, stale, status = {}, "", 200
    if request.method == "POST":
        act = service.reopen if request.POST.get("action") == "reopen" else service.close
        try:
            text = act(who, record_no, request.POST)
        except service.Invalid as exc:
            errors, status = exc.errors, 400
        except service.Stale as exc:
            stale, status = str(exc), 409
        else:
            messages.success(request, text)
            return redirect("web:resident", record_no)
    form = service.close_form(who, record_no)
    return render(request, "web/registration/close.html", {
        "form": form, "errors": errors, "stale": stale, "values": request.POST, "crumbs": _crumbs(who, form.unit_code)},
        status=status)


def _crumbs(who, code: str):
    return navigation.breadcrumb(who, navigation.place(who, code))
