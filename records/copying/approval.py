"""Copies into a protected profile (production, validation): the job waits as awaiting_approval,
writing nothing, until someone with `records.approve_copy` who is not its requester approves it
(it is queued) or rejects it; a request left longer than COPY_APPROVAL_EXPIRY_DAYS expires. A
protected profile also caps the records of one job (PROTECTED_MAX_RECORDS, checked in the
preview). Keyword-only, shared by the job page, the admin and the `job` command; each decision
is audited. The transitions are lifecycle's conditional UPDATEs."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from records.copying import lifecycle
from records.copying.job_queue import enqueue_job
from records.copying.job_rules import can_approve, can_reject
from records.copying.request import CopyRequest
from records.copying.tree import Plan
from records.lib.audit import audit_log
from records.models import AnyUser, CopyJob, approval_expiry_cutoff
from records.notify import events as notify

# What a protected profile guards: copies written into it. An undo, a resume or a retry of an
# approved job needs no new approval (the plan's rule).
GUARDED_MODES = (CopyJob.Mode.CLONE, CopyJob.Mode.DEEP_COPY)


def needs_approval(*, request: CopyRequest) -> bool:
    """A clone or deep copy written into a protected profile (its target, else its own profile)."""
    written = request.target or request.profile
    return bool(written.protected) and request.mode in GUARDED_MODES


def check_cap(*, plan: Plan, request: CopyRequest) -> None:
    """Refuse the plan when it writes more records into a protected profile than one job may."""
    cap = settings.PROTECTED_MAX_RECORDS
    written = request.target or request.profile
    if written.protected and plan.total > cap and not plan.refused_reason:
        plan.refused_reason = (
            f"{written.name} is protected: one copy into it may write at most {cap:,} records; "
            f"this one would write {plan.total:,}."
        )


def copy_job_approve(*, job: CopyJob, user: AnyUser, enqueue: bool = True) -> CopyJob:
    """Approve an awaiting copy: it is queued (on commit), or left for the caller to run (`enqueue=False`:
    `job approve --sync`). ValidationError says why not."""
    _refuse_unless(*can_approve(job, user))
    with transaction.atomic():
        if not lifecycle.approve(job_id=job.pk, user_id=user.pk or 0, now=timezone.now()):
            raise ValidationError("This job is no longer awaiting approval.")
        job.refresh_from_db()
        audit_log(actor=user, action="job.approve", profile=job.write_profile, job=job)
        if enqueue:
            enqueue_job(job)
    return job


def copy_job_reject(*, job: CopyJob, user: AnyUser, reason: str = "") -> CopyJob:
    """Reject an awaiting copy: it ends as rejected with the reason; nothing was written."""
    _refuse_unless(*can_reject(job, user))
    note = " ".join((reason or "").split())[:500]
    with transaction.atomic():
        if not lifecycle.reject(job_id=job.pk, user_id=user.pk, note=note, now=timezone.now()):
            raise ValidationError("This job is no longer awaiting approval.")
        job.refresh_from_db()
        audit_log(actor=user, action="job.reject", profile=job.write_profile, job=job, reason=note)
        notify.job_ended(job=job)
    return job


def approvals_expire(*, now: datetime | None = None) -> list[CopyJob]:
    """End the requests older than COPY_APPROVAL_EXPIRY_DAYS (jobs_resume_stale runs this)."""
    now = now or timezone.now()
    cutoff = approval_expiry_cutoff(now)
    stale = CopyJob.objects.filter(status=CopyJob.Status.AWAITING_APPROVAL, created__lt=cutoff)
    expired = [job for job in stale if lifecycle.expire(job_id=job.pk, before=cutoff, now=now)]
    for job in expired:
        audit_log(actor=None, action="job.expire", profile=job.write_profile, job=job)
        notify.job_ended(job=job)
    return [CopyJob.objects.get(pk=j.pk) for j in expired]


def _refuse_unless(allowed: bool, reason: str) -> None:
    if not allowed:
        raise ValidationError(reason)
