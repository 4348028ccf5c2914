"""Numbers and times as a person reads them, the same on every page and in the status words the
engine writes: "10,202", "2026-01-05 01:11 UTC", "01:35:53 UTC".

Never Django's "P" format, whose "a.m." doubles a sentence's full stop; always the zone, because a
time without one is read as the reader's own."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def count(n: int | None) -> str:
    """10202 → "10,202"; None → "" (a number not known yet is left out, not shown as 0)."""
    if n is None:
        return ""
    return f"{n:,}"


def moment(value: dt.datetime | None) -> str:
    """A date and minute with its zone: "2026-01-05 01:11 UTC"."""
    if value is None:
        return ""
    local = _local(value)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or 'UTC'}"


def clock(value: dt.datetime | None) -> str:
    """A time of day to the second with its zone, for waits within the day: "01:35:53 UTC"."""
    if value is None:
        return ""
    local = _local(value)
    return f"{local:%H:%M:%S} {local.tzname() or 'UTC'}"


def minute(value: dt.datetime | None) -> str:
    """A time of day to the minute with its zone, for a wait's end: "10:47 UTC"."""
    if value is None:
        return ""
    local = _local(value)
    return f"{local:%H:%M} {local.tzname() or 'UTC'}"


def _local(value: dt.datetime) -> dt.datetime:
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return timezone.localtime(value)
