"""Template filters and tags of the record pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.timesince import timesince

from records.copying import job_words
from records.lib import words
from records.models import AnyUser, CopyJob
from records.web.job_actions import APPROVE, REJECT

register = template.Library()


@register.filter
def ago(value: object) -> str:
    """ "just now" under a minute (not "0 minutes ago"), else "3 minutes ago"."""
    if not isinstance(value, dt.datetime):
        return ""
    if timezone.now() - value < dt.timedelta(minutes=1):
        return "just now"
    return f"{timesince(value)} ago"


@register.simple_tag
def approval_for(job: CopyJob, user: AnyUser) -> dict[str, Any]:
    """The approval box of a job awaiting approval (templates/records/_job_approval.html): may
    this user approve or reject it, and why not. Asked only of such a job (no query otherwise)."""
    approve, approve_reason = APPROVE.rule(job, user)
    reject, _ = REJECT.rule(job, user)
    days = settings.COPY_APPROVAL_EXPIRY_DAYS
    return {
        "approve": approve,
        "reason": approve_reason,
        "reject": reject,
        "expiry_days": days,
        "approve_spec": APPROVE,
        "reject_spec": REJECT,
    }


@register.filter
def status_words(job: CopyJob) -> str:
    """{{ job|status_words }} → "Rejected by dora: Not in freeze week"."""
    return job_words.status_words(job)


@register.filter
def num(value: object) -> str:
    """{{ n|num }} → "10,202"; anything not a whole number is shown as it is."""
    if isinstance(value, bool) or not isinstance(value, int):
        return "" if value is None else str(value)
    return words.count(value)


@register.filter
def moment(value: object) -> str:
    """{{ job.finished_at|moment }} → "2026-01-05 01:11 UTC"."""
    return words.moment(value) if isinstance(value, dt.datetime) else ""


@register.filter
def clock(value: object) -> str:
    """{{ wait_until|clock }} → "01:35:53 UTC"."""
    return words.clock(value) if isinstance(value, dt.datetime) else ""
