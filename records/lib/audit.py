"""Record who did what to which profile or job. Never pass secret values in `details`."""

from records.models import AuditEvent


def audit_log(*, actor, action: str, profile=None, job=None, **details) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        profile=profile,
        job=job,
        details=details,
    )
