"""What the e-mails say: plain words, the job's title, its outcome, its counts and a link; for a
scheduled run that made no job, the schedule, its due time and why."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse

from records.copying.job_words import status_words
from records.lib.words import count, moment
from records.models import CopyJob
from records.schedules.models import ScheduleRun


def job_link(job: CopyJob) -> str:
    """The job page as an absolute address (SITE_URL: mails are read outside any request)."""
    return f"{settings.SITE_URL}{reverse('job_detail', args=[job.code])}"


def ended_subject(job: CopyJob) -> str:
    return f"Job {job.pk} {job.get_status_display().lower()}: {job.title}"[:300]


def ended_body(job: CopyJob) -> str:
    verb = "deleted" if job.mode == CopyJob.Mode.UNDO else "copied"
    lines = [
        job.heading,
        "",
        status_words(job),
        f"Records planned: {count(job.planned_count)}; {verb}: {count(job.succeeded_count)}; "
        f"failed: {count(job.failed_count)}.",
    ]
    if job.error_summary:
        lines += ["", job.error_summary]
    lines += ["", f"Ended {moment(job.finished)}.", f"Open the job: {job_link(job)}"]
    return "\n".join(lines) + "\n"


def approval_subject(job: CopyJob) -> str:
    return f"Approval needed: job {job.pk}, {job.title}"[:300]


def approval_body(job: CopyJob) -> str:
    who = job.requested_by.get_full_name() or job.requested_by.get_username()
    return (
        f"{who} asks to copy into {job.write_profile.name}, a protected profile.\n\n"
        f"{job.heading}\nRecords: {count(job.planned_count)}.\n\n"
        f"Nothing is written until someone other than {who} approves it. Approve or reject it on the job page:\n"
        f"{job_link(job)}\n\n"
        f"The request expires after {settings.COPY_APPROVAL_EXPIRY_DAYS} days.\n"
    )


def run_failed_subject(run: ScheduleRun) -> str:
    return f"Scheduled run failed: {run.schedule.template.name}"[:300]


def run_failed_body(run: ScheduleRun) -> str:
    """Which schedule, which due time (in the schedule's own zone) and why; no job to link to."""
    schedule = run.schedule
    due = run.due_at.astimezone(ZoneInfo(schedule.time_zone))
    page = reverse("template_detail", args=[schedule.template.code])
    return (
        f"The run of template {schedule.template.name} ({schedule.cadence}) due at "
        f"{due:%Y-%m-%d %H:%M:%S} {schedule.time_zone} could not start, and made no job:\n\n"
        f"{run.note}\n\n"
        "The schedule goes on: its next runs fail the same way until the template is fixed or the "
        f"schedule turned off.\nOpen the template: {settings.SITE_URL}{page}\n"
    )
