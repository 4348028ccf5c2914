"""Re-check an SSO user with the provider when their ID token's renewal time has passed
(`OIDC_RENEW_SECONDS`, 15 min): a silent `prompt=none` round trip. A user disabled or logged out
at the provider is then logged out here too, within that time, instead of at session expiry.

mozilla-django-oidc's SessionRefresh, made lazy: it reads its settings per request (so the app
starts with SSO off, and with the provider down, and the endpoints can come from discovery) and
does nothing unless SSO is on. Local accounts are never refreshed (their session backend isn't
an OIDC one).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.deprecation import MiddlewareMixin
from mozilla_django_oidc.middleware import SessionRefresh

from records.accounts.sso import sso_enabled, sso_setting

# Polled by the job page's script (fetch): a redirect to the provider would break it; the next
# page load refreshes instead.
POLLED = re.compile(r"^/jobs/[^/]+/(live|rows)/$")


class SSOSessionRefresh(SessionRefresh):
    get_settings = staticmethod(sso_setting)

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        MiddlewareMixin.__init__(self, get_response)

    def __getattr__(self, name: str) -> Any:
        # The OIDC_* attributes SessionRefresh.__init__ would have read once, read now.
        if name.startswith("OIDC_"):
            defaults = {
                "OIDC_STATE_SIZE": 32,
                "OIDC_NONCE_SIZE": 32,
                "OIDC_USE_NONCE": True,
                "OIDC_RP_SCOPES": "openid email",
                "OIDC_EXEMPT_URLS": [],
                "OIDC_AUTHENTICATION_CALLBACK_URL": "oidc_authentication_callback",
            }
            return sso_setting(name, *([defaults[name]] if name in defaults else []))
        raise AttributeError(name)

    @property
    def exempt_urls(self) -> set[str]:
        return {
            "/oidc/authenticate/",
            "/oidc/callback/",
            "/accounts/logout/",
            "/admin/logout/",
            "/health/",
            "/health/ready/",
            "/health/live/",
        }

    @property
    def exempt_url_patterns(self) -> set[re.Pattern[str]]:
        return {POLLED}

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        if not sso_enabled():
            return None
        response: HttpResponse | None = super().process_request(request)
        return response
