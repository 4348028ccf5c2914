"""What a job's status says, in words: honest words for the job page, the CLI and the approval
box; never "Failed" for a job that copied records."""

from __future__ import annotations

import re

from records.lib.words import clock, count
from records.models import CopyJob, RecordResult

# An undo's kept records as its end writes them in its summary (job_actions' finish).
KEPT_WORDS = re.compile(r"\b\d+ kept: [^.]*")


def status_words(job: CopyJob, *, review: int | None = None) -> str:
    """`review`: the job's rows in review when already counted (the job page has them), else
    counted here."""
    if job.status == CopyJob.Status.UNDONE:
        return f"Undone by job {job.undo_job_id}"
    if job.status in (CopyJob.Status.AWAITING_APPROVAL, CopyJob.Status.REJECTED):
        return _decision_words(job)
    return _progress_words(job, review_count(job) if review is None else review)


def _progress_words(job: CopyJob, review: int) -> str:
    n = count
    done, failed = job.succeeded_count, job.failed_count
    left = max(0, job.planned_count - done - failed - review)
    verb = "deleted" if job.mode == CopyJob.Mode.UNDO else "copied"
    in_review = f", {_review_words(review)}" if review else ""
    if job.status == CopyJob.Status.WAITING:
        at = clock(job.resume_at) if job.resume_at else "soon"
        return f"Waiting after a rate limit or outage (resumes at {at}): {n(done)} {verb}, {n(left + failed)} not yet"
    if job.status in (CopyJob.Status.PARTIAL, CopyJob.Status.FAILED) and job.error_summary.startswith(CopyJob.OUTAGE):
        return f"{CopyJob.OUTAGE}: {n(done)} {verb}, {n(left + failed)} not yet — Resume"
    if job.status == CopyJob.Status.CANCELLED:
        return f"Cancelled: {n(done)} of {n(done + failed + review + left)} {verb}{in_review}"
    kept = _kept(job)
    if job.status == CopyJob.Status.PARTIAL and kept:
        # An undo that kept records: "Partly done: 5 deleted, 1 kept: changed since the copy".
        failed_words = f", {n(failed)} failed" if failed else ""
        return f"Partly done: {n(done)} deleted{failed_words}, {kept}" if done or failed else f"Nothing deleted: {kept}"
    if job.status == CopyJob.Status.PARTIAL:
        return f"Partly done: {n(done)} {verb}, {n(failed)} failed{in_review}" + (
            f", {n(left)} not yet" if left else ""
        )
    if job.status == CopyJob.Status.SUCCEEDED:
        return f"Succeeded: {n(done)} {verb}"
    if job.status == CopyJob.Status.FAILED:
        return f"Failed: nothing {verb}" + (f", {n(failed)} failed" if failed else "") + in_review
    return job.get_status_display()


def _decision_words(job: CopyJob) -> str:
    """ "Awaiting approval (into Zoho Training)", "Rejected by dora: reason", "Expired: ..."."""
    if job.approval_expired:  # not ended yet by the maintenance loop, but no one may approve it
        return f"{CopyJob.EXPIRED_NOTE}: ask for the copy again"
    if job.status == CopyJob.Status.AWAITING_APPROVAL:
        return f"Awaiting approval: nothing is written into {job.write_profile.name} until it is approved"
    if job.decided_by_id is None:
        return job.decision_note or CopyJob.EXPIRED_NOTE
    who = job.decided_by.get_username() if job.decided_by else "an approver"
    return f"Rejected by {who}" + (f": {job.decision_note}" if job.decision_note else "")


def review_count(job: CopyJob) -> int:
    """Rows of an ended job that need review (no query when every row is copied or failed:
    the job list's other jobs cost none)."""
    if job.status not in CopyJob.ENDED or job.planned_count <= job.succeeded_count + job.failed_count:
        return 0
    return RecordResult.objects.filter(job_id=job.pk, status=RecordResult.Status.REVIEW).count()


def _kept(job: CopyJob) -> str:
    """An undo's kept records as its end wrote them in its summary."""
    found = KEPT_WORDS.search(job.error_summary or "") if job.mode == CopyJob.Mode.UNDO else None
    return found.group(0) if found else ""


def _review_words(n: int) -> str:
    return f"{count(n)} need{'s' if n == 1 else ''} review" if n else ""
