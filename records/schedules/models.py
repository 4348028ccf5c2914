"""A template's schedules and the record of each due time (claimed once, run or skipped)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class CopySchedule(models.Model):
    """Runs a template on a cron expression or an interval, as its owner (records/schedules/)."""

    template = models.ForeignKey("records.CopyTemplate", on_delete=models.CASCADE, related_name="schedules")
    # One of the two: a cron expression (in `time_zone`) or an interval in seconds.
    cron = models.CharField(max_length=100, blank=True)
    every_seconds = models.PositiveIntegerField(null=True, blank=True)
    # The records: fixed ids, or a filter (Vault VQL WHERE / Zoho criteria) with a limit.
    source_ids = models.JSONField(default=list, blank=True)
    source_filter = models.TextField(blank=True)
    source_limit = models.PositiveIntegerField(null=True, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    enabled = models.BooleanField(default=True)
    # The due time not run yet; the RQ job armed for it has the id schedules.arming.rq_job_id.
    next_due = models.DateTimeField(null=True, blank=True)
    last_job = models.ForeignKey("records.CopyJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["template", "pk"]

    def __str__(self) -> str:
        return f"{self.template.name} {self.cadence}"

    @property
    def cadence(self) -> str:
        """ "every 2 s" / "every 15 min" / "at 0 6 * * 1-5 (Europe/Paris)"."""
        if self.every_seconds:
            s = self.every_seconds
            return f"every {s // 60} min" if s % 60 == 0 else f"every {s} s"
        return f"at {self.cron} ({self.time_zone})"


class ScheduleRun(models.Model):
    """One due time of a schedule. Its unique (schedule, due_at) row is the claim: two workers'
    schedulers never run one due time twice."""

    class Outcome(models.TextChoices):
        STARTING = "starting", "Starting"
        STARTED = "started", "Started"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"

    schedule = models.ForeignKey(CopySchedule, on_delete=models.CASCADE, related_name="runs")
    due_at = models.DateTimeField()
    claimed_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.STARTING)
    # Why it was skipped or failed, in the user's words.
    note = models.CharField(max_length=500, blank=True)
    job = models.ForeignKey("records.CopyJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-due_at"]
        constraints = [models.UniqueConstraint(fields=["schedule", "due_at"], name="one_run_per_due_time")]

    def __str__(self) -> str:
        return f"{self.schedule} at {self.due_at:%Y-%m-%d %H:%M:%S} ({self.outcome})"
