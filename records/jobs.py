"""Thin RQ entry points: ids in, one service call. Never model instances, clients or secrets."""

import os
import socket
from datetime import datetime

from records.copying.job_actions import copy_job_run
from records.copying.stored_plans import plan_read
from records.notify import mail, schedule_mail, webhooks
from records.schedules.firing import schedule_fire


def run_copy_job(job_id: int) -> str:
    job = copy_job_run(job_id=job_id, worker_id=f"{socket.gethostname()}:{os.getpid()}")
    return job.status


def read_plan(plan_id: int) -> str:
    """A preview's plan (records/copying/stored_plans.py), on the "plans" queue."""
    return plan_read(plan_id=plan_id).status


def send_job_mails(job_id: int, event: str, occurrence: str, extra: list[str]) -> int:
    """The e-mails of one event of a job (records/notify/mail.py), on the NOTIFY_QUEUE."""
    return len(mail.send_job_mails(job_id=job_id, event=event, occurrence=occurrence, extra=extra))


def send_schedule_run_mails(run_id: int) -> int:
    """The e-mails of a scheduled run that made no job (records/notify/schedule_mail.py)."""
    return len(schedule_mail.send_schedule_run_mails(run_id=run_id))


def deliver_webhook_message(message_id: int) -> int | None:
    """One attempt at a webhook (records/notify/webhooks.py); raising makes RQ retry it."""
    return webhooks.webhook_message_deliver(message_id=message_id).status_code


def run_due_schedule(schedule_id: int, due: str) -> str:
    """A schedule's due run (records/schedules/firing.py), scheduled by RQ with enqueue_at."""
    run = schedule_fire(schedule_id=schedule_id, due=datetime.fromisoformat(due))
    return run.outcome if run is not None else "not ours"
