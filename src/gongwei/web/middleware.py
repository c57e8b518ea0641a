"""Simplified Chinese by default; English only when the user chose it (language cookie via /i18n/setlang/).

Django's LocaleMiddleware follows the browser's Accept-Language header, which would show an English
browser an English UI; our users expect Chinese unless they switch.
"""

from __future__ import annotations

import time

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


class SessionRenewalMiddleware:
    """Renews a signed-in session's idle timeout at most once per ``settings.SESSION_RENEW_SECONDS``.

    Django's ``SESSION_SAVE_EVERY_REQUEST`` writes the session on every request (a signed encoding, an UPDATE and a
    commit): a tenth of a light page's time. Here a request marks the session modified only when its last renewal
    is that old, and SessionMiddleware then saves it with a new expiry, as it would on every request.
    """

    MARK = "_renewed_at"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty():
            now = int(time.time())
            # a session saved anyway (a login, a message) is marked too, so the next request need not save it
            if session.modified or now - int(session.get(self.MARK, 0)) >= settings.SESSION_RENEW_SECONDS:
                session[self.MARK] = now
        return response
