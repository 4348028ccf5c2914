"""Validate field overrides against a connector's describe() metadata (shared by services and forms)."""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from records.connectors.base import FieldInfo, FieldType

_DATE_RE = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")
# Record ids of both systems are short runs of letters and digits (Vault) or digits (Zoho); anything
# with quotes, spaces or query words is refused here instead of failing (or worse) remotely.
_RECORD_ID_RE = re.compile(r"\A[A-Za-z0-9_-]{1,64}\Z")


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
        # Only the extended form: Python 3.11 also accepts 20240501 and 2024-W01-1, the systems don't.
        try:
            if not isinstance(value, str) or not _DATE_RE.match(value):
                raise ValueError
            dt.date.fromisoformat(value)
        except ValueError:
            return "expected a date as YYYY-MM-DD."
    elif kind == FieldType.DATETIME:
        try:
            if not isinstance(value, str) or not _DATE_RE.match(value[:10]):
                raise ValueError
            dt.datetime.fromisoformat(value)
        except ValueError:
            return "expected a date and time in ISO 8601."
    elif kind in (FieldType.PICKLIST, FieldType.MULTI_PICKLIST):
        return _picklist_error(info, value)
    elif kind == FieldType.REFERENCE:
        ref = value.get("id") if isinstance(value, dict) else value
        if not isinstance(ref, str) or not _RECORD_ID_RE.match(ref):
            return "expected a record id."
    elif kind in (FieldType.FILE, FieldType.SUBFORM):
        return "can't be set by a copy override."
    return ""


# Picklist values are compared exactly, case included. Vault: overrides carry value NAMES
# (`active__v`), which Vault lists and returns in lower case; that Vault also accepts other casings
# on write is not documented anywhere found ([UNCONFIRMED]), so the exact name is required. Zoho
# compares its display values as given too.
PICKLIST_CASE_SENSITIVE = True
# Separators of several values given as one string. `;` is what the forms, the CSV upload and the
# copy command use; Vault's own write format for multi-value picklists is a comma-separated string
# (or a list), and Vault value names can hold neither character, so both split a Vault value.
# Zoho display values may contain commas, so only `;` splits those.
_MULTI_SEPARATORS = re.compile(r"[;,]")
_ZOHO_MULTI_SEPARATORS = re.compile(r";")


def _picklist_error(info: FieldInfo, value: Any) -> str:
    """Refuse picklist values that are not in the field's list; no list known means no check
    (e.g. Vault's picklist API could not be read)."""
    allowed = info.picklist_values
    if not allowed:
        return ""
    if isinstance(value, list | tuple):
        values = list(value)
    elif info.type == FieldType.MULTI_PICKLIST:
        split = _MULTI_SEPARATORS if info.remote_type == "Picklist" else _ZOHO_MULTI_SEPARATORS
        values = [v.strip() for v in split.split(str(value)) if v.strip()]
    else:
        values = [value if isinstance(value, str) else str(value)]
    if info.type == FieldType.PICKLIST and len(values) > 1:
        return f"takes one value, not {len(values)}; allowed: {', '.join(allowed)}."
    known = set(allowed) if PICKLIST_CASE_SENSITIVE else {v.lower() for v in allowed}
    bad = [v for v in values if not isinstance(v, str)
           or (v if PICKLIST_CASE_SENSITIVE else v.lower()) not in known]
    if not bad:
        return ""
    shown = ", ".join(f'"{v}"' for v in bad)
    what = "is not one of this picklist's values" if len(bad) == 1 else "are not among this picklist's values"
    return f"{shown} {what}; allowed: {', '.join(allowed)}."


def _is_int(value) -> bool:
    if isinstance(value, int):
        return True
    try:
        return float(str(value)) == int(str(value))
    except ValueError:
        return False


def _is_decimal(value) -> bool:
    # NaN and Infinity parse as Decimals but no system stores them (and JSON can't hold them).
    if isinstance(value, float):
        return math.isfinite(value)
    try:
        return Decimal(str(value)).is_finite()
    except InvalidOperation:
        return False


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
