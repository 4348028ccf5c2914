"""The one validation at the service boundary: field overrides against a connector's describe()
metadata, and source record ids. copy_preview / copy_job_create call it, so values from the forms,
the CLI, a bulk CSV and templates all pass the same rules (the forms and the CSV parser also show
its messages early).

Rules beyond the types: no control characters (see _CONTROL), numbers within the field's digits,
decimal places and range (outer bounds when the metadata gives none), text within its length.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from records.connectors.base import FieldInfo, FieldType

_DATE_RE = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")
# Record ids of both systems are short runs of letters and digits (Vault) or digits (Zoho); anything
# with quotes, spaces or query words is refused here instead of failing (or worse) remotely.
_RECORD_ID_RE = re.compile(r"\A[A-Za-z0-9_-]{1,64}\Z")
# Control characters (C0, DEL, C1) and lone surrogates are refused in every value: no system
# stores a NUL (PostgreSQL refuses it in text and JSON: a 500 at Confirm), escape sequences end up
# in terminals and logs, and a lone surrogate can't be encoded as UTF-8. A long (multi-line) text
# may hold tab, line feed and carriage return, its own line breaks and indentation; single-line
# text, picklist values and ids may not.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_LONG_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# Outer bounds for numbers whose metadata gives no digits: the widest documented number is Zoho's
# bigint (18 digits; decimals 16 + 9, api-notes zoho.md §3.1), and a 64-bit integer holds 18 digits.
MAX_DIGITS = 18
MAX_DECIMAL_PLACES = 9
# Outer bound for a text with no declared length: the longest plain text either system documents
# (Vault LongText, Zoho large multi-line: 32,000).
MAX_TEXT_LENGTH = 32_000
MAX_LISTED_IDS = 5


def source_id_errors(source_ids: Iterable[Any]) -> list[str]:
    """One message per value that is not a record id (NUL, spaces, quotes, too long), shown escaped."""
    errors = [
        f"“{_shown(s)}” isn't a record id: ids are letters, digits, _ and - (at most 64)."
        for s in source_ids
        if not isinstance(s, str) or not _RECORD_ID_RE.match(s)
    ]
    if len(errors) > MAX_LISTED_IDS:
        errors = [*errors[:MAX_LISTED_IDS], f"… and {len(errors) - MAX_LISTED_IDS} more."]
    return errors


def validate_source_ids(source_ids: Iterable[Any]) -> None:
    errors = source_id_errors(source_ids)
    if errors:
        raise ValidationError(errors)


def _shown(value: Any, limit: int = 40) -> str:
    text = str(value).encode("unicode_escape", "backslashreplace").decode("ascii")
    return text if len(text) <= limit else text[:limit] + "…"


def _control_message(info: FieldInfo, value: Any) -> str:
    message = control_error(value, long_text=info.type == FieldType.LONG_TEXT)
    if message and info.type == FieldType.TEXT:
        message = message[:-1] + " in a single-line text."
    return message


def control_error(value: Any, *, long_text: bool = False) -> str:
    """The message for the first control character in `value` (strings inside lists and dicts too)."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list | tuple):
        return next((m for m in (control_error(v, long_text=long_text) for v in value) if m), "")
    if not isinstance(value, str):
        return ""
    found = (_CONTROL_LONG_TEXT if long_text else _CONTROL).search(value)
    if found is None:
        return ""
    return f"a control character (U+{ord(found.group()):04X}) isn't allowed."


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
            message = _control_message(info, value) or _type_error(info, value)
            if message:
                errors[name] = f"{info.label} ({name}): {message}"
    return errors


def validate_overrides(*, fields: list[FieldInfo], overrides: dict[str, Any]) -> None:
    """Raise ValidationError (message dict per field) when an override is not acceptable."""
    errors = override_errors(fields=fields, overrides=overrides)
    if errors:
        raise ValidationError({name: [msg] for name, msg in errors.items()})


def _type_error(info: FieldInfo, value: Any) -> str:  # noqa: C901 - one branch per field type
    kind = info.type
    if kind in (FieldType.TEXT, FieldType.LONG_TEXT):
        if not isinstance(value, str):
            return "expected text."
        limit = info.max_length or MAX_TEXT_LENGTH
        if len(value) > limit:
            return f"at most {limit} characters."
    elif kind == FieldType.NUMBER:
        if isinstance(value, bool) or not _is_int(value):
            return "expected a whole number."
        return _number_error(info, Decimal(int(str(value))))
    elif kind == FieldType.DECIMAL:
        if isinstance(value, bool) or not _is_decimal(value):
            return "expected a number."
        return _number_error(info, Decimal(str(value)))
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
    elif kind in FieldType.PICKLISTS:
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
# compares its display values as given too. Which characters split several values given as one
# string is the connector's to say (FieldInfo.multi_separators).


def _picklist_error(info: FieldInfo, value: Any) -> str:
    """Refuse picklist values that are not in the field's list; no list known means no check
    (e.g. Vault's picklist API could not be read)."""
    allowed = info.picklist_values
    if not allowed:
        return ""
    if isinstance(value, list | tuple):
        values = list(value)
    elif info.type == FieldType.MULTI_PICKLIST:
        split = re.compile("[" + re.escape(info.multi_separators or ";") + "]")
        values = [v.strip() for v in split.split(str(value)) if v.strip()]
    else:
        values = [value if isinstance(value, str) else str(value)]
    if info.type == FieldType.PICKLIST and len(values) > 1:
        return f"takes one value, not {len(values)}; allowed: {', '.join(allowed)}."
    known = set(allowed)
    bad = [v for v in values if not isinstance(v, str) or v not in known]
    if not bad:
        return ""
    shown = ", ".join(f'"{v}"' for v in bad)
    what = "is not one of this picklist's values" if len(bad) == 1 else "are not among this picklist's values"
    return f"{shown} {what}; allowed: {', '.join(allowed)}."


def _number_error(info: FieldInfo, number: Decimal) -> str:
    """Digits before the point, after it, then the range; trailing zeros don't count (1.50 has 1 place)."""
    whole = info.type == FieldType.NUMBER
    max_digits = info.max_digits or MAX_DIGITS
    places_allowed = 0 if whole else (info.decimal_places if info.decimal_places is not None else MAX_DECIMAL_PLACES)
    sign, digits, exponent = number.normalize().as_tuple() if number else (0, (0,), 0)
    before = max(0, len(digits) + int(exponent))
    places = max(0, -int(exponent))
    if before > max_digits:
        return f"at most {max_digits} digits" + ("." if whole else " before the decimal point.")
    if places > places_allowed:
        return f"at most {places_allowed} decimal places."
    if info.min_value is not None and number < Decimal(str(info.min_value)):
        return f"at least {_plain(info.min_value)}."
    if info.max_value is not None and number > Decimal(str(info.max_value)):
        return f"at most {_plain(info.max_value)}."
    return ""


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _is_int(value: object) -> bool:
    if isinstance(value, int):
        return True
    try:
        int(str(value))  # not via float: 10**30 as a float is not 10**30
        return True
    except ValueError:
        return False


def _is_decimal(value: object) -> bool:
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
