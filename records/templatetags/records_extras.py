"""Template filters of the record pages."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def ago(value: object) -> str:
    """ "just now" under a minute (not "0 minutes ago"), else "3 minutes ago"."""
    if not isinstance(value, dt.datetime):
        return ""
    if timezone.now() - value < dt.timedelta(minutes=1):
        return "just now"
    return f"{timesince(value)} ago"
