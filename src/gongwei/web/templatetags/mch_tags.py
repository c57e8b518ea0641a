"""Template helpers of the record page: which maternal, child and vaccination forms it offers (the service says)."""

from __future__ import annotations

from django import template
from django.urls import reverse

from gongwei.service.maternal_child import forms_for

register = template.Library()


@register.simple_tag
def mch_forms(r) -> list[dict]:
    return [{"title": title, "url": reverse(f"web:mch_{slug}", args=[r.record_no])}
            for slug, title in forms_for(r.age, r.programs)]


@register.filter
def get(mapping, key: str):
    """``mapping[key]`` or "" (the generic form reads its values and errors by field name)."""
    value = mapping.get(key, "") if mapping else ""
    return "" if value is None else value
