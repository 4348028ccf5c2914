"""A profile's masking policy checked against its metadata before it is stored (the command and
the admin): each object exists and each rule fits its field, as the preview checks a copy's."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from records.connectors import connector_for
from records.connectors.base import Connector
from records.connectors.errors import ConnectorError
from records.copying.tree import copy_key_field
from records.masking import keys as masking_keys
from records.masking import rules as masking_rules
from records.models import ConnectionProfile


def policy_check(
    *, profile: ConnectionProfile, policy: masking_rules.Rules, connector: Connector | None = None
) -> None:
    conn = connector or connector_for(profile)
    for obj, rules in policy.items():
        try:
            fields = conn.describe(obj)
        except ConnectorError as exc:
            raise ValidationError(f"{obj}: {profile.name} can't describe it: {exc.message}") from exc
        key = copy_key_field(fields, conn.copy_key_fields)
        masking_rules.check(object_name=obj, fields=fields, rules=rules, key_field=key)


def policy_save(
    *, profile: ConnectionProfile, policy: masking_rules.Rules, user: Any, connector: Connector | None = None
) -> None:
    """Check, then store (audited). A `keep` rule in `policy` drops that field from it."""
    kept = {o: {n: r for n, r in f.items() if r != masking_rules.KEEP} for o, f in policy.items()}
    kept = {o: f for o, f in kept.items() if f}
    policy_check(profile=profile, policy=kept, connector=connector)
    masking_keys.masking_policy_set(profile=profile, policy=kept, user=user)


def policy_with(*, profile: ConnectionProfile, items: list[str]) -> masking_rules.Rules:
    """The profile's policy with `OBJECT:FIELD=RULE` items set (keep: removed)."""
    added = masking_rules.parse(items, top_object="", flag="--set")
    merged = masking_rules.merge(masking_keys.policy_of(profile), added)
    return merged
