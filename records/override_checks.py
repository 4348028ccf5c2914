"""Checks of a copy's field values that need the remote system, run on the fields step before
anything is queued: a reference names a record that exists, a unique value isn't taken already.

One call per checked value (a get or a find), only for the values the person typed."""

from __future__ import annotations

from records.connectors.base import ConnectorError, FieldType, NotFound

# Zoho user lookups (Owner) name users, which no connector call reads: left to the remote check.
UNCHECKED_TARGETS = frozenset({"Users"})


def remote_errors(*, connector, object_name: str, infos: dict, overrides: dict) -> dict[str, str]:
    """Return {field: message} for the overrides the remote system would refuse."""
    errors: dict[str, str] = {}
    for name, value in overrides.items():
        info = infos.get(name)
        if info is None or value in (None, "", []):
            continue
        message = _reference_error(connector, info, value) if info.type == FieldType.REFERENCE else None
        if message is None and info.unique and isinstance(value, str):
            message = _taken_error(connector, object_name, info, value)
        if message:
            errors[name] = message
    return errors


def _reference_error(connector, info, value) -> str | None:
    if not info.reference_to or info.reference_to in UNCHECKED_TARGETS:
        return None
    try:
        connector.get(info.reference_to, str(value))
    except NotFound:
        return f"No {info.reference_to} record has the id {value}: pick one with the lookup."
    except ConnectorError:
        return None  # can't tell now; the copy itself reports a bad reference per record
    return None


def _taken_error(connector, object_name: str, info, value: str) -> str | None:
    try:
        found = connector.find(object_name, {info.name: value})
    except ConnectorError:
        return None
    if not found:
        return None
    holder = found[0].name or found[0].id
    return f"{info.label} must be unique and “{value}” is already used by {holder}: choose another value."
