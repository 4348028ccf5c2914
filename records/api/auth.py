"""Who calls the API and what they may do: `Authorization: Bearer <token>` (tokens.py), the run
scope, and the throttle per token.

CSRF: DRF's views are CSRF-exempt and its SessionAuthentication checks CSRF itself, so a call
signed in with the browser's session keeps CSRF; only a call with a Bearer token (which a browser
never sends on its own) goes without."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import User
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from records.api.models import ApiToken
from records.api.tokens import TokenRefused, token_for

if TYPE_CHECKING:  # DRF's views import this module (its authentication setting): no import back
    from rest_framework.views import APIView


class BearerTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        words = get_authorization_header(request).split()
        if not words or words[0].lower() != b"bearer":
            return None  # no token: the session, or 401
        if len(words) != 2:
            raise AuthenticationFailed("Send Authorization: Bearer <token>, the token with no spaces.")
        try:
            token = token_for(words[1].decode("ascii", errors="replace"))
        except TokenRefused as exc:
            raise AuthenticationFailed(str(exc)) from None
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'  # asked first: a call without credentials answers 401, not 403


class RunScope(BasePermission):
    """Runs and job actions: a token needs the run scope; a signed-in session may (the web does)."""

    message = "This token may only read: make a token with the run scope to run copies and act on jobs."

    def has_permission(self, request: Request, view: APIView) -> bool:
        token = request.auth
        return not isinstance(token, ApiToken) or token.scope == ApiToken.Scope.RUN


class TokenThrottle(SimpleRateThrottle):
    """Calls per token (a session: per user), at the rate of settings.API_THROTTLE_RATE. The
    counts live in Django's cache (CACHES: a shared one, such as Redis, when several processes serve)."""

    scope = "api_token"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        token = request.auth
        who = f"token{token.pk}" if isinstance(token, ApiToken) else f"user{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": who}

    def get_rate(self) -> str | None:
        rate: str | None = settings.API_THROTTLE_RATE  # None: no throttle
        return rate


class BearerScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """The schema's word for BearerTokenAuthentication (drf-spectacular finds it by target_class)."""

    target_class = "records.api.auth.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "An API token from My settings."}
