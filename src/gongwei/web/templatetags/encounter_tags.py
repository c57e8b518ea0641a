"""Template helpers of the follow-up form pages: which programs have a form (the rulebook says)."""

from __future__ import annotations

from django import template

from gongwei.spec.entry import FOLLOW_UP_FORMS, SPECIAL_FOLLOW_UP_FORMS

register = template.Library()


@register.filter
def has_follow_up_form(program: str) -> bool:
    return program in FOLLOW_UP_FORMS or program in SPECIAL_FOLLOW_UP_FORMS


@register.filter
def value_of(values: dict, name: str) -> object:
    """One entry of a form's values by a name known only at render time (the exam form's generated fields)."""
    x = values.get(name, "") if values else ""
    return "" if x is None else x


@register.filter
def is_elderly(age: int | None) -> bool:
    """Of the elderly programs' age (老年人健康管理 and 中医药健康管理: the rulebook's MIN_AGE)."""
    from gongwei.spec.programs import elderly

    return age is not None and age >= elderly.MIN_AGE
