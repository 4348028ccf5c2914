"""A copy job's life: its states, every transition, and its counters. (The rules for the user's
actions and the words for its status are in job_rules.py and job_words.py.)

    queued ──claim──> running ──finish──> succeeded | partial | failed | cancelled
      ^  ^              │  ^                  │
      │  └──release─────┤  └──claim (due)──┐  ├──resume────────> queued
      │   (lease ran    │                  │  └──undo succeeded─> undone
      │    out)         └──wait──> waiting ┘
      └──────────────────────────── (resume_at passed; or budget spent: finish)
    awaiting_approval ──approve──> queued;  ──reject, or left past its expiry──> rejected
    (a copy into a protected profile; records/copying/approval.py)
    planning: in the enum only; a preview's plan is read on the worker as a CopyPlan row instead
    (records/copying/stored_plans.py): a preview is not a job and must not show in the job list.

Each transition is ONE conditional UPDATE (compare-and-set on the state and, for a worker, on the
lease generation it was given), never a read-then-write on a loaded object: two requests or two
workers racing each other can't both win.

Fencing: `claim` increments `lease_generation` and hands the worker a `Fence`. Every result-row
write (results._write) and every state change the worker makes is conditional on that number; a
worker whose generation is stale gets LeaseLost before its next remote write (rows are marked
SENDING, a fenced write, before each call), and none of its row writes land.
"""

from __future__ import annotations

import contextvars
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Count, DateTimeField, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from records.connectors.errors import ConnectorError
from records.models import ConnectionProfile, CopyJob, RecordResult

Status = CopyJob.Status
S = RecordResult.Status
ACTIVE = CopyJob.ACTIVE
ENDED = CopyJob.ENDED
UNFINISHED_ROWS = RecordResult.UNFINISHED  # what a resume sends again
OUTAGE = CopyJob.OUTAGE
EXPIRED_NOTE = CopyJob.EXPIRED_NOTE


class LeaseLost(Exception):
    """Another worker owns this job now (its generation is newer): stop without touching it."""


class Cancelled(Exception):
    """The user asked the running job to stop: it ends at the next batch, the rest skipped."""


class Paused(Exception):
    """A rate limit or an outage outlasted the connector's retries: nothing of the batch was
    applied (the rows are pending again); the job waits and resumes (wait_or_stop)."""

    def __init__(self, cause: ConnectorError) -> None:
        super().__init__(str(cause))
        self.cause = cause


@dataclass(frozen=True)
class Fence:
    job_id: int
    worker_id: str
    generation: int


# The fence of the run in progress in this thread; results._write checks it on every row write.
current_fence: contextvars.ContextVar[Fence | None] = contextvars.ContextVar("current_fence", default=None)


def _lease(seconds: float | None = None) -> datetime:
    return timezone.now() + timedelta(seconds=settings.JOB_LEASE_SECONDS if seconds is None else seconds)


# -- a worker's transitions (fenced) ---------------------------------------------------------------


def claim(*, job_id: int, worker_id: str, lease_seconds: float | None = None) -> Fence | None:
    """queued, running with an expired lease (its worker died), or waiting and due -> running."""
    now = timezone.now()
    claimable = (
        Q(status=Status.QUEUED)
        | Q(status=Status.RUNNING, lease_expires_at__lt=now)
        | Q(status=Status.WAITING, resume_at__lte=now)
    )
    with transaction.atomic():
        updated = CopyJob.objects.filter(claimable, pk=job_id, cancel_requested=False).update(
            status=Status.RUNNING,
            lease_owner=worker_id,
            lease_expires_at=_lease(lease_seconds),
            lease_generation=F("lease_generation") + 1,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
            started=Coalesce(F("started"), Value(now), output_field=DateTimeField()),
            finished=None,
            resume_at=None,
        )
        if updated != 1:
            return None
        generation = CopyJob.objects.filter(pk=job_id).values_list("lease_generation", flat=True).get()
    return Fence(job_id, worker_id, generation)


def _mine(fence: Fence) -> QuerySet[CopyJob]:
    return CopyJob.objects.filter(pk=fence.job_id, lease_generation=fence.generation, status=Status.RUNNING)


def renew(fence: Fence, lease_seconds: float | None = None) -> bool:
    now = timezone.now()
    return _mine(fence).update(lease_expires_at=_lease(lease_seconds), heartbeat_at=now) == 1


def check(fence: Fence | None) -> None:
    """Inside a transaction: raise LeaseLost unless `fence` still holds the job (row-locked on
    PostgreSQL; SQLite's IMMEDIATE transactions hold the write lock already)."""
    if fence is not None and not _mine(fence).select_for_update().exists():
        raise LeaseLost


