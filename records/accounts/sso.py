"""Single sign-on with OpenID Connect (mozilla-django-oidc), configured from the environment.

The provider's endpoints come from its discovery document (`OIDC_ISSUER`) unless set one by one.
On each SSO login the user's Django groups are set from a claim (only groups that exist in
Django: the provider can't create groups here), `is_staff` from an optional staff group and the
`approve_copy` group from an optional approver group. An SSO user never becomes a superuser and
never takes over a local account (one with a password).

mozilla-django-oidc checks the ID token's signature and nonce but not its audience or issuer:
`verify_token` here refuses a token issued to another client or by another issuer.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

import requests
from django.conf import settings
from django.contrib import admin, auth
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.http import urlencode
from django.views import View
from django.views.decorators.http import require_POST
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import absolutify, import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from records.lib.audit import audit_log

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.db.models import QuerySet

log = logging.getLogger(__name__)
APPROVER_GROUP = "approve_copy"
# Our setting -> the discovery document's key (OpenID Connect Discovery 1.0 §3).
DISCOVERED = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
    "OIDC_OP_LOGOUT_ENDPOINT": "end_session_endpoint",
}


def sso_enabled() -> bool:
    return bool(settings.OIDC_RP_CLIENT_ID)


@functools.lru_cache(maxsize=4)
def discovery(issuer: str) -> dict[str, Any]:
    """The provider's discovery document, fetched once per process (a failure is not cached)."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
    response.raise_for_status()
    doc: dict[str, Any] = response.json()
    if doc.get("issuer") != issuer:  # Discovery §4.3: must be identical to the URL it came from
        raise ImproperlyConfigured(f"The discovery document at {url} names another issuer.")
    return doc


def sso_setting(attr: str, *args: Any) -> Any:
    value = getattr(settings, attr, None)
    if not value and attr in DISCOVERED and settings.OIDC_OP_ISSUER:
        return discovery(settings.OIDC_OP_ISSUER).get(DISCOVERED[attr]) or (args[0] if args else None)
    return import_from_settings(attr, *args)


def _expected_issuer() -> str:
    return settings.OIDC_OP_ISSUER or ""


class SSOBackend(OIDCAuthenticationBackend):
    get_settings = staticmethod(sso_setting)

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> User | None:
        # A refused token exchange or a token that fails our checks is a failed login (the
        # callback's "SSO did not log you in"), not a 500 or a 400 page.
        try:
            user: User | None = super().authenticate(request, **kwargs)
        except (requests.RequestException, SuspiciousOperation) as exc:
            log.warning("Single sign-on refused: %s", exc)
            return None
        return user

    def get_payload_data(self, token: bytes, key: Any) -> dict[str, Any]:
        payload: dict[str, Any] = super().get_payload_data(token, key)
        check_audience_and_issuer(payload, client_id=self.OIDC_RP_CLIENT_ID, issuer=_expected_issuer())
        return payload

    def _username(self, claims: dict[str, Any]) -> str:
        value = str(claims.get(settings.OIDC_USERNAME_CLAIM) or "")
        if not value:
            raise SuspiciousOperation(f"The provider sent no {settings.OIDC_USERNAME_CLAIM!r} claim.")
        return value[:150]

    def filter_users_by_claims(self, claims: dict[str, Any]) -> QuerySet[User]:
        users: QuerySet[User] = self.UserModel.objects.filter(username=self._username(claims))
        return users

    def create_user(self, claims: dict[str, Any]) -> User:
        user = self.UserModel(username=self._username(claims))
        user.set_unusable_password()  # signs in through the provider only
        return self.update_user(user, claims, created=True)

    def update_user(self, user: User, claims: dict[str, Any], created: bool = False) -> User:
        if not created and user.has_usable_password():
            raise SuspiciousOperation(f"{user.username!r} is a local account; SSO may not sign in as it.")
        apply_claims(user, claims)
        audit_log(
            actor=user,
            action="login.sso",
            created=created,
            groups=sorted(user.groups.values_list("name", flat=True)),
            staff=user.is_staff,
        )
        return user


