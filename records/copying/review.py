"""Rows that need review: a lost answer that more than one record could be the copy of
(reconcile.py). Nothing claims or resends them; a person picks the copy, or says it is none of them,
from the job page or `job resolve`. Keyword-only, shared by the views and the command."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from records.connectors import connector_for
from records.copying import lifecycle
from records.copying.job_rules import can_resolve
from records.copying.known import known_ids
from records.lib.audit import audit_log
from records.models import AnyUser, CopyJob, RecordResult

S = RecordResult.Status
Status = CopyJob.Status
NONE_OF_THEM = "NOT_COPIED"


def copy_row_resolve(*, job: CopyJob, row: RecordResult, pick: str | None, user: AnyUser) -> RecordResult:
    """`pick` (one of the row's candidates' ids): the row succeeds with that copy. None ("none of
    them"): the row fails, so a resume sends it again. Audited; the job's counters and status follow."""
    with transaction.atomic():
        # The job row locked: two picks racing for the same candidate (two rows, two tabs) can't both win.
        job = CopyJob.objects.select_for_update().select_related("profile").get(pk=job.pk)
        allowed, reason = can_resolve(job, user)
        if not allowed:
            raise ValidationError(reason)
        row = _review_row(job, row.pk)
        candidates = {str(c.get("id")): c for c in row.candidates or [] if isinstance(c, dict)}
        if pick is None:
            _none_of_them(row, user)
        else:
            pick = str(pick).strip()
            if pick not in candidates:
                raise ValidationError(f"{pick} is not one of this record's candidates ({', '.join(candidates)}).")
            if known_ids([pick], org=job.write_profile.pk, except_rows=[row.pk]):
                raise ValidationError(f"{pick} is already known as a source record or as another record's copy.")
            _picked(job, row, candidates[pick])
        audit_log(
            actor=user,
            action="job.resolve",
            profile=job.profile,
            job=job,
            row=row.pk,
            object_name=row.object_name,
            source_id=row.source_id,
            pick=pick,
            candidates=list(candidates),
        )
        _recount(job)
    return row


def _review_row(job: CopyJob, pk: int) -> RecordResult:
    row = RecordResult.objects.defer("source_snapshot").filter(job=job, pk=pk).first()
    if row is None:
        raise ValidationError("This job has no such record.")
    if row.status != S.REVIEW:
        raise ValidationError(f"This record does not need review (it is {row.get_status_display().lower()}).")
    return row


def _picked(job: CopyJob, row: RecordResult, candidate: dict[str, Any]) -> None:
    new_id = str(candidate["id"])
    link = str(candidate.get("link") or "")
    if not link:
        link = connector_for(job.write_profile).record_url(row.object_name, new_id)  # where the copy was made
    # The copy's last write by the job is its creation (its own stamp when the candidate had one):
    # undo keeps it if it was changed after that.
    written = _parse(candidate.get("created")) or row.sending_at or timezone.now()
    updated = RecordResult.objects.filter(pk=row.pk, status=S.REVIEW).update(
        status=S.SUCCEEDED, new_id=new_id, link=link[:500], error_type="", error_message="", written_at=written
    )
    if updated != 1:
        raise ValidationError("This record was resolved already.")
    row.status, row.new_id, row.link = S.SUCCEEDED, new_id, link
    roots = (job.state or {}).get("roots")
    if row.depth == 0 and isinstance(roots, dict) and row.source_id in roots:
        # Vault's own deep copy: a resume finds the rest of the tree under the copy picked.
        roots[row.source_id] = {"phase": "discover", "new_id": new_id}
        CopyJob.objects.filter(pk=job.pk).update(state=job.state)


def _none_of_them(row: RecordResult, user: AnyUser) -> None:
    message = (
        f"{getattr(user, 'username', '') or 'A person'} said none of the records found is its copy: "
        "the write did not happen. Resume sends it again."
    )
    updated = RecordResult.objects.filter(pk=row.pk, status=S.REVIEW).update(
        status=S.FAILED, error_type=NONE_OF_THEM, error_message=message
    )
    if updated != 1:
        raise ValidationError("This record was resolved already.")
    row.status, row.error_type, row.error_message = S.FAILED, NONE_OF_THEM, message


def _recount(job: CopyJob) -> None:
    """The counters again, and an ended job's status and summary as its run's end would set them."""
    before_summary = job.error_summary
    had_review = job.results.filter(status=S.REVIEW).count() + 1  # the row just resolved
    lifecycle.refresh_counts(job)
    if job.status not in (Status.SUCCEEDED, Status.PARTIAL, Status.FAILED):
        return  # cancelled stays cancelled; a waiting job ends by its run
    left = job.results.filter(status__in=[S.PENDING, S.SENDING]).exists()
    review = job.results.filter(status=S.REVIEW).count()
    generated = before_summary in ("", lifecycle.end_summary(left=left, review=had_review))
    summary = lifecycle.end_summary(left=left, review=review) if generated else before_summary
    if job.failed_count or left or review or not generated:
        status = Status.PARTIAL if job.succeeded_count or review else Status.FAILED
    else:
        status = Status.SUCCEEDED
    CopyJob.objects.filter(pk=job.pk, status=job.status).update(status=status, error_summary=summary)
    job.status, job.error_summary = status, summary


def _parse(value: object) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def review_rows(job: CopyJob, limit: int = 50) -> list[RecordResult]:
    """The job's rows that need review, for its page (at most `limit`)."""
    # "job" too: read through the job's related manager, each row gets that job set, which reads
    # the row's job id (deferred, a query a row).
    fields = ("id", "job", "object_name", "source_id", "source_name", "candidates", "error_message", "status")
    return list(job.results.filter(status=S.REVIEW).only(*fields).order_by("id")[:limit])
