"""The user's choices checked against metadata, and the values they give one record.

Shared by the preview (checks, sample values) and the run (the values each copy gets), so the two
can't disagree. Values may be templates (records/copying/value_templates.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError

from records.connectors.base import FieldInfo, FieldType
from records.copying import value_templates
from records.copying.options import CopyOptions, lineage_text
from records.copying.tree import copy_key_field
from records.copying.validation import control_error, validate_overrides

TEXT_TYPES = (FieldType.TEXT, FieldType.LONG_TEXT)
SHOWN_CHARS = 80  # of a rendered value too long for its field, in the message that refuses it


def check_values(*, fields: list[FieldInfo], values: dict[str, Any], where: str = "") -> None:
    """Plain values as validate_overrides checks them; a template's syntax, its placeholders (fields
    of the object) and its target (a text field: a template renders text). Its rendered length is
    checked per record (check_rendered), as it depends on the record."""
    names = {f.name for f in fields}
    infos = {f.name: f for f in fields}
    # A template gives text: braces in a value of any other field are checked as a plain value.
    plain = {
        k: v
        for k, v in values.items()
        if not (value_templates.is_template(v) and k in infos and infos[k].type in TEXT_TYPES)
    }
    errors: dict[str, list[str]] = {}
    try:
        validate_overrides(fields=fields, overrides=plain)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    for name, value in values.items():
        if name in plain:
            continue
        try:
            unknown = value_templates.placeholders(value) - names
        except value_templates.TemplateError as exc:
            errors[name] = [str(exc)]
            continue
        info = infos[name]
        control = control_error(value, long_text=info.type == FieldType.LONG_TEXT)
        if control:  # the template's own text: the same rule as any value
            errors[name] = [f"{info.label} ({name}): {control}"]
        elif not info.editable or info.system_managed_name:
            errors[name] = [f"{info.label} ({name}) can't be set: it is read-only or set by the system."]
        elif unknown:
            errors[name] = [f"{info.label} ({name}): no field {', '.join(sorted(unknown))} to fill the template with."]
    if errors:
        prefix = f"{where}: " if where else ""
        raise ValidationError([f"{prefix}{m}" for ms in errors.values() for m in ms])


def copy_key_of(fields: list[FieldInfo], key_names: tuple[str, ...]) -> str:
    """The object's copy-key field ("" when it has none): Record Copier's own, holding each copy's
    key. `key_names`: the connector's copy_key_fields (settings.COPY_KEY_FIELDS wins)."""
    return copy_key_field(fields, key_names)


def offered(fields: list[FieldInfo], key_names: tuple[str, ...]) -> list[FieldInfo]:
    """The fields a person may choose for a value, a template or a lineage stamp: all but the copy
    key (the engine writes it on every copy; a value there would be overwritten, or mistaken for it)."""
    key = copy_key_of(fields, key_names)
    return [f for f in fields if f.name != key] if key else list(fields)


def own_field_message(label: str, name: str) -> str:
    return (
        f"{label} ({name}) is Record Copier's own field: it holds each copy's copy key, which finds the copy "
        "again after a lost answer. A copy can't set, clear, stamp or number it; choose another field."
    )


def check_not_copy_key(
    *, fields: list[FieldInfo], key_names: tuple[str, ...], names: Iterable[str], where: str = ""
) -> None:
    """Refuse a value, a clear, a lineage stamp or "make unique" aimed at the copy-key field."""
    key = copy_key_of(fields, key_names)
    if key and key in set(names):
        label = next((f.label for f in fields if f.name == key), "") or key
        prefix = f"{where}: " if where else ""
        raise ValidationError(prefix + own_field_message(label, key))


def can_hold_lineage(info: FieldInfo | None) -> bool:
    """The lineage stamp goes only into an editable text field the system doesn't name itself."""
    return info is not None and info.editable and info.type in TEXT_TYPES and not info.system_managed_name


def check_lineage(*, fields: list[FieldInfo], field_name: str, where: str) -> None:
    info = next((f for f in fields if f.name == field_name), None)
    if info is None or not can_hold_lineage(info):
        raise ValidationError(f"{where}: the lineage stamp needs an editable text field; {field_name!r} isn't one.")
    longest = len(lineage_text("X" * 20, 999999))
    if info.max_length and info.max_length < longest:
        raise ValidationError(
            f"{where}: {info.label} holds {info.max_length} characters; a lineage stamp needs {longest}."
        )


def record_values(
    *,
    values: dict[str, Any],
    options: CopyOptions,
    object_name: str,
    source_id: str,
    source: dict[str, Any],
    today: date,
    job: int | str,
) -> dict[str, Any]:
    """What one copied record of `object_name` is given: the object's set/clear values, then `values`
    (the top record's overrides, which win), templates rendered, and the lineage stamp."""
    merged = {**options.fields_for(object_name), **values}
    out = value_templates.render_all(merged, source=source, today=today, job=job)
    stamp_field = options.lineage.get(object_name)
    if stamp_field:
        out[stamp_field] = lineage_text(source_id, job)
    return out


def check_rendered(*, fields: list[FieldInfo], values: dict[str, Any], where: str) -> None:
    """A rendered text value longer than its field, or holding a character its field can't (a line
    break from a multi-line source value in a single-line field), is refused here, never cut."""
    infos = {f.name: f for f in fields}
    for name, value in values.items():
        info = infos.get(name)
        if info is None or info.type not in TEXT_TYPES or not isinstance(value, str):
            continue
        shown = value if len(value) <= SHOWN_CHARS else value[:SHOWN_CHARS] + "…"
        if info.max_length and len(value) > info.max_length:
            raise ValidationError(
                f"{where}: {info.label} ({name}) would be {shown!r}, {len(value)} characters; "
                f"the field holds {info.max_length}. Shorten the value or the template."
            )
        control = control_error(value, long_text=info.type == FieldType.LONG_TEXT)
        if control:
            raise ValidationError(f"{where}: {info.label} ({name}) would be {shown!r}: {control}")
