"""Saved copy templates and their versions."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from records.fields import EncryptedTextField
from records.models.jobs import CopyJob, approval_expiry_cutoff  # noqa: F401
from records.models.profiles import AnyUser, ConnectionProfile, System, manages_all_profiles  # noqa: F401


class TemplateQuerySet(models.QuerySet["CopyTemplate"]):
    def for_user(self, user: AnyUser) -> TemplateQuerySet:
        """The templates `user` may see and run, as profiles are shared (ProfileQuerySet.for_user):
        all for who manages all profiles, else their own and those shared with them or a group."""
        if manages_all_profiles(user):
            return self.all()
        return self.filter(
            Q(owner=user) | Q(shared_with_users=user) | Q(shared_with_groups__in=user.groups.all())
        ).distinct()


class CopyTemplate(models.Model):
    """A saved copy definition (records/copy_templates/): run again on other records. What it copies is
    in its versions; editing adds a version, so every job can name the one it ran."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Unique per owner, as profiles' names are: one user never learns another's names by a refusal.
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="copy_templates")
    shared_with_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="shared_copy_templates"
    )
    shared_with_groups = models.ManyToManyField("auth.Group", blank=True, related_name="shared_copy_templates")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    # Told when a job run from the template ends, besides its requester (copy_templates/notifications.py):
    # e-mail addresses, and a webhook whose URL passed notify/webhook_urls.py when saved. The secret
    # signs each delivery; encrypted like the profiles' secrets and never shown again.
    notify_emails = models.JSONField(default=list, blank=True)
    webhook_url = models.CharField(max_length=500, blank=True)
    webhook_secret = EncryptedTextField(blank=True, default="")

    objects = TemplateQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="template_owner_name_unique")]

    def __str__(self) -> str:
        return self.name

    @property
    def latest(self) -> CopyTemplateVersion | None:
        return self.versions.order_by("-number").first()


class CopyTemplateVersion(models.Model):
    """One state of a template: the copy as CopyRequest stores it (records/copy_templates/definition.py)."""

    template = models.ForeignKey(CopyTemplate, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    # {"profile": code, "target": code (absent: within it), "object_name", "mode", "source_ids",
    # "overrides", "row_overrides", "options"}: CopyRequest.key_inputs() with the profile's code.
    definition = models.JSONField(default=dict)
    # The object's label when the version was made ("Products"), for the pages to show without a
    # remote read; blank for older versions and when it could not be read (the API name is shown).
    object_label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["template", "number"]
        constraints = [models.UniqueConstraint(fields=["template", "number"], name="one_template_version_number")]

    def __str__(self) -> str:
        return f"{self.template.name} v{self.number}"