def check_audience_and_issuer(payload: dict[str, Any], *, client_id: str, issuer: str) -> None:
    """OpenID Connect Core §3.1.3.7: the token is for this client, from this issuer."""
    audience = payload.get("aud")
    audiences = [audience] if isinstance(audience, str) else list(audience or [])
    if client_id not in audiences:
        raise SuspiciousOperation("The ID token was issued to another client.")
    if len(audiences) > 1 and payload.get("azp") != client_id:
        raise SuspiciousOperation("The ID token's authorized party is another client.")
    if issuer and payload.get("iss") != issuer:
        raise SuspiciousOperation("The ID token comes from another issuer.")


def apply_claims(user: User, claims: dict[str, Any]) -> None:
    """Profile fields, is_staff and the Django groups from the provider's claims (it decides them)."""
    user.email = str(claims.get("email") or "")[:254]
    user.first_name = str(claims.get("given_name") or "")[:150]
    user.last_name = str(claims.get("family_name") or "")[:150]
    raw = claims.get(settings.OIDC_GROUPS_CLAIM) or []
    names = {str(g) for g in ([raw] if isinstance(raw, str) else raw)}
    user.is_staff = bool(settings.OIDC_STAFF_GROUP) and settings.OIDC_STAFF_GROUP in names
    user.is_superuser = False
    user.save()
    groups = list(Group.objects.filter(name__in=names))
    if settings.OIDC_APPROVER_GROUP and settings.OIDC_APPROVER_GROUP in names:
        groups.append(Group.objects.get_or_create(name=APPROVER_GROUP)[0])
    user.groups.set(groups)


class _OnlyWhenEnabled(View):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not sso_enabled():
            raise Http404("Single sign-on is not configured.")
        return super().dispatch(request, *args, **kwargs)


class SSOStart(_OnlyWhenEnabled, OIDCAuthenticationRequestView):
    get_settings = staticmethod(sso_setting)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if sso_enabled():
            super().__init__(*args, **kwargs)


class SSOCallback(_OnlyWhenEnabled, OIDCAuthenticationCallbackView):
    get_settings = staticmethod(sso_setting)


@login_not_required
@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """Log out here and, after an SSO login, at the provider too (RP-Initiated Logout 1.0)."""
    id_token = request.session.get("oidc_id_token")
    auth.logout(request)
    after = absolutify(request, reverse(settings.LOGOUT_REDIRECT_URL))
    end_session = sso_setting("OIDC_OP_LOGOUT_ENDPOINT", "") if id_token and sso_enabled() else ""
    if not end_session:
        return redirect(settings.LOGOUT_REDIRECT_URL)
    query = urlencode(
        {"id_token_hint": id_token, "post_logout_redirect_uri": after, "client_id": settings.OIDC_RP_CLIENT_ID}
    )
    return HttpResponseRedirect(f"{end_session}?{query}")


def context(request: HttpRequest) -> dict[str, Any]:
    """For the login pages: which ways of logging in are offered."""
    return {
        "sso_enabled": sso_enabled(),
        "local_login_enabled": settings.LOCAL_LOGIN_ENABLED,
        "sso_button_label": settings.SSO_BUTTON_LABEL,
    }


@login_not_required
def admin_login_gate(request: HttpRequest) -> HttpResponse:
    """With local accounts off, the admin's password form is no way in: send people to ours."""
    if settings.LOCAL_LOGIN_ENABLED:
        return admin.site.login(request)
    return redirect(f"{reverse('login')}?{urlencode({'next': request.GET.get('next', reverse('admin:index'))})}")


urlpatterns = [
    path("authenticate/", login_not_required(SSOStart.as_view()), name="oidc_authentication_init"),
    path("callback/", login_not_required(SSOCallback.as_view()), name="oidc_authentication_callback"),
]
