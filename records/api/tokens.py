"""API tokens: made and revoked by their owner (the My settings page), checked on each API call.
Keyword-only services; the page and the authentication class (auth.py) call these.

Only the sha256 of a token is stored. A token is 32 random bytes (256 bits), so unlike a password
it can't be guessed from its hash: a slow password hash would add nothing but cost on every call,
and a plain hash lets a call find its token by one indexed lookup. The token itself is shown once,
when it is made."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone

from records.api.models import ApiToken
from records.lib.audit import audit_log

PREFIX = "rcp_"  # says what the secret is when it turns up in a log or a secret scanner
SHOWN_CHARS = len(PREFIX) + 6


class TokenRefused(Exception):
    """A Bearer token that is unknown, revoked or expired: the call answers 401 with this."""


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(*, user: User, name: str, scope: str, expires: datetime | None = None) -> tuple[ApiToken, str]:
    """A new token of `user` and its secret, which is never stored and can't be shown again."""
    name = name.strip()
    if not name:
        raise ValidationError("Give the token a name (what uses it).")
    if scope not in ApiToken.Scope.values:
        raise ValidationError(f"A token's scope is {' or '.join(ApiToken.Scope.values)}.")
    if expires is not None and expires <= timezone.now():
        raise ValidationError("A token's expiry must be in the future.")
    if usable_tokens(user=user).filter(name=name).exists():
        raise ValidationError(f"You already have a token named {name}: revoke it or choose another name.")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, scope=scope, expires=expires, prefix=secret[:SHOWN_CHARS], secret_hash=token_hash(secret)
    )
    audit_log(actor=user, action="api.token.create", token=token.pk, name=name, scope=scope, expires=_when(expires))
    return token, secret


def revoke_token(*, token_id: int, user: User) -> ApiToken:
    """Revoke one of `user`'s own tokens (another's is not found); revoking twice changes nothing."""
    token = ApiToken.objects.filter(pk=token_id, user=user).first()
    if token is None:
        raise ValidationError("No such token of yours.")
    if ApiToken.objects.filter(pk=token.pk, revoked__isnull=True).update(revoked=timezone.now()):
        audit_log(actor=user, action="api.token.revoke", token=token.pk, name=token.name)
    token.refresh_from_db()
    return token


def usable_tokens(*, user: User) -> QuerySet[ApiToken]:
    now = timezone.now()
    return ApiToken.objects.filter(user=user, revoked__isnull=True).filter(Q(expires__isnull=True) | Q(expires__gt=now))


def token_for(secret: str) -> ApiToken:
    """The token whose secret this is, if it may be used now; its use noted. Else TokenRefused."""
    token = ApiToken.objects.select_related("user").filter(secret_hash=token_hash(secret)).first()
    if token is None:
        raise TokenRefused("Unknown API token.")
    now = timezone.now()
    refusal = token.refusal(now)
    if refusal:
        raise TokenRefused(refusal)
    note_use(token=token, now=now)
    return token


def note_use(*, token: ApiToken, now: datetime) -> None:
    """last_used, written at most once a minute (not a write per call); and one api.token.use audit
    event per token per API_TOKEN_USE_AUDIT_SECONDS (an event per call would flood the audit log).
    Both are compare-and-set updates: concurrent calls audit once."""
    fresh = now - timedelta(seconds=60)
    ApiToken.objects.filter(pk=token.pk).filter(Q(last_used__isnull=True) | Q(last_used__lt=fresh)).update(
        last_used=now
    )
    due = now - timedelta(seconds=settings.API_TOKEN_USE_AUDIT_SECONDS)
    claimed = (
        ApiToken.objects.filter(pk=token.pk)
        .filter(Q(use_audited__isnull=True) | Q(use_audited__lte=due))
        .update(use_audited=now)
    )
    if claimed:
        audit_log(actor=token.user, action="api.token.use", token=token.pk, name=token.name, scope=token.scope)


def _when(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""
