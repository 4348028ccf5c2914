"""Checks of a copy's field values that need the remote system, run on the fields step before
anything is queued: a reference names a record that exists, a unique value isn't taken already.

Only the values the person typed are checked: references in batches (Connector.names), unique
values one find each. The services (so the CLI and bulk CSV too) check the references the same
way (missing_references) before anything is queued."""

from __future__ import annotations

from typing import Any

from records.connectors import user_objects
from records.connectors.base import Connector, FieldInfo, FieldType
from records.connectors.errors import ConnectorError
from records.copying.references import ref_id
from records.copying.value_templates import is_template

MAX_TAKEN_SHOWN = 5  # taken values named in one refusal


def is_user_target(object_name: str) -> bool:
    """A reference target that is the system's users, not records (a connector's user_object):
    the lookup widget searches them through Connector.users, not Connector.search."""
    return object_name in user_objects()


def remote_errors(
    *, connector: Connector, object_name: str, infos: dict[str, FieldInfo], overrides: dict[str, Any]
) -> dict[str, str]:
    """Return {field: message} for the overrides the remote system would refuse: references to
    records (or users) that don't exist, unique values already taken."""
    errors: dict[str, str] = dict(missing_references(connector=connector, infos=infos, rows=[("", overrides)]))
    for name, value in overrides.items():
        info = infos.get(name)
        if name in errors or info is None or not info.unique or not isinstance(value, str) or not value:
            continue
        message = _taken_error(connector, object_name, info, value)
        if message:
            errors[name] = message
    return errors


def missing_references(
    *, connector: Connector, infos: dict[str, FieldInfo], rows: list[tuple[str, dict[str, Any]]]
) -> list[tuple[str, str]]:
    """(field, message) for each reference value of `rows` ((source id, values) pairs; "" for the
    top record's overrides) that names no record: the distinct ids of each target read in batches
    (Connector.names), so a CSV of 5,000 rows costs a few calls. Zoho's Owner and user lookups point
    at Users, which the connector reads by the Users API. A read that fails can't tell: not refused
    (the copy itself reports a bad reference per record)."""
    wanted: dict[str, dict[str, None]] = {}
    for _, values in rows:
        for name, value in values.items():
            info = infos.get(name)
            if info is not None and info.type == FieldType.REFERENCE and info.reference_to and ref_id(value):
                wanted.setdefault(info.reference_to, {})[ref_id(value)] = None
    found: dict[str, dict[str, str] | None] = {}
    for target, ids in wanted.items():
        try:
            found[target] = connector.names(target, list(ids))
        except ConnectorError:
            found[target] = None
    errors = []
    for source_id, values in rows:
        for name, value in values.items():
            info = infos.get(name)
            if info is None or info.type != FieldType.REFERENCE:
                continue
            known = found.get(info.reference_to)
            if known is not None and ref_id(value) and ref_id(value) not in known:
                where = f"Record {source_id}: " if source_id else ""
                errors.append((name, where + _missing_message(info, ref_id(value))))
    return errors


def _missing_message(info: FieldInfo, record_id: str) -> str:
    if is_user_target(info.reference_to):
        return f"No user has the id {record_id}: pick one of its users."
    # The field's label ("Country"), as the form names it, rather than the target's API name.
    return f"No {info.label or info.reference_to} record has the id {record_id}: pick one with the lookup."


def taken_values(
    *, connector: Connector, object_name: str, infos: dict[str, FieldInfo], rows: list[tuple[str, dict[str, Any]]]
) -> list[str]:
    """ "Record ID: …" for each row ((source id, values) pairs) whose literal unique value another
    record holds already, the values of each field read in batches (Connector.holders); templates
    are rendered per record later and not checked here. At most a few are named: enough to show
    what to fix. A read that fails can't tell: not refused (the row fails when it runs)."""
    wanted: dict[str, list[str]] = {}
    for _, values in rows:
        for name, value in values.items():
            info = infos.get(name)
            if info is not None and info.unique and isinstance(value, str) and value and not is_template(value):
                wanted.setdefault(name, []).append(value)
    held: dict[str, dict[str, str]] = {}
    for name, field_values in wanted.items():
        try:
            held[name] = connector.holders(object_name, name, field_values)
        except ConnectorError:
            held[name] = {}
    found = [
        f"Record {source_id}: {_taken_words(infos[name], value, held[name][value])}"
        for source_id, values in rows
        for name, value in values.items()
        if name in held and isinstance(value, str) and value in held[name]
    ]
    return found[:MAX_TAKEN_SHOWN]


def _taken_error(connector: Connector, object_name: str, info: FieldInfo, value: str) -> str | None:
    try:
        found = connector.find(object_name, {info.name: value})
    except ConnectorError:
        return None
    if not found:
        return None
    return _taken_words(info, value, found[0].name or found[0].id)


def _taken_words(info: FieldInfo, value: str, holder: str) -> str:
    return f"{info.label} must be unique and “{value}” is already used by {holder}: choose another value."
