"""The claim of a due time: the compare-and-set that lets one worker, and only one, run it."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from records.models import CopyJob
from records.schedules.models import CopySchedule, ScheduleRun
from records.schedules.timing import due_after_run


def claim(*, schedule: CopySchedule, due: datetime, now: datetime | None = None) -> ScheduleRun | None:
    """The run of `due`, claimed; None: another worker claimed it, or it is no longer due (the
    schedule was turned off or moved on). One UPDATE moves `next_due` on only where it still is
    `due` (the compare-and-set: the loser updates no row and does nothing); the run's row, unique
    per due time, is inserted in the same transaction."""
    now = now or timezone.now()
    following = due_after_run(
        cron=schedule.cron, every_seconds=schedule.every_seconds, time_zone=schedule.time_zone, due=due, now=now
    )
    try:
        with transaction.atomic():
            moved = CopySchedule.objects.filter(pk=schedule.pk, enabled=True, next_due=due).update(next_due=following)
            if not moved:
                return None
            run = ScheduleRun.objects.create(schedule=schedule, due_at=due)
    except IntegrityError:  # the row is there: claimed before (a re-armed schedule reached it again)
        return None
    schedule.next_due = following
    return run


def still_going(*, run: ScheduleRun, now: datetime | None = None) -> ScheduleRun | None:
    """An earlier run of the schedule not done yet: its job not finished, or claimed and still
    making its job (unless so long ago that its worker must have died)."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.SCHEDULE_STARTING_STALE_SECONDS)
    starting = Q(outcome=ScheduleRun.Outcome.STARTING, claimed_at__gt=stale)
    unfinished = Q(job__isnull=False) & ~Q(job__status__in=CopyJob.FINISHED)
    earlier = ScheduleRun.objects.filter(schedule_id=run.schedule_id, due_at__lt=run.due_at).exclude(pk=run.pk)
    return earlier.filter(starting | unfinished).order_by("-due_at").first()
