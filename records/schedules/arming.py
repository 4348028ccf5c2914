"""A schedule's next due time handed to RQ's own scheduler: `enqueue_at` of the "run due schedule"
job under an id made of the schedule and the due time, so arming it twice (a worker's run and the
sweep at once) makes one RQ job. No loop of ours: any worker started `--with-scheduler` that holds
RQ's scheduler lock moves it to the queue when it is due."""

from __future__ import annotations

import logging
from datetime import datetime

import django_rq
from django.conf import settings
from django.db import transaction
from redis.exceptions import RedisError
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus

from records.schedules.models import CopySchedule

log = logging.getLogger(__name__)
# By name, not by import: records.jobs calls the services (no import circle); RQ stores this path.
RUN_DUE_SCHEDULE = "records.jobs.run_due_schedule"
ENDED = (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)


def rq_job_id(schedule_id: int, due: datetime) -> str:
    return f"schedule-{schedule_id}-{int(due.timestamp())}"


def arm_on_commit(schedule: CopySchedule) -> None:
    """Arm the schedule's next due time once the transaction that set it commits."""
    if schedule.enabled and schedule.next_due is not None:
        schedule_id, due = schedule.pk, schedule.next_due
        transaction.on_commit(lambda: arm(schedule_id=schedule_id, due=due))


def arm(*, schedule_id: int, due: datetime) -> bool:
    """The RQ job for this due time, scheduled unless one is there already. One that ended while
    the due time is still the schedule's next (it failed before claiming it) is replaced. False:
    Redis is unreachable, and the sweep arms it later."""
    queue = django_rq.get_queue(settings.SCHEDULE_QUEUE)
    job_id = rq_job_id(schedule_id, due)
    try:
        try:
            queue.enqueue_at(due, RUN_DUE_SCHEDULE, schedule_id, due.isoformat(), job_id=job_id, unique=True)
            return True
        except DuplicateJobError:
            if _status(job_id, queue.connection) not in ENDED:
                return True  # scheduled, queued or running: armed already
            Job.fetch(job_id, connection=queue.connection).delete()
            queue.enqueue_at(due, RUN_DUE_SCHEDULE, schedule_id, due.isoformat(), job_id=job_id, unique=True)
            return True
    except (RedisError, OSError, DuplicateJobError, NoSuchJobError) as exc:
        log.warning("Schedule %s: the run due at %s was not armed yet: %s", schedule_id, due, exc)
        return False


def _status(job_id: str, connection: object) -> JobStatus | None:
    try:
        return Job.fetch(job_id, connection=connection).get_status()  # type: ignore[arg-type]
    except NoSuchJobError:
        return None


def schedules_rearm() -> int:
    """The sweep (the worker's maintenance loop runs it): every enabled schedule's next due time
    armed again. After a worker died between claiming a run and arming the next, this is what
    arms it; for all others RQ refuses the duplicate id. The number of schedules seen."""
    count = 0
    for schedule_id, due in CopySchedule.objects.filter(enabled=True).values_list("pk", "next_due"):
        if due is not None:
            arm(schedule_id=schedule_id, due=due)
            count += 1
    return count
