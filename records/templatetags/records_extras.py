"""Template filters of the record pages."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

from records.lib import words

register = template.Library()


@register.filter
def ago(value: object) -> str:
    """ "just now" under a minute (not "0 minutes ago"), else "3 minutes ago"."""
    if not isinstance(value, dt.datetime):
        return ""
    if timezone.now() - value < dt.timedelta(minutes=1):
        return "just now"
    return f"{timesince(value)} ago"


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
