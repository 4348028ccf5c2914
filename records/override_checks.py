"""Checks of a copy's field values that need the remote system, run on the fields step before
anything is queued: a reference names a record that exists, a unique value isn't taken already.

One call per checked value (a get or a find), only for the values the person typed. The services
(so the CLI and bulk CSV too) check the references the same way before anything is queued."""

from __future__ import annotations

from records.connectors.base import ConnectorError, FieldType, NotFound
from records.copying.plan import ref_id

# Reference targets the lookup widget can't search (a connector's search reads records; Zoho's
# Owner points at users): their ids are still checked, by a get.
UNSEARCHABLE_TARGETS = frozenset({"Users"})


def remote_errors(
    *, connector, object_name: str, infos: dict, overrides: dict, unique: bool = True, seen: dict | None = None
) -> dict[str, str]:
    """Return {field: message} for the overrides the remote system would refuse: references to
    records (or users) that don't exist and, with `unique`, unique values already taken. `seen`
    keeps the answers for (field, value) across calls (a CSV repeats an Owner on every row)."""
    errors: dict[str, str] = {}
    seen = {} if seen is None else seen
    for name, value in overrides.items():
        info = infos.get(name)
        if info is None or value in (None, "", []):
            continue
        message = None
        if info.type == FieldType.REFERENCE:
            key = (name, str(value))
            if key not in seen:
                seen[key] = _reference_error(connector, info, value)
            message = seen[key]
        if message is None and unique and info.unique and isinstance(value, str):
            message = _taken_error(connector, object_name, info, value)
        if message:
            errors[name] = message
    return errors


def _reference_error(connector, info, value) -> str | None:
    if not info.reference_to:
        return None
    target = ref_id(value)
    try:
        # Zoho's Owner and user lookups point at Users: the connector reads those by the Users API.
        connector.get(info.reference_to, target)
    except NotFound:
        if info.reference_to == "Users":
            return f"No user has the id {target}: pick one of the CRM's users."
        return f"No {info.reference_to} record has the id {target}: pick one with the lookup."
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
