"""Connection profiles: where records are read and written, who may use them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import models
from django.db.models import Q

from records.fields import EncryptedTextField


class System(models.TextChoices):
    VAULT = "vault", "Veeva Vault"
    ZOHO = "zoho", "Zoho CRM"


# Who a rule or a query is asked about: a signed-in user, or the anonymous one of a request.
AnyUser = User | AnonymousUser


def manages_all_profiles(user: AnyUser) -> bool:
    """Who sees, uses and changes every profile: superusers and holders of the admin's
    change permission on profiles, who are staff (the admin is where that permission is used).
    Being staff alone is not enough. Business users (not staff) cost no permission queries."""
    return user.is_active and (
        user.is_superuser or (user.is_staff and user.has_perm("records.change_connectionprofile"))
    )


class ProfileQuerySet(models.QuerySet["ConnectionProfile"]):
    def for_user(self, user: AnyUser) -> ProfileQuerySet:
        """Return the profiles `user` may see and use: all for those who manage all profiles,
        for others their own and those shared with them."""
        if manages_all_profiles(user):
            return self.all()
        return self.filter(
            Q(owner=user) | Q(shared_with_users=user) | Q(shared_with_groups__in=user.groups.all())
        ).distinct()


class ConnectionProfile(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100)  # unique per owner (Meta): one user can't learn another's names
    system = models.CharField(max_length=10, choices=System.choices)
    # Vault: https://{vaultDNS}; Zoho: the API domain, e.g. https://www.zohoapis.eu
    base_url = models.URLField("base URL", max_length=300)
    # Zoho only: the data centre's accounts server, e.g. https://accounts.zoho.eu
    accounts_url = models.URLField("accounts URL", max_length=300, blank=True)
    api_version = models.CharField(max_length=20, blank=True)
    # Vault user name, or Zoho OAuth client id.
    username = models.CharField("username / client id", max_length=200)
    # Vault password, or Zoho client secret.
    secret = EncryptedTextField(blank=True, default="")
    secret_set_at = models.DateTimeField(null=True, blank=True)
    # Zoho only.
    refresh_token = EncryptedTextField(blank=True, default="")
    refresh_token_set_at = models.DateTimeField(null=True, blank=True)
    # Cached Vault session id / Zoho access token, shared by every worker of this profile.
    session_token = EncryptedTextField(blank=True, default="")
    session_expires_at = models.DateTimeField(null=True, blank=True)
    # Zoho: most calls this profile makes at once across all workers (the edition's concurrency).
    concurrency = models.PositiveSmallIntegerField(default=5)
    # {object: text field}: where a copy writes its lineage stamp unless the user names another.
    lineage_fields = models.JSONField(default=dict, blank=True)
    # Production, validation: a copy written into it waits for another user's approval (copying/approval.py).
    protected = models.BooleanField(default=False)
    # The org's or vault's id as the system names it (Zoho's org id, Vault's vaultId), learned by the
    # connection test or the first copy; "" until then. Scopes the ids the app knows (copying/known.py).
    org_id = models.CharField("org id", max_length=64, blank=True, editable=False)
    # Masking (records/masking/keys.py): the key whose HMAC seeds the stand-ins of copies written
    # here (made on first use, rotatable; encrypted like the secrets), and the policy every copy
    # into this profile applies, {object: {field: rule}}.
    masking_key = EncryptedTextField(blank=True, default="")
    masking_key_set_at = models.DateTimeField(null=True, blank=True)
    masking_policy = models.JSONField(default=dict, blank=True)
    # Files (attachments, file fields): the user's last choice for copies from this profile (the
    # preview's default), and a target's policy that no copy writes files into it.
    copy_files = models.BooleanField(default=False)
    files_forbidden = models.BooleanField(default=False)

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_profiles")
    shared_with_users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="shared_profiles")
    shared_with_groups = models.ManyToManyField("auth.Group", blank=True, related_name="shared_profiles")

    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    last_tested_at = models.DateTimeField(null=True, blank=True)
    last_test_ok = models.BooleanField(null=True, blank=True)
    last_test_message = models.CharField(max_length=500, blank=True)

    objects = ProfileQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="profile_owner_name_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_system_display()})"
