"""E-mails about a job: to its requester when it ends, to the approvers who may decide it when it
awaits approval. Run on a worker (records.jobs.send_job_mails); each e-mail is a MailDelivery
row made before sending, unique per event, so a notification queued twice sends once. A failed
send is logged and recorded there; it never changes the job."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.contrib.auth.models import Permission, User
from django.core.mail import EmailMessage
from django.db.models import Q
from django.utils import timezone

from records.copying.job_rules import can_approve
from records.models import CopyJob
from records.notify import mail_words
from records.notify.events import AWAITING_APPROVAL
from records.notify.models import MailDelivery
from records.notify.preferences import emails_on

log = logging.getLogger(__name__)


def requester_addresses(job: CopyJob) -> list[str]:
    """The requester's address, unless they have none or turned their e-mails off."""
    user = job.requested_by
    return [user.email] if user.email and user.is_active and emails_on(user) else []


def approver_addresses(job: CopyJob) -> list[str]:
    """Everyone who may decide the request (records.approve_copy and access to the profile written
    into; never the requester: job_rules.can_approve), who has an address and e-mails on."""
    grant = Permission.objects.filter(codename="approve_copy", content_type__app_label="records")
    holders = User.objects.filter(is_active=True).exclude(email="").exclude(pk=job.requested_by_id)
    holders = holders.filter(
        Q(is_superuser=True) | Q(user_permissions__in=grant) | Q(groups__permissions__in=grant)
    ).distinct()
    return [u.email for u in holders.order_by("pk") if can_approve(job, u)[0] and emails_on(u)]


def send_job_mails(*, job_id: int, event: str, occurrence: str, extra: Sequence[str] = ()) -> list[MailDelivery]:
    """Send the e-mails of one event of a job (ENDED: the requester and `extra` addresses, which a
    template adds; AWAITING_APPROVAL: the approvers). Returns the rows, sent or failed."""
    job = CopyJob.objects.select_related("requested_by", "profile", "target_profile").filter(pk=job_id).first()
    if job is None:
        return []  # deleted since (its profile was): nothing to tell
    if event == AWAITING_APPROVAL:
        if job.status != CopyJob.Status.AWAITING_APPROVAL:
            return []  # decided before the worker got here: nobody needs asking
        to, subject, body = approver_addresses(job), mail_words.approval_subject(job), mail_words.approval_body(job)
    else:
        to = [*requester_addresses(job), *extra]
        subject, body = mail_words.ended_subject(job), mail_words.ended_body(job)
    sent = []
    for address in dict.fromkeys(a.strip().lower() for a in to if a.strip()):
        row, _ = MailDelivery.objects.get_or_create(
            job=job, event=event, occurrence=occurrence, recipient=address, defaults={"subject": subject}
        )
        if row.status != MailDelivery.Status.SENT:
            deliver(row, body)
        sent.append(row)
    return sent


def deliver(row: MailDelivery, body: str) -> None:
    """Send the e-mail of `row` and record how it went."""
    try:
        EmailMessage(subject=row.subject, body=body, to=[row.recipient]).send()
    except Exception as exc:  # any backend's failure: recorded, never raised into the job
        log.warning("The e-mail %s to %s was not sent: %s", row, row.recipient, exc)
        row.status, row.error = MailDelivery.Status.FAILED, f"{type(exc).__name__}: {exc}"[:500]
    else:
        row.status, row.error, row.sent_at = MailDelivery.Status.SENT, "", timezone.now()
    row.save(update_fields=["status", "error", "sent_at"])
