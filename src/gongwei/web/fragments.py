"""Rendered page fragments kept by a key the application layer gives (issue 10, ADR 029).

The key says what the fragment shows (e.g. :func:`gongwei.service.dashboard.dashboard_version`); this helper adds
the language the page is rendered in and keeps the HTML in the ``pages`` cache. Nothing here decides scope or
masking: the key's maker has checked the actor and put the masking in the key.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.cache import caches
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe


def cached(key: str, render: Callable[[], str]) -> SafeString:
    """The fragment kept under ``key`` in the active language, rendered with ``render()`` when not kept yet."""
    store = caches["pages"]
    full = f"{key}:{translation.get_language()}"
    html = store.get(full)
    if html is None:
        html = str(render())
        store.set(full, html)
    return mark_safe(html)  # rendered by our own templates, which escape what they show