def finish(*, fence: Fence, status: str, error: str = "") -> bool:
    """running -> an end state, for the worker that still holds the lease."""
    return (
        _mine(fence).update(
            status=status,
            finished=timezone.now(),
            lease_expires_at=None,
            lease_owner="",
            error_summary=error,
            cancel_requested=False,
            resume_at=None,
            waiting_since=None,
            wait_count=0,
        )
        == 1
    )


def refresh_counts(job: CopyJob) -> None:
    """Recompute the job's counters from its results, so progress is readable while it runs."""
    agg = job.results.aggregate(
        total=Count("id"),
        ok=Count("id", filter=Q(status=S.SUCCEEDED)),
        bad=Count("id", filter=Q(status=S.FAILED)),
    )
    job.planned_count, job.succeeded_count, job.failed_count = agg["total"], agg["ok"], agg["bad"]
    CopyJob.objects.filter(pk=job.pk).update(
        planned_count=agg["total"], succeeded_count=agg["ok"], failed_count=agg["bad"]
    )


def wait_or_stop(*, fence: Fence, reason: str) -> str:
    """running -> waiting (a rate limit or an outage), with exponential backoff until the budget
    (settings.JOB_WAIT_BUDGET_SECONDS) is spent; then the job stops, resumable. Returns the status."""
    now = timezone.now()
    job = CopyJob.objects.only("waiting_since", "wait_count", "succeeded_count").get(pk=fence.job_id)
    refresh_counts(job)
    since = job.waiting_since or now
    if (now - since).total_seconds() >= settings.JOB_WAIT_BUDGET_SECONDS:
        status = Status.PARTIAL if job.succeeded_count else Status.FAILED
        finish(fence=fence, status=status, error=f"{OUTAGE}: {reason}"[:1000])
        return status
    delay = min(settings.JOB_WAIT_FIRST_SECONDS * 2**job.wait_count, settings.JOB_WAIT_MAX_SECONDS)
    _mine(fence).update(
        status=Status.WAITING,
        resume_at=now + timedelta(seconds=delay),
        waiting_since=since,
        wait_count=F("wait_count") + 1,
        lease_owner="",
        lease_expires_at=None,
        error_summary=reason[:1000],
    )
    return Status.WAITING


class Heartbeat:
    """Renews the lease every third of it while the run is in a call, a slot wait or a reconcile,
    so a healthy worker never loses its job to a slow remote system. Threads only outside a
    transaction (tests wrap each test in one that another connection can't see)."""

    def __init__(self, fence: Fence) -> None:
        self.fence = fence
        self._stop = threading.Event()
        self._thread = None if connection.in_atomic_block else threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Heartbeat:
        if self._thread:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(10)

    def _run(self) -> None:
        try:
            while not self._stop.wait(max(0.2, settings.JOB_LEASE_SECONDS / 3)):
                if not renew(self.fence):
                    return  # taken over or ended: the fenced writes stop the run
        finally:
            close_old_connections()
            connection.close()


# -- transitions the user's actions (and resume-stale) make ------------------------------------------


def cancel(*, job_id: int) -> str:
    """queued, waiting or awaiting approval -> cancelled at once; running -> asked to stop at its next batch."""
    now = timezone.now()
    with transaction.atomic():
        idle = (Status.QUEUED, Status.WAITING, Status.AWAITING_APPROVAL)
        if CopyJob.objects.filter(pk=job_id, status__in=idle).update(
            status=Status.CANCELLED, finished=now, resume_at=None, lease_generation=F("lease_generation") + 1
        ):
            skipped = RecordResult.objects.filter(job_id=job_id, status=S.PENDING).update(status=S.SKIPPED)
            if not skipped:
                _end_as_done(job_id)
            return "cancelled"
    if CopyJob.objects.filter(pk=job_id, status__in=(Status.RUNNING, Status.PLANNING)).update(cancel_requested=True):
        return "requested"
    return ""


# -- a copy into a protected profile: awaiting approval -> queued | rejected (records/copying/approval.py)


def approve(*, job_id: int, user_id: int, now: datetime) -> bool:
    """awaiting_approval -> queued, with who decided and when."""
    return (
        CopyJob.objects.filter(pk=job_id, status=Status.AWAITING_APPROVAL).update(
            status=Status.QUEUED, decided_by_id=user_id, decided_at=now
        )
        == 1
    )


def reject(*, job_id: int, user_id: int | None, note: str, now: datetime) -> bool:
    """awaiting_approval -> rejected (ended: its rows skipped, nothing was written)."""
    with transaction.atomic():
        ended = CopyJob.objects.filter(pk=job_id, status=Status.AWAITING_APPROVAL).update(
            status=Status.REJECTED, decided_by_id=user_id, decided_at=now, decision_note=note, finished=now
        )
        if ended:
            RecordResult.objects.filter(job_id=job_id, status=S.PENDING).update(status=S.SKIPPED)
    return ended == 1


