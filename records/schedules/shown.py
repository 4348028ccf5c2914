"""A schedule as the CLI (`template show`), its --json and the template page show it."""

from __future__ import annotations

from typing import Any

from records.schedules.models import CopySchedule, ScheduleRun
from records.schedules.services import next_times

RECENT_RUNS = 10


def schedule_as_dict(schedule: CopySchedule) -> dict[str, Any]:
    runs = list(schedule.runs.order_by("-due_at")[:RECENT_RUNS])
    times = next_times(schedule) if schedule.enabled else []
    return {
        "id": schedule.pk,
        "cadence": schedule.cadence,
        "cron": schedule.cron or None,
        "every_seconds": schedule.every_seconds,
        "time_zone": schedule.time_zone,
        "records": records_words(schedule),
        "enabled": schedule.enabled,
        "created_by": schedule.created_by.username,
        "next_times": [t.isoformat() for t in times],
        "next_times_words": [t.strftime("%a %d %b %Y %H:%M:%S %Z") for t in times],
        "recent_runs": [run_as_dict(r) for r in runs],
    }


def run_as_dict(run: ScheduleRun) -> dict[str, Any]:
    return {"due": run.due_at.isoformat(), "outcome": run.outcome, "note": run.note, "job": run.job_id}


def records_words(schedule: CopySchedule) -> str:
    """ "ids 123, 456" / "filter (Industry:equals:Retail), at most 20"."""
    if schedule.source_ids:
        return f"ids {', '.join(schedule.source_ids)}"
    limit = f", at most {schedule.source_limit}" if schedule.source_limit else ""
    return f"filter {schedule.source_filter}{limit}"


def scheduled_words(schedule: CopySchedule) -> str:
    """What the job page and the job list say of a scheduled job: "Scheduled: Weekly every 2 s"."""
    return f"Scheduled: {schedule.template.name} {schedule.cadence}"
