"""Template filters and tags of the record pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
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


# The choices' selects repeat every field of an object in every row (and in the blank row's
# template): as a template loop they were most of the preview's CPU (profiled: ~60 % of a ready
# preview's render). Built here in one pass, escaped as the template escaped them.


@register.simple_tag
def field_options(fields: list[dict[str, Any]] | None, selected: object) -> SafeString:
    """<option>s of a field select: "Label · name", the one named `selected` selected."""
    return mark_safe(  # noqa: S308 - every value escaped
        "".join(
            f'<option value="{escape(f["name"])}"{" selected" if f["name"] == selected else ""}>'
            f"{escape(f['label'])} · {escape(f['name'])}</option>"
            for f in fields or []
        )
    )


@register.simple_tag
def object_options(objects: list[tuple[str, str]] | None, selected: object, first_note: str = "") -> SafeString:
    """<option>s of an object select: its label, the one named `selected` selected; `first_note`
    after the first one's label (" (the top record)")."""
    return mark_safe(  # noqa: S308 - every value escaped
        "".join(
            f'<option value="{escape(name)}"{" selected" if name == selected else ""}>'
            f"{escape(label)}{escape(first_note) if i == 0 else ''}</option>"
            for i, (name, label) in enumerate(objects or [])
        )
    )


@register.simple_tag
def named_options(pairs: list[tuple[str, str]] | None) -> SafeString:
    """<option>s "label (name)" of (name, label) pairs: the masking table's "another field"."""
    return mark_safe(  # noqa: S308 - every value escaped
        "".join(
            f'<option value="{escape(name)}">{escape(label)} ({escape(name)})</option>' for name, label in pairs or []
        )
    )


@register.simple_tag
def rule_options(rules: list[str] | None, selected: object, keep: str = "") -> SafeString:
    """<option>s of a masking rule select; "keep" shown as `keep` (left out when it is empty)."""
    return mark_safe(  # noqa: S308 - every value escaped
        "".join(
            f'<option value="{escape(rule)}"{" selected" if rule == selected else ""}>'
            f"{escape(keep if rule == 'keep' else rule)}</option>"
            for rule in rules or []
            if keep or rule != "keep"
        )
    )
