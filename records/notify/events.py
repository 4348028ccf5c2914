"""The hook points the copy engine calls when a job ends or starts awaiting approval. Each queues
its e-mails (and webhooks) on a worker when the transition's transaction commits: never inside
it, never in the way of the copy. A queue that is down loses the notification, not the job."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import django_rq
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError

from records.models import CopyJob
from records.notify.webhooks import webhook_queue

log = logging.getLogger(__name__)
ENDED = "job.ended"
AWAITING_APPROVAL = "job.awaiting_approval"
# By name: records.jobs calls the notify modules (no import circle); RQ stores the path.
SEND_JOB_MAILS = "records.jobs.send_job_mails"


@dataclass(frozen=True)
class Webhook:
    """Where to POST an event, and the secret its signature is made with."""

    url: str
    secret: str


def job_ended(*, job: CopyJob, recipients: Sequence[str] = (), webhooks: Sequence[Webhook] = ()) -> None:
    """A job reached an end (succeeded, partly done, failed, cancelled or stopped waiting,
    rejected or expired): its requester gets an e-mail, and so do `recipients`; each of `webhooks`
    gets the event, and so do those of the template the job ran from (read in the same query)."""
    job = CopyJob.objects.select_related("profile", "target_profile", "template_version__template").get(pk=job.pk)
    if job.status not in CopyJob.FINISHED:
        return  # taken over or resumed before this was asked: its next end notifies
    occurrence = (job.finished or timezone.now()).isoformat()
    recipients, webhooks = _with_template(job, recipients, webhooks)
    if webhooks:  # after the commit: the URL check resolves the host, never inside the job's transaction
        transaction.on_commit(lambda: _queue_webhooks(job, occurrence, list(webhooks)))
    _queue_mails(job.pk, ENDED, occurrence, list(recipients))


def _with_template(
    job: CopyJob, recipients: Sequence[str], webhooks: Sequence[Webhook]
) -> tuple[list[str], list[Webhook]]:
    """`recipients` and `webhooks` with the job's template's own (copy_templates/notifications.py)."""
    template = job.template_version.template if job.template_version else None
    if template is None:
        return list(recipients), list(webhooks)
    hooks = [Webhook(url=template.webhook_url, secret=template.webhook_secret)] if template.webhook_url else []
    return [*recipients, *template.notify_emails], [*webhooks, *hooks]


def job_awaiting_approval(*, job: CopyJob) -> None:
    """A copy into a protected profile waits: everyone who may decide it gets an e-mail."""
    _queue_mails(job.pk, AWAITING_APPROVAL, job.created.isoformat() if job.created else "", [])


def job_payload(job: CopyJob) -> dict[str, Any]:
    """What a webhook receives about a job: nothing of the records' data, only the outcome."""
    return {
        "event": ENDED,
        "job": {
            "id": job.pk,
            "code": str(job.code),
            "title": job.title,
            "status": job.status,
            "mode": job.mode,
            "planned": job.planned_count,
            "succeeded": job.succeeded_count,
            "failed": job.failed_count,
            "summary": job.error_summary,
            "finished": job.finished.isoformat() if job.finished else None,
            "url": f"{settings.SITE_URL}/jobs/{job.code}/",
        },
    }


def _queue_webhooks(job: CopyJob, occurrence: str, webhooks: list[Webhook]) -> None:
    payload = job_payload(job)
    for hook in webhooks:
        try:
            webhook_queue(
                url=hook.url, event=ENDED, payload=payload, secret=hook.secret, job=job, occurrence=occurrence
            )
        except ValidationError as exc:  # a template checks its URL when saved; it may resolve elsewhere now
            log.warning("Job %s: webhook %s refused: %s", job.pk, hook.url, " ".join(exc.messages))


def _queue_mails(job_id: int, event: str, occurrence: str, extra: list[str]) -> None:
    transaction.on_commit(lambda: _enqueue(job_id, event, occurrence, extra))


def _enqueue(job_id: int, event: str, occurrence: str, extra: list[str]) -> None:
    try:
        django_rq.get_queue(settings.NOTIFY_QUEUE).enqueue_call(
            func=SEND_JOB_MAILS, args=(job_id, event, occurrence, extra)
        )
    except (RedisError, OSError) as exc:
        log.warning("Job %s: the %s e-mails were not queued: %s", job_id, event, exc)
