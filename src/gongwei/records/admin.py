"""The Django admin in Chinese, scoped to each login's own part of the org tree.

* **Scope** — every ``get_queryset`` and every foreign-key choice list goes through
  :mod:`gongwei.records.scoping`, so a login sees, and can attach records to, only its own subtree; an
  object of another subtree is "not found" by URL.
* **Permissions** — model permissions come from the role groups of :mod:`gongwei.records.roles`; nobody
  may delete anything (records are closed, voided or merged).
* **Writes** — every add or change goes through :func:`gongwei.records.entry.submit_instance`, the one
  validation and write path: its Chinese issues are shown on the named field and nothing is written.
* **Versions** — a change form posts back the version it was loaded at; a save from an older version is
  refused with what changed meanwhile (:class:`gongwei.records.entry.StaleVersion`, ADR 015).
* **Masking** — ID numbers and phone numbers are masked for roles that do not need them.
* **Audit** — opening a resident's page writes an :class:`~gongwei.records.models.AccessLog` row; every
  entry-layer change page shows its :class:`~gongwei.records.models.ChangeLog` history.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.db.models import Q
from django.dispatch import receiver
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from gongwei.records import entry, roles, scoping
from gongwei.records import models as m
from gongwei.records.schema import table_for_model
from gongwei.spec import vocab as v

admin.site.site_header = "公卫 gongwei 管理"
admin.site.site_title = "公卫 gongwei"
admin.site.index_title = "国家基本公共卫生服务项目 · 数据管理"
admin.site.empty_value_display = "—"
admin.site.site_url = None  # "/" only redirects here: no separate public site to link to
# Nothing is hard-deleted (models.py): the bulk "delete selected" action is gone for every model.
admin.site.disable_action("delete_selected")

ENTRY_REASON = "管理后台录入"
ACCESS_PURPOSE = "查看档案"


def _audit_record(request, resident_id: int, scope: str) -> None:
    """A record page opened in the admin: audited like every other view (gongwei.service.audit)."""
    from gongwei.service import access, audit
    from gongwei.spec.vocab import AccessKind

    who = access.for_user(request.user, address=request.META.get("REMOTE_ADDR", ""), path=request.get_full_path())
    audit.viewed(who, AccessKind.RECORD, scope=scope, purpose=ACCESS_PURPOSE, residents=[resident_id])


@receiver(user_logged_in, dispatch_uid="gongwei.records.admin.sync_role_groups")
def _sync_role_groups_on_login(sender, request, user, **kwargs) -> None:
    """Keep a login's permission group in step with its staff role."""
    roles.sync_user_groups(user)


# --- helpers ---------------------------------------------------------------------------------------
def _masked_column(field: str, label: str):
    masker = roles.MASKERS[field]

    def column(self, obj):
        return masker(getattr(obj, field, "")) or None

    column.short_description = label
    column.admin_order_field = field
    column.__name__ = f"masked_{field}"
    return column


def _user_unit(user) -> m.OrgUnit | None:
    staff = m.Staff.objects.select_related("org_unit").filter(user=user).first() if user.is_authenticated else None
    return staff.org_unit if staff else None


def unit_filter(lookup: str, title: str = "机构（含下级）"):
    """A list filter over the org units of the login's subtree; choosing a unit shows its whole subtree."""

    class UnitFilter(admin.SimpleListFilter):
        parameter_name = "unit"

        def lookups(self, request, model_admin):
            units = scoping.visible_units(request.user)
            if units.count() > 200:  # a city or province: offer counties and townships, not every village
                units = units.exclude(level=v.OrgLevel.VILLAGE)
            units = list(units.order_by("path")[:500])
            top = min((u.depth for u in units), default=0)
            return [(str(u.pk), "\u3000" * (u.depth - top) + u.name) for u in units]

        def queryset(self, request, queryset):
            if not self.value():
                return queryset
            unit = scoping.visible_units(request.user).filter(pk=self.value()).first()
            if unit is None:
                return queryset.none()
            return queryset.filter(**{f"{lookup}__startswith": unit.path})

    UnitFilter.title = title
    return UnitFilter


def _resident_ids(model, rows) -> list[int] | None:
    """Residents shown by a change list of ``model`` (None: the model names no person)."""
    if model is m.Resident:
        return [r.pk for r in rows]
    names = {f.name for f in model._meta.concrete_fields}
    if "resident" in names:
        return [r.resident_id for r in rows if r.resident_id]
    return None


