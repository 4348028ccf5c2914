"""A run of a template confirmed on the preview: the version it runs and its audit, once per job."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from records.lib.audit import audit_log
from records.models import AnyUser, AuditEvent, CopyJob, CopyTemplate, CopyTemplateVersion


def confirmed_version(pk: int | None, *, user: AnyUser) -> CopyTemplateVersion | None:
    """The version a draft runs (None: not a template's), if `user` may still use its template."""
    if pk is None:
        return None
    visible = CopyTemplate.objects.for_user(user).values("pk")
    version = CopyTemplateVersion.objects.filter(pk=pk, template__in=visible).select_related("template").first()
    if version is None:
        raise ValidationError("The template of this copy is no longer shared with you.")
    return version


def audit_run(*, job: CopyJob, user: AnyUser) -> None:
    """template.run for a job made from a template; once, however often its Confirm is repeated."""
    version = job.template_version
    if version is None or AuditEvent.objects.filter(action="template.run", job=job).exists():
        return
    template = version.template
    audit_log(
        actor=user,
        action="template.run",
        profile=job.profile,
        job=job,
        template=template.name,
        template_code=str(template.code),
        version=version.number,
    )
