"""What happens to a copy job after it is made: its run (what the RQ worker and `copy --sync`
run), and the actions on it: cancel, resume, undo (and its preview), resume the stale ones.
Keyword-only, shared by the views, the admin, the `job` command and the worker."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from records.connectors import connector_class, connector_for
from records.connectors.base import Connector
from records.connectors.errors import ConnectorError, RateLimited, Unavailable
from records.copying import lifecycle, tally, tree, undo_checks
from records.copying import results as res
from records.copying.approval import approvals_expire
from records.copying.field_labels import plan_field_labels
from records.copying.file_copy import FileCopy
from records.copying.gc_pauses import fewer_pauses
from records.copying.job_queue import enqueue_job, rq_job_alive
from records.copying.job_rules import can_cancel, can_resume, can_undo
from records.copying.lifecycle import Cancelled, LeaseLost, Paused
from records.copying.run_context import RunContext
from records.copying.strategies import strategy_for
from records.copying.undo_preview import UndoPreview
from records.copying.undo_preview import preview as undo_preview_of
from records.lib.audit import audit_log
from records.models import CopyJob, FileResult, RecordResult
from records.notify import events as notify

log = logging.getLogger(__name__)
S = RecordResult.Status
# What an undo's row for a created record does not take from that record's row.
UNDO_ROW_SKIPS = ("source_snapshot", "candidates", "fixes", "previous", "error_message")
UNDO_ROWS_PIECE = 2_000
# The columns of a row the job wrote that its undo row is made from (_undo_columns, in this order).
UNDO_ROW_READS = ("object_name", "new_id", "depth", "source_id", "source_name", "values")


# ---------------------------------------------------------------------------------------------
# The run


def _claim(job_id: int, worker_id: str) -> bool:
    """The claim alone (tests, tools); copy_job_run keeps the fence it gives."""
    return lifecycle.claim(job_id=job_id, worker_id=worker_id) is not None


def copy_job_run(
    *, job_id: int, worker_id: str, connector: Connector | None = None, source_connector: Connector | None = None
) -> CopyJob:
    """Run a job to its end (what the RQ worker and `copy --sync` run). A second worker stops at once.
    `connector`: the one that writes (a copy into another profile: the target's); `source_connector`:
    the one that reads the source of a copy between profiles (both built from the job when not given)."""
    fence = lifecycle.claim(job_id=job_id, worker_id=worker_id)
    if fence is None:
        job = CopyJob.objects.get(pk=job_id)
        if job.cancel_requested and job.status == CopyJob.Status.QUEUED:
            lifecycle.cancel(job_id=job_id)
        log.info("Job %s not claimed by %s (status %s)", job_id, worker_id, job.status)
        return CopyJob.objects.get(pk=job_id)
    job = CopyJob.objects.select_related("profile", "target_profile", "parent_job").get(pk=job_id)
    token = lifecycle.current_fence.set(fence)
    try:
        with lifecycle.Heartbeat(fence), fewer_pauses():
            _run_fenced(job, fence, connector, source_connector)
    except LeaseLost:
        log.warning("Job %s: lease lost by %s; another worker has it", job_id, worker_id)
    finally:
        # The run's progress tally (set at its first beat) ends with the run: a worker's next job
        # in this thread starts with none, and the statuses of every row it holds are let go.
        tally.current_tally.set(None)
        lifecycle.current_fence.reset(token)
    return CopyJob.objects.get(pk=job_id)


def _context(job: CopyJob, fence: lifecycle.Fence, connector: Connector | None, source: Connector | None) -> RunContext:
    """The run's context: `connector` writes (into the target profile of a copy between profiles),
    `source` reads (the job's own profile; the same connector within one profile)."""
    writer = connector or connector_for(job.write_profile)
    reader = source or (connector_for(job.profile) if job.target_profile_id else None)
    return RunContext.for_job(job, writer, fence, reader)


def _run_fenced(
    job: CopyJob, fence: lifecycle.Fence, connector: Connector | None, source_connector: Connector | None = None
) -> None:
    moved = lifecycle.moved_words(job)
    if moved:
        _finish(job, fence, error=moved)
        return
    context: RunContext | None = None
    try:
        context = _context(job, fence, connector, source_connector)
        strategy_for(context).run()
        if context.options.files and job.mode != CopyJob.Mode.UNDO:
            FileCopy(context).run()  # each record's files, once the records exist
    except Cancelled:
        _finish(job, fence, cancelled=True)
    except Paused as exc:
        _wait(job, fence, exc.cause, context)
    except (RateLimited, Unavailable) as exc:
        # A read (describe, a search, a poll) in an outage: wait like a write does, don't fail.
        _wait(job, fence, exc, context)
    except LeaseLost:
        raise
    except Exception as exc:
        # Never leave a job silently running: it ends, with a summary and no secrets.
        log.exception("Job %s failed", job.pk)
        summary = str(exc) if isinstance(exc, ConnectorError) else f"{type(exc).__name__}: {exc}"
        _finish(job, fence, error=summary[:1000])
    else:
        _finish(job, fence)


def _wait(job: CopyJob, fence: lifecycle.Fence, cause: ConnectorError, context: RunContext | None) -> None:
    if context is not None:
        context.save_state()  # the budget as the last answer left it: the page says until when
    reason = f"{cause.message or cause}" if isinstance(cause, ConnectorError) else str(cause)
    # Woken when resume_at has passed by jobs_resume_stale, which every worker runs between jobs
    # (records/worker.py).
    if lifecycle.wait_or_stop(fence=fence, reason=reason) != CopyJob.Status.WAITING:
        notify.job_ended(job=job)  # the wait budget was spent: it stopped


def _finish(job: CopyJob, fence: lifecycle.Fence, *, cancelled: bool = False, error: str = "") -> None:
    with transaction.atomic():
        lifecycle.check(fence)
        # A cancel that comes when nothing is left to send skips nothing: the job simply ends.
        cancelled = cancelled and job.results.filter(status=S.PENDING).update(status=S.SKIPPED) > 0
        # A copied record's snapshot is no longer needed (a retry resends only the others): don't
        # keep a second copy of CRM data, often personal data, longer than the job needs it.
        job.results.filter(status=S.SUCCEEDED, source_snapshot__isnull=False).update(source_snapshot=None)
        lifecycle.refresh_counts(job)
        status, error = (CopyJob.Status.CANCELLED, error) if cancelled else _end_status(job, error)
        ended = lifecycle.finish(fence=fence, status=status, error=error)
        if ended and job.mode == CopyJob.Mode.UNDO:
            # In the same transaction: a worker killed in between can't leave the copy "succeeded"
            # after its undo deleted everything.
            lifecycle.mark_undone(undo_id=job.pk, original_id=job.parent_job_id, status=status)
        if ended:
            notify.job_ended(job=job)  # queued when this commits


def _end_status(job: CopyJob, error: str) -> tuple[str, str]:
    """The status a job that was not cancelled ends in, and its summary."""
    left = job.results.filter(status__in=[S.PENDING, S.SENDING]).exists()
    review = job.results.filter(status=S.REVIEW).count()
    # An undo that kept records ("2 kept: changed since the copy") did not undo the copy.
    kept = undo_checks.kept_words(job) if job.mode == CopyJob.Mode.UNDO else ""
    if not (job.failed_count or left or error or kept or review):
        return CopyJob.Status.SUCCEEDED, error
    # Never "failed" for a job that copied records, nor for one whose copy may exist but
    # needs review: it is partly done, and resumable or resolvable.
    status = CopyJob.Status.PARTIAL if job.succeeded_count or kept or review else CopyJob.Status.FAILED
    error = error or lifecycle.end_summary(left=left, review=review)
    return status, " ".join(part for part in (error, f"{kept}." if kept else "") if part)


# ---------------------------------------------------------------------------------------------
# Actions on jobs. Each checks the one rule (copying/job_rules.py), then makes its transition as a
# conditional UPDATE: a request on a stale object, or two racing requests, can't both pass.


def _allowed(rule: Callable[[CopyJob, Any], tuple[bool, str]], job: CopyJob, user: Any) -> None:
    allowed, reason = rule(CopyJob.objects.get(pk=job.pk), user)
    if not allowed:
        raise ValidationError(reason)


def copy_job_cancel(*, job: CopyJob, user: Any) -> CopyJob:
    """Stop a job: a queued or waiting one at once; a running one at its next batch. Results so far are kept."""
    _allowed(can_cancel, job, user)
    outcome = lifecycle.cancel(job_id=job.pk)
    if not outcome:
        raise ValidationError("This job has already finished.")
    audit_log(actor=user, action="job.cancel", profile=job.profile, job=job)
    if outcome == "cancelled":  # a running one ends (and notifies) at its next batch
        notify.job_ended(job=job)
    job.refresh_from_db()
    return job


def copy_job_resume(*, job: CopyJob, user: Any, enqueue: bool = True, include_changed: bool | None = None) -> CopyJob:
    """Resume a job: queue it again; only its unfinished records (pending, sending, failed,
    skipped) are sent again; a row left sending is reconciled first. An undo checks its kept
    records again; `include_changed` (undo only; None keeps its choice) deletes the changed ones too."""
    _allowed(can_resume, job, user)
    with transaction.atomic():
        if not lifecycle.requeue(job_id=job.pk):
            raise ValidationError(
                can_resume(CopyJob.objects.get(pk=job.pk), user)[1] or "This job can't be resumed now."
            )
        job.refresh_from_db()
        if include_changed is not None and job.mode == CopyJob.Mode.UNDO:
            job.options = {**(job.options or {}), "include_changed": include_changed}
            CopyJob.objects.filter(pk=job.pk).update(options=job.options)
        job.results.filter(status__in=[S.FAILED, S.SKIPPED]).update(status=S.PENDING, error_type="", error_message="")
        job.state = _state_to_resume(job)
        CopyJob.objects.filter(pk=job.pk).update(state=job.state)
        lifecycle.refresh_counts(job)
        changed = (
            {} if include_changed is None or job.mode != CopyJob.Mode.UNDO else {"include_changed": include_changed}
        )
        # "job.resume": a person's (events stored before say "job.retry"); the worker's own is
        # "job.resume_stale".
        audit_log(actor=user, action="job.resume", profile=job.profile, job=job, **changed)
        if enqueue:
            enqueue_job(job)
    return job


def _state_to_resume(job: CopyJob) -> dict[str, Any]:
    """The job's state with the phases that must run again cleared."""
    # Finished native phases are kept; a root whose deep copy failed to start starts again.
    state = job.state or {}
    for root, st in state.get("roots", {}).items():
        top = job.results.filter(source_id=root, depth=0, new_id="").exclude(status=S.REVIEW)
        if st.get("phase") == "done" and top.exists():
            state["roots"][root] = {}
    # A Vault undo whose cascade delete ended with records left deletes again (chaos 1053/1091:
    # a resumed part-failed undo returned at once, its phase "done").
    for root, st in state.get("cascade", {}).items():
        if st.get("phase") == "done" and job.results.filter(status=S.PENDING).exists():
            state["cascade"][root] = {}
    return state


def copy_job_undo(
    *, job: CopyJob, user: Any, enqueue: bool = True, include_changed: bool = False, restore_updated: bool = False
) -> CopyJob:
    """Create the one job that deletes what `job` created (children first), with its own results.
    It deletes only what the job created and nobody changed since (copying/undo_checks.py), never a
    record the job found in the target and skipped or updated; `include_changed`: records changed
    since the copy are deleted too (kept in the undo's options, so a resumed undo keeps the choice);
    `restore_updated`: the records the job updated get their previous values back (undo_restore.py)."""
    _allowed(can_undo, job, user)
    done = job.results.filter(status=S.SUCCEEDED).exclude(new_id="").order_by("depth", "id")
    # The created rows are read a piece at a time and without what an undo row doesn't take (the
    # source's snapshot is most of a row): the undo of a 100,000-record copy holds one piece.
    created = done.filter(action=RecordResult.Action.CREATE).defer(*UNDO_ROW_SKIPS)
    updated = list(done.filter(action=RecordResult.Action.UPDATE)) if restore_updated else []
    # Files added to records it skipped or updated are undone alone (file_copy.undo_files).
    files = job.files.filter(status=FileResult.Status.SUCCEEDED).exists()
    if not created.exists() and not updated and not files:
        raise ValidationError(_nothing_to_undo(job))
    # The class attribute (no connector built, no call); a registry entry without one names nothing.
    name_fields = getattr(connector_class(job.profile.system), "name_fields", ())
    options = {k: True for k, v in (("include_changed", include_changed), ("restore_updated", restore_updated)) if v}
    with transaction.atomic():
        undo = _undo_job_row(job, created, name_fields, user, options)
        if not lifecycle.attach_undo(job_id=job.pk, undo_id=undo.pk):
            raise ValidationError(can_undo(CopyJob.objects.get(pk=job.pk), user)[1] or "This job can't be undone now.")
        _add_undo_rows(undo, created, name_fields)
        RecordResult.objects.bulk_create(_restore_rows(undo, updated, name_fields), batch_size=500)
        lifecycle.refresh_counts(undo)
        audit_log(
            actor=user,
            action="job.undo",
            profile=job.profile,
            job=undo,
            original=job.pk,
            include_changed=include_changed,
            restore_updated=restore_updated,
        )
        if enqueue:
            enqueue_job(undo)
    return undo


def _nothing_to_undo(job: CopyJob) -> str:
    updated = job.results.filter(status=S.SUCCEEDED, action=RecordResult.Action.UPDATE).count()
    if updated:
        return f"This job created nothing to undo; --restore-updated writes back the values of the {updated} record(s) it updated."
    return "This job created nothing to undo."


def _undo_job_row(
    job: CopyJob, created: QuerySet[RecordResult], name_fields: tuple[str, ...], user: Any, options: dict[str, Any]
) -> CopyJob:
    tops = list(created.filter(depth=0))
    top = tops[0] if tops else None
    state = {"profile_address": (job.state or {}).get("profile_address") or lifecycle.profile_address(job.profile)}
    if job.target_profile is not None:
        # The copies are in the target profile: the undo works there, wherever it points now.
        state["target_address"] = (job.state or {}).get("target_address") or lifecycle.profile_address(
            job.target_profile
        )
    return CopyJob.objects.create(
        profile=job.profile,
        target_profile=job.target_profile,
        object_name=job.object_name,
        mode=CopyJob.Mode.UNDO,
        parent_job=job,
        source_ids=[r.new_id for r in tops],
        source_name=undo_checks.copy_name(top, name_fields, job) if top else "",  # for the job's title
        requested_by=user,
        options=options,
        # The copies are where the copy job wrote them, wherever the profile points now.
        state=state,
        # The objects' labels as the copy's plan named them (the title, the per-object table).
        plan={
            "deletes": created.count(),
            "objects": _labels_only((job.plan or {}).get("objects")),
            # The fields' labels too: the rows of records it writes back say "Price = 99.5".
            "field_labels": plan_field_labels(job.plan),
        },
    )


def _add_undo_rows(undo: CopyJob, created: QuerySet[RecordResult], name_fields: tuple[str, ...]) -> None:
    """One row per copy the job created (the undo's "source" is the copy), written a piece at a
    time from the copies' columns alone: no model instance read or made (at 100,000 copies the
    instances and bulk_create's per-field work were ~175 µs a row, most of the Undo button's time)."""
    piece = res.MadeAhead()
    for columns in created.values_list(*UNDO_ROW_READS).iterator(chunk_size=UNDO_ROWS_PIECE):
        piece.add(_undo_columns(undo, name_fields, *columns))
        if len(piece.params) == UNDO_ROWS_PIECE:
            piece.insert(job_id=undo.pk)
            piece = res.MadeAhead()
    piece.insert(job_id=undo.pk)


def _undo_row(undo: CopyJob, r: RecordResult, name_fields: tuple[str, ...], **extra: Any) -> RecordResult:
    """The undo's row for one record the job wrote, as an instance (`extra`: more of its columns)."""
    columns = _undo_columns(undo, name_fields, *(getattr(r, name) for name in UNDO_ROW_READS))
    return RecordResult(job=undo, **columns, **extra)


def _undo_columns(
    undo: CopyJob,
    name_fields: tuple[str, ...],
    object_name: str,
    new_id: str,
    depth: int,
    source_id: str,
    source_name: str,
    values: dict[str, Any] | None,
) -> dict[str, Any]:
    """The undo's row for one record the job wrote (its columns UNDO_ROW_READS): its "source" is
    that record (the copy), named as the copy job named it."""
    return {
        "object_name": object_name,
        "source_id": new_id,
        "depth": depth,
        "parent_source_id": source_id,
        "source_name": undo_checks.name_given(values, depth, source_name, name_fields, undo.parent_job),
        "idempotency_key": tree.idempotency_key(undo.code, object_name, new_id),
    }


def _restore_rows(undo: CopyJob, updated: list[RecordResult], name_fields: tuple[str, ...]) -> list[RecordResult]:
    """One row per record the job updated (action update): its previous values, and the values the
    update wrote (a field changed again since keeps its new value)."""
    return [
        _undo_row(undo, r, name_fields, action=RecordResult.Action.UPDATE, previous=r.previous, values=r.values or {})
        for r in updated
        if r.previous
    ]


def undo_preview(
    *, job: CopyJob, user: Any, connector: Connector | None = None, limit: int | None = None
) -> UndoPreview:
    """What an undo of `job` would delete and keep, and why, read now for the first
    settings.UNDO_PREVIEW_MAX_RECORDS copies (the worker checks every record again)."""
    _allowed(can_undo, job, user)
    conn = connector or connector_for(job.write_profile)  # the copies are where the job wrote them
    size = settings.UNDO_PREVIEW_MAX_RECORDS if limit is None else limit
    return undo_preview_of(conn, job, limit=size, name_fields=conn.name_fields)


def _labels_only(objects: Any) -> list[dict[str, Any]]:
    keep = ("object_name", "label", "depth")
    return [{k: o.get(k) for k in keep} for o in objects or [] if isinstance(o, dict) and o.get("object_name")]


def jobs_resume_stale(*, now: datetime | None = None) -> list[CopyJob]:
    """Re-queue jobs whose worker died (lease expired), whose wait is over, or whose RQ job
    vanished from Redis (or never reached it: the queue was down at submit); end the requests
    for approval left past their expiry."""
    now = now or timezone.now()
    approvals_expire(now=now)
    due = CopyJob.objects.filter(
        Q(status=CopyJob.Status.RUNNING, lease_expires_at__lt=now)
        | Q(status=CopyJob.Status.WAITING, resume_at__lte=now)
    )
    resumed = [job for job in due if lifecycle.release_expired(job_id=job.pk, now=now)]
    grace = now - timedelta(seconds=settings.JOB_LEASE_SECONDS)
    for job in CopyJob.objects.filter(status=CopyJob.Status.QUEUED, created__lt=grace):
        if job not in resumed and not rq_job_alive(job.rq_job_id):
            resumed.append(job)
    for job in resumed:
        with transaction.atomic():
            enqueue_job(job)
        audit_log(actor=None, action="job.resume_stale", profile=job.profile, job=job)
    return [CopyJob.objects.get(pk=j.pk) for j in resumed]
