"""A profile's default lineage fields ({object: text field}), as a person sets them on the profile
page: one "object: field" a line, each named by its API name or its label, checked against the
profile's metadata (the object exists, the field is an editable text field long enough for a
stamp) before anything is saved."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError

from records.connectors import connector_for
from records.connectors.base import Connector, FieldInfo, ObjectInfo
from records.copying.choices import can_hold_lineage, check_lineage
from records.models import ConnectionProfile
from records.profiles.services import profile_update

if TYPE_CHECKING:
    from django.contrib.auth.models import User

EXAMPLE = {"vault": "Products: Description", "zoho": "Contacts: Description"}


def lineage_lines(profile: ConnectionProfile) -> str:
    """The profile's defaults as the page's box shows them, one "object: field" a line."""
    return "\n".join(f"{obj}: {field}" for obj, field in (profile.lineage_fields or {}).items())


def profile_set_lineage_defaults(*, profile: ConnectionProfile, actor: User | None, text: str) -> ConnectionProfile:
    """Save the defaults typed as `text`; ValidationError (one message a wrong line) saves nothing.
    Audited as a profile update."""
    wanted = _parsed(text, EXAMPLE.get(profile.system, EXAMPLE["vault"]))
    checked = _checked(connector_for(profile), wanted, _system_name(profile)) if wanted else {}
    return profile_update(profile=profile, actor=actor, lineage_fields=checked)


def _system_name(profile: ConnectionProfile) -> str:
    return "CRM" if profile.system == "zoho" else "Vault"


def _parsed(text: str, example: str) -> list[tuple[int, str, str]]:
    """(line number, object, field) for each line that isn't blank."""
    out, errors = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        obj, colon, field = line.partition(":")
        if not (colon and obj.strip() and field.strip()):
            errors.append(f"Line {number}: give the object, a colon and its text field, e.g. “{example}”.")
            continue
        out.append((number, obj.strip(), field.strip()))
    if errors:
        raise ValidationError(errors)
    return out


def _checked(connector: Connector, wanted: list[tuple[int, str, str]], system: str) -> dict[str, str]:
    """{object API name: field API name}, the names found by API name or label (case ignored)."""
    objects = connector.list_objects()
    out: dict[str, str] = {}
    first_line: dict[str, int] = {}
    errors: list[str] = []
    for number, obj_typed, field_typed in wanted:
        try:
            obj = _object(objects, obj_typed, system)
            if obj.name in first_line:
                raise ValidationError(f"{obj.label} has a default already (line {first_line[obj.name]}).")
            out[obj.name] = _field(connector.describe(obj.name), obj, field_typed)
            first_line[obj.name] = number
        except ValidationError as exc:
            errors.extend(f"Line {number}: {m}" for m in exc.messages)
    if errors:
        raise ValidationError(errors)
    return out


def _object(objects: list[ObjectInfo], typed: str, system: str) -> ObjectInfo:
    key = typed.casefold()
    found = next(
        (o for o in objects if key in (o.name.casefold(), o.label.casefold(), o.label_plural.casefold())), None
    )
    if found is None:
        raise ValidationError(f"this {system} has no object “{typed}”.")
    return found


def _field(fields: list[FieldInfo], obj: ObjectInfo, typed: str) -> str:
    key = typed.casefold()
    info = next((f for f in fields if key in (f.name.casefold(), f.label.casefold())), None)
    if info is None:
        raise ValidationError(f"{obj.label} has no field “{typed}”.")
    if not can_hold_lineage(info):
        raise ValidationError(f"{obj.label}’s “{info.label}” is no editable text field; the lineage stamp needs one.")
    check_lineage(fields=fields, field_name=info.name, where=obj.label)  # long enough for a stamp
    return info.name
