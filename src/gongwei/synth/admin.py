"""Admin of synthetic-region labels (here, so that records never imports synth)."""

from __future__ import annotations

from django.contrib import admin

from gongwei.records import scoping
from gongwei.records.admin import ReadOnlyAdmin
from gongwei.synth.models import InjectedProblem


@admin.register(InjectedProblem)
class InjectedProblemAdmin(ReadOnlyAdmin):
    """Ground-truth labels of a synthetic region: for system administrators only."""

    search_fields = ("natural_key",)

    def get_list_display(self, request):
        return [f.name for f in InjectedProblem._meta.concrete_fields if not f.primary_key][:8]

    def get_list_filter(self, request):
        return [f for f in ("problem", "table") if f in {x.name for x in InjectedProblem._meta.concrete_fields}]

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        return qs if scoping.scope_for(request.user).everything else qs.none()
