"""Copy keys: which objects of a profile have the field that makes a lost answer exact to
reconcile, and adding it (staff only) through the system's metadata API. The field names are the
connector's. Keyword-only services shared by the profile's page and the `profile` command."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError

from records.connectors import base, connector_for
from records.connectors.errors import ConnectorError, Rejected
from records.copying.tree import copy_key_field
from records.lib.audit import audit_log
from records.lib.error_words import friendly_error
from records.models import ConnectionProfile, manages_all_profiles

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


@dataclass(frozen=True)
class CopyKeyState:
    """One object of a profile: the copy-key field the engine would use on it ("" when none), or
    why its fields could not be read."""

    object_name: str
    label: str
    field: str = ""
    error: str = ""


@dataclass(frozen=True)
class CopyKeyAdded:
    object_name: str
    field: str = ""
    error: str = ""


def copy_keys_off() -> bool:
    """COPY_KEY_FIELDS set but empty: copies use no copy key, so a new field would not be used."""
    return settings.COPY_KEY_FIELDS is not None and not settings.COPY_KEY_FIELDS


def may_add_copy_keys(user: User | AnonymousUser | None) -> bool:
    """Adding a field changes the remote system's configuration: staff who may change profiles."""
    return user is not None and getattr(user, "is_authenticated", False) and manages_all_profiles(user)


def profile_copy_keys(
    *, profile: ConnectionProfile, objects: Iterable[str] | None = None, connector: base.Connector | None = None
) -> list[CopyKeyState]:
    """The profile's objects (the connector's list_objects, or only those named in `objects`),
    each with the copy-key field it has: one describe per object."""
    conn = connector or connector_for(profile)
    listed = conn.list_objects()
    if objects is not None:
        wanted = set(objects)
        listed = [o for o in listed if o.name in wanted]
    out = []
    for info in listed:
        try:
            field = copy_key_field(conn.describe(info.name), conn.copy_key_fields)
        except ConnectorError as exc:
            out.append(CopyKeyState(info.name, info.label, error=friendly_error(exc, profile)))
        else:
            out.append(CopyKeyState(info.name, info.label, field=field))
    return out


def profile_copy_keys_page(
    *, profile: ConnectionProfile, match: str = "", limit: int = 50, connector: base.Connector | None = None
) -> tuple[list[CopyKeyState], int]:
    """The profile page's share of profile_copy_keys: the objects whose name or label contains
    `match`, the first `limit` of them described (one describe each), and how many matched."""
    conn = connector or connector_for(profile)
    needle = match.strip().lower()
    names = [o.name for o in conn.list_objects() if needle in o.name.lower() or needle in o.label.lower()]
    return profile_copy_keys(profile=profile, objects=names[:limit], connector=conn), len(names)


def profile_copy_key_plan(
    *,
    profile: ConnectionProfile,
    objects: Iterable[str],
    user: User | AnonymousUser | None,
    connector: base.Connector | None = None,
) -> list[base.CopyKeyField]:
    """What adding the copy-key field to `objects` would create, nothing written. Raises
    PermissionDenied for a user who may not, ValidationError naming each object it can't be added to."""
    if not may_add_copy_keys(user):
        raise PermissionDenied("Only staff who may change connection profiles add copy-key fields.")
    if copy_keys_off():
        raise ValidationError("COPY_KEY_FIELDS is set empty: copies use no copy key, so a new field would not be used.")
    names = list(dict.fromkeys(o.strip() for o in objects if o and o.strip()))
    if not names:
        raise ValidationError("Name at least one object.")
    conn = connector or connector_for(profile)
    states = {s.object_name: s for s in profile_copy_keys(profile=profile, objects=names, connector=conn)}
    plan, problems = [], []
    for name in names:
        state = states.get(name)
        if state is None or state.error:
            problems.append(f"{name}: {state.error if state else 'not an object this profile copies.'}")
        elif state.field:
            problems.append(f"{name} already has the copy-key field {state.field}.")
        else:
            try:
                plan.append(conn.copy_key_definition(name))
            except ConnectorError as exc:
                problems.append(f"{name}: {exc.message if isinstance(exc, Rejected) else friendly_error(exc, profile)}")
    configured = settings.COPY_KEY_FIELDS
    unused = [d for d in plan if configured is not None and d.name not in configured]
    problems += [
        f"{d.object_name}: COPY_KEY_FIELDS does not name {d.name}, so copies would not use it." for d in unused
    ]
    if problems:
        raise ValidationError(problems)
    return plan


def profile_add_copy_keys(
    *,
    profile: ConnectionProfile,
    objects: Iterable[str],
    user: User | AnonymousUser | None,
    connector: base.Connector | None = None,
) -> list[CopyKeyAdded]:
    """Create the copy-key field on each of `objects` (checked first as profile_copy_key_plan
    checks them), each creation audited; one object's failure doesn't stop the others."""
    conn = connector or connector_for(profile)
    plan = profile_copy_key_plan(profile=profile, objects=objects, user=user, connector=conn)
    out = []
    for definition in plan:
        try:
            field = conn.add_copy_key(definition.object_name)
        except ConnectorError as exc:
            error = exc.message if isinstance(exc, Rejected) else friendly_error(exc, profile)
            out.append(CopyKeyAdded(definition.object_name, error=error))
        else:
            used = settings.COPY_KEY_FIELDS if settings.COPY_KEY_FIELDS is not None else conn.copy_key_fields
            error = "" if field in used else f"created as {field}, which copies use only once COPY_KEY_FIELDS names it"
            out.append(CopyKeyAdded(definition.object_name, field=field, error=error))
        added = out[-1]
        audit_log(
            actor=user,
            action="profile.copy_key_add",
            profile=profile,
            object_name=added.object_name,
            field=added.field or definition.name,
            ok=not added.error,
            error=added.error,
            call=definition.call,
        )
    return out
