"""Adding, turning on and off and removing a template's schedules. Keyword-only: the `template`
command and the template page call these, never the models. Every change is audited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from records.copy_templates import services as templates
from records.copying.options import CopyOptions
from records.lib.audit import audit_log
from records.models import CopyTemplate, manages_all_profiles
from records.schedules.arming import arm_on_commit
from records.schedules.models import CopySchedule
from records.schedules.timing import check_cadence, next_due, upcoming


def schedule_add(
    *,
    template: CopyTemplate,
    user: User,
    cron: str = "",
    every_seconds: int | None = None,
    source_ids: Sequence[str] = (),
    source_filter: str = "",
    source_limit: int | None = None,
    time_zone: str = "UTC",
    enabled: bool = True,
) -> CopySchedule:
    """A schedule running `template` as `user`, checked as a run is (the user may use it and its
    profiles, its fields exist, ids or a filter) and armed on RQ when saved."""
    check_cadence(cron=cron, every_seconds=every_seconds, time_zone=time_zone)
    ids = [str(i).strip() for i in source_ids if str(i).strip()]
    if bool(ids) == bool(source_filter.strip()):
        raise ValidationError("Give the records to copy: ids or a filter, one of the two.")
    if source_limit is not None and not source_filter.strip():
        raise ValidationError("A limit is for a filter: give a filter with it.")
    options = CopyOptions(source_filter=source_filter.strip(), source_limit=source_limit)
    templates.run_request(template=template, user=user, source_ids=ids, options=options)
    schedule = CopySchedule(
        template=template,
        cron=cron.strip(),
        every_seconds=every_seconds,
        source_ids=ids,
        source_filter=source_filter.strip(),
        source_limit=source_limit,
        time_zone=time_zone.strip(),
        enabled=enabled,
        created_by=user,
    )
    schedule.next_due = _first_due(schedule) if enabled else None
    with transaction.atomic():
        schedule.save()
        audit_log(actor=user, action="template.schedule", **_about(schedule, "added"))
        arm_on_commit(schedule)
    return schedule


def schedule_switch(*, schedule: CopySchedule, user: User, enabled: bool) -> CopySchedule:
    """Turn a schedule on (its next due time from now, armed) or off (its armed run does nothing)."""
    _check_may_change(schedule, user)
    with transaction.atomic():
        schedule.enabled = enabled
        schedule.next_due = _first_due(schedule) if enabled else None
        schedule.save(update_fields=["enabled", "next_due"])
        audit_log(actor=user, action="template.schedule", **_about(schedule, "on" if enabled else "off"))
        arm_on_commit(schedule)
    return schedule


def schedule_remove(*, schedule: CopySchedule, user: User) -> None:
    """Remove a schedule; its jobs stay (they no longer name it). Its armed run finds nothing."""
    _check_may_change(schedule, user)
    with transaction.atomic():
        audit_log(actor=user, action="template.unschedule", **_about(schedule, "removed"))
        schedule.delete()


def schedules_of(*, template: CopyTemplate, user: User) -> list[CopySchedule]:
    """The template's schedules `user` may see: all for its owner or a manager, else their own."""
    found = template.schedules.select_related("created_by", "last_job").order_by("pk")
    if template.owner_id == user.pk or manages_all_profiles(user):
        return list(found)
    return list(found.filter(created_by=user))


def next_times(schedule: CopySchedule, *, start: datetime | None = None) -> list[datetime]:
    """The next five due times, in the schedule's time zone."""
    return upcoming(
        cron=schedule.cron,
        every_seconds=schedule.every_seconds,
        time_zone=schedule.time_zone,
        start=start or schedule.next_due or timezone.now(),
    )


def _first_due(schedule: CopySchedule) -> datetime:
    return next_due(
        cron=schedule.cron, every_seconds=schedule.every_seconds, time_zone=schedule.time_zone, after=timezone.now()
    )


def _check_may_change(schedule: CopySchedule, user: User) -> None:
    allowed = (schedule.created_by_id, schedule.template.owner_id)
    if user.pk not in allowed and not manages_all_profiles(user):
        raise ValidationError("Only who made the schedule or the template's owner may change it.")


def _about(schedule: CopySchedule, change: str) -> dict[str, Any]:
    records = f"ids {', '.join(schedule.source_ids)}" if schedule.source_ids else f"filter {schedule.source_filter}"
    return {
        "template": schedule.template.name,
        "template_code": str(schedule.template.code),
        "schedule": schedule.pk,
        "change": change,
        "cadence": schedule.cadence,
        "records": records,
    }
