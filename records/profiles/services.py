"""Connection profile services: create, update, delete, share and test a profile.

Keyword-only and shared by the web pages, the admin and the `profile` command. Every write is
audited; audit details name the fields that changed, never a secret value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from records.connectors import REGISTRY, connector_class, connector_for
from records.connectors.errors import ConfigurationError
from records.connectors.urls import check_base_url
from records.connectors.vault import LATEST_API_VERSION
from records.copying.tree import copy_key_names
from records.lib.audit import audit_log
from records.lib.error_words import friendly_error
from records.models import ConnectionProfile, System, manages_all_profiles
from records.profiles.org_ids import profile_learn_org_id

if TYPE_CHECKING:
    from django.contrib.auth.models import Group, User

SECRET_FIELDS = ("secret", "refresh_token")
PLAIN_FIELDS = (
    "name",
    "system",
    "base_url",
    "accounts_url",
    "api_version",
    "username",
    "concurrency",
    "owner",
    "lineage_fields",
)
MAX_TEST_MESSAGE = 500
# Where the secrets are sent. A secret was given for one address: moving the profile to another
# clears the stored ones, so the owner's "Test" can't hand them to a server of their choosing.
URL_FIELDS = ("system", "base_url", "accounts_url")


def clean_profile_urls(*, system: str, base_url: str, accounts_url: str) -> tuple[str, str]:
    """Return the normalised URLs, or raise ValidationError naming what is wrong."""
    if system == System.VAULT:
        return _checked_url("base_url", base_url, "vault"), ""
    if system == System.ZOHO:
        if not accounts_url:
            raise ValidationError({"accounts_url": "Zoho needs the accounts server URL."})
        return _checked_url("base_url", base_url, "zoho_api"), _checked_url(
            "accounts_url", accounts_url, "zoho_accounts"
        )
    raise ValidationError(f"Unknown system {system!r}: choose vault or zoho.", code="invalid_system")


def _checked_url(name: str, url: str, kind: str) -> str:
    """The URL normalised, or a ValidationError keyed by its field, so a form shows it there."""
    try:
        return check_base_url(url, kind, allow_loopback=settings.ALLOW_LOOPBACK_CONNECTIONS)
    except ConfigurationError as exc:
        raise ValidationError({name: ValidationError(exc.message, code="invalid_url")}) from None


def _validate(profile: ConnectionProfile) -> None:
    profile.base_url, profile.accounts_url = clean_profile_urls(
        system=profile.system, base_url=profile.base_url, accounts_url=profile.accounts_url
    )
    if not profile.name.strip():
        raise ValidationError({"name": "Give the profile a name."})
    if not profile.username.strip():
        raise ValidationError({"username": "Give the user name (Vault) or client id (Zoho)."})
    if not profile.concurrency or profile.concurrency < 1:
        raise ValidationError({"concurrency": "Concurrency must be at least 1."})
    version_error = api_version_error(system=profile.system, api_version=profile.api_version)
    if version_error:
        raise ValidationError({"api_version": version_error})
    lineage_error = lineage_fields_error(system=profile.system, lineage_fields=profile.lineage_fields)
    if lineage_error:
        raise ValidationError({"lineage_fields": lineage_error})
    # Unique per owner: a user must not learn the names of other users' profiles.
    dupes = ConnectionProfile.objects.filter(owner=profile.owner, name__iexact=profile.name).exclude(pk=profile.pk)
    if dupes.exists():
        raise ValidationError({"name": f"A profile named “{profile.name}” already exists."})


VAULT_API_VERSION = re.compile(r"v\d{1,3}\.\d{1,2}")


def latest_vault_api_version() -> str:
    return LATEST_API_VERSION


def api_version_error(*, system: str, api_version: str) -> str:
    """The one rule for a profile's API version: Vault's is "v" and two numbers (v25.2)."""
    if system == "vault" and not VAULT_API_VERSION.fullmatch((api_version or "").strip()):
        return "Give Vault's API version as v and two numbers, e.g. v25.2."
    return ""


def lineage_fields_error(*, system: str, lineage_fields: Any) -> str:
    """The rule for a profile's default lineage fields ({object: text field}): never the copy key,
    Record Copier's own field. By name: the profile's objects are not described here (the copy's
    own checks refuse it again against the metadata)."""
    lineage_fields = {} if lineage_fields is None else lineage_fields
    if not isinstance(lineage_fields, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in lineage_fields.items()
    ):
        return 'Give the default lineage fields as {"object": "text field"}, e.g. {"Contacts": "Description"}.'
    keys = copy_key_names(connector_class(system).copy_key_fields) if system in REGISTRY else ()
    own = [f"{obj}: {field}" for obj, field in lineage_fields.items() if field in keys]
    if own:
        return (
            f"{', '.join(own)} is Record Copier's own field: it holds each copy's copy key. "
            "Choose another text field for the lineage stamp."
        )
    return ""


def profile_create(
    *,
    name: str,
    system: str,
    base_url: str,
    accounts_url: str = "",
    api_version: str = "",
    username: str,
    secret: str = "",
    refresh_token: str = "",
    owner: User | None = None,
    concurrency: int = 5,
    protected: bool = False,
    actor: User | None,
) -> ConnectionProfile:
    """Create a profile owned by `owner` (the actor when not given) and audit it. A Vault profile
    given no API version gets the newest the app supports. `protected`: copies into it wait for
    approval (records/copying/approval.py)."""
    now = timezone.now()
    if system == System.VAULT and not (api_version or "").strip():
        api_version = latest_vault_api_version()
    profile = ConnectionProfile(
        name=name.strip(),
        system=system,
        base_url=base_url,
        accounts_url=accounts_url or "",
        api_version=api_version or "",
        username=username.strip(),
        secret=secret or "",
        secret_set_at=now if secret else None,
        refresh_token=refresh_token or "",
        refresh_token_set_at=now if refresh_token else None,
        owner=owner or actor,
        concurrency=concurrency,
        protected=protected,
    )
    _validate(profile)
    with transaction.atomic():
        profile.save()
        audit_log(
            actor=actor,
            action="profile.create",
            profile=profile,
            name=profile.name,
            system=profile.system,
            base_url=profile.base_url,
            owner=profile.owner.get_username(),
            secrets_set=[f for f in SECRET_FIELDS if getattr(profile, f)],
            protected=profile.protected,
        )
    return profile


def profile_set_protected(*, profile: ConnectionProfile, protected: bool, actor: User | None) -> ConnectionProfile:
    """Mark a profile protected (copies into it wait for approval) or not, and audit it. Who may
    change the profile may protect it; lifting the protection also takes `records.approve_copy`,
    or a requester could lift it and copy. `actor` None: the command line (an operator)."""
    if actor is not None:
        if not (manages_all_profiles(actor) or profile.owner_id == actor.pk):
            raise PermissionDenied("Only the profile's owner can change its protection.")
        if not protected and not actor.has_perm("records.approve_copy"):
            raise PermissionDenied("Only someone who may approve copies can lift a profile's protection.")
    with transaction.atomic():
        changed = (
            ConnectionProfile.objects.filter(pk=profile.pk).exclude(protected=protected).update(protected=protected)
        )
        profile.protected = protected
        if changed:
            audit_log(actor=actor, action="profile.protect", profile=profile, protected=protected)
    return profile


def profile_update(*, profile: ConnectionProfile, actor: User | None, **changes: Any) -> ConnectionProfile:
    """Apply `changes` to `profile`. A blank secret keeps the stored one; a value replaces it.

    Replacing a secret stamps its `*_set_at` and drops the cached session token, so the next
    call logs in with the new credentials. Moving the profile (system, base or accounts URL)
    clears the stored secrets not given in the same call: they must be entered again.
    """
    before = _address(profile)
    unknown = set(changes) - set(PLAIN_FIELDS) - set(SECRET_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown profile fields: {', '.join(sorted(unknown))}.")
    changed = []
    for field in PLAIN_FIELDS:
        if field in changes and changes[field] is not None:
            value = changes[field]
            if isinstance(value, str):
                value = value.strip()
            if getattr(profile, field) != value:
                setattr(profile, field, value)
                changed.append(field)
    replaced = _replace_secrets(profile, changes)
    cleared = _clear_secrets_if_moved(profile, before, replaced)
    if replaced or {"base_url", "accounts_url", "username", "system"} & set(changed):
        # Credentials or the endpoint changed: the cached session belongs to the old ones.
        profile.session_token = ""
        profile.session_expires_at = None
        profile.org_id = ""  # they may reach another org: learned again (profiles/org_ids.py)
    _validate(profile)
    with transaction.atomic():
        profile.save()
        details: dict[str, Any] = {"changed": changed, "secrets_replaced": replaced, "secrets_cleared": cleared}
        if "owner" in changed:
            details["owner"] = profile.owner.get_username()
        audit_log(actor=actor, action="profile.update", profile=profile, **details)
    return profile


def _replace_secrets(profile: ConnectionProfile, changes: dict[str, Any]) -> list[str]:
    now = timezone.now()
    replaced = []
    for field in SECRET_FIELDS:
        value = changes.get(field)
        if value:
            setattr(profile, field, value)
            setattr(profile, f"{field}_set_at", now)
            replaced.append(field)
    return replaced


def _address(profile: ConnectionProfile) -> tuple[str, ...] | None:
    """Where the profile's secrets go, normalised (a trailing slash is not a move); None if refused."""
    try:
        urls = clean_profile_urls(system=profile.system, base_url=profile.base_url, accounts_url=profile.accounts_url)
    except ValidationError:
        return None
    return (profile.system, *urls)


