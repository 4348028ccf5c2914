"""Record who did what to which profile or job. Never pass secret values in `details`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AnonymousUser

from records.models import AuditEvent, ConnectionProfile, CopyJob

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def audit_log(
    *,
    actor: User | AnonymousUser | None,
    action: str,
    profile: ConnectionProfile | None = None,
    job: CopyJob | None = None,
    **details: Any,
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=None if isinstance(actor, AnonymousUser) else actor,
        action=action,
        profile=profile,
        job=job,
        details=details,
    )
