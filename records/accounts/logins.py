"""Login throttling (django-axes) as services: who was locked out, and lifting a lock-out.

Axes counts the failures and refuses locked-out logins itself (backend + middleware, see
settings); this module records both in the audit log and is the one way to unlock, used by the
admin and by `manage.py login_unlock`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.dispatch import receiver

from records.lib.audit import audit_log

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.db.models import QuerySet
    from django.http import HttpRequest


def throttles(credentials: object) -> bool:
    """Whether a login attempt counts toward a lock-out: password logins only. An SSO callback
    carries no password (its guessing is the provider's to stop), and counting its failures
    under "no user name" would let a few bad callbacks lock SSO out for a whole office address."""
    return isinstance(credentials, dict) and "password" in credentials


def axes_exempt(request: HttpRequest | None, credentials: object) -> bool:
    """django-axes' AXES_WHITELIST_CALLABLE: exempt what `throttles` doesn't count."""
    return not throttles(credentials)


def login_unlock(*, actor: User | AnonymousUser | None, username: str = "", ip_address: str = "", via: str) -> int:
    """Forget the failed attempts of `username` and/or `ip_address` (both: that pair only).
    Returns how many attempt records were cleared."""
    if not username and not ip_address:
        raise ValueError("Give a user name, an address or both.")
    attempts = AccessAttempt.objects.all()
    if username:
        attempts = attempts.filter(username=username)
    if ip_address:
        attempts = attempts.filter(ip_address=ip_address)
    cleared: int = attempts.delete()[0]
    audit_log(
        actor=actor, action="login.unlock", username=username, ip_address=ip_address, attempts_cleared=cleared, via=via
    )
    return cleared


def login_unlock_attempts(*, actor: User | AnonymousUser | None, attempts: QuerySet[AccessAttempt], via: str) -> int:
    """Unlock each (user, address) pair of these AccessAttempt rows (the admin's selection)."""
    pairs = set(attempts.values_list("username", "ip_address"))
    return sum(login_unlock(actor=actor, username=u or "", ip_address=ip or "", via=via) for u, ip in pairs)


def _on_locked_out(
    sender: object, request: HttpRequest | None, username: str | None, ip_address: str | None, **kwargs: Any
) -> None:
    audit_log(
        actor=None,
        action="login.locked_out",
        username=username or "",
        ip_address=ip_address or "",
        path=getattr(request, "path", "")[:200],
    )


def connect_signals() -> None:
    receiver(user_locked_out, dispatch_uid="records.accounts.logins.locked_out")(_on_locked_out)
