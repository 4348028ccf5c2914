"""The audit trail."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from records.models.jobs import CopyJob, approval_expiry_cutoff  # noqa: F401
from records.models.profiles import AnyUser, ConnectionProfile, System, manages_all_profiles  # noqa: F401


class AuditEvent(models.Model):
    """Who did what, when, to which profile or job. Never holds secret values."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=50)
    profile = models.ForeignKey(ConnectionProfile, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    job = models.ForeignKey(CopyJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    details = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M} {self.actor} {self.action}"
