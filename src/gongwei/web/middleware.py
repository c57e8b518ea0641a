"""Simplified Chinese by default; English only when the user chose it (language cookie via /i18n/setlang/).

Django's LocaleMiddleware follows the browser's Accept-Language header, which would show an English
browser an English UI; our users expect Chinese unless they switch.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation


class ChineseByDefaultLocaleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        translation.deactivate()
        return response


class ContentSecurityPolicyMiddleware:
    """Sends ``settings.CONTENT_SECURITY_POLICY`` (set when served over HTTPS) on every response.

    Django 5.2 has no CSP support of its own; the policy is one constant because every asset is served from this
    host, so a middleware of a few lines is simpler than a package with its own configuration language.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = getattr(settings, "CONTENT_SECURITY_POLICY", "")

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy:
            response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