def profile_moves(*, profile: ConnectionProfile, system: str, base_url: str, accounts_url: str) -> bool:
    """Whether these values point a saved profile somewhere else (so its secrets would be cleared)."""
    if not profile.pk:
        return False
    moved = ConnectionProfile(system=system, base_url=base_url or "", accounts_url=accounts_url or "")
    before = _address(profile)
    return before is None or before != _address(moved)


def _clear_secrets_if_moved(
    profile: ConnectionProfile, before: tuple[str, ...] | None, replaced: list[str]
) -> list[str]:
    """Clear the stored secrets not given anew when the profile now points somewhere else."""
    after = _address(profile)
    if before is not None and before == after:
        return []
    cleared = [f for f in SECRET_FIELDS if f not in replaced and getattr(profile, f)]
    for field in cleared:
        setattr(profile, field, "")
        setattr(profile, f"{field}_set_at", None)
    return cleared


def missing_secrets(profile: ConnectionProfile) -> list[str]:
    """The secrets this profile's system needs that are not stored (e.g. cleared by a move)."""
    needed = ["secret", "refresh_token"] if profile.system == System.ZOHO else ["secret"]
    return [f for f in needed if not getattr(profile, f)]


def profile_set_secrets(
    *, profile: ConnectionProfile, actor: User | None, secret: str = "", refresh_token: str = ""
) -> ConnectionProfile:
    """Replace one or both secrets (the admin's "set secret" page); blank ones are kept."""
    return profile_update(profile=profile, actor=actor, secret=secret, refresh_token=refresh_token)


