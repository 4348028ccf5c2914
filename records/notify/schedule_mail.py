"""The e-mail about a scheduled run that could not start and made no job (its template's source
profile was deleted outright: a job needs a profile). A run that made a failed job is told by that
job's own e-mails (events.job_ended). Sent on a worker after the run's commit, to the schedule's
owner (unless their e-mails are off) and the template's extra recipients; one MailDelivery row per
address and run, so a second firing of the same due time sends none."""

from __future__ import annotations

import logging

import django_rq
from django.conf import settings
from django.db import transaction
from redis.exceptions import RedisError

from records.notify import mail_words
from records.notify.mail import deliver
from records.notify.models import MailDelivery
from records.notify.preferences import emails_on
from records.schedules.models import ScheduleRun

log = logging.getLogger(__name__)
RUN_FAILED = "schedule.run_failed"
# By name: records.jobs calls the notify modules (no import circle); RQ stores the path.
SEND_RUN_MAILS = "records.jobs.send_schedule_run_mails"


def schedule_run_failed(*, run: ScheduleRun) -> None:
    """Queue the e-mails of a failed run that has no job, when the run's transaction commits."""
    transaction.on_commit(lambda: _enqueue(run.pk))


def _enqueue(run_id: int) -> None:
    try:
        django_rq.get_queue(settings.NOTIFY_QUEUE).enqueue_call(func=SEND_RUN_MAILS, args=(run_id,))
    except (RedisError, OSError) as exc:
        log.warning("Scheduled run %s: the e-mails were not queued: %s", run_id, exc)


def send_schedule_run_mails(*, run_id: int) -> list[MailDelivery]:
    """Send the e-mails of the failed run `run_id`. Returns the rows, sent or failed."""
    run = ScheduleRun.objects.select_related("schedule__template", "schedule__created_by").filter(pk=run_id).first()
    if run is None or run.outcome != ScheduleRun.Outcome.FAILED:
        return []  # unscheduled (and so deleted) since, or not a failure
    subject, body = mail_words.run_failed_subject(run), mail_words.run_failed_body(run)
    sent = []
    for address in _addresses(run):
        row, _ = MailDelivery.objects.get_or_create(
            schedule_run=run,
            event=RUN_FAILED,
            recipient=address,
            defaults={"subject": subject, "occurrence": run.due_at.isoformat()},
        )
        if row.status != MailDelivery.Status.SENT:
            deliver(row, body)
        sent.append(row)
    return sent


def _addresses(run: ScheduleRun) -> list[str]:
    owner, template = run.schedule.created_by, run.schedule.template
    mine = [owner.email] if owner.email and owner.is_active and emails_on(owner) else []
    found = (a.strip().lower() for a in [*mine, *template.notify_emails])
    return list(dict.fromkeys(a for a in found if a))
