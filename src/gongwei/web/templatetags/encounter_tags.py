"""Template helpers of the follow-up form pages: which programs have a form (the rulebook says)."""

from __future__ import annotations

from django import template

from gongwei.spec.entry import FOLLOW_UP_FORMS

register = template.Library()


@register.filter
def has_follow_up_form(program: str) -> bool:
    return program in FOLLOW_UP_FORMS
