"""A user's API token: only a hash of its secret is kept (records/api/tokens.py says why sha256).
records/models/__init__.py imports this so Django finds it."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    class Scope(models.TextChoices):
        READ = "read", "Read: templates and jobs"
        RUN = "run", "Run: also run templates, cancel, resume and undo jobs"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.READ)
    # The token's first characters, shown on the settings page so its owner can tell tokens apart.
    prefix = models.CharField(max_length=16, editable=False)
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)  # sha256 hex
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)
    # When its use was last audited (api.token.use, at most once per API_TOKEN_USE_AUDIT_SECONDS).
    use_audited = models.DateTimeField(null=True, blank=True, editable=False)
    expires = models.DateTimeField(null=True, blank=True)
    revoked = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.user}, {self.scope})"

    def refusal(self, now: datetime) -> str:
        """Why this token may not be used at `now` ("" when it may)."""
        if self.revoked is not None:
            return "This API token was revoked."
        if self.expires is not None and self.expires <= now:
            return f"This API token expired on {self.expires:%Y-%m-%d %H:%M} UTC."
        if not self.user.is_active:
            return "The account of this API token is disabled."
        return ""
