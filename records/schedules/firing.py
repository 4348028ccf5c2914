"""A due run, when RQ's scheduler hands it to a worker: claimed, the next due time armed, then the
template run as the schedule's owner, like any run (a protected target waits for approval). A run
whose previous one is still going is skipped; bad input ends as a failed job that says why and
notifies. Either way the schedule keeps going."""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from records.connectors.errors import ConnectorError
from records.copy_templates import services as templates
from records.copying.options import CopyOptions
from records.lib.error_words import friendly_error
from records.models import ConnectionProfile, CopyJob
from records.notify import events as notify
from records.notify.schedule_mail import schedule_run_failed
from records.schedules.arming import arm_on_commit
from records.schedules.claims import claim, still_going
from records.schedules.models import CopySchedule, ScheduleRun

log = logging.getLogger(__name__)


def schedule_fire(*, schedule_id: int, due: datetime) -> ScheduleRun | None:
    """Run the due time `due` of the schedule once, whoever else is asked to (None: not ours)."""
    schedule = CopySchedule.objects.select_related("template", "created_by").filter(pk=schedule_id).first()
    if schedule is None:
        return None  # unscheduled since it was armed
    run = claim(schedule=schedule, due=due)
    if run is None:
        return None
    arm_on_commit(schedule)  # before the copy is made: a failure below never stops the schedule
    previous = still_going(run=run)
    if previous is not None:
        what = f"job {previous.job_id}" if previous.job_id else "its job being made"
        return _end(run, ScheduleRun.Outcome.SKIPPED, f"skipped: the previous run ({what}) is still running")
    try:
        _start_job(schedule, run)
    except ValidationError as exc:
        return _fail(schedule, run, " ".join(exc.messages))
    except ConnectorError as exc:  # the system refused or was down while the copy was planned
        return _fail(schedule, run, friendly_error(exc, _source_profile(schedule)))
    except Exception:
        # Not left "starting" (which would skip the next runs for a while): failed, and RQ keeps
        # the traceback of its job. A run whose job was made before the error stays started.
        note = "The run stopped on an unexpected error; see the worker's log."
        ScheduleRun.objects.filter(pk=run.pk, outcome=ScheduleRun.Outcome.STARTING).update(
            outcome=ScheduleRun.Outcome.FAILED, note=note
        )
        raise
    return run


def _start_job(schedule: CopySchedule, run: ScheduleRun) -> None:
    """The run's job, made with its schedule named and the run started, in one transaction: a
    worker killed just after would otherwise leave a job no run names (and the run "starting")."""
    template, owner = schedule.template, schedule.created_by
    version = templates.latest_version(template)
    options = CopyOptions(source_filter=schedule.source_filter, source_limit=schedule.source_limit)
    request = templates.run_request(
        template=template, user=owner, version=version, source_ids=schedule.source_ids, options=options
    )
    templates.refuse_more_than_the_limit(request=request)
    templates.run(
        template=template, version=version, request=request, user=owner, linked=lambda job: _started(schedule, run, job)
    )


def _started(schedule: CopySchedule, run: ScheduleRun, job: CopyJob) -> None:
    CopyJob.objects.filter(pk=job.pk).update(schedule=schedule)
    job.schedule = schedule
    CopySchedule.objects.filter(pk=schedule.pk).update(last_job=job)
    _end(run, ScheduleRun.Outcome.STARTED, "", job)


def _fail(schedule: CopySchedule, run: ScheduleRun, why: str) -> ScheduleRun:
    """Bad input found when the run was due: a failed job saying why, its requester notified."""
    job = _failed_job(schedule, why)
    if job is None:  # its profile is gone altogether: no job can name it, the run's row says why
        log.warning("Schedule %s: run due at %s failed without a job: %s", schedule.pk, run.due_at, why)
        schedule_run_failed(run=run)  # queued on commit, read after: the outcome below is saved by then
        return _end(run, ScheduleRun.Outcome.FAILED, why[:500])
    notify.job_ended(job=job)
    CopySchedule.objects.filter(pk=schedule.pk).update(last_job=job)
    return _end(run, ScheduleRun.Outcome.FAILED, why[:500], job)


def _failed_job(schedule: CopySchedule, why: str) -> CopyJob | None:
    version = schedule.template.latest
    definition = version.definition if version else {}
    profile = _source_profile(schedule)
    if version is None or profile is None:
        return None
    now = timezone.now()
    return CopyJob.objects.create(
        profile=profile,
        object_name=definition.get("object_name", ""),
        mode=definition.get("mode", CopyJob.Mode.CLONE),
        source_ids=list(schedule.source_ids),
        status=CopyJob.Status.FAILED,
        requested_by=schedule.created_by,
        started=now,
        finished=now,
        error_summary=f"The scheduled run could not start: {why}",
        template_version=version,
        schedule=schedule,
    )


def _source_profile(schedule: CopySchedule) -> ConnectionProfile | None:
    """The profile the template copies from, shared with the schedule's owner or not (None: deleted)."""
    version = schedule.template.latest
    code = str((version.definition if version else {}).get("profile") or "")
    return ConnectionProfile.objects.filter(code=code).first() if code else None


def _end(run: ScheduleRun, outcome: str, note: str, job: CopyJob | None = None) -> ScheduleRun:
    ScheduleRun.objects.filter(pk=run.pk).update(outcome=outcome, note=note, job=job)
    run.outcome, run.note, run.job = outcome, note, job
    return run