# --- base classes ------------------------------------------------------------------------------------
class ScopedAdmin(admin.ModelAdmin):
    """Rows, choice lists and objects limited to the login's subtree; no deletes; masked identifiers."""

    list_per_page = 50
    show_full_result_count = False  # one COUNT(*) per page is enough on a county's data
    scope_lookup: str | None = None  # default: scoping.SCOPE_LOOKUPS[model]
    # foreign keys whose choices may include the units above the login (staff, teams: see scoping.serving_units)
    serving_fk_models: tuple[type[models.Model], ...] = (m.Staff, m.Team)

    # masked variants of identifier fields (used in list_display and change forms of masked roles)
    masked_id_number = _masked_column("id_number", "证件号码")
    masked_id_number_raw = _masked_column("id_number_raw", "原始证件号码")
    masked_phone = _masked_column("phone", "电话")
    masked_contact_phone = _masked_column("contact_phone", "联系人电话")
    masked_birth_date = _masked_column("birth_date", "年龄")

    # --- scope ---
    def get_queryset(self, request):
        return scoping.scope_queryset(super().get_queryset(request), request.user, self.scope_lookup)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs.setdefault("queryset", self.scoped_choices(db_field, request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def scoped_choices(self, db_field, request) -> models.QuerySet:
        related = db_field.related_model
        user = request.user
        qs = related._default_manager.all()
        if related is get_user_model():
            return qs if scoping.scope_for(user).everything else qs.none()
        if related is m.OrgUnit:
            return scoping.visible_units(user)
        if related in self.serving_fk_models:
            if scoping.scope_for(user).everything:
                return qs
            return qs.filter(org_unit__in=scoping.serving_units(user))
        return scoping.scope_queryset(qs, user)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        unit = _user_unit(request.user)
        if unit is not None:
            for f in self.model._meta.concrete_fields:
                if f.is_relation and f.related_model is m.OrgUnit and f.name not in initial and f.name != "parent":
                    initial[f.name] = unit.pk
        return initial

    def changelist_view(self, request, extra_context=None):
        """A list of people is a view of personal data: audited with the people on the page (a search as such)."""
        response = super().changelist_view(request, extra_context)
        cl = getattr(response, "context_data", {}).get("cl") if hasattr(response, "context_data") else None
        ids = _resident_ids(self.model, cl.result_list) if cl is not None else None
        if ids is not None:
            from gongwei.service import access, audit
            from gongwei.spec.vocab import AccessKind

            who = access.for_user(request.user, address=request.META.get("REMOTE_ADDR", ""),
                                  path=request.get_full_path())
            query = request.GET.get("q", "").strip()
            audit.viewed(who, AccessKind.SEARCH if query else AccessKind.LIST, residents=ids,
                         purpose=f"{self.model._meta.verbose_name}{'：' + query[:60] if query else ''}")
        return response

    def get_ordering(self, request):
        # a stable order for pagination and autocomplete, on an indexed column
        return self.ordering or self.model._meta.ordering or ("-pk",)

    # --- permissions ---
    def has_delete_permission(self, request, obj=None):
        return False

    def _no_scope(self, request) -> bool:
        return scoping.scope_for(request.user).nothing

    def has_add_permission(self, request):
        return not self._no_scope(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        if self._no_scope(request):
            return False
        return super().has_change_permission(request, obj)

    def has_view_permission(self, request, obj=None):
        if self._no_scope(request):
            return False
        return super().has_view_permission(request, obj)

    def has_module_permission(self, request):
        return not self._no_scope(request) and super().has_module_permission(request)

    # --- masking ---
    def _masked_fields(self, request) -> set[str]:
        if roles.sees_identifiers(request.user):
            return set()
        names = {f.name for f in self.model._meta.concrete_fields}
        return {f for f in roles.MASKERS if f in names}

    def get_list_display(self, request):
        masked = self._masked_fields(request)
        return [f"masked_{f}" if f in masked else f for f in super().get_list_display(request)]

    def get_fields(self, request, obj=None):
        masked = self._masked_fields(request)
        out: list[str] = []
        for f in super().get_fields(request, obj):
            name = f"masked_{f}" if f in masked else f
            if name not in out:
                out.append(name)
        return out

    def get_readonly_fields(self, request, obj=None):
        ro = list(super().get_readonly_fields(request, obj))
        ro += [f"masked_{f}" for f in sorted(self._masked_fields(request)) if f"masked_{f}" not in ro]
        return ro


class ReadOnlyAdmin(ScopedAdmin):
    """Audit trails and labels: looked at, never written from the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EntryForm(forms.ModelForm):
    """A model form whose validation *is* the entry layer: the write happens in ``clean``.

    Django's own field validation runs first; then the instance is submitted with
    :func:`entry.submit_instance` inside a savepoint (the admin view itself runs in one transaction).
    Each :class:`entry.Issue` becomes an error on its field, and nothing is written.
    """

    entry_user = None  # set per request by EntryAdmin.get_form
    entry_admin: EntryAdmin | None = None
    # the row's version when the page was opened, posted back: a save from an older version is refused
    loaded_version = forms.IntegerField(label="版本", widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # stored values, so fields the user did not touch are submitted exactly as stored (a form widget
        # drops microseconds, for instance, which would otherwise look like an edit)
        self._stored = {} if self.instance._state.adding else {
            f.attname: getattr(self.instance, f.attname) for f in self.instance._meta.concrete_fields}
        if not self.instance._state.adding:
            self.initial["loaded_version"] = self.instance.version
        self.expected_version: int | None = None  # hooks that write first (a move) advance it

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        adding = self.instance._state.adding
        if not adding and not self.has_changed():
            return
        changed = set(self.changed_data)
        for name in self.fields:
            if name in changed:
                continue
            try:
                attname = self.instance._meta.get_field(name).attname
            except FieldDoesNotExist:  # a form-only field
                continue
            if attname in self._stored:
                setattr(self.instance, attname, self._stored[attname])
        self.expected_version = None if adding else self.cleaned_data.get("loaded_version")
        try:
            with transaction.atomic():
                if self.expected_version is not None:
                    entry.check_version(type(self.instance), self.instance.pk, self.expected_version)
                before = self.entry_admin.before_submit(self) if self.entry_admin else None
                entry.submit_instance(self.instance, actor_user=self.entry_user, reason=ENTRY_REASON,
                                      expected_version=self.expected_version)
                self._after_submit(adding)
                if self.entry_admin:
                    self.entry_admin.after_submit(self, adding, before)
        except entry.StaleVersion as exc:
            self.add_error(None, exc.describe(self.entry_user))
        except entry.Rejected as exc:
            self._show_issues(exc.issues)
        except ValueError as exc:  # e.g. moving a unit under its own subtree
            self.add_error(None, str(exc))

    def _show_issues(self, issues: list[entry.Issue]) -> None:
        for issue in issues:
            field = issue.field if issue.field in self.fields else None
            self.add_error(field, issue.message)

    def _after_submit(self, adding: bool) -> None:
        if not adding:
            return
        obj = self.instance
        key = table_for_model(type(obj)).natural_key
        lookup = {}
        for k in key:
            f = obj._meta.get_field(k)
            lookup[f.attname] = getattr(obj, f.attname)
        stored = type(obj)._default_manager.get(**lookup)
        obj.pk = stored.pk
        obj._state.adding = False
        obj._state.db = stored._state.db
        obj.refresh_from_db()
        entry.record_change(obj, action=v.ChangeAction.CREATE, actor_user=self.entry_user,
                            after=entry.snapshot(obj), reason=ENTRY_REASON)


class EntryAdmin(ScopedAdmin):
    """Admin for the models written through the entry layer (every model of the exchange schema)."""

    form = EntryForm
    change_form_template = "admin/gongwei/change_form.html"
    autocomplete_fields: tuple[str, ...] = ()
    history_title = "修改痕迹"

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.entry_user = request.user
        form.entry_admin = self
        return form

    def get_fieldsets(self, request, obj=None):
        return self.with_version_field(request, obj, super().get_fieldsets(request, obj))

    def with_version_field(self, request, obj, fieldsets) -> list:
        """The hidden version input on every change form that can be saved, and nowhere else."""
        keep = obj is not None and self.has_change_permission(request, obj)
        out = [(title, {**opts, "fields": tuple(f for f in opts["fields"] if f != "loaded_version")})
               for title, opts in fieldsets]
        if keep and out:
            title, opts = out[-1]
            out[-1] = (title, {**opts, "fields": (*opts["fields"], "loaded_version")})
        return out

    def get_readonly_fields(self, request, obj=None):
        ro = list(super().get_readonly_fields(request, obj))
        if obj is not None:  # the natural key identifies the row in the entry layer: fixed once written
            for k in table_for_model(self.model).natural_key:
                if k not in ro:
                    ro.append(k)
        return ro

    # hooks around the write (inside the savepoint)
    def before_submit(self, form):
        if isinstance(form.instance, m.Encounter) and form.instance._state.adding \
                and not form.instance.entered_at:
            form.instance.entered_at = timezone.now()
        return None

    def after_submit(self, form, adding: bool, before) -> None:
        pass

    def save_model(self, request, obj, form, change):
        """Already written by the form's validation (entry layer); nothing left to save."""

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    # history and audit
    def history_rows(self, request, obj) -> models.QuerySet[m.ChangeLog]:
        return m.ChangeLog.objects.filter(model=obj._meta.label, object_pk=str(obj.pk)).select_related("actor")

    def related_links(self, request, obj) -> list[tuple[str, str, int | None]]:
        return []

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        obj = self.get_object(request, unquote(object_id)) if object_id else None
        if obj is not None:
            rows = list(self.history_rows(request, obj)[:100])
            extra_context["gongwei_history"] = [
                {"at": r.at, "action": v.ChangeAction(r.action).zh if r.action in v.ChangeAction.codes() else r.action,
                 "actor": r.actor_label or (r.actor.username if r.actor else ""), "reason": r.reason,
                 "changes": _change_lines(r, request.user)}
                for r in rows
            ]
            extra_context["gongwei_history_title"] = self.history_title
            extra_context["gongwei_links"] = self.related_links(request, obj)
            if request.method == "GET":
                self.log_view(request, obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def log_view(self, request, obj) -> None:
        pass


def _change_lines(row: m.ChangeLog, user) -> list[str]:
    before = roles.mask_mapping(row.before, user) or {}
    after = roles.mask_mapping(row.after, user) or {}
    keys = list(dict.fromkeys([*before.keys(), *after.keys()]))
    lines = []
    for k in keys:
        label = k
        try:
            model = _MODELS_BY_LABEL.get(row.model)
            if model is not None:
                field = next(f for f in model._meta.concrete_fields if k in (f.name, f.attname))
                label = str(field.verbose_name)
        except StopIteration:
            pass
        if row.action == v.ChangeAction.CREATE:
            continue
        lines.append(f"{label}：{_fmt(before.get(k))} → {_fmt(after.get(k))}")
    return lines


def _fmt(x) -> str:
    return "（空）" if x in (None, "") else str(x)


_MODELS_BY_LABEL = {model._meta.label: model for model in (
    m.OrgUnit, m.Staff, m.Team, m.TeamMembership, m.Household, m.Resident, m.HealthRecord, m.Enrollment,
    m.Contract, m.HealthEducationActivity, m.InfectiousDiseaseReport, m.EmergencyEventReport, m.SupervisionReport,
    m.PopulationBase,
    *m.ENCOUNTER_MODELS)}


# --- organisation ------------------------------------------------------------------------------------
@admin.register(m.OrgUnit)
class OrgUnitAdmin(EntryAdmin):
    list_display = ("code", "name", "level", "kind", "parent", "institution_code", "is_active")
    list_filter = ("level", "kind", "is_active", unit_filter("path", "所在范围"))
    search_fields = ("code", "name", "institution_code")
    list_select_related = ("parent",)
    readonly_fields = ("path",)
    ordering = ("path",)

    def before_submit(self, form):
        unit = form.instance
        if unit._state.adding or "parent" not in form.changed_data:
            return None
        new_parent = form.cleaned_data.get("parent")
        if new_parent is None:
            raise ValueError("已有机构不能改为顶级机构")
        stored = m.OrgUnit.objects.get(pk=unit.pk)
        if form.expected_version is not None:  # the move itself is refused if the unit changed since
            stored.version = form.expected_version
        entry.move_org_unit(stored, new_parent, actor_user=form.entry_user, reason=ENTRY_REASON)
        unit.path = stored.path
        if form.expected_version is not None:
            form.expected_version = stored.version
        return None


@admin.register(m.Staff)
class StaffAdmin(EntryAdmin):
    list_display = ("code", "name", "role", "org_unit", "phone", "user")
    list_filter = ("role", unit_filter("org_unit__path"))
    search_fields = ("code", "name")
    list_select_related = ("org_unit", "user")
    autocomplete_fields = ()
    fields = ("code", "name", "role", "org_unit", "phone", "user")

    # roles a township administrator may hand out; the rest only a system administrator
    TOWNSHIP_ROLES = (v.Role.VILLAGE_DOCTOR, v.Role.TOWNSHIP_STAFF, v.Role.TOWNSHIP_ADMIN)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.resolver_match and request.resolver_match.url_name == "autocomplete":
            # choosing a service provider / team lead: the units above the login serve its residents too
            base = admin.ModelAdmin.get_queryset(self, request)
            qs = base.filter(org_unit__in=scoping.serving_units(request.user))
        return qs

    def get_readonly_fields(self, request, obj=None):
        ro = list(super().get_readonly_fields(request, obj))
        if not scoping.scope_for(request.user).everything and "user" not in ro:
            ro.append("user")
        return ro

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role" and not scoping.scope_for(request.user).everything:
            kwargs["choices"] = [(r.value, r.zh) for r in self.TOWNSHIP_ROLES]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def before_submit(self, form):
        super().before_submit(form)
        if form.instance._state.adding:
            return None
        return m.Staff.objects.filter(pk=form.instance.pk).values_list("user_id", flat=True).first()

    def after_submit(self, form, adding, before):
        # the login is not part of the exchange schema: link it here, then follow the role with groups
        staff = form.instance
        stored = m.Staff.objects.get(pk=staff.pk)
        if "user" in form.cleaned_data and stored.user_id != staff.user_id:
            entry.record_change(stored, action=v.ChangeAction.UPDATE, actor_user=form.entry_user,
                                before={"user_id": stored.user_id}, after={"user_id": staff.user_id},
                                reason=ENTRY_REASON)
            m.Staff.objects.filter(pk=staff.pk).update(user=staff.user_id)
        User = get_user_model()
        for uid in {before, staff.user_id} - {None}:
            user = User.objects.filter(pk=uid).first()
            if user is not None:
                roles.sync_user_groups(user)


class TeamMembershipInline(admin.TabularInline):
    model = m.TeamMembership
    fields = ("staff", "duty", "start_date", "end_date")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "团队成员（在“团队成员”中维护）"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("staff")


@admin.register(m.Team)
class TeamAdmin(EntryAdmin):
    list_display = ("code", "name", "org_unit", "lead")
    list_filter = (unit_filter("org_unit__path"),)
    search_fields = ("code", "name")
    list_select_related = ("org_unit", "lead")
    autocomplete_fields = ("lead",)
    inlines = (TeamMembershipInline,)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.resolver_match and request.resolver_match.url_name == "autocomplete":
            base = admin.ModelAdmin.get_queryset(self, request)
            qs = base.filter(org_unit__in=scoping.serving_units(request.user))
        return qs


@admin.register(m.TeamMembership)
class TeamMembershipAdmin(EntryAdmin):
    list_display = ("team", "staff", "duty", "start_date", "end_date")
    list_filter = (unit_filter("team__org_unit__path"),)
    search_fields = ("team__name", "staff__name", "staff__code")
    list_select_related = ("team", "staff")
    autocomplete_fields = ("team", "staff")


# --- people ------------------------------------------------------------------------------------------
@admin.register(m.Household)
class HouseholdAdmin(EntryAdmin):
    list_display = ("household_no", "address", "org_unit")
    list_filter = (unit_filter("org_unit__path"),)
    search_fields = ("household_no", "address")
    list_select_related = ("org_unit",)


class CloseResidentsForm(forms.Form):
    status = forms.ChoiceField(label="结案原因", choices=[(s.value, s.zh) for s in (
        v.ResidentStatus.DEAD, v.ResidentStatus.MOVED_OUT, v.ResidentStatus.LOST, v.ResidentStatus.REFUSED)])
    on = forms.DateField(label="结案日期", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label="说明", max_length=200,
                             help_text="如死亡原因及信息来源、迁往何处及档案交接情况、失访经过")

    def clean_on(self):
        on = self.cleaned_data["on"]
        if on > timezone.localdate():
            raise forms.ValidationError("结案日期不能晚于今天")
        return on


@admin.register(m.Resident)
class ResidentAdmin(EntryAdmin):
    list_display = ("record_no", "name", "sex", "birth_date", "id_number", "id_status", "phone",
                    "managing_unit", "responsible_doctor", "status")
    list_filter = ("status", "sex", "id_status", "residence_type", "usual_resident",
                   unit_filter("managing_unit__path"))
    search_fields = ("record_no", "name", "=id_number")
    list_select_related = ("managing_unit", "responsible_doctor")
    autocomplete_fields = ("household", "responsible_doctor")
    readonly_fields = ("id_number_raw", "id_status", "status", "status_date", "status_reason", "merged_into",
                       "created_at", "updated_at")
    fieldsets = (
        ("基本信息", {"fields": ("record_no", "name", "sex", "birth_date", "ethnicity", "id_type", "id_number",
                             "id_number_raw", "id_status", "phone")}),
        ("居住与管理", {"fields": ("household", "address", "managing_unit", "responsible_doctor",
                              "residence_type", "usual_resident", "residence_since")}),
        ("档案状态", {"fields": ("status", "status_date", "status_reason", "merged_into", "created_at",
                             "updated_at")}),
    )
    ordering = ("record_no",)
    actions = ("close_residents",)
    history_title = "修改痕迹（居民及个人基本信息表）"

    def get_fieldsets(self, request, obj=None):
        masked = self._masked_fields(request)
        return self.with_version_field(request, obj, [
            (title, {**opts, "fields": tuple(f"masked_{f}" if f in masked else f for f in opts["fields"])})
            for title, opts in self.fieldsets])

    def history_rows(self, request, obj):
        return m.ChangeLog.objects.filter(
            Q(model=m.Resident._meta.label) | Q(model=m.HealthRecord._meta.label), object_pk=str(obj.pk),
        ).select_related("actor")

    def related_links(self, request, obj):
        links = []
        record = m.HealthRecord.objects.filter(pk=obj.pk).only("pk").first()
        if record is not None:
            links.append(("个人基本信息表", reverse("admin:records_healthrecord_change", args=[obj.pk]), None))
        for model in (m.Enrollment, m.Contract, *m.ENCOUNTER_MODELS):
            n = model._default_manager.filter(resident=obj).count()
            if n:
                try:
                    url = reverse(f"admin:records_{model._meta.model_name}_changelist") + f"?resident__exact={obj.pk}"
                except NoReverseMatch:
                    continue
                links.append((str(model._meta.verbose_name), url, n))
        return links

    def log_view(self, request, obj):
        _audit_record(request, obj.pk, obj.managing_unit.code if obj.managing_unit_id else "")

    @admin.action(description="结案（死亡/迁出/失访）", permissions=["change"])
    def close_residents(self, request, queryset):
        form = CloseResidentsForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            done = skipped = 0
            # locked by primary key alone: PostgreSQL cannot lock the nullable side of the list's outer joins
            for resident in m.Resident.objects.select_for_update().filter(pk__in=queryset.values("pk")):
                if resident.status != v.ResidentStatus.ACTIVE:
                    skipped += 1
                    continue
                entry.close_resident(resident, form.cleaned_data["status"], form.cleaned_data["on"],
                                     form.cleaned_data["reason"], actor_user=request.user)
                done += 1
            msg = f"已结案 {done} 份档案"
            if skipped:
                msg += f"，{skipped} 份不是在管状态，未处理"
            self.message_user(request, msg, messages.SUCCESS if done else messages.WARNING)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "结案（死亡/迁出/失访）",
            "opts": self.model._meta,
            "form": form,
            "residents": queryset.select_related("managing_unit")[:200],
            "count": queryset.count(),
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "action": "close_residents",
        }
        return TemplateResponse(request, "admin/gongwei/close_residents.html", context)


@admin.register(m.HealthRecord)
class HealthRecordAdmin(EntryAdmin):
    list_display = ("resident", "created_on", "created_by_unit", "is_electronic", "contact_name", "contact_phone")
    list_filter = ("is_electronic", "created_on", unit_filter("resident__managing_unit__path"))
    search_fields = ("resident__record_no", "resident__name", "=resident__id_number")
    list_select_related = ("resident", "created_by_unit")
    autocomplete_fields = ("resident",)
    readonly_fields = ("updated_at",)

    def log_view(self, request, obj):
        _audit_record(request, obj.resident_id, "")


PERSON_SEARCH = ("resident__record_no", "resident__name", "=resident__id_number")


@admin.register(m.Enrollment)
class EnrollmentAdmin(EntryAdmin):
    list_display = ("enrollment_no", "resident", "program", "org_unit", "start_date", "end_date", "end_reason")
    list_filter = ("program", "end_reason", "start_date", unit_filter("resident__managing_unit__path"))
    search_fields = ("enrollment_no", *PERSON_SEARCH)
    list_select_related = ("resident", "org_unit")
    autocomplete_fields = ("resident",)


@admin.register(m.Contract)
class ContractAdmin(EntryAdmin):
    list_display = ("contract_no", "resident", "team", "start_date", "end_date", "is_renewal", "cancelled_on")
    list_filter = ("is_renewal", "start_date", unit_filter("resident__managing_unit__path"))
    search_fields = ("contract_no", *PERSON_SEARCH)
    list_select_related = ("resident", "team")
    autocomplete_fields = ("resident", "team")
    search_fields = ("contract_no", *PERSON_SEARCH)


@admin.register(m.ContractService)
class ContractServiceAdmin(EntryAdmin):
    list_display = ("service_no", "contract", "item", "service_date", "provider")
    list_filter = ("item", "service_date", unit_filter("contract__resident__managing_unit__path"))
    search_fields = ("service_no", "contract__contract_no")
    list_select_related = ("contract", "provider")
    autocomplete_fields = ("contract", "provider")


# --- encounters ----------------------------------------------------------------------------------------
ENCOUNTER_EXTRAS: dict[type[m.Encounter], tuple[tuple[str, ...], tuple[str, ...]]] = {
    # model: (extra list columns, extra list filters)
    m.HealthExamination: (("trigger", "sbp_left", "dbp_left", "health_evaluation"), ("trigger",)),
    m.ChronicFollowUp: (("program", "mode", "sbp", "dbp", "fasting_glucose", "classification"),
                        ("program", "mode", "classification")),
    m.SmiFollowUp: (("mode", "risk_grade", "classification", "living_at_home"),
                    ("mode", "classification", "living_at_home")),
    m.TbFollowUp: (("visit_type", "mode", "phase", "doses_due", "doses_taken"), ("visit_type", "mode", "phase")),
    m.NewbornVisit: (("weight", "jaundice", "referral"), ("jaundice", "referral")),
    m.ChildCheck: (("age_months", "weight", "height", "development_ok"), ("age_months", "development_ok")),
    m.PrenatalVisit: (("gestational_weeks", "is_registration", "high_risk"), ("is_registration", "high_risk")),
    m.PostpartumVisit: (("visit_type", "recovered", "referral"), ("visit_type",)),
    m.Vaccination: (("vaccine", "dose_no", "lot_no"), ("vaccine", "dose_no")),
    m.TcmConstitution: (("recorded_result", "guidance_given"), ("guidance_given",)),
    m.ChildTcmGuidance: (("age_months",), ("age_months",)),
    m.VaccinationCertificate: (("certificate_no", "is_replacement"), ("is_replacement",)),
    m.Consultation: (("bp_measured", "sbp", "dbp", "glucose_measured", "blood_glucose"),
                     ("bp_measured", "glucose_measured")),
}


def _encounter_admin(model: type[m.Encounter]) -> type[EntryAdmin]:
    extra_cols, extra_filters = ENCOUNTER_EXTRAS[model]
    enrolled = issubclass(model, m.EnrolledEncounter)
    attrs = {
        "list_display": ("encounter_no", "resident", "service_date", *extra_cols, "org_unit", "provider", "is_void"),
        "list_filter": (*extra_filters, "service_date", "is_void", unit_filter("resident__managing_unit__path")),
        "search_fields": ("encounter_no", *PERSON_SEARCH),
        "list_select_related": ("resident", "org_unit", "provider"),
        "autocomplete_fields": ("resident", "provider", *(("enrollment",) if enrolled else ())),
        "ordering": ("-service_date", "-id"),
        "__module__": __name__,
    }
    cls = type(f"{model.__name__}Admin", (EntryAdmin,), attrs)
    admin.site.register(model, cls)
    return cls


ENCOUNTER_ADMINS = {model: _encounter_admin(model) for model in m.ENCOUNTER_MODELS}


# --- unit-level activities and base data ----------------------------------------------------------------
@admin.register(m.HealthEducationActivity)
class HealthEducationActivityAdmin(EntryAdmin):
    list_display = ("activity_no", "activity_date", "kind", "topic", "tcm_content", "attendance", "org_unit")
    list_filter = ("kind", "tcm_content", "activity_date", unit_filter("org_unit__path"))
    search_fields = ("activity_no", "topic")
    list_select_related = ("org_unit",)


@admin.register(m.InfectiousDiseaseReport)
class InfectiousDiseaseReportAdmin(EntryAdmin):
    list_display = ("report_no", "disease", "disease_class", "resident", "diagnosed_at", "reported_at", "org_unit")
    list_filter = ("disease_class", "diagnosed_at", unit_filter("org_unit__path"))
    search_fields = ("report_no", "disease", *PERSON_SEARCH)
    list_select_related = ("org_unit", "resident")
    autocomplete_fields = ("resident",)


@admin.register(m.EmergencyEventReport)
class EmergencyEventReportAdmin(EntryAdmin):
    list_display = ("report_no", "event_type", "description", "found_at", "reported_at", "org_unit")
    list_filter = ("event_type", "found_at", unit_filter("org_unit__path"))
    search_fields = ("report_no", "description")
    list_select_related = ("org_unit",)


@admin.register(m.SupervisionReport)
class SupervisionReportAdmin(EntryAdmin):
    list_display = ("report_no", "report_date", "category", "kind", "site", "clue_found", "reported", "org_unit")
    list_filter = ("category", "kind", "clue_found", "reported", "report_date", unit_filter("org_unit__path"))
    search_fields = ("report_no", "site")
    list_select_related = ("org_unit",)


@admin.register(m.PopulationBase)
class PopulationBaseAdmin(EntryAdmin):
    list_display = ("org_unit", "year", "group", "value", "source", "note")
    list_filter = ("year", "group", "source", unit_filter("org_unit__path"))
    search_fields = ("org_unit__name", "org_unit__code", "note")
    list_select_related = ("org_unit",)


# --- audit trails (read only) -----------------------------------------------------------------------------
@admin.register(m.AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    """Who looked at whose data: search a resident's record number or name to see every view that showed them."""

    list_display = ("at", "user", "os_user", "address", "kind", "scope", "count", "purpose", "path")
    list_filter = ("kind", "at", unit_filter("resident__managing_unit__path"))
    search_fields = ("user__username", "os_user", "people__resident__record_no", "people__resident__name")
    list_select_related = ("user",)


@admin.register(m.NamePinyin)
class NamePinyinAdmin(ReadOnlyAdmin):
    """The derived pinyin search index (for checking a search that found nobody)."""

    list_display = ("resident", "name", "initials", "full_pinyin")
    search_fields = ("initials", "full_pinyin", "resident__record_no")
    list_select_related = ("resident",)


@admin.register(m.AccessedResident)
class AccessedResidentAdmin(ReadOnlyAdmin):
    list_display = ("log", "resident")
    search_fields = ("resident__record_no", "resident__name")
    list_select_related = ("log", "resident")


@admin.register(m.ChangeLog)
class ChangeLogAdmin(ReadOnlyAdmin):
    """The whole change trail: it names no org unit, so only system administrators see the list."""

    list_display = ("at", "model", "object_pk", "action", "actor_label", "reason", "changes")
    list_filter = ("action", "model", "at")
    search_fields = ("object_pk", "actor_label", "reason")
    list_select_related = ("actor",)
    scope_lookup = None

    @admin.display(description="修改内容")
    def changes(self, obj):
        before, after = obj.before or {}, obj.after or {}
        keys = list(dict.fromkeys([*before, *after]))[:8]
        return format_html_join("", "<div>{}：{} → {}</div>",
                                ((k, _fmt(before.get(k)), _fmt(after.get(k))) for k in keys))


@admin.register(m.LoadBatch)
class LoadBatchAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "source", "actor", "started_at", "finished_at", "row_counts")
    list_filter = ("kind", "started_at")
    search_fields = ("source", "actor")

    @admin.display(description="写入行数")
    def row_counts(self, obj):
        counts = obj.counts or {}
        parts = [f"{k}: +{c.get('inserted', 0)} ~{c.get('updated', 0)}" for k, c in counts.items()
                 if isinstance(c, dict) and (c.get("inserted") or c.get("updated"))]
        return format_html("{}", "；".join(parts[:6]))


@admin.register(m.LoadTally)
class LoadTallyAdmin(ReadOnlyAdmin):
    """Rows received and rejected per batch, table and unit (上传数据有效率)."""

    list_display = ("batch", "table", "org_unit", "received", "rejected")
    list_filter = ("table", "batch__kind", unit_filter("org_unit__path"))
    search_fields = ("table", "org_unit__code", "org_unit__name")
    list_select_related = ("batch", "org_unit")


@admin.register(m.ResidentCredential)
class ResidentCredentialAdmin(ReadOnlyAdmin):
    """Residents' passwords for their own record (ADR 021): when issued, by whom, whether locked — never the hash.
    Issued and withdrawn from the record page (居民查询口令), not here."""

    list_display = ("resident", "active", "issued_at", "issued_by", "last_login", "failed_attempts", "locked_until")
    list_filter = ("active", "issued_at", unit_filter("resident__managing_unit__path"))
    search_fields = ("resident__record_no", "resident__name")
    list_select_related = ("resident", "issued_by")
    exclude = ("password",)