def expire(*, job_id: int, before: datetime, now: datetime) -> bool:
    """awaiting_approval since before `before` -> rejected with nobody deciding (the words say "Expired")."""
    with transaction.atomic():
        ended = CopyJob.objects.filter(pk=job_id, status=Status.AWAITING_APPROVAL, created__lt=before).update(
            status=Status.REJECTED, decided_by=None, decided_at=now, decision_note=EXPIRED_NOTE, finished=now
        )
        if ended:
            RecordResult.objects.filter(job_id=job_id, status=S.PENDING).update(status=S.SKIPPED)
    return ended == 1


def requeue(*, job_id: int) -> bool:
    """An ended (or waiting) job that nobody is undoing -> queued. The generation moves on, so a
    worker that still thinks it runs the job is fenced out."""
    return (
        CopyJob.objects.filter(pk=job_id, status__in=(*ENDED, Status.WAITING), undo_job__isnull=True).update(
            status=Status.QUEUED,
            cancel_requested=False,
            error_summary="",
            finished=None,
            resume_at=None,
            lease_owner="",
            lease_expires_at=None,
            lease_generation=F("lease_generation") + 1,
            waiting_since=None,
            wait_count=0,
        )
        == 1
    )


def release_expired(*, job_id: int, now: datetime) -> bool:
    """running with an expired lease (its worker died) -> queued; waiting and due -> queued."""
    return (
        CopyJob.objects.filter(
            Q(status=Status.RUNNING, lease_expires_at__lt=now) | Q(status=Status.WAITING, resume_at__lte=now),
            pk=job_id,
        ).update(
            status=Status.QUEUED, lease_owner="", lease_expires_at=None, lease_generation=F("lease_generation") + 1
        )
        == 1
    )


def attach_undo(*, job_id: int, undo_id: int) -> bool:
    """The one undo of an ended job: set once, so a second (or racing) undo request loses."""
    return CopyJob.objects.filter(pk=job_id, status__in=ENDED, undo_job__isnull=True).update(undo_job_id=undo_id) == 1


def _end_as_done(job_id: int) -> None:
    """A cancel that finds every record of the job copied (e.g. a job re-queued after its worker
    died between its last row and its end) ends the job as succeeded, as the run's end would have.
    Otherwise it would read "Cancelled" with every record copied and nothing left to resume. A job
    with any row not copied (failed, sending) or with no rows stays cancelled: that is resumable."""
    rows = RecordResult.objects.filter(job_id=job_id)
    if not rows.exists() or rows.exclude(status=S.SUCCEEDED).exists():
        return
    job = CopyJob.objects.only("mode", "parent_job_id").get(pk=job_id)
    CopyJob.objects.filter(pk=job_id, status=Status.CANCELLED).update(status=Status.SUCCEEDED)
    if job.mode == CopyJob.Mode.UNDO:
        mark_undone(undo_id=job_id, original_id=job.parent_job_id, status=Status.SUCCEEDED)


def mark_undone(*, undo_id: int, original_id: int | None, status: str) -> None:
    """The original -> undone once its undo job deleted every copy."""
    if original_id and status == Status.SUCCEEDED:
        CopyJob.objects.filter(pk=original_id, status__in=ENDED, undo_job_id=undo_id).update(status=Status.UNDONE)


# -- what an ended job's summary says ------------------------------------------------------------


def end_summary(*, left: bool, review: int) -> str:
    """Why an ended job is not simply done, for its error summary."""
    parts = []
    if review:
        parts.append(
            f"{review} record{'s' if review != 1 else ''} need{'s' if review == 1 else ''} review: the answer to "
            "the write was lost and more than one record could be the copy. Pick one (or none) on the job page."
        )
    if left:
        parts.append("Some records were not processed.")
    return " ".join(parts)


def profile_address(profile: ConnectionProfile) -> dict[str, str]:
    """Where a profile's records live: its system and addresses. A job stores it when it is made
    (an undo, its copy's), and runs only while its profile still points there."""
    return {"system": profile.system, "base_url": profile.base_url, "accounts_url": profile.accounts_url or ""}


def moved_words(job: CopyJob) -> str:
    """Why `job` must not run now, or "": its profile was pointed at another system after the job
    was made, so its records (read from, or copied into, the old one) belong elsewhere."""
    state = job.state or {}
    pairs = [(state.get("profile_address"), job.profile)]
    if job.target_profile is not None:  # a copy into another profile: its records are there too
        pairs.append((state.get("target_address"), job.target_profile))
    for stored, profile in pairs:
        if stored and stored != profile_address(profile):
            return (
                f"The profile {profile.name} now points at {profile.base_url}, not at {stored.get('base_url')}"
                " where this job's records are: nothing was sent. Point the profile back to resume it, or start"
                " a new copy."
            )
    return ""
