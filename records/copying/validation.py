"""Validate field overrides against a connector's describe() metadata (shared by services and forms)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from records.connectors.base import FieldInfo, FieldType


def override_errors(*, fields: list[FieldInfo], overrides: dict[str, Any]) -> dict[str, str]:
    """Return {field: message} for each override that cannot be applied; empty when all are fine."""
    infos = {f.name: f for f in fields}
    errors: dict[str, str] = {}
    for name, value in overrides.items():
        info = infos.get(name)
        if info is None:
            errors[name] = f"There is no field {name!r} on this object."
        elif not info.editable or info.system_managed_name:
            errors[name] = f"{info.label} ({name}) can't be set: it is read-only or set by the system."
        elif value is None or value == "":
            if info.required:
                errors[name] = f"{info.label} ({name}) is required and can't be cleared."
        else:
            message = _type_error(info, value)
            if message:
                errors[name] = f"{info.label} ({name}): {message}"
    return errors


def validate_overrides(*, fields: list[FieldInfo], overrides: dict[str, Any]) -> None:
    """Raise ValidationError (message dict per field) when an override is not acceptable."""
    errors = override_errors(fields=fields, overrides=overrides)
    if errors:
        raise ValidationError({name: [msg] for name, msg in errors.items()})


def _type_error(info: FieldInfo, value: Any) -> str:
    kind = info.type
    if kind in (FieldType.TEXT, FieldType.LONG_TEXT):
        if not isinstance(value, str):
            return "expected text."
        if info.max_length and len(value) > info.max_length:
            return f"at most {info.max_length} characters."
    elif kind == FieldType.NUMBER:
        if isinstance(value, bool) or not _is_int(value):
            return "expected a whole number."
    elif kind == FieldType.DECIMAL:
        if isinstance(value, bool) or not _is_decimal(value):
            return "expected a number."
    elif kind == FieldType.BOOLEAN:
        if not isinstance(value, bool) and str(value).lower() not in ("true", "false"):
            return "expected true or false."
    elif kind == FieldType.DATE:
        try:
            dt.date.fromisoformat(str(value))
        except ValueError:
            return "expected a date as YYYY-MM-DD."
    elif kind == FieldType.DATETIME:
        try:
            dt.datetime.fromisoformat(str(value))
        except ValueError:
            return "expected a date and time in ISO 8601."
    elif kind == FieldType.PICKLIST:
        if info.picklist_values and str(value) not in info.picklist_values:
            return f"not one of {', '.join(info.picklist_values)}."
    elif kind == FieldType.MULTI_PICKLIST:
        values = value if isinstance(value, list) else [v.strip() for v in str(value).split(";")]
        bad = [v for v in values if info.picklist_values and v not in info.picklist_values]
        if bad:
            return f"{', '.join(map(str, bad))} not in {', '.join(info.picklist_values)}."
    elif kind == FieldType.REFERENCE:
        if not isinstance(value, str | dict) or (isinstance(value, dict) and "id" not in value):
            return "expected a record id."
    elif kind in (FieldType.FILE, FieldType.SUBFORM):
        return "can't be set by a copy override."
    return ""


def _is_int(value) -> bool:
    if isinstance(value, int):
        return True
    try:
        return float(str(value)) == int(str(value))
    except ValueError:
        return False


def _is_decimal(value) -> bool:
    try:
        Decimal(str(value))
    except InvalidOperation:
        return False
    return True


def coerce_override(info: FieldInfo | None, value: Any) -> Any:
    """Turn a command-line string into the field's type (numbers, booleans); others unchanged."""
    if info is None or not isinstance(value, str):
        return value
    if info.type == FieldType.NUMBER and _is_int(value):
        return int(value)
    if info.type == FieldType.DECIMAL and _is_decimal(value):
        number = Decimal(value)
        return int(number) if number == number.to_integral_value() and "." not in value else float(number)
    if info.type == FieldType.BOOLEAN and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if info.type == FieldType.MULTI_PICKLIST:
        return [v.strip() for v in value.split(";") if v.strip()]
    return value
