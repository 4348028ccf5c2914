"""When a schedule is due: its cron expression (in its time zone, croniter) or its interval, and
the checks that refuse a bad one with a clear message before anything is saved or armed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter
from django.core.exceptions import ValidationError

MIN_EVERY_SECONDS = 1  # RQ's scheduler looks once a second: a shorter interval can't be kept
SHOWN_TIMES = 5


def zone(name: str) -> ZoneInfo:
    """The time zone `name` (an IANA name such as Europe/Paris), else a clear refusal."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"Unknown time zone {name!r}: give an IANA name such as UTC or Europe/Paris.") from None


def check_cadence(*, cron: str, every_seconds: int | None, time_zone: str) -> None:
    """One of a valid cron expression (five fields, minute first) or an interval of whole seconds."""
    zone(time_zone)
    if bool(cron.strip()) == (every_seconds is not None):
        raise ValidationError("Give a cron expression or an interval, one of the two.")
    if every_seconds is not None and every_seconds < MIN_EVERY_SECONDS:
        raise ValidationError(f"The interval must be at least {MIN_EVERY_SECONDS} second.")
    if cron.strip() and (len(cron.split()) != 5 or not croniter.is_valid(cron.strip())):
        raise ValidationError(
            f"Invalid cron expression {cron.strip()!r}: five fields, minute hour day month weekday "
            "(e.g. '0 6 * * 1-5' for 6:00 on weekdays)."
        )


def next_due(*, cron: str, every_seconds: int | None, time_zone: str, after: datetime) -> datetime:
    """The first due time strictly after `after` (aware; the answer in UTC). An interval counts
    from `after` itself, so a late or missed run never makes a burst of catch-up runs."""
    if every_seconds:
        return (after + timedelta(seconds=every_seconds)).astimezone(UTC).replace(microsecond=0)
    local = after.astimezone(zone(time_zone))
    try:
        due: datetime = croniter(cron.strip(), local).get_next(datetime)
    except (CroniterError, ValueError) as exc:  # checked when saved; an edit outside the app may break it
        raise ValidationError(f"Invalid cron expression {cron!r}: {exc}") from None
    return due.astimezone(UTC)


def due_after_run(*, cron: str, every_seconds: int | None, time_zone: str, due: datetime, now: datetime) -> datetime:
    """The due time after the run of `due` that starts at `now`: the next on the schedule's grid
    (an interval's multiples of `due`, the cron's times) after both, so a late run keeps the grid
    and never makes up in a burst the due times every worker missed."""
    if every_seconds and now >= due:
        steps = int((now - due).total_seconds() // every_seconds) + 1
        return due + timedelta(seconds=steps * every_seconds)
    return next_due(cron=cron, every_seconds=every_seconds, time_zone=time_zone, after=max(due, now))


def upcoming(
    *, cron: str, every_seconds: int | None, time_zone: str, start: datetime, count: int = SHOWN_TIMES
) -> list[datetime]:
    """The next `count` due times after `start`, in the schedule's time zone (for the pages and the CLI)."""
    tz = zone(time_zone)
    times: list[datetime] = []
    at = start
    for _ in range(count):
        at = next_due(cron=cron, every_seconds=every_seconds, time_zone=time_zone, after=at)
        times.append(at.astimezone(tz))
    return times
