"""Filters of the dashboard pages: rates, percentage points, targets and met/near/far in Chinese."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext, gettext_noop

from gongwei.engine.compare import target_text
from gongwei.service.dashboard import STANDING_ZH

register = template.Library()
# the standing words of STANDING_ZH, marked for the message catalogue (translated when shown)
STANDING_WORDS = (gettext_noop("达标"), gettext_noop("接近"), gettext_noop("未达标"))


@register.filter
def pct(value) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


@register.filter
def pp(value) -> str:
    """A change of rate in percentage points, signed: +3.20 / −1.05; blank when not compared."""
    if value is None:
        return ""
    return f"{value * 100:+.2f}".replace("-", "−")


@register.filter
def target(value) -> str:
    # ≥/≤ as bulletins print them (the engine's text keeps the ASCII comparators of the CLI)
    if value is None:
        return gettext("无目标")
    return target_text(value).replace(">=", "≥").replace("<=", "≤")


@register.filter
def standing(value) -> str:
    word = STANDING_ZH.get(value)
    return gettext(word) if word else ""
