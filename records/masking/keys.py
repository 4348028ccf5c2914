"""A target profile's masking key and policy.

The key (32 random bytes, base64 in `ConnectionProfile.masking_key`, encrypted like the secrets) is
made on first use by one conditional UPDATE, so two workers starting the first masked copy into a
profile at once end up with the same key. Rotating it gives every later copy new stand-ins (the
same source value is then another person in the target: say so to whoever rotates).

The policy ({object: {field: rule}}) is what every copy into the profile masks: a user adds rules
to it but can't remove one (`enforce`). Changes of either are audited, never with a value.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from records.lib.audit import audit_log
from records.masking import rules as R
from records.models import ConnectionProfile


def masking_key(profile: ConnectionProfile) -> bytes:
    """The profile's key, made now if it has none (the first writer wins; everyone reads it back)."""
    if not profile.masking_key:
        ConnectionProfile.objects.filter(pk=profile.pk, masking_key_set_at__isnull=True).update(
            masking_key=_new_key(), masking_key_set_at=timezone.now()
        )
        fresh = ConnectionProfile.objects.only("masking_key", "masking_key_set_at").get(pk=profile.pk)
        profile.masking_key, profile.masking_key_set_at = fresh.masking_key, fresh.masking_key_set_at
    return base64.b64decode(profile.masking_key)


def masking_key_rotate(*, profile: ConnectionProfile, user: Any) -> None:
    profile.masking_key, profile.masking_key_set_at = _new_key(), timezone.now()
    with transaction.atomic():
        profile.save(update_fields=["masking_key", "masking_key_set_at"])
        audit_log(actor=user, action="profile.masking_key_rotate", profile=profile)


def _new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def policy_of(profile: ConnectionProfile | None) -> R.Rules:
    return {o: dict(f) for o, f in ((profile.masking_policy or {}) if profile else {}).items()}


def parse_policy(data: Any) -> R.Rules:
    """A policy as JSON ({object: {field: rule}}): its shape and its rules (their fit to the fields
    is checked by each preview, against the metadata)."""
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValidationError('A masking policy is a JSON object: {"OBJECT": {"FIELD": "RULE", ...}, ...}.')
    items = [f"{obj}:{name}={rule}" for obj, fields in data.items() for name, rule in fields.items()]
    return R.parse(items, top_object="", flag="Policy")


def masking_policy_set(*, profile: ConnectionProfile, policy: R.Rules, user: Any) -> None:
    """Replace the policy (audited: the rules before and after, which hold no value)."""
    before = policy_of(profile)
    profile.masking_policy = {o: dict(f) for o, f in policy.items() if f}
    with transaction.atomic():
        profile.save(update_fields=["masking_policy"])
        audit_log(
            actor=user, action="profile.masking_policy", profile=profile, before=before, after=profile.masking_policy
        )


def enforce(*, rules: R.Rules, policy: R.Rules, profile_name: str) -> R.Rules:
    """The rules a copy into the profile applies: the policy's, plus the user's. A user's rule on a
    field the policy masks is refused unless it is the policy's or `blank` (masks more)."""
    for obj, fields in rules.items():
        for name, rule in fields.items():
            wanted = policy.get(obj, {}).get(name)
            if wanted and rule not in (wanted, R.BLANK):
                raise ValidationError(
                    f"{obj}.{name}: the masking policy of {profile_name} masks it as {wanted}; "
                    f"a copy into {profile_name} can't {'leave it unmasked' if rule == R.KEEP else 'change that'}."
                )
    return R.merge(policy, rules)
