"""Template helpers of the follow-up form pages and the worklist: which programs have a form (the rulebook
says), the worklist's rows."""

from __future__ import annotations

from html import escape as _escape

from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

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


@register.simple_tag
def worklist_rows(rows: list[dict], with_team: bool) -> str:
    """The worklist's table rows, built here rather than by the template engine: a village's list is hundreds of
    rows of eight cells, and resolving each cell as a template variable was half the page's time. Every value
    is escaped (the standard library's ``html.escape``, quotes included: several times faster than
    ``format_html`` per cell); the row's words (``state``, ``action``) were put on the rows by the view."""
    label = gettext("已更新")  # outside the f-string: makemessages does not look inside one
    updated = f' <small class="muted">{_escape(label)}</small>'
    out = []
    for r in rows:
        due = r["due_date"]
        due = due.isoformat() if hasattr(due, "isoformat") else (due or "")
        team = f"<td>{_escape(str(r.get('team') or '—'))}</td>" if with_team else ""
        out.append(
            f'<tr class="due-{_escape(str(r["status"]))}"><td><a href="{_escape(r["home"])}">{_escape(str(r["name"]))}'
            f'</a></td><td class="mono">{_escape(str(r["record_no"]))}</td><td>{_escape(str(r["service_name"]))}'
            f'{updated if r.get("live") else ""}</td><td>{_escape(due)}</td><td>{_escape(str(r["state"]))}</td>'
            f'<td>{_escape(str(r.get("doctor") or "—"))}</td>{team}<td><a class="go" href="{_escape(r["link"])}">'
            f'{_escape(str(r["action"]))}</a></td></tr>')
    return mark_safe("".join(out))  # noqa: S308 — every value above went through _escape