def profile_delete_refusal(*, profile: ConnectionProfile) -> str:
    """Why the profile can't be deleted, or "" when it can: its copy jobs keep the audit trail."""
    jobs = profile.jobs.count()
    if not jobs:
        return ""
    noun = "copy job" if jobs == 1 else "copy jobs"
    return f"This profile has {jobs:,} {noun}, so it can't be deleted: they keep the record of what was copied."


def profile_delete(*, profile: ConnectionProfile, actor: User | None) -> None:
    """Delete a profile. Raises ProtectedError while it has copy jobs (they keep the audit trail)."""
    with transaction.atomic():
        pk, name = profile.pk, profile.name
        # Audit first, pointing at no profile: the FK would be nulled by the delete anyway.
        audit_log(actor=actor, action="profile.delete", profile_id=pk, name=name)
        profile.delete()


def profile_share(
    *, profile: ConnectionProfile, users: Iterable[User] = (), groups: Iterable[Group] = (), actor: User | None
) -> ConnectionProfile:
    """Set who the profile is shared with (replacing the previous sharing)."""
    with transaction.atomic():
        profile.shared_with_users.set(users)
        profile.shared_with_groups.set(groups)
        audit_log(
            actor=actor,
            action="profile.share",
            profile=profile,
            users=sorted(u.get_username() for u in profile.shared_with_users.all()),
            groups=sorted(g.name for g in profile.shared_with_groups.all()),
        )
    return profile


def _test_connection(profile: ConnectionProfile) -> tuple[bool, str]:
    missing = missing_secrets(profile)
    if missing:
        names = " and ".join(
            "the refresh token" if f == "refresh_token" else "the password / client secret" for f in missing
        )
        return (
            False,
            f"No {names} stored (cleared when the profile's address changed?): enter {'them' if len(missing) > 1 else 'it'} again.",
        )
    try:
        connector = connector_for(profile)
        message = connector.test_connection() or "connected"
    except Exception as exc:  # noqa: BLE001 - every failure becomes a message for the user
        return False, friendly_error(exc, profile)
    profile_learn_org_id(profile=profile, connector=connector)
    return True, message


def profile_test(*, profile: ConnectionProfile, actor: User | None) -> tuple[bool, str]:
    """Log in and make one cheap call; store and return (ok, message). Never raises for remote errors."""
    try:
        clean_profile_urls(system=profile.system, base_url=profile.base_url, accounts_url=profile.accounts_url)
    except ValidationError as exc:
        ok, message = False, f"The URL is refused: {' '.join(exc.messages)}"
    else:
        ok, message = _test_connection(profile)
    for value in (profile.secret, profile.refresh_token):
        if value:
            message = message.replace(value, "[redacted]")
    message = message[:MAX_TEST_MESSAGE]
    ConnectionProfile.objects.filter(pk=profile.pk).update(
        last_tested_at=timezone.now(), last_test_ok=ok, last_test_message=message
    )
    profile.refresh_from_db(fields=["last_tested_at", "last_test_ok", "last_test_message"])
    audit_log(actor=actor, action="profile.test", profile=profile, ok=ok, message=message)
    return ok, message


def profiles_rotate_keys() -> int:
    """Re-encrypt every stored secret under the first CREDENTIAL_KEYS key; return rows rewritten.

    Reading decrypts with any configured key, saving encrypts with the first, so a plain
    read-then-write of each encrypted column is the whole rotation.
    """
    count = 0
    fields = [*SECRET_FIELDS, "session_token", "masking_key"]
    with transaction.atomic():
        for profile in ConnectionProfile.objects.select_for_update().only("pk", *fields):
            profile.save(update_fields=fields)
            count += 1
    return count


def profile_remember_files(*, profile: ConnectionProfile, copy: bool) -> None:
    """The user's last choice about files (copy them or leave them out): the next preview's default."""
    if profile.copy_files != copy:
        ConnectionProfile.objects.filter(pk=profile.pk).update(copy_files=copy)
        profile.copy_files = copy
