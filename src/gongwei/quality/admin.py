"""Admin for the quality workflow: the rectification ledger (质控问题) and merges, scoped like everything else."""

from __future__ import annotations

from django.contrib import admin, messages

from gongwei.quality import services
from gongwei.quality.models import Finding, FindingStatus, FindingTransition, Merge
from gongwei.records.admin import ReadOnlyAdmin, ScopedAdmin, unit_filter


class FindingTransitionInline(admin.TabularInline):
    model = FindingTransition
    extra = 0
    can_delete = False
    fields = ("at", "from_status", "to_status", "actor_label", "reason", "snapshot")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Finding)
class FindingAdmin(ScopedAdmin):
    scope_lookup = "org_unit__path"
    list_display = ("rule", "record_no", "message", "org_unit", "assigned_to", "status", "first_seen", "last_seen")
    list_filter = ("status", "rule", unit_filter("org_unit__path"))
    search_fields = ("record_no", "rule")
    list_select_related = ("org_unit", "assigned_to")
    readonly_fields = ("rule", "table", "record_id", "record_no", "resident", "org_unit", "values", "message",
                       "status", "first_seen", "last_seen", "period", "rulebook")
    fields = readonly_fields + ("assigned_to",)
    inlines = (FindingTransitionInline,)
    actions = ("mark_rectified", "mark_verified")

    def has_add_permission(self, request):
        return False  # findings come from evaluations, never by hand

    def _move(self, request, queryset, to_status: str, reason: str) -> None:
        done, refused = 0, []
        for finding in queryset:
            try:
                services.transition(finding, to_status, actor=request.user, reason=reason)
                done += 1
            except services.WorkflowError as exc:
                refused.append(f"{finding}: {exc}")
        if done:
            self.message_user(request, f"{done} 个问题已改为“{FindingStatus(to_status).label}”")
        for text in refused[:20]:
            self.message_user(request, text, messages.WARNING)

    @admin.action(description="标记为已整改", permissions=["change"])
    def mark_rectified(self, request, queryset):
        self._move(request, queryset, FindingStatus.RECTIFIED, "整改单位标记已整改")

    @admin.action(description="核实整改（已核实）", permissions=["change"])
    def mark_verified(self, request, queryset):
        self._move(request, queryset, FindingStatus.VERIFIED, "督导核实")

    def save_model(self, request, obj, form, change):
        if "assigned_to" in form.changed_data:
            services.reassign(Finding.objects.get(pk=obj.pk), obj.assigned_to, actor=request.user)
            return
        super().save_model(request, obj, form, change)


@admin.register(Merge)
class MergeAdmin(ReadOnlyAdmin):
    scope_lookup = "survivor__managing_unit__path"
    list_display = ("pk", "survivor", "duplicate", "reason", "actor_label", "merged_at", "undone_at")
    list_select_related = ("survivor", "duplicate")
    search_fields = ("survivor__record_no", "duplicate__record_no")
    actions = ("undo",)

    @admin.action(description="撤销所选合并", permissions=["change"])
    def undo(self, request, queryset):
        for record in queryset.order_by("-pk"):
            try:
                services.unmerge(record, actor=request.user, reason="管理界面撤销")
                self.message_user(request, f"已撤销合并 #{record.pk}")
            except services.WorkflowError as exc:
                self.message_user(request, f"合并 #{record.pk}：{exc}", messages.WARNING)

    def has_change_permission(self, request, obj=None):
        # the undo action needs "change"; the merge row itself stays read-only in its form
        return obj is None and super(ReadOnlyAdmin, self).has_change_permission(request, obj)
