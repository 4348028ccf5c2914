"""The `template schedule` and `template unschedule` parts of the `template` command: their
arguments, and the lines `template show` prints of schedules. Thin: the services decide."""

from __future__ import annotations

from argparse import ArgumentParser, _SubParsersAction
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from records.models import CopyTemplate
from records.schedules import services
from records.schedules.models import CopySchedule


def add_schedule_parsers(sub: _SubParsersAction[ArgumentParser]) -> tuple[ArgumentParser, ArgumentParser]:
    schedule = sub.add_parser("schedule", help="run the template on a cron expression or an interval")
    schedule.add_argument("name")
    when = schedule.add_mutually_exclusive_group(required=True)
    when.add_argument("--cron", metavar="EXPR", help="five fields, minute first, in --tz")
    when.add_argument("--every", type=int, metavar="SECONDS")
    what = schedule.add_mutually_exclusive_group(required=True)
    what.add_argument("--ids", nargs="+", metavar="ID")
    what.add_argument("--where", metavar="FILTER", help="Vault: a VQL WHERE; Zoho: criteria")
    schedule.add_argument("--limit", type=int, metavar="N", help="at most N records of --where")
    schedule.add_argument("--tz", default="UTC", metavar="ZONE", help="an IANA time zone (default UTC)")
    unschedule = sub.add_parser("unschedule", help="remove the template's schedules")
    unschedule.add_argument("name")
    unschedule.add_argument("--id", type=int, help="only this schedule (see `template show`)")
    return schedule, unschedule


def schedule_from_options(*, template: CopyTemplate, user: User, opts: dict[str, Any]) -> CopySchedule:
    return services.schedule_add(
        template=template,
        user=user,
        cron=opts["cron"] or "",
        every_seconds=opts["every"],
        source_ids=opts["ids"] or (),
        source_filter=opts["where"] or "",
        source_limit=opts["limit"],
        time_zone=opts["tz"],
    )


def unschedule_from_options(*, template: CopyTemplate, user: User, opts: dict[str, Any]) -> int:
    mine = services.schedules_of(template=template, user=user)
    chosen = [s for s in mine if opts["id"] in (None, s.pk)]
    if not chosen:
        which = f"schedule {opts['id']}" if opts["id"] is not None else "schedule"
        raise ValidationError(f"The template {template.name} has no {which} you may remove.")
    for schedule in chosen:
        services.schedule_remove(schedule=schedule, user=user)
    return len(chosen)


def shown_schedules(*, template: CopyTemplate, user: User | None) -> list[CopySchedule]:
    """All of them on the server's own command line (no --user), else those `user` may see."""
    if user is None:
        return list(template.schedules.select_related("created_by").order_by("pk"))
    return services.schedules_of(template=template, user=user)


def schedule_lines(schedules: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for s in schedules:
        state = "on" if s["enabled"] else "off"
        lines.append(f"  schedule {s['id']}: {s['cadence']}, {s['records']}, {state}, by {s['created_by']}")
        lines += [f"    next: {t}" for t in s["next_times"]]
        lines += [
            f"    ran {r['due']}: {r['note'] or r['outcome']}" + (f" (job {r['job']})" if r["job"] else "")
            for r in s["recent_runs"][:3]
        ]
    return lines
