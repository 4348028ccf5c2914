"""A copy job's RQ side: queued when its transaction commits, and whether its RQ job is still alive
(jobs_resume_stale asks)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, timedelta

import django_rq
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from records.models import CopyJob

log = logging.getLogger(__name__)
# By name, not by import: records.jobs calls the services (no import circle); RQ stores this path.
RUN_COPY_JOB = "records.jobs.run_copy_job"


@dataclass
class Enqueued:
    """A job handed to the queue. `queue_down`: the queue was unreachable, so the job stays queued
    and jobs_resume_stale sends it once the queue is back (a Confirm never fails for it). Known
    when the transaction commits: at once in a view, which runs in autocommit."""

    job: CopyJob
    queue_down: bool = False


def copy_job_enqueue(*, job: CopyJob) -> Enqueued:
    """Queue a job its action made with `enqueue=False`, for a caller that tells whether the
    queue took it (the pages)."""
    return enqueue_job(job)


def enqueue_job(job: CopyJob) -> Enqueued:
    """Queue the RQ job when the transaction commits; its id is stored now, so a lost queue is
    detectable. A job awaiting approval stays off the queue: approving it queues it."""
    if job.status == CopyJob.Status.AWAITING_APPROVAL:
        return Enqueued(job)
    rq_id = f"copyjob-{job.pk}-{job.attempts}-{timezone.now().strftime('%H%M%S%f')}"
    CopyJob.objects.filter(pk=job.pk).update(rq_job_id=rq_id)
    job.rq_job_id = rq_id
    queued = Enqueued(job)
    transaction.on_commit(lambda: _send_to_queue(queued, rq_id))
    return queued


def _send_to_queue(queued: Enqueued, rq_id: str) -> None:
    try:
        django_rq.get_queue("default").enqueue_call(func=RUN_COPY_JOB, args=(queued.job.pk,), job_id=rq_id)
    except (RedisError, OSError) as exc:
        log.warning("Job %s stays queued: the queue is unreachable (%s)", queued.job.pk, exc)
        queued.queue_down = True


def rq_job_alive(rq_job_id: str) -> bool:
    """The RQ job is queued, or started less than a lease ago (asked only of a copy job still queued)."""
    if not rq_job_id:
        return False
    try:
        rq_job = Job.fetch(rq_job_id, connection=django_rq.get_connection("default"))
    except NoSuchJobError:
        return False
    status = rq_job.get_status(refresh=True)
    if status == JobStatus.STARTED:
        # Asked only about a job that is still queued (unclaimed): a live work horse claims within
        # moments, so one started longer than a lease ago died before its claim (SIGKILL; RQ
        # keeps it "started" until its timeout, hours). A late claim is still safe: claims are
        # compare-and-set, the second RQ job finds the copy job taken and does nothing.
        started = rq_job.started_at
        if started is not None and started.tzinfo is None:
            started = started.replace(tzinfo=UTC)
        # No start time at all: killed before RQ stored it; as dead.
        return started is not None and timezone.now() - started < timedelta(seconds=settings.JOB_LEASE_SECONDS)
    if status == JobStatus.QUEUED:
        # A worker moves the job from the queue to RQ's intermediate list, then starts it: one
        # killed in between leaves it "queued" outside the queue, where no worker takes it. Queued
        # means in the queue. A live worker's job is out of it for milliseconds before it starts;
        # should this look land there, the second RQ job finds the copy job claimed and does
        # nothing (claims are compare-and-set).
        return rq_job.get_position() is not None
    return status in (JobStatus.DEFERRED, JobStatus.SCHEDULED)
