"""What notifications remember: a user's choice, each e-mail sent (or not), each webhook message
and each attempt to deliver it. records/models/__init__.py imports these so Django finds them."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from records.fields import EncryptedTextField


class NotificationSettings(models.Model):
    """A user's notification choices; a user without a row gets e-mails (the default)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    email_on = models.BooleanField("e-mail me about my copies", default=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "notification settings"

    def __str__(self) -> str:
        return f"{self.user} ({'e-mails on' if self.email_on else 'e-mails off'})"


class MailDelivery(models.Model):
    """One e-mail about one event of a job (or of a scheduled run that could make no job) to one
    address. Made before it is sent and unique per event, so a notification queued twice (a
    retried transition, a worker re-run) sends it once."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    # One of the two: the job, or the scheduled run whose profile was deleted (no job can name it).
    job = models.ForeignKey("records.CopyJob", null=True, blank=True, on_delete=models.CASCADE, related_name="mails")
    schedule_run = models.ForeignKey(
        "records.ScheduleRun", null=True, blank=True, on_delete=models.CASCADE, related_name="mails"
    )
    event = models.CharField(max_length=40)  # "job.ended", "job.awaiting_approval", "schedule.run_failed"
    # Which time the event happened: a resumed job ends again (its `finished` time).
    occurrence = models.CharField(max_length=40)
    recipient = models.EmailField(max_length=254)
    subject = models.CharField(max_length=300)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name_plural = "mail deliveries"
        constraints = [
            models.UniqueConstraint(fields=["job", "event", "occurrence", "recipient"], name="mail_once_per_event"),
            # A run is one schedule's one due time: its mail goes once to each address.
            models.UniqueConstraint(fields=["schedule_run", "event", "recipient"], name="mail_once_per_schedule_run"),
        ]

    def __str__(self) -> str:
        about = f"job {self.job_id}" if self.job_id else f"scheduled run {self.schedule_run_id}"
        return f"{self.event} of {about} to {self.recipient} ({self.status})"


class WebhookMessage(models.Model):
    """One event to POST to one URL, kept with its signing secret (encrypted) so that the RQ job
    carries only this row's id; unique per event like the e-mails."""

    job = models.ForeignKey("records.CopyJob", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    url = models.URLField(max_length=500)
    event = models.CharField(max_length=40)
    occurrence = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    secret = EncryptedTextField(blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(fields=["job", "event", "occurrence", "url"], name="webhook_once_per_event")
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.url}"


class WebhookDelivery(models.Model):
    """One attempt to deliver a webhook message: what the receiver answered, or why it failed."""

    message = models.ForeignKey(WebhookMessage, on_delete=models.CASCADE, related_name="deliveries")
    url = models.URLField(max_length=500)
    event = models.CharField(max_length=40)
    attempt = models.PositiveSmallIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event} to {self.url}, attempt {self.attempt}: {self.status_code or self.error}"

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
