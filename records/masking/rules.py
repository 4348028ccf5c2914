"""The masking rules, `[OBJECT:]FIELD=RULE` parsed into {object: {field: rule}}, and whether a rule
fits its field. Pure: the field metadata comes in as FieldInfo, so both systems share it."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError

from records.connectors.base import FieldInfo, FieldType

Rules = dict[str, dict[str, str]]  # {object: {field: rule}}

EMAIL, PHONE, NAME, TEXT, ADDRESS = "email", "phone", "name", "text", "address"
NUMBER, DATE, HASH, BLANK, KEEP = "number", "date", "hash", "blank", "keep"
RULES = (EMAIL, PHONE, NAME, TEXT, ADDRESS, NUMBER, DATE, HASH, BLANK, KEEP)

_TEXT_TYPES = (FieldType.TEXT, FieldType.LONG_TEXT)
# Which field types each rule can give a value of (keep and blank fit any maskable field).
FITS: dict[str, tuple[str, ...]] = {
    EMAIL: _TEXT_TYPES,
    PHONE: _TEXT_TYPES,
    NAME: (*_TEXT_TYPES, FieldType.PICKLIST),
    TEXT: (*_TEXT_TYPES, FieldType.PICKLIST),
    ADDRESS: _TEXT_TYPES,
    NUMBER: (*_TEXT_TYPES, FieldType.NUMBER, FieldType.DECIMAL),
    DATE: (FieldType.DATE, FieldType.DATETIME),
    HASH: _TEXT_TYPES,
}
# Shortest field each rule can fill with a realistic value (an e-mail needs "a.b1@example.com").
MIN_LENGTH = {EMAIL: 16, PHONE: 7, NAME: 3, ADDRESS: 8, HASH: 8}
# Never masked: a value set by id, a row set of its own, a file, a yes/no.
_UNMASKABLE = (FieldType.REFERENCE, FieldType.SUBFORM, FieldType.FILE, FieldType.BOOLEAN)


def label(rule: str) -> str:
    """What the ledger, the job page, the CSV, the logs and the audit keep instead of either value."""
    return f"masked ({rule})"


def is_label(value: object) -> bool:
    return isinstance(value, str) and value.startswith("masked (") and value.endswith(")") and value[8:-1] in RULES


def parse(items: Iterable[str], *, top_object: str, flag: str = "--mask") -> Rules:
    """`[OBJECT:]FIELD=RULE` items into {object: {field: rule}}; without OBJECT the top object's."""
    rules: Rules = {}
    for item in items:
        target, sep, rule = item.partition("=")
        obj, colon, name = target.strip().partition(":")
        obj, name = (obj.strip(), name.strip()) if colon else (top_object, obj.strip())
        rule = rule.strip().lower()
        if not sep or not name or not obj:
            raise ValidationError(f"{flag} expects [OBJECT:]FIELD=RULE, got {item!r}.")
        if rule not in RULES:
            raise ValidationError(f"{flag} {item}: unknown rule {rule!r}; the rules are {', '.join(RULES)}.")
        rules.setdefault(obj, {})[name] = rule
    return rules


def merge(*layers: Rules) -> Rules:
    """Later layers win field by field."""
    out: Rules = {}
    for layer in layers:
        for obj, fields in (layer or {}).items():
            out.setdefault(obj, {}).update(fields)
    return out


def fit_error(info: FieldInfo | None, rule: str, *, key_field: str = "", name: str = "") -> str:
    """Why `rule` can't mask this field ("" when it can): an unknown field or rule, the copy key, a
    reference, a field no copy can set, a type or length the rule can't fill."""
    if rule not in RULES:
        return f"unknown rule {rule!r}; the rules are {', '.join(RULES)}."
    if info is None:
        return f"no field {name!r} on this object."
    what = f"{info.label} ({info.name})"
    if key_field and info.name == key_field:
        return f"{what} is Record Copier's own copy-key field: it is never masked."
    if info.type in _UNMASKABLE:
        kind = "a reference to another record" if info.type == FieldType.REFERENCE else f"a {info.type} field"
        return f"{what} is {kind}: it can't be masked; leave it out of the copy instead."
    if rule == KEEP:
        return ""
    if not info.editable or info.system_managed_name:
        return f"{what} is set by the system: a copy can't give it a stand-in."
    if rule == BLANK:
        return f"{what} is required: it can't be blank; choose another rule." if info.required else ""
    if info.type not in FITS[rule]:
        return f"{what} is a {info.type} field: the {rule} rule can't give it a value."
    shortest = MIN_LENGTH.get(rule, 1)
    if info.max_length is not None and info.type in _TEXT_TYPES and info.max_length < shortest:
        return f"{what} holds {info.max_length} characters: too short for the {rule} rule."
    return ""


def check(*, object_name: str, fields: list[FieldInfo], rules: dict[str, str], key_field: str = "") -> None:
    """Refuse every rule of one object that can't mask its field, naming each."""
    infos = {f.name: f for f in fields}
    errors = [
        f"{object_name}.{name} = {rule}: {why}"
        for name, rule in rules.items()
        if (why := fit_error(infos.get(name), rule, key_field=key_field, name=name))
    ]
    if errors:
        raise ValidationError(errors)
