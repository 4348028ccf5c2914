"""The rules for the user's actions on a job: (allowed, the reason when not), the same for the
web, the admin, the CLI and the services. The transitions they lead to are in lifecycle.py.
`access`: the user's access to the profile when already asked (the job page asks every rule)."""

from __future__ import annotations

from functools import cached_property

from records.models import AnyUser, ConnectionProfile, CopyJob, FileResult, RecordResult


class ProfileAccess:
    """Whether `user` may still use `job`'s profile, asked once however many rules ask it: the
    job page asks each, and access is what it is now."""

    def __init__(self, job: CopyJob, user: AnyUser | None) -> None:
        self.job = job
        self.user = user

    @cached_property
    def refusal(self) -> str:
        """ "" when the user may use the profile; otherwise why not."""
        user = self.user
        # A copy into another profile reads one and writes the other: the user needs both.
        wanted = {p for p in (self.job.profile_id, self.job.target_profile_id) if p is not None}
        # Ids only: the profiles' other columns (secrets among them) stay unread.
        if user is not None and wanted == set(
            ConnectionProfile.objects.for_user(user).filter(pk__in=wanted).values_list("pk", flat=True)
        ):
            return ""
        return "You no longer have access to this job's connection profile."


def _refusal(job: CopyJob, user: AnyUser | None, access: ProfileAccess | None) -> str:
    return (access or ProfileAccess(job, user)).refusal


def can_cancel(job: CopyJob, user: AnyUser | None, access: ProfileAccess | None = None) -> tuple[bool, str]:
    # A request for approval is withdrawn by cancelling it (lifecycle.cancel).
    if job.status not in (*CopyJob.ACTIVE, CopyJob.Status.AWAITING_APPROVAL):
        return False, "This job has already finished."
    if job.cancel_requested:
        return False, "This job is being cancelled."
    if job.status == CopyJob.Status.AWAITING_APPROVAL and (user is None or user.pk != job.requested_by_id):
        return False, "Only its requester withdraws a request for approval; an approver rejects it."
    # Stopping uses no credentials: the queue's operators (records/ops/rq_dashboard.py) may stop any job.
    if user is not None and user.is_active and user.is_staff and user.has_perm("records.use_queue_dashboard"):
        return True, ""
    reason = _refusal(job, user, access)
    return not reason, reason


def can_resume(job: CopyJob, user: AnyUser | None, access: ProfileAccess | None = None) -> tuple[bool, str]:
    reason = _undo_reason(job)
    if not reason and job.status not in (*CopyJob.ENDED, CopyJob.Status.WAITING):
        reason = "This job is still running."
    if not reason and not job.results.filter(status__in=RecordResult.UNFINISHED).exists():
        reason = "Nothing to resume: every record is done."
    reason = reason or _refusal(job, user, access)
    return not reason, reason


def can_resolve(job: CopyJob, user: AnyUser | None, access: ProfileAccess | None = None) -> tuple[bool, str]:
    """Picking the copy of a row in review (or none): as for resume, the job has stopped, nobody
    is undoing it and the user may still use its profile."""
    reason = _undo_reason(job)
    if not reason and job.status not in (*CopyJob.ENDED, CopyJob.Status.WAITING):
        reason = "This job is still running; pick the copy once it has stopped."
    reason = reason or _refusal(job, user, access)
    return not reason, reason


def can_fix(job: CopyJob, user: AnyUser | None, access: ProfileAccess | None = None) -> tuple[bool, str]:
    """Correcting failed rows before a resume: as for resume (stopped, nobody undoing it, the
    profile still usable), on a copy (an undo's rows are copies to delete, nothing to edit)
    that has failed or skipped rows."""
    reason = "An undo's records can't be edited." if job.mode == CopyJob.Mode.UNDO else _undo_reason(job)
    if not reason and job.status not in (*CopyJob.ENDED, CopyJob.Status.WAITING):
        reason = "This job is still running; fix its failed records once it has stopped."
    fixable = (RecordResult.Status.FAILED, RecordResult.Status.SKIPPED)
    if not reason and not job.results.filter(status__in=fixable).exists():
        reason = "No record failed: nothing to fix."
    reason = reason or _refusal(job, user, access)
    return not reason, reason


def can_undo(job: CopyJob, user: AnyUser | None, access: ProfileAccess | None = None) -> tuple[bool, str]:
    reason = "An undo can't be undone." if job.mode == CopyJob.Mode.UNDO else _undo_reason(job)
    if not reason and job.status not in CopyJob.ENDED:
        reason = "Only a finished job can be undone."
    # Updated records count: an undo may write their previous values back (--restore-updated).
    undoable = job.results.filter(status=RecordResult.Status.SUCCEEDED, action__in=RecordResult.UNDOABLE)
    # So do files it added to records it skipped or updated (copying/file_copy.py undo_files).
    added_files = FileResult.objects.filter(job=job, status=FileResult.Status.SUCCEEDED)
    if not reason and not undoable.exclude(new_id="").exists() and not added_files.exists():
        reason = "This job created nothing to undo."
    reason = reason or _refusal(job, user, access)
    return not reason, reason


def can_approve(job: CopyJob, user: AnyUser | None, access: ProfileAccess | None = None) -> tuple[bool, str]:
    """Approving a copy into a protected profile: not by its requester (records/copying/approval.py).
    `access` (the other rules' shape) is not asked: an approver needs only the profile written into."""
    reason = _decision_reason(job, user)
    if not reason and user is not None and user.pk == job.requested_by_id:
        reason = "Someone other than the requester must approve this copy."
    return not reason, reason


def can_reject(job: CopyJob, user: AnyUser | None, access: ProfileAccess | None = None) -> tuple[bool, str]:
    reason = _decision_reason(job, user)
    return not reason, reason


def _decision_reason(job: CopyJob, user: AnyUser | None) -> str:
    """Why `user` may not decide this request ("" when they may): it awaits approval, has not
    expired, the user holds records.approve_copy and may use the profile written into."""
    if job.status != CopyJob.Status.AWAITING_APPROVAL:
        return "This job is not awaiting approval."
    if job.approval_expired:
        return "This request expired: ask for the copy again."
    if user is None or not user.is_active or not user.has_perm("records.approve_copy"):
        return "You may not approve copies into protected profiles."
    if not ConnectionProfile.objects.for_user(user).filter(pk=job.write_profile.pk).exists():
        return f"You have no access to {job.write_profile.name}, the profile this copy writes into."
    return ""


def _undo_reason(job: CopyJob) -> str:
    if job.status == CopyJob.Status.REJECTED:
        return "This copy was not approved (rejected or expired): nothing was written."
    if job.status == CopyJob.Status.AWAITING_APPROVAL:
        return "This copy awaits approval: nothing is written yet."
    if job.status == CopyJob.Status.UNDONE:
        return f"Undone by job {job.undo_job_id}."
    if job.undo_job_id:
        return f"Job {job.undo_job_id} is undoing this copy; resume that job if it stopped."
    return ""
