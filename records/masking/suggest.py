"""Rules suggested from the schema: a field that looks personal by its type (Zoho `email`,
`phone`) or by its name or label (name, e-mail, phone, mobile, address, street, city, birth, SSN
...). Connector-agnostic: FieldInfo's type, remote type, name and label. A suggestion is offered,
never applied unless the user takes it (`--mask-suggested`, the preview's table)."""

from __future__ import annotations

import re

from records.connectors.base import FieldInfo, FieldType
from records.masking import rules as R

# The systems' own type names that say what a text field holds (Zoho `email`/`phone`; Vault has
# no such type in the metadata the API notes show: its fields are found by name).
_BY_REMOTE_TYPE = {"email": R.EMAIL, "phone": R.PHONE}
# Checked in order on the field's name and label, split into words: the first match wins.
_BY_WORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("email", "e-mail", "mail"), R.EMAIL),
    (("phone", "mobile", "fax", "cell", "telephone", "tel"), R.PHONE),
    (("ssn", "social", "passport", "tax", "national", "nino", "license", "licence"), R.HASH),
    (("birth", "dob", "birthday", "birthdate"), R.DATE),
    (("street", "address", "city", "zip", "postal", "postcode", "mailing"), R.ADDRESS),
    (("first", "last", "surname", "full", "middle", "salutation", "nickname", "maiden"), R.NAME),
)
_SPLIT = re.compile(r"[^a-z0-9]+|(?<=[a-z])(?=[A-Z])")
# A name field that names a thing rather than a person is not personal ("Product name").
_PERSON_OBJECTS = ("contact", "lead", "person", "patient", "user", "employee", "customer", "hcp")


def words_of(info: FieldInfo) -> set[str]:
    raw = f"{info.name} {info.label}"
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", raw).lower()
    words = {w for w in _SPLIT.split(spaced) if w}
    return words | {w for w in words if w.endswith("__c") or w.endswith("__v")}


def suggest_field(info: FieldInfo, *, object_name: str = "", key_field: str = "") -> str:
    """The rule suggested for one field, or "" (not personal, or no rule can mask it)."""
    rule = _BY_REMOTE_TYPE.get(info.remote_type.lower(), "")
    if not rule:
        rule = _by_words(info, object_name)
    if rule and R.fit_error(info, rule, key_field=key_field):
        rule = R.BLANK if rule == R.HASH and not R.fit_error(info, R.BLANK, key_field=key_field) else ""
    return rule


def _by_words(info: FieldInfo, object_name: str) -> str:
    words = words_of(info)
    if info.type in (FieldType.DATE, FieldType.DATETIME):
        return R.DATE if words & {"birth", "dob", "birthday", "birthdate"} else ""
    for keys, rule in _BY_WORDS:
        if words & set(keys):
            return rule
    if "name" in words and _personal_object(object_name):
        return R.NAME
    return ""


def _personal_object(object_name: str) -> bool:
    name = object_name.lower()
    return any(p in name for p in _PERSON_OBJECTS)


def suggest(*, object_name: str, fields: list[FieldInfo], key_field: str = "") -> dict[str, str]:
    """{field: rule} for every field of one object that looks personal."""
    out = {}
    for info in fields:
        rule = suggest_field(info, object_name=object_name, key_field=key_field)
        if rule:
            out[info.name] = rule
    return out
